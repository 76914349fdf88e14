// A raw-shutdown guard (socket/socket_core.ts guardShutdown) goes with the
// connection that put it: its removal (the io_uring and TLS-over-connection
// transports call it when they close, a detach included) and closing or
// releasing the socket drop it, so the socket no longer holds the guard
// and, through it, the old Connection (it did for as long as the socket
// lived: a detached io_uring connection's socket). The others still run,
// last put first. WeakRef and a forced collection (--expose-gc on Node
// and Deno, Bun.gc on Bun).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Socket as SocketClass, type Socket } from "../socket/socket.ts";
import { guardShutdown } from "../socket/socket_core.ts";

function collect(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) bun.gc(true);
  else (globalThis as { gc?: () => void }).gc!();
}

/** Puts a guard holding a large object on `socket`, lets it go `how`, and returns a weak reference to the object. */
function guarded(socket: Socket, how: "removed" | "closed" | "released"): WeakRef<object> {
  const connectionLike = { queue: new Uint8Array(1 << 20) };
  const remove = guardShutdown(socket, (shut) => {
    if (connectionLike.queue.length >= 0) shut();
  });
  if (how === "removed") remove();
  else if (how === "closed") socket.close();
  else socket.release();
  return new WeakRef(connectionLike);
}

describe("raw-shutdown guards go with their connection", () => {
  test("guardShutdown's removal: a removed guard no longer runs; the others still do, last put first", () => {
    const [a, b] = SocketClass.pair();
    try {
      const order: string[] = [];
      guardShutdown(a, (shut) => {
        order.push("first");
        shut();
      });
      const remove = guardShutdown(a, (shut) => {
        order.push("removed");
        shut();
      });
      guardShutdown(a, (shut) => {
        order.push("last");
        shut();
      });
      remove();
      remove(); // twice: nothing more
      a.shutdown("write");
      assert.deepEqual(order, ["last", "first"]);
      assert.equal(b.recv(new Uint8Array(1)), 0); // the FIN
    } finally {
      a.close();
      b.close();
    }
  });

  for (const how of ["removed", "closed", "released"] as const) {
    test(`a guard ${how === "removed" ? "removed by its connection" : `on a socket ${how}`} no longer holds what it captured (WeakRef + gc)`, async () => {
      const [a, b] = SocketClass.pair();
      try {
        const held = guarded(a, how);
        for (let i = 0; i < 20 && held.deref() !== undefined; i++) {
          await new Promise((r) => setTimeout(r, 5));
          collect();
        }
        assert.equal(held.deref(), undefined, `the socket kept what its ${how} guard held`);
      } finally {
        a.close();
        b.close();
      }
    });
  }
});
