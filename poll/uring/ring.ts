/**
 * `Ring`: one io_uring instance — the file descriptor from io_uring_setup,
 * the SQ ring, CQ ring and SQE array mapped into this process, and typed
 * views over them. It writes SQEs, publishes them, enters the kernel and
 * reads CQEs; what the operations mean lives in `ops.ts`.
 *
 * ## Memory ordering
 *
 * The rings are shared with the kernel. The kernel publishes a CQE with a
 * store-release of the CQ tail and reads our SQ tail with a load-acquire
 * (and again inside io_uring_enter, which is a full barrier anyway). On our
 * side every head/tail access goes through `Atomics.load`/`Atomics.store`,
 * which all three runtimes accept on a non-shared Int32Array over external
 * memory (checked on Deno, Bun and Node before this was written): they are
 * sequentially consistent, so the SQE bytes are visible before the new tail
 * and the CQ tail is read before the CQEs it covers, and the JIT may neither
 * cache a head/tail in a register nor reorder the accesses around them. Even
 * with plain typed-array accesses, x86-64 (TSO) keeps stores in order and
 * loads in order; the Atomics are what stop the compiler.
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * import { IORING_OP } from "./uapi.ts";
 * const ring = Ring.open({ entries: 8 });
 * ring.prepare(IORING_OP.NOP, -1, 0, 0, 0, 0, 1);
 * ring.enter(1);
 * ring.reap((id, res) => console.log(id, res)); // 1 0
 * ring.close();
 * ```
 *
 * @module
 */
import { UnsupportedError, UseAfterCloseError } from "../../core/errors.ts";
import { sysError } from "../../core/sys_error.ts";
import { libc } from "../../ffi/libc.ts";
import { native } from "../../ffi/native.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { C, E, LAYOUT } from "../../ffi/platform.ts";
import { writeTimespec } from "../../ffi/marshal.ts";
import type { Pointer } from "../../ffi/types.ts";
import { IORING_OP, URING } from "./uapi.ts";

/** Options of {@link Ring.open}. */
export interface RingOptions {
  /** SQ entries (rounded up to a power of two by the kernel; CQ is twice that). Default 256. */
  entries?: number;
  /**
   * CQ entries (IORING_SETUP_CQSIZE, clamped by the kernel; rounded up to a
   * power of two); default twice `entries`. A large CQ lets many operations
   * wait at once (one poll per idle connection) with a small SQ.
   */
  cqEntries?: number;
  /**
   * Extra IORING_SETUP_* flags (SINGLE_ISSUER, DEFER_TASKRUN, COOP_TASKRUN …).
   * A kernel that does not know one refuses the ring with EINVAL: callers
   * retry with fewer (see `loop_io.ts`).
   */
  setupFlags?: number;
}

/**
 * Receives one completion with its user_data split into 32-bit halves (no
 * float arithmetic on the hot path): `lo`, `hi`, the result and the flags.
 *
 * @example
 * ```ts
 * import type { CompletionWordSink } from "./ring.ts";
 * const sink: CompletionWordSink = (lo, hi, res) => console.log(lo + hi * 2 ** 32, res);
 * ```
 */
export type CompletionWordSink = (lo: number, hi: number, res: number, flags: number) => void;

/** Receives one completion: its user_data, its result and its flags. */
export type CompletionSink = (userData: number, res: number, flags: number) => void;

const TWO32 = 2 ** 32;
const MAP_FAILED = 0xffffffffffffffffn;

/** What a ring owns in the kernel and in the address space. */
interface RingResources {
  fd: number;
  maps: { pointer: Pointer; length: number }[];
  released: boolean;
}

function release(r: RingResources): void {
  if (r.released) return;
  r.released = true;
  for (const m of r.maps.splice(0)) libc().munmap(m.pointer, m.length);
  libc().close(r.fd);
}

// The safety net for a ring dropped without close(); never the plan.
const registry = new FinalizationRegistry<RingResources>(release);

/** The numeric address of native memory, for SQE fields and syscall arguments. */
export function addressOf(pointer: Pointer | null): number {
  return Number(native.address(pointer));
}

