// Socket methods over the descriptor-level helpers: fd passing, peer
// credentials, sendfile, splice and dup, each on a Socket's own descriptor.
import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import { SocketClosedError, SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { cString } from "../ffi/marshal.ts";
import { C } from "../ffi/platform.ts";
import { connectTCPSync, listenTCPSync, Socket, type SocketAddress, socketPair } from "../socket/mod.ts";
import { HelperThread } from "./socket_fixture_thread.ts";
import { kernelTimeout } from "./socket_helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ffinet-methods-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const portOf = (a: SocketAddress): number => (a.family === "unix" ? -1 : a.port);

function tcpPair(): [Socket, Socket, Socket] {
  const server = listenTCPSync("127.0.0.1", 0);
  const client = connectTCPSync("127.0.0.1", portOf(server.localAddress()), 2000);
  const peer = server.acceptTimeout(2000, { nonBlocking: false });
  assert.ok(peer !== null);
  return [client, peer, server];
}

function writeFile(name: string, data: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

function openRead(path: string): number {
  const fd = libc().open(cString(path), C.O_RDONLY | C.O_CLOEXEC, 0);
  assert.ok(fd >= 0);
  return fd;
}

function readFd(fd: number): string {
  const buf = new Uint8Array(4096);
  const n = libc().read(fd, buf, buf.length);
  assert.ok(n >= 0);
  return new TextDecoder().decode(buf.subarray(0, n));
}

const isCloexec = (fd: number): boolean => (libc().fcntl(fd, C.F_GETFD, 0) & C.FD_CLOEXEC) !== 0;
/**
 * How many of this process's descriptors refer to `path` (/proc/self/fd):
 * a count of the process's descriptors as a whole moves with whatever else
 * the runtime opens or closes meanwhile.
 */
function openCountOf(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe("Socket: descriptor passing and credentials", () => {
  test("sendFd/recvFd: the received descriptor reads the file, is CLOEXEC, and counts in the statistics", () => {
    const [a, b] = socketPair();
    const file = openRead(writeFile("passed.txt", "read through a passed descriptor"));
    try {
      assert.equal(a.sendFd(file), 1);
      const got = b.recvFd();
      assert.ok(got !== null && got >= 0);
      assert.notEqual(got, file);
      assert.ok(isCloexec(got));
      assert.equal(readFd(got), "read through a passed descriptor");
      b.closeReceivedFd(got);
      assert.equal(a.stats().bytesSent, 1);
      assert.equal(b.stats().bytesReceived, 1);
    } finally {
      libc().close(file);
      a.close();
      b.close();
    }
  });

  test("sendFds/recvFds: payload, limit (extras closed, never leaked) and non-blocking null", () => {
    const [a, b] = socketPair("stream", { nonBlocking: true });
    const paths = ["f0", "f1", "f2", "f3"].map((n) => writeFile(n, n));
    const files = paths.map(openRead);
    const counts = () => paths.map(openCountOf);
    try {
      assert.equal(b.recvFds(), null);
      assert.deepEqual(counts(), [1, 1, 1, 1]);
      assert.equal(a.sendFds(files, text("four")), 4);
      const buf = new Uint8Array(16);
      const msg = b.recvFds({ maxFds: 2, buffer: buf });
      assert.ok(msg !== null);
      assert.equal(msg.bytes, 4);
      assert.equal(new TextDecoder().decode(buf.subarray(0, 4)), "four");
      assert.equal(msg.fds.length, 2);
      assert.equal(msg.fdsTruncated, true);
      assert.deepEqual(msg.fds.map(readFd), ["f0", "f1"]);
      assert.deepEqual(counts(), [2, 2, 1, 1], "the two extra descriptors were closed");
      for (const fd of msg.fds) b.closeReceivedFd(fd);
      assert.deepEqual(counts(), [1, 1, 1, 1]);
    } finally {
      for (const fd of files) libc().close(fd);
      a.close();
      b.close();
    }
  });

  test("sendFds on a full non-blocking socket returns 0 like send, and counts no error", () => {
    const [a, b] = socketPair("stream", { nonBlocking: true });
    try {
      a.options.sendBufferSize = 4096;
      while (a.send(new Uint8Array(65536)) > 0);
      const stdin = readlinkSync("/proc/self/fd/0");
      const before = openCountOf(stdin);
      assert.equal(a.sendFd(0), 0);
      assert.equal(a.stats().sendErrors, 0);
      // Nothing went out: once drained, the stream holds no descriptor.
      const drain = new Uint8Array(1 << 20);
      while ((b.recv(drain) ?? 0) > 0);
      assert.equal(b.recvFds(), null);
      assert.equal(openCountOf(stdin), before);
    } finally {
      a.close();
      b.close();
    }
  });

  test("seqpacket: one message per descriptor batch", () => {
    const [a, b] = socketPair("seqpacket");
    const file = openRead(writeFile("seq.txt", "seq"));
    try {
      a.sendFd(file, text("first"));
      a.send(text("second"));
      const buf = new Uint8Array(64);
      const msg = b.recvFds({ buffer: buf });
      assert.equal(msg?.bytes, 5);
      assert.equal(msg?.fds.length, 1);
      b.closeReceivedFd(msg!.fds[0]!);
      assert.equal(b.recv(buf), 6);
    } finally {
      libc().close(file);
      a.close();
      b.close();
    }
  });

  test("recvFd: the receive timeout applies; a closed peer is SocketClosedError", () => {
    const [a, b] = socketPair();
    b.setTimeouts({ recvMs: 20 });
    assert.throws(() => b.recvFd(), SocketTimeoutError);
    a.close();
    assert.throws(() => b.recvFd(), SocketClosedError);
    b.close();
    assert.throws(() => b.recvFd(), UseAfterCloseError);
  });

  test("recvFds: bad options are a RangeError at once, not after the receive timeout", () => {
    const [a, b] = socketPair();
    try {
      b.setTimeouts({ recvMs: 2000 });
      const started = performance.now();
      assert.throws(() => b.recvFds({ maxFds: 0 }), RangeError);
      assert.throws(() => b.recvFds({ buffer: new Uint8Array(0) }), RangeError);
      assert.ok(performance.now() - started < 1000, "no wait before the arguments are checked");
      assert.equal(b.stats().recvErrors, 0);
    } finally {
      a.close();
      b.close();
    }
  });

  test("sendFd: a blocking socket honours its send timeout", () => {
    const [a, b] = socketPair();
    try {
      a.options.sendBufferSize = 4096;
      kernelTimeout(a.fd, C.SO_SNDTIMEO, 3000);
      a.setTimeouts({ sendMs: 100 });
      assert.ok(a.sendAllTimeout(new Uint8Array(1 << 20), 100) < 1 << 20, "the send buffer must fill");
      const started = performance.now();
      assert.throws(() => a.sendFd(0), SocketTimeoutError);
      const took = performance.now() - started;
      assert.ok(took < 2000, `took ${took} ms`);
      // With room again, the descriptor goes out.
      const drain = new Uint8Array(1 << 20);
      b.options.nonBlocking = true;
      while ((b.recv(drain) ?? 0) > 0);
      assert.equal(a.sendFd(0, text("fd")), 2);
      const got = new Uint8Array(2);
      const msg = b.recvFds({ buffer: got });
      assert.equal(msg?.fds.length, 1);
      b.closeReceivedFd(msg!.fds[0]!);
      assert.equal(new TextDecoder().decode(got), "fd");
    } finally {
      a.close();
      b.close();
    }
  });

  test("a rejected argument leaves fd passing working (TypeError, native memory intact)", () => {
    const [a, b] = socketPair();
    try {
      assert.throws(() => b.recvFds({ buffer: "x" as unknown as Uint8Array }), TypeError);
      assert.throws(() => a.sendFds("12" as unknown as number[]), TypeError);
      assert.equal(a.sendFd(0), 1);
      const fd = b.recvFd();
      assert.ok(fd !== null && fd >= 0);
      b.closeReceivedFd(fd);
    } finally {
      a.close();
      b.close();
    }
  });

  test("peerCredentials: our own pid, uid and gid, on a pair and on an accepted connection", () => {
    const [a, b] = socketPair();
    try {
      assert.deepEqual(a.peerCredentials(), { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    } finally {
      a.close();
      b.close();
    }
    const name = `@ffinet-cred-${process.pid}-${Math.random().toString(36).slice(2)}`;
    using server = Socket.create("unix");
    server.bind(name);
    server.listen();
    using client = Socket.create("unix");
    client.connect(name);
    using peer = server.acceptTimeout(1000)!;
    assert.equal(peer.peerCredentials().pid, process.pid);
    assert.equal(client.peerCredentials().uid, process.getuid!());
  });

  test("fd passing and credentials need a Unix socket; bad descriptors are RangeErrors", () => {
    using tcp = Socket.create("ipv4");
    assert.throws(() => tcp.sendFd(0), /needs a Unix-domain socket/);
    assert.throws(() => tcp.recvFds(), TypeError);
    assert.throws(() => tcp.peerCredentials(), TypeError);
    const [a, b] = socketPair();
    try {
      assert.throws(() => a.sendFd(-1), RangeError);
      assert.throws(() => a.sendFds([]), RangeError);
      assert.throws(() => b.recvFds({ maxFds: 0 }), RangeError);
      assert.throws(() => a.closeReceivedFd(a.fd), RangeError);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("Socket: sendfile, splice and dup", () => {
  test("sendfileAll of 8 MiB by path, checksum at the far end; sendfile of a range", () => {
    const data = new Uint8Array(8 * 1024 * 1024);
    randomFillSync(data);
    const path = writeFile("eight.bin", data);
    const [client, peer, server] = tcpPair();
    try {
      client.setTimeouts({ sendMs: 1 }); // every wait is short: the reader must keep up
      peer.options.nonBlocking = true;
      client.options.nonBlocking = true;
      const hash = createHash("sha256");
      const buf = new Uint8Array(256 * 1024);
      const file = openRead(path);
      let sent = 0;
      let received = 0;
      for (let round = 0; round < 1_000_000 && received < data.length; round++) {
        while (sent < data.length) {
          const n = client.sendfile(file, sent, data.length - sent);
          if (n === null) break;
          sent += n;
        }
        for (;;) {
          const n = peer.recv(buf);
          if (n === null || n === 0) break;
          hash.update(buf.subarray(0, n));
          received += n;
        }
      }
      libc().close(file);
      assert.equal(received, data.length);
      assert.equal(hash.digest("hex"), createHash("sha256").update(data).digest("hex"));
      assert.equal(client.stats().bytesSent, data.length);
      // A range, then a timeout while nobody reads.
      const small = writeFile("digits.txt", "0123456789");
      client.options.nonBlocking = false;
      client.clearTimeouts();
      assert.equal(client.sendfileAll(small, { offset: 2, count: 5 }), 5);
      peer.options.nonBlocking = false;
      const got = new Uint8Array(5);
      peer.recvAll(got);
      assert.equal(new TextDecoder().decode(got), "23456");
      client.options.nonBlocking = true;
      client.options.sendBufferSize = 4096;
      assert.throws(() => client.sendfileAll(path, { timeoutMs: 20 }), SocketTimeoutError);
    } finally {
      client.close();
      peer.close();
      server.close();
    }
  });

  test("spliceTo moves bytes between two TCP connections inside the kernel", () => {
    const [srcClient, srcPeer, srcServer] = tcpPair();
    const [dstClient, dstPeer, dstServer] = tcpPair();
    try {
      const chunk = new Uint8Array(60 * 1024);
      randomFillSync(chunk);
      srcClient.sendAll(chunk);
      assert.equal(srcPeer.spliceTo(dstClient, chunk.length, 2000), chunk.length);
      const got = new Uint8Array(chunk.length);
      dstPeer.recvAll(got);
      assert.deepEqual(got, chunk);
      // Until end of stream.
      srcClient.sendAll(chunk.subarray(0, 1000));
      srcClient.shutdown("write");
      assert.equal(srcPeer.spliceTo(dstClient), 1000);
      dstPeer.recvAll(got.subarray(0, 1000));
      assert.deepEqual(got.subarray(0, 1000), chunk.subarray(0, 1000));
      assert.equal(srcPeer.stats().bytesReceived, chunk.length + 1000);
      assert.equal(dstClient.stats().bytesSent, chunk.length + 1000);
      assert.throws(() => srcPeer.spliceTo(3 as unknown as Socket), TypeError);
    } finally {
      for (const s of [srcClient, srcPeer, srcServer, dstClient, dstPeer, dstServer]) s.close();
    }
  });

  test("sendfileAll and spliceTo with a timeout never block in the kernel on blocking sockets", () => {
    const path = writeFile("stuck.bin", new Uint8Array(8 * 1024 * 1024));
    const [a, b] = socketPair();
    const [src, from] = socketPair();
    const [c, d] = socketPair();
    try {
      // sendfileAll: the send timeout bounds each wait; nobody reads.
      a.options.sendBufferSize = 4096;
      kernelTimeout(a.fd, C.SO_SNDTIMEO, 3000);
      a.setTimeouts({ sendMs: 100 });
      let started = performance.now();
      assert.throws(() => a.sendfileAll(path), SocketTimeoutError);
      let took = performance.now() - started;
      assert.ok(took < 2000, `sendfileAll took ${took} ms`);
      assert.equal(a.options.nonBlocking, false, "the blocking mode is restored");
      // spliceTo: nothing arrives on the source.
      kernelTimeout(from.fd, C.SO_RCVTIMEO, 3000);
      started = performance.now();
      assert.throws(() => from.spliceTo(c, 100, 100), SocketTimeoutError);
      took = performance.now() - started;
      assert.ok(took < 2000, `spliceTo took ${took} ms`);
      assert.equal(from.options.nonBlocking, false);
      assert.equal(c.options.nonBlocking, false);
      // Data that is there still moves.
      src.sendAll(text("spliced"));
      assert.equal(from.spliceTo(c, 7, 1000), 7);
      const got = new Uint8Array(7);
      d.recvAll(got);
      assert.equal(new TextDecoder().decode(got), "spliced");
    } finally {
      for (const s of [a, b, src, from, c, d]) s.close();
    }
  });

  test("a timed-out sendfileAll or spliceTo says how much went through, and the statistics count it", () => {
    const path = writeFile("partial.bin", new Uint8Array(8 * 1024 * 1024));
    const [a, b] = socketPair();
    const [src, from] = socketPair();
    const [c, d] = socketPair();
    try {
      // sendfileAll: the kernel takes a buffer's worth, then nobody reads.
      a.options.sendBufferSize = 4096;
      let error: SocketTimeoutError | undefined;
      try {
        a.sendfileAll(path, { timeoutMs: 50 });
      } catch (err) {
        error = err as SocketTimeoutError;
      }
      assert.ok(error instanceof SocketTimeoutError, String(error));
      // Read what arrived: it is what the error says, and what the statistics say.
      b.options.nonBlocking = true;
      const buf = new Uint8Array(1 << 20);
      let arrived = 0;
      for (let n = b.recv(buf); n !== null && n > 0; n = b.recv(buf)) arrived += n;
      assert.ok(arrived > 0, "some bytes went out before the timeout");
      assert.equal(error.transferred, arrived);
      assert.equal(a.stats().bytesSent, arrived);
      // spliceTo: 1000 bytes move, then the source goes quiet before the count.
      src.sendAll(new Uint8Array(1000).fill(9));
      let spliceError: SocketTimeoutError | undefined;
      try {
        from.spliceTo(c, 5000, 50);
      } catch (err) {
        spliceError = err as SocketTimeoutError;
      }
      assert.ok(spliceError instanceof SocketTimeoutError, String(spliceError));
      assert.equal(spliceError.transferred, 1000);
      assert.equal(from.stats().bytesReceived, 1000);
      assert.equal(c.stats().bytesSent, 1000);
      const got = new Uint8Array(1000);
      d.recvAll(got);
      assert.ok(got.every((x) => x === 9));
    } finally {
      for (const s of [a, b, src, from, c, d]) s.close();
    }
  });

  test("sendfile: one call on a blocking socket honours its send timeout", async () => {
    const file = openRead(writeFile("one-call.bin", new Uint8Array(1 << 20)));
    const [a, b] = socketPair();
    const helper = await HelperThread.start();
    try {
      a.options.sendBufferSize = 4096;
      kernelTimeout(a.fd, C.SO_SNDTIMEO, 3000);
      a.setTimeouts({ sendMs: 100 });
      assert.ok(a.sendAllTimeout(new Uint8Array(1 << 20), 100) < 1 << 20, "the send buffer must fill");
      let started = performance.now();
      assert.throws(() => a.sendfile(file, 0, 1 << 20), SocketTimeoutError);
      let took = performance.now() - started;
      assert.ok(took >= 80 && took < 2000, `sendfile gave up after ${took.toFixed(1)} ms`);
      assert.equal(a.options.nonBlocking, false, "the blocking mode is restored");
      // Room that comes within the timeout: the call waits for it and sends.
      a.setTimeouts({ sendMs: 2000 });
      const drained = helper.after(100, "drain", b.fd);
      started = performance.now();
      const n = a.sendfile(file, 0, 1 << 20);
      took = performance.now() - started;
      assert.ok(n !== null && n > 0, `sent ${n}`);
      assert.ok(took >= 50, `sent after ${took.toFixed(1)} ms, before there was room`);
      assert.ok((await drained as number) > 0);
      // A non-blocking socket still answers null at once.
      a.options.nonBlocking = true;
      while (a.sendfile(file, 0, 1 << 20) !== null);
      assert.equal(a.sendfile(file, 0, 1 << 20), null);
    } finally {
      await helper.close();
      libc().close(file);
      a.close();
      b.close();
    }
  });

  test("spliceTo without a timeout uses the source's receive and the destination's send timeout", async () => {
    const [src, from] = socketPair();
    const [c, d] = socketPair();
    // Safety nets: should spliceTo wait without limit, these end the wait
    // (end of stream, room) so the test fails instead of hanging.
    const helper = await HelperThread.start();
    try {
      // Nothing arrives on the source: its receive timeout applies.
      from.setTimeouts({ recvMs: 100 });
      kernelTimeout(from.fd, C.SO_RCVTIMEO, 3000);
      void helper.after(2500, "shutdown", src.fd);
      let started = performance.now();
      assert.throws(() => from.spliceTo(c, 100), SocketTimeoutError);
      let took = performance.now() - started;
      assert.ok(took >= 80 && took < 2000, `spliceTo (source) gave up after ${took.toFixed(1)} ms`);
      assert.equal(from.options.nonBlocking, false);
      assert.equal(c.options.nonBlocking, false);
      // An explicit timeout wins over the socket's.
      from.setTimeouts({ recvMs: 5000 });
      started = performance.now();
      assert.throws(() => from.spliceTo(c, 100, 50), SocketTimeoutError);
      took = performance.now() - started;
      assert.ok(took < 1000, `spliceTo (explicit) gave up after ${took.toFixed(1)} ms`);
      from.clearTimeouts();
      // The destination is full: its send timeout applies.
      c.options.sendBufferSize = 4096;
      assert.ok(c.sendAllTimeout(new Uint8Array(1 << 20), 100) < 1 << 20, "the send buffer must fill");
      c.setTimeouts({ sendMs: 100 });
      kernelTimeout(c.fd, C.SO_SNDTIMEO, 3000);
      void helper.after(2500, "drain", d.fd);
      src.sendAll(new Uint8Array(100));
      started = performance.now();
      assert.throws(() => from.spliceTo(c, 100), SocketTimeoutError);
      took = performance.now() - started;
      assert.ok(took >= 80 && took < 2000, `spliceTo (destination) gave up after ${took.toFixed(1)} ms`);
      assert.equal(from.options.nonBlocking, false);
      assert.equal(c.options.nonBlocking, false);
    } finally {
      await helper.close();
      for (const s of [src, from, c, d]) s.close();
    }
  });

  test("dup shares the connection, is CLOEXEC, and closes independently", () => {
    const [a, b] = socketPair();
    const copy = a.dup();
    try {
      assert.notEqual(copy.fd, a.fd);
      assert.ok(isCloexec(copy.fd));
      assert.equal(copy.family, "unix");
      a.close();
      copy.sendAll(text("still open"));
      const buf = new Uint8Array(10);
      b.recvAll(buf);
      assert.equal(new TextDecoder().decode(buf), "still open");
      copy.close();
      assert.equal(b.recv(buf), 0);
    } finally {
      a.close();
      copy.close();
      b.close();
    }
  });
});
