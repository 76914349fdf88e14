/**
 * `Poll`: the synchronous poll set, close to the seed's SocketPoll. One call
 * maps to one system call; `wait` also fires the timers that are due.
 *
 * @example
 * ```ts
 * import { Poll, READABLE } from "./poll.ts";
 * const poll = new Poll();
 * const ticks: number[] = [];
 * poll.timers.once(5, () => ticks.push(1));
 * poll.wait(50); // returns after the timer fired
 * console.log(ticks, poll.backendName); // [1] "epoll"
 * poll.close();
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { type Timer, TimerHeap } from "../core/timer_heap.ts";
import {
  type BackendName,
  type BackendOptions,
  ERROR,
  HANGUP,
  PEER_CLOSED,
  type PollBackend,
  pollError,
  READABLE,
  WRITABLE,
} from "./backend.ts";
import { createBackend } from "./choose.ts";
import { E } from "../ffi/platform.ts";

export { ERROR, HANGUP, PEER_CLOSED, READABLE, WRITABLE };

/** Anything with a file descriptor: a `Socket`, a listener, `{ fd }`. */
export interface HasFd {
  /** The file descriptor to watch. */
  readonly fd: number;
}

/**
 * One ready descriptor. The records are reused by the next `wait`: copy what
 * you keep.
 *
 * @example
 * ```ts
 * import type { PollEvent } from "./poll.ts";
 * function onEvent(e: PollEvent<string>) {
 *   if (e.readable) console.log("read", e.fd, e.data);
 * }
 * ```
 */
export interface PollEvent<T = unknown> {
  /** The file descriptor. */
  fd: number;
  /** Readiness bits (READABLE, WRITABLE, ERROR, HANGUP, PEER_CLOSED). */
  events: number;
  /** What was passed to `add`. */
  data: T;
  /** The socket (or `{fd}` object) registered, or undefined for `addFd`. */
  target: HasFd | undefined;
  /** True when the descriptor is readable (READABLE bit set). */
  readonly readable: boolean;
  /** True when the descriptor is writable (WRITABLE bit set). */
  readonly writable: boolean;
  /** True when the descriptor reported an error (ERROR bit set). */
  readonly error: boolean;
  /** True when the peer hung up (HANGUP bit set). */
  readonly hangup: boolean;
}

class Record<T> implements PollEvent<T> {
  fd = -1;
  events = 0;
  data!: T;
  target: HasFd | undefined = undefined;
  get readable(): boolean {
    return (this.events & READABLE) !== 0;
  }
  get writable(): boolean {
    return (this.events & WRITABLE) !== 0;
  }
  get error(): boolean {
    return (this.events & ERROR) !== 0;
  }
  get hangup(): boolean {
    return (this.events & (HANGUP | PEER_CLOSED)) !== 0;
  }
}

interface Registration<T> {
  fd: number;
  events: number;
  edge: boolean;
  data: T;
  target: HasFd | undefined;
}

/** Options of a {@link Poll}. */
export interface PollOptions extends BackendOptions {
  /** The backend (default: `FFINET_POLL`, else the platform's best). */
  backend?: BackendName;
  /**
   * Gets the error of a timer callback that throws during `wait`, which
   * then returns its ready events as usual. Without it `wait` throws the
   * error once the due timers have run, and that call's events are not
   * returned: level-triggered ones are reported again by the next wait,
   * edge-triggered ones are lost.
   */
  onTimerError?: (error: unknown, timer: Timer) => void;
}

/** Options of {@link Poll.add}. */
export interface AddOptions {
  /** Edge-triggered reports (epoll, kqueue). */
  edge?: boolean;
}

/**
 * A synchronous poll set with its own timers.
 *
 * @example
 * ```ts
 * import { Poll, READABLE } from "./poll.ts";
 * import { Socket } from "../socket/socket.ts";
 * const poll = new Poll<string>({ backend: "poll" });
 * const [socket, peer] = Socket.pair();
 * poll.add(socket, READABLE, "client 1");
 * peer.sendAll(new Uint8Array(1));
 * for (const event of poll.wait(0)) console.log(event.fd, event.data); // … "client 1"
 * poll.close();
 * socket.close(); peer.close();
 * ```
 */
export class Poll<T = unknown> {
  /** Timers fired by {@link Poll.wait}. */
  readonly timers: TimerHeap;
  readonly #backend: PollBackend;
  readonly #registrations = new Map<number, Registration<T>>();
  readonly #records: Record<T>[] = [];
  readonly #out: PollEvent<T>[] = [];
  #closed = false;

