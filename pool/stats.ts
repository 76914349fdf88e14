/**
 * Pool statistics (seed: `SocketPool_Stats`): counters of what a pool did
 * and a snapshot with the derived figures (reuse rate, average age, churn).
 *
 * @example
 * ```ts
 * import { ManualClock } from "../core/clock.ts";
 * import { PoolCounters } from "./stats.ts";
 * const clock = new ManualClock();
 * const counters = new PoolCounters(clock);
 * counters.added++;
 * counters.reused += 3;
 * clock.advance(2000);
 * const s = counters.snapshot({ active: 1, idle: 0, totalAgeMs: 2000 });
 * console.log(s.reuseRate, s.averageAgeMs, s.churnPerSecond); // 0.75 2000 0.5
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from "../core/clock.ts";

/**
 * A pool's figures at one moment.
 *
 * @example
 * ```ts
 * import type { PoolStatsSnapshot } from "./stats.ts";
 * const show = (s: PoolStatsSnapshot) => `${s.active} active, ${s.idle} idle`;
 * ```
 */
export interface PoolStatsSnapshot {
  /** Connections added since the last reset. */
  added: number;
  /** Connections removed (closed, evicted, refused after adding). */
  removed: number;
  /** Times an idle connection was handed out again by `get`. */
  reused: number;
  /** `checkConnection` calls. */
  healthChecks: number;
  /** `checkConnection` calls that found the connection not healthy. */
  healthFailures: number;
  /** Connections closed for being idle too long. */
  idleCleanups: number;
  /** Connections in use now. */
  active: number;
  /** Connections idle now. */
  idle: number;
  /** reused / (added + reused): the share of hand-outs that needed no new connection (0 with none). */
  reuseRate: number;
  /** Average age of the connections in the pool now, in ms (0 when empty). */
  averageAgeMs: number;
  /** (added + removed) per second since the last reset. */
  churnPerSecond: number;
}

/**
 * The counters a pool increments; {@link PoolCounters.snapshot} derives the
 * rest from what the pool holds now.
 *
 * @example
 * ```ts
 * import { PoolCounters } from "./stats.ts";
 * const c = new PoolCounters();
 * c.healthChecks++;
 * c.reset();
 * console.log(c.healthChecks); // 0
 * ```
 */
export class PoolCounters {
  /** Connections added. */
  added = 0;
  /** Connections removed. */
  removed = 0;
  /** Idle connections handed out again. */
  reused = 0;
  /** `checkConnection` calls. */
  healthChecks = 0;
  /** Of those, the ones that found the connection not healthy. */
  healthFailures = 0;
  /** Connections closed for being idle too long. */
  idleCleanups = 0;
  readonly #clock: Clock;
  #since: number;

  /**
   * Counters at zero, their rates measured from now.
   *
   * @param clock the time source (default the monotonic system clock).
   */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.#since = clock.now();
  }

  /** Zeroes every counter and restarts the churn clock. */
  reset(): void {
    this.added = this.removed = this.reused = 0;
    this.healthChecks = this.healthFailures = this.idleCleanups = 0;
    this.#since = this.#clock.now();
  }

  /**
   * The counters plus derived figures.
   *
   * @param live what the pool holds now: `active` and `idle` counts and the
   *   sum of their ages in ms.
   */
  snapshot(live: { active: number; idle: number; totalAgeMs: number }): PoolStatsSnapshot {
    const held = live.active + live.idle;
    const handedOut = this.added + this.reused;
    const seconds = (this.#clock.now() - this.#since) / 1000;
    return {
      added: this.added,
      removed: this.removed,
      reused: this.reused,
      healthChecks: this.healthChecks,
      healthFailures: this.healthFailures,
      idleCleanups: this.idleCleanups,
      active: live.active,
      idle: live.idle,
      reuseRate: handedOut === 0 ? 0 : this.reused / handedOut,
      averageAgeMs: held === 0 ? 0 : live.totalAgeMs / held,
      churnPerSecond: seconds > 0 ? (this.added + this.removed) / seconds : 0,
    };
  }
}