/**
 * io_uring_setup/io_uring_enter/io_uring_register through `syscall(2)`.
 * Returns the result, or `-errno` (read at once on this thread).
 */
function sys(nr: number, a: number, b: number, c: number, d: number, e: number, f: number): number {
  const r = libc().syscall(nr, a, b, c, d, e, f);
  return r < 0 ? -native.errno() : r;
}

function mapRegion(fd: number, length: number, offset: number): Pointer {
  const p = libc().mmap(null, length, C.PROT_READ | C.PROT_WRITE, C.MAP_SHARED | C.MAP_POPULATE, fd, offset);
  if (p === null || native.address(p) === MAP_FAILED) throw sysError(native.errno(), "mmap");
  return p;
}

/**
 * An io_uring instance in native memory, freed exactly once by `close()`.
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * using ring = Ring.open();
 * console.log(ring.sqEntries, ring.cqEntries); // 256 512
 * ```
 */
export class Ring {
  /** The io_uring file descriptor. */
  readonly fd: number;
  /** SQ size (a power of two). */
  readonly sqEntries: number;
  /** CQ size (twice the SQ by default). */
  readonly cqEntries: number;
  /** IORING_FEAT_* bits the kernel reported. */
  readonly features: number;
  /** The IORING_SETUP_* flags the ring was made with. */
  readonly setupFlags: number;
  readonly #maps: { pointer: Pointer; length: number }[];
  readonly #resources: RingResources;
  readonly #views: ArrayBuffer[] = [];
  #waitArg: NativeBuffer | undefined;
  readonly #sqRing: Int32Array;
  readonly #cqRing: Int32Array;
  readonly #sqHead: number;
  readonly #sqTail: number;
  readonly #sqFlags: number;
  readonly #sqMask: number;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #cqMask: number;
  readonly #cqFlags: number;
  /** The SQEs as 32-bit words (16 per SQE). */
  readonly #sqeWords: Uint32Array;
  /** The CQEs as 32-bit words (4 per CQE): user_data lo/hi, res, flags. */
  readonly #cqeWords: Uint32Array;
  readonly #cqeRes: Int32Array;
  readonly #cqeBase: number;
  /** Our SQ tail: SQEs written but maybe not yet published. */
  #tail: number;
  #closed = false;

