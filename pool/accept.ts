/**
 * Accept helpers (seed: `SocketPool_accept_batch`, `_accept_limited`,
 * `_accept_protected`): take connections from a listener in `accept()`
 * mode into a {@link ConnectionPool}, keyed by the remote address, refusing
 * (aborting) those the pool has no room for.
 *
 * @example
 * ```ts
 * import { connect, listen } from "../poll/listener.ts";
 * import { acceptLimited } from "./accept.ts";
 * import { ConnectionPool } from "./pool.ts";
 * const server = listen({ port: 0 });
 * const pool = new ConnectionPool({ maxConnections: 10, cleanupIntervalMs: 0 });
 * const client = await connect({ port: server.port });
 * const conn = await acceptLimited(pool, server);
 * console.log(pool.count("127.0.0.1"), conn !== null); // 1 true
 * await client.close();
 * pool.drainForce();
 * server.close();
 * ```
 *
 * @module
 */
import type { Connection } from "../poll/connection.ts";
import type { Listener } from "../poll/listener.ts";
import type { ConnectionPool } from "./pool.ts";
import type { ListenProtection } from "./protect.ts";

/**
 * Waits for the next connection, then also takes those already pending
 * (up to `max` in all), adding each to `pool` under its remote address;
 * those beyond the pool's room are aborted.
 *
 * @returns the connections added ([] once the listener is closed or the pool stopped admitting).
 * @example
 * ```ts
 * import { listen } from "../poll/listener.ts";
 * import { acceptBatch } from "./accept.ts";
 * import { ConnectionPool } from "./pool.ts";
 * const server = listen({ port: 0 });
 * server.close();
 * console.log(await acceptBatch(new ConnectionPool({ cleanupIntervalMs: 0 }), server)); // []
 * ```
 */
export async function acceptBatch(pool: ConnectionPool<Connection>, listener: Listener, max = 64): Promise<Connection[]> {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${String(max)}`);
  const out: Connection[] = [];
  const first = await listener.accept();
  if (first === null) return out;
  if (place(pool, first)) out.push(first);
  for (let i = 1; i < max && listener.pending > 0; i++) {
    const conn = await listener.accept();
    if (conn === null) break;
    if (place(pool, conn)) out.push(conn);
  }
  return out;
}

/**
 * The next connection the pool has room for, added under its remote
 * address; connections arriving while the pool is full are aborted.
 *
 * @returns null once the listener is closed or the pool stopped admitting (drain).
 * @example
 * ```ts
 * import { listen } from "../poll/listener.ts";
 * import { acceptLimited } from "./accept.ts";
 * import { ConnectionPool } from "./pool.ts";
 * const server = listen({ port: 0 });
 * server.close();
 * console.log(await acceptLimited(new ConnectionPool({ cleanupIntervalMs: 0 }), server)); // null
 * ```
 */
export async function acceptLimited(pool: ConnectionPool<Connection>, listener: Listener): Promise<Connection | null> {
  for (;;) {
    if (pool.state !== "running") return null;
    const conn = await listener.accept();
    if (conn === null) return null;
    if (place(pool, conn)) return conn;
    if (pool.state !== "running") return null;
  }
}

/**
 * As {@link acceptLimited}, with `protection` deciding first (per-IP
 * limits, rates, SYN guard); refused connections are closed by it.
 *
 * @example
 * ```ts
 * import { listen } from "../poll/listener.ts";
 * import { acceptProtected } from "./accept.ts";
 * import { ConnectionPool } from "./pool.ts";
 * import { ListenProtection } from "./protect.ts";
 * const server = listen({ port: 0 });
 * server.close();
 * const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
 * console.log(await acceptProtected(pool, server, new ListenProtection({ maxPerIp: 2 }))); // null
 * ```
 */
export async function acceptProtected(
  pool: ConnectionPool<Connection>,
  listener: Listener,
  protection: ListenProtection,
): Promise<Connection | null> {
  for (;;) {
    if (pool.state !== "running") return null;
    const conn = await listener.accept();
    if (conn === null) return null;
    if (!protection.admit(conn, undefined)) continue;
    if (place(pool, conn)) return conn;
  }
}

/** Adds `conn` under its remote address, or aborts it when the pool cannot take it. */
function place(pool: ConnectionPool<Connection>, conn: Connection): boolean {
  if (pool.full || pool.state !== "running" || conn.closed) {
    conn.abort();
    return false;
  }
  let key = "";
  try {
    const address = conn.remoteAddress;
    key = address.family === "unix" ? address.path : address.host;
  } catch {
    // no peer address (it went away): keyed ""
  }
  pool.add(conn, key);
  return true;
}
