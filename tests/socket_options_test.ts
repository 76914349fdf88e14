import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connectTCPSync, listenTCPSync, Socket } from "../socket/mod.ts";

describe("Socket options round trips", () => {
  test("socket-level and TCP options", () => {
    using s = Socket.create("ipv4");
    const o = s.options;
    for (const name of ["reuseAddress", "reusePort", "noDelay", "keepAlive", "cork", "fastOpenConnect"] as const) {
      o[name] = true;
      assert.equal(o[name], true, name);
      o[name] = false;
      assert.equal(o[name], false, name);
    }
    o.setKeepAlive({ idleSec: 30, intervalSec: 5, count: 4 });
    assert.equal(o.keepAlive, true);
    assert.deepEqual(o.getKeepAlive(), { idleSec: 30, intervalSec: 5, count: 4 });
    o.receiveBufferSize = 32768;
    assert.ok(o.receiveBufferSize >= 32768);
    o.sendBufferSize = 32768;
    assert.ok(o.sendBufferSize >= 32768);
    assert.equal(o.linger, null);
    o.linger = 5;
    assert.equal(o.linger, 5);
    o.linger = null;
    assert.equal(o.linger, null);
    o.userTimeoutMs = 1234;
    assert.equal(o.userTimeoutMs, 1234);
    assert.ok(o.congestion.length > 0);
    o.congestion = "reno";
    assert.equal(o.congestion, "reno");
    o.ttl = 42;
    assert.equal(o.ttl, 42);
    assert.equal(o.nonBlocking, false);
    o.nonBlocking = true;
    assert.equal(o.nonBlocking, true);
    assert.equal(s.nonBlocking, true);
    assert.equal(o.closeOnExec, true);
    o.closeOnExec = false;
    assert.equal(o.closeOnExec, false);
    o.closeOnExec = true;
  });

  test("listener options: fast open and defer accept", () => {
    using l = Socket.create("ipv4");
    l.bind("127.0.0.1", 0);
    l.options.fastOpen = 16;
    l.options.deferAcceptSec = 5;
    l.listen();
    assert.equal(l.options.fastOpen, 16);
    assert.ok(l.options.deferAcceptSec >= 5);
    l.options.deferAcceptSec = 0;
    assert.equal(l.options.deferAcceptSec, 0);
  });

  test("IPv6 options: v6Only and hop limit", () => {
    using s = Socket.create("ipv6");
    s.options.v6Only = true;
    assert.equal(s.options.v6Only, true);
    s.options.v6Only = false;
    assert.equal(s.options.v6Only, false);
    s.options.ttl = 7;
    assert.equal(s.options.ttl, 7);
    using v4 = Socket.create("ipv4");
    assert.throws(() => v4.options.v6Only, TypeError);
  });

  test("options on accepted connections", () => {
    using server = listenTCPSync("127.0.0.1", 0);
    const addr = server.localAddress();
    using client = connectTCPSync("127.0.0.1", addr.family === "unix" ? 0 : addr.port, 1000);
    using peer = server.acceptTimeout(1000)!;
    peer.options.noDelay = true;
    assert.equal(peer.options.noDelay, true);
    assert.equal(peer.options.nonBlocking, true);
    assert.equal(client.options.nonBlocking, false);
  });

  test("invalid values throw TypeError/RangeError naming them", () => {
    using s = Socket.create("ipv4");
    const o = s.options;
    assert.throws(() => { o.noDelay = 1 as unknown as boolean; }, /noDelay must be a boolean, got 1/);
    assert.throws(() => { o.ttl = 0; }, /ttl must be an integer 1–255, got 0/);
    assert.throws(() => { o.ttl = 256; }, RangeError);
    assert.throws(() => { o.linger = -1; }, RangeError);
    assert.throws(() => { o.receiveBufferSize = 1.5; }, RangeError);
    assert.throws(() => { o.congestion = "no such algo"; }, TypeError);
    assert.throws(() => o.setKeepAlive({ idleSec: 0, intervalSec: 1, count: 1 }), RangeError);
    assert.throws(() => { o.congestion = "nosuchcc"; }, (e: unknown) => e instanceof Error && (e as { code?: string }).code === "ENOENT");
  });
});
