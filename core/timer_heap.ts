/**
 * The timers of the library-owned loop: a binary min-heap ordered by
 * deadline, then by scheduling order (FIFO among equal deadlines).
 *
 * Every timer remembers its index in the heap, so cancel, reschedule and
 * pause are O(log n); scheduling is O(log n); reading the next deadline is
 * O(1). The loop asks {@link TimerHeap.timeoutMs} for its poll timeout and
 * calls {@link TimerHeap.runDue} after each poll.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { TimerHeap } from "./timer_heap.ts";
 * const clock = new ManualClock();
 * const timers = new TimerHeap({ clock });
 * const fired: string[] = [];
 * timers.once(20, () => fired.push("b"));
 * timers.once(10, () => fired.push("a"));
 * console.log(timers.timeoutMs()); // 10
 * clock.advance(20);
 * timers.runDue();
 * console.log(fired); // ["a", "b"]
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";
import { UseAfterCloseError } from "./errors.ts";
import { valueList } from "./dense_slots.ts";

/**
 * Called when a timer fires, with the timer itself (so a callback can
 * cancel, pause or reschedule its own timer).
 *
 * @example
 * ```ts
 * import type { TimerCallback } from "./timer_heap.ts";
 * let ticks = 0;
 * const stopAfterThree: TimerCallback = (timer) => {
 *   if (++ticks === 3) timer.cancel();
 * };
 * ```
 */
export type TimerCallback = (timer: Timer) => void;

/**
 * What a timer is doing:
 * - `"scheduled"`: waiting in the heap for its deadline;
 * - `"due"`: taken out of the heap by a running {@link TimerHeap.runDue},
 *   about to fire in this run;
 * - `"paused"`: out of the heap, remembering its remaining time;
 * - `"idle"`: cancelled, or a one-shot timer that has fired.
 *
 * @example
 * ```ts
 * import type { TimerState } from "./timer_heap.ts";
 * const state: TimerState = "paused";
 * ```
 */
export type TimerState = "idle" | "scheduled" | "paused" | "due";

const IDLE = 0;
const SCHEDULED = 1;
const PAUSED = 2;
const DUE = 3;
const STATE_NAMES: readonly TimerState[] = ["idle", "scheduled", "paused", "due"];

/** The largest timeout {@link TimerHeap.timeoutMs} returns (a C `int`). */
const MAX_TIMEOUT_MS = 0x7fffffff;

/**
 * Options of a {@link TimerHeap}.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { TimerHeap, type TimerHeapOptions } from "./timer_heap.ts";
 * const options: TimerHeapOptions = {
 *   clock: new ManualClock(),
 *   onError: (err) => console.error("timer failed", err),
 * };
 * const timers = new TimerHeap(options);
 * ```
 */
export interface TimerHeapOptions {
  /** Where "now" comes from for scheduling (default: {@link systemClock}). */
  clock?: Clock;
  /**
   * Receives an exception thrown by a timer callback. Without it,
   * {@link TimerHeap.runDue} keeps firing the other due timers and then
   * rethrows (one error as is, several as an `AggregateError`).
   */
  onError?: (error: unknown, timer: Timer) => void;
}

/**
 * One timer: a handle returned by {@link TimerHeap.once} or
 * {@link TimerHeap.every}. Its methods forward to its heap.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { TimerHeap } from "./timer_heap.ts";
 * const clock = new ManualClock();
 * const timers = new TimerHeap({ clock });
 * const t = timers.once(100, () => {});
 * clock.advance(40);
 * t.pause();
 * console.log(t.remaining(), t.state); // 60 "paused"
 * t.resume();
 * t.cancel();
 * ```
 */
export class Timer {
  /** @internal The heap that owns this timer. */
  _heap: TimerHeap;
  /** @internal */
  _callback: TimerCallback;
  /** @internal Absolute deadline in clock milliseconds (scheduled, due). */
  _deadline = 0;
  /** @internal Scheduling order, the tie-breaker among equal deadlines. */
  _seq = 0;
  /** @internal Position in the heap array, -1 when not in the heap. */
  _index = -1;
  /** @internal One of IDLE, SCHEDULED, PAUSED, DUE. */
  _state = IDLE;
  /** @internal Repeat interval in ms, or -1 for a one-shot timer. */
  _interval: number;
  /** @internal Time left when paused. */
  _remaining = 0;
  /** @internal Whether this timer keeps the loop alive. */
  _ref = true;

  /** @internal Use {@link TimerHeap.once} or {@link TimerHeap.every}. */
  constructor(heap: TimerHeap, callback: TimerCallback, intervalMs: number) {
    this._heap = heap;
    this._callback = callback;
    this._interval = intervalMs;
  }

  /** What the timer is doing now. */
  get state(): TimerState {
    return STATE_NAMES[this._state] ?? "idle";
  }

