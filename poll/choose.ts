/**
 * Picks a readiness backend: epoll on Linux, kqueue on macOS/BSD, poll(2)
 * elsewhere; `FFINET_POLL=epoll|poll|kqueue` (or an explicit name) forces one.
 *
 * @example
 * ```ts
 * import { createBackend, defaultBackendName } from "./choose.ts";
 * console.log(defaultBackendName()); // "epoll" on Linux
 * const backend = createBackend();
 * backend.close();
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import type { BackendName, BackendOptions, PollBackend } from "./backend.ts";
import { EpollBackend } from "./epoll.ts";
import { KqueueBackend } from "./kqueue.ts";
import { PollBackend2 } from "./poll_backend.ts";

const NAMES: readonly BackendName[] = ["epoll", "poll", "kqueue"];

/**
 * The backend chosen when none is named: `FFINET_POLL` if set, else the best
 * one this platform has.
 *
 * @example
 * ```ts
 * import { defaultBackendName } from "./choose.ts";
 * console.log(["epoll", "kqueue", "poll"].includes(defaultBackendName())); // true
 * ```
 * @throws {RangeError} when `FFINET_POLL` names no backend.
 */
export function defaultBackendName(): BackendName {
  const forced = native.env("FFINET_POLL");
  if (forced !== undefined && forced !== "") {
    if (!(NAMES as readonly string[]).includes(forced)) {
      throw new RangeError(`FFINET_POLL must be one of ${NAMES.join(", ")}, got "${forced}"`);
    }
    return forced as BackendName;
  }
  const c = libc();
  if (native.os === "linux" && c.epoll_create1 !== undefined) return "epoll";
  if (c.kqueue !== undefined && native.os !== "linux") return "kqueue";
  return "poll";
}

/**
 * Creates a backend by name (default: {@link defaultBackendName}).
 *
 * @example
 * ```ts
 * import { createBackend } from "./choose.ts";
 * const backend = createBackend("poll", { maxEvents: 128 });
 * console.log(backend.name); // "poll"
 * backend.close();
 * ```
 */
export function createBackend(name: BackendName = defaultBackendName(), options: BackendOptions = {}): PollBackend {
  switch (name) {
    case "epoll":
      return new EpollBackend(options);
    case "kqueue":
      return new KqueueBackend(options);
    case "poll":
      return new PollBackend2(options);
    default:
      throw new RangeError(`unknown poll backend "${String(name)}"`);
  }
}
