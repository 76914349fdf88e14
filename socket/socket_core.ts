/**
 * The state behind one {@link Socket} and the primitive send/receive loops
 * its methods share.
 *
 * `Socket` keeps its state in a private `SocketCore`. The methods that are
 * more than a line live as plain functions of the core in socket_endpoints.ts,
 * socket_deadlines.ts, socket_vectored.ts, socket_fd_passing.ts,
 * socket_zero_copy.ts, socket_bandwidth.ts and socket_health.ts (each takes
 * the core first); `Socket`'s methods call them. None of these files imports
 * socket.ts, and nothing here is part of the public surface.
 *
 * @example
 * ```ts
 * import { SocketCore } from "./socket_core.ts";
 * const core = new SocketCore(-1, "ipv4", "stream", false);
 * console.log(core.fd); // -1: closed
 * ```
 *
 * @module
 */
import { NetError, SocketClosedError, SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import type { TokenBucket } from "../core/rate_limit.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { SEND_FLAGS } from "./descriptor.ts";
import type { ScatterGather } from "./iovec.ts";
import type { SocketOptions } from "./options.ts";
import type { AddressFamily } from "./sockaddr.ts";
import { SocketStatistics } from "./stats.ts";
import { TimeoutOverrides } from "./timeouts.ts";
import { deadlineAfter, pollOne, remainingMs, WAIT_READ, WAIT_WRITE } from "./wait.ts";

/** Stream sockets (TCP, Unix) or Unix sequenced packets. */
export type SocketType = "stream" | "seqpacket";

/**
 * One socket's descriptor, mode, counters and lazily made helpers.
 *
 * @example
 * ```ts
 * import { SocketCore } from "./socket_core.ts";
 * const core = new SocketCore(-1, "unix", "seqpacket", true);
 * console.log(core.nonBlocking); // true
 * ```
 */
export class SocketCore {
  /** The descriptor, -1 once closed or released. */
  fd: number;
  readonly family: AddressFamily;
  readonly type: SocketType;
  /** Cached O_NONBLOCK state of the descriptor. */
  nonBlocking: boolean;
  options: SocketOptions | undefined;
  sg: ScatterGather | undefined;
  bucket: TokenBucket | undefined;
  /** The peer as text, for error messages (set by connect). */
  peerText: string | undefined;
  readonly timeouts = new TimeoutOverrides();
  readonly stats = new SocketStatistics();
  /** Descriptors recvFds handed out and closeReceivedFd has not closed yet (the only ones it closes). */
  received: Set<number> | undefined;
  /**
   * What a `shutdown("write" | "both")` of the write side goes through
   * while connections send on this socket ({@link guardShutdown}), the
   * last put first; each goes when its connection lets the socket go.
   */
  shutdownGuards: Array<(shut: () => void) => void> | undefined;

  constructor(fd: number, family: AddressFamily, type: SocketType, nonBlocking: boolean) {
    this.fd = fd;
    this.family = family;
    this.type = type;
    this.nonBlocking = nonBlocking;
  }

  /** The descriptor; throws {@link UseAfterCloseError} once closed. */
  liveFd(): number {
    if (this.fd < 0) throw new UseAfterCloseError("Socket");
    return this.fd;
  }

  /** `flags` for a call that loops until done: without MSG_DONTWAIT, which would make it spin. */
  static waiting(flags: number): number {
    return flags & ~C.MSG_DONTWAIT;
  }

  /** `Socket.send` without the argument check: one send bounded by the send timeout. */
  send(data: Uint8Array, flags: number): number {
    const sendMs = this.nonBlocking ? 0 : this.timeouts.get("sendMs");
    return this.sendOnce(data, flags, deadlineAfter(sendMs));
  }

  /** One send; bytes sent, 0 when it would block (non-blocking, or MSG_DONTWAIT in `flags`). */
  sendOnce(data: Uint8Array, flags: number, deadline: number): number {
    const fd = this.liveFd();
    const dontWait = this.nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
    for (;;) {
      const n = libc().send(fd, data, data.byteLength, flags | SEND_FLAGS | dontWait);
      if (n >= 0) {
        if (n > 0) this.stats.sent(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        // Non-blocking, or the caller's own MSG_DONTWAIT: report, never wait.
        if ((this.nonBlocking && deadline === Infinity) || (flags & C.MSG_DONTWAIT) !== 0) return 0;
        this.waitOrTimeout(WAIT_WRITE, deadline, "send");
        continue;
      }
      this.stats.sendErrors++;
      throw sysError(errno, "send", this.peerText);
    }
  }

  /** One recv: bytes, 0 at end of stream, -1 when it would block (non-blocking, or MSG_DONTWAIT in `flags`). */
  recvOnce(buffer: Uint8Array, flags: number, deadline: number): number {
    const fd = this.liveFd();
    const dontWait = this.nonBlocking || deadline !== Infinity ? C.MSG_DONTWAIT : 0;
    for (;;) {
      const n = libc().recv(fd, buffer, buffer.byteLength, flags | dontWait);
      if (n >= 0) {
        if (n > 0 && (flags & C.MSG_PEEK) === 0) this.stats.received(n);
        return n;
      }
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if ((this.nonBlocking && deadline === Infinity) || (flags & C.MSG_DONTWAIT) !== 0) return -1;
        this.waitOrTimeout(WAIT_READ, deadline, "recv");
        continue;
      }
      this.stats.recvErrors++;
      throw sysError(errno, "recv", this.peerText);
    }
  }

  /** Waits for `events` until `deadline`; throws {@link SocketTimeoutError} named `what` when it passes. */
  waitOrTimeout(events: number, deadline: number, what: string): void {
    if (pollOne(this.fd, events, remainingMs(deadline)) === 0) {
      throw new SocketTimeoutError(`${what} timed out`, { syscall: what, ...(this.peerText === undefined ? {} : { address: this.peerText }) });
    }
  }

  /** The error for a stream that ended after `got` of `wanted` bytes. */
  eof(got: number, wanted: number): SocketClosedError {
    const where = this.peerText === undefined ? "" : ` (${this.peerText})`;
    return new SocketClosedError("EOF", `the peer closed the connection after ${got} of ${wanted} bytes${where}`, {
      syscall: "recv",
      ...(this.peerText === undefined ? {} : { address: this.peerText }),
    });
  }
}

let coreAccess: ((socket: object) => SocketCore) | undefined;

/**
 * Called once by `Socket` (from its static block) to let {@link coreOf}
 * read a Socket's private core.
 *
 * @example
 * ```ts ignore
 * class Socket { readonly #core: SocketCore; static { provideCoreAccess((s) => (s as Socket).#core); } }
 * ```
 */
export function provideCoreAccess(access: (socket: object) => SocketCore): void {
  coreAccess = access;
}

/**
 * The core of a Socket (TypeError for anything else): for the tests and
 * examples of the functions in socket_*.ts, which take a core first.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { coreOf } from "./socket_core.ts";
 * using s = Socket.create("ipv4");
 * console.log(coreOf(s).fd === s.fd); // true
 * ```
 */
export function coreOf(socket: object): SocketCore {
  if (coreAccess === undefined) throw new NetError("ERR_INTERNAL", "socket/socket.ts has not been loaded");
  return coreAccess(socket);
}

/**
 * Puts `guard` in front of the write half of `socket.shutdown("write")`
 * (and of `"both"`): it gets `shut`, which shuts the write side down (through
 * the guard put there before, if any), and calls it at once when it holds
 * no bytes, else once the bytes it holds went (a connection's queued
 * sends), so the FIN does not overtake them. The guard put last runs
 * first: an outer layer's bytes go down to the inner one before its own
 * wait. A guard whose connection closed calls `shut` at once.
 *
 * Returns the guard's removal: the connection that put it calls it when it
 * lets the socket go (closed, or detached with the socket kept), so the
 * socket holds neither the guard nor, through it, that connection; a
 * shutdown already waiting on the guard is not affected. Closing or
 * releasing the socket drops every guard.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { guardShutdown } from "./socket_core.ts";
 * const [a, b] = Socket.pair();
 * let held: (() => void) | undefined;
 * guardShutdown(a, (shut) => (held = shut)); // a queue that has not drained yet
 * a.shutdown("write"); // waits for the guard
 * held!(); // drained: now the FIN
 * console.log(b.recv(new Uint8Array(1))); // 0: end of stream
 * a.close(); b.close();
 * ```
 */
export function guardShutdown(socket: object, guard: (shut: () => void) => void): () => void {
  const core = coreOf(socket);
  (core.shutdownGuards ??= []).push(guard);
  return () => {
    const guards = core.shutdownGuards;
    const at = guards === undefined ? -1 : guards.lastIndexOf(guard);
    if (at < 0) return;
    guards!.splice(at, 1);
    if (guards!.length === 0) core.shutdownGuards = undefined;
  };
}

/**
 * Shuts the write side down through `guards` (the last put runs first),
 * then `shut`; the list is read now, so a guard removed meanwhile still
 * runs for this call.
 *
 * @example
 * ```ts
 * import { shutThroughGuards } from "./socket_core.ts";
 * shutThroughGuards([(shut) => shut()], () => console.log("FIN")); // FIN
 * ```
 */
export function shutThroughGuards(guards: ReadonlyArray<(shut: () => void) => void>, shut: () => void): void {
  const list = guards.slice();
  const next = (i: number): void => {
    if (i < 0) shut();
    else list[i]!(() => next(i - 1));
  };
  next(list.length - 1);
}

/**
 * The shutdown guard of a writer with its own send queue: the FIN goes at
 * once when `idle()` (closed, or nothing queued), else behind a marker
 * that `enqueue` puts at the queue's end, once the bytes before it went.
 * A marker that fails, or runs after `closed()`, drops the FIN (the
 * connection reports its own end); a late FIN to a peer already gone is
 * not an error.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * import { guardShutdown, shutdownBehindQueue } from "./socket_core.ts";
 * const [a, b] = Socket.pair();
 * const queued: Array<(error?: Error) => void> = [];
 * guardShutdown(a, shutdownBehindQueue(() => queued.length === 0, () => false, (done) => queued.push(done)));
 * queued.push(() => {}); // a send still queued
 * a.shutdown("write"); // waits behind it
 * for (const done of queued.splice(0)) done(); // the queue drained: now the FIN
 * console.log(b.recv(new Uint8Array(1))); // 0: end of stream
 * a.close(); b.close();
 * ```
 */
export function shutdownBehindQueue(
  idle: () => boolean,
  closed: () => boolean,
  enqueue: (done: (error?: Error) => void) => void,
): (shut: () => void) => void {
  return (shut) => {
    if (idle()) {
      shut();
      return;
    }
    enqueue((error) => {
      if (error !== undefined || closed()) return;
      try {
        shut();
      } catch {
        // the peer is gone already: the connection reports it
      }
    });
  };
}

/**
 * Checks a byte argument.
 *
 * @example
 * ```ts
 * import { checkBytes } from "./socket_core.ts";
 * checkBytes(new Uint8Array(1));
 * ```
 */
export function checkBytes(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError(`expected a Uint8Array, got ${data === null ? "null" : typeof data}`);
  return data;
}

/**
 * Checks a timeout argument in milliseconds.
 *
 * @example
 * ```ts
 * import { checkMs } from "./socket_core.ts";
 * checkMs(1000);
 * ```
 */
export function checkMs(ms: number): void {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) {
    throw new RangeError(`timeout must be an integer 0–2147483647 ms, got ${String(ms)}`);
  }
}