  /** True when the timer will fire without further calls (scheduled or due). */
  get active(): boolean {
    return this._state === SCHEDULED || this._state === DUE;
  }

  /** The repeat interval in ms, or `undefined` for a one-shot timer. */
  get intervalMs(): number | undefined {
    return this._interval < 0 ? undefined : this._interval;
  }

  /** The absolute deadline (clock ms) while active, else `undefined`. */
  get deadline(): number | undefined {
    return this.active ? this._deadline : undefined;
  }

  /** Same as {@link TimerHeap.cancel}. */
  cancel(): boolean {
    return this._heap.cancel(this);
  }

  /** Same as {@link TimerHeap.reschedule}. */
  reschedule(delayMs: number): void {
    this._heap.reschedule(this, delayMs);
  }

  /** Same as {@link TimerHeap.pause}. */
  pause(): boolean {
    return this._heap.pause(this);
  }

  /** Same as {@link TimerHeap.resume}. */
  resume(): boolean {
    return this._heap.resume(this);
  }

  /** Same as {@link TimerHeap.remaining}. */
  remaining(): number {
    return this._heap.remaining(this);
  }

  /** Makes the timer keep the loop alive (the default). */
  ref(): this {
    this._heap._setRef(this, true);
    return this;
  }

  /** Lets the loop exit even while this timer is active. */
  unref(): this {
    this._heap._setRef(this, false);
    return this;
  }

  /** Whether the timer keeps the loop alive when active. */
  hasRef(): boolean {
    return this._ref;
  }
}

/**
 * A min-heap of {@link Timer}s.
 *
 * Firing rules of {@link TimerHeap.runDue}:
 * - every timer whose deadline is at or before `now` when the run starts
 *   fires once, in deadline order, FIFO among equal deadlines;
 * - timers created, rescheduled or resumed by a callback during the run fire
 *   in a later run, even if already due (no unbounded loops);
 * - a due timer that an earlier callback of the same run cancels, pauses or
 *   reschedules does not fire in this run;
 * - a repeating timer is re-armed before its callback runs (so the callback
 *   may cancel it), at `deadline + interval`, or at `now + interval` when the
 *   loop fell so far behind that the next tick is also past: missed ticks
 *   are skipped, never fired in a burst;
 * - a throwing callback does not stop the run and loses no timer: the error
 *   goes to `onError`, or is rethrown after the run.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * import { TimerHeap } from "./timer_heap.ts";
 * const clock = new ManualClock();
 * const timers = new TimerHeap({ clock });
 * let ticks = 0;
 * timers.every(10, (t) => { if (++ticks === 3) t.cancel(); });
 * for (let i = 0; i < 5; i++) { clock.advance(10); timers.runDue(); }
 * console.log(ticks); // 3
 * ```
 */
export class TimerHeap {
  readonly #clock: Clock;
  readonly #onError: ((error: unknown, timer: Timer) => void) | undefined;
  readonly #heap: Timer[] = [];
  /** Reused list of the timers taken out of the heap by the current run (a value list from the start: core/dense_slots.ts). */
  readonly #batch: Timer[] = valueList<Timer>();
  #seq = 0;
  #running = false;
  #closed = false;
  #refed = 0;

  /**
   * Creates an empty timer heap on `options.clock` (default the system clock).
   * @param options the clock and the error handler.
   */
  constructor(options: TimerHeapOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    if (options.onError !== undefined && typeof options.onError !== "function") {
      throw new TypeError("onError must be a function");
    }
    this.#onError = options.onError;
  }

  /** Timers waiting in the heap (paused and due timers are not counted). */
  get size(): number {
    return this.#heap.length;
  }

  /** True once {@link TimerHeap.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while an active timer (scheduled or due) is referenced. */
  hasRef(): boolean {
    return this.#refed > 0;
  }

  /**
   * Schedules a one-shot timer.
   *
   * @param delayMs milliseconds from now (finite, ≥ 0).
   * @param callback called once when the timer fires.
   * @returns the timer's handle.
   * @throws {RangeError} for a negative or non-finite delay.
   * @throws {UseAfterCloseError} after {@link TimerHeap.close}.
   */
  once(delayMs: number, callback: TimerCallback): Timer {
    checkDelay(delayMs, "delayMs");
    return this.#start(new Timer(this, checkCallback(callback), -1), delayMs);
  }

  /**
   * Schedules a repeating timer.
   *
   * @param intervalMs milliseconds between ticks (finite, > 0).
   * @param callback called at every tick.
   * @param firstDelayMs milliseconds to the first tick (default `intervalMs`).
   * @returns the timer's handle.
   * @throws {RangeError} for a non-positive interval or a bad first delay.
   * @throws {UseAfterCloseError} after {@link TimerHeap.close}.
   */
  every(intervalMs: number, callback: TimerCallback, firstDelayMs: number = intervalMs): Timer {
    checkDelay(intervalMs, "intervalMs");
    if (intervalMs === 0) throw new RangeError("intervalMs must be greater than 0");
    checkDelay(firstDelayMs, "firstDelayMs");
    return this.#start(new Timer(this, checkCallback(callback), intervalMs), firstDelayMs);
  }

