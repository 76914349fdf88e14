import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SocketError, UseAfterCloseError } from "../core/errors.ts";
import { Dgram } from "../socket/dgram.ts";
import { Loop } from "./loop.ts";
import { adoptUDP, bindUDP, UDP_LIMITS } from "./udp.ts";
import { ADOPT_UDP_OPTION_KEYS, BIND_UDP_OPTION_KEYS } from "./udp_options.ts";

const unknownKey = (key: string) => (e: unknown) => e instanceof TypeError && e.message.includes(`unknown option "${key}"`);

describe("bindUDP options", () => {
  test("an unknown key is a TypeError naming it, before any socket exists", () => {
    assert.throws(() => bindUDP({ host: "127.0.0.1", prot: 0 } as never), unknownKey("prot"));
    assert.throws(() => bindUDP({ host: "127.0.0.1", reuseAddr: true } as never), unknownKey("reuseAddr"));
    assert.throws(() => bindUDP({ connect: { host: "127.0.0.1", port: 9, signal: null } } as never), unknownKey("signal"));
    assert.throws(() => bindUDP("127.0.0.1" as never), /options must be an object/);
    const dgram = Dgram.create("ipv4");
    try {
      // adoptUDP takes only what does not set the socket up.
      assert.throws(() => adoptUDP(dgram, { port: 0 } as never), unknownKey("port"));
    } finally {
      dgram.close();
    }
  });

  test("the key sets come from one list: every documented option, and adopt's are a subset", () => {
    assert.deepEqual([...BIND_UDP_OPTION_KEYS].sort(), [
      "broadcast", "connect", "copy", "family", "handler", "host", "ipv6Only", "loop", "maxDatagramBytes",
      "maxPendingSends", "maxQueuedDatagrams", "multicastGroups", "multicastInterface", "multicastLoopback",
      "multicastTTL", "port", "recvBufferBytes", "reuseAddress", "reusePort", "sendBufferBytes", "ttl",
    ]);
    for (const key of ADOPT_UDP_OPTION_KEYS) assert.ok(BIND_UDP_OPTION_KEYS.has(key), key);
  });

  test("bad bounds, handlers and families are typed errors", () => {
    assert.throws(() => bindUDP({ maxDatagramBytes: 0 }), RangeError);
    assert.throws(() => bindUDP({ maxDatagramBytes: 65536 }), RangeError);
    assert.throws(() => bindUDP({ maxQueuedDatagrams: 1.5 }), RangeError);
    assert.throws(() => bindUDP({ maxPendingSends: -1 }), RangeError);
    assert.throws(() => bindUDP({ handler: {} as never }), /message/);
    assert.throws(() => bindUDP({ host: "::1", family: "ipv4" }), /does not match/);
    assert.throws(() => bindUDP({ host: "localhost" }), TypeError);
    assert.throws(() => bindUDP({ port: 70000 }), RangeError);
    assert.throws(() => bindUDP({ host: "127.0.0.1", ipv6Only: true }), TypeError);
    assert.throws(() => bindUDP({ ttl: 0 }), RangeError);
    assert.throws(() => bindUDP({ host: "127.0.0.1", copy: "yes" as unknown as boolean }), /copy must be a boolean/);
  });

  test("a port in use is a SocketError EADDRINUSE, and the socket made for it is closed", () => {
    using a = bindUDP({ host: "127.0.0.1" });
    assert.throws(() => bindUDP({ host: "127.0.0.1", port: a.port }), (e: unknown) => e instanceof SocketError && e.code === "EADDRINUSE");
  });

  test("defaults, addresses and socket options", () => {
    using a = bindUDP({ host: "127.0.0.1", broadcast: true, ttl: 7, recvBufferBytes: 1 << 16, multicastTTL: 3, multicastLoopback: false });
    assert.equal(a.family, "ipv4");
    assert.equal(a.localAddress.host, "127.0.0.1");
    assert.equal(a.localAddress.family, "ipv4");
    assert.ok(a.port > 0);
    assert.equal(a.remoteAddress, null);
    assert.equal(a.maxDatagramBytes, UDP_LIMITS.maxDatagramBytes);
    assert.equal(a.maxQueuedDatagrams, UDP_LIMITS.maxQueuedDatagrams);
    assert.equal(a.maxPendingSends, UDP_LIMITS.maxPendingSends);
    assert.equal(a.dgram.getBroadcast(), true);
    assert.equal(a.dgram.getTTL(), 7);
    assert.equal(a.dgram.getMulticastTTL(), 3);
    assert.equal(a.dgram.getMulticastLoopback(), false);
    assert.ok(a.dgram.nonBlocking);
    using b = bindUDP({ connect: { host: "::1", port: a.port } });
    assert.equal(b.family, "ipv6"); // from the connect target
    assert.deepEqual(b.remoteAddress, { family: "ipv6", host: "::1", port: a.port });
    using any6 = bindUDP({ family: "ipv6", ipv6Only: false });
    assert.equal(any6.localAddress.host, "::");
  });
});

describe("UdpSocket after close", () => {
  test("send rejects and trySend throws UseAfterCloseError; recv gives null; close is idempotent", async () => {
    const closes: number[] = [];
    const s = bindUDP({ host: "127.0.0.1" });
    const h = bindUDP({ host: "127.0.0.1", handler: { message: () => {}, close: () => closes.push(1) } });
    s.close();
    s.close();
    h.close();
    h.close();
    assert.deepEqual(closes, [1]);
    assert.ok(s.closed);
    assert.equal(s.hasRef(), false);
    await assert.rejects(s.send(new Uint8Array(1), { host: "127.0.0.1", port: 9 }), UseAfterCloseError);
    await assert.rejects(s.sendBatch([{ data: new Uint8Array(1), host: "127.0.0.1", port: 9 }]), UseAfterCloseError);
    assert.throws(() => s.trySend(new Uint8Array(1), { host: "127.0.0.1", port: 9 }), UseAfterCloseError);
    assert.equal(await s.recv(), null);
    assert.equal(await s.recvBatch(), null);
    assert.throws(() => s.dgram.fd, UseAfterCloseError);
    assert.match(String(s), /closed/);
  });

  test("closing the loop closes its sockets: waiting recvs give null", async () => {
    const loop = new Loop();
    const s = bindUDP({ host: "127.0.0.1", loop });
    const waiting = s.recv();
    loop.close();
    assert.equal(await waiting, null);
    assert.ok(s.closed);
  });

  test("bad send arguments reject with TypeError; recv in handler mode is a TypeError", async () => {
    using s = bindUDP({ host: "127.0.0.1" });
    await assert.rejects(s.send("text" as never, { host: "127.0.0.1", port: 9 }), TypeError);
    await assert.rejects(s.send(new Uint8Array(1), { host: "example.com", port: 9 }), TypeError);
    await assert.rejects(s.sendBatch([]), TypeError);
    await assert.rejects(s.sendBatch([{ data: new Uint8Array(1), host: "127.0.0.1" }]), /not both/);
    await assert.rejects(s.recvBatch({ max: 0 }), RangeError);
    // Unconnected, no target: the kernel's EDESTADDRREQ as a SocketError.
    await assert.rejects(s.send(new Uint8Array(1)), (e: unknown) => e instanceof SocketError && e.code === "EDESTADDRREQ");
    using h = bindUDP({ host: "127.0.0.1", handler: { message: () => {} } });
    await assert.rejects(h.recv(), TypeError);
  });
});
