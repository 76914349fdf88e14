/**
 * `Uring`: the completion API over a {@link Ring}. Each operation (accept,
 * connect, recv, send, close, timeout, poll, nop) returns a Promise of its
 * result carrying the operation's id (its user_data); errors reject with the
 * SocketError for `-res`. SQEs queue in the ring and are submitted together
 * once per runtime turn (or at once with `submit()`); at most `cqEntries`
 * operations are in the kernel at a time so the CQ can never overflow, and
 * the rest wait in a bounded backlog. `cancel(id)` and `cancelAll()` use
 * IORING_OP_ASYNC_CANCEL.
 *
 * Completions are reaped by `poll(timeoutMs)`; for idle waiting, `eventFd`
 * is an eventfd registered with the ring (IORING_REGISTER_EVENTFD) that a
 * readiness loop watches like any other descriptor (see `loop_glue.ts`).
 *
 * @example
 * ```ts
 * import { Uring } from "./ops.ts";
 * const uring = new Uring({ entries: 64 });
 * const op = uring.nop();
 * uring.poll(100);
 * console.log(op.id > 0, await op); // true 0
 * uring.close();
 * ```
 *
 * @module
 */
import { LimitError, UseAfterCloseError } from "../../core/errors.ts";
import { check, sysError } from "../../core/sys_error.ts";
import { libc } from "../../ffi/libc.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { C, E, LAYOUT } from "../../ffi/platform.ts";
import { writeTimespec } from "../../ffi/marshal.ts";
import { yieldToRuntime } from "../yield.ts";
import { addressOf, Ring } from "./ring.ts";
import { CQE, IORING_OP, IOSQE, URING } from "./uapi.ts";

/** Options of a {@link Uring}. */
export interface UringOptions {
  /** SQ entries (default 256; the CQ, and so the operations in flight, is twice that). */
  entries?: number;
  /** CQ entries, which bound the operations in flight (default twice `entries`). */
  cqEntries?: number;
  /** Extra IORING_SETUP_* flags (the caller retries without them on EINVAL). */
  setupFlags?: number;
  /**
   * When queued SQEs are submitted: "immediate" (default: once per runtime
   * turn, with `setImmediate`), "microtask" (at the end of the current job:
   * lower latency, one io_uring_enter per job) or "manual" (only by
   * `submit()` and `poll()`). Automatic submission never reaps; completions
   * are reaped by `poll()`.
   */
  submit?: "immediate" | "microtask" | "manual";
  /** Most operations waiting for room in the ring (default 65536). */
  maxBacklog?: number;
  /**
   * Called when the ring turns busy (an operation is pending) or idle
   * (nothing is): a loop refs or unrefs its eventfd watcher here.
   */
  onBusyChange?: (busy: boolean) => void;
  /**
   * Receives each exception thrown by an operation's callback while
   * completions are reaped (a loop's `onError`: every one of them). Without
   * it the first one is rethrown once the reap is complete and any further
   * one in the same reap is lost.
   */
  onCallbackError?: (error: unknown) => void;
}

/** A pending operation: a Promise of its result with the id to cancel it by. */
export type UringOp = Promise<number> & { readonly id: number };

/**
 * Receives the raw result of a `queue*` operation: ≥ 0 on success, `-errno`
 * on failure (-ECANCELED when cancelled).
 *
 * @example
 * ```ts
 * import type { UringCallback } from "./ops.ts";
 * const done: UringCallback = (res) => { if (res < 0) console.log("errno", -res); };
 * ```
 */
export type UringCallback = (res: number) => void;

/**
 * Receives the completions of direct operations (see
 * {@link Uring.prepareDirect}): the low 32 bits of their user_data, the
 * result and the CQE flags.
 *
 * @example
 * ```ts
 * import type { DirectSink } from "./ops.ts";
 * const sink: DirectSink = (tag, res, flags) => console.log(tag >>> 3, res, flags);
 * ```
 */
export type DirectSink = (tag: number, res: number, flags: number) => void;

/** user_data high word of direct operations (operation ids stay below 2^53: their high word is < 2^21). */
const DIRECT_HI = 0xffffffff;
/** user_data high word of a direct operation with IOSQE_CQE_SKIP_SUCCESS: it posts a CQE only when it fails, so it is not counted in `directPending`. */
const DIRECT_QUIET_HI = 0xfffffffe;