  /**
   * Cancels a timer. Cancelling an idle timer does nothing.
   *
   * @returns true when the timer was scheduled, due or paused.
   */
  cancel(timer: Timer): boolean {
    this.#own(timer);
    const state = timer._state;
    if (state === IDLE) return false;
    if (state === SCHEDULED) this.#removeAt(timer._index);
    this.#setState(timer, IDLE);
    return true;
  }

  /**
   * Moves a timer's next firing to `delayMs` from now, whatever its state: an
   * idle or paused timer becomes scheduled again. A repeating timer keeps its
   * interval for the ticks after that.
   *
   * @throws {RangeError} for a negative or non-finite delay.
   * @throws {UseAfterCloseError} after {@link TimerHeap.close}.
   */
  reschedule(timer: Timer, delayMs: number): void {
    this.#own(timer);
    checkDelay(delayMs, "delayMs");
    this.#checkOpen();
    const deadline = this.#clock.now() + delayMs;
    if (timer._state === SCHEDULED) {
      const i = timer._index;
      const later = deadline >= timer._deadline;
      timer._deadline = deadline;
      timer._seq = ++this.#seq;
      // A later (or equal, with a larger seq) key can only move down.
      if (later) this.#siftDown(i);
      else this.#siftUp(i);
      return;
    }
    this.#insert(timer, deadline);
  }

