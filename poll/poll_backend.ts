/**
 * The poll(2) backend: available everywhere, level-triggered only. The
 * pollfd array is rebuilt from the registrations when they change; a parked
 * wait works on its own native copy, so changes made while it is parked are
 * seen only after the caller wakes it (`seesChangesWhileParked` is false).
 *
 * @example
 * ```ts
 * import { PollBackend2 } from "./poll_backend.ts";
 * const backend = new PollBackend2();
 * console.log(backend.wait(0)); // 0
 * backend.close();
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import {
  type BackendOptions,
  checkFd,
  ERROR,
  HANGUP,
  maxEventsOption,
  PEER_CLOSED,
  pollError,
  type PollBackend,
  READABLE,
  timeoutArg,
  WRITABLE,
} from "./backend.ts";
import { ParkingBackend } from "./parking_backend.ts";

function toPoll(events: number): number {
  let bits = 0;
  if (events & READABLE) bits |= C.POLLIN;
  if (events & WRITABLE) bits |= C.POLLOUT;
  if (events & PEER_CLOSED) bits |= C.POLLRDHUP;
  return bits;
}

function fromPoll(revents: number): number {
  let bits = 0;
  if (revents & C.POLLIN) bits |= READABLE;
  if (revents & C.POLLOUT) bits |= WRITABLE;
  if (revents & C.POLLERR) bits |= ERROR;
  if (revents & C.POLLHUP) bits |= HANGUP;
  if (revents & C.POLLNVAL) bits |= ERROR | HANGUP;
  if (C.POLLRDHUP !== 0 && revents & C.POLLRDHUP) bits |= PEER_CLOSED;
  return bits;
}

/**
 * poll(2) behind the {@link PollBackend} interface (named with a 2 to keep
 * it apart from the interface).
 *
 * @example
 * ```ts
 * import { PollBackend2 } from "./poll_backend.ts";
 * import { READABLE } from "./backend.ts";
 * import { Socket } from "../socket/socket.ts";
 * const backend = new PollBackend2({ maxEvents: 64 });
 * const [a, b] = Socket.pair();
 * backend.add(a.fd, READABLE);
 * console.log(backend.wait(0)); // 0: nothing to read yet
 * backend.close();
 * a.close(); b.close();
 * ```
 */
export class PollBackend2 extends ParkingBackend implements PollBackend {
  readonly name = "poll" as const;
  readonly supportsEdge = false;
  readonly seesChangesWhileParked = false;
  readonly readyFds: Int32Array;
  readonly readyEvents: Uint32Array;
  readonly #max: number;
  readonly #fds: number[] = [];
  readonly #interest: number[] = [];
  readonly #index = new Map<number, number>();
  #dirty = true;
  #sync = new Uint8Array(0);
  #syncView = new DataView(this.#sync.buffer);
  #parkBuffer: NativeBuffer | undefined;
  #parkCount = 0;
  /** Where the next collect starts, so a full event buffer starves no fd. */
  #start = 0;

  /** Creates a poll(2) backend returning at most `options.maxEvents` events per wait. */
  constructor(options: BackendOptions = {}) {
    super("poll backend", "poll", libc.definition.symbols.poll);
    this.#max = maxEventsOption(options);
    this.readyFds = new Int32Array(this.#max);
    this.readyEvents = new Uint32Array(this.#max);
  }

  /** The number of registered descriptors. */
  get size(): number {
    return this.#fds.length;
  }

  add(fd: number, events: number, edge = false): void {
    this.checkOpen();
    checkFd(fd);
    if (edge) throw new UnsupportedError("edge-triggered events", "poll(2) is level-triggered only");
    if (this.#index.has(fd)) throw pollError(E.EEXIST ?? 17, "poll add");
    this.#index.set(fd, this.#fds.length);
    this.#fds.push(fd);
    this.#interest.push(toPoll(events));
    this.#dirty = true;
  }

  modify(fd: number, events: number, edge = false): void {
    this.checkOpen();
    checkFd(fd);
    if (edge) throw new UnsupportedError("edge-triggered events", "poll(2) is level-triggered only");
    const i = this.#index.get(fd);
    if (i === undefined) throw pollError(E.ENOENT ?? 2, "poll modify");
    this.#interest[i] = toPoll(events);
    this.#dirty = true;
  }

  remove(fd: number): void {
    this.checkOpen();
    checkFd(fd);
    const i = this.#index.get(fd);
    if (i === undefined) throw pollError(E.ENOENT ?? 2, "poll remove");
    const last = this.#fds.length - 1;
    const lastFd = this.#fds[last]!;
    this.#fds[i] = lastFd;
    this.#interest[i] = this.#interest[last]!;
    this.#index.set(lastFd, i);
    this.#fds.pop();
    this.#interest.pop();
    this.#index.delete(fd);
    this.#dirty = true;
  }

  wait(timeoutMs: number): number {
    this.checkOpen();
    if (this.#dirty) this.#rebuild();
    const count = this.#fds.length;
    const r = this.syncCount(libc().poll(this.#sync, count, timeoutArg(timeoutMs)));
    return r === 0 ? 0 : this.#collect(this.#syncView, count);
  }

  async park(timeoutMs: number): Promise<number> {
    this.checkCanPark();
    if (this.#dirty) this.#rebuild();
    const size = LAYOUT.pollfd.size;
    const count = this.#fds.length;
    if (this.#parkBuffer === undefined || this.#parkBuffer.byteLength < count * size) {
      this.#parkBuffer?.free();
      this.#parkBuffer = NativeBuffer.alloc(Math.max(16, count * 2) * size);
    }
    this.#parkBuffer.bytes.set(this.#sync.subarray(0, count * size));
    this.#parkCount = count;
    const result = await this.parkedCount(this.#parkBuffer.pointer, count, timeoutArg(timeoutMs));
    return result === 0 ? 0 : this.#collect(this.#parkBuffer!.view, this.#parkCount);
  }

  /** Frees the native pollfd and park buffers (called once the backend is closed and no wait is parked). */
  protected override releaseNative(): void {
    this.#parkBuffer?.free();
    this.#parkBuffer = undefined;
  }

  #rebuild(): void {
    const layout = LAYOUT.pollfd;
    const count = this.#fds.length;
    if (this.#sync.byteLength < count * layout.size) {
      this.#sync = new Uint8Array(Math.max(16, count * 2) * layout.size);
      this.#syncView = new DataView(this.#sync.buffer);
    }
    const view = this.#syncView;
    for (let i = 0; i < count; i++) {
      const at = i * layout.size;
      view.setInt32(at + layout.fd, this.#fds[i]!, true);
      view.setInt16(at + layout.events, this.#interest[i]!, true);
      view.setInt16(at + layout.revents, 0, true);
    }
    this.#dirty = false;
  }

  /**
   * Reports the ready entries, at most `maxEvents`. When they do not all
   * fit, the next collect starts after the last one reported (round robin),
   * so the entries late in the array are not starved by the early ones.
   */
  #collect(view: DataView, count: number): number {
    const layout = LAYOUT.pollfd;
    const max = this.#max;
    let n = 0;
    let i = this.#start < count ? this.#start : 0;
    for (let k = 0; k < count && n < max; k++) {
      const at = i * layout.size;
      if (++i === count) i = 0;
      const revents = view.getUint16(at + layout.revents, true);
      if (revents === 0) continue;
      this.readyFds[n] = view.getInt32(at + layout.fd, true);
      this.readyEvents[n] = fromPoll(revents);
      n++;
    }
    this.#start = n === max ? i : 0;
    return n;
  }
}
