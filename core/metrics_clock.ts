/**
 * The clock request metrics read once per request (the end of each
 * request's latency): `performance.now()`, except on Deno, where that is
 * an op call costing about twice a `clock_gettime(CLOCK_MONOTONIC)`
 * through FFI (~100 ns against ~50 ns per reading, `bench/http_server_limits.ts`),
 * so there the monotonic clock is read through FFI into reused memory
 * and shifted onto `performance.now()`'s origin (the latency's start is
 * the event-loop turn's `performance.now()` reading, core/clock.ts's
 * `turnMs`). On Node and Bun `performance.now()` is the cheaper of the
 * two and is used as is.
 *
 * A request's end can also share a reading taken anyway: {@link endAtNextReading}
 * holds a latency's start until the next reading of this clock (the HTTP
 * sessions read it at the end of each read they handle, after its responses
 * went out: {@link settleLatencies}), at the latest until the current
 * synchronous run ends (a microtask), so `serve({ metrics })` reads no clock
 * of its own per request.
 *
 * @example
 * ```ts
 * import { metricsNowMs } from "./metrics_clock.ts";
 * const start = performance.now();
 * const elapsed = metricsNowMs() - start;
 * console.log(elapsed > -1); // true: the same origin (to within the alignment, well under a microsecond)
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { runtimeCapabilities } from "../ffi/runtime.ts";
import { ffiClockMs } from "./ffi_clock.ts";
import { onMicrotask } from "./microtask.ts";

/** 0: not decided yet (performance.now() is slow here, libc not loaded so far), 1: FFI, 2: performance.now(). */
let mode = runtimeCapabilities.performanceNowIsSlow ? 0 : 2;

/** Latencies waiting for their end, at most this many (then the clock is read at once). */
const WAITING_MAX = 64;
let waiting = 0;
const waitingStart = new Float64Array(WAITING_MAX);
const waitingInto: (LatencySink | undefined)[] = new Array<LatencySink | undefined>(WAITING_MAX).fill(undefined);
let settleQueued = false;
/** Reads under way that end their latencies when they end ({@link holdLatencies}). */
let held = 0;
/** Rings with starts waiting for their end ({@link LatencyRing}), each listed once. */
const ringsWaiting: (LatencyRing | undefined)[] = [];
let ringsWaitingCount = 0;

/** The clock itself (see the module doc). */
function read(): number {
  if (mode === 1) {
    const ms = ffiClockMs();
    if (ms === ms) return ms;
  } else if (mode === 0 && libc.loaded) {
    mode = Number.isNaN(ffiClockMs()) ? 2 : 1;
  }
  return performance.now();
}

/**
 * Monotonic milliseconds on `performance.now()`'s origin, read the
 * cheapest way the runtime has (see the module doc). FFI is used only once
 * the program loaded libc itself (as any socket does): measuring never
 * asks Deno for the FFI permission. Each reading also ends the latencies
 * waiting for one ({@link endAtNextReading}).
 *
 * @example
 * ```ts
 * import { metricsNowMs } from "./metrics_clock.ts";
 * const a = metricsNowMs();
 * console.log(metricsNowMs() >= a); // true
 * ```
 */
export function metricsNowMs(): number {
  const now = read();
  if (waiting !== 0 || ringsWaitingCount !== 0) settle(now);
  return now;
}

/**
 * Where {@link endAtNextReading} puts a latency once it ended: seconds
 * (a `Histogram` of core/metrics.ts is one).
 *
 * @example
 * ```ts
 * import type { LatencySink } from "./metrics_clock.ts";
 * const seen: number[] = [];
 * const sink: LatencySink = { record: (seconds) => void seen.push(seconds) };
 * ```
 */
export interface LatencySink {
  /** Takes one latency in seconds (≥ 0). */
  record(seconds: number): void;
}

