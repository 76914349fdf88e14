import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { SocketClosedError, SocketError, SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { C } from "../ffi/platform.ts";
import {
  connectTCPSync,
  Dgram,
  getDefaultTimeouts,
  listenTCPSync,
  resetDefaultTimeouts,
  resolveHost,
  setDefaultTimeouts,
  Socket,
  type SocketAddress,
  socketPair,
} from "../socket/mod.ts";

function portOf(addr: SocketAddress): number {
  assert.notEqual(addr.family, "unix");
  return addr.family === "unix" ? -1 : addr.port;
}

/** A connected TCP pair over loopback: [client, accepted peer, listener]. */
function tcpPair(host = "127.0.0.1"): [Socket, Socket, Socket] {
  const server = listenTCPSync(host, 0);
  const client = connectTCPSync(host, portOf(server.localAddress()), 2000);
  const peer = server.acceptTimeout(2000, { nonBlocking: false });
  assert.ok(peer !== null);
  return [client, peer, server];
}

function closeAll(...sockets: Socket[]): void {
  for (const s of sockets) s.close();
}

const bytes = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

describe("Socket over TCP loopback", () => {
  test("IPv4: connect, accept, sendAll/recvAll, addresses, statistics", () => {
    const [client, peer, server] = tcpPair();
    try {
      const data = bytes(200_000);
      assert.equal(client.sendAll(data), data.length);
      const got = new Uint8Array(data.length);
      assert.equal(peer.recvAll(got), data.length);
      assert.deepEqual(got, data);
      const local = client.localAddress();
      const remote = client.remoteAddress();
      assert.equal(remote.family, "ipv4");
      assert.equal(remote.family === "ipv4" && remote.host, "127.0.0.1");
      assert.equal(portOf(remote), portOf(server.localAddress()));
      assert.deepEqual(peer.remoteAddress(), local);
      assert.ok(client.isConnected());
      assert.equal(server.isConnected(), false);
      const stats = client.stats();
      assert.equal(stats.bytesSent, data.length);
      assert.ok(stats.packetsSent >= 1);
      assert.ok(stats.lastSendMs > 0);
      assert.equal(peer.stats().bytesReceived, data.length);
      client.resetStats();
      assert.equal(client.stats().bytesSent, 0);
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("IPv6 on ::1", () => {
    const [client, peer, server] = tcpPair("::1");
    try {
      assert.equal(client.family, "ipv6");
      const remote = client.remoteAddress();
      assert.equal(remote.family === "ipv6" && remote.host, "::1");
      client.sendAll(bytes(10));
      const got = new Uint8Array(10);
      peer.recvAll(got);
      assert.deepEqual(got, bytes(10));
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("dual-stack listener accepts IPv4 clients as IPv4-mapped addresses", () => {
    const server = listenTCPSync(null, 0);
    try {
      assert.equal(server.family, "ipv6");
      assert.equal(server.options.v6Only, false);
      const client = connectTCPSync("127.0.0.1", portOf(server.localAddress()), 2000);
      const peer = server.acceptTimeout(2000)!;
      const remote = peer.remoteAddress();
      assert.equal(remote.family === "ipv6" && remote.host, "::ffff:127.0.0.1");
      closeAll(client, peer);
    } finally {
      server.close();
    }
  });

  test("connectTCPSync resolves names", () => {
    const server = listenTCPSync("127.0.0.1", 0);
    try {
      const client = connectTCPSync("localhost", portOf(server.localAddress()), 2000);
      const peer = server.acceptTimeout(2000);
      assert.ok(peer !== null);
      closeAll(client, peer);
    } finally {
      server.close();
    }
  });

  test("non-blocking: accept and recv return null, send returns 0 when full, connect in progress", () => {
    const server = listenTCPSync("127.0.0.1", 0);
    try {
      assert.equal(server.accept(), null);
      const client = Socket.create("ipv4", "stream", { nonBlocking: true });
      const status = client.connectNonBlocking("127.0.0.1", portOf(server.localAddress()));
      assert.ok(status === "connected" || status === "in-progress");
      assert.ok(client.isWritable(2000));
      assert.equal(client.finishConnect(), true);
      const peer = server.acceptTimeout(2000)!;
      assert.equal(peer.nonBlocking, true);
      assert.equal(peer.recv(new Uint8Array(16)), null);
      peer.options.receiveBufferSize = 4096;
      client.options.sendBufferSize = 4096;
      const chunk = new Uint8Array(65536);
      let zero = false;
      for (let i = 0; i < 10_000 && !zero; i++) zero = client.send(chunk) === 0;
      assert.ok(zero, "a full non-blocking socket reports 0");
      closeAll(client, peer);
    } finally {
      server.close();
    }
  });

  test("MSG_DONTWAIT on a blocking socket: recv gives null and send 0 at once; sendAll/recvAll still wait", () => {
    const [client, peer, server] = tcpPair();
    try {
      assert.equal(peer.nonBlocking, false);
      // Safety nets: before the fix these calls waited (here: until the timeout).
      peer.setTimeouts({ recvMs: 2000 });
      client.setTimeouts({ sendMs: 2000 });
      let started = performance.now();
      assert.equal(peer.recv(new Uint8Array(16), C.MSG_DONTWAIT), null);
      assert.ok(performance.now() - started < 1000);
      client.options.sendBufferSize = 4096;
      peer.options.receiveBufferSize = 4096;
      const chunk = new Uint8Array(65536);
      let zero = false;
      started = performance.now();
      for (let i = 0; i < 10_000 && !zero; i++) zero = client.send(chunk, C.MSG_DONTWAIT) === 0;
      assert.ok(zero, "a full socket reports 0 with MSG_DONTWAIT");
      assert.ok(performance.now() - started < 1000);
      assert.ok(client.stats().bytesSent > 0);
      // The looping calls wait as they always do: the flag cannot make them spin.
      const small = bytes(100);
      const both = new Uint8Array(client.stats().bytesSent);
      peer.setTimeouts({ recvMs: 0 });
      assert.equal(peer.recvAll(both, C.MSG_DONTWAIT), both.length);
      client.sendAll(small, C.MSG_DONTWAIT);
      const got = new Uint8Array(100);
      assert.equal(peer.recvAll(got, C.MSG_DONTWAIT), 100);
      assert.deepEqual(got, small);
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("connectTCPSync turns on TCP_NODELAY unless told not to", () => {
    const server = listenTCPSync("127.0.0.1", 0);
    const port = portOf(server.localAddress());
    try {
      using fast = connectTCPSync("127.0.0.1", port, 2000);
      assert.equal(fast.options.noDelay, true);
      using nagle = connectTCPSync("127.0.0.1", port, 2000, { noDelay: false });
      assert.equal(nagle.options.noDelay, false);
      assert.throws(() => connectTCPSync("127.0.0.1", port, 2000, { noDelay: 1 as unknown as boolean }), TypeError);
    } finally {
      server.close();
    }
  });

  test("connection refused is a SocketError naming the errno and address", () => {
    const probe = listenTCPSync("127.0.0.1", 0);
    const port = portOf(probe.localAddress());
    probe.close();
    assert.throws(() => connectTCPSync("127.0.0.1", port, 2000), (e: unknown) =>
      e instanceof SocketError && e.code === "ECONNREFUSED" && e.syscall === "connect" &&
      e.address === `127.0.0.1:${port}`);
  });

  test("a peer that closes mid-stream raises SocketClosedError", () => {
    const [client, peer, server] = tcpPair();
    try {
      client.sendAll(bytes(100));
      client.close();
      const buf = new Uint8Array(1000);
      assert.throws(() => peer.recvAll(buf), (e: unknown) => e instanceof SocketClosedError && /after 100 of 1000/.test(e.message));
      // Sending to the closed peer: RST, then EPIPE/ECONNRESET — never SIGPIPE.
      assert.throws(() => {
        for (let i = 0; i < 1000; i++) peer.sendAll(bytes(65536));
      }, SocketClosedError);
      assert.ok(peer.stats().sendErrors >= 1);
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("shutdown(write) gives the peer end of stream", () => {
    const [client, peer, server] = tcpPair();
    try {
      client.sendAll(bytes(5));
      client.shutdown("write");
      const buf = new Uint8Array(10);
      assert.equal(peer.recv(buf), 5);
      assert.equal(peer.recv(buf), 0);
      assert.equal(peer.probe(), false);
      assert.throws(() => client.shutdown("sideways" as "read"), TypeError);
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("scatter/gather and peek", () => {
    const [client, peer, server] = tcpPair();
    try {
      const parts = [bytes(3, 1), bytes(0), bytes(70_000, 2), bytes(5, 3)];
      assert.equal(client.sendvAll(parts), 70_008);
      const head = new Uint8Array(3);
      assert.equal(peer.peek(head), 3);
      assert.deepEqual(head, parts[0]);
      const got = [new Uint8Array(3), new Uint8Array(70_000), new Uint8Array(5)];
      let total = 0;
      while (total < 70_008) {
        const n = peer.recvv(total === 0 ? got : [new Uint8Array(70_008 - total)]);
        assert.ok(n !== null && n > 0);
        if (total === 0 && n < 70_008) {
          // Keep the test simple: read the rest and check the concatenation.
          const rest = new Uint8Array(70_008 - n);
          peer.recvAll(rest);
          const all = new Uint8Array(70_008);
          all.set(got[0]!, 0); all.set(got[1]!, 3); all.set(got[2]!, 70_003);
          all.set(rest, n);
          const want = new Uint8Array(70_008);
          want.set(parts[0]!, 0); want.set(parts[2]!, 3); want.set(parts[3]!, 70_003);
          assert.deepEqual(all, want);
          total = 70_008;
          break;
        }
        total += n;
      }
      if (got[2]![0] !== 0 || total === 70_008) assert.ok(true);
      assert.equal(client.sendv([bytes(2)]), 2);
      assert.equal(client.sendvTimeout([bytes(2), bytes(2)], 1000), 4);
      const six = new Uint8Array(6);
      peer.recvAll(six);
      assert.throws(() => client.sendv([new Uint8Array(1), "x" as unknown as Uint8Array]), TypeError);
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("sendvAll through many partial sends delivers every byte in order", async () => {
    const { HelperThread } = await import("./socket_fixture_thread.ts");
    const { StreamDigest } = await import("./socket_helpers.ts");
    const [a, b] = socketPair();
    const helper = await HelperThread.start();
    try {
      a.options.sendBufferSize = 4096;
      // With a send timeout each sendmsg takes what fits and returns (a
      // blocking one without would take everything at once).
      a.setTimeouts({ sendMs: 5000 });
      // 300 buffers of uneven sizes, about 4.5 MiB: dozens of partial sends.
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) parts.push(bytes((i * 7919) % 30_000 + (i % 3 === 0 ? 0 : 1), i));
      const want = new StreamDigest();
      let total = 0;
      for (const p of parts) {
        want.update(p);
        total += p.length;
      }
      const digest = helper.after(0, "digest", b.fd);
      // Whatever happens, the helper's blocking read must see end of stream.
      let sentAll: number;
      try {
        sentAll = a.sendvAll(parts);
      } finally {
        a.shutdown("write");
      }
      assert.equal(sentAll, total);
      assert.equal(a.stats().bytesSent, total);
      assert.equal(await digest, want.result());
      // The 4.5 MiB staging block is not kept after the call.
      const { coreOf } = await import("../socket/socket_core.ts");
      const { STAGING_KEEP_BYTES } = await import("../socket/msg_memory.ts");
      const kept = coreOf(a).sg?.reservedBytes ?? 0;
      assert.ok(kept <= STAGING_KEEP_BYTES, `${kept} bytes of staging memory kept`);
    } finally {
      await helper.close();
      closeAll(a, b);
    }
  });

  test("timeouts: per-socket overrides over process-wide defaults", () => {
    const [client, peer, server] = tcpPair();
    try {
      assert.equal(client.getTimeouts().recvMs, getDefaultTimeouts().recvMs);
      setDefaultTimeouts({ recvMs: 20 });
      assert.equal(client.getTimeouts().recvMs, 20);
      assert.throws(() => peer.recv(new Uint8Array(4)), SocketTimeoutError);
      peer.setTimeouts({ recvMs: 10 });
      resetDefaultTimeouts();
      assert.equal(peer.getTimeouts().recvMs, 10);
      assert.throws(() => peer.recvAll(new Uint8Array(4)), SocketTimeoutError);
      peer.clearTimeouts();
      assert.equal(peer.getTimeouts().recvMs, 0);
      client.sendAll(bytes(3));
      const buf = new Uint8Array(8);
      assert.equal(peer.recvAllTimeout(buf, 20), 3); // partial on timeout
      assert.throws(() => setDefaultTimeouts({ connectMs: -1 }), RangeError);
      assert.throws(() => peer.setTimeouts({ sendMs: 1.5 }), RangeError);
      // A sender whose peer never reads stops at the deadline with a partial count.
      client.options.sendBufferSize = 4096;
      const big = new Uint8Array(16 * 1024 * 1024);
      const sent = client.sendAllTimeout(big, 30);
      assert.ok(sent < big.length);
      client.setTimeouts({ sendMs: 10 });
      assert.throws(() => client.sendAll(big), SocketTimeoutError);
    } finally {
      resetDefaultTimeouts();
      closeAll(client, peer, server);
    }
  });

  test("connect timeout when the listener's queue is full", () => {
    const server = Socket.create("ipv4");
    server.bind("127.0.0.1", 0);
    server.listen(0);
    const port = portOf(server.localAddress());
    const fillers: Socket[] = [];
    try {
      let timedOut = false;
      for (let i = 0; i < 8 && !timedOut; i++) {
        const s = Socket.create("ipv4");
        fillers.push(s);
        try {
          s.connectTimeout("127.0.0.1", port, 50);
        } catch (err) {
          assert.ok(err instanceof SocketTimeoutError, String(err));
          timedOut = true;
        }
      }
      assert.ok(timedOut);
    } finally {
      closeAll(server, ...fillers);
    }
  });

  test("health: getError, probe, isReadable, isWritable, tcpInfo", () => {
    const [client, peer, server] = tcpPair();
    try {
      assert.equal(client.getError(), null);
      assert.equal(client.probe(), true);
      assert.equal(peer.isReadable(), false);
      assert.equal(client.isWritable(), true);
      client.sendAll(bytes(64 * 1024));
      assert.equal(peer.isReadable(1000), true);
      peer.recvAll(new Uint8Array(64 * 1024));
      const info = client.tcpInfo();
      assert.equal(info.state, 1); // ESTABLISHED
      assert.ok(info.rttUs > 0 && info.rttUs < 1_000_000, `rtt ${info.rttUs}`);
      assert.ok(info.cwnd > 0);
      assert.ok(info.sendMss > 0);
      assert.ok(info.bytesAcked >= 64 * 1024);
      assert.ok(info.segsOut > 0);
      // Not 0: on a loaded machine a tail-loss probe can fire on loopback.
      assert.ok(Number.isInteger(info.totalRetrans) && info.totalRetrans >= 0);
      assert.ok(client.getRtt() > 0);
      assert.ok(client.getCwnd() > 0);
      assert.equal(client.stats().rttUs > 0, true);
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("bandwidth limiting with a token bucket", () => {
    const [client, peer, server] = tcpPair();
    try {
      assert.equal(client.bandwidth, 0);
      // 1 byte/s after a 1000-byte burst: a refill between two calls would take a whole second.
      client.setBandwidth(1, 1000);
      assert.equal(client.bandwidth, 1);
      assert.equal(client.sendLimited(bytes(1500)), 1000);
      assert.equal(client.sendLimited(bytes(1500)), 0);
      assert.ok(client.bandwidthWaitMs(500) > 0);
      assert.equal(client.bandwidthWaitMs(5000), Infinity);
      client.setBandwidth(0);
      assert.equal(client.sendLimited(bytes(10)), 10);
      assert.throws(() => client.setBandwidth(-1), RangeError);
      peer.recvAll(new Uint8Array(1010));
    } finally {
      closeAll(client, peer, server);
    }
  });

  test("sendLimited spends tokens only on bytes the kernel took", () => {
    const [a, b] = socketPair("stream", { nonBlocking: true });
    try {
      a.options.sendBufferSize = 4096;
      while (a.send(bytes(65536)) > 0);
      a.setBandwidth(1, 1000);
      assert.equal(a.sendLimited(bytes(1000)), 0); // the socket is full
      assert.equal(a.bandwidthWaitMs(1000), 0);
    } finally {
      closeAll(a, b);
    }
  });

  test("a failed allocation of native staging memory leaves the socket usable", (t) => {
    if (readFileSync("/proc/sys/vm/overcommit_memory", "utf8").trim() === "1") {
      t.skip("the kernel grants any allocation (vm.overcommit_memory=1)");
      return;
    }
    const meminfo = readFileSync("/proc/meminfo", "utf8");
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(meminfo)![1]);
    // 1024 views of one buffer, four times RAM and swap in all: calloc refuses.
    const huge = new Uint8Array(4 * (kib("MemTotal") + kib("SwapTotal")));
    const [a, b] = socketPair();
    try {
      assert.equal(a.sendv([bytes(1)]), 1);
      assert.throws(() => a.sendv(new Array<Uint8Array>(1024).fill(huge)), RangeError);
      assert.equal(a.sendv([bytes(1)]), 1);
      b.recvAll(new Uint8Array(2));
    } finally {
      closeAll(a, b);
    }
    using sink = Dgram.create("ipv4");
    sink.bind("127.0.0.1", 0);
    using d = Dgram.create("ipv4");
    d.connect("127.0.0.1", sink.localAddress().port);
    assert.equal(d.sendBatch([{ data: bytes(1) }]), 1);
    assert.throws(() => d.sendBatch(new Array(1024).fill({ data: huge })), RangeError);
    assert.equal(d.sendBatch([{ data: bytes(1) }]), 1);
  });

  test("a host that ends in a number must be a strict IPv4 literal (no inet_aton forms)", () => {
    for (const host of ["127.1", "1.2.3", "01.2.3.4", "010.0.0.1", "0x7f.0.0.1", "2130706433", "1.2.3.4."]) {
      assert.throws(() => resolveHost(host, 80), TypeError, host);
    }
    using server = listenTCPSync("127.0.0.1", 0);
    assert.throws(() => connectTCPSync("127.1", portOf(server.localAddress()), 1000), TypeError);
    assert.throws(() => listenTCPSync("127.1", 0), TypeError);
    assert.deepEqual(resolveHost("127.0.0.1", 80), [{ family: "ipv4", host: "127.0.0.1", port: 80 }]);
  });

  test("close is idempotent; use after close throws UseAfterCloseError; fromFd and release", () => {
    const s = Socket.create("ipv4");
    const fd = s.fd;
    assert.equal(s.options.closeOnExec, true);
    const wrapped = Socket.fromFd(s.release(), "ipv4");
    assert.equal(wrapped.fd, fd);
    assert.equal(s.closed, true);
    assert.throws(() => s.fd, UseAfterCloseError);
    wrapped.close();
    wrapped.close();
    assert.throws(() => wrapped.send(new Uint8Array(1)), UseAfterCloseError);
    assert.throws(() => wrapped.bind("127.0.0.1", 0), UseAfterCloseError);
    assert.throws(() => wrapped.options.noDelay, UseAfterCloseError);
    assert.throws(() => wrapped.localAddress(), UseAfterCloseError);
    {
      using d = Socket.create("ipv6");
      assert.equal(d.closed, false);
    }
  });

  test("bad arguments throw TypeError/RangeError naming the value", () => {
    using s = Socket.create("ipv4");
    assert.throws(() => s.bind("1.2.3", 0), /"1\.2\.3"/);
    assert.throws(() => s.bind("::1", 0), TypeError);
    assert.throws(() => s.bind("127.0.0.1", 70000), RangeError);
    assert.throws(() => s.listen(-1), RangeError);
    assert.throws(() => s.acceptTimeout(1.5), RangeError);
    assert.throws(() => s.send("text" as unknown as Uint8Array), TypeError);
    assert.throws(() => Socket.create("ipx" as "ipv4"), TypeError);
    assert.throws(() => Socket.create("ipv4", "seqpacket"), TypeError);
    assert.throws(() => Socket.fromFd(-1, "ipv4"), RangeError);
    assert.throws(() => connectTCPSync("", 80), TypeError);
  });
});
