/**
 * Echo ping-pong over N loopback TCP connections in one process, client and
 * server sides on the same mechanism: 64-byte messages, one in flight per
 * connection, counted as round trips per second.
 *
 * - "raw": io_uring through the low-level `Ring` (callbacks, one
 *   io_uring_enter per batch) vs non-blocking recv/send driven by
 *   `epoll_wait` (raw libc), both in a synchronous loop.
 * - "promise on Loop": the `Uring` Promise API with completions dispatched
 *   by a `Loop` through the registered eventfd (`UringLoop`), vs the same
 *   raw epoll loop.
 * - "connections on Loop": the library's own connections (listen/connect,
 *   handler objects, both ends in this process) with io_uring I/O —
 *   multishot recv into the provided-buffer ring, sends batched per loop
 *   turn — vs the same connections with readiness (epoll) I/O.
 *
 * Run: `node scripts/bench.mjs uring_echo` (URING_ECHO_CONNS, URING_ECHO_MS).
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { UringLoop } from "../poll/uring/loop_glue.ts";
import { asyncBackends } from "../poll/uring/probe.ts";
import { Ring } from "../poll/uring/ring.ts";
import { IORING_OP } from "../poll/uring/uapi.ts";
import { listenTCPSync } from "../socket/connect.ts";
import { encodeIPv4 } from "../socket/sockaddr.ts";
import { finish, record } from "./harness.ts";

const CONNS = Number(native.env("URING_ECHO_CONNS") ?? 50);
const MS = Number(native.env("URING_ECHO_MS") ?? 1500);
const MSG = 64;
const ROUNDS = 3;

interface Pair {
  client: number;
  server: number;
}

const ONE = new Uint8Array(new Int32Array([1]).buffer);

function openPairs(count: number, nonBlocking: boolean): Pair[] {
  const c = libc();
  const listener = listenTCPSync("127.0.0.1", 0, count + 16);
  const port = (listener.localAddress() as { port: number }).port;
  const addr = new Uint8Array(16);
  const len = encodeIPv4(addr, new Uint8Array([127, 0, 0, 1]), port);
  const pairs: Pair[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const client = c.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
      if (client < 0 || c.connect(client, addr, len) !== 0) throw new Error(`connect failed: ${native.errno()}`);
      const server = c.accept4!(listener.fd, null, null, C.SOCK_CLOEXEC);
      if (server < 0) throw new Error(`accept failed: ${native.errno()}`);
      for (const fd of [client, server]) {
        c.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, ONE, 4);
        if (nonBlocking) c.fcntl(fd, C.F_SETFL, c.fcntl(fd, C.F_GETFL, 0) | C.O_NONBLOCK);
      }
      pairs.push({ client, server });
    }
  } finally {
    listener.close();
  }
  return pairs;
}

function closePairs(pairs: Pair[]): void {
  for (const p of pairs) {
    libc().close(p.client);
    libc().close(p.server);
  }
}

/** Raw epoll: level-triggered, non-blocking recv/send, one synchronous loop. */
function epollEcho(pairs: Pair[], ms: number): number {
  const c = libc();
  const ep = c.epoll_create1!(C.EPOLL_CLOEXEC);
  const E = LAYOUT.epoll_event;
  const ev = new Uint8Array(E.size);
  const evView = new DataView(ev.buffer);
  const isClient = new Uint8Array(65536);
  for (const p of pairs) {
    for (const fd of [p.client, p.server]) {
      evView.setUint32(E.events, C.EPOLLIN, true);
      evView.setUint32(E.data, fd, true);
      c.epoll_ctl!(ep, C.EPOLL_CTL_ADD, fd, ev);
    }
    isClient[p.client] = 1;
  }
  const max = 256;
  const events = new Uint8Array(max * E.size);
  const eventsView = new DataView(events.buffer);
  const buf = new Uint8Array(4096);
  const msg = new Uint8Array(MSG).fill(7);
  for (const p of pairs) c.send(p.client, msg, MSG, C.MSG_NOSIGNAL);
  let trips = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  while (performance.now() < end) {
    const n = c.epoll_wait!(ep, events, max, 100);
    for (let i = 0; i < n; i++) {
      const fd = eventsView.getUint32(i * E.size + E.data, true);
      const got = c.recv(fd, buf, buf.length, 0);
      if (got <= 0) continue;
      if (isClient[fd] === 1) {
        trips++;
        c.send(fd, msg, MSG, C.MSG_NOSIGNAL);
      } else {
        c.send(fd, buf, got, C.MSG_NOSIGNAL);
      }
    }
  }
  const elapsed = performance.now() - started;
  c.close(ep);
  drainAll(pairs);
  return (trips / elapsed) * 1000;
}

