/**
 * The interface every readiness backend implements (epoll, poll(2), kqueue):
 * add, modify, remove and wait, plus a wait parked on a helper thread.
 *
 * Interest and readiness use one set of neutral bits ({@link READABLE},
 * {@link WRITABLE}, …); they equal the epoll bits on Linux, so the epoll
 * backend passes them through.
 *
 * @example
 * ```ts
 * import { READABLE, WRITABLE, describeEvents } from "./backend.ts";
 * console.log(describeEvents(READABLE | WRITABLE)); // "readable|writable"
 * ```
 *
 * @module
 */
import { PollError } from "../core/errors.ts";
import { native } from "../ffi/native.ts";
import { errnoName } from "../ffi/platform.ts";
import { pollTimeoutArg } from "../socket/wait.ts";

/**
 * Interest and readiness: data can be read (or a connection accepted).
 *
 * @example
 * ```ts
 * import { READABLE } from "./backend.ts";
 * import { PEER_CLOSED } from "./backend.ts";
 * const ready = READABLE | PEER_CLOSED;
 * console.log((ready & READABLE) !== 0); // true
 * ```
 */
export const READABLE = 0x1;
/**
 * Interest and readiness: data can be written (or a connect completed).
 *
 * @example
 * ```ts
 * import { WRITABLE } from "./backend.ts";
 * import { READABLE } from "./backend.ts";
 * const interest = READABLE | WRITABLE;
 * console.log(interest); // 5
 * ```
 */
export const WRITABLE = 0x4;
/**
 * Readiness only: an error is pending on the descriptor.
 *
 * @example
 * ```ts
 * import { ERROR } from "./backend.ts";
 * console.log(ERROR); // 8
 * ```
 */
export const ERROR = 0x8;
/**
 * Readiness only: the descriptor hung up (both directions closed).
 *
 * @example
 * ```ts
 * import { HANGUP } from "./backend.ts";
 * console.log(HANGUP); // 16
 * ```
 */
export const HANGUP = 0x10;
/**
 * Readiness (and interest on epoll): the peer shut down its writing side.
 *
 * @example
 * ```ts
 * import { PEER_CLOSED } from "./backend.ts";
 * console.log(PEER_CLOSED); // 8192
 * ```
 */
export const PEER_CLOSED = 0x2000;

/**
 * Whether a stream socket's pending error should wait behind its input: a
 * peer that sent bytes and then reset the connection left them in the
 * kernel, and recv(2) hands them out before it reports the error. So when
 * the descriptor is also readable and we are reading, or it hung up (the
 * hang-up path reads once reading resumes), the read path reports the
 * error after the bytes; otherwise it is taken at once with SO_ERROR.
 *
 * @example
 * ```ts
 * import { ERROR, HANGUP, READABLE, errorWaitsForInput } from "./backend.ts";
 * console.log(errorWaitsForInput(ERROR | READABLE | HANGUP, false)); // true
 * console.log(errorWaitsForInput(ERROR | READABLE, true)); // true
 * console.log(errorWaitsForInput(ERROR, true)); // false
 * ```
 */
export function errorWaitsForInput(events: number, reading: boolean): boolean {
  return (events & HANGUP) !== 0 || ((events & READABLE) !== 0 && reading);
}

/** The names of the backends. */
export type BackendName = "epoll" | "poll" | "kqueue";

/** Options common to every backend. */
export interface BackendOptions {
  /** Most events reported by one wait (default 1024). */
  maxEvents?: number;
}

/** Default bound of events reported by one wait. */
export const DEFAULT_MAX_EVENTS = 1024;

/**
 * A readiness backend. Results of the last wait (synchronous or parked) are
 * in {@link PollBackend.readyFds} and {@link PollBackend.readyEvents}, valid
 * until the next wait.
 *
 * @example
 * ```ts
 * import { createBackend } from "./choose.ts";
 * import { READABLE } from "./backend.ts";
 * import { Socket } from "../socket/socket.ts";
 * const backend = createBackend();
 * const [a, b] = Socket.pair();
 * backend.add(b.fd, READABLE);
 * a.sendAll(new Uint8Array(1));
 * console.log(backend.wait(0)); // 1: one descriptor is ready
 * backend.close();
 * a.close(); b.close();
 * ```
 */