  private constructor(fd: number, params: DataView) {
    const P = LAYOUT.io_uring_params;
    const SQ = LAYOUT.io_sqring_offsets;
    const CQ = LAYOUT.io_cqring_offsets;
    const sqOff = (field: number): number => params.getUint32(P.sq_off + field, true);
    const cqOff = (field: number): number => params.getUint32(P.cq_off + field, true);
    this.fd = fd;
    this.sqEntries = params.getUint32(P.sq_entries, true);
    this.cqEntries = params.getUint32(P.cq_entries, true);
    this.features = params.getUint32(P.features, true);
    this.setupFlags = params.getUint32(P.flags, true);
    const sqSize = sqOff(SQ.array) + this.sqEntries * 4;
    const cqSize = cqOff(CQ.cqes) + this.cqEntries * LAYOUT.io_uring_cqe.size;
    const single = (this.features & URING.FEAT_SINGLE_MMAP) !== 0;
    this.#maps = [];
    this.#resources = { fd, maps: this.#maps, released: false };
    try {
      const sqLen = single ? Math.max(sqSize, cqSize) : sqSize;
      const sq = mapRegion(fd, sqLen, URING.OFF_SQ_RING);
      this.#maps.push({ pointer: sq, length: sqLen });
      let cq = sq;
      if (!single) {
        cq = mapRegion(fd, cqSize, URING.OFF_CQ_RING);
        this.#maps.push({ pointer: cq, length: cqSize });
      }
      const sqeLen = this.sqEntries * LAYOUT.io_uring_sqe.size;
      const sqes = mapRegion(fd, sqeLen, URING.OFF_SQES);
      this.#maps.push({ pointer: sqes, length: sqeLen });
      const sqBuffer = native.view(sq, sqLen - (sqLen % 4));
      this.#sqRing = new Int32Array(sqBuffer);
      const cqLen = single ? sqLen : cqSize;
      const cqBuffer = single ? sqBuffer : native.view(cq, cqLen - (cqLen % 4));
      this.#cqRing = new Int32Array(cqBuffer);
      this.#cqeWords = new Uint32Array(cqBuffer);
      this.#cqeRes = new Int32Array(cqBuffer);
      const sqeBuffer = native.view(sqes, sqeLen);
      this.#views.push(sqBuffer, sqeBuffer);
      if (!single) this.#views.push(cqBuffer);
      this.#sqeWords = new Uint32Array(sqeBuffer);
    } catch (err) {
      release(this.#resources);
      throw err;
    }
    this.#sqHead = sqOff(SQ.head) >> 2;
    this.#sqTail = sqOff(SQ.tail) >> 2;
    this.#sqFlags = sqOff(SQ.flags) >> 2;
    this.#sqMask = this.#sqRing[sqOff(SQ.ring_mask) >> 2]! >>> 0;
    this.#cqHead = cqOff(CQ.head) >> 2;
    this.#cqTail = cqOff(CQ.tail) >> 2;
    this.#cqMask = this.#cqRing[cqOff(CQ.ring_mask) >> 2]! >>> 0;
    this.#cqFlags = cqOff(CQ.flags) >> 2;
    this.#cqeBase = cqOff(CQ.cqes) >> 2;
    // The SQ index array maps ring slots to SQEs: identity, set once.
    const array = sqOff(SQ.array) >> 2;
    for (let i = 0; i < this.sqEntries; i++) this.#sqRing[array + i] = i;
    this.#tail = Atomics.load(this.#sqRing, this.#sqTail) >>> 0;
    registry.register(this, this.#resources, this.#resources);
  }

  /**
   * Creates a ring with io_uring_setup and maps it.
   *
   * @throws {UnsupportedError} off Linux; SocketError when the kernel refuses (EPERM, ENOSYS, ENOMEM …).
   *
   * @example
   * ```ts
   * import { Ring } from "./ring.ts";
   * const ring = Ring.open({ entries: 64 });
   * ring.close();
   * ```
   */
  static open(options: RingOptions = {}): Ring {
    if (native.os !== "linux") throw new UnsupportedError("io_uring", "io_uring exists only on Linux");
    const entries = options.entries ?? 256;
    if (!Number.isInteger(entries) || entries < 1 || entries > URING.MAX_ENTRIES) {
      throw new RangeError(`entries must be an integer in 1..${URING.MAX_ENTRIES}, got ${entries}`);
    }
    const cqEntries = options.cqEntries;
    if (cqEntries !== undefined && (!Number.isInteger(cqEntries) || cqEntries < entries || cqEntries > URING.MAX_CQ_ENTRIES)) {
      throw new RangeError(`cqEntries must be an integer in ${entries}..${URING.MAX_CQ_ENTRIES}, got ${cqEntries}`);
    }
    const params = NativeBuffer.alloc(LAYOUT.io_uring_params.size);
    try {
      let flags = (options.setupFlags ?? 0) >>> 0;
      if (cqEntries !== undefined) {
        flags |= URING.SETUP_CQSIZE | URING.SETUP_CLAMP;
        params.view.setUint32(LAYOUT.io_uring_params.cq_entries, cqEntries, true);
      }
      params.view.setUint32(LAYOUT.io_uring_params.flags, flags, true);
      const fd = sys(C.SYS_io_uring_setup, entries, addressOf(params.pointer), 0, 0, 0, 0);
      if (fd < 0) throw sysError(-fd, "io_uring_setup");
      return new Ring(fd, params.view);
    } finally {
      params.free();
    }
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** SQEs written and not yet taken by the kernel. */
  get unsubmitted(): number {
    return (this.#tail - (Atomics.load(this.#sqRing, this.#sqHead) >>> 0)) >>> 0;
  }

  /** Free SQ slots. */
  get sqSpace(): number {
    return this.sqEntries - this.unsubmitted;
  }

  /** Completions posted and not yet reaped. */
  get completions(): number {
    return ((Atomics.load(this.#cqRing, this.#cqTail) >>> 0) - (Atomics.load(this.#cqRing, this.#cqHead) >>> 0)) >>> 0;
  }

  /**
   * Whether completions wait for an io_uring_enter(GETEVENTS) to be posted:
   * deferred work (SETUP_TASKRUN_FLAG) or a CQ overflow.
   */
  get needsEnter(): boolean {
    return (Atomics.load(this.#sqRing, this.#sqFlags) & (URING.SQ_TASKRUN | URING.SQ_CQ_OVERFLOW)) !== 0;
  }

  /**
   * Turns the registered eventfd's notifications off or on
   * (IORING_CQ_EVENTFD_DISABLED, 5.8+): a loop that is reaping anyway
   * silences the completions its own io_uring_enter posts.
   */
  setEventFdEnabled(on: boolean): void {
    const flags = Atomics.load(this.#cqRing, this.#cqFlags);
    const next = on ? flags & ~URING.CQ_EVENTFD_DISABLED : flags | URING.CQ_EVENTFD_DISABLED;
    if (next !== flags) Atomics.store(this.#cqRing, this.#cqFlags, next);
  }

  /**
   * Writes one SQE with every field the socket operations use; returns false
   * when the SQ is full. `addr` and `off` are safe integers; user_data is
   * given as two 32-bit halves; `fileIndex` is `sqe->file_index` (a direct
   * descriptor slot + 1 for SOCKET and CLOSE, 0 otherwise). The hot path of connections.
   */
  prepareSqe(
    opcode: number, sqeFlags: number, ioprio: number, fd: number, addr: number, len: number, off: number,
    opFlags: number, userLo: number, userHi: number, bufGroup: number, fileIndex = 0,
  ): boolean {
    const tail = this.#tail;
    if (this.#closed || ((tail - (Atomics.load(this.#sqRing, this.#sqHead) >>> 0)) >>> 0) >= this.sqEntries) {
      this.#check();
      return false;
    }
    const w = (tail & this.#sqMask) << 4;
    const words = this.#sqeWords;
    words[w] = opcode | (sqeFlags << 8) | (ioprio << 16);
    words[w + 1] = fd;
    words[w + 2] = off % TWO32;
    words[w + 3] = off < TWO32 ? 0 : Math.floor(off / TWO32);
    words[w + 4] = addr % TWO32;
    words[w + 5] = addr < TWO32 ? 0 : Math.floor(addr / TWO32);
    words[w + 6] = len;
    words[w + 7] = opFlags;
    words[w + 8] = userLo;
    words[w + 9] = userHi;
    words[w + 10] = bufGroup;
    words[w + 11] = fileIndex;
    words[w + 12] = 0;
    words[w + 13] = 0;
    words[w + 14] = 0;
    words[w + 15] = 0;
    this.#tail = (tail + 1) >>> 0;
    return true;
  }

  /**
   * Writes an IORING_OP_ASYNC_CANCEL of the operation whose user_data is
   * (`targetLo`, `targetHi`); returns false when the SQ is full.
   */
  prepareCancel(targetLo: number, targetHi: number, userLo: number, userHi: number): boolean {
    if (!this.prepareSqe(IORING_OP.ASYNC_CANCEL, 0, 0, -1, 0, 0, 0, 0, userLo, userHi, 0)) return false;
    const w = (((this.#tail - 1) >>> 0) & this.#sqMask) << 4;
    this.#sqeWords[w + 4] = targetLo;
    this.#sqeWords[w + 5] = targetHi;
    return true;
  }

  /**
   * Writes one SQE at the tail (zeroing the rest) and returns false when the
   * SQ is full. `addr`, `off` and `userData` are 64-bit fields given as safe
   * integers; the SQE is published by the next {@link Ring.enter}.
   */
  prepare(opcode: number, fd: number, addr: number, len: number, off: number, opFlags: number, userData: number): boolean {
    return this.prepareSqe(opcode, 0, 0, fd, addr, len, off, opFlags, userData % TWO32, Math.floor(userData / TWO32), 0);
  }

  /**
   * Publishes the written SQEs and calls io_uring_enter: submits every
   * unsubmitted SQE and, when `minComplete > 0`, waits for that many
   * completions (at most `timeoutMs` when given and ≥ 0, which needs
   * IORING_FEAT_EXT_ARG). Returns the number submitted; EINTR, EAGAIN,
   * EBUSY and ETIME (the wait timed out) return 0 instead of throwing.
   */
  enter(minComplete = 0, timeoutMs = -1, getEvents = false): number {
    this.#check();
    Atomics.store(this.#sqRing, this.#sqTail, this.#tail | 0);
    const toSubmit = this.unsubmitted;
    if (toSubmit === 0 && minComplete === 0 && !getEvents) return 0;
    let flags = minComplete > 0 || getEvents ? URING.ENTER_GETEVENTS : 0;
    let arg = 0;
    let argSize = 0;
    if (minComplete > 0 && timeoutMs >= 0) {
      if ((this.features & URING.FEAT_EXT_ARG) === 0) {
        throw new UnsupportedError("io_uring timed wait", "the kernel lacks IORING_FEAT_EXT_ARG (5.11+)");
      }
      const buf = this.#timedWaitArg();
      writeTimespec(buf.view, URING.GETEVENTS_ARG_SIZE, timeoutMs);
      flags |= URING.ENTER_EXT_ARG;
      arg = addressOf(buf.pointer);
      argSize = URING.GETEVENTS_ARG_SIZE;
    }
    const r = sys(C.SYS_io_uring_enter, this.fd, toSubmit, minComplete, flags, arg, argSize);
    if (r >= 0) return r;
    const errno = -r;
    if (errno === E.EINTR || errno === E.EAGAIN || errno === E.EBUSY || errno === E.ETIME) return 0;
    throw sysError(errno, "io_uring_enter");
  }

  /** struct io_uring_getevents_arg followed by its timespec, allocated once. */
  #timedWaitArg(): NativeBuffer {
    if (this.#waitArg !== undefined) return this.#waitArg;
    const buf = NativeBuffer.alloc(URING.GETEVENTS_ARG_SIZE + LAYOUT.timespec.size);
    const ts = addressOf(buf.pointerAt(URING.GETEVENTS_ARG_SIZE));
    buf.view.setBigUint64(URING.GETEVENTS_ARG_TS, BigInt(ts), true);
    return (this.#waitArg = buf);
  }

  /**
   * Calls `sink` for every posted completion, then releases their slots
   * (when `sink` throws, the completions it saw are released and the rest
   * wait for the next reap). `sink` must not re-enter this ring. Returns the
   * number reaped.
   */
  reap(sink: CompletionSink): number {
    return this.reapWords((low, high, res, flags) => sink(low + high * TWO32, res, flags));
  }

  /**
   * Like {@link Ring.reap}, with user_data in 32-bit halves. Returns the
   * number reaped.
   */
  reapWords(sink: CompletionWordSink): number {
    this.#check();
    const ring = this.#cqRing;
    let head = Atomics.load(ring, this.#cqHead) >>> 0;
    const tail = Atomics.load(ring, this.#cqTail) >>> 0;
    const n = (tail - head) >>> 0;
    if (n === 0) return 0;
    const words = this.#cqeWords;
    const res = this.#cqeRes;
    const base = this.#cqeBase;
    const mask = this.#cqMask;
    try {
      for (let i = 0; i < n; i++) {
        const w = base + ((head & mask) << 2);
        head = (head + 1) >>> 0;
        sink(words[w]!, words[w + 1]!, res[w + 2]!, words[w + 3]!);
      }
    } finally {
      // When the sink throws, the completion it saw is consumed; the rest wait for the next reap.
      Atomics.store(ring, this.#cqHead, head | 0);
    }
    return n;
  }

  /**
   * io_uring_register with a pointer argument; returns the result or throws.
   */
  register(opcode: number, arg: Pointer | null, count: number): number {
    this.#check();
    const r = sys(C.SYS_io_uring_register, this.fd, opcode, addressOf(arg), count, 0, 0);
    if (r < 0) throw sysError(-r, "io_uring_register");
    return r;
  }

  /** Unmaps the rings and closes the descriptor; a second call does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of this.#views.splice(0)) native.detach(v);
    registry.unregister(this.#resources);
    release(this.#resources);
    this.#waitArg?.free();
    this.#waitArg = undefined;
  }

  /** Same as {@link Ring.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #check(): void {
    if (this.#closed) throw new UseAfterCloseError("io_uring ring");
  }
}