/** Reads whatever is left so the next case starts from quiet sockets. */
function drainAll(pairs: Pair[]): void {
  const buf = new Uint8Array(4096);
  for (const p of pairs) {
    for (const fd of [p.client, p.server]) while (libc().recv(fd, buf, buf.length, C.MSG_DONTWAIT) > 0);
  }
}

/** Raw io_uring: the same ping-pong through Ring with synchronous reaping. */
function uringRawEcho(pairs: Pair[], ms: number): number {
  const ring = Ring.open({ entries: 4 * pairs.length });
  const bufs = pairs.map(() => NativeBuffer.alloc(4096));
  const msg = NativeBuffer.alloc(MSG);
  msg.bytes.fill(7);
  const addr = (b: NativeBuffer): number => Number(native.address(b.pointer));
  const bufAddr = bufs.map(addr);
  const msgAddr = addr(msg);
  // user_data = connection * 4 + step: 0 server recv, 1 server send, 2 client send, 3 client recv.
  const clientRecvAddr = pairs.map(() => NativeBuffer.alloc(4096));
  const clientRecv = clientRecvAddr.map(addr);
  const prep = (i: number, step: number, len: number): void => {
    const p = pairs[i]!;
    if (ring.sqSpace === 0) ring.enter(0);
    if (step === 0) ring.prepare(IORING_OP.RECV, p.server, bufAddr[i]!, 4096, 0, 0, i * 4);
    else if (step === 1) ring.prepare(IORING_OP.SEND, p.server, bufAddr[i]!, len, 0, C.MSG_NOSIGNAL, i * 4 + 1);
    else if (step === 2) ring.prepare(IORING_OP.SEND, p.client, msgAddr, MSG, 0, C.MSG_NOSIGNAL, i * 4 + 2);
    else ring.prepare(IORING_OP.RECV, p.client, clientRecv[i]!, 4096, 0, 0, i * 4 + 3);
  };
  let trips = 0;
  let stopping = false;
  let outstanding = 0;
  const sink = (ud: number, res: number): void => {
    outstanding--;
    const i = Math.floor(ud / 4);
    const step = ud % 4;
    if (stopping) return;
    if (res < 0) throw new Error(`io_uring step ${step} failed: ${-res}`);
    outstanding++;
    if (step === 0) prep(i, 1, res);
    else if (step === 1) prep(i, 0, 0);
    else if (step === 2) prep(i, 3, 0);
    else {
      trips++;
      prep(i, 2, 0);
    }
  };
  for (let i = 0; i < pairs.length; i++) {
    prep(i, 0, 0);
    prep(i, 2, 0);
    outstanding += 2;
  }
  const end = performance.now() + ms;
  const started = performance.now();
  while (performance.now() < end) {
    ring.enter(1, 100);
    ring.reap(sink);
  }
  const elapsed = performance.now() - started;
  // Stop: the pending receives never complete; cancel them before freeing buffers.
  stopping = true;
  ring.prepare(IORING_OP.ASYNC_CANCEL, -1, 0, 0, 0, (1 << 0) | (1 << 2), 2 ** 40);
  outstanding++;
  while (outstanding > 0) {
    ring.enter(1, 200);
    if (ring.reap(sink) === 0) break;
  }
  ring.close();
  for (const b of [...bufs, ...clientRecvAddr, msg]) b.free();
  drainAll(pairs);
  return (trips / elapsed) * 1000;
}