export interface PollBackend {
  /** Which backend this is. */
  readonly name: BackendName;
  /** Whether `add(fd, events, true)` (edge-triggered) is supported. */
  readonly supportsEdge: boolean;
  /**
   * Whether a parked wait sees registrations changed after it started
   * (epoll, kqueue: yes; poll(2): no — the caller must wake it).
   */
  readonly seesChangesWhileParked: boolean;
  /** File descriptors of the last wait's events. */
  readonly readyFds: Int32Array;
  /** Readiness bits of the last wait's events. */
  readonly readyEvents: Uint32Array;
  /** Registers `fd` for `events`; `edge` asks for edge-triggered reports. */
  add(fd: number, events: number, edge?: boolean): void;
  /** Changes the interest of a registered `fd`. */
  modify(fd: number, events: number, edge?: boolean): void;
  /** Unregisters `fd` (call it before closing the fd). */
  remove(fd: number): void;
  /**
   * Whether closing an fd that nothing else shares drops its registration
   * with no state left behind here, so `remove` may be skipped right before
   * the close (epoll: the kernel unregisters a file on its last close).
   * Absent means false.
   */
  readonly closeUnregisters?: boolean;
  /** Blocks up to `timeoutMs` (-1: forever, 0: not at all); returns the number of events. */
  wait(timeoutMs: number): number;
  /**
   * Waits on a helper thread up to `timeoutMs`; resolves with the number of
   * events. At most one parked wait at a time; native memory it uses stays
   * alive until it returns, even across `close()`.
   */
  park(timeoutMs: number): Promise<number>;
  /** Whether a parked wait is in flight. */
  readonly parked: boolean;
  /** Lets the process exit while a parked wait is in flight (where the runtime can). */
  unrefPark(): void;
  /**
   * Whether {@link PollBackend.unrefPark} really lets the process exit (true
   * on Node and Bun, whose helper is a Worker; false on Deno). Absent means
   * false.
   */
  readonly canUnrefPark?: boolean;
  /**
   * Whether a parked wait would start at once: false while the runtime's
   * helper thread is still booting (a Node worker loading koffi), when the
   * loop polls on a short timer instead of parking. Absent means true.
   */
  readonly parkReady?: boolean;
  /** Keeps the process alive while a parked wait is in flight (default). */
  refPark(): void;
  /** Frees every native resource (deferred past a parked wait). Idempotent. */
  close(): void;
  /**
   * Resolves once closed and the helper thread of the parked wait, if one
   * was started, has ended (absent: nothing to wait for).
   */
  readonly helperExited?: Promise<void>;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
}

/**
 * Text for readiness bits, for logs and error messages.
 *
 * @example
 * ```ts
 * import { describeEvents, READABLE, HANGUP } from "./backend.ts";
 * console.log(describeEvents(READABLE | HANGUP)); // "readable|hangup"
 * ```
 */
export function describeEvents(events: number): string {
  const names: string[] = [];
  if (events & READABLE) names.push("readable");
  if (events & WRITABLE) names.push("writable");
  if (events & ERROR) names.push("error");
  if (events & HANGUP) names.push("hangup");
  if (events & PEER_CLOSED) names.push("peer-closed");
  return names.join("|") || "none";
}

/**
 * Returns `result` when it is not negative, else throws a {@link PollError}
 * named after errno.
 *
 * @example
 * ```ts
 * import { pollCheck } from "./backend.ts";
 * console.log(pollCheck(3, "epoll_create1")); // 3
 * ```
 */
export function pollCheck(result: number, syscall: string): number {
  if (result >= 0) return result;
  throw pollError(native.errno(), syscall);
}

/**
 * The {@link PollError} for `errno` from `syscall`.
 *
 * @example
 * ```ts
 * import { pollError } from "./backend.ts";
 * console.log(pollError(9, "epoll_ctl").code); // "EBADF"
 * ```
 */
export function pollError(errno: number, syscall: string): PollError {
  const code = errnoName(errno);
  return new PollError(code, `${syscall} failed: ${code}`, { errno, syscall });
}

/**
 * Checks a file descriptor argument.
 *
 * @example
 * ```ts
 * import { checkFd } from "./backend.ts";
 * checkFd(3); // ok; checkFd(-1) throws RangeError
 * ```
 */
export function checkFd(fd: number): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(`fd must be a non-negative integer, got ${fd}`);
  }
}

/**
 * Checks a timeout and normalises it for a C `int` argument
 * ({@link pollTimeoutArg}): negative or infinite means forever (-1),
 * fractions round up, and a finite timeout past a C `int` is capped (~24.8
 * days: the wait returns then, and the caller waits again).
 *
 * @example
 * ```ts
 * import { timeoutArg } from "./backend.ts";
 * console.log(timeoutArg(1.2), timeoutArg(-5), timeoutArg(Infinity)); // 2 -1 -1
 * ```
 */
export function timeoutArg(timeoutMs: number): number {
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
    throw new TypeError(`timeoutMs must be a number, got ${String(timeoutMs)}`);
  }
  return pollTimeoutArg(timeoutMs);
}

/**
 * Checks and defaults the `maxEvents` option.
 *
 * @example
 * ```ts
 * import { maxEventsOption } from "./backend.ts";
 * console.log(maxEventsOption({})); // 1024
 * ```
 */
export function maxEventsOption(options: BackendOptions): number {
  const max = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (!Number.isInteger(max) || max < 1 || max > 65536) {
    throw new RangeError(`maxEvents must be an integer in 1..65536, got ${max}`);
  }
  return max;
}
