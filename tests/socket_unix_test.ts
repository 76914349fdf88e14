import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { SocketClosedError, SocketError, SocketTimeoutError } from "../core/errors.ts";
import { connectUnix } from "../poll/connect.ts";
import { listenUnix } from "../poll/listener.ts";
import { connectUnixSync, listenUnixSync, Socket, socketPair } from "../socket/mod.ts";
import { HelperThread } from "./socket_fixture_thread.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const uniqueName = (tag: string): string => `@ffinet-${tag}-${process.pid}-${Math.random().toString(36).slice(2)}`;

/**
 * Connects non-blocking clients to `path` until the listener's backlog is
 * full (the kernel answers EAGAIN); returns them, to close afterwards.
 */
function fillBacklog(path: string): Socket[] {
  const queued: Socket[] = [];
  for (let i = 0; i < 64; i++) {
    const s = Socket.create("unix", "stream", { nonBlocking: true });
    try {
      s.connectNonBlocking(path);
    } catch (err) {
      s.close();
      assert.ok(err instanceof SocketError && err.code === "EAGAIN", `expected EAGAIN, got ${String(err)}`);
      return queued;
    }
    queued.push(s);
  }
  for (const s of queued) s.close();
  throw new Error("the backlog never filled");
}

describe("Socket over Unix domain", () => {
  test("filesystem path: listen, connect, exchange, addresses", () => {
    const dir = mkdtempSync(join(tmpdir(), "ffinet-unix-"));
    const path = join(dir, "s.sock");
    try {
      using server = listenUnixSync(path, 8);
      assert.ok(existsSync(path));
      assert.deepEqual(server.localAddress(), { family: "unix", path });
      using client = connectUnixSync(path, 1000);
      using peer = server.acceptTimeout(1000, { nonBlocking: false })!;
      assert.deepEqual(client.remoteAddress(), { family: "unix", path });
      assert.deepEqual(peer.localAddress(), { family: "unix", path });
      assert.deepEqual(client.localAddress(), { family: "unix", path: "" }); // unnamed
      client.sendAll(text("hello"));
      const buf = new Uint8Array(5);
      peer.recvAll(buf);
      assert.equal(new TextDecoder().decode(buf), "hello");
      assert.equal(peer.options.closeOnExec, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Linux abstract names", () => {
    const name = `@ffinet-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    using server = listenUnixSync(name);
    assert.deepEqual(server.localAddress(), { family: "unix", path: name });
    using client = connectUnixSync(name, 1000);
    using peer = server.acceptTimeout(1000)!;
    assert.deepEqual(client.remoteAddress(), { family: "unix", path: name });
    peer.sendAll(text("abc"));
    const buf = new Uint8Array(3);
    client.recvAll(buf);
    assert.deepEqual(buf, text("abc"));
  });

  test("connecting to a missing path is a SocketError (ENOENT)", () => {
    assert.throws(() => connectUnixSync("/nonexistent/ffinet.sock", 100), (e: unknown) =>
      e instanceof Error && (e as { code?: string }).code === "ENOENT");
  });

  test("connectUnixSync to a full backlog waits up to its timeout, then SocketTimeoutError", () => {
    const name = uniqueName("full");
    using server = listenUnixSync(name, 0);
    const queued = fillBacklog(name);
    try {
      const started = performance.now();
      assert.throws(() => connectUnixSync(name, 200), SocketTimeoutError);
      const took = performance.now() - started;
      assert.ok(took >= 150, `gave up after ${took.toFixed(1)} ms`);
      // Once there is room, the same call connects.
      server.accept()?.close();
      using client = connectUnixSync(name, 1000);
      assert.ok(client.isConnected());
    } finally {
      for (const s of queued) s.close();
    }
  });

  test("connectUnixSync to a full backlog connects once the listener accepts", async () => {
    const name = uniqueName("later");
    using server = listenUnixSync(name, 0);
    const helper = await HelperThread.start();
    const queued = fillBacklog(name);
    try {
      const accepted = helper.after(100, "accept", server.fd);
      const started = performance.now();
      using client = connectUnixSync(name, 5000);
      const took = performance.now() - started;
      assert.ok(client.isConnected());
      assert.ok(took >= 50, `connected after ${took.toFixed(1)} ms, before the listener accepted`);
      assert.equal(await accepted, true);
    } finally {
      await helper.close();
      for (const s of queued) s.close();
    }
  });

  test("seqpacket keeps message boundaries", () => {
    const [a, b] = socketPair("seqpacket");
    try {
      assert.equal(a.type, "seqpacket");
      a.send(text("one"));
      a.send(text("three"));
      const buf = new Uint8Array(100);
      assert.equal(b.recv(buf), 3);
      assert.equal(b.recv(buf), 5);
      a.close();
      assert.equal(b.recv(buf), 0);
    } finally {
      a.close();
      b.close();
    }
  });

  test("seqpacket listener and client", () => {
    const name = `@ffinet-seq-${process.pid}-${Math.random().toString(36).slice(2)}`;
    using server = listenUnixSync(name, 4, "seqpacket");
    using client = connectUnixSync(name, 1000, "seqpacket");
    using peer = server.acceptTimeout(1000, { nonBlocking: false })!;
    assert.equal(peer.type, "seqpacket");
    client.send(text("m1"));
    const buf = new Uint8Array(10);
    assert.equal(peer.recv(buf), 2);
  });

  test("stream pair: peer gone raises SocketClosedError on send and recvAll", () => {
    const [a, b] = socketPair();
    a.close();
    assert.throws(() => b.sendAll(text("x")), SocketClosedError);
    assert.throws(() => b.recvAll(new Uint8Array(1)), SocketClosedError);
    b.close();
    assert.throws(() => Socket.pair("dgram" as "stream"), TypeError);
  });
});

describe("async Unix listeners and their socket files", () => {
  test("a stale socket file is EADDRINUSE to listen and ECONNREFUSED to connect; a listener removes its own file on close, so the path listens again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffinet-unix-stale-"));
    const path = join(dir, "s.sock");
    try {
      // A process that died leaves its file: the blocking socket closes without removing it.
      listenUnixSync(path).close();
      assert.ok(existsSync(path));
      await assert.rejects(connectUnix({ path }), (e) => e instanceof SocketError && e.code === "ECONNREFUSED");
      assert.throws(() => listenUnix({ path }), (e) => e instanceof SocketError && e.code === "EADDRINUSE");
      rmSync(path);
      for (let round = 0; round < 2; round++) {
        const server = listenUnix({ path, handler: { data: (c, d) => void c.write(d.slice()) } });
        assert.ok(existsSync(path));
        const client = await connectUnix({ path });
        await client.write(text("ping"));
        assert.deepEqual(await client.readExactly(4), text("ping"));
        await client.close();
        await server[Symbol.asyncDispose]();
        assert.equal(existsSync(path), false, `round ${round}: the listener left its socket file`);
      }
      // An abstract name has no file; closing it touches none.
      const name = uniqueName("async");
      const abstract = listenUnix({ path: name });
      abstract.close();
      listenUnix({ path: name }).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("path \"\": Linux picks a unique abstract name (autobind), read from address; \"@name\" and \"\" make and remove no file; a leading NUL is a TypeError naming \"@name\"", async () => {
    const auto = listenUnix({ path: "", handler: { data: (c, d) => void c.write(d.slice()) } });
    const path = (auto.address as { path: string }).path;
    assert.match(path, /^@[0-9a-f]{5}$/);
    const client = await connectUnix({ path });
    await client.write(text("auto"));
    assert.deepEqual(await client.readExactly(4), text("auto"));
    await client.close();
    await auto[Symbol.asyncDispose]();
    await assert.rejects(connectUnix({ path }), (e) => e instanceof SocketError && e.code === "ECONNREFUSED");

    // Closing a listener on "@name" must not unlink the relative path "@name" (a file of that name here).
    const name = uniqueName("nofile");
    writeFileSync(name, "not the listener's");
    try {
      const abstract = listenUnix({ path: name });
      await abstract[Symbol.asyncDispose]();
      assert.equal(readFileSync(name, "utf8"), "not the listener's");
    } finally {
      rmSync(name, { force: true });
    }

    for (const bad of ["\0ffinet-nul", "a\0b"]) {
      assert.throws(() => listenUnix({ path: bad }), (e) => e instanceof TypeError && /NUL/.test(e.message));
      await assert.rejects(connectUnix({ path: bad }), TypeError);
    }
    assert.throws(() => listenUnix({ path: "\0ffinet-nul" }), (e) => e instanceof TypeError && e.message.includes('write "@ffinet-nul"'));
  });

  test("a path past sun_path (108 bytes with its NUL) is a RangeError before any socket; an abstract name alike", async () => {
    const long = `/tmp/${"x".repeat(103)}`; // 108 bytes: no room for the NUL
    assert.throws(() => listenUnix({ path: long }), RangeError);
    await assert.rejects(connectUnix({ path: long }), RangeError);
    assert.throws(() => listenUnixSync(long), RangeError);
    assert.throws(() => listenUnix({ path: `@${"y".repeat(108)}` }), RangeError);
    const fits = `@${"z".repeat(105)}-${process.pid % 10}`; // 107 bytes after the leading NUL: sun_path exactly
    listenUnix({ path: fits }).close();
  });

  test("a listener closing after another took its path over (a restart) leaves the new socket file; a file put there is kept too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffinet-unix-takeover-"));
    const path = join(dir, "s.sock");
    const listeners: Array<ReturnType<typeof listenUnix>> = [];
    try {
      const old = listenUnix({ path });
      listeners.push(old);
      // The new server removes the path and listens while the old one drains.
      rmSync(path);
      const next = listenUnix({ path, handler: { data: (c, d) => void c.write(d.slice()) } });
      listeners.push(next);
      await old[Symbol.asyncDispose]();
      assert.ok(existsSync(path), "the old listener removed the new one's socket file");
      const client = await connectUnix({ path });
      await client.write(text("ping"));
      assert.deepEqual(await client.readExactly(4), text("ping"));
      await client.close();
      await next[Symbol.asyncDispose]();
      assert.equal(existsSync(path), false, "a listener still removes its own file");
      // A regular file in its place is not the listener's to remove.
      const third = listenUnix({ path });
      listeners.push(third);
      rmSync(path);
      writeFileSync(path, "someone else's");
      third.close();
      assert.equal(readFileSync(path, "utf8"), "someone else's");
    } finally {
      for (const l of listeners) l.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