const ECANCELED = E.ECANCELED ?? 125;
const ETIME = E.ETIME ?? 62;
const ENOENT = E.ENOENT ?? 2;
const EINVAL = E.EINVAL ?? 22;

/** What a completion means for its operation. */
const KIND_RESULT = 0;
/** TIMEOUT: -ETIME is the normal expiry (resolves 0). */
const KIND_TIMEOUT = 1;
/** ASYNC_CANCEL of one id: resolves 1 when found, 0 when not. */
const KIND_CANCEL = 2;
/** ASYNC_CANCEL of everything: resolves the count (rejects EINVAL on old kernels). */
const KIND_CANCEL_ALL = 3;
/** A multishot callback operation: `done(res, more)` per CQE. */
const KIND_MULTISHOT = 4;

interface Op {
  readonly id: number;
  readonly name: string;
  readonly kind: number;
  readonly opcode: number;
  readonly fd: number;
  readonly addr: number;
  readonly len: number;
  readonly off: number;
  readonly opFlags: number;
  /** Memory the kernel may touch until completion: kept alive, and freed when `owned`. */
  readonly memory: NativeBuffer | undefined;
  readonly owned: boolean;
  resolve: (value: number) => void;
  reject: (error: unknown) => void;
  /**
   * Callback operations (`queue*`): called with the raw result (and, when
   * multishot, whether more follow); they do not make the ring busy.
   */
  done: ((res: number, more: boolean) => void) | undefined;
}

/**
 * Asynchronous socket operations on one io_uring.
 *
 * @example
 * ```ts
 * import { Uring } from "./ops.ts";
 * using uring = new Uring();
 * const t = uring.timeout(5);
 * uring.poll(1000);
 * console.log(await t); // 0
 * ```
 */
export class Uring {
  /** The ring underneath. */
  readonly ring: Ring;
  /** Operations in the SQ or in the kernel, by id. */
  readonly #inFlight = new Map<number, Op>();
  readonly #backlog: Op[] = [];
  #backlogHead = 0;
  readonly #maxInFlight: number;
  readonly #maxBacklog: number;
  readonly #mode: "immediate" | "microtask" | "manual";
  #nextId = 1;
  #scheduled = false;
  #eventFd = -1;
  #busy = false;
  readonly #onBusyChange: ((busy: boolean) => void) | undefined;
  #eventScratch: Uint8Array | undefined;
  /** Pending Promise operations (callback operations do not keep the ring busy). */
  #promised = 0;
  /** The first error thrown by a callback during a reap, rethrown once the reap is complete. */
  #callbackError: unknown = undefined;
  readonly #onCallbackError: ((error: unknown) => void) | undefined;
  /** Direct operations whose last CQE has not been reaped. */
  #directPending = 0;
  #directSink: DirectSink | undefined;
  #afterReap: (() => void) | undefined;
  #closed = false;

