import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../connection.ts";
import { connect, listen } from "../listener.ts";
import { Loop } from "../loop.ts";
import { libc } from "../../ffi/libc.ts";
import { C } from "../../ffi/platform.ts";
import { native } from "../../ffi/native.ts";
import { listenTCPSync } from "../../socket/connect.ts";
import { yieldToRuntime } from "../yield.ts";
import { ProvidedBuffers } from "./buffer_ring.ts";
import { type LoopUringOptions, loopUring } from "./loop_io.ts";
import { asyncBackends } from "./probe.ts";
import { Ring } from "./ring.ts";
import { SendSlots } from "./send_slots.ts";
import { CQE, IORING_OP, IOSQE } from "./uapi.ts";

const available = asyncBackends().io_uring;
const turn = (): Promise<void> => new Promise((resolve) => yieldToRuntime(resolve));

/** Waits until `done()` holds (the loop may park on a helper thread, which can take a while to start), at most 10 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, i < 20 ? 0 : 5));
}

/** Reads from `conn` until `n` bytes arrived (promise API). */
async function readExactly(conn: Connection, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error(`end of stream after ${at} of ${n} bytes`);
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 131 + seed * 7 + (i >>> 8)) & 0xff);
}

/** Runs `body` on a fresh loop whose ring is made with `options`; closes and releases it afterwards. */
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

/** Runs `body` with an io_uring echo server (handler mode) listening on `loop`; closes it afterwards. */
async function withEchoServer(loop: Loop, body: (port: number) => Promise<void>): Promise<void> {
  const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) }, loop, io: "uring", backlog: 4096 });
  try {
    await body(server.port);
  } finally {
    server.close();
  }
}

/** An io_uring client of `loop` connected to `port`. */
function client(loop: Loop, port: number): Promise<Connection> {
  return connect({ host: "127.0.0.1", port, loop, io: "uring" });
}

/** An echo server on `loop`, and `count` clients (promise mode) each echoing `size` bytes, checked byte for byte. */
async function echoRound(loop: Loop, count: number, size: number): Promise<void> {
  await withEchoServer(loop, async (port) => {
    const clients = await Promise.all(Array.from({ length: count }, () => client(loop, port)));
    await Promise.all(clients.map(async (c, i) => {
      const data = pattern(size, i);
      const [, back] = await Promise.all([c.write(data), readExactly(c, size)]);
      assert.deepEqual(back, data, `connection ${i}`);
      await c.close();
    }));
  });
}

function forceGc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(sync: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else throw new Error("run with --expose-gc (node) or --v8-flags=--expose-gc (deno)");
}

/** Registers provided buffers with `ring` and drops them without close(). */
function registerAndDrop(ring: Ring, group: number): void {
  ProvidedBuffers.register(ring, group, 4, 4096);
}

