import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Hash, sha256 } from "../core/crypto.ts";
import { SocketClosedError, SocketError, SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { cString } from "../ffi/marshal.ts";
import { C, E } from "../ffi/platform.ts";
import { native } from "../ffi/native.ts";
import { SockaddrBuffer, encodeIPv4 } from "../socket/sockaddr.ts";
import { pollOne, WAIT_READ, WAIT_WRITE } from "../socket/wait.ts";
import { dup, dup2, sendfile, sendfileAll, SplicePipe, spliceAll } from "../socket/zero_copy.ts";

const dir = mkdtempSync(join(tmpdir(), "ffinet-zc-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function pair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

/** Two ends of one TCP connection on 127.0.0.1, through raw libc calls. */
function tcpPair(): [number, number] {
  const lib = libc();
  const addr = new Uint8Array(128);
  const len = encodeIPv4(addr, new Uint8Array([127, 0, 0, 1]), 0);
  const listener = lib.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  assert.equal(lib.bind(listener, addr, len), 0);
  assert.equal(lib.listen(listener, 4), 0);
  const bound = new SockaddrBuffer();
  assert.equal(lib.getsockname(listener, bound.bytes, bound.resetLength()), 0);
  const client = lib.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  assert.equal(lib.connect(client, bound.bytes, bound.length), 0);
  const server = lib.accept(listener, null, null);
  assert.ok(server >= 0);
  lib.close(listener);
  return [client, server];
}

function nonBlocking(...fds: number[]): void {
  for (const fd of fds) {
    const flags = libc().fcntl(fd, C.F_GETFL, 0);
    assert.equal(libc().fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK), 0);
  }
}

function writeFile(name: string, data: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

function openRead(path: string): number {
  const fd = libc().open(cString(path), C.O_RDONLY | C.O_CLOEXEC, 0);
  assert.ok(fd >= 0);
  return fd;
}

/** Reads whatever is queued on a non-blocking fd into `sink`; returns bytes read. */
function drain(fd: number, buf: Uint8Array, sink: (chunk: Uint8Array) => void): number {
  let total = 0;
  for (;;) {
    const n = libc().recv(fd, buf, buf.length, 0);
    if (n > 0) {
      sink(buf.subarray(0, n));
      total += n;
      continue;
    }
    if (n === 0) return total;
    assert.equal(native.errno(), E.EAGAIN);
    return total;
  }
}

/** Reads exactly `n` bytes from a blocking fd. */
function readExactly(fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = libc().read(fd, out.subarray(got), n - got);
    assert.ok(r > 0, "unexpected end of stream");
    got += r;
  }
  return out;
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) assert.equal(libc().close(fd), 0);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("sendfile", () => {
  test("64 MiB reach the far end intact (sha256)", () => {
    const size = 64 * 1024 * 1024;
    const data = new Uint8Array(size);
    randomFillSync(data);
    const path = writeFile("big.bin", data);
    const expected = hex(sha256(data));
    const file = openRead(path);
    const [a, b] = pair();
    nonBlocking(a, b);
    const hash = new Hash("sha256");
    const buf = new Uint8Array(256 * 1024);
    let sent = 0;
    let received = 0;
    // Each round either sends or receives something; the bound is generous.
    for (let round = 0; round < 1_000_000 && received < size; round++) {
      while (sent < size) {
        const n = sendfile(a, file, sent, size - sent);
        if (n === null) break;
        assert.ok(n > 0);
        sent += n;
      }
      received += drain(b, buf, (chunk) => hash.update(chunk));
    }
    assert.equal(sent, size);
    assert.equal(received, size);
    assert.equal(hex(hash.digest()), expected);
    // The file's own position never moved.
    assert.equal(libc().lseek(file, 0, C.SEEK_CUR), 0);
    closeAll(file, a, b);
  });

  test("offset and count select a range; end of file gives 0", () => {
    const file = openRead(writeFile("digits.txt", "0123456789"));
    const [a, b] = pair();
    assert.equal(sendfile(a, file, 3, 4), 4);
    assert.equal(new TextDecoder().decode(readExactly(b, 4)), "3456");
    assert.equal(sendfile(a, file, 10, 5), 0);
    assert.equal(sendfile(a, file, 0, 0), 0);
    closeAll(file, a, b);
  });

  test("sendfileAll sends a path or an fd range", () => {
    const data = new Uint8Array(48 * 1024);
    randomFillSync(data);
    const path = writeFile("mid.bin", data);
    const [a, b] = pair();
    assert.equal(sendfileAll(a, path), data.length);
    assert.deepEqual(readExactly(b, data.length), data);
    const file = openRead(path);
    assert.equal(sendfileAll(a, file, { offset: 1000, count: 2000 }), 2000);
    assert.deepEqual(readExactly(b, 2000), data.subarray(1000, 3000));
    // Asking past the end stops at the end.
    assert.equal(sendfileAll(a, file, { offset: data.length - 10, count: 100 }), 10);
    assert.deepEqual(readExactly(b, 10), data.subarray(data.length - 10));
    closeAll(file, a, b);
  });

  test("pollOne takes timeouts past a C int (capped) and with a fraction (rounded up)", () => {
    const [a, b] = pair();
    try {
      // pollOne itself: a fraction rounds up, a huge timeout is capped.
      assert.notEqual(pollOne(a, WAIT_WRITE, 2 ** 31 + 5), 0);
      const started = performance.now();
      assert.equal(pollOne(a, WAIT_READ, 1.5), 0);
      assert.ok(performance.now() - started >= 1.4);
    } finally {
      closeAll(a, b);
    }
  });

  test("a full non-blocking socket ends in SocketTimeoutError", () => {
    const data = new Uint8Array(8 * 1024 * 1024);
    const path = writeFile("stuck.bin", data);
    const [a, b] = pair();
    nonBlocking(a);
    assert.throws(() => sendfileAll(a, path, { timeoutMs: 20 }), SocketTimeoutError);
    closeAll(a, b);
  });

  test("a gone peer is SocketClosedError; a missing path is SocketError", () => {
    const path = writeFile("small.txt", "abc");
    const [a, b] = pair();
    closeAll(b);
    assert.throws(() => sendfileAll(a, path), (e: unknown) => e instanceof SocketClosedError && e.code === "EPIPE");
    assert.throws(
      () => sendfileAll(a, join(dir, "missing")),
      (e: unknown) => e instanceof SocketError && e.code === "ENOENT",
    );
    assert.throws(() => sendfile(a, 0, -1, 1), RangeError);
    assert.throws(() => sendfile(a, 0, 0, 1.5), RangeError);
    assert.throws(() => sendfileAll(-1, path), RangeError);
    closeAll(a);
  });
});

describe("splice", () => {
  test("moves 8 MiB between two connections through a pipe", () => {
    const size = 8 * 1024 * 1024;
    const data = new Uint8Array(size);
    randomFillSync(data);
    const [a1, a2] = pair();
    const [b1, b2] = pair();
    nonBlocking(a1, a2, b1, b2);
    using pipe = SplicePipe.open();
    assert.ok(pipe.capacity >= 4096);
    const hash = new Hash("sha256");
    const buf = new Uint8Array(128 * 1024);
    let written = 0;
    let moved = 0;
    let received = 0;
    for (let round = 0; round < 1_000_000 && received < size; round++) {
      if (written < size) {
        const n = libc().send(a1, data.subarray(written), Math.min(65536, size - written), C.MSG_NOSIGNAL);
        if (n > 0) written += n;
        if (written === size) libc().shutdown(a1, C.SHUT_WR);
      }
      moved += pipe.transfer(a2, b1, 1 << 20);
      received += drain(b2, buf, (chunk) => hash.update(chunk));
    }
    assert.equal(moved, size);
    assert.equal(received, size);
    assert.equal(pipe.pending, 0);
    assert.equal(hex(hash.digest()), hex(sha256(data)));
    // The source is at its end now.
    assert.equal(pipe.transfer(a2, b1, 1024), 0);
    assert.equal(pipe.ended, true);
    closeAll(a1, a2, b1, b2);
  });

  test("proxies 4 MiB between two TCP connections on 127.0.0.1", () => {
    const size = 4 * 1024 * 1024;
    const data = new Uint8Array(size);
    randomFillSync(data);
    const [client, proxyIn] = tcpPair();
    const [proxyOut, upstream] = tcpPair();
    nonBlocking(client, proxyIn, proxyOut, upstream);
    using pipe = SplicePipe.open();
    const hash = new Hash("sha256");
    const buf = new Uint8Array(128 * 1024);
    let written = 0;
    let received = 0;
    for (let round = 0; round < 1_000_000 && received < size; round++) {
      if (written < size) {
        const n = libc().send(client, data.subarray(written), Math.min(65536, size - written), C.MSG_NOSIGNAL);
        if (n > 0) written += n;
        if (written === size) libc().shutdown(client, C.SHUT_WR);
      }
      pipe.transfer(proxyIn, proxyOut, 1 << 20);
      received += drain(upstream, buf, (chunk) => hash.update(chunk));
    }
    assert.equal(received, size);
    assert.equal(hex(hash.digest()), hex(sha256(data)));
    closeAll(client, proxyIn, proxyOut, upstream);
  });

  test("spliceAll copies until end of stream or a count", () => {
    const data = new Uint8Array(100_000);
    randomFillSync(data);
    const [a1, a2] = pair();
    const [b1, b2] = pair();
    assert.equal(libc().write(a1, data, data.length), data.length);
    assert.equal(spliceAll(a2, b1, 1000), 1000);
    assert.deepEqual(readExactly(b2, 1000), data.subarray(0, 1000));
    libc().shutdown(a1, C.SHUT_WR);
    assert.equal(spliceAll(a2, b1), data.length - 1000);
    assert.deepEqual(readExactly(b2, data.length - 1000), data.subarray(1000));
    closeAll(a1, a2, b1, b2);
  });

  test("a closed pipe throws on use and closes once", () => {
    const pipe = SplicePipe.open({ capacity: 128 * 1024 });
    assert.ok(pipe.capacity >= 128 * 1024);
    pipe.close();
    pipe.close();
    assert.equal(pipe.closed, true);
    assert.throws(() => pipe.transfer(0, 1, 1), UseAfterCloseError);
  });
});

describe("dup and dup2", () => {
  test("copies share the file and are close-on-exec", () => {
    const file = openRead(writeFile("dup.txt", "abcdef"));
    const copy = dup(file);
    assert.notEqual(copy, file);
    assert.ok((libc().fcntl(copy, C.F_GETFD, 0) & C.FD_CLOEXEC) !== 0);
    const two = new Uint8Array(2);
    assert.equal(libc().read(copy, two, 2), 2);
    // Shared file position: the original continues where the copy stopped.
    assert.equal(libc().read(file, two, 2), 2);
    assert.equal(new TextDecoder().decode(two), "cd");

    const other = openRead(writeFile("dup2.txt", "zz"));
    assert.equal(dup2(file, other), other);
    assert.ok((libc().fcntl(other, C.F_GETFD, 0) & C.FD_CLOEXEC) !== 0);
    assert.equal(libc().read(other, two, 2), 2);
    assert.equal(new TextDecoder().decode(two), "ef");
    assert.equal(dup2(file, file), file);
    closeAll(file, copy, other);
  });

  test("bad descriptors fail with EBADF or RangeError", () => {
    const isEbadf = (e: unknown) => e instanceof SocketError && e.code === "EBADF";
    assert.throws(() => dup(999_999), isEbadf);
    assert.throws(() => dup2(999_999, 999_998), isEbadf);
    assert.throws(() => dup2(999_999, 999_999), isEbadf);
    assert.throws(() => dup(-1), RangeError);
    assert.throws(() => dup2(0, 1.5), RangeError);
  });
});