  /** Opens an io_uring with `options.entries` submission entries (default 256), submitting as `options.submit` says (default "immediate"). */
  constructor(options: UringOptions = {}) {
    this.#mode = options.submit ?? "immediate";
    if (this.#mode !== "immediate" && this.#mode !== "microtask" && this.#mode !== "manual") {
      throw new TypeError(`submit must be "immediate", "microtask" or "manual", got ${String(this.#mode)}`);
    }
    this.#maxBacklog = options.maxBacklog ?? 65536;
    if (!Number.isInteger(this.#maxBacklog) || this.#maxBacklog < 0) {
      throw new RangeError(`maxBacklog must be a non-negative integer, got ${this.#maxBacklog}`);
    }
    this.#onBusyChange = options.onBusyChange;
    this.#onCallbackError = options.onCallbackError;
    const ringOptions: { entries?: number; cqEntries?: number; setupFlags?: number } = {};
    if (options.entries !== undefined) ringOptions.entries = options.entries;
    if (options.cqEntries !== undefined) ringOptions.cqEntries = options.cqEntries;
    if (options.setupFlags !== undefined) ringOptions.setupFlags = options.setupFlags;
    this.ring = Ring.open(ringOptions);
    // Leave room in the CQ for cancels, which must never wait behind the
    // operations they are meant to cancel.
    this.#maxInFlight = this.ring.cqEntries - Math.max(1, Math.min(16, this.ring.cqEntries >> 2));
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Operations submitted or about to be, not yet completed. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Operations waiting for room in the ring. */
  get backlog(): number {
    return this.#backlog.length - this.#backlogHead;
  }

  /** Operations not yet completed, wherever they wait. */
  get pending(): number {
    return this.inFlight + this.backlog;
  }

  /** Direct operations (see {@link Uring.prepareDirect}) whose last completion has not been reaped. */
  get directPending(): number {
    return this.#directPending;
  }

  /**
   * Tells the ring that `count` counted direct operations will post no
   * completion: the operations linked behind an `IOSQE.CQE_SKIP_SUCCESS`
   * one that failed are cancelled with their completions skipped (the
   * kernel posts only the failure), so the owner, who knows its chains,
   * says how many there were.
   */
  forgetDirect(count: number): void {
    this.#directPending = Math.max(0, this.#directPending - count);
  }

  /**
   * Routes the completions of direct operations to `sink`; `afterReap` runs
   * after every reap that saw completions (to publish recycled buffers,
   * re-arm operations …). One sink per ring.
   */
  setDirectSink(sink: DirectSink, afterReap?: () => void): void {
    this.#directSink = sink;
    this.#afterReap = afterReap;
  }

  /**
   * Writes one SQE for a direct operation: no object, no Promise, no map
   * entry — the hot path of connections. Its completions go to the direct
   * sink with `tag` (a 32-bit value the caller encodes: which connection,
   * which operation); a multishot operation reports many, the last without
   * CQE.F_MORE. Direct operations bypass the backlog: their owner bounds
   * them (one receive and one send per connection). Submitted with the
   * next batch (once per runtime turn, or at the end of a reap round).
   * `fileIndex` is `sqe->file_index` (a direct descriptor slot + 1, for
   * SOCKET and CLOSE). With `IOSQE.CQE_SKIP_SUCCESS` in `sqeFlags` the
   * operation reports only a failure and is not counted in
   * {@link Uring.directPending}: use it for steps whose success nobody
   * waits for (a socket, a send or a close ahead of a counted receive).
   *
   * @throws {LimitError} when the kernel takes no SQEs (its CQ overflow list is full).
   */
  prepareDirect(
    opcode: number, sqeFlags: number, ioprio: number, fd: number, addr: number, len: number, off: number,
    opFlags: number, tag: number, bufGroup = 0, fileIndex = 0,
  ): void {
    const ring = this.ring;
    const quiet = (sqeFlags & IOSQE.CQE_SKIP_SUCCESS) !== 0;
    const hi = quiet ? DIRECT_QUIET_HI : DIRECT_HI;
    if (!ring.prepareSqe(opcode, sqeFlags, ioprio, fd, addr, len, off, opFlags, tag, hi, bufGroup, fileIndex)) {
      this.#submitForRoom();
      if (!ring.prepareSqe(opcode, sqeFlags, ioprio, fd, addr, len, off, opFlags, tag, hi, bufGroup, fileIndex)) throw this.#sqFull();
    }
    if (quiet) {
      if (!this.#scheduled) this.#schedule();
    } else this.#directQueued();
  }

  /**
   * Cancels the direct operation `target` (its tag); the cancel's own
   * completion comes to the sink as `tag`.
   */
  cancelDirect(target: number, tag: number): void {
    const ring = this.ring;
    if (!ring.prepareCancel(target, DIRECT_HI, tag, DIRECT_HI)) {
      this.#submitForRoom();
      if (!ring.prepareCancel(target, DIRECT_HI, tag, DIRECT_HI)) throw this.#sqFull();
    }
    this.#directQueued();
  }

  /** The SQ is full: submit what it holds (reaping too) to make room. */
  #submitForRoom(): void {
    this.#check();
    this.ring.enter(0, -1, true);
  }

  #sqFull(): LimitError {
    return new LimitError("ERR_URING_SQ_FULL", "the io_uring submission queue is full", this.ring.sqEntries);
  }

  /** A direct SQE is written: count it and make sure a submit is scheduled. */
  #directQueued(): void {
    this.#directPending++;
    if (!this.#scheduled) this.#schedule();
  }
  /**
   * Accepts a connection on listening socket `fd`; resolves the new fd
   * (close-on-exec). The peer address is not collected.
   */
  accept(fd: number, flags: number = C.SOCK_CLOEXEC): UringOp {
    return this.#op("accept", KIND_RESULT, IORING_OP.ACCEPT, checkFd(fd), 0, 0, 0, flags, undefined, false);
  }

  /** Connects socket `fd` to the encoded sockaddr bytes (copied); resolves 0. */
  connect(fd: number, sockaddr: Uint8Array, length: number = sockaddr.byteLength): UringOp {
    checkFd(fd);
    if (!Number.isInteger(length) || length < 1 || length > sockaddr.byteLength || length > LAYOUT.sockaddr_storage.size) {
      throw new RangeError(`sockaddr length ${length} is invalid for ${sockaddr.byteLength} bytes`);
    }
    const memory = NativeBuffer.from(sockaddr.subarray(0, length));
    return this.#op("connect", KIND_RESULT, IORING_OP.CONNECT, fd, addressOf(memory.pointer), 0, length, 0, memory, true);
  }

  /**
   * Receives at most `len` bytes into `buf` at `offset`; resolves the count
   * (0 at end of stream). `buf` is kept referenced until completion and must
   * not be freed before.
   */
  recv(fd: number, buf: NativeBuffer, len: number = buf.byteLength, offset = 0, flags = 0): UringOp {
    checkSpan(buf, offset, len);
    return this.#op("recv", KIND_RESULT, IORING_OP.RECV, checkFd(fd), addressOf(buf.pointerAt(offset)), len, 0, flags, buf, false);
  }

  /** Sends `len` bytes of `buf` from `offset` (MSG_NOSIGNAL added); resolves the count sent. */
  send(fd: number, buf: NativeBuffer, len: number = buf.byteLength, offset = 0, flags = 0): UringOp {
    checkSpan(buf, offset, len);
    const f = flags | C.MSG_NOSIGNAL;
    return this.#op("send", KIND_RESULT, IORING_OP.SEND, checkFd(fd), addressOf(buf.pointerAt(offset)), len, 0, f, buf, false);
  }

  /** Closes `fd` in the kernel (IORING_OP_CLOSE); resolves 0. */
  closeFd(fd: number): UringOp {
    return this.#op("close", KIND_RESULT, IORING_OP.CLOSE, checkFd(fd), 0, 0, 0, 0, undefined, false);
  }

  /** Waits for `events` (POLLIN, POLLOUT …) on `fd` once; resolves the revents. */
  pollOnce(fd: number, events: number): UringOp {
    return this.#op("poll", KIND_RESULT, IORING_OP.POLL_ADD, checkFd(fd), 0, 0, 0, events >>> 0, undefined, false);
  }

  /** Completes after `ms` milliseconds; resolves 0 (rejects ECANCELED when cancelled). */
  timeout(ms: number): UringOp {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`timeout must be a non-negative number, got ${ms}`);
    const memory = NativeBuffer.alloc(LAYOUT.timespec.size);
    writeTimespec(memory.view, 0, ms);
    return this.#op("timeout", KIND_TIMEOUT, IORING_OP.TIMEOUT, -1, addressOf(memory.pointer), 1, 0, 0, memory, true);
  }

