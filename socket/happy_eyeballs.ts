/**
 * Happy Eyeballs version 2 (RFC 8305), the scheduling alone: which address
 * to try next and when, from the DNS answers and the attempts' outcomes so
 * far. No sockets, timers or clocks inside: the caller passes the time in
 * and does what {@link HappyEyeballsSchedule.next} says
 * (socket/happy_eyeballs_connect.ts is the loop glue `connect()` uses).
 *
 * The rules kept: AAAA and A are asked in parallel; when the preferred
 * family answers first, attempts start at once; when the other answers
 * first, they start after the Resolution Delay (50 ms) unless the
 * preferred answer comes sooner (§3); addresses are interleaved by family,
 * the preferred first (First Address Family Count 1, §4); a new attempt
 * starts a Connection Attempt Delay (250 ms, within 10 ms – 2 s, §5) after
 * the previous one, or at once when every attempt in flight has failed;
 * addresses that arrive late join the untried ones (§4). The preferred
 * family is IPv6 unless a {@link FamilyMemory} remembers the host's last
 * winner.
 *
 * @example
 * ```ts
 * import { HappyEyeballsSchedule } from "./happy_eyeballs.ts";
 * const plan = new HappyEyeballsSchedule();
 * plan.answer(4, ["192.0.2.1"], 0);
 * console.log(plan.next(0)); // { kind: "wait", untilMs: 50 } (the Resolution Delay for AAAA)
 * plan.answer(6, ["2001:db8::1"], 10);
 * console.log(plan.next(10)); // { kind: "connect", address: "2001:db8::1", family: 6 }
 * console.log(plan.next(10)); // { kind: "wait", untilMs: 260 }
 * console.log(plan.next(260)); // { kind: "connect", address: "192.0.2.1", family: 4 }
 * ```
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";

/** An IP family: 4 or 6. */
export type IPFamily = 4 | 6;

/**
 * RFC 8305 §3: how long an A answer waits for the AAAA answer.
 *
 * @example
 * ```ts
 * import { RESOLUTION_DELAY_MS } from "./happy_eyeballs.ts";
 * console.log(RESOLUTION_DELAY_MS); // 50
 * ```
 */
export const RESOLUTION_DELAY_MS = 50;
/**
 * RFC 8305 §5: the default pause between connection attempts.
 *
 * @example
 * ```ts
 * import { CONNECTION_ATTEMPT_DELAY_MS } from "./happy_eyeballs.ts";
 * console.log(CONNECTION_ATTEMPT_DELAY_MS); // 250
 * ```
 */
export const CONNECTION_ATTEMPT_DELAY_MS = 250;
/**
 * RFC 8305 §5: the Connection Attempt Delay MUST NOT be below 10 ms.
 *
 * @example
 * ```ts
 * import { MIN_CONNECTION_ATTEMPT_DELAY_MS } from "./happy_eyeballs.ts";
 * console.log(MIN_CONNECTION_ATTEMPT_DELAY_MS); // 10
 * ```
 */
export const MIN_CONNECTION_ATTEMPT_DELAY_MS = 10;
/**
 * RFC 8305 §5: the recommended upper bound of the Connection Attempt Delay.
 *
 * @example
 * ```ts
 * import { MAX_CONNECTION_ATTEMPT_DELAY_MS } from "./happy_eyeballs.ts";
 * console.log(MAX_CONNECTION_ATTEMPT_DELAY_MS); // 2000
 * ```
 */
export const MAX_CONNECTION_ATTEMPT_DELAY_MS = 2000;

/**
 * A Connection Attempt Delay brought within RFC 8305's bounds: below 10 ms
 * becomes 10 ms (the RFC's floor; its recommended minimum is 100 ms), above
 * 2 s becomes 2 s.
 *
 * @throws TypeError when `ms` is not a number; RangeError when it is NaN or negative
 *
 * @example
 * ```ts
 * import { clampAttemptDelay } from "./happy_eyeballs.ts";
 * console.log(clampAttemptDelay(5), clampAttemptDelay(300), clampAttemptDelay(60_000)); // 10 300 2000
 * ```
 */
export function clampAttemptDelay(ms: number): number {
  if (typeof ms !== "number") throw new TypeError(`attemptDelayMs must be a number, got ${typeof ms}`);
  if (!(ms >= 0)) throw new RangeError(`attemptDelayMs must be >= 0, got ${ms}`);
  return Math.min(MAX_CONNECTION_ATTEMPT_DELAY_MS, Math.max(MIN_CONNECTION_ATTEMPT_DELAY_MS, ms));
}

/**
 * Orders addresses for attempts: the `preferred` family first, then the
 * families alternating while both have addresses left (RFC 8305 §4, First
 * Address Family Count 1); the order within a family is kept.
 *
 * @example
 * ```ts
 * import { interleaveAddresses } from "./happy_eyeballs.ts";
 * const list = [{ address: "a4", family: 4 as const }, { address: "b4", family: 4 as const }, { address: "a6", family: 6 as const }];
 * console.log(interleaveAddresses(list, 6).map((a) => a.address)); // ["a6", "a4", "b4"]
 * ```
 */