describe("io_uring buffers", () => {
  test("provided buffers dropped without close() while their ring is open stay mapped: a receive armed on them still lands", async () => {
    if (!available) return;
    using ring = Ring.open({ entries: 8 });
    const pair = new Int32Array(2);
    assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(pair.buffer)), 0);
    try {
      registerAndDrop(ring, 7);
      assert.ok(ring.prepareSqe(IORING_OP.RECV, IOSQE.BUFFER_SELECT, 0, pair[0]!, 0, 4096, 0, 0, 1, 0, 7));
      ring.enter(0);
      // The safety net runs now if it would (a collection, then its callbacks).
      for (let round = 0; round < 3; round++) {
        forceGc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(libc().write(pair[1]!, new Uint8Array([1, 2, 3, 4, 5]), 5), 5);
      ring.enter(1, 5000);
      const results: number[] = [];
      ring.reap((_user, res) => void results.push(res));
      // -EFAULT (-14) if the memory had been unmapped under the kernel.
      assert.deepEqual(results, [5]);
    } finally {
      libc().close(pair[0]!);
      libc().close(pair[1]!);
    }
  });

  test("provided buffers: register, deliver a small and a large payload, recycle, close", () => {
    if (!available) return;
    using ring = Ring.open({ entries: 8 });
    const bufs = ProvidedBuffers.register(ring, 3, 4, 4096);
    assert.equal(bufs.count, 4);
    assert.equal(bufs.group, 3);
    const small = bufs.deliver(1, 10);
    assert.equal(small.length, 10);
    assert.equal(bufs.deliver(2, 10), small, "small payloads reuse one cached view per length");
    assert.equal(bufs.deliver(0, 3000).length, 3000);
    bufs.recycle(1);
    bufs.close();
    bufs.close();
    assert.equal(bufs.closed, true);
    assert.throws(() => ProvidedBuffers.register(ring, 0, 3, 4096), RangeError);
  });

  test("provided buffers handed over in part: grow(n) maps and hands over n more (default: as many as given), up to count", () => {
    if (!available) return;
    using ring = Ring.open({ entries: 8 });
    using bufs = ProvidedBuffers.register(ring, 4, 16, 4096, 3);
    assert.equal(bufs.given, 3);
    assert.equal(bufs.mappedBytes, 3 * 4096, "only the buffers handed over are mapped");
    assert.equal(bufs.grow(), 3);
    assert.equal(bufs.given, 6);
    assert.deepEqual([bufs.grow(1), bufs.grow(0), bufs.grow(2.5)], [1, 1, 2], "at least one, whole numbers");
    assert.deepEqual([bufs.grow(100), bufs.grow()], [6, 0]);
    assert.equal(bufs.given, 16);
    assert.equal(bufs.mappedBytes, 16 * 4096);
    // Every buffer, from every chunk, delivers its own bytes: small (copied) and large (a view).
    for (let bid = 0; bid < 16; bid++) {
      assert.equal(bufs.deliver(bid, 5).length, 5);
      assert.equal(bufs.deliver(bid, 4096).length, 4096);
      bufs.recycle(bid);
    }
    assert.throws(() => ProvidedBuffers.register(ring, 5, 16, 4096, 0), RangeError);
    assert.throws(() => ProvidedBuffers.register(ring, 5, 16, 4096, 17), RangeError);
    bufs.close();
    assert.equal(bufs.grow(), 0, "nothing after close");
  });

  test("a recycled buffer is the kernel's again at once: one buffer serves two receives in turn, from a grown chunk too", () => {
    if (!available) return;
    using ring = Ring.open({ entries: 8 });
    const pair = new Int32Array(2);
    assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(pair.buffer)), 0);
    try {
      using bufs = ProvidedBuffers.register(ring, 9, 2, 4096, 1);
      /** Arms one recv drawing from the group, writes `bytes` to the other end, and answers the completion's result and bytes. */
      const receive = (bytes: number[]): [number, number[]] => {
        assert.ok(ring.prepareSqe(IORING_OP.RECV, IOSQE.BUFFER_SELECT, 0, pair[0]!, 0, 4096, 0, 0, 1, 0, 9));
        ring.enter(0);
        assert.equal(libc().write(pair[1]!, new Uint8Array(bytes), bytes.length), bytes.length);
        ring.enter(1, 5000);
        let out: [number, number[]] = [0, []];
        ring.reap((_user, res, flags) => {
          if (res <= 0) out = [res, []];
          else {
            assert.ok((flags & CQE.F_BUFFER) !== 0);
            const bid = flags >>> CQE.BUFFER_SHIFT;
            out = [res, [...bufs.deliver(bid, res)]];
            bufs.recycle(bid);
          }
        });
        return out;
      };
      assert.deepEqual(receive([1, 2, 3, 4, 5]), [5, [1, 2, 3, 4, 5]]);
      // No publish step: the kernel sees the buffer back (was -ENOBUFS, -105, when it waited for one).
      assert.deepEqual(receive([6, 7, 8]), [3, [6, 7, 8]]);
      assert.equal(bufs.grow(), 1);
      for (let i = 0; i < 4; i++) assert.deepEqual(receive([i, 9]), [2, [i, 9]]);
    } finally {
      libc().close(pair[0]!);
      libc().close(pair[1]!);
    }
  });

  test("send slots: take until empty, give back", () => {
    using slots = new SendSlots(3, 64);
    const taken = [slots.take(), slots.take(), slots.take()];
    assert.deepEqual([...taken].sort(), [0, 1, 2]);
    assert.equal(slots.take(), -1);
    assert.equal(slots.free, 0);
    slots.give(taken[1]!);
    assert.equal(slots.take(), taken[1]);
    assert.equal(slots.bytes(0).length, 64);
    assert.equal(slots.address(1) - slots.address(0), 64);
  });
});