  /** Does nothing in the kernel; resolves 0. */
  nop(): UringOp {
    return this.#op("nop", KIND_RESULT, IORING_OP.NOP, -1, 0, 0, 0, 0, undefined, false);
  }

  /**
   * Callback form of {@link Uring.accept}: `done` gets the new fd or
   * `-errno`. The `queue*` operations skip the Promise (the hot path of
   * connections) and do not count as busy: whoever queues them keeps the
   * loop alive by other means. Returns the operation id.
   */
  queueAccept(fd: number, flags: number, done: UringCallback): number {
    return this.#queue(IORING_OP.ACCEPT, checkFd(fd), 0, 0, flags, undefined, false, done);
  }

  /**
   * Multishot accept (Linux 5.19+): `done` gets every new fd (or `-errno`)
   * while the operation stays armed; the last call has `more` false (an
   * error, a cancel, or the kernel ended it: queue another). Returns the
   * operation id (cancel it with {@link Uring.queueCancel}).
   */
  queueAcceptMultishot(fd: number, flags: number, done: (res: number, more: boolean) => void): number {
    if (typeof done !== "function") throw new TypeError("done must be a function");
    return this.#op("accept", KIND_MULTISHOT, IORING_OP.ACCEPT, checkFd(fd), 0, 0, 0, flags, undefined, false, done) as unknown as number;
  }

