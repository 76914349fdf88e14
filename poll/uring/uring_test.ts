import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LimitError, NetError, SocketError, UseAfterCloseError } from "../../core/errors.ts";
import { kernelRelease, releaseAtLeast } from "../../ffi/kernel.ts";
import { libc } from "../../ffi/libc.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { C, LAYOUT } from "../../ffi/platform.ts";
import { yieldToRuntime } from "../yield.ts";
import { Uring } from "./ops.ts";
import { asyncBackends, chooseAsyncIo, uringByDefault, uringRequested, uringUnavailableReason } from "./probe.ts";
import { Ring } from "./ring.ts";
import { IORING_OP } from "./uapi.ts";

const available = asyncBackends().io_uring;

const turn = (): Promise<void> => new Promise((resolve) => yieldToRuntime(resolve));

/** Drives `uring` with short blocking polls until `promise` settles. */
async function settle<T>(uring: Uring, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let i = 0; !done && i < 500; i++) {
    uring.poll(uring.inFlight > 0 ? 20 : 0);
    await turn();
  }
  return promise;
}

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

function isOpen(fd: number): boolean {
  return libc().fcntl(fd, C.F_GETFD, 0) >= 0;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SocketError, `expected a SocketError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

describe("io_uring probe", () => {
  test("reports every backend, with a reason when io_uring is refused", () => {
    const b = asyncBackends();
    assert.equal(b.poll, true);
    assert.equal(b.epoll, process.platform === "linux");
    assert.equal(typeof b.kqueue, "boolean");
    assert.equal(typeof b.io_uring, "boolean");
    if (!b.io_uring) assert.equal(typeof uringUnavailableReason(), "string");
    assert.equal(asyncBackends(), b, "cached");
  });

  test("the option, else FFINET_IO, else the default (Linux 6.1+) choose; readiness where io_uring is refused", () => {
    assert.equal(uringRequested("uring"), true);
    assert.equal(uringRequested("readiness"), false);
    assert.equal(chooseAsyncIo("readiness"), "readiness");
    assert.equal(chooseAsyncIo("uring"), available ? "io_uring" : "readiness");
    const release = kernelRelease();
    const byDefault = process.platform === "linux" && release !== undefined && releaseAtLeast(release, 6, 1);
    assert.equal(uringByDefault(), byDefault);
    const env = process.env.FFINET_IO;
    const wanted = env === "uring" ? true : env === "readiness" ? false : byDefault;
    assert.equal(uringRequested(), wanted);
    assert.equal(chooseAsyncIo(), wanted && available ? "io_uring" : "readiness");
  });

  test("layouts match the kernel UAPI (x86-64 and arm64 share them)", () => {
    assert.equal(LAYOUT.io_uring_params.size, 120);
    assert.equal(LAYOUT.io_uring_params.sq_off, 40);
    assert.equal(LAYOUT.io_uring_params.cq_off, 80);
    assert.equal(LAYOUT.io_uring_sqe.size, 64);
    assert.equal(LAYOUT.io_uring_sqe.userData, 32);
    assert.equal(LAYOUT.io_uring_cqe.size, 16);
    assert.equal(LAYOUT.io_cqring_offsets.cqes, 20);
    assert.equal(IORING_OP.RECV, 27);
  });
});

describe("io_uring ring", () => {
  test("setup maps the rings; sizes are powers of two; close is idempotent", () => {
    if (!available) {
      assert.throws(() => Ring.open(), NetError);
      return;
    }
    const ring = Ring.open({ entries: 6 });
    assert.equal(ring.sqEntries, 8);
    assert.equal(ring.cqEntries, 16);
    assert.equal(ring.sqSpace, 8);
    assert.ok(isOpen(ring.fd));
    ring.close();
    ring.close();
    assert.equal(ring.closed, true);
    assert.equal(isOpen(ring.fd), false);
    assert.throws(() => ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, 1), UseAfterCloseError);
    assert.throws(() => ring.enter(), UseAfterCloseError);
    assert.throws(() => Ring.open({ entries: 0 }), RangeError);
    assert.throws(() => Ring.open({ entries: 65536 }), RangeError);
  });

  test("raw nop: prepare, enter, reap with a 53-bit user_data", () => {
    if (!available) return;
    using ring = Ring.open({ entries: 2 });
    const id = 2 ** 52 + 12345;
    assert.equal(ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, id), true);
    assert.equal(ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, 7), true);
    assert.equal(ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, 8), false, "SQ full");
    assert.equal(ring.enter(2, 1000), 2);
    const seen: [number, number][] = [];
    assert.equal(ring.reap((u, r) => seen.push([u, r])), 2);
    assert.deepEqual(seen, [[id, 0], [7, 0]]);
    assert.equal(ring.reap(() => assert.fail("nothing more")), 0);
  });

  test("a sink that throws consumes the completion it saw; the rest come with the next reap", () => {
    if (!available) return;
    using ring = Ring.open({ entries: 2 });
    ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, 1);
    ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, 2);
    assert.equal(ring.enter(2, 1000), 2);
    assert.throws(() => ring.reap(() => {
      throw new Error("sink failed");
    }), /sink failed/);
    const seen: number[] = [];
    assert.equal(ring.reap((u) => seen.push(u)), 1);
    assert.deepEqual(seen, [2]);
  });
});

describe("io_uring operations", () => {
  test("nop round trip carries an id", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const a = uring.nop();
    const b = uring.nop();
    assert.ok(a.id > 0 && b.id === a.id + 1);
    assert.equal(await settle(uring, a), 0);
    assert.equal(await settle(uring, b), 0);
    assert.equal(uring.pending, 0);
  });

  test("timeout resolves 0 when it expires", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const t = uring.timeout(5);
    assert.equal(await settle(uring, t), 0);
    assert.throws(() => uring.timeout(-1), RangeError);
  });

  test("batched submission: 200 SQEs in one io_uring_enter", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 256, submit: "manual" });
    const ops = Array.from({ length: 200 }, () => uring.nop());
    assert.equal(uring.ring.unsubmitted, 200);
    assert.equal(uring.inFlight, 200);
    assert.equal(uring.submit(), 200, "all complete inline and are reaped at once");
    assert.deepEqual(await Promise.all(ops), new Array(200).fill(0));
    assert.equal(uring.ring.unsubmitted, 0);
  });

  test("ring full: 100 operations through an 4-entry ring, in order", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 4, submit: "manual" });
    const order: number[] = [];
    const ops = Array.from({ length: 100 }, (_, i) => uring.nop().then((r) => (order.push(i), r)));
    assert.ok(uring.inFlight < uring.ring.cqEntries, "in flight is capped below the CQ size");
    assert.equal(uring.backlog, 100 - uring.inFlight);
    const timers = Array.from({ length: 3 }, () => uring.timeout(1));
    await settle(uring, Promise.all([...ops, ...timers]));
    assert.deepEqual(order, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(uring.pending, 0);
  });

  test("the backlog is bounded", () => {
    if (!available) return;
    using uring = new Uring({ entries: 1, submit: "manual", maxBacklog: 1 });
    const held = [uring.nop(), uring.nop()];
    assert.equal(uring.inFlight, 1);
    assert.throws(() => uring.nop(), LimitError);
    uring.submit();
    uring.submit();
    return Promise.all(held).then(() => undefined);
  });

  test("recv on a socket pair, then send the other way", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const [a, b] = socketPair();
    using rx = NativeBuffer.alloc(64);
    using tx = NativeBuffer.from(new TextEncoder().encode("hello ring"));
    try {
      const r = uring.recv(a, rx, 64);
      const s = uring.send(b, tx, 4, 6);
      assert.equal(await settle(uring, s), 4);
      assert.equal(await settle(uring, r), 4);
      assert.equal(new TextDecoder().decode(rx.bytes.subarray(0, 4)), "ring");
      assert.throws(() => uring.recv(a, rx, 65), RangeError);
      assert.throws(() => uring.send(a, tx, 1, tx.byteLength), RangeError);
      assert.throws(() => uring.recv(-1, rx), RangeError);
    } finally {
      libc().close(a);
      libc().close(b);
    }
  });

  test("errors reject with the SocketError of -res", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const [a, b] = socketPair();
    libc().close(b);
    using buf = NativeBuffer.alloc(8);
    try {
      await rejectsWith(settle(uring, uring.send(a, buf, 8)), "EPIPE");
      await rejectsWith(settle(uring, uring.accept(a)), "EINVAL");
    } finally {
      libc().close(a);
    }
    await rejectsWith(settle(uring, uring.closeFd(0x7ffffff0)), "EBADF");
  });

  test("closeFd closes a descriptor in the kernel", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const [a, b] = socketPair();
    assert.equal(await settle(uring, uring.closeFd(a)), 0);
    assert.equal(isOpen(a), false);
    libc().close(b);
  });

  test("cancel one: a recv that never completes rejects ECANCELED", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 8 });
    const [a, b] = socketPair();
    using buf = NativeBuffer.alloc(16);
    try {
      const r = uring.recv(a, buf);
      const rCancelled = rejectsWith(r, "ECANCELED");
      const other = uring.recv(b, buf);
      const otherCancelled = rejectsWith(other, "ECANCELED");
      uring.submit();
      assert.equal(await settle(uring, uring.cancel(r.id)), true);
      await rCancelled;
      assert.equal(uring.inFlight, 1, "the other recv is still pending");
      assert.equal(await settle(uring, uring.cancel(r.id)), false, "already gone");
      assert.equal(await settle(uring, uring.cancel(other.id)), true);
      await otherCancelled;
      const done = uring.nop();
      await settle(uring, done);
      assert.equal(await settle(uring, uring.cancel(done.id)), false, "completed");
    } finally {
      libc().close(a);
      libc().close(b);
    }
  });

  test("cancel an operation still in the backlog", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 1, submit: "manual" });
    const first = [uring.nop(), uring.nop()];
    const queued = uring.nop();
    const queuedCancelled = rejectsWith(queued, "ECANCELED");
    assert.equal(uring.backlog, 2);
    assert.equal(await uring.cancel(queued.id), true);
    await queuedCancelled;
    assert.equal(uring.backlog, 1);
    await settle(uring, Promise.all(first));
  });

  test("cancelAll: receives, a long timeout and backlog entries", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 2 });
    const [a, b] = socketPair();
    const bufs = [NativeBuffer.alloc(8), NativeBuffer.alloc(8), NativeBuffer.alloc(8)];
    try {
      const ops = [uring.recv(a, bufs[0]!), uring.recv(b, bufs[1]!), uring.timeout(60_000), uring.recv(a, bufs[2]!)];
      const extra = Array.from({ length: 3 }, () => uring.timeout(60_000));
      const allCancelled = Promise.all([...ops, ...extra].map((op) => rejectsWith(op, "ECANCELED")));
      assert.equal(uring.inFlight, 3, "4 CQEs, 1 kept for cancels");
      assert.equal(uring.backlog, 4);
      uring.submit();
      const cancelled = await settle(uring, uring.cancelAll());
      assert.equal(cancelled, 7);
      await allCancelled;
      assert.equal(uring.pending, 0);
      assert.equal(await settle(uring, uring.cancelAll()), 0);
    } finally {
      for (const buf of bufs) buf.free();
      libc().close(a);
      libc().close(b);
    }
  });

  test("close cancels what is in flight, frees once, and later use throws", async () => {
    if (!available) return;
    const uring = new Uring({ entries: 4 });
    const [a, b] = socketPair();
    const buf = NativeBuffer.alloc(8);
    const r = uring.recv(a, buf);
    const t = uring.timeout(60_000);
    const queued = Array.from({ length: 10 }, () => uring.timeout(60_000));
    const allCancelled = Promise.all([r, t, ...queued].map((op) => rejectsWith(op, "ECANCELED")));
    uring.submit();
    const ringFd = uring.ring.fd;
    const eventFd = uring.eventFd;
    assert.ok(isOpen(ringFd) && isOpen(eventFd));
    uring.close();
    uring.close();
    assert.equal(uring.closed, true);
    assert.equal(uring.ring.closed, true);
    assert.equal(isOpen(ringFd), false);
    assert.equal(isOpen(eventFd), false);
    await allCancelled;
    assert.throws(() => uring.nop(), UseAfterCloseError);
    assert.throws(() => uring.recv(a, buf), UseAfterCloseError);
    assert.throws(() => uring.poll(), UseAfterCloseError);
    assert.throws(() => uring.eventFd, UseAfterCloseError);
    await assert.rejects(uring.cancelAll(), UseAfterCloseError);
    buf.free();
    libc().close(a);
    libc().close(b);
  });

  test("the eventfd turns readable when a completion is posted", async () => {
    if (!available) return;
    using uring = new Uring({ entries: 4, submit: "manual" });
    const fd = uring.eventFd;
    assert.equal(uring.eventFd, fd, "made once");
    const scratch = new Uint8Array(8);
    assert.ok(libc().read(fd, scratch, 8) < 0, "not readable yet");
    const op = uring.nop();
    uring.ring.enter(0);
    assert.equal(libc().read(fd, scratch, 8), 8);
    assert.ok(scratch[0]! >= 1);
    uring.drainEventFd();
    assert.equal(uring.poll(), 1);
    assert.equal(await op, 0);
  });
});
