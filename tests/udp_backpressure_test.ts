// Backpressure of the async datagram socket: sends that the kernel refuses
// (EAGAIN) wait for WRITABLE, in order, bounded.
//
// Linux loopback never refuses a UDP send: the datagram leaves the send
// buffer as soon as the loopback device takes it (measured: 0 EAGAIN in
// 6000 non-blocking sends per family with SO_SNDBUF at its 4608-byte
// minimum and nobody reading). So the refusals here come from the other
// kind of datagram socket whose sender the kernel does hold back: an
// AF_UNIX SOCK_DGRAM pair, whose sender's buffer stays charged until the
// peer reads. It is run as the UdpSocket's Dgram (the Dgram constructor
// takes any datagram descriptor; it is private only to the type checker).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LimitError, SocketClosedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { Dgram, type DgramFamily } from "../socket/dgram.ts";
import { setIntOption } from "../socket/dgram_multicast.ts";
import { adoptUDP } from "../poll/udp.ts";
import { until } from "./udp_helpers.ts";

const DgramOverFd = Dgram as unknown as new (fd: number, family: DgramFamily, nonBlocking: boolean) => Dgram;

/** A non-blocking AF_UNIX datagram pair: [the async side's Dgram, the peer's]; the first has a small send buffer. */
function datagramPair(): [Dgram, Dgram] {
  const fds = new Int32Array(2);
  const r = libc().socketpair(C.AF_UNIX, C.SOCK_DGRAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer));
  assert.equal(r, 0, "socketpair");
  setIntOption(fds[0]!, C.SOL_SOCKET, C.SO_SNDBUF, 4096, "SO_SNDBUF");
  return [new DgramOverFd(fds[0]!, "ipv4", true), new DgramOverFd(fds[1]!, "ipv4", true)];
}

function numbered(i: number): Uint8Array {
  const data = new Uint8Array(1000);
  new DataView(data.buffer).setUint32(0, i);
  return data;
}

/** Reads every datagram the peer has; returns their numbers. */
function drainPeer(peer: Dgram, into: number[]): void {
  const buf = new Uint8Array(2000);
  while (peer.recv(buf) !== null) into.push(new DataView(buf.buffer).getUint32(0));
}

describe("async datagram sends under backpressure", () => {
  test("send() waits for WRITABLE after EAGAIN; all resolve in order as the peer reads; the buffer is free at once", async () => {
    const [mine, peer] = datagramPair();
    using sock = adoptUDP(mine);
    using _peer = peer;
    const sends: Promise<void>[] = [];
    const reused = new Uint8Array(1000);
    for (let i = 0; i < 60; i++) {
      new DataView(reused.buffer).setUint32(0, i);
      sends.push(sock.send(reused)); // connected pair: no target
    }
    assert.ok(sock.pendingSends > 0, "the kernel refused some sends: they wait");
    let settled = 0;
    for (const p of sends) void p.then(() => settled++);
    const got: number[] = [];
    await until(() => {
      drainPeer(peer, got);
      return settled === sends.length;
    }, "every send to be taken");
    await Promise.all(sends);
    drainPeer(peer, got);
    assert.deepEqual(got, Array.from({ length: 60 }, (_, i) => i)); // copied when queued, sent in order
    assert.equal(sock.pendingSends, 0);
  });

  test("sendBatch waits too; pending sends are bounded (LimitError); an aborted send is dropped from the queue", async () => {
    const [mine, peer] = datagramPair();
    using sock = adoptUDP(mine, { maxPendingSends: 3 });
    using _peer = peer;
    const batch = sock.sendBatch(Array.from({ length: 20 }, (_, i) => ({ data: numbered(i) })));
    assert.equal(sock.pendingSends, 1);
    const controller = new AbortController();
    const aborted = sock.send(numbered(100), undefined, { signal: controller.signal });
    const last = sock.send(numbered(101));
    await assert.rejects(sock.send(numbered(102)), (e: unknown) => e instanceof LimitError && e.code === "ERR_UDP_SEND_QUEUE_FULL" && e.limit === 3);
    controller.abort();
    await assert.rejects(aborted, (e: unknown) => (e as Error).name === "AbortError");
    const got: number[] = [];
    let done = false;
    void Promise.all([batch, last]).then(() => done = true);
    await until(() => {
      drainPeer(peer, got);
      return done;
    }, "the batch and the last send");
    drainPeer(peer, got);
    assert.deepEqual(got, [...Array.from({ length: 20 }, (_, i) => i), 101]);
  });

  test("trySend returns false when the kernel is full, and the handler's drain runs once it has room", async () => {
    const [mine, peer] = datagramPair();
    let drains = 0;
    using sock = adoptUDP(mine, { handler: { message: () => {}, drain: () => drains++ } });
    using _peer = peer;
    let sent = 0;
    while (sock.trySend(numbered(sent))) {
      sent++;
      assert.ok(sent < 10_000, "the kernel never refused");
    }
    assert.equal(drains, 0);
    const got: number[] = [];
    drainPeer(peer, got);
    await until(() => drains === 1, "drain");
    assert.equal(sock.trySend(numbered(sent)), true);
    drainPeer(peer, got);
    assert.deepEqual(got, Array.from({ length: sent + 1 }, (_, i) => i));
  });

  test("close() rejects waiting sends with SocketClosedError ECANCELED", async () => {
    const [mine, peer] = datagramPair();
    const sock = adoptUDP(mine);
    using _peer = peer;
    const sends = Array.from({ length: 40 }, (_, i) => sock.send(numbered(i)));
    assert.ok(sock.pendingSends > 0);
    sock.close();
    const outcomes = await Promise.allSettled(sends);
    const rejected = outcomes.filter((o) => o.status === "rejected");
    assert.ok(rejected.length > 0);
    for (const o of rejected) {
      const e = (o as PromiseRejectedResult).reason as unknown;
      assert.ok(e instanceof SocketClosedError && e.code === "ECANCELED");
    }
    // The ones taken before the close resolved: a prefix.
    const firstRejected = outcomes.findIndex((o) => o.status === "rejected");
    assert.ok(outcomes.slice(firstRejected).every((o) => o.status === "rejected"));
  });
});