describe("io_uring streams", () => {
  test("the ring takes the default setup (coop), with buffer rings and multishot recv", async () => {
    if (!available) return;
    await withRing({}, async (loop) => {
      const io = loopUring(loop);
      if (!native.env("FFINET_URING_SETUP")) assert.equal(io.setup, "coop", "this kernel (5.19+) takes COOP_TASKRUN");
      assert.ok(io.buffers !== undefined);
      assert.equal(io.multishot, true);
    });
  });

  test("multishot recv across many messages: 2,000 ping-pongs on one connection, every byte in order", async () => {
    if (!available) return;
    await withRing({}, (loop) => withEchoServer(loop, async (port) => {
      const conn = await client(loop, port);
      for (let i = 0; i < 2000; i++) {
        const msg = pattern(1 + (i % 200), i);
        await conn.write(msg);
        assert.deepEqual(await readExactly(conn, msg.length), msg);
      }
      await conn.close();
      await until(() => loopUring(loop).streams === 0);
      assert.equal(loopUring(loop).streams, 0, "closed streams give their dispatch slots back");
    }));
  });

  test("buffer ring exhaustion (ENOBUFS) re-arms the recv and loses nothing: 2 buffers, 40 connections × 64 KiB", async () => {
    if (!available) return;
    await withRing({ recvBuffers: 2, recvBufferBytes: 1024 }, async (loop) => {
      await echoRound(loop, 40, 64 * 1024);
      assert.equal(loopUring(loop).buffers?.count, 2);
      assert.ok(loopUring(loop).buffersExhausted > 0, "the ring ran dry at least once");
    });
  });

  test("a loop's ring hands the kernel some of its buffers at first (by default 8 of 256) and more as they run dry, losing nothing: 40 connections × 64 KiB", async () => {
    if (!available) return;
    await withRing({ recvBuffers: 64, recvBuffersAtFirst: 2, recvBufferBytes: 1024 }, async (loop) => {
      const io = loopUring(loop);
      assert.equal(io.buffers?.given, 2);
      await echoRound(loop, 40, 64 * 1024);
      assert.ok(io.buffersExhausted > 0, "the ring ran dry at least once");
      assert.ok(io.buffers!.given > 2 && io.buffers!.given <= 64, `grown within the count (${io.buffers!.given})`);
    });
    await withRing({}, (loop) => {
      assert.equal(loopUring(loop).buffers?.given, 8, "the default: 8 of 256");
      assert.equal(loopUring(loop).buffers?.count, 256);
      return Promise.resolve();
    });
  });

  test("1,000 connections byte-exact over io_uring", async () => {
    if (!available) return;
    await withRing({}, async (loop) => {
      await echoRound(loop, 1000, 3000);
      const io = loopUring(loop);
      await until(() => io.streams === 0);
      assert.equal(io.streams, 0);
      assert.equal(io.sendSlots.free, io.sendSlots.count, "every send slot came back");
    });
  });

  test("a loop's ring is small by default (256 SQ, 4096 CQ entries: ~80 KiB mapped, not 1 MiB)", async () => {
    if (!available) return;
    await withRing({}, (loop) => {
      const ring = loopUring(loop).uring.ring;
      assert.deepEqual([ring.sqEntries, ring.cqEntries], [256, 4096]);
      return Promise.resolve();
    });
  });

  test("a burst of completions larger than the CQ waits in the kernel's overflow list and loses nothing: 8 SQ / 16 CQ entries, 300 connections × 3000 B at once, three rounds", async () => {
    if (!available) return;
    await withRing({ entries: 8, cqEntries: 16 }, async (loop) => {
      const io = loopUring(loop);
      assert.deepEqual([io.uring.ring.sqEntries, io.uring.ring.cqEntries], [8, 16]);
      for (let round = 0; round < 3; round++) await echoRound(loop, 300, 3000);
      await until(() => io.streams === 0);
      assert.equal(io.streams, 0, "every stream's last completion came in");
      assert.equal(io.sendSlots.free, io.sendSlots.count, "every send slot came back");
    });
  });

  test("pause cancels the multishot recv; bytes already on their way are held and delivered in order on resume", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 1024 }, async (loop) => {
      let received = 0;
      const chunks: Uint8Array[] = [];
      let serverConn: Connection | undefined;
      const server = listen({ host: "127.0.0.1", port: 0, handler: {
        open: (c) => (serverConn = c),
        data: (c, d) => {
          chunks.push(d.slice());
          received += d.length;
          if (received >= 4096 && received - d.length < 4096) c.pause();
        },
      }, loop, io: "uring" });
      try {
        const conn = await client(loop, server.port);
        const data = pattern(256 * 1024, 9);
        const writing = conn.write(data);
        await until(() => received >= 4096);
        const atPause = received;
        for (let i = 0; i < 20; i++) await turn();
        assert.equal(received, atPause, "nothing is delivered while paused");
        serverConn!.resume();
        await writing;
        await until(() => received >= data.length);
        const all = new Uint8Array(received);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.length;
        }
        assert.deepEqual(all, data);
        await conn.close();
      } finally {
        server.close();
      }
    });
  });

  test("a read larger than one provided buffer reaches a data handler as one delivery, as one recv(2) of readiness I/O: 4 KiB buffers, 20,000 bytes in one send, three times", async () => {
    if (!available) return;
    await withRing({ recvBufferBytes: 4096 }, async (loop) => {
      const deliveries: number[] = [];
      const chunks: Uint8Array[] = [];
      const server = listen({ host: "127.0.0.1", port: 0, handler: {
        data: (_c, d) => {
          deliveries.push(d.length);
          chunks.push(d.slice());
        },
      }, loop, io: "uring" });
      try {
        const conn = await client(loop, server.port);
        for (let round = 0; round < 3; round++) {
          deliveries.length = 0;
          chunks.length = 0;
          const data = pattern(20_000, round);
          await conn.write(data);
          await until(() => deliveries.reduce((a, b) => a + b, 0) >= data.length);
          assert.deepEqual(deliveries, [20_000], `round ${round}: one delivery of the five buffers' bytes`);
          assert.deepEqual(chunks[0], data);
        }
        await conn.close();
      } finally {
        server.close();
      }
    });
  });

  test("joined deliveries stay within the join area (256 KiB) and keep every byte in order: 2 MiB through 16 KiB buffers", async () => {
    if (!available) return;
    await withRing({}, async (loop) => {
      const deliveries: number[] = [];
      const chunks: Uint8Array[] = [];
      const server = listen({ host: "127.0.0.1", port: 0, handler: {
        data: (_c, d) => {
          deliveries.push(d.length);
          chunks.push(d.slice());
        },
      }, loop, io: "uring" });
      try {
        const conn = await client(loop, server.port);
        const data = pattern(2 * 1024 * 1024, 5);
        await conn.write(data);
        await until(() => deliveries.reduce((a, b) => a + b, 0) >= data.length);
        const all = new Uint8Array(data.length);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.length;
        }
        assert.equal(at, data.length);
        assert.deepEqual(all, data);
        assert.ok(Math.max(...deliveries) <= 256 * 1024, `largest delivery ${Math.max(...deliveries)}`);
        assert.ok(Math.max(...deliveries) > 16 * 1024, "pieces were joined");
        await conn.close();
      } finally {
        server.close();
      }
    });
  });

  test("a data handler that throws on joined bytes: the loop's onError gets it once, and the connection reads on", async () => {
    if (!available) return;
    const errors: unknown[] = [];
    const loop = new Loop({ onError: (err) => void errors.push(err) });
    try {
      loopUring(loop, { recvBufferBytes: 4096 });
      const deliveries: number[] = [];
      const server = listen({ host: "127.0.0.1", port: 0, handler: {
        data: (_c, d) => {
          deliveries.push(d.length);
          if (deliveries.length === 1) throw new Error("handler failed");
        },
      }, loop, io: "uring" });
      try {
        const conn = await client(loop, server.port);
        await conn.write(pattern(20_000, 1));
        await until(() => errors.length > 0);
        await conn.write(pattern(10, 2));
        await until(() => deliveries.length >= 2);
        assert.deepEqual(deliveries, [20_000, 10]);
        assert.equal(errors.length, 1);
        assert.equal((errors[0] as Error).message, "handler failed");
        await conn.close();
      } finally {
        server.close();
      }
    } finally {
      loop.close();
      await loop.released();
    }
  });

  test("close while a multishot recv is armed: the recv is cancelled, the fd closed, the slot freed", async () => {
    if (!available) return;
    await withRing({}, (loop) => withEchoServer(loop, async (port) => {
      const io = loopUring(loop);
      const clients = await Promise.all([0, 1, 2, 3].map(() => client(loop, port)));
      for (const c of clients) {
        await c.write(new Uint8Array([1, 2, 3]));
        assert.deepEqual(await readExactly(c, 3), new Uint8Array([1, 2, 3]));
      }
      const before = io.uring.directPending;
      assert.ok(before >= 8, "a recv armed on each side of each connection");
      // Closing the client side makes each server side see the FIN and close too.
      for (const c of clients) await c.close();
      await until(() => io.streams === 0 && io.uring.directPending === 0);
      assert.equal(io.streams, 0);
      assert.equal(io.uring.directPending, 0, "no operation is left in the kernel");
      for (const c of clients) assert.equal(c.fd, -1);
    }));
  });

  test("an abort while data flows both ways fails nothing else on the ring", async () => {
    if (!available) return;
    await withRing({}, (loop) => withEchoServer(loop, async (port) => {
      const a = await client(loop, port);
      const b = await client(loop, port);
      void a.write(pattern(200_000, 1)).catch(() => {});
      a.abort();
      const data = pattern(50_000, 2);
      const [, back] = await Promise.all([b.write(data), readExactly(b, data.length)]);
      assert.deepEqual(back, data);
      await b.close();
    }));
  });

  for (const options of [
    { multishot: false },
    { providedBuffers: false },
    { setup: "coop" },
    { setup: "basic" },
  ] satisfies LoopUringOptions[]) {
    test(`fallback ${JSON.stringify(options)}: 50 connections byte-exact`, async () => {
      if (!available) return;
      await withRing(options, async (loop) => {
        const io = loopUring(loop);
        if (options.providedBuffers === false) assert.equal(io.buffers, undefined);
        if (options.multishot === false) assert.equal(io.multishot, false);
        if (options.setup !== undefined) assert.equal(io.setup, options.setup);
        await echoRound(loop, 50, 20_000);
      });
    });
  }

  test("multishot accept: one operation, many connections, then cancel", async () => {
    if (!available) return;
    await withRing({}, async (loop) => {
      const io = loopUring(loop);
      const listener = listenTCPSync("127.0.0.1", 0, 16);
      listener.options.nonBlocking = false; // io_uring waits in the kernel only on blocking sockets
      const port = (listener.localAddress() as { port: number }).port;
      const fds: number[] = [];
      let last: boolean | undefined;
      io.retain();
      try {
        const id = io.uring.queueAcceptMultishot(listener.fd, 0, (res, more) => {
          if (res >= 0) fds.push(res);
          last = more;
        });
        const clients = await Promise.all([0, 1, 2, 3, 4].map(() => connect({ host: "127.0.0.1", port, loop, io: "readiness" })));
        await until(() => fds.length >= 5);
        assert.equal(fds.length, 5);
        assert.equal(last, true, "still armed");
        assert.equal(io.uring.queueCancel(id), true);
        await until(() => last === false);
        assert.equal(last, false, "the cancel ends it");
        for (const c of clients) await c.close();
      } finally {
        io.unretain();
        for (const fd of fds) libc().close(fd);
        listener.close();
      }
    });
  });
});
