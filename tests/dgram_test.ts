import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { describe, test } from "node:test";
import { SocketError, UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { bindUDPSync, Dgram } from "../socket/dgram.ts";
import { kernelTimeout, stopAndContinue } from "./socket_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (buf: Uint8Array, n: number) => dec.decode(buf.subarray(0, n));
const isCode = (code: string) => (e: unknown) => e instanceof SocketError && e.code === code;

describe("Dgram: unicast", () => {
  test("sendTo/recvFrom on 127.0.0.1 report the sender", () => {
    using a = bindUDPSync("127.0.0.1", 0);
    using b = bindUDPSync("127.0.0.1", 0);
    const aPort = a.localAddress().port;
    assert.ok(aPort > 0);
    assert.equal(b.sendTo(enc.encode("hello"), "127.0.0.1", aPort), 5);
    const buf = new Uint8Array(64);
    const d = a.recvFrom(buf);
    assert.ok(d !== null);
    assert.deepEqual(d, { bytes: 5, size: 5, truncated: false, host: "127.0.0.1", port: b.localAddress().port });
    assert.equal(text(buf, 5), "hello");
  });

  test("IPv6 on ::1", () => {
    using a = bindUDPSync("::1", 0);
    using b = bindUDPSync("::1", 0);
    assert.equal(a.family, "ipv6");
    b.sendTo(enc.encode("six"), "::1", a.localAddress().port);
    const buf = new Uint8Array(16);
    const d = a.recvFrom(buf);
    assert.equal(d?.host, "::1");
    assert.equal(d?.port, b.localAddress().port);
    assert.equal(text(buf, d!.bytes), "six");
  });

  test("a dual-stack socket talks to IPv4 peers as ::ffff:a.b.c.d", () => {
    using six = bindUDPSync(null, 0, { family: "ipv6", v6Only: false });
    using four = bindUDPSync("127.0.0.1", 0);
    four.sendTo(enc.encode("v4"), "127.0.0.1", six.localAddress().port);
    const buf = new Uint8Array(16);
    const d = six.recvFrom(buf);
    assert.equal(d?.host, "::ffff:127.0.0.1");
    // An IPv4 literal from the IPv6 socket is mapped automatically.
    six.sendTo(enc.encode("back"), "127.0.0.1", four.localAddress().port);
    assert.equal(four.recv(buf), 4);
    assert.equal(text(buf, 4), "back");
  });

  test("connected mode: send/recv, peer filter, remoteAddress, disconnect", () => {
    using a = bindUDPSync("127.0.0.1", 0, { nonBlocking: true });
    using b = bindUDPSync("127.0.0.1", 0);
    using stranger = bindUDPSync("127.0.0.1", 0);
    const aPort = a.localAddress().port;
    a.connect("127.0.0.1", b.localAddress().port);
    b.connect("127.0.0.1", aPort);
    assert.deepEqual(a.remoteAddress(), { family: "ipv4", host: "127.0.0.1", port: b.localAddress().port });
    stranger.sendTo(enc.encode("ignored"), "127.0.0.1", aPort);
    assert.equal(b.send(enc.encode("from b")), 6);
    const buf = new Uint8Array(32);
    assert.equal(a.recv(buf), 6);
    assert.equal(text(buf, 6), "from b");
    assert.equal(a.recv(buf), null, "the stranger's datagram is dropped by the kernel");
    a.disconnect();
    assert.throws(() => a.remoteAddress(), isCode("ENOTCONN"));
  });

  test("truncated datagrams are reported (MSG_TRUNC)", () => {
    using a = bindUDPSync("127.0.0.1", 0);
    using b = bindUDPSync("127.0.0.1", 0);
    const port = a.localAddress().port;
    const big = new Uint8Array(100).map((_, i) => i);
    b.sendTo(big, "127.0.0.1", port);
    b.sendTo(big, "127.0.0.1", port);
    const small = new Uint8Array(10);
    assert.equal(a.recv(small), 100);
    assert.deepEqual(small, big.subarray(0, 10));
    const d = a.recvFrom(small);
    assert.deepEqual(
      { bytes: d?.bytes, size: d?.size, truncated: d?.truncated },
      { bytes: 10, size: 100, truncated: true },
    );
  });

  test("non-blocking sockets return null when nothing is queued", () => {
    using a = bindUDPSync("127.0.0.1", 0, { nonBlocking: true });
    assert.equal(a.nonBlocking, true);
    const buf = new Uint8Array(8);
    assert.equal(a.recv(buf), null);
    assert.equal(a.recvFrom(buf), null);
    assert.equal(a.recvBatch([buf]), null);
    a.setNonBlocking(false);
    assert.equal(a.nonBlocking, false);
  });

  test("a blocking receive interrupted by a stop and continue (EINTR) is retried", async () => {
    using a = bindUDPSync("127.0.0.1", 0);
    kernelTimeout(a.fd, C.SO_RCVTIMEO, 500);
    const buf = new Uint8Array(8);
    // Each call sees EINTR at 100 ms, then waits again until SO_RCVTIMEO ends it: null, not a SocketError.
    for (const receive of [() => a.recv(buf), () => a.recvFrom(buf), () => a.recvBatch([buf])]) {
      const child = stopAndContinue(100);
      assert.equal(receive(), null);
      await child;
    }
  });

  test("broadcast needs SO_BROADCAST", () => {
    using r = bindUDPSync("0.0.0.0", 0);
    using s = bindUDPSync("127.0.0.1", 0);
    const port = r.localAddress().port;
    assert.equal(s.getBroadcast(), false);
    assert.throws(() => s.sendTo(enc.encode("b"), "127.255.255.255", port), isCode("EACCES"));
    s.setBroadcast(true);
    assert.equal(s.getBroadcast(), true);
    assert.equal(s.sendTo(enc.encode("b"), "127.255.255.255", port), 1);
    const buf = new Uint8Array(4);
    assert.equal(r.recvFrom(buf)?.host, "127.0.0.1");
  });

  test("options: TTL, buffer sizes, reuse", () => {
    using s = Dgram.create("ipv4", { reuseAddr: true, reusePort: true });
    s.setTTL(7);
    assert.equal(s.getTTL(), 7);
    s.setReceiveBufferSize(65536);
    assert.ok(s.getReceiveBufferSize() >= 65536);
    s.setSendBufferSize(65536);
    assert.ok(s.getSendBufferSize() >= 65536);
    using s6 = Dgram.create("ipv6");
    s6.setTTL(9);
    assert.equal(s6.getTTL(), 9);
    assert.throws(() => s.setTTL(0), RangeError);
    assert.throws(() => s.setTTL(256), RangeError);
    assert.throws(() => s.setMulticastTTL(-1), RangeError);
    assert.throws(() => s.setReceiveBufferSize(0), RangeError);
  });
});

describe("Dgram: multicast on loopback", () => {
  test("IPv4 224.0.0.x on lo: join, receive, leave", () => {
    using r = bindUDPSync("0.0.0.0", 0, { reuseAddr: true, nonBlocking: true });
    using s = bindUDPSync("127.0.0.1", 0);
    const port = r.localAddress().port;
    r.joinMulticast("224.0.0.250", "lo");
    r.joinMulticast("224.0.0.251", "127.0.0.1");
    s.setMulticastInterface("127.0.0.1");
    s.setMulticastTTL(1);
    assert.equal(s.getMulticastTTL(), 1);
    s.setMulticastLoopback(true);
    assert.equal(s.getMulticastLoopback(), true);
    const buf = new Uint8Array(16);
    s.sendTo(enc.encode("group A"), "224.0.0.250", port);
    let d = r.recvFrom(buf);
    assert.equal(d?.host, "127.0.0.1");
    assert.equal(text(buf, d!.bytes), "group A");
    s.sendTo(enc.encode("group B"), "224.0.0.251", port);
    d = r.recvFrom(buf);
    assert.equal(text(buf, d!.bytes), "group B");
    r.leaveMulticast("224.0.0.250", "lo");
    s.sendTo(enc.encode("gone"), "224.0.0.250", port);
    assert.equal(r.recvFrom(buf), null, "no delivery after leaving");
    // IP_MULTICAST_LOOP only suppresses the local copy; on `lo` the
    // transmitted packet itself comes back, so only the setting is checked.
    s.setMulticastLoopback(false);
    assert.equal(s.getMulticastLoopback(), false);
  });

  test("IPv6 ff02::/ff01:: on lo: join works; delivery or the kernel's typed refusal", () => {
    using r = bindUDPSync("::", 0, { nonBlocking: true });
    using s = bindUDPSync("::1", 0);
    const port = r.localAddress().port;
    r.joinMulticast("ff02::1:3", "lo");
    r.joinMulticast("ff01::1:3", "lo");
    s.setMulticastInterface("lo");
    s.setMulticastTTL(1);
    assert.equal(s.getMulticastTTL(), 1);
    s.setMulticastLoopback(true);
    assert.equal(s.getMulticastLoopback(), true);
    const buf = new Uint8Array(16);
    for (const group of ["ff02::1:3", "ff01::1:3"]) {
      let sent: number | null;
      try {
        sent = s.sendTo(enc.encode("six"), group, port);
      } catch (err) {
        // `lo` without IFF_MULTICAST has no IPv6 multicast route here.
        assert.ok(isCode("ENETUNREACH")(err), String(err));
        continue;
      }
      assert.equal(sent, 3);
      assert.equal(r.recvFrom(buf)?.bytes, 3);
    }
    r.leaveMulticast("ff02::1:3", "lo");
    r.leaveMulticast("ff01::1:3", "lo");
  });

  test("bad groups and interfaces are TypeErrors naming the value", () => {
    using s = Dgram.create("ipv4");
    assert.throws(() => s.joinMulticast("10.0.0.1"), /not a multicast address: "10.0.0.1"/);
    assert.throws(() => s.joinMulticast("ff02::1"), TypeError);
    assert.throws(() => s.joinMulticast("224.0.0.1", "nosuchif0"), /unknown network interface: "nosuchif0"/);
    assert.throws(() => s.joinMulticast("224.0.0.300"), TypeError);
    using s6 = Dgram.create("ipv6");
    assert.throws(() => s6.joinMulticast("ff02::1", "127.0.0.1"), TypeError);
    assert.throws(() => s6.setMulticastInterface(-1), RangeError);
  });
});

describe("Dgram: batches (sendmmsg/recvmmsg)", () => {
  test("one call sends and one call receives a batch, with truncation per datagram", () => {
    using r = bindUDPSync("127.0.0.1", 0, { nonBlocking: true });
    using r2 = bindUDPSync("127.0.0.1", 0);
    using s = bindUDPSync("127.0.0.1", 0);
    const port = r.localAddress().port;
    const messages = [0, 1, 2, 3, 4].map((i) => ({ data: enc.encode(`msg-${i}`.repeat(i + 1)), host: "127.0.0.1", port }));
    assert.equal(s.sendBatch([...messages, { data: enc.encode("other"), host: "127.0.0.1", port: r2.localAddress().port }]), 6);
    const buffers = Array.from({ length: 8 }, (_, i) => new Uint8Array(i === 4 ? 6 : 64));
    const got = r.recvBatch(buffers);
    assert.ok(got !== null);
    assert.equal(got.length, 5);
    const sPort = s.localAddress().port;
    got.forEach((d, i) => {
      const expected = `msg-${i}`.repeat(i + 1);
      assert.equal(d.host, "127.0.0.1");
      assert.equal(d.port, sPort);
      assert.equal(d.size, expected.length);
      assert.equal(d.truncated, i === 4);
      assert.equal(text(buffers[i]!, d.bytes), expected.slice(0, d.bytes));
    });
    const buf = new Uint8Array(8);
    assert.equal(r2.recv(buf), 5);
  });

  test("connected batches need no target; IPv6 batches work", () => {
    using r = bindUDPSync("::1", 0);
    using s = bindUDPSync("::1", 0);
    s.connect("::1", r.localAddress().port);
    const data = enc.encode("x");
    assert.equal(s.sendBatch([{ data }, { data }, { data }]), 3);
    const got = r.recvBatch([new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)]);
    assert.deepEqual(got?.map((d) => [d.host, d.bytes]), [["::1", 1], ["::1", 1], ["::1", 1]]);
  });

  test("batch sizes and half targets are checked", () => {
    using s = Dgram.create();
    assert.throws(() => s.sendBatch([]), RangeError);
    assert.throws(() => s.recvBatch([]), RangeError);
    assert.throws(() => s.sendBatch([{ data: new Uint8Array(1), host: "127.0.0.1" }]), TypeError);
    assert.throws(() => s.sendBatch([{ data: "x" as unknown as Uint8Array, host: "127.0.0.1", port: 9 }]), TypeError);
    assert.throws(() => s.recvBatch([{} as Uint8Array]), TypeError);
  });
});