  /** Creates a poller on the backend `options.backend` (default: the best one for this platform); `onTimerError` receives errors thrown by timer callbacks. */
  constructor(options: PollOptions = {}) {
    const onError = options.onTimerError;
    if (onError !== undefined && typeof onError !== "function") throw new TypeError("onTimerError must be a function");
    this.timers = new TimerHeap(onError === undefined ? {} : { onError });
    this.#backend = createBackend(options.backend, options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents });
  }

  /** The backend in use: "epoll", "poll" or "kqueue". */
  get backendName(): BackendName {
    return this.#backend.name;
  }

  /** Number of registered descriptors. */
  get size(): number {
    return this.#registrations.size;
  }

  /** The registered sockets (objects passed to `add`). */
  get sockets(): HasFd[] {
    const out: HasFd[] = [];
    for (const r of this.#registrations.values()) if (r.target !== undefined) out.push(r.target);
    return out;
  }

  /** Whether a socket or fd is registered. */
  has(target: HasFd | number): boolean {
    return this.#registrations.has(fdOf(target));
  }

  /** Registers a socket (anything with `fd`) for `events` with `data`. */
  add(target: HasFd, events: number, data: T, options: AddOptions = {}): void {
    this.#add(target.fd, target, events, data, options.edge ?? false);
  }

  /** Registers a raw file descriptor. */
  addFd(fd: number, events: number, data: T, options: AddOptions = {}): void {
    this.#add(fd, undefined, events, data, options.edge ?? false);
  }

  /** Replaces the interest (and, if given, the data) of a registration. */
  modify(target: HasFd | number, events: number, data?: T): void {
    const r = this.#get(target);
    this.#backend.modify(r.fd, events, r.edge);
    r.events = events;
    if (data !== undefined) r.data = data;
  }

  /** Adds the bits of `add` and clears the bits of `remove` in the interest. */
  modifyEvents(target: HasFd | number, add: number, remove: number): void {
    const r = this.#get(target);
    const events = (r.events | add) & ~remove;
    if (events === r.events) return;
    this.#backend.modify(r.fd, events, r.edge);
    r.events = events;
  }

  /**
   * Unregisters (call before closing the descriptor). The registration is
   * forgotten even when the backend fails (an fd closed first: EBADF), so
   * the number can be added again; the failure is still thrown.
   */
  remove(target: HasFd | number): void {
    const r = this.#get(target);
    this.#registrations.delete(r.fd);
    this.#backend.remove(r.fd);
  }

  /**
   * Waits up to `timeoutMs` (-1: until an event or the next timer), fires
   * the due timers, and returns the ready descriptors. The array and its
   * records are reused by the next call.
   */
  wait(timeoutMs: number): readonly PollEvent<T>[] {
    this.#checkOpen();
    let timeout = timeoutMs < 0 ? -1 : timeoutMs;
    const timerTimeout = this.timers.timeoutMs();
    if (timerTimeout >= 0 && (timeout < 0 || timerTimeout < timeout)) timeout = timerTimeout;
    const n = this.#backend.wait(timeout);
    const out = this.#out;
    out.length = 0;
    const fds = this.#backend.readyFds;
    const evs = this.#backend.readyEvents;
    for (let i = 0; i < n; i++) {
      const r = this.#registrations.get(fds[i]!);
      if (r === undefined) continue;
      const record = (this.#records[out.length] ??= new Record<T>());
      record.fd = r.fd;
      record.events = evs[i]!;
      record.data = r.data;
      record.target = r.target;
      out.push(record);
    }
    this.timers.runDue();
    return out;
  }

  /** Cancels the timers and frees the backend; registered descriptors stay open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.timers.close();
    this.#registrations.clear();
    this.#backend.close();
  }

  /** Same as {@link Poll.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #add(fd: number, target: HasFd | undefined, events: number, data: T, edge: boolean): void {
    this.#checkOpen();
    if (this.#registrations.has(fd)) throw pollError(E.EEXIST ?? 17, "poll add");
    this.#backend.add(fd, events, edge);
    this.#registrations.set(fd, { fd, events, edge, data, target });
  }

  #get(target: HasFd | number): Registration<T> {
    this.#checkOpen();
    const r = this.#registrations.get(fdOf(target));
    if (r === undefined) throw pollError(E.ENOENT ?? 2, "poll: not registered");
    return r;
  }

  #checkOpen(): void {
    if (this.#closed) throw new UseAfterCloseError("Poll");
  }
}

function fdOf(target: HasFd | number): number {
  return typeof target === "number" ? target : target.fd;
}
