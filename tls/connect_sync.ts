/**
 * One-call blocking TLS: `connectTLSSync` (TCP connect + handshake, verifying
 * the server by default) and `acceptTLS` (accept + handshake on a listener).
 *
 * @example
 * ```ts ignore
 * import { connectTLSSync } from "./connect_sync.ts";
 * using tls = connectTLSSync({ host: "example.com", port: 443, timeoutMs: 5000, alpn: ["http/1.1"] });
 * console.log(tls.protocol, tls.alpnProtocol);
 * ```
 *
 * @module
 */
import { SocketTimeoutError } from "../core/errors.ts";
import { checkOptions, optionKeys } from "../core/options.ts";
import { connectTCPSync } from "../socket/connect.ts";
import type { Socket } from "../socket/socket.ts";
import { deadlineAfter, remainingMs } from "../socket/wait.ts";
import { TLSContext } from "./context.ts";
import { CONTEXT_KEYS, type TLSContextOptions } from "./options.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, TLSSocket } from "./tls_socket.ts";

/** Options of {@link connectTLSSync}: where to connect, plus context options. */
export interface ConnectTLSSyncOptions extends Omit<TLSContextOptions, "role"> {
  /** Host name or IP literal: connected to, verified, and sent as SNI (unless an IP). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Limit for connect + handshake together, in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** The name to verify and send as SNI when it differs from `host`. */
  readonly servername?: string;
  /** A client context to use instead of one made from the options here. */
  readonly context?: TLSContext;
  /** Limit for each send/recv after the handshake (0: none). */
  readonly ioTimeoutMs?: number;
  /** A session from an earlier connection's `session()`, to resume. */
  readonly session?: Uint8Array;
}

const CONNECT_KEYS = optionKeys(CONTEXT_KEYS, ["host", "port", "timeoutMs", "servername", "context", "ioTimeoutMs", "session"]);

/**
 * Connects over TCP and completes a TLS handshake as a client.
 *
 * @throws SocketError / SocketTimeoutError, TLSVerifyError, TLSHandshakeError
 *
 * @example
 * ```ts ignore
 * import { connectTLSSync } from "./connect_sync.ts";
 * using tls = connectTLSSync({ host: "127.0.0.1", port: 8443, ca: caPem });
 * tls.sendAll(new Uint8Array([1]));
 * ```
 */
export function connectTLSSync(options: ConnectTLSSyncOptions): TLSSocket {
  checkOptions(options, CONNECT_KEYS, "connectTLSSync");
  const { host, port, timeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS, servername, context, ioTimeoutMs, session, ...contextOptions } = options;
  if (typeof host !== "string" || host === "") throw new TypeError("connectTLSSync: host must be a non-empty string");
  if (context !== undefined && Object.keys(contextOptions).length > 0) {
    throw new TypeError("connectTLSSync: pass either context or context options, not both");
  }
  const ctx = context ?? new TLSContext({ ...contextOptions, role: "client" });
  try {
    const deadline = deadlineAfter(timeoutMs);
    const socket = connectTCPSync(host, port, timeoutMs);
    return handshaken(socket, () =>
      TLSSocket.client(socket, ctx, {
        host: servername ?? host,
        ...(ioTimeoutMs === undefined ? {} : { timeoutMs: ioTimeoutMs }),
        ...(session === undefined ? {} : { session }),
      }), deadline, timeoutMs);
  } finally {
    // The connection holds its own reference to the SSL_CTX.
    if (context === undefined) ctx.close();
  }
}

/**
 * Wraps `socket` with `make` and completes the handshake within what is
 * left of `deadline`; whatever fails closes what was made (the socket, or
 * the TLS socket that now owns it).
 */
function handshaken(socket: Socket, make: () => TLSSocket, deadline: number, timeoutMs: number): TLSSocket {
  let tls: TLSSocket;
  try {
    tls = make();
  } catch (err) {
    socket.close();
    throw err;
  }
  try {
    tls.handshake(handshakeBudget(deadline, timeoutMs));
  } catch (err) {
    tls.close();
    throw err;
  }
  return tls;
}

function handshakeBudget(deadline: number, timeoutMs: number): number {
  if (timeoutMs === 0) return 0;
  const left = remainingMs(deadline);
  if (left === 0) throw new SocketTimeoutError(`TLS connect timed out after ${timeoutMs} ms`, { syscall: "handshake" });
  return left;
}

/**
 * Accepts one connection on `listener` within `timeoutMs` and completes the
 * server handshake with `context` (the same limit covers both).
 *
 * @throws SocketTimeoutError when nobody connects in time, TLSHandshakeError
 *
 * @example
 * ```ts ignore
 * import { acceptTLS } from "./connect_sync.ts";
 * using tls = acceptTLS(listener, serverContext, 5000);
 * ```
 */
export function acceptTLS(listener: Socket, context: TLSContext, timeoutMs: number = DEFAULT_HANDSHAKE_TIMEOUT_MS): TLSSocket {
  const deadline = deadlineAfter(timeoutMs);
  const socket = listener.acceptTimeout(timeoutMs);
  if (socket === null) throw new SocketTimeoutError(`accept timed out after ${timeoutMs} ms`, { syscall: "accept" });
  return handshaken(socket, () => TLSSocket.server(socket, context), deadline, timeoutMs);
}
