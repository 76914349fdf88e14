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

  constructor(onChange: () => void, options: TimerHeapOptions = {}) {
    super(options);
    this.#onChange = onChange;
  }

  override once(delayMs: number, callback: TimerCallback): Timer {
    const timer = super.once(delayMs, callback);
    this.#onChange();
    return timer;
  }

  override every(intervalMs: number, callback: TimerCallback, firstDelayMs: number = intervalMs): Timer {
    const timer = super.every(intervalMs, callback, firstDelayMs);
    this.#onChange();
    return timer;
  }

  override cancel(timer: Timer): boolean {
    const changed = super.cancel(timer);
    if (changed) this.#onChange();
    return changed;
  }

  override reschedule(timer: Timer, delayMs: number): void {
    super.reschedule(timer, delayMs);
    this.#onChange();
  }

  override pause(timer: Timer): boolean {
    const changed = super.pause(timer);
    if (changed) this.#onChange();
    return changed;
  }

  override resume(timer: Timer): boolean {
    const changed = super.resume(timer);
    if (changed) this.#onChange();
    return changed;
  }

  override _setRef(timer: Timer, ref: boolean): void {
    super._setRef(timer, ref);
    this.#onChange();
  }
}