function settle(now: number): void {
  const rings = ringsWaitingCount;
  ringsWaitingCount = 0;
  for (let i = 0; i < rings; i++) {
    const ring = ringsWaiting[i]!;
    ringsWaiting[i] = undefined;
    ring.end(now);
  }
  const n = waiting;
  waiting = 0;
  for (let i = 0; i < n; i++) {
    const into = waitingInto[i]!;
    waitingInto[i] = undefined;
    // Clamped: this clock is aligned to performance.now()'s to well under a microsecond, not exactly.
    const ms = now - waitingStart[i]!;
    into.record(ms > 0 ? ms / 1000 : 0);
  }
}

function settleLater(): void {
  settleQueued = false;
  if (waiting !== 0 || ringsWaitingCount !== 0) settle(read());
}

/** The settle microtask, unless a read is held (it settles when it ends) or one is queued. */
function queueSettle(): void {
  if (!settleQueued && held === 0) {
    settleQueued = true;
    onMicrotask(settleLater);
  }
}

/** Values a {@link LatencyRing} holds before it adds them to its sink. */
const RING_SIZE = 256;

/**
 * Where a {@link LatencyRing} adds its latencies: seconds, one call each
 * (a `Histogram` of core/metrics.ts is one).
 *
 * @example
 * ```ts
 * import type { LatencyObserver } from "./metrics_clock.ts";
 * const seen: number[] = [];
 * const sink: LatencyObserver = { observe: (seconds) => void seen.push(seconds) };
 * ```
 */
export interface LatencyObserver {
  /** Takes one latency in seconds (≥ 0). */
  observe(seconds: number): void;
}

/**
 * Latencies of one sink that end at the next reading of the metrics clock,
 * as {@link endAtNextReading}'s do, held in one flat `Float64Array` (256
 * values) instead: {@link LatencyRing.start} is one store per request (the
 * start, in milliseconds); the reading that ends them turns each into its
 * latency in place, in seconds ({@link LatencyRing.end}); they reach the
 * sink in one tight loop only when someone reads ({@link LatencyRing.flush},
 * which `serve({ metrics })` runs before every read of its registry) or
 * the ring is full. What `serve({ metrics })` records each request's
 * latency with: per request, no call into the sink, no second buffer.
 *
 * @example
 * ```ts
 * import { LatencyRing, metricsNowMs } from "./metrics_clock.ts";
 * const seconds: number[] = [];
 * const ring = new LatencyRing({ observe: (s) => void seconds.push(s) });
 * ring.start(performance.now());
 * metricsNowMs(); // ends it (a session's read ends its requests so)
 * ring.flush();
 * console.log(seconds.length); // 1
 * ```
 */
export class LatencyRing {
  /** [0, #ended): latencies (seconds); [#ended, #count): starts (ms) waiting for a reading. */
  readonly #values = new Float64Array(RING_SIZE);
  #count = 0;
  #ended = 0;
  /** In the module's list of rings waiting for a reading. */
  #listed = false;
  readonly #into: LatencyObserver;

  /** A ring whose latencies go to `into`. */
  constructor(into: LatencyObserver) {
    this.#into = into;
  }

  /**
   * A latency from `startMs` (a reading on `performance.now()`'s origin,
   * such as the turn's `turnMs`) to the next reading of the metrics clock:
   * an HTTP session's at the end of the read that carried the request,
   * otherwise the end of the current synchronous run (a microtask, not
   * queued inside a read held by {@link holdLatencies}). The end is never
   * earlier than the call.
   */
  start(startMs: number): void {
    let n = this.#count;
    if (n === RING_SIZE) {
      this.flush();
      n = 0;
    }
    this.#values[n] = startMs;
    this.#count = n + 1;
    if (!this.#listed) this.#list();
  }

  #list(): void {
    this.#listed = true;
    ringsWaiting[ringsWaitingCount++] = this;
    queueSettle();
  }

