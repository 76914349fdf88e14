/**
 * The client's timeouts, one typed error per phase:
 *
 * | phase | option | error |
 * |---|---|---|
 * | connect | `connectTimeoutMs` (Pool/Agent) | `SocketTimeoutError`, `syscall: "connect"` |
 * | TLS handshake | `tls: { handshakeTimeoutMs }` | `SocketTimeoutError`, `syscall: "handshake"` |
 * | response head | `headersTimeoutMs` | `HTTPError` `ERR_HTTP_HEADERS_TIMEOUT` |
 * | body idle | `bodyTimeoutMs` | `HTTPError` `ERR_HTTP_BODY_TIMEOUT` |
 * | total | `totalTimeoutMs` (request, fetch) | `HTTPError` `ERR_HTTP_TOTAL_TIMEOUT` |
 *
 * {@link deadlineSignal} makes the total one: an `AbortSignal` that aborts
 * with `ERR_HTTP_TOTAL_TIMEOUT` after `ms` (or with the caller's signal's
 * reason first). Its timer does not keep the process alive.
 *
 * @example
 * ```ts
 * import { deadlineSignal } from "./timeouts.ts";
 * const deadline = deadlineSignal(5_000);
 * console.log(deadline.signal.aborted); // false
 * deadline.clear();
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";
import { native } from "../../ffi/native.ts";

/**
 * An abort signal with a deadline, and `clear()` to drop the timer once the
 * work is done.
 *
 * @example
 * ```ts
 * import type { Deadline } from "./timeouts.ts";
 * function finish(d: Deadline) { d.clear(); }
 * ```
 */
export interface Deadline {
  /** Aborts at the deadline (or with the caller's signal). */
  readonly signal: AbortSignal;
  /** Drops the timer and the listener on the caller's signal. */
  clear(): void;
}

/**
 * A signal that aborts with `HTTPError` `ERR_HTTP_TOTAL_TIMEOUT` after
 * `ms`, or with `signal`'s reason when that aborts first.
 *
 * @throws RangeError for a negative or non-finite `ms`
 * @example
 * ```ts
 * import { deadlineSignal } from "./timeouts.ts";
 * const outer = new AbortController();
 * const d = deadlineSignal(1_000, outer.signal);
 * outer.abort(new Error("stop"));
 * console.log((d.signal.reason as Error).message); // "stop"
 * d.clear();
 * ```
 */
export function deadlineSignal(ms: number, signal?: AbortSignal): Deadline {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) throw new RangeError(`totalTimeoutMs must be a finite number >= 0, got ${String(ms)}`);
  const controller = new AbortController();
  let cancelTimer: (() => void) | undefined;
  const onAbort = () => {
    clear();
    controller.abort(signal!.reason);
  };
  const clear = () => {
    cancelTimer?.();
    cancelTimer = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  if (signal?.aborted) {
    controller.abort(signal.reason);
    return { signal: controller.signal, clear };
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  cancelTimer = native.unrefTimeout(() => {
    cancelTimer = undefined;
    clear();
    controller.abort(new HTTPError("ERR_HTTP_TOTAL_TIMEOUT", `the request took more than ${ms} ms in all`));
  }, ms);
  return { signal: controller.signal, clear };
}
