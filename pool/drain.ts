/**
 * The drain state machine of a pool (seed: `SocketPool_drain`): RUNNING →
 * DRAINING → STOPPED. While draining nothing new is admitted, connections
 * in flight may finish until a deadline, and whatever is left when it
 * passes is force-closed. I/O-free: time comes from an injectable
 * {@link Clock}; the pool owns the timer and the closing.
 *
 * @example
 * ```ts
 * import { ManualClock } from "../core/clock.ts";
 * import { DrainState } from "./drain.ts";
 * const clock = new ManualClock();
 * const drain = new DrainState(clock);
 * drain.begin(1000);
 * clock.advance(400);
 * console.log(drain.state, drain.remainingMs()); // "draining" 600
 * drain.stop();
 * console.log(drain.state); // "stopped"
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";

/**
 * Where a pool is in its life: admitting ("running"), letting the
 * connections in flight finish ("draining"), or done ("stopped").
 *
 * @example
 * ```ts
 * import type { DrainPhase } from "./drain.ts";
 * const phase: DrainPhase = "running";
 * ```
 */
export type DrainPhase = "running" | "draining" | "stopped";

/**
 * The drain state machine: `begin(timeoutMs)` moves RUNNING → DRAINING
 * (again: keeps the earlier deadline if it is sooner), `stop()` moves to
 * STOPPED from anywhere; `whenStopped` resolves then. Nothing moves back.
 *
 * @example
 * ```ts
 * import { DrainState } from "./drain.ts";
 * const drain = new DrainState();
 * drain.stop();
 * await drain.whenStopped;
 * console.log(drain.state); // "stopped"
 * ```
 */
export class DrainState {
  readonly #clock: Clock;
  #state: DrainPhase = "running";
  #deadline = Infinity;
  #resolve!: () => void;
  /** Resolves once the state is "stopped". */
  readonly whenStopped: Promise<void>;

  /**
   * Creates a drain state in the "running" phase, timed by `clock`.
   * @param clock the time source (default the monotonic system clock).
   */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.whenStopped = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** The phase now. */
  get state(): DrainPhase {
    return this.#state;
  }

  /** Whether new connections are admitted (only while running). */
  get admitting(): boolean {
    return this.#state === "running";
  }

  /**
   * Starts draining with `timeoutMs` until the deadline (finite, ≥ 0).
   *
   * @returns false when already stopped (nothing changes).
   * @throws {RangeError} for a negative or non-finite timeout.
   */
  begin(timeoutMs: number): boolean {
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`drain timeoutMs must be a finite number >= 0, got ${String(timeoutMs)}`);
    }
    if (this.#state === "stopped") return false;
    const deadline = this.#clock.now() + timeoutMs;
    if (deadline < this.#deadline) this.#deadline = deadline;
    this.#state = "draining";
    return true;
  }

  /** Milliseconds until the drain deadline (0 when past it or stopped; Infinity while running). */
  remainingMs(): number {
    if (this.#state === "running") return Infinity;
    if (this.#state === "stopped") return 0;
    return Math.max(0, this.#deadline - this.#clock.now());
  }

  /** Whether a drain's deadline has passed. */
  expired(): boolean {
    return this.#state === "draining" && this.remainingMs() === 0;
  }

  /** Moves to "stopped" (idempotent). */
  stop(): void {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#resolve();
  }
}