  /** Callback form of {@link Uring.connect} (the sockaddr is copied); returns the operation id. */
  queueConnect(fd: number, sockaddr: Uint8Array, length: number, done: UringCallback): number {
    checkFd(fd);
    if (!Number.isInteger(length) || length < 1 || length > sockaddr.byteLength || length > LAYOUT.sockaddr_storage.size) {
      throw new RangeError(`sockaddr length ${length} is invalid for ${sockaddr.byteLength} bytes`);
    }
    const memory = NativeBuffer.from(sockaddr.subarray(0, length));
    // The address length goes in the SQE's off (addr2) field.
    return this.#queue(IORING_OP.CONNECT, fd, addressOf(memory.pointer), 0, 0, memory, true, done, length);
  }

  /** Callback form of {@link Uring.recv}; returns the operation id. */
  queueRecv(fd: number, buf: NativeBuffer, len: number, offset: number, done: UringCallback): number {
    checkSpan(buf, offset, len);
    return this.#queue(IORING_OP.RECV, checkFd(fd), addressOf(buf.pointerAt(offset)), len, 0, buf, false, done);
  }

  /** Callback form of {@link Uring.send} (MSG_NOSIGNAL); returns the operation id. */
  queueSend(fd: number, buf: NativeBuffer, len: number, offset: number, done: UringCallback): number {
    checkSpan(buf, offset, len);
    return this.#queue(IORING_OP.SEND, checkFd(fd), addressOf(buf.pointerAt(offset)), len, C.MSG_NOSIGNAL, buf, false, done);
  }

  /** Callback form of {@link Uring.pollOnce}: `done` gets the revents; returns the operation id. */
  queuePoll(fd: number, events: number, done: UringCallback): number {
    return this.#queue(IORING_OP.POLL_ADD, checkFd(fd), 0, 0, events >>> 0, undefined, false, done);
  }

  /** Callback form of {@link Uring.closeFd}; returns the operation id. */
  queueClose(fd: number, done: UringCallback): number {
    return this.#queue(IORING_OP.CLOSE, checkFd(fd), 0, 0, 0, undefined, false, done);
  }

  /**
   * Cancels operation `id` without waiting for the answer (the operation
   * itself completes with -ECANCELED unless it already finished). Returns
   * false when `id` is not pending.
   */
  queueCancel(id: number): boolean {
    this.#check();
    const at = this.#backlog.findIndex((op, i) => i >= this.#backlogHead && op.id === id);
    if (at >= 0) {
      const [op] = this.#backlog.splice(at, 1);
      if (op !== undefined) this.#settle(op, -ECANCELED);
      return true;
    }
    if (!this.#inFlight.has(id)) return false;
    this.#op("cancel", KIND_CANCEL, IORING_OP.ASYNC_CANCEL, -1, id, 0, 0, 0, undefined, false, IGNORE);
    return true;
  }

  #queue(
    opcode: number, fd: number, addr: number, len: number, opFlags: number,
    memory: NativeBuffer | undefined, owned: boolean, done: UringCallback, off = 0,
  ): number {
    if (typeof done !== "function") throw new TypeError("done must be a function");
    return this.#op("op", KIND_RESULT, opcode, fd, addr, len, off, opFlags, memory, owned, done) as unknown as number;
  }

