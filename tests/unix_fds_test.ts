import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { SocketClosedError, SocketError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { cString } from "../ffi/marshal.ts";
import { C } from "../ffi/platform.ts";
import { peerCredentials, recvFd, recvFds, sendFd, sendFds } from "../socket/unix_fds.ts";
import { kernelTimeout, stopAndContinue } from "./socket_helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ffinet-fds-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function pair(type: number = C.SOCK_STREAM): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, type | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

function openFile(name: string, content: string): number {
  const path = join(dir, name);
  writeFileSync(path, content);
  const fd = libc().open(cString(path), C.O_RDONLY | C.O_CLOEXEC, 0);
  assert.ok(fd >= 0);
  return fd;
}

function readAll(fd: number): string {
  const buf = new Uint8Array(4096);
  const n = libc().read(fd, buf, buf.length);
  assert.ok(n >= 0);
  return new TextDecoder().decode(buf.subarray(0, n));
}

function isCloexec(fd: number): boolean {
  return (libc().fcntl(fd, C.F_GETFD, 0) & C.FD_CLOEXEC) !== 0;
}

function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) assert.equal(libc().close(fd), 0);
}

describe("unix fd passing", () => {
  test("a passed file descriptor reads the file on the far end", () => {
    const [a, b] = pair();
    const file = openFile("one.txt", "hello through SCM_RIGHTS");
    assert.equal(sendFd(a, file), 1);
    const got = recvFd(b);
    assert.ok(got !== null && got >= 0);
    assert.notEqual(got, file);
    assert.ok(isCloexec(got), "received fd must be close-on-exec");
    assert.equal(readAll(got), "hello through SCM_RIGHTS");
    closeAll(got, file, a, b);
  });

  test("several descriptors travel with a payload", () => {
    const [a, b] = pair();
    const files = [0, 1, 2].map((i) => openFile(`many${i}.txt`, `file ${i}`));
    assert.equal(sendFds(a, files, new TextEncoder().encode("three")), 5);
    const buffer = new Uint8Array(16);
    const msg = recvFds(b, { buffer, maxFds: 8 });
    assert.ok(msg !== null);
    assert.equal(msg.bytes, 5);
    assert.equal(new TextDecoder().decode(buffer.subarray(0, 5)), "three");
    assert.equal(msg.fds.length, 3);
    assert.equal(msg.fdsTruncated, false);
    assert.deepEqual(msg.fds.map(readAll), ["file 0", "file 1", "file 2"]);
    closeAll(...msg.fds, ...files, a, b);
  });

  test("descriptors beyond the limit are closed, never leaked", () => {
    const [a, b] = pair();
    const file = openFile("limit.txt", "x");
    const baseline = openFdCount();
    // maxFds 1: the control buffer has room for 2 (CMSG_SPACE rounding), the
    // rest is dropped by the kernel (MSG_CTRUNC); both paths close extras.
    for (const [sent, limit] of [[2, 1], [10, 3], [5, 2]] as const) {
      sendFds(a, Array.from({ length: sent }, () => file));
      const msg = recvFds(b, { maxFds: limit });
      assert.ok(msg !== null);
      assert.equal(msg.fds.length, limit);
      assert.equal(msg.fdsTruncated, true);
      assert.equal(openFdCount(), baseline + limit);
      closeAll(...msg.fds);
      assert.equal(openFdCount(), baseline);
    }
    closeAll(file, a, b);
  });

  test("recvFd keeps one descriptor and closes the others", () => {
    const [a, b] = pair();
    const file = openFile("single.txt", "only one");
    const baseline = openFdCount();
    sendFds(a, [file, file, file]);
    const got = recvFd(b);
    assert.ok(got !== null && got >= 0);
    assert.equal(openFdCount(), baseline + 1);
    assert.equal(readAll(got), "only one");
    closeAll(got, file, a, b);
  });

  test("a message without descriptors gives -1; nothing pending gives null", () => {
    const [a, b] = pair();
    assert.equal(libc().send(a, new Uint8Array([7]), 1, C.MSG_NOSIGNAL), 1);
    assert.equal(recvFd(b), -1);
    const flags = libc().fcntl(b, C.F_GETFL, 0);
    assert.equal(libc().fcntl(b, C.F_SETFL, flags | C.O_NONBLOCK), 0);
    assert.equal(recvFds(b), null);
    assert.equal(recvFd(b), null);
    closeAll(a, b);
  });

  test("a blocking recvFds interrupted by a stop and continue (EINTR) is retried", async () => {
    const [a, b] = pair();
    kernelTimeout(b, C.SO_RCVTIMEO, 500);
    // EINTR at 100 ms, then a new wait that SO_RCVTIMEO ends: null, not a SocketError.
    const child = stopAndContinue(100);
    assert.equal(recvFds(b), null);
    await child;
    closeAll(a, b);
  });

  test("the peer closing is SocketClosedError for recvFd and 0 bytes for recvFds", () => {
    const [a, b] = pair();
    closeAll(a);
    assert.deepEqual(recvFds(b), { bytes: 0, fds: [], fdsTruncated: false, dataTruncated: false });
    assert.throws(() => recvFd(b), SocketClosedError);
    closeAll(b);
  });

  test("sending to a gone peer is SocketClosedError (EPIPE, no SIGPIPE)", () => {
    const [a, b] = pair();
    closeAll(b);
    assert.throws(() => sendFd(a, 0), (err: unknown) => err instanceof SocketClosedError && err.code === "EPIPE");
    closeAll(a);
  });

  test("a truncated datagram payload is reported", () => {
    const [a, b] = pair(C.SOCK_SEQPACKET);
    const file = openFile("seq.txt", "seq");
    sendFd(a, file, new TextEncoder().encode("a long payload"));
    const buffer = new Uint8Array(4);
    const msg = recvFds(b, { buffer, maxFds: 1 });
    assert.ok(msg !== null);
    assert.equal(msg.dataTruncated, true);
    assert.equal(msg.bytes, 4);
    assert.equal(new TextDecoder().decode(buffer), "a lo");
    assert.equal(readAll(msg.fds[0]!), "seq");
    closeAll(...msg.fds, file, a, b);
  });

  test("bad arguments throw RangeError; a bad socket is SocketError", () => {
    assert.throws(() => sendFds(3, []), RangeError);
    assert.throws(() => sendFds(3, new Array(254).fill(0)), RangeError);
    assert.throws(() => sendFds(3, [-1]), RangeError);
    assert.throws(() => sendFd(1.5, 0), RangeError);
    assert.throws(() => sendFd(3, 0, new Uint8Array(0)), RangeError);
    assert.throws(() => recvFds(3, { maxFds: 0 }), RangeError);
    assert.throws(() => recvFds(3, { maxFds: 254 }), RangeError);
    assert.throws(() => recvFds(3, { buffer: new Uint8Array(0) }), RangeError);
    // Far above any descriptor this process has open.
    assert.throws(() => sendFd(999_999, 0), (err: unknown) => err instanceof SocketError && err.code === "EBADF");
  });
});

describe("unix peer credentials", () => {
  test("equal our own pid, uid and gid", () => {
    const [a, b] = pair();
    const expected = { pid: libc().getpid(), uid: libc().getuid(), gid: libc().getgid() };
    assert.deepEqual(peerCredentials(a), expected);
    assert.deepEqual(peerCredentials(b), expected);
    closeAll(a, b);
  });

  test("a non-Unix socket fails with a SocketError", () => {
    const fd = libc().open(cString("/dev/null"), C.O_RDONLY | C.O_CLOEXEC, 0);
    assert.throws(() => peerCredentials(fd), (err: unknown) => err instanceof SocketError && err.code === "ENOTSOCK");
    closeAll(fd);
  });
});
