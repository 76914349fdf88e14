/**
 * The types of a {@link Connection}'s handler and options (re-exported by
 * poll/connection.ts, where users import them).
 *
 * @example
 * ```ts
 * import type { ConnectionHandler, ConnectionOptions } from "./connection.ts";
 * const options: ConnectionOptions = { highWaterMark: 1 << 20 };
 * const handler: ConnectionHandler = { data: (conn, bytes) => conn.send(bytes) };
 * console.log(options, handler);
 * ```
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/** Which timeout expired. */
export type TimeoutKind = "idle" | "read" | "write";

/**
 * Callbacks of a connection; every one is optional.
 *
 * @example
 * ```ts
 * import type { ConnectionHandler } from "./connection.ts";
 * const echo: ConnectionHandler = { data: (conn, bytes) => conn.send(bytes) };
 * ```
 */
export interface ConnectionHandler {
  /** The connection is established. */
  open?(conn: Connection): void;
  /**
   * Bytes arrived. `data` is a view of a buffer shared by every connection
   * and reused by the next read: it is valid only during the call (the same
   * view object may even come again, with other bytes). Copy what you keep
   * (`data.slice()`), or set the connection option `copy: true` to get a
   * Uint8Array of your own each time. Sending it back at once is fine:
   * `send()` copies what it cannot send now.
   *
   * @example
   * ```ts
   * import type { ConnectionHandler } from "./connection.ts";
   * const messages: Uint8Array[] = [];
   * const keeper: ConnectionHandler = {
   *   // The view is reused after this call: keep a copy, not the view.
   *   data: (_conn, data) => void messages.push(data.slice()),
   * };
   * ```
   */
  data?(conn: Connection, data: Uint8Array): void;
  /** The peer finished sending (FIN). Without it, the connection closes gracefully. */
  end?(conn: Connection): void;
  /** The write queue emptied after `send` returned false. */
  drain?(conn: Connection): void;
  /** The connection closed (`error` when it failed). Called once. */
  close?(conn: Connection, error: Error | undefined): void;
  /** A system call failed; `close` follows. */
  error?(conn: Connection, error: Error): void;
  /** A timeout expired; without this callback the connection is aborted. */
  timeout?(conn: Connection, kind: TimeoutKind): void;
}

/** Options of a connection. */
export interface ConnectionOptions {
  /** Buffered output above which `send` returns false (default `SOCKET_LIMITS.writeHighWaterMark`). */
  highWaterMark?: number;
  /** Most bytes buffered for `read()` before reading from the kernel pauses (default `SOCKET_LIMITS.readBufferBytes`). */
  readBufferBytes?: number;
  /** Close after this long with neither input nor output. */
  idleTimeoutMs?: number;
  /** Fail a pending `read()` after this long. */
  readTimeoutMs?: number;
  /** Fail when queued output makes no progress for this long. */
  writeTimeoutMs?: number;
  /**
   * Handler mode: `data` gets a Uint8Array of its own for each read, which
   * the handler may keep (default false: a reused view, valid only during
   * the call, that costs no allocation).
   *
   * @example
   * ```ts
   * import type { ConnectionOptions } from "./connection.ts";
   * const options: ConnectionOptions = { copy: true };
   * ```
   */
  copy?: boolean;
}

/**
 * Every key of {@link ConnectionOptions}, made from an object that must
 * list exactly the interface's keys (`satisfies` refuses one missing or
 * extra), so the run-time check of `connect`/`listen` cannot drift from
 * the type. Add a key here when you add one to `ConnectionOptions`.
 *
 * @example
 * ```ts
 * import { CONNECTION_OPTION_KEYS } from "./connection.ts";
 * console.log(CONNECTION_OPTION_KEYS.includes("highWaterMark")); // true
 * ```
 */
export const CONNECTION_OPTION_KEYS: readonly (keyof ConnectionOptions)[] = Object.keys({
  highWaterMark: true,
  readBufferBytes: true,
  idleTimeoutMs: true,
  readTimeoutMs: true,
  writeTimeoutMs: true,
  copy: true,
} satisfies Record<keyof ConnectionOptions, true>) as (keyof ConnectionOptions)[];

/** Options of {@link Connection.read}, {@link Connection.readExactly}, {@link Connection.readInto} and {@link Connection.write}. */
export interface WaitOptions {
  /** Aborts the wait (the connection stays usable after an aborted read, and an aborted read took no bytes). */
  signal?: AbortSignal;
}

/** The callbacks a {@link ConnectionHandler} may have. */
const HANDLER_CALLBACKS = ["open", "data", "end", "drain", "close", "error", "timeout"] as const;

/**
 * Refuses a handler that is not an object of callbacks, or one whose
 * callback is there but not a function (`{ data: "x" }`): a `TypeError`
 * when it is given, not a `TypeError` thrown from inside the loop when the
 * first bytes come (which ended the process). Undefined passes (read mode).
 *
 * @example
 * ```ts
 * import { checkHandler } from "./connection_types.ts";
 * checkHandler({ data: () => {} }, "listen"); // fine
 * try {
 *   checkHandler({ data: "echo" }, "listen");
 * } catch (err) {
 *   console.log((err as Error).message); // "listen: handler.data must be a function"
 * }
 * ```
 */
export function checkHandler(handler: unknown, where: string): void {
  if (handler === undefined) return;
  if (handler === null || typeof handler !== "object") throw new TypeError(`${where}: handler must be an object of callbacks`);
  const h = handler as Record<string, unknown>;
  for (const name of HANDLER_CALLBACKS) {
    const f = h[name];
    if (f !== undefined && typeof f !== "function") throw new TypeError(`${where}: handler.${name} must be a function`);
  }
}
