import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SocketError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C } from "../ffi/platform.ts";
import { Loop } from "../poll/loop.ts";
import { UringLoop } from "../poll/uring/loop_glue.ts";
import { Uring } from "../poll/uring/ops.ts";
import { asyncBackends } from "../poll/uring/probe.ts";
import { listenTCPSync } from "../socket/connect.ts";
import { encodeIPv4 } from "../socket/sockaddr.ts";
import { yieldToRuntime } from "../poll/yield.ts";

const available = asyncBackends().io_uring;
const LOOPBACK = new Uint8Array([127, 0, 0, 1]);

function sockaddr(port: number): Uint8Array {
  const out = new Uint8Array(16);
  encodeIPv4(out, LOOPBACK, port);
  return out;
}

function tcpSocket(): number {
  const fd = libc().socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  assert.ok(fd >= 0);
  return fd;
}

/** Deterministic bytes for connection `id`. */
function pattern(id: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (id * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Echoes `fd` until end of stream, then closes it through the ring. */
async function echoConnection(uring: Uring, fd: number): Promise<void> {
  const buf = NativeBuffer.alloc(16384);
  try {
    for (;;) {
      const n = await uring.recv(fd, buf);
      if (n === 0) break;
      for (let at = 0; at < n;) at += await uring.send(fd, buf, n - at, at);
    }
  } finally {
    await uring.closeFd(fd);
    buf.free();
  }
}

/** Accepts `count` connections and echoes each. */
async function echoServer(uring: Uring, listenFd: number, count: number): Promise<void> {
  const conns: Promise<void>[] = [];
  for (let i = 0; i < count; i++) conns.push(echoConnection(uring, await uring.accept(listenFd)));
  await Promise.all(conns);
}

/** Connects, sends `data` in two writes, reads it all back, half-closes, closes. */
async function echoClient(uring: Uring, port: number, data: Uint8Array): Promise<Uint8Array> {
  const fd = tcpSocket();
  const out = NativeBuffer.from(data);
  const back = NativeBuffer.alloc(data.length);
  try {
    assert.equal(await uring.connect(fd, sockaddr(port)), 0);
    const split = data.length >> 1;
    const reading = (async () => {
      let got = 0;
      while (got < data.length) {
        const n = await uring.recv(fd, back, data.length - got, got);
        if (n === 0) throw new Error(`stream ended after ${got} bytes`);
        got += n;
      }
    })();
    for (let at = 0; at < split;) at += await uring.send(fd, out, split - at, at);
    for (let at = split; at < data.length;) at += await uring.send(fd, out, data.length - at, at);
    await reading;
    libc().shutdown(fd, C.SHUT_WR);
    return back.bytes.slice();
  } finally {
    await uring.closeFd(fd);
    out.free();
    back.free();
  }
}

/** Drives a standalone ring with short blocking polls until `promise` settles. */
async function drive<T>(uring: Uring, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let i = 0; !done && i < 2000; i++) {
    uring.poll(uring.inFlight > 0 ? 20 : 0);
    await new Promise<void>((resolve) => yieldToRuntime(resolve));
  }
  return promise;
}

describe("io_uring echo over loopback TCP", () => {
  test("accept, connect, send, recv, close on a standalone ring", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 32 });
    const listener = listenTCPSync("127.0.0.1", 0);
    try {
      const port = (listener.localAddress() as { port: number }).port;
      const data = pattern(1, 100_000);
      const server = echoServer(uring, listener.fd, 1);
      const echoed = await drive(uring, echoClient(uring, port, data));
      await drive(uring, server);
      assert.ok(Buffer.from(echoed).equals(Buffer.from(data)));
      assert.equal(uring.pending, 0);
    } finally {
      listener.close();
    }
  });

  test("connect to a closed port rejects ECONNREFUSED", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const listener = listenTCPSync("127.0.0.1", 0);
    const port = (listener.localAddress() as { port: number }).port;
    listener.close();
    const fd = tcpSocket();
    try {
      await assert.rejects(drive(uring, uring.connect(fd, sockaddr(port))), (err: unknown) => {
        assert.ok(err instanceof SocketError);
        assert.equal(err.code, "ECONNREFUSED");
        return true;
      });
      assert.throws(() => uring.connect(fd, new Uint8Array(0)), RangeError);
    } finally {
      libc().close(fd);
    }
  });

  test("50 concurrent connections through a Loop (eventfd integration), byte-exact", async () => {
    if (!available) return;
    const loop = new Loop({ backend: "epoll" });
    const io = new UringLoop(loop, { entries: 64 });
    const listener = listenTCPSync("127.0.0.1", 0, 256);
    try {
      assert.equal(loop.hasRef(), false, "an idle ring does not keep the loop alive");
      const uring = io.uring;
      const port = (listener.localAddress() as { port: number }).port;
      const count = 50;
      const server = echoServer(uring, listener.fd, count);
      const results = await Promise.all(Array.from({ length: count }, async (_, id) => {
        const data = pattern(id + 2, 20_000 + id * 97);
        const got = await echoClient(uring, port, data);
        return Buffer.from(got).equals(Buffer.from(data));
      }));
      await server;
      assert.equal(results.filter(Boolean).length, count);
      assert.equal(uring.pending, 0);
      assert.equal(loop.hasRef(), false, "idle again");
      assert.ok(uring.ring.cqEntries < count * 3, "more operations than the ring holds went through");
    } finally {
      listener.close();
      io.close();
      loop.close();
      await loop.released();
    }
  });

  test("microtask submission with completions always ready does not starve runtime timers", async () => {
    if (!available) return;
    const loop = new Loop({ backend: "epoll" });
    const io = new UringLoop(loop, { entries: 8, submit: "microtask" });
    let stop = false;
    let rounds = 0;
    try {
      const spinning = (async () => {
        while (!stop) {
          await io.uring.nop();
          rounds++;
        }
      })();
      // A runtime timer must still fire while every nop completes at once.
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
      stop = true;
      await spinning;
      assert.ok(rounds > 0);
    } finally {
      io.close();
      loop.close();
      await loop.released();
    }
  });

  test("a timeout and a cancelled recv complete through a parked Loop", async () => {
    if (!available) return;
    const loop = new Loop({ backend: "epoll" });
    using io = new UringLoop(loop, { entries: 8 });
    const fds = new Int32Array(2);
    assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)), 0);
    const buf = NativeBuffer.alloc(8);
    try {
      const r = io.uring.recv(fds[0]!, buf);
      const cancelled = assert.rejects(r, { code: "ECANCELED" });
      // The loop parks once its helper thread has booted (it polls on a
      // short timer until then): wait for that, bounded, so the timeout
      // below completes through a parked wait.
      for (let i = 0; i < 500 && !loop.parked; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await io.uring.timeout(30), 0);
      assert.equal(loop.hasRef(), true, "a pending recv keeps the loop alive");
      assert.equal(await io.uring.cancel(r.id), true);
      await cancelled;
      assert.equal(await io.uring.cancelAll(), 0);
      assert.equal(loop.hasRef(), false);
      assert.ok(loop.stats.parks >= 1, "the loop parked while the timeout ran");
    } finally {
      buf.free();
      libc().close(fds[0]!);
      libc().close(fds[1]!);
      io.close();
      loop.close();
      await loop.released();
    }
  });
});
