/**
 * The kqueue backend (macOS, FreeBSD): EVFILT_READ / EVFILT_WRITE filters,
 * `EV_CLEAR` for edge-triggered reports.
 *
 * UNTESTED: written from `<sys/event.h>`; this machine is Linux, so no
 * runner has exercised it. The struct layout comes from `LAYOUT.kevent`
 * (the 32-byte macOS `struct kevent`; FreeBSD 12+ uses a 64-byte struct
 * with `ext[4]`, which a FreeBSD layout must describe).
 *
 * @example
 * ```ts
 * import { platform } from "node:os";
 * import { KqueueBackend } from "./kqueue.ts";
 * if (platform() === "darwin" || platform() === "freebsd") {
 *   const kq = new KqueueBackend();
 *   kq.wait(0);
 *   kq.close();
 * }
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { writeTimespec } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import {
  type BackendOptions,
  checkFd,
  ERROR,
  HANGUP,
  maxEventsOption,
  PEER_CLOSED,
  pollCheck,
  pollError,
  type PollBackend,
  READABLE,
  timeoutArg,
  WRITABLE,
} from "./backend.ts";
import { ParkingBackend } from "./parking_backend.ts";

/**
 * kqueue behind the {@link PollBackend} interface. Marked untested.
 *
 * @example
 * ```ts
 * import { platform } from "node:os";
 * import { KqueueBackend } from "./kqueue.ts";
 * if (platform() === "darwin") new KqueueBackend({ maxEvents: 256 }).close();
 * ```
 */
export class KqueueBackend extends ParkingBackend implements PollBackend {
  readonly name = "kqueue" as const;
  readonly supportsEdge = true;
  readonly seesChangesWhileParked = true;
  readonly readyFds: Int32Array;
  readonly readyEvents: Uint32Array;
  readonly #kq: number;
  readonly #max: number;
  readonly #interest = new Map<number, number>();
  readonly #changes = new Uint8Array(LAYOUT.kevent.size * 2);
  readonly #changesView = new DataView(this.#changes.buffer);
  readonly #sync: Uint8Array;
  readonly #syncView: DataView;
  readonly #timespec = new Uint8Array(LAYOUT.timespec.size);
  readonly #timespecView = new DataView(this.#timespec.buffer);
  #parkEvents: NativeBuffer | undefined;
  #parkTimespec: NativeBuffer | undefined;

