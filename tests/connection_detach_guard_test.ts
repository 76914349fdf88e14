// Connection.detach() hands the socket on: the raw-shutdown guard the
// connection put on it (socket/socket_core.ts guardShutdown: a raw
// shutdown("write") waits for what the connection queued) goes with the
// connection, so the detached socket does not keep the old Connection
// alive for as long as it lives. WeakRef and a forced collection
// (--expose-gc on Node and Deno, Bun.gc on Bun).
import assert from "node:assert/strict";
import { test } from "node:test";
import { adopt } from "../poll/connect.ts";
import { Loop } from "../poll/loop.ts";
import { Socket } from "../socket/socket.ts";

function collect(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) bun.gc(true);
  else (globalThis as { gc?: () => void }).gc!();
}

test("a detached readiness connection is not kept by its socket; a raw shutdown of the socket still works", async () => {
  const loop = new Loop();
  const [a, b] = Socket.pair();
  let socket: Socket | undefined;
  try {
    const held = (() => {
      const conn = adopt(a, { loop, io: "readiness" });
      socket = conn.detach();
      return new WeakRef(conn);
    })();
    for (let i = 0; i < 20 && held.deref() !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 5));
      collect();
    }
    assert.equal(held.deref(), undefined, "the detached socket kept its old Connection");
    socket!.shutdown("write");
    b.options.nonBlocking = false;
    assert.equal(b.recv(new Uint8Array(1)), 0, "the peer sees the FIN");
  } finally {
    (socket ?? a).close();
    b.close();
    loop.close();
  }
});