/** The Uring Promise API, completions dispatched by a Loop through the eventfd. */
async function uringPromiseEcho(pairs: Pair[], ms: number): Promise<number> {
  const loop = new Loop({ backend: "epoll" });
  const io = new UringLoop(loop, { entries: 4 * pairs.length, submit: "microtask" });
  const uring = io.uring;
  let stop = false;
  let trips = 0;
  const serve = async (fd: number): Promise<void> => {
    const buf = NativeBuffer.alloc(4096);
    try {
      while (!stop) {
        const n = await uring.recv(fd, buf);
        if (n === 0) return;
        await uring.send(fd, buf, n);
      }
    } finally {
      buf.free();
    }
  };
  const ping = async (fd: number): Promise<void> => {
    const out = NativeBuffer.alloc(MSG);
    const back = NativeBuffer.alloc(4096);
    try {
      while (!stop) {
        await uring.send(fd, out, MSG);
        await uring.recv(fd, back);
        trips++;
      }
    } finally {
      out.free();
      back.free();
    }
  };
  const started = performance.now();
  const all = pairs.flatMap((p) => [serve(p.server), ping(p.client)]);
  await new Promise<void>((resolve) => loop.setTimeout(() => resolve(), ms));
  stop = true;
  const elapsed = performance.now() - started;
  // A loop that saw `stop` late may still start one more receive: cancel
  // until every loop has returned.
  let settled = false;
  const done = Promise.allSettled(all).then(() => (settled = true));
  while (!settled) {
    await uring.cancelAll();
    await new Promise<void>((resolve) => loop.setTimeout(() => resolve(), 1));
  }
  await done;
  io.close();
  loop.close();
  await loop.released();
  drainAll(pairs);
  return (trips / elapsed) * 1000;
}

/** 50 handler-mode connections ping-ponging through one Loop, both ends ours. */
async function connectionEcho(io: "uring" | "readiness", ms: number): Promise<number> {
  const loop = new Loop({ backend: "epoll" });
  const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) }, loop, io, backlog: 1024 });
  const clients = await Promise.all(Array.from({ length: CONNS }, () => connect({ host: "127.0.0.1", port: server.port, loop, io })));
  const msg = new Uint8Array(MSG).fill(7);
  let trips = 0;
  let stop = false;
  for (const client of clients) {
    let got = 0;
    client.setHandler({
      data: (c, d) => {
        got += d.length;
        while (got >= MSG) {
          got -= MSG;
          trips++;
          if (!stop) c.send(msg);
        }
      },
    });
    client.send(msg);
  }
  const started = performance.now();
  await new Promise<void>((resolve) => loop.setTimeout(() => resolve(), ms));
  stop = true;
  const elapsed = performance.now() - started;
  const rate = (trips / elapsed) * 1000;
  for (const c of clients) c.abort();
  server.close();
  loop.close();
  await loop.released();
  return rate;
}

if (!asyncBackends().io_uring) {
  console.log("io_uring is not available here; nothing to measure");
} else {
  const epollPairs = openPairs(CONNS, true);
  const uringPairs = openPairs(CONNS, false);
  let epoll = 0;
  let raw = 0;
  let promise = 0;
  let connUring = 0;
  let connReadiness = 0;
  for (let round = 0; round < ROUNDS; round++) {
    epoll = Math.max(epoll, epollEcho(epollPairs, MS));
    raw = Math.max(raw, uringRawEcho(uringPairs, MS));
    promise = Math.max(promise, await uringPromiseEcho(uringPairs, MS));
    connReadiness = Math.max(connReadiness, await connectionEcho("readiness", MS));
    connUring = Math.max(connUring, await connectionEcho("uring", MS));
  }
  record({
    bench: "uring_echo", case: `${CONNS} conns 64 B raw ring`, unit: "ops/s",
    ours: raw, peer: epoll, peerName: "epoll raw",
  });
  record({
    bench: "uring_echo", case: `${CONNS} conns 64 B Promise+Loop`, unit: "ops/s",
    ours: promise, peer: epoll, peerName: "epoll raw",
  });
  record({
    bench: "uring_echo", case: `${CONNS} conns 64 B connections on Loop`, unit: "ops/s",
    ours: connUring, peer: connReadiness, peerName: "readiness conns",
  });
  closePairs(epollPairs);
  closePairs(uringPairs);
  finish();
}
