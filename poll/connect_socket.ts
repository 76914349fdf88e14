/**
 * The socket half of an async connect: a stream socket connected to one
 * address (an IP literal, "localhost" or a Unix path) on a loop, without a
 * {@link Connection} around it yet. `connect()` opens the connection over
 * the socket this gives; Happy Eyeballs races several of these and opens
 * only the winner's; the resolver's TCP path uses it to the DNS server.
 *
 * @example
 * ```ts
 * import { connectSocketAsync } from "./connect_socket.ts";
 * import { defaultLoop } from "./loop.ts";
 * import { listenTCPSync } from "../socket/connect.ts";
 * using server = listenTCPSync("127.0.0.1", 0);
 * const port = (server.localAddress() as { port: number }).port;
 * using socket = await connectSocketAsync(defaultLoop(), { host: "127.0.0.1", port }, { timeoutMs: 2000 });
 * console.log(socket.isConnected()); // true
 * ```
 *
 * @module
 */
import { SocketError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import type { Timer } from "../core/timer_heap.ts";
import { C } from "../ffi/platform.ts";
import { getIntOption } from "../socket/options.ts";
import type { Socket } from "../socket/socket.ts";
import { ERROR, HANGUP, WRITABLE } from "./backend.ts";
import { connectSocket, connectTimedOut, type Endpoint, type StartedConnect } from "./endpoint.ts";
import type { IoWatcher } from "./io_watcher.ts";
import { type Loop, loopClosedError } from "./loop.ts";
import type { LoopUring } from "./uring/loop_io.ts";
import { uringConnect } from "./uring/connect.ts";

/** Longest pause between connect attempts to a Unix listener whose backlog is full. */
const UNIX_RETRY_MS = 50;

/** Options of {@link connectSocketAsync}. */
export interface ConnectSocketOptions {
  /** Aborts the connect (the socket is closed); rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Fails with `SocketTimeoutError` after this long (checked by the caller). */
  timeoutMs?: number | undefined;
  /** The loop's io_uring, to connect through it (TCP only); the socket is then blocking. */
  io?: LoopUring | undefined;
}

/**
 * The reason of an aborted signal as an Error (a DOMException
 * "AbortError" when the reason is not one).
 *
 * @example
 * ```ts
 * import { abortReason } from "./connect_socket.ts";
 * const c = new AbortController();
 * c.abort();
 * console.log(abortReason(c.signal).name); // "AbortError"
 * ```
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/**
 * Connects a new non-blocking stream socket to `endpoint` (no name
 * resolution: an IP literal, "localhost" or a Unix path); resolves with
 * the connected socket, which the caller owns. On failure, abort or
 * timeout the socket is closed and the promise rejects with the typed
 * error (`SocketError` with the errno, `SocketTimeoutError`, the signal's
 * reason, the loop's closed error).
 *
 * @example
 * ```ts
 * import { connectSocketAsync } from "./connect_socket.ts";
 * import { defaultLoop } from "./loop.ts";
 * await connectSocketAsync(defaultLoop(), { host: "127.0.0.1", port: 1 }).catch((e) => console.log(e.code)); // ECONNREFUSED
 * ```
 */
export function connectSocketAsync(loop: Loop, endpoint: Endpoint, options: ConnectSocketOptions = {}): Promise<Socket> {
  const { signal, timeoutMs, io } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  // A Unix connect goes the readiness way in both modes: io_uring's
  // connect to a Unix listener whose backlog is full is never retried
  // when room appears (it waited until the timeout).
  if (io !== undefined && !("path" in endpoint)) {
    const uringOptions: { signal?: AbortSignal; timeoutMs?: number } = {};
    if (signal !== undefined) uringOptions.signal = signal;
    if (timeoutMs !== undefined) uringOptions.timeoutMs = timeoutMs;
    return uringConnect(io, endpoint, uringOptions);
  }
  let started: StartedConnect;
  try {
    started = connectSocket(endpoint);
  } catch (err) {
    return Promise.reject(err);
  }
  const { socket, address } = started;
  if (!started.pending && !started.busy) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    let done = false;
    /** A Unix listener's full backlog: the next attempt, and the pause before the one after. */
    let retry: Timer | undefined;
    let retryMs = 1;
    const finish = (error: Error | undefined) => {
      if (done) return;
      done = true;
      watcher.close();
      timer?.cancel();
      retry?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (error) {
        socket.close();
        reject(error);
        return;
      }
      resolve(socket);
    };
    const onEvents = (events: number): void => {
      if (!(events & (WRITABLE | ERROR | HANGUP))) return;
      let error: Error | undefined;
      try {
        const errno = getIntOption(socket.fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
        if (errno !== 0) error = sysError(errno, "connect", address);
      } catch (err) {
        error = err as Error;
      }
      finish(error);
    };
    let watcher: IoWatcher;
    try {
      watcher = loop.watch(socket.fd, WRITABLE, onEvents);
    } catch (err) {
      socket.close(); // a closed loop
      reject(err);
      return;
    }
    watcher.onLoopClose = () => finish(loopClosedError());
    // A full Unix backlog: connect again after 1, 2, 4 … ms (at most
    // UNIX_RETRY_MS), as a blocking connect (and io_uring's) would wait
    // for room. The stopped watcher is there for the loop's close.
    const tryAgain = (): void => {
      retry = undefined;
      let status: string;
      try {
        status = socket.connectNonBlocking((endpoint as { path: string }).path);
      } catch (err) {
        if (err instanceof SocketError && err.code === "EAGAIN") schedule();
        else finish(err as Error);
        return;
      }
      if (status === "connected") finish(undefined);
      else watcher.start();
    };
    const schedule = (): void => {
      retry = loop.timers.once(retryMs, tryAgain);
      retryMs = Math.min(retryMs * 2, UNIX_RETRY_MS);
    };
    if (started.busy) {
      watcher.stop();
      schedule();
    }
    const timer = timeoutMs === undefined
      ? undefined
      : loop.timers.once(timeoutMs, () => finish(connectTimedOut(timeoutMs, address)));
    const onAbort = () => finish(abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
