/**
 * A request on its way through a dispatcher: its options, its handler
 * (called at most once with an end or an error), its abort listener and
 * whether it was already retried.
 *
 * @example
 * ```ts
 * import { PendingRequest } from "./pending.ts";
 * const p = new PendingRequest(
 *   { origin: "http://127.0.0.1:1", method: "GET", path: "/", headers: [], body: null },
 *   { onHeaders() {}, onData: () => true, onComplete() {}, onError: (e) => console.log(e.message) },
 * );
 * p.fail(new Error("gave up")); // "gave up"
 * ```
 *
 * @module
 */
import type { DispatchHandler, DispatchOptions } from "./dispatcher.ts";
import { isIdempotentMethod } from "../core/methods.ts";

/**
 * One request in a dispatcher. See the module documentation.
 *
 * @example
 * ```ts
 * import { PendingRequest } from "./pending.ts";
 * const p = new PendingRequest(
 *   { origin: "http://127.0.0.1:1", method: "PUT", path: "/", headers: [], body: null },
 *   { onHeaders() {}, onData: () => true, onComplete() {}, onError() {} },
 * );
 * console.log(p.idempotent); // true
 * ```
 */
export class PendingRequest {
  /** The request as dispatched. */
  readonly options: DispatchOptions;
  /** Receives the response head, body and end (or the error). */
  readonly handler: DispatchHandler;
  /** May be pipelined and sent again. */
  readonly idempotent: boolean;
  /** Sent a second time already (after a kept-alive connection died). */
  retried = false;
  /**
   * A 417 answered its `Expect: 100-continue` before the body went: it is
   * sent again without the expectation (RFC 9110 §10.1.1), once.
   */
  withoutExpect = false;
  /** The handler got its end or its error. */
  done = false;
  /**
   * The HTTP/2 stream carrying it while one does (set and cleared by its
   * connection: a field instead of a map from request to stream per
   * connection).
   */
  stream: object | undefined = undefined;
  /** Its place in its dispatcher's order (set by a Pool: a request sent again goes back in that order). */
  seq = 0;
  /** Called once when the signal aborts (set by the dispatcher). */
  #onAbort: (() => void) | undefined;

  /** Wraps a dispatched request; it is idempotent when `options.idempotent` says so, else when its method is (GET, HEAD, PUT, DELETE ...). */
  constructor(options: DispatchOptions, handler: DispatchHandler) {
    this.options = options;
    this.handler = handler;
    this.idempotent = options.idempotent ?? isIdempotentMethod(options.method);
  }

  /** Whether it may be sent again: idempotent, not retried yet, and its body replayable. */
  get retryable(): boolean {
    const body = this.options.body;
    return this.idempotent && !this.retried && !this.done && (body === null || body.replayable);
  }

  /** Calls `onAbort` (once) when the request's signal aborts; false if it is aborted already. */
  watchAbort(onAbort: (reason: Error) => void): boolean {
    const signal = this.options.signal;
    if (!signal) return true;
    if (signal.aborted) return false;
    this.#onAbort = () => onAbort(abortReason(signal));
    signal.addEventListener("abort", this.#onAbort, { once: true });
    return true;
  }

  /** The request ended: stops watching the signal. */
  finish(): void {
    this.done = true;
    if (this.#onAbort) {
      this.options.signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }

  /** Fails the request (once). */
  fail(error: Error): void {
    if (this.done) return;
    this.finish();
    this.handler.onError(error);
  }
}

/**
 * The reason a signal aborted with, as an Error (a DOMException
 * `AbortError` by default).
 *
 * @example
 * ```ts
 * import { abortReason } from "./pending.ts";
 * const c = new AbortController();
 * c.abort();
 * console.log(abortReason(c.signal).name); // "AbortError"
 * ```
 */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  if (r === undefined) return new DOMException("This operation was aborted", "AbortError");
  return Object.assign(new Error(String(r)), { name: "AbortError", cause: r });
}