  /**
   * Cancels operation `id`. Resolves true when it was found and cancelled
   * (it then rejects with ECANCELED), false when it had completed or is
   * unknown.
   */
  async cancel(id: number): Promise<boolean> {
    this.#check();
    const at = this.#backlog.findIndex((op, i) => i >= this.#backlogHead && op.id === id);
    if (at >= 0) {
      const [op] = this.#backlog.splice(at, 1);
      if (op !== undefined) this.#settle(op, -ECANCELED);
      return true;
    }
    if (!this.#inFlight.has(id)) return false;
    const found = await this.#op("cancel", KIND_CANCEL, IORING_OP.ASYNC_CANCEL, -1, id, 0, 0, 0, undefined, false);
    return found === 1;
  }

  /**
   * Cancels every pending operation; resolves how many were cancelled.
   * Uses IORING_ASYNC_CANCEL_ANY (5.19+), else one cancel per operation.
   */
  async cancelAll(): Promise<number> {
    this.#check();
    let count = 0;
    for (const op of this.#backlog.splice(0).slice(this.#backlogHead)) {
      this.#settle(op, -ECANCELED);
      count++;
    }
    this.#backlogHead = 0;
    const ids = [...this.#inFlight.keys()];
    if (ids.length === 0) return count;
    const flags = URING.ASYNC_CANCEL_ANY | URING.ASYNC_CANCEL_ALL;
    try {
      return count + await this.#op("cancel", KIND_CANCEL_ALL, IORING_OP.ASYNC_CANCEL, -1, 0, 0, 0, flags, undefined, false);
    } catch (err) {
      if ((err as { errno?: number }).errno !== EINVAL) throw err;
    }
    const found = await Promise.all(ids.map((id) => this.cancel(id)));
    return count + found.filter(Boolean).length;
  }

  /**
   * Submits what is queued now (one io_uring_enter) and reaps what has
   * completed. Returns the number of completions reaped. `runDeferred`
   * enters with GETEVENTS even when nothing is queued and the ring's flags
   * ask for nothing: with DEFER_TASKRUN the kernel runs at most 20 items
   * of deferred completion work per io_uring_enter (IO_LOCAL_TW_DEFAULT_MAX,
   * 6.13+) and keeps the rest without setting SQ_TASKRUN, so only entering
   * again shows whether some are left.
   */
  submit(runDeferred = false): number {
    this.#check();
    const ring = this.ring;
    // GETEVENTS also runs completion work the kernel deferred (DEFER_TASKRUN).
    if (runDeferred || ring.unsubmitted > 0 || ring.needsEnter) ring.enter(0, -1, true);
    return this.#reap();
  }

  /**
   * Submits what is queued and reaps completions; with `timeoutMs` ≠ 0 and
   * nothing completed yet, first waits for one (at most `timeoutMs`, forever
   * when negative) — blocking this thread, for scripts and tests. Returns the
   * number of completions reaped.
   */
  poll(timeoutMs = 0): number {
    this.#check();
    let n = this.submit();
    if (n > 0 || timeoutMs === 0 || this.#inFlight.size + this.#directPending === 0) return n;
    this.ring.enter(1, timeoutMs < 0 ? -1 : timeoutMs);
    n += this.#reap();
    return n;
  }

  /**
   * An eventfd that turns readable whenever a completion is posted (made and
   * registered on first use, closed with the ring). Watch it for READABLE,
   * then call {@link Uring.drainEventFd} and {@link Uring.poll}.
   */
  get eventFd(): number {
    this.#check();
    if (this.#eventFd >= 0) return this.#eventFd;
    const c = libc();
    if (c.eventfd === undefined) throw new TypeError("eventfd is missing from this C library");
    const fd = check(c.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC), "eventfd");
    const cell = NativeBuffer.alloc(4);
    try {
      cell.view.setInt32(0, fd, true);
      this.ring.register(URING.REGISTER_EVENTFD, cell.pointer, 1);
    } catch (err) {
      c.close(fd);
      throw err;
    } finally {
      cell.free();
    }
    this.#eventFd = fd;
    return fd;
  }

  /** Makes the eventfd readable, so a wait watching it wakes and reaps (a no-op before the eventfd is made). */
  signalEventFd(): void {
    if (this.#eventFd < 0 || this.#closed) return;
    libc().write(this.#eventFd, EVENTFD_ONE, 8);
  }

  /** Resets the eventfd after it was reported readable (non-blocking read). */
  drainEventFd(): void {
    if (this.#eventFd < 0 || this.#closed) return;
    const scratch = (this.#eventScratch ??= new Uint8Array(8));
    libc().read(this.#eventFd, scratch, 8);
  }

  /**
   * Closes the ring: rejects the backlog with ECANCELED, cancels what is in
   * the kernel and waits (up to one second) for those completions, so no
   * buffer is touched afterwards, then unmaps the rings and closes the
   * descriptors. Idempotent; any later call throws UseAfterCloseError.
   */
  close(): void {
    if (this.#closed) return;
    for (let i = this.#backlogHead; i < this.#backlog.length; i++) this.#settle(this.#backlog[i]!, -ECANCELED);
    this.#backlog.length = 0;
    this.#backlogHead = 0;
    try {
      this.#drainInFlight(1000);
    } finally {
      this.#closed = true;
      // Still in the kernel after the budget: reject, but give their memory
      // up (abandon, never freed: dropped, the collector would free it)
      // rather than free what the kernel may still write.
      for (const op of this.#inFlight.values()) {
        op.memory?.abandon();
        this.#settle(op, -ECANCELED, false);
      }
      this.#inFlight.clear();
      this.ring.close();
      if (this.#eventFd >= 0) libc().close(this.#eventFd);
      this.#eventFd = -1;
    }
  }

  /** Same as {@link Uring.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Cancels everything in the kernel and reaps until it is all back or `budgetMs` passed. */
  #drainInFlight(budgetMs: number): void {
    if (this.#inFlight.size + this.#directPending === 0) return;
    const ring = this.ring;
    if (ring.sqSpace === 0) ring.enter(0);
    const flags = URING.ASYNC_CANCEL_ANY | URING.ASYNC_CANCEL_ALL;
    // user_data 0 is never an operation id: the cancel's own CQE is ignored.
    ring.prepare(IORING_OP.ASYNC_CANCEL, -1, 0, 0, 0, flags, 0);
    const deadline = Date.now() + budgetMs;
    let left = budgetMs;
    do {
      ring.enter(1, Math.max(1, left));
      try {
        this.#reap();
      } catch {
        // a callback failed while the ring closes: nobody is left to tell
      }
      left = deadline - Date.now();
    } while (this.#inFlight.size + this.#directPending > 0 && left > 0);
  }

  #op(
    name: string, kind: number, opcode: number, fd: number, addr: number, len: number, off: number,
    opFlags: number, memory: NativeBuffer | undefined, owned: boolean, done?: (res: number, more: boolean) => void,
  ): UringOp {
    if (this.#closed) {
      if (owned) memory?.free();
      throw new UseAfterCloseError("io_uring");
    }
    const id = this.#nextId++;
    let resolve: (value: number) => void = IGNORE;
    let reject: (error: unknown) => void = IGNORE;
    let promise: (Promise<number> & { id: number }) | undefined;
    if (done === undefined) {
      promise = new Promise<number>((res, rej) => {
        resolve = res;
        reject = rej;
      }) as Promise<number> & { id: number };
      promise.id = id;
      this.#promised++;
    }
    const op: Op = { id, name, kind, opcode, fd, addr, len, off, opFlags, memory, owned, resolve, reject, done };
    const cancel = kind === KIND_CANCEL || kind === KIND_CANCEL_ALL;
    if (cancel && this.#inFlight.size < this.ring.cqEntries) {
      // Cancels skip the backlog and use the reserve: they are what frees room.
      this.#push(op);
    } else if (this.#inFlight.size < this.#maxInFlight && this.#backlog.length === this.#backlogHead) {
      this.#push(op);
    } else {
      if (this.backlog >= this.#maxBacklog) {
        if (owned) memory?.free();
        throw new LimitError("ERR_URING_BACKLOG", `more than ${this.#maxBacklog} io_uring operations waiting`, this.#maxBacklog);
      }
      this.#backlog.push(op);
    }
    this.#schedule();
    if (!this.#busy && done === undefined) this.#busyChanged(true);
    // Callback operations (`queue*`) only need their id: no object for them.
    return promise ?? (id as unknown as UringOp);
  }

  /** Writes `op` into the SQ (submitting first when the SQ is full). */
  #push(op: Op): void {
    const ring = this.ring;
    if (ring.sqSpace === 0) ring.enter(0);
    const ioprio = op.kind === KIND_MULTISHOT ? URING.ACCEPT_MULTISHOT : 0;
    const id = op.id;
    if (!ring.prepareSqe(op.opcode, 0, ioprio, op.fd, op.addr, op.len, op.off, op.opFlags, id % TWO32, Math.floor(id / TWO32), 0)) {
      // The kernel did not take the SQEs (EAGAIN/EBUSY): wait for room.
      this.#backlog.splice(this.#backlogHead, 0, op);
      return;
    }
    this.#inFlight.set(op.id, op);
  }

  #schedule(): void {
    if (this.#scheduled || this.#mode === "manual") return;
    this.#scheduled = true;
    if (this.#mode === "microtask") queueMicrotask(this.#flush);
    else yieldToRuntime(this.#flush);
  }

  // Submits only: completions are reaped by poll() (the loop's eventfd
  // callback), never from this job, so a stream of completions that are
  // ready at once cannot starve the runtime's macrotasks in microtask mode.
  #flush = (): void => {
    this.#scheduled = false;
    if (!this.#closed && this.ring.unsubmitted > 0) this.ring.enter(0);
  };

  #reap(): number {
    const n = this.ring.reapWords(this.#complete);
    if (n > 0) {
      if (this.#afterReap !== undefined) {
        try {
          this.#afterReap();
        } catch (err) {
          this.#callbackThrew(err);
        }
      }
      if (this.#backlog.length > this.#backlogHead) this.#refill();
    }
    if (this.#busy && this.#promised === 0) this.#busyChanged(false);
    const error = this.#callbackError;
    if (error !== undefined) {
      this.#callbackError = undefined;
      throw error;
    }
    return n;
  }

  /** A callback threw during a reap: to `onCallbackError`, else held to be rethrown after it (the first one). */
  #callbackThrew(error: unknown): void {
    const report = this.#onCallbackError;
    if (report !== undefined) report(error);
    else this.#callbackError ??= error;
  }

  #busyChanged(busy: boolean): void {
    this.#busy = busy;
    this.#onBusyChange?.(busy);
  }

  #complete = (lo: number, hi: number, res: number, flags: number): void => {
    if (hi >= DIRECT_QUIET_HI) {
      if (hi === DIRECT_HI && (flags & CQE.F_MORE) === 0) this.#directPending--;
      try {
        this.#directSink?.(lo, res, flags);
      } catch (err) {
        this.#callbackThrew(err);
      }
      return;
    }
    const userData = lo + hi * TWO32;
    const op = this.#inFlight.get(userData);
    if (op === undefined) return;
    if (op.kind === KIND_MULTISHOT) {
      const more = (flags & CQE.F_MORE) !== 0;
      if (!more) this.#inFlight.delete(userData);
      try {
        op.done!(res, more);
      } catch (err) {
        this.#callbackThrew(err);
      }
      return;
    }
    this.#inFlight.delete(userData);
    this.#settle(op, res);
  };

  /** Moves backlog operations into the room completions made. */
  #refill(): void {
    while (this.#backlog.length > this.#backlogHead && this.#inFlight.size < this.#maxInFlight) {
      const before = this.#inFlight.size;
      const op = this.#backlog[this.#backlogHead]!;
      this.#backlog[this.#backlogHead++] = undefined as never;
      this.#push(op);
      if (this.#inFlight.size === before) break;
    }
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog.length = 0;
      this.#backlogHead = 0;
    } else if (this.#backlogHead > 1024 && this.#backlogHead * 2 > this.#backlog.length) {
      this.#backlog.splice(0, this.#backlogHead);
      this.#backlogHead = 0;
    }
    this.#schedule();
  }

  #settle(op: Op, res: number, release = true): void {
    if (op.owned && release) op.memory?.free();
    const done = op.done;
    if (done !== undefined) {
      if (op.kind === KIND_CANCEL) return;
      try {
        done(res, false);
      } catch (err) {
        this.#callbackThrew(err);
      }
      return;
    }
    this.#promised--;
    switch (op.kind) {
      case KIND_TIMEOUT:
        if (res === -ETIME) res = 0;
        break;
      case KIND_CANCEL:
        if (res === 0) res = 1;
        else if (res === -ENOENT || res === -(E.EALREADY ?? 114)) res = 0;
        break;
    }
    if (res >= 0) op.resolve(res);
    else op.reject(sysError(-res, op.name));
  }

  #check(): void {
    if (this.#closed) throw new UseAfterCloseError("io_uring");
  }
}

const IGNORE = (): void => {};
/** The 8-byte counter increment written to an eventfd. */
const EVENTFD_ONE = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
const TWO32 = 2 ** 32;

function checkFd(fd: number): number {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`invalid file descriptor ${fd}`);
  return fd;
}

function checkSpan(buf: NativeBuffer, offset: number, len: number): void {
  if (!(buf instanceof NativeBuffer)) throw new TypeError("io_uring buffers must be NativeBuffers");
  if (!Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len < 0 || offset + len > buf.byteLength) {
    throw new RangeError(`span ${offset}+${len} is outside the ${buf.byteLength}-byte buffer`);
  }
  if (len > 0x7fffffff) throw new RangeError(`length ${len} exceeds 2^31-1`);
}
