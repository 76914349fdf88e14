/**
 * One-call helpers over {@link Socket}: blocking listeners and connections
 * for TCP and Unix sockets, and socket pairs. Their names end in `Sync`
 * (`connectTCPSync`, `listenUnixSync`, …) so that they are told apart from
 * the async `connect`/`listen`/`connectUnix`/`listenUnix` of poll/, which
 * the root module exports beside them.
 *
 * @example
 * ```ts
 * import { connectTCPSync, listenTCPSync } from "./connect.ts";
 * using server = listenTCPSync("127.0.0.1", 0);
 * using client = connectTCPSync("127.0.0.1", (server.localAddress() as { port: number }).port, 1000);
 * using peer = server.acceptTimeout(1000);
 * ```
 *
 * @module
 */
import { SocketError, SocketTimeoutError } from "../core/errors.ts";
import { C } from "../ffi/platform.ts";
import { isIP } from "./address.ts";
import { resolveHost } from "./resolve.ts";
import { type CreateOptions, type SocketType, Socket } from "./socket.ts";
import { checkTimeout, dnsLookupTimeout, getDefaultTimeouts } from "./timeouts.ts";
import { deadlineAfter, remainingMs } from "./wait.ts";

/**
 * The default listen backlog of the helpers.
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKLOG } from "./connect.ts";
 * console.log(DEFAULT_BACKLOG); // 511
 * ```
 */
export const DEFAULT_BACKLOG = 511;

/**
 * A non-blocking TCP listener with SO_REUSEADDR (so `accept()` returns null
 * when nobody waits; `acceptTimeout(ms)` waits). `host` null listens on every
 * interface: dual-stack `::` where IPv6 exists, else `0.0.0.0`. A host name
 * is resolved (within the process-wide DNS timeout) and its first address
 * used.
 *
 * @throws SocketError (EADDRINUSE, …), DNSError, TypeError/RangeError
 *
 * @example
 * ```ts
 * import { listenTCPSync } from "./connect.ts";
 * using server = listenTCPSync(null, 0, 128);
 * console.log(server.localAddress());
 * ```
 */
export function listenTCPSync(host: string | null, port: number, backlog = DEFAULT_BACKLOG): Socket {
  if (host === null) {
    let s: Socket;
    try {
      s = Socket.create("ipv6", "stream", { nonBlocking: true });
    } catch (err) {
      if (!(err instanceof SocketError) || err.code !== "EAFNOSUPPORT") throw err;
      return listenOn("ipv4", null, port, backlog);
    }
    try {
      s.options.v6Only = false;
      return finishListen(s, null, port, backlog);
    } catch (err) {
      s.close();
      throw err;
    }
  }
  const [first] = resolveHost(host, port, { passive: true });
  return listenOn(first!.family, first!.host, port, backlog);
}

function listenOn(family: "ipv4" | "ipv6", host: string | null, port: number, backlog: number): Socket {
  const s = Socket.create(family, "stream", { nonBlocking: true });
  try {
    return finishListen(s, host, port, backlog);
  } catch (err) {
    s.close();
    throw err;
  }
}

function finishListen(s: Socket, host: string | null, port: number, backlog: number): Socket {
  s.options.reuseAddress = true;
  s.bind(host, port);
  s.listen(backlog);
  return s;
}

/** Options of {@link connectTCPSync}. */
export interface ConnectTCPSyncOptions {
  /**
   * Longest wait for the name lookup in ms (default: the process-wide
   * `dnsMs`; 0: no DNS limit of its own). The lookup also counts against
   * `timeoutMs`.
   */
  readonly dnsTimeoutMs?: number;
  /**
   * TCP_NODELAY (default true, as the runtimes' own TCP clients, Go and
   * our async `connect` do): with Nagle's algorithm on, the short last segment
   * of each write waits for the previous one's ACK, which here made bulk
   * sends of 64 KiB chunks 1.2–1.9× slower on loopback.
   */
  readonly noDelay?: boolean;
}

/**
 * A blocking TCP connection to `host:port` within `timeoutMs` (default:
 * the connect timeout). Names are resolved with getaddrinfo, within the
 * DNS timeout and the time left (enforced where `dnsTimeoutEnforced()` is
 * true; elsewhere the lookup blocks as long as the system resolver takes),
 * and each address is tried in turn with the time left. The socket has
 * TCP_NODELAY on unless `options.noDelay` is false.
 *
 * @throws SocketError for the last address's failure, SocketTimeoutError
 *   (syscall "getaddrinfo_a" when the lookup timed out, "connect" else),
 *   DNSError
 *
 * @example
 * ```ts
 * import { connectTCPSync, listenTCPSync } from "./connect.ts";
 * using server = listenTCPSync("127.0.0.1", 0);
 * const { port } = server.localAddress() as { port: number };
 * using s = connectTCPSync("localhost", port, 2000, { dnsTimeoutMs: 500 });
 * ```
 */
