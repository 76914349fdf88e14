/**
 * What the exchanges of the HTTP/1 and HTTP/2 sessions share as the
 * handler's `info`: the client's address (read once per connection and
 * kept by the session), `completed` (settled
 * by {@link ExchangeInfo.finish}) and the request's `trailers`, each
 * promise made only when the handler asks for it.
 *
 * @example
 * ```ts
 * import { type ExchangeHost, ExchangeInfo } from "./exchange_info.ts";
 * class Demo extends ExchangeInfo {
 *   session: ExchangeHost;
 *   constructor(session: ExchangeHost) {
 *     super();
 *     this.session = session;
 *   }
 *   protected host(): ExchangeHost {
 *     return this.session;
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
 * What a session keeps for its exchanges: its connection, and the
 * client's address once an exchange was asked for it. The address cannot
 * change, reading it is a system call (getpeername), and a rate limit
 * keyed by address asks for it on every request: a field of the session is
 * the cheapest place to keep it (a `WeakMap` by connection cost 30–40 ns
 * per request on Deno).
 *
 * @example
 * ```ts
 * import type { ExchangeHost } from "./exchange_info.ts";
 * import type { Connection } from "../../poll/connection.ts";
 * function host(conn: Connection): ExchangeHost {
 *   return { conn, peer: undefined };
 * }
 * console.log(typeof host);
 * ```
 */
export interface ExchangeHost {
  /** The connection the requests come on. */
  readonly conn: Connection;
  /** The client's address (undefined until an exchange's `remoteAddr` read it). */
  peer: ServeHandlerInfo["remoteAddr"] | undefined;
}

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
  #completed: Promise<void> | undefined;
  #resolveCompleted: (() => void) | undefined;
  #trailers: Promise<Headers> | undefined;
  #resolveTrailers: ((h: Headers) => void) | undefined;

  /** The session the request came on (its connection, the client's address once read). */
  protected abstract host(): ExchangeHost;

  /** The request's trailers when they are settled now, else undefined (`trailers` waits for {@link ExchangeInfo.resolveTrailers}). */
  protected abstract trailersNow(): Headers | undefined;

  /** The client's address (empty for a Unix socket, or once the connection closed). */
  get remoteAddr(): ServeHandlerInfo["remoteAddr"] {
    const host = this.host();
    const known = host.peer;
    if (known !== undefined) return known;
    let hostname = "";
    let port = 0;
    try {
      const a = host.conn.remoteAddress;
      if (a.family !== "unix") {
        hostname = a.host;
        port = a.port;
      }
    } catch {
      // closed already: not remembered
      return { hostname, port, transport: "tcp" };
    }
    return (host.peer = { hostname, port, transport: "tcp" });
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