  /** Ends the waiting starts at the clock reading `now` (the module's settle calls it; a reading ends every ring). */
  end(now: number): void {
    this.#listed = false;
    const values = this.#values;
    const n = this.#count;
    for (let i = this.#ended; i < n; i++) {
      // Clamped: this clock is aligned to performance.now()'s to well under a microsecond, not exactly.
      const ms = now - values[i]!;
      values[i] = ms > 0 ? ms / 1000 : 0;
    }
    this.#ended = n;
  }

  /** Adds every latency held to the sink, ending those still waiting with a clock reading first. */
  flush(): void {
    if (this.#ended !== this.#count) metricsNowMs();
    const n = this.#ended;
    this.#count = 0;
    this.#ended = 0;
    const values = this.#values;
    const into = this.#into;
    for (let i = 0; i < n; i++) into.observe(values[i]!);
  }
}

/**
 * Records into `into` the time from `startMs` (a reading on
 * `performance.now()`'s origin, such as the turn's `turnMs`) to the next
 * reading of {@link metricsNowMs}, whoever takes it: an HTTP session's at
 * the end of the read that carried the request ({@link settleLatencies}),
 * otherwise at the end of the current synchronous run (a microtask, not
 * queued inside a read held by {@link holdLatencies}), or at once when 64
 * are waiting. What request metrics use instead of a clock
 * reading per request; the end is never earlier than the call.
 *
 * @example
 * ```ts
 * import { endAtNextReading, metricsNowMs } from "./metrics_clock.ts";
 * const seconds: number[] = [];
 * endAtNextReading({ record: (s) => void seconds.push(s) }, performance.now());
 * metricsNowMs(); // ends it
 * console.log(seconds.length); // 1
 * ```
 */
export function endAtNextReading(into: LatencySink, startMs: number): void {
  let n = waiting;
  if (n === WAITING_MAX) {
    settle(read());
    n = 0;
  }
  waitingStart[n] = startMs;
  waitingInto[n] = into;
  waiting = n + 1;
  // Inside a read that settles when it ends (holdLatencies): no microtask (a promise reaction per turn).
  queueSettle();
}

/**
 * Ends the latencies waiting for a reading ({@link endAtNextReading}) now,
 * reading the clock only when one waits: the HTTP sessions call it at the
 * end of each read they handle (their responses written), so a request's
 * end is its own read's, never a later one's (the loop may wait between
 * reads without running microtasks in blocking mode).
 *
 * @example
 * ```ts
 * import { endAtNextReading, settleLatencies } from "./metrics_clock.ts";
 * let seconds = -1;
 * endAtNextReading({ record: (s) => void (seconds = s) }, performance.now());
 * settleLatencies();
 * console.log(seconds >= 0); // true
 * ```
 */
export function settleLatencies(): void {
  if (waiting !== 0 || ringsWaitingCount !== 0) settle(read());
}

/**
 * A read begins whose end will settle the latencies waiting for a reading
 * ({@link releaseLatencies}, in a `finally`): until then
 * {@link endAtNextReading} queues no microtask of its own (a promise
 * reaction and a microtask per event-loop turn, and its garbage, on the
 * request path of `serve({ metrics })`). Calls nest.
 *
 * @example
 * ```ts
 * import { endAtNextReading, holdLatencies, releaseLatencies } from "./metrics_clock.ts";
 * let seconds = -1;
 * holdLatencies();
 * try {
 *   endAtNextReading({ record: (s) => void (seconds = s) }, performance.now());
 * } finally {
 *   releaseLatencies(); // ends it
 * }
 * console.log(seconds >= 0); // true
 * ```
 */
export function holdLatencies(): void {
  held++;
}

/**
 * Ends a read begun with {@link holdLatencies}: the latencies waiting for a
 * reading end now, as {@link settleLatencies} ends them.
 *
 * @example
 * ```ts
 * import { holdLatencies, releaseLatencies } from "./metrics_clock.ts";
 * holdLatencies();
 * releaseLatencies();
 * ```
 */
export function releaseLatencies(): void {
  if (held > 0) held--;
  if (waiting !== 0 || ringsWaitingCount !== 0) settle(read());
}