export function connectTCPSync(
  host: string,
  port: number,
  timeoutMs: number = getDefaultTimeouts().connectMs,
  options: ConnectTCPSyncOptions = {},
): Socket {
  checkTimeout(timeoutMs, "timeoutMs");
  const dnsMs = options.dnsTimeoutMs ?? getDefaultTimeouts().dnsMs;
  const lookupMs = dnsLookupTimeout(dnsMs, timeoutMs);
  const noDelay = options.noDelay ?? true;
  if (typeof noDelay !== "boolean") throw new TypeError(`noDelay must be a boolean, got ${String(noDelay)}`);
  const deadline = deadlineAfter(timeoutMs);
  const addresses = resolveHost(host, port, { timeoutMs: lookupMs });
  let last: unknown;
  for (const addr of addresses) {
    const left = remainingMs(deadline);
    if (left === 0) break;
    const s = Socket.create(addr.family);
    try {
      if (noDelay) s.options.noDelay = true;
      s.connectTimeout(addr.host, port, left < 0 ? 0 : left);
      return s;
    } catch (err) {
      s.close();
      last = err;
      if (!(err instanceof SocketError)) throw err;
    }
  }
  if (last !== undefined && !(last instanceof SocketTimeoutError && addresses.length > 1)) throw last;
  const kind = isIP(host) === 0 ? `${host} (${addresses.length} addresses)` : host;
  throw new SocketTimeoutError(`connect to ${kind} port ${port} timed out after ${timeoutMs} ms`, { syscall: "connect" });
}

/**
 * A non-blocking Unix listener on `path` (`"@name"`: Linux abstract; `""`:
 * an abstract name Linux picks, see `localAddress()`). A filesystem path
 * must not exist yet; remove a stale one first.
 *
 * @example
 * ```ts
 * import { listenUnixSync } from "./connect.ts";
 * using server = listenUnixSync("@ffinet-example", 16);
 * ```
 */
export function listenUnixSync(path: string, backlog = DEFAULT_BACKLOG, type: SocketType = "stream"): Socket {
  const s = Socket.create("unix", type, { nonBlocking: true });
  try {
    s.bind(path);
    s.listen(backlog);
    return s;
  } catch (err) {
    s.close();
    throw err;
  }
}

/**
 * A blocking Unix connection to `path` within `timeoutMs` (0: no limit).
 * A listener whose backlog is full is waited for, up to `timeoutMs`, as a
 * blocking connect would (see `Socket.connectTimeout`).
 *
 * @throws SocketError (ENOENT, ECONNREFUSED, …), SocketTimeoutError
 *
 * @example
 * ```ts
 * import { connectUnixSync, listenUnixSync } from "./connect.ts";
 * using server = listenUnixSync("@ffinet-connect-example");
 * using s = connectUnixSync("@ffinet-connect-example", 1000);
 * ```
 */
export function connectUnixSync(path: string, timeoutMs: number = getDefaultTimeouts().connectMs, type: SocketType = "stream"): Socket {
  checkTimeout(timeoutMs, "timeoutMs");
  const s = Socket.create("unix", type);
  try {
    s.connectTimeout(path, 0, timeoutMs);
    return s;
  } catch (err) {
    s.close();
    throw err;
  }
}

/**
 * A connected pair of Unix sockets, blocking unless `options.nonBlocking`.
 *
 * @example
 * ```ts
 * import { socketPair } from "./connect.ts";
 * const [a, b] = socketPair("stream");
 * a.close(); b.close();
 * ```
 */
export function socketPair(type: SocketType = "stream", options: CreateOptions = {}): [Socket, Socket] {
  return Socket.pair(type, options);
}

/**
 * The platform's SOMAXCONN, for callers that want the largest backlog.
 *
 * @example
 * ```ts
 * import { MAX_BACKLOG } from "./connect.ts";
 * console.log(MAX_BACKLOG); // 4096 on Linux (SOMAXCONN)
 * ```
 */
export const MAX_BACKLOG: number = C.SOMAXCONN;