describe("Dgram: lifecycle and bad input", () => {
  test("close is idempotent, use after close throws, fds are CLOEXEC", () => {
    const s = Dgram.create();
    const fd = s.fd;
    assert.ok((libc().fcntl(fd, C.F_GETFD, 0) & C.FD_CLOEXEC) !== 0);
    s.close();
    s.close();
    assert.equal(s.closed, true);
    assert.throws(() => s.fd, UseAfterCloseError);
    assert.throws(() => s.sendTo(new Uint8Array(1), "127.0.0.1", 9), UseAfterCloseError);
    assert.throws(() => s.recv(new Uint8Array(1)), UseAfterCloseError);
    assert.throws(() => s.bind(null, 0), UseAfterCloseError);
  });

  test("bad hosts and ports are TypeError/RangeError; bind conflicts are SocketError", () => {
    using s = Dgram.create();
    assert.throws(() => s.sendTo(new Uint8Array(1), "1.2.3", 9), /1\.2\.3/);
    assert.throws(() => s.sendTo(new Uint8Array(1), "256.1.1.1", 9), TypeError);
    assert.throws(() => s.sendTo(new Uint8Array(1), "::1", 9), /IPv6 address "::1"/);
    assert.throws(() => s.sendTo(new Uint8Array(1), "127.0.0.1", 65536), RangeError);
    assert.throws(() => bindUDPSync("localhost", 0), TypeError);
    assert.throws(() => bindUDPSync("127.0.0.1", -1), RangeError);
    assert.throws(() => Dgram.create("ipx" as "ipv4"), TypeError);
    using a = bindUDPSync("127.0.0.1", 0);
    const port = a.localAddress().port;
    assert.throws(
      () => bindUDPSync("127.0.0.1", port),
      (e: unknown) => isCode("EADDRINUSE")(e) && (e as SocketError).address === `127.0.0.1:${port}`,
    );
  });
});