export function interleaveAddresses<T extends { readonly family: IPFamily }>(addresses: readonly T[], preferred: IPFamily = 6): T[] {
  const first = addresses.filter((a) => a.family === preferred);
  const second = addresses.filter((a) => a.family !== preferred);
  const out: T[] = [];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (i < first.length) out.push(first[i]!);
    if (i < second.length) out.push(second[i]!);
  }
  return out;
}

/** Options of {@link HappyEyeballsSchedule}. */
export interface HappyEyeballsScheduleOptions {
  /** The family tried first (default 6). */
  preferredFamily?: IPFamily;
  /** The Connection Attempt Delay in ms (default 250; clamped by {@link clampAttemptDelay}). */
  attemptDelayMs?: number;
  /** The Resolution Delay in ms (default 50). */
  resolutionDelayMs?: number;
  /** The families whose answers are awaited (default both). */
  families?: readonly IPFamily[];
}

/** What to do next, from {@link HappyEyeballsSchedule.next}. */
export type HappyEyeballsAction =
  /** Start a connection attempt to this address now (then call `next` again). */
  | { readonly kind: "connect"; readonly address: string; readonly family: IPFamily }
  /** Call `next` again at this time, or sooner when an event comes. */
  | { readonly kind: "wait"; readonly untilMs: number }
  /** Nothing to do until an answer or an attempt's outcome comes. */
  | { readonly kind: "idle" }
  /** Every answer is in and every attempt failed (or there was no address). */
  | { readonly kind: "failed" };

/**
 * The state of one Happy Eyeballs race, fed events (`answer`,
 * `attemptFailed`) with the current time and asked what to do (`next`).
 *
 * @example
 * ```ts
 * import { HappyEyeballsSchedule } from "./happy_eyeballs.ts";
 * const plan = new HappyEyeballsSchedule({ families: [4] });
 * plan.answer(4, ["192.0.2.1", "192.0.2.2"], 0);
 * const first = plan.next(0); // connect 192.0.2.1
 * if (first.kind === "connect") plan.attemptFailed(first.address, 3);
 * console.log(plan.next(3)); // { kind: "connect", address: "192.0.2.2", family: 4 } (no wait after a failure)
 * ```
 */
export class HappyEyeballsSchedule {
  /** The family tried first. */
  readonly preferredFamily: IPFamily;
  /** The Connection Attempt Delay in ms. */
  readonly attemptDelayMs: number;
  /** The Resolution Delay in ms. */
  readonly resolutionDelayMs: number;
  readonly #untried = new Map<IPFamily, string[]>([[4, []], [6, []]]);
  readonly #awaiting = new Set<IPFamily>();
  readonly #seen = new Set<string>();
  readonly #inFlight = new Set<string>();
  #otherAnsweredAt: number | null = null;
  #started = false;
  #lastAttemptAt = -Infinity;
  #lastFamily: IPFamily | null = null;
  #attempts = 0;

