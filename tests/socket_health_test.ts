// Health probes, statistics reset, connect paths, seqpacket boundaries and
// close-on-exec on every way a descriptor comes into being.
import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { SocketClosedError, SocketError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import {
  bindUDPSync,
  connectTCPSync,
  connectUnixSync,
  Dgram,
  listenTCPSync,
  listenUnixSync,
  Socket,
  type SocketAddress,
  socketPair,
} from "../socket/mod.ts";

const portOf = (a: SocketAddress): number => (a.family === "unix" ? -1 : a.port);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function tcpPair(): [Socket, Socket, Socket] {
  const server = listenTCPSync("127.0.0.1", 0);
  const client = connectTCPSync("127.0.0.1", portOf(server.localAddress()), 2000);
  const peer = server.acceptTimeout(2000, { nonBlocking: false });
  assert.ok(peer !== null);
  return [client, peer, server];
}

/** FD_CLOEXEC as the kernel reports it (fcntl(F_GETFD)). */
function cloexec(fd: number): boolean {
  const flags = libc().fcntl(fd, C.F_GETFD, 0);
  assert.ok(flags >= 0, `fcntl(F_GETFD) on ${fd}`);
  return (flags & C.FD_CLOEXEC) !== 0;
}

describe("Socket health", () => {
  test("probe() after a reset leaves the error for getError() (it does not read SO_ERROR away)", () => {
    const [client, peer, server] = tcpPair();
    try {
      peer.options.linger = 0;
      peer.close(); // RST
      assert.equal(client.isReadable(2000), true);
      assert.equal(client.probe(), false);
      const error = client.getError();
      assert.ok(error instanceof SocketError && error.code === "ECONNRESET", `getError() gave ${String(error)}`);
    } finally {
      client.close();
      peer.close();
      server.close();
    }
  });

  test("probe(timeoutMs): alive when idle or with data pending, dead once the peer closed", () => {
    const [client, peer, server] = tcpPair();
    try {
      assert.equal(client.probe(), true);
      assert.equal(client.probe(15), true); // waits, sees nothing, still connected
      peer.sendAll(text("x"));
      assert.equal(client.probe(1000), true); // data waiting is not consumed
      assert.equal(client.recv(new Uint8Array(4)), 1);
      peer.close();
      assert.equal(client.probe(1000), false);
      assert.equal(client.isReadable(0), true); // end of stream is readable
      assert.equal(client.recv(new Uint8Array(4)), 0);
      using lone = Socket.create("ipv4");
      assert.equal(lone.probe(), false); // never connected
      assert.throws(() => client.probe(-1), RangeError);
    } finally {
      client.close();
      peer.close();
      server.close();
    }
  });

  test("isReadable/isWritable follow the buffers", () => {
    const [a, b] = socketPair("stream", { nonBlocking: true });
    try {
      assert.equal(b.isReadable(), false);
      assert.equal(b.isReadable(10), false);
      assert.equal(a.isWritable(), true);
      a.options.sendBufferSize = 4096;
      const chunk = new Uint8Array(65536);
      while (a.send(chunk) > 0);
      assert.equal(a.isWritable(10), false);
      assert.equal(b.isReadable(), true);
      const sink = new Uint8Array(1 << 20);
      while (b.recv(sink) !== null);
      assert.equal(a.isWritable(1000), true);
    } finally {
      a.close();
      b.close();
    }
  });

  test("statistics: bytes, packets, errors, last times, and reset", () => {
    const [a, b] = socketPair();
    try {
      a.sendAll(text("hello"));
      a.sendv([text("ab"), text("cd")]);
      const buf = new Uint8Array(9);
      b.recvAll(buf);
      const sent = a.stats();
      assert.equal(sent.bytesSent, 9);
      assert.equal(sent.packetsSent, 2);
      assert.ok(sent.lastSendMs > 0 && sent.lastSendMs <= performance.now() + 1); // performance.now() origin
      assert.equal(b.stats().bytesReceived, 9);
      b.close();
      assert.throws(() => a.sendAll(text("gone")), SocketClosedError);
      assert.equal(a.stats().sendErrors, 1);
      a.resetStats();
      const zero = a.stats();
      assert.equal(zero.bytesSent, 0);
      assert.equal(zero.packetsSent, 0);
      assert.equal(zero.sendErrors, 0);
      assert.equal(zero.bytesReceived, 0);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("Socket shutdown and TCP_INFO", () => {
  test('shutdown("read") ends our reads; shutdown("both") ends both directions', () => {
    const [client, peer, server] = tcpPair();
    try {
      client.shutdown("read");
      assert.equal(client.recv(new Uint8Array(4)), 0); // end of stream at once
      client.sendAll(text("still sending")); // the write side is open
      const buf = new Uint8Array(13);
      peer.recvAll(buf);
      peer.shutdown("both");
      assert.equal(client.recv(new Uint8Array(4)), 0);
      assert.throws(() => peer.sendAll(text("x")), SocketClosedError); // EPIPE, and no SIGPIPE
      assert.throws(() => peer.shutdown("sideways" as "both"), TypeError);
    } finally {
      client.close();
      peer.close();
      server.close();
    }
  });

  test("tcpInfo after a bulk transfer: delivery rate, segments, no retransmissions", () => {
    const [client, peer, server] = tcpPair();
    try {
      const data = new Uint8Array(1 << 20);
      peer.options.nonBlocking = true;
      client.options.nonBlocking = true;
      const sink = new Uint8Array(1 << 18);
      let sent = 0;
      let got = 0;
      while (got < data.length) {
        if (sent < data.length) sent += client.send(data.subarray(sent));
        got += peer.recv(sink) ?? 0;
      }
      const info = client.tcpInfo();
      assert.ok(info.deliveryRate > 0, `delivery rate ${info.deliveryRate}`);
      assert.ok(info.bytesAcked > 0);
      assert.ok(info.segsOut > 10);
      assert.equal(info.retransmits, 0);
      assert.ok(info.rttVarUs >= 0);
      const peerInfo = peer.tcpInfo();
      assert.ok(peerInfo.bytesReceived >= data.length);
    } finally {
      client.close();
      peer.close();
      server.close();
    }
  });
});

describe("Socket connect paths", () => {
  test("connectTimeout succeeds within its limit; non-blocking connect then finishConnect", () => {
    using server = listenTCPSync("127.0.0.1", 0);
    const port = portOf(server.localAddress());
    using blocking = Socket.create("ipv4");
    blocking.connectTimeout("127.0.0.1", port, 1000);
    assert.equal(blocking.isConnected(), true);
    assert.equal(blocking.nonBlocking, false, "the temporary non-blocking mode is undone");
    using nb = Socket.create("ipv4", "stream", { nonBlocking: true });
    const status = nb.connectNonBlocking("127.0.0.1", port);
    assert.ok(status === "connected" || status === "in-progress");
    assert.equal(nb.isWritable(1000), true);
    assert.equal(nb.finishConnect(), true);
    assert.equal(portOf(nb.remoteAddress()), port);
  });

  test("a refused non-blocking connect surfaces in finishConnect", () => {
    using closed = Socket.create("ipv4");
    closed.bind("127.0.0.1", 0);
    const port = portOf(closed.localAddress()); // bound, never listening
    using s = Socket.create("ipv4", "stream", { nonBlocking: true });
    const refused = (e: unknown) => e instanceof SocketError && e.code === "ECONNREFUSED";
    let status: string;
    try {
      status = s.connectNonBlocking("127.0.0.1", port);
    } catch (e) {
      assert.ok(refused(e), String(e)); // the kernel may refuse at once on loopback
      return;
    }
    assert.equal(status, "in-progress");
    s.isWritable(1000);
    assert.throws(() => s.finishConnect(), refused);
  });
});

describe("SOCK_SEQPACKET", () => {
  test("a short buffer takes the head of one message; the rest of it is dropped, never merged", () => {
    const [a, b] = socketPair("seqpacket");
    try {
      a.send(text("hello world"));
      a.send(text("next"));
      const small = new Uint8Array(5);
      assert.equal(b.recv(small), 5);
      assert.equal(new TextDecoder().decode(small), "hello");
      const buf = new Uint8Array(64);
      assert.equal(b.recv(buf), 4);
      assert.equal(new TextDecoder().decode(buf.subarray(0, 4)), "next");
      a.sendv([text("ga"), text("th"), text("er")]);
      assert.equal(b.recv(buf), 6); // one gathered send is one message
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("close-on-exec", () => {
  test("every descriptor we create is FD_CLOEXEC (fcntl F_GETFD)", () => {
    const name = `@ffinet-cloexec-${process.pid}-${Math.random().toString(36).slice(2)}`;
    using tcp4 = Socket.create("ipv4");
    using tcp6 = Socket.create("ipv6", "stream", { nonBlocking: true });
    using unixSeq = Socket.create("unix", "seqpacket");
    using listener = listenTCPSync("127.0.0.1", 0);
    using client = connectTCPSync("127.0.0.1", portOf(listener.localAddress()), 1000);
    using accepted = listener.acceptTimeout(1000)!;
    using acceptedBlocking = (() => {
      using c2 = connectTCPSync("127.0.0.1", portOf(listener.localAddress()), 1000);
      return listener.acceptTimeout(1000, { nonBlocking: false })!;
    })();
    using unixListener = listenUnixSync(name);
    using unixClient = connectUnixSync(name, 1000);
    using unixPeer = unixListener.acceptTimeout(1000)!;
    const [p1, p2] = socketPair();
    using duplicate = p1.dup();
    p2.sendFd(unixClient.fd);
    const passed = p1.recvFd()!;
    using udp = Dgram.create("ipv4");
    using udp6 = bindUDPSync("::1", 0);
    try {
      const all: Array<[string, number]> = [
        ["socket ipv4", tcp4.fd], ["socket ipv6 non-blocking", tcp6.fd], ["socket unix seqpacket", unixSeq.fd],
        ["listenTCPSync", listener.fd], ["connectTCPSync", client.fd], ["accept", accepted.fd],
        ["accept blocking", acceptedBlocking.fd], ["listenUnixSync", unixListener.fd], ["connectUnixSync", unixClient.fd],
        ["accept unix", unixPeer.fd], ["socketPair", p1.fd], ["socketPair", p2.fd], ["dup", duplicate.fd],
        ["received fd", passed], ["Dgram", udp.fd], ["bindUDPSync", udp6.fd],
      ];
      for (const [what, fd] of all) assert.equal(cloexec(fd), true, what);
    } finally {
      libc().close(passed);
      p1.close();
      p2.close();
    }
  });
});