describe("Dgram: interop with node:dgram", () => {
  test("node:dgram receives our datagrams and we receive its", async () => {
    const peer = createSocket("udp4");
    await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", resolve));
    const peerPort = peer.address().port;
    using ours = bindUDPSync("127.0.0.1", 0, { nonBlocking: true });
    const ourPort = ours.localAddress().port;
    try {
      const heard = new Promise<{ msg: string; port: number }>((resolve) =>
        peer.once("message", (msg, rinfo) => resolve({ msg: msg.toString(), port: rinfo.port }))
      );
      ours.sendTo(enc.encode("to node"), "127.0.0.1", peerPort);
      assert.deepEqual(await heard, { msg: "to node", port: ourPort });

      await new Promise<void>((resolve, reject) =>
        peer.send("from node", ourPort, "127.0.0.1", (err) => (err ? reject(err) : resolve()))
      );
      const buf = new Uint8Array(32);
      let d = ours.recvFrom(buf);
      // The runtime may hand the datagram to the kernel after the callback; yield a bounded number of times.
      for (let i = 0; i < 1000 && d === null; i++) {
        await new Promise((r) => setTimeout(r, 1));
        d = ours.recvFrom(buf);
      }
      assert.ok(d !== null);
      assert.equal(text(buf, d.bytes), "from node");
      assert.equal(d.port, peerPort);
    } finally {
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  });
});