  /** Opens a kqueue with room for `options.maxEvents` events per wait; throws UnsupportedError where kqueue is not available. */
  constructor(options: BackendOptions = {}) {
    super("kqueue backend", "kevent", libc.definition.symbols.kevent);
    const c = libc();
    if (c.kqueue === undefined || c.kevent === undefined || LAYOUT.kevent.size === 0) {
      throw new UnsupportedError("kqueue", "kqueue is not available on this platform");
    }
    this.#max = maxEventsOption(options);
    this.readyFds = new Int32Array(this.#max);
    this.readyEvents = new Uint32Array(this.#max);
    this.#sync = new Uint8Array(LAYOUT.kevent.size * this.#max);
    this.#syncView = new DataView(this.#sync.buffer);
    this.#kq = pollCheck(c.kqueue(), "kqueue");
  }

  add(fd: number, events: number, edge = false): void {
    this.checkOpen();
    checkFd(fd);
    if (this.#interest.has(fd)) throw pollError(E.EEXIST ?? 17, "kevent add");
    this.#apply(fd, 0, events, edge);
    this.#interest.set(fd, events);
  }

  modify(fd: number, events: number, edge = false): void {
    this.checkOpen();
    checkFd(fd);
    const old = this.#interest.get(fd);
    if (old === undefined) throw pollError(E.ENOENT ?? 2, "kevent modify");
    this.#apply(fd, old, events, edge);
    this.#interest.set(fd, events);
  }

  remove(fd: number): void {
    this.checkOpen();
    checkFd(fd);
    const old = this.#interest.get(fd);
    if (old === undefined) throw pollError(E.ENOENT ?? 2, "kevent remove");
    this.#apply(fd, old, 0, false);
    this.#interest.delete(fd);
  }

  wait(timeoutMs: number): number {
    this.checkOpen();
    const t = timeoutArg(timeoutMs);
    let ts: Uint8Array | null = null;
    if (t >= 0) {
      writeTimespec(this.#timespecView, 0, t);
      ts = this.#timespec;
    }
    const r = this.syncCount(libc().kevent!(this.#kq, null, 0, this.#sync, this.#max, ts));
    return this.#collect(this.#syncView, r);
  }

  async park(timeoutMs: number): Promise<number> {
    this.checkCanPark(); // before the timespec a wait in flight reads is touched
    this.#parkEvents ??= NativeBuffer.alloc(LAYOUT.kevent.size * this.#max);
    this.#parkTimespec ??= NativeBuffer.alloc(LAYOUT.timespec.size);
    const t = timeoutArg(timeoutMs);
    if (t >= 0) writeTimespec(this.#parkTimespec.view, 0, t);
    const result = await this.parkedCount(
      this.#kq,
      null,
      0,
      this.#parkEvents.pointer,
      this.#max,
      t >= 0 ? this.#parkTimespec.pointer : null,
    );
    return result === 0 ? 0 : this.#collect(this.#parkEvents!.view, result);
  }

  /** Closes the kqueue descriptor and frees the native buffers (called once the backend is closed and no wait is parked). */
  protected override releaseNative(): void {
    libc().close(this.#kq);
    this.#parkEvents?.free();
    this.#parkTimespec?.free();
  }

  /** Adds and deletes the read and write filters that changed. */
  #apply(fd: number, old: number, events: number, edge: boolean): void {
    let n = 0;
    const flags = C.EV_ADD | (edge ? C.EV_CLEAR : 0);
    const wantRead = (events & READABLE) !== 0;
    const wantWrite = (events & WRITABLE) !== 0;
    const hadRead = (old & READABLE) !== 0;
    const hadWrite = (old & WRITABLE) !== 0;
    if (wantRead) n = this.#change(n, fd, C.EVFILT_READ, flags);
    else if (hadRead) n = this.#change(n, fd, C.EVFILT_READ, C.EV_DELETE);
    if (wantWrite) n = this.#change(n, fd, C.EVFILT_WRITE, flags);
    else if (hadWrite) n = this.#change(n, fd, C.EVFILT_WRITE, C.EV_DELETE);
    if (n === 0) return;
    const zero = new Uint8Array(LAYOUT.timespec.size);
    pollCheck(libc().kevent!(this.#kq, this.#changes, n, null, 0, zero), "kevent(change)");
  }

  #change(n: number, fd: number, filter: number, flags: number): number {
    const k = LAYOUT.kevent;
    const at = n * k.size;
    const view = this.#changesView;
    this.#changes.fill(0, at, at + k.size);
    view.setBigUint64(at + k.ident, BigInt(fd), true);
    view.setInt16(at + k.filter, filter, true);
    view.setUint16(at + k.flags, flags, true);
    return n + 1;
  }

  #collect(view: DataView, n: number): number {
    const k = LAYOUT.kevent;
    for (let i = 0; i < n; i++) {
      const at = i * k.size;
      const filter = view.getInt16(at + k.filter, true);
      const flags = view.getUint16(at + k.flags, true);
      let bits = filter === C.EVFILT_WRITE ? WRITABLE : READABLE;
      if (flags & C.EV_EOF) bits |= filter === C.EVFILT_READ ? PEER_CLOSED : HANGUP;
      if (flags & C.EV_ERROR) bits |= ERROR;
      this.readyFds[i] = Number(view.getBigUint64(at + k.ident, true));
      this.readyEvents[i] = bits;
    }
    return n;
  }
}