  /**
   * Takes a scheduled (or due) timer out of the heap and remembers its
   * remaining time. A paused timer does not keep the loop alive.
   *
   * @returns true when the timer was active and is now paused.
   */
  pause(timer: Timer): boolean {
    this.#own(timer);
    const state = timer._state;
    if (state !== SCHEDULED && state !== DUE) return false;
    timer._remaining = Math.max(0, timer._deadline - this.#clock.now());
    if (state === SCHEDULED) this.#removeAt(timer._index);
    this.#setState(timer, PAUSED);
    return true;
  }

  /**
   * Schedules a paused timer again with the time it had left.
   *
   * @returns true when the timer was paused.
   * @throws {UseAfterCloseError} after {@link TimerHeap.close}.
   */
  resume(timer: Timer): boolean {
    this.#own(timer);
    if (timer._state !== PAUSED) return false;
    this.#checkOpen();
    this.#insert(timer, this.#clock.now() + timer._remaining);
    return true;
  }

  /**
   * Milliseconds until the timer fires: 0 when due or idle, the remembered
   * time when paused.
   */
  remaining(timer: Timer): number {
    this.#own(timer);
    const state = timer._state;
    if (state === PAUSED) return timer._remaining;
    if (state === IDLE) return 0;
    return Math.max(0, timer._deadline - this.#clock.now());
  }

  /**
   * The earliest deadline in the heap (absolute clock ms), or `undefined`
   * when no timer is scheduled.
   */
  nextDeadline(): number | undefined {
    return this.#heap[0]?._deadline;
  }

  /**
   * The poll timeout until the next deadline: -1 (wait forever) without
   * timers, 0 when one is due, else the whole milliseconds rounded up (so the
   * poll never wakes before the deadline), at most 2^31 - 1.
   *
   * @param now the current time (default: the clock's).
   */
  timeoutMs(now: number = this.#clock.now()): number {
    const first = this.#heap[0];
    if (first === undefined) return -1;
    const wait = first._deadline - now;
    if (!(wait > 0)) return 0;
    return Math.min(Math.ceil(wait), MAX_TIMEOUT_MS);
  }

  /**
   * Fires every timer due at `now` (see the class documentation for the
   * rules). A nested call from inside a callback does nothing and returns 0.
   *
   * @param now the current time (default: the clock's).
   * @returns the number of callbacks called.
   * @throws the error of a throwing callback (after the run) when there is
   *   no `onError`; an `AggregateError` when several threw.
   * @throws {TypeError} when `now` is not a number.
   * @throws {RangeError} when `now` is not finite.
   */
  runDue(now: number = this.#clock.now()): number {
    if (typeof now !== "number" || Number.isNaN(now)) {
      throw new TypeError(`now must be a number, got ${String(now)}`);
    }
    // Infinity would fire every timer and re-arm the repeating ones at
    // Infinity, where they never fire again.
    if (!Number.isFinite(now)) throw new RangeError(`now must be finite, got ${now}`);
    if (this.#running || this.#closed) return 0;
    const heap = this.#heap;
    const batch = this.#batch;
    let fired = 0;
    let errors: unknown[] | undefined;
    this.#running = true;
    try {
      for (let top = heap[0]; top !== undefined && top._deadline <= now; top = heap[0]) {
        this.#removeAt(0);
        top._state = DUE; // still active: the ref count does not change
        batch.push(top);
      }
      for (let i = 0; i < batch.length; i++) {
        const timer = batch[i] as Timer;
        if (timer._state !== DUE) continue;
        if (timer._interval > 0) {
          let next = timer._deadline + timer._interval;
          if (next <= now) next = now + timer._interval;
          this.#push(timer, next); // due → scheduled: still active
        } else {
          this.#setState(timer, IDLE);
        }
        fired++;
        try {
          timer._callback(timer);
        } catch (error) {
          if (this.#onError === undefined) (errors ??= []).push(error);
          else {
            try {
              this.#onError(error, timer);
            } catch (handlerError) {
              (errors ??= []).push(handlerError);
            }
          }
        }
      }
    } finally {
      // Timers left DUE (only if something above threw unexpectedly) go back.
      for (let i = 0; i < batch.length; i++) {
        const timer = batch[i] as Timer;
        if (timer._state === DUE) this.#push(timer, timer._deadline);
      }
      batch.length = 0;
      this.#running = false;
    }
    if (errors !== undefined) {
      if (errors.length === 1) throw errors[0];
      throw new AggregateError(errors, `${errors.length} timer callbacks threw`);
    }
    return fired;
  }

  /**
   * Cancels every scheduled timer and refuses new ones: later `once`,
   * `every`, `reschedule` and `resume` throw {@link UseAfterCloseError}.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#heap) {
      timer._index = -1;
      timer._state = IDLE;
    }
    for (const timer of this.#batch) timer._state = IDLE;
    this.#heap.length = 0;
    this.#refed = 0;
  }

  /** @internal Called by {@link Timer.ref} / {@link Timer.unref}. */
  _setRef(timer: Timer, ref: boolean): void {
    this.#own(timer);
    if (timer._ref === ref) return;
    timer._ref = ref;
    if (timer._state === SCHEDULED || timer._state === DUE) this.#refed += ref ? 1 : -1;
  }

  #start(timer: Timer, delayMs: number): Timer {
    this.#checkOpen();
    this.#insert(timer, this.#clock.now() + delayMs);
    return timer;
  }

  /** Puts an idle, paused or due timer into the heap as scheduled. */
  #insert(timer: Timer, deadline: number): void {
    this.#setState(timer, SCHEDULED);
    this.#push(timer, deadline);
  }

  /**
   * Pushes a timer that is not in the heap, marking it scheduled without
   * touching the ref count (the caller keeps it right).
   */
  #push(timer: Timer, deadline: number): void {
    timer._deadline = deadline;
    timer._seq = ++this.#seq;
    timer._state = SCHEDULED;
    const i = this.#heap.length;
    this.#heap.push(timer);
    timer._index = i;
    this.#siftUp(i);
  }

  #setState(timer: Timer, state: number): void {
    const old = timer._state;
    timer._state = state;
    if (!timer._ref) return;
    const was = old === SCHEDULED || old === DUE;
    const is = state === SCHEDULED || state === DUE;
    if (was !== is) this.#refed += is ? 1 : -1;
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const removed = heap[i] as Timer;
    const last = heap.pop() as Timer;
    removed._index = -1;
    if (i < heap.length) {
      heap[i] = last;
      last._index = i;
      if (i > 0 && less(last, heap[(i - 1) >> 1] as Timer)) this.#siftUp(i);
      else this.#siftDown(i);
    }
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const timer = heap[i] as Timer;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Timer;
      if (!less(timer, parent)) break;
      heap[i] = parent;
      parent._index = i;
      i = p;
    }
    heap[i] = timer;
    timer._index = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const timer = heap[i] as Timer;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = heap[l] as Timer;
      if (r < n) {
        const right = heap[r] as Timer;
        if (less(right, child)) {
          c = r;
          child = right;
        }
      }
      if (!less(child, timer)) break;
      heap[i] = child;
      child._index = i;
      i = c;
    }
    heap[i] = timer;
    timer._index = i;
  }

  #own(timer: Timer): void {
    if (!(timer instanceof Timer) || timer._heap !== this) {
      throw new TypeError("timer does not belong to this TimerHeap");
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new UseAfterCloseError("TimerHeap");
  }
}

function less(a: Timer, b: Timer): boolean {
  return a._deadline < b._deadline || (a._deadline === b._deadline && a._seq < b._seq);
}

function checkDelay(value: number, name: string): void {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  }
}

function checkCallback(callback: TimerCallback): TimerCallback {
  if (typeof callback !== "function") throw new TypeError("callback must be a function");
  return callback;
}
