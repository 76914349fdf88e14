/**
 * The Loop's timer heap: a {@link TimerHeap} that tells its loop about every
 * change, so a parked wait can be woken for an earlier deadline and the
 * loop can stop keeping the process alive when no timer is referenced.
 *
 * @example
 * ```ts
 * import { LoopTimers } from "./loop_timers.ts";
 * const timers = new LoopTimers(() => console.log("changed"));
 * timers.once(10, () => {}).cancel(); // "changed" twice
 * timers.close();
 * ```
 *
 * @module
 */
import { type Timer, type TimerCallback, TimerHeap, type TimerHeapOptions } from "../core/timer_heap.ts";

/**
 * A timer heap that calls `onChange` after each scheduling change.
 *
 * @example
 * ```ts
 * import { LoopTimers } from "./loop_timers.ts";
 * let changes = 0;
 * const timers = new LoopTimers(() => changes++);
 * timers.every(100, () => {}).unref();
 * console.log(changes); // 2
 * timers.close();
 * ```
 */
export class LoopTimers extends TimerHeap {
  readonly #onChange: () => void;

  /** Timers that call `onChange` whenever the earliest deadline may have moved. */
  constructor(onChange: () => void, options: TimerHeapOptions = {}) {
    super(options);
    this.#onChange = onChange;
  }

  /** Schedules `callback` once after `delayMs`. */
  override once(delayMs: number, callback: TimerCallback): Timer {
    const timer = super.once(delayMs, callback);
    this.#onChange();
    return timer;
  }

  /** Schedules `callback` every `intervalMs`, first after `firstDelayMs`. */
  override every(intervalMs: number, callback: TimerCallback, firstDelayMs: number = intervalMs): Timer {
    const timer = super.every(intervalMs, callback, firstDelayMs);
    this.#onChange();
    return timer;
  }

  /** Cancels `timer`; true if it was pending. */
  override cancel(timer: Timer): boolean {
    const changed = super.cancel(timer);
    if (changed) this.#onChange();
    return changed;
  }

  /** Moves `timer` to fire `delayMs` from now. */
  override reschedule(timer: Timer, delayMs: number): void {
    super.reschedule(timer, delayMs);
    this.#onChange();
  }

  /** Pauses `timer`, keeping its remaining time; true if it was running. */
  override pause(timer: Timer): boolean {
    const changed = super.pause(timer);
    if (changed) this.#onChange();
    return changed;
  }

  /** Resumes a paused `timer`; true if it was paused. */
  override resume(timer: Timer): boolean {
    const changed = super.resume(timer);
    if (changed) this.#onChange();
    return changed;
  }

  /** Internal: whether `timer` keeps the loop alive. */
  override _setRef(timer: Timer, ref: boolean): void {
    super._setRef(timer, ref);
    this.#onChange();
  }
}
