/**
 * The write stall check shared by the HTTP/1.1 and HTTP/2 sessions: queued
 * response bytes that the client takes none of for `writeTimeoutMs` mean
 * a client that stopped reading (however slowly a client reads, any byte
 * taken counts as progress).
 *
 * @example
 * ```ts
 * import { WriteStallWatch } from "./write_stall.ts";
 * const watch = new WriteStallWatch();
 * watch.handed += 100; // 100 bytes given to the connection, all still queued
 * console.log(watch.stalled(100, 1_000, 500)); // false: stalled since now
 * console.log(watch.stalled(100, 1_600, 500)); // true: nothing taken for 600 ms
 * ```
 *
 * @module
 */

/**
 * Progress of one connection's output, checked by the server's periodic
 * sweep: the session adds what it hands to the connection to
 * {@link WriteStallWatch.handed}; the sweep asks {@link WriteStallWatch.stalled}.
 *
 * @example
 * ```ts
 * import { WriteStallWatch } from "./write_stall.ts";
 * const watch = new WriteStallWatch();
 * watch.handed += 10;
 * console.log(watch.stalled(0, 5, 1)); // false: nothing queued
 * ```
 */
export class WriteStallWatch {
  /** Bytes handed to the connection over its life (what the kernel took is this less what is still queued). */
  handed = 0;
  /** What the kernel had taken at the last sweep. */
  #takenAtSweep = 0;
  /** Since when nothing more was taken (0: not stalled). */
  #stalledSince = 0;

  /**
   * Whether the output made no progress for `limitMs` (0 disables), given
   * the bytes still queued and the sweep's clock reading; the caller aborts
   * the connection on `true` (and the watch starts over).
   */
  stalled(queued: number, now: number, limitMs: number): boolean {
    if (queued === 0) {
      this.#stalledSince = 0;
      return false;
    }
    const taken = this.handed - queued;
    if (this.#stalledSince === 0 || taken > this.#takenAtSweep) this.#stalledSince = now;
    this.#takenAtSweep = taken;
    if (limitMs > 0 && now - this.#stalledSince >= limitMs) {
      this.#stalledSince = 0;
      return true;
    }
    return false;
  }
}
