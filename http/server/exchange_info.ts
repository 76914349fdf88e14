/**
 * What the exchanges of the HTTP/1 and HTTP/2 sessions share as the
 * handler's `info`: the client's address (read once), `completed` (settled
 * by {@link ExchangeInfo.finish}) and the request's `trailers`, each
 * promise made only when the handler asks for it.
 *
 * @example
 * ```ts
 * import { ExchangeInfo } from "./exchange_info.ts";
 * import type { Connection } from "../../poll/connection.ts";
 * class Demo extends ExchangeInfo {
 *   conn: Connection;
 *   constructor(conn: Connection) {
 *     super();
 *     this.conn = conn;
 *   }
 *   protected connection(): Connection {
 *     return this.conn;
 *   }
 *   protected trailersNow(): Headers | undefined {
 *     return undefined;
 *   }
 * }
 * console.log(typeof Demo);
 * ```
 *
 * @module
 */
import type { Connection } from "../../poll/connection.ts";
import type { ServeHandlerInfo } from "./h1_session.ts";

/**
 * Each connection's client address, read once: it cannot change, and
 * reading it is a system call (getpeername) that a rate limit keyed by
 * address would otherwise make for every request.
 */
const peers = new WeakMap<Connection, ServeHandlerInfo["remoteAddr"]>();

/**
 * The base of a session's exchange (see the module text).
 *
 * @example
 * ```ts
 * import type { ExchangeInfo } from "./exchange_info.ts";
 * function answered(exchange: ExchangeInfo): void {
 *   exchange.finish(); // `completed` resolves
 * }
 * console.log(typeof answered);
 * ```
 */
export abstract class ExchangeInfo {
  /** The response is written (or cannot be). */
  done = false;
  #remote: ServeHandlerInfo["remoteAddr"] | undefined;
  #completed: Promise<void> | undefined;
  #resolveCompleted: (() => void) | undefined;
  #trailers: Promise<Headers> | undefined;
  #resolveTrailers: ((h: Headers) => void) | undefined;

  /** The connection the request came on. */
  protected abstract connection(): Connection;

  /** The request's trailers when they are settled now, else undefined (`trailers` waits for {@link ExchangeInfo.resolveTrailers}). */
  protected abstract trailersNow(): Headers | undefined;

  /** The client's address (empty for a Unix socket, or once the connection closed). */
  get remoteAddr(): ServeHandlerInfo["remoteAddr"] {
    if (this.#remote !== undefined) return this.#remote;
    const conn = this.connection();
    const known = peers.get(conn);
    if (known !== undefined) return (this.#remote = known);
    let hostname = "";
    let port = 0;
    try {
      const a = conn.remoteAddress;
      if (a.family !== "unix") {
        hostname = a.host;
        port = a.port;
      }
    } catch {
      // closed already: not remembered
      return (this.#remote = { hostname, port, transport: "tcp" });
    }
    const remote = { hostname, port, transport: "tcp" } as const;
    peers.set(conn, remote);
    return (this.#remote = remote);
  }

  /** Resolves once the response was written (or could not be). */
  get completed(): Promise<void> {
    if (this.#completed === undefined) {
      if (this.done) this.#completed = Promise.resolve();
      else this.#completed = new Promise((resolve) => (this.#resolveCompleted = resolve));
    }
    return this.#completed;
  }

  /** The request's trailer fields, once its body ended. */
  get trailers(): Promise<Headers> {
    if (this.#trailers === undefined) {
      const now = this.trailersNow();
      if (now !== undefined) this.#trailers = Promise.resolve(now);
      else this.#trailers = new Promise((resolve) => (this.#resolveTrailers = resolve));
    }
    return this.#trailers;
  }

  /** Settles a pending `trailers` with `trailers` (empty when undefined). */
  protected resolveTrailers(trailers: Headers | undefined): void {
    const resolve = this.#resolveTrailers;
    this.#resolveTrailers = undefined;
    resolve?.(trailers ?? new Headers());
  }

  /** The response went out (or could not): `completed` resolves. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.#resolveCompleted?.();
  }
}
