/**
 * The receive join (recv_join.ts) against handlers that change things in
 * the middle of it, over real io_uring connections on loopback with 4 KiB
 * provided buffers (so most reads are joined): another connection closed
 * by a handler while both have joined bytes, a connection paused inside a
 * joined delivery and resumed later, a handler that turns to read() in the
 * middle of a stream, the end of stream after joined bytes, and readiness
 * connections reading into the same area on the same loop.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../connection.ts";
import { connect, listen } from "../listener.ts";
import { Loop } from "../loop.ts";
import { type LoopUringOptions, loopUring } from "./loop_io.ts";
import { asyncBackends } from "./probe.ts";

const available = asyncBackends().io_uring;

/** Waits until `done()` holds, at most about 10 s (bounded loop). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, i < 20 ? 0 : 5));
}

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 131 + seed * 7 + (i >>> 8)) & 0xff);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const all = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

async function withRing(options: LoopUringOptions, body: (loop: Loop) => Promise<void>): Promise<void> {
  const loop = new Loop();
  try {
    loopUring(loop, options);
    await body(loop);
  } finally {
    loop.close();
    await loop.released();
  }
}

describe("io_uring receive join, handlers acting mid-join", () => {
  test("two connections receiving at once, the first closes the second from inside its delivery: the first's bytes whole and in order, nothing more reaches the second", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 4096 }, async (loop) => {
      const order: Connection[] = [];
      const got = new Map<Connection, Uint8Array[]>();
      let closedOther: Connection | undefined;
      let afterClose = 0;
      const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring", handler: {
        open: (c) => {
          order.push(c);
          got.set(c, []);
        },
        data: (c, d) => {
          if (c === closedOther) afterClose++;
          got.get(c)!.push(d.slice());
          if (c === order[0] && closedOther === undefined && order.length === 2) {
            closedOther = order[1]!;
            void closedOther.close();
          }
        },
      } });
      try {
        const a = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
        const b = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
        await until(() => order.length === 2);
        const dataA = pattern(200_000, 1);
        const dataB = pattern(200_000, 2);
        // Both written in the same turn: their completions share reaps.
        const writes = [a.write(dataA), b.write(dataB).catch(() => undefined)];
        await until(() => concat(got.get(order[0]!)!).length >= dataA.length);
        await Promise.all(writes);
        assert.ok(closedOther !== undefined, "the second connection was closed from the first's handler");
        assert.equal(afterClose, 0, "no delivery to a connection after its close()");
        assert.deepEqual(concat(got.get(order[0]!)!), dataA);
        assert.ok(Math.max(...got.get(order[0]!)!.map((c) => c.length)) > 4096, "pieces were joined");
        await a.close();
        b.abort();
      } finally {
        server.close();
      }
    });
  });

  test("a handler pausing inside a joined delivery and resuming a turn later, every time: 1 MiB whole and in order", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 4096 }, async (loop) => {
      const chunks: Uint8Array[] = [];
      let received = 0;
      const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring", handler: {
        data: (c, d) => {
          chunks.push(d.slice());
          received += d.length;
          c.pause();
          setTimeout(() => {
            if (!c.closed) c.resume();
          }, 0);
        },
      } });
      try {
        const a = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
        const data = pattern(1 << 20, 3);
        await a.write(data);
        await until(() => received >= data.length);
        assert.deepEqual(concat(chunks), data);
        assert.ok(Math.max(...chunks.map((c) => c.length)) > 4096, "pieces were joined");
        await a.close();
      } finally {
        server.close();
      }
    });
  });

  test("a handler that turns to read() inside a joined delivery: the bytes after it come through read() in order, none lost or repeated", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 4096 }, async (loop) => {
      const size = 600_000;
      let viaHandler: Uint8Array | undefined;
      let serverConn: Connection | undefined;
      const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring", handler: {
        data: (c, d) => {
          viaHandler = d.slice();
          serverConn = c;
          c.setHandler({});
        },
      } });
      try {
        const a = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
        const data = pattern(size, 4);
        await a.write(data);
        await until(() => serverConn !== undefined);
        const rest: Uint8Array[] = [];
        let n = viaHandler!.length;
        for (let i = 0; i < 10_000 && n < size; i++) {
          const chunk = await serverConn!.read();
          if (chunk === null) break;
          rest.push(chunk);
          n += chunk.length;
        }
        assert.ok(viaHandler!.length > 4096, "the handler's delivery was joined");
        assert.deepEqual(concat([viaHandler!, ...rest]), data);
        await a.close();
      } finally {
        server.close();
      }
    });
  });

  test("the end of stream comes after every joined byte: 300,000 bytes then FIN, the end handler sees them all", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 4096 }, async (loop) => {
      const chunks: Uint8Array[] = [];
      let atEnd = -1;
      const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring", handler: {
        data: (_c, d) => void chunks.push(d.slice()),
        end: (c) => {
          atEnd = concat(chunks).length;
          void c.close();
        },
      } });
      try {
        const a = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
        const data = pattern(300_000, 5);
        await a.write(data);
        await a.end();
        await until(() => atEnd >= 0);
        assert.equal(atEnd, data.length);
        assert.deepEqual(concat(chunks), data);
        await a.close();
      } finally {
        server.close();
      }
    });
  });

  test("readiness and io_uring connections on one loop, both receiving large reads into the shared area at once: each connection's bytes whole", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 4096 }, async (loop) => {
      const got = new Map<Connection, Uint8Array[]>();
      const handler = { data: (c: Connection, d: Uint8Array) => {
        let list = got.get(c);
        if (list === undefined) got.set(c, list = []);
        list.push(d.slice());
      } };
      const ring = listen({ host: "127.0.0.1", port: 0, loop, io: "uring", handler });
      const plain = listen({ host: "127.0.0.1", port: 0, loop, io: "readiness", handler });
      try {
        const clients = await Promise.all([ring.port, plain.port, ring.port, plain.port].map((port) => connect({ host: "127.0.0.1", port, loop, io: "readiness" })));
        const data = clients.map((_, i) => pattern(400_000, 10 + i));
        await Promise.all(clients.map((c, i) => c.write(data[i]!)));
        const total = (): number => [...got.values()].reduce((n, list) => n + concat(list).length, 0);
        await until(() => total() >= 4 * 400_000);
        const byContent = [...got.values()].map(concat);
        assert.equal(byContent.length, 4);
        for (const d of data) assert.ok(byContent.some((b) => b.length === d.length && b.every((x, i) => x === d[i])), "a connection's bytes whole");
        await Promise.all(clients.map((c) => c.close()));
      } finally {
        ring.close();
        plain.close();
      }
    });
  });
});
