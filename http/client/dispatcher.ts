/**
 * The dispatcher seam, as undici's: one `dispatch(options, handler)` that
 * a {@link Client} (one connection), a `Pool` (connections to one origin)
 * and an `Agent` (origin → pool) all implement, so `request` and `fetch`
 * take any of them. The handler gets the response head, the body bytes and
 * the end (or one error), synchronously from the connection.
 *
 * @example
 * ```ts
 * import type { DispatchHandler } from "./dispatcher.ts";
 * const handler: DispatchHandler = {
 *   onHeaders: (status) => console.log(status),
 *   onData: (chunk) => (console.log(chunk.length), true),
 *   onComplete: () => console.log("done"),
 *   onError: (error) => console.error(error),
 * };
 * ```
 *
 * @module
 */
import type { MessageHead } from "../h1/fields.ts";
import type { RequestBody } from "./request_body.ts";

/**
 * One request to dispatch. `headers` are name/value pairs as sent (Host,
 * framing and `Expect` are added by the connection).
 *
 * @example
 * ```ts
 * import type { DispatchOptions } from "./dispatcher.ts";
 * const get: DispatchOptions = { origin: "http://127.0.0.1:8080", method: "GET", path: "/", headers: [], body: null };
 * ```
 */
export interface DispatchOptions {
  /** `scheme://host[:port]` of the server. */
  origin: string;
  /** The method (a token). */
  method: string;
  /** The request-target: path and query. */
  path: string;
  /** Header fields as `[name, value]` pairs. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** The body, or null. */
  body: RequestBody | null;
  /** Aborts the request in any phase. */
  signal?: AbortSignal | undefined;
  /** Safe to send again (GET, HEAD, PUT, DELETE, OPTIONS, TRACE by default): allows pipelining and one retry on a dead kept-alive connection. */
  idempotent?: boolean | undefined;
  /** Send `Expect: 100-continue` and wait for the server before the body: true, false, or the body size from which to (default: the dispatcher's). */
  expectContinue?: boolean | number | undefined;
  /** Most time from the request written to the response head (default: the dispatcher's). */
  headersTimeoutMs?: number | undefined;
  /** Most time between two pieces of the response body (default: the dispatcher's). */
  bodyTimeoutMs?: number | undefined;
}

/**
 * Lets the handler pace the response body: `pause` stops reading from the
 * connection, `resume` starts again, `abort` ends the request (and closes
 * the connection) with an error.
 *
 * @example
 * ```ts
 * import type { ResponseControl } from "./dispatcher.ts";
 * function slowDown(control: ResponseControl) { control.pause(); setTimeout(() => control.resume(), 10); }
 * ```
 */
export interface ResponseControl {
  /** Stops delivering body chunks until `resume()` (reading from the connection pauses too). */
  pause(): void;
  /** Resumes delivering body chunks after `pause()`. */
  resume(): void;
  /** Aborts the response with `error` (the connection is closed). */
  abort(error: Error): void;
}

/**
 * What a dispatcher calls: `onHeaders` once with the final response head
 * (interim 1xx responses are handled below), `onData` per body piece (a
 * view valid during the call: copy what you keep, unless `owned` says it
 * is yours already), then `onComplete`, or
 * `onError` once instead at any point.
 *
 * @example
 * ```ts
 * import type { DispatchHandler } from "./dispatcher.ts";
 * const chunks: Uint8Array[] = [];
 * const collect: DispatchHandler = {
 *   onHeaders() {},
 *   onData: (chunk) => (chunks.push(chunk.slice()), true),
 *   onComplete() {},
 *   onError() {},
 * };
 * ```
 */
export interface DispatchHandler {
  /** The response head; `head` is valid during the call only (use `head.detach()` to keep it). */
  onHeaders(statusCode: number, head: MessageHead, control: ResponseControl): void;
  /**
   * A piece of the body; return false to pause reading until
   * `control.resume()`. `owned`: the bytes stay valid after the call (the
   * HTTP/2 client hands over its own copies), no need to copy them.
   */
  onData(chunk: Uint8Array, owned?: boolean): boolean;
  /** The response ended; trailer fields of a chunked body, if any. */
  onComplete(trailers: Array<[string, string]> | null): void;
  /** The request failed (connect, write, timeout, parse, abort, close). */
  onError(error: Error): void;
}

/**
 * Anything that dispatches requests: `Client`, `Pool`, `Agent`.
 *
 * @example
 * ```ts
 * import type { Dispatcher } from "./dispatcher.ts";
 * function closeAll(dispatchers: Dispatcher[]) { return Promise.all(dispatchers.map((d) => d.close())); }
 * ```
 */
export interface Dispatcher {
  /** Starts a request; results go to `handler`. */
  dispatch(options: DispatchOptions, handler: DispatchHandler): void;
  /** Lets requests in flight and queued finish, then closes every connection. */
  close(): Promise<void>;
  /** Fails every request and closes every connection now. */
  destroy(error?: Error): Promise<void>;
  /**
   * The HTTP proxy (its origin, `http://host:port`) a request to `origin`
   * is sent to in absolute form, where `Proxy-Authorization` goes with the
   * request; null (or no such method) when none. `fetch` asks it to send
   * proxy credentials up front.
   */
  proxyFor?(origin: string): string | null;
}
