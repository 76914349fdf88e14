/**
 * A server context's session resumption: the session id context, the
 * session cache (mode, size, lifetime) and stateless tickets, whose keys
 * rotate (see {@link TicketKeyRing}). With tickets off, TLS 1.2 resumes by
 * session id and TLS 1.3 with stateful tickets, both from the cache.
 *
 * @example
 * ```ts ignore
 * const ring = configureServerSessions(ctx, { sessionCacheSize: 1000, ticketKeyRotationMs: 3_600_000 });
 * ```
 *
 * @module
 */
import { libssl } from "../ffi/libssl.ts";
import type { Pointer } from "../ffi/types.ts";
import { CTRL, SSL_MAX_SID_CTX_LENGTH, SSL_OP, SSL_SESS_CACHE } from "./ctrl.ts";
import { tlsError } from "./errors.ts";
import { optionalBoolean, type TLSContextOptions } from "./options.ts";
import { TicketKeyRing, ticketKeysSupported } from "./ticket_keys.ts";

/** The default rotation interval of ticket keys: 12 hours. */
export const DEFAULT_TICKET_KEY_ROTATION_MS = 12 * 3600 * 1000;

/** The server-only session options (a client context refuses them). */
export const SERVER_SESSION_KEYS: readonly string[] = [
  "sessionIdContext", "sessionCache", "sessionCacheSize", "sessionTimeout",
  "sessionTickets", "ticketKeys", "ticketKeyRotationMs", "ticketKeysKept",
];

/** Counters of a server context's session cache (`SSL_CTX_sess_*`). */
export interface SessionStats {
  /** Sessions in the cache now. */
  readonly cached: number;
  /** Server handshakes started. */
  readonly accepted: number;
  /** Sessions resumed (from the cache or a ticket). */
  readonly hits: number;
  /** Session ids offered but not found in the cache. */
  readonly misses: number;
  /** Sessions found but expired. */
  readonly timeouts: number;
  /** Sessions dropped because the cache was full. */
  readonly cacheFull: number;
}

function positiveInteger(value: unknown, name: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`TLSContext: ${name} must be an integer 1–${max}, got ${String(value)}`);
  }
  return value;
}

function idContext(value: unknown): Uint8Array {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > SSL_MAX_SID_CTX_LENGTH) {
    throw new TypeError("TLSContext: sessionIdContext must be a string or Uint8Array of 1–32 bytes");
  }
  return bytes;
}

/**
 * Applies the session options to a server `SSL_CTX`; returns the ticket key
 * ring it installed (the caller closes it with the context), or null.
 *
 * @throws TypeError / RangeError for bad options, UnsupportedError for
 *   ticket key options before OpenSSL 3
 *
 * @example
 * ```ts ignore
 * const ring = configureServerSessions(ctx, { sessionTickets: false });
 * ```
 */
export function configureServerSessions(ctx: Pointer, options: TLSContextOptions): TicketKeyRing | null {
  const ssl = libssl();
  // Sessions (and tickets) resume only within this id context; OpenSSL
  // refuses resumption with client certificates when it is unset.
  const sid = idContext(options.sessionIdContext ?? "ffinet");
  if (ssl.SSL_CTX_set_session_id_context(ctx, sid, sid.length) !== 1) throw tlsError("ERR_TLS", "SSL_CTX_set_session_id_context");
  const cache = optionalBoolean(options.sessionCache, true, "sessionCache");
  ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_SESS_CACHE_MODE, cache ? SSL_SESS_CACHE.SERVER : SSL_SESS_CACHE.OFF, null);
  if (options.sessionCacheSize !== undefined) {
    ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_SET_SESS_CACHE_SIZE, positiveInteger(options.sessionCacheSize, "sessionCacheSize", 0x7fffffff), null);
  }
  if (options.sessionTimeout !== undefined) ssl.SSL_CTX_set_timeout(ctx, positiveInteger(options.sessionTimeout, "sessionTimeout", 0x7fffffff));
  const tickets = optionalBoolean(options.sessionTickets, true, "sessionTickets");
  const keyOptions = options.ticketKeys !== undefined || options.ticketKeyRotationMs !== undefined || options.ticketKeysKept !== undefined;
  if (!tickets) {
    if (keyOptions) throw new TypeError("TLSContext: ticket key options need sessionTickets");
    ssl.SSL_CTX_set_options(ctx, SSL_OP.NO_TICKET);
    return null;
  }
  // Before OpenSSL 3 (no EVP ticket callback) OpenSSL keeps its own fixed key.
  if (!keyOptions && !ticketKeysSupported()) return null;
  const keys = options.ticketKeys === undefined ? undefined : options.ticketKeys instanceof Uint8Array ? [options.ticketKeys] : options.ticketKeys;
  const ring = new TicketKeyRing({
    ...(keys === undefined ? {} : { keys }),
    keysKept: options.ticketKeysKept ?? 1,
    rotationMs: options.ticketKeyRotationMs ?? DEFAULT_TICKET_KEY_ROTATION_MS,
  });
  try {
    ring.install(ctx);
  } catch (err) {
    ring.close();
    throw err;
  }
  return ring;
}

/**
 * Reads the session counters of a server `SSL_CTX`.
 *
 * @example
 * ```ts ignore
 * console.log(sessionStats(ctx).hits);
 * ```
 */
export function sessionStats(ctx: Pointer): SessionStats {
  const get = (cmd: number) => Number(libssl().SSL_CTX_ctrl(ctx, cmd, 0, null));
  return {
    cached: get(CTRL.SSL_CTRL_SESS_NUMBER),
    accepted: get(CTRL.SSL_CTRL_SESS_ACCEPT),
    hits: get(CTRL.SSL_CTRL_SESS_HIT),
    misses: get(CTRL.SSL_CTRL_SESS_MISSES),
    timeouts: get(CTRL.SSL_CTRL_SESS_TIMEOUTS),
    cacheFull: get(CTRL.SSL_CTRL_SESS_CACHE_FULL),
  };
}