  /** Creates a schedule for `preferredFamily` (default 6) with `attemptDelayMs` between attempts (RFC 8305 default 250 ms); throws for bad options. */
  constructor(options: HappyEyeballsScheduleOptions = {}) {
    const preferred = options.preferredFamily ?? 6;
    if (preferred !== 4 && preferred !== 6) throw new TypeError(`preferredFamily must be 4 or 6, got ${String(preferred)}`);
    this.preferredFamily = preferred;
    this.attemptDelayMs = clampAttemptDelay(options.attemptDelayMs ?? CONNECTION_ATTEMPT_DELAY_MS);
    const rd = options.resolutionDelayMs ?? RESOLUTION_DELAY_MS;
    if (typeof rd !== "number" || !(rd >= 0) || !Number.isFinite(rd)) throw new RangeError(`resolutionDelayMs must be a finite number >= 0, got ${rd}`);
    this.resolutionDelayMs = rd;
    for (const f of options.families ?? [6, 4]) {
      if (f !== 4 && f !== 6) throw new TypeError(`families holds 4 and 6 only, got ${String(f)}`);
      this.#awaiting.add(f);
    }
    if (this.#awaiting.size === 0) throw new TypeError("families must name at least one family");
  }

  /** Attempts started so far. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Attempts started and not yet failed. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Whether an answer for `family` is still awaited. */
  awaiting(family: IPFamily): boolean {
    return this.#awaiting.has(family);
  }

  /**
   * The answer for `family` came at `nowMs` (an empty list for a failed or
   * empty answer). Addresses already known are ignored; a second answer
   * for a family adds its new addresses.
   */
  answer(family: IPFamily, addresses: readonly string[], nowMs: number): void {
    if (family !== 4 && family !== 6) throw new TypeError(`family must be 4 or 6, got ${String(family)}`);
    this.#awaiting.delete(family);
    const list = this.#untried.get(family)!;
    for (const address of addresses) {
      if (this.#seen.has(address)) continue;
      this.#seen.add(address);
      list.push(address);
    }
    if (family !== this.preferredFamily && addresses.length > 0 && this.#otherAnsweredAt === null) this.#otherAnsweredAt = nowMs;
  }

  /** The attempt to `address` failed at `nowMs` (unknown addresses are ignored). */
  attemptFailed(address: string, _nowMs: number): void {
    this.#inFlight.delete(address);
  }

  /** What to do at `nowMs`: call again after each `connect` until it says something else. */
  next(nowMs: number): HappyEyeballsAction {
    const preferredList = this.#untried.get(this.preferredFamily)!;
    if (!this.#started) {
      const preferredDone = !this.#awaiting.has(this.preferredFamily);
      if (this.#awaiting.size === 0 || (preferredDone && preferredList.length > 0)) {
        this.#started = true;
      } else if (!preferredDone && this.#otherAnsweredAt !== null) {
        // §3: the other family answered first; give the preferred one a moment.
        const until = this.#otherAnsweredAt + this.resolutionDelayMs;
        if (nowMs < until) return { kind: "wait", untilMs: until };
        this.#started = true;
      } else {
        return { kind: "idle" };
      }
    }
    const family = this.#pickFamily();
    if (family === null) {
      if (this.#inFlight.size > 0 || this.#awaiting.size > 0) return { kind: "idle" };
      return { kind: "failed" };
    }
    if (this.#inFlight.size > 0) {
      const until = this.#lastAttemptAt + this.attemptDelayMs;
      if (nowMs < until) return { kind: "wait", untilMs: until };
    }
    const address = this.#untried.get(family)!.shift()!;
    this.#inFlight.add(address);
    this.#lastAttemptAt = nowMs;
    this.#lastFamily = family;
    this.#attempts++;
    return { kind: "connect", address, family };
  }

  /** The family of the next attempt: alternate after the first, preferred first. */
  #pickFamily(): IPFamily | null {
    const other: IPFamily = this.preferredFamily === 6 ? 4 : 6;
    const order: IPFamily[] = this.#lastFamily === null || this.#lastFamily === other ? [this.preferredFamily, other] : [other, this.preferredFamily];
    for (const f of order) if (this.#untried.get(f)!.length > 0) return f;
    return null;
  }
}

/** Options of {@link FamilyMemory}. */
export interface FamilyMemoryOptions {
  /** How long a winner is remembered, in ms (default 10 minutes). */
  ttlMs?: number;
  /** Hosts remembered at most (default 1024; the oldest is forgotten first). */
  maxEntries?: number;
  /** The time source (default the system clock). */
  clock?: Clock;
}

/**
 * Remembers per host which family won its last race, for a while, so the
 * next race prefers it (RFC 8305 §4 allows history to choose).
 *
 * @example
 * ```ts
 * import { FamilyMemory } from "./happy_eyeballs.ts";
 * import { ManualClock } from "../core/clock.ts";
 * const clock = new ManualClock();
 * const memory = new FamilyMemory({ ttlMs: 1000, clock });
 * memory.remember("example.com", 4);
 * console.log(memory.preferred("example.com")); // 4
 * clock.advance(1000);
 * console.log(memory.preferred("example.com")); // undefined
 * ```
 */
export class FamilyMemory {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #clock: Clock | undefined;
  readonly #entries = new Map<string, { family: IPFamily; until: number }>();

  /** Creates a memory of the family that last connected per host, kept `ttlMs` (default 600000 ms) for at most `maxEntries` (default 1024) hosts. */
  constructor(options: FamilyMemoryOptions = {}) {
    const ttl = options.ttlMs ?? 600_000;
    const max = options.maxEntries ?? 1024;
    if (typeof ttl !== "number" || !(ttl >= 0)) throw new RangeError(`ttlMs must be >= 0, got ${ttl}`);
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.#ttlMs = ttl;
    this.#max = max;
    this.#clock = options.clock;
  }

  #now(): number {
    return this.#clock === undefined ? performance.now() : this.#clock.now();
  }

  /** Hosts remembered now (expired ones included until looked up). */
  get size(): number {
    return this.#entries.size;
  }

  /** Records that `family` won a race to `host`. */
  remember(host: string, family: IPFamily): void {
    const key = host.toLowerCase();
    this.#entries.delete(key);
    this.#entries.set(key, { family, until: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** The family that last won for `host`, while remembered. */
  preferred(host: string): IPFamily | undefined {
    const key = host.toLowerCase();
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.family;
  }

  /** Forgets every host. */
  clear(): void {
    this.#entries.clear();
  }
}
