/**
 * `Loop`: the library-owned event loop, running beside the runtime's.
 *
 * - Hot path: `wait(0)`, dispatch every ready event (polling again at once
 *   while a wait fills the event buffer), run due timers, yield with
 *   `setImmediate`, repeat while events keep coming. After a busy tick the
 *   next one starts once the promise jobs have run but without a turn of
 *   the runtime's loop (Node, Deno: `yieldSoon`), for at most
 *   {@link MAX_SOON_TURNS} ticks and {@link SOON_BUDGET_MS} before a real
 *   `setImmediate`, so runtime timers and I/O wait that long at most. After a busy tick the
 *   first wait may block up to `lingerMs` (1 ms) on the main thread: under
 *   load the next events come sooner than a parked wait could be set up
 *   and woken (~100–130 µs of CPU per park here).
 * - Idle: when a wait returns nothing, park a blocking wait on a helper
 *   thread until the next timer deadline; the main thread never polls while
 *   a wait is parked. A wake-up descriptor (eventfd, pipe elsewhere) ends a
 *   parked wait early: an earlier timer, a poll(2) registration change, a
 *   drop to nothing referenced, `close()`.
 * - Nothing referenced: where the helper thread can be unreferenced (Node
 *   and Bun: `OffThreadCall.canUnref`) the loop parks an unreferenced wait,
 *   so the process can exit by itself. Deno cannot unref a pending FFI call:
 *   there the loop polls on an unreferenced runtime timer every
 *   `unrefPollMs` (default 10 ms) instead.
 * - `run()`: blocking mode for scripts; runtime timers and promises do not
 *   progress until it returns.
 *
 * @example
 * ```ts
 * import { Loop } from "./loop.ts";
 * const loop = new Loop();
 * loop.timers.once(10, () => {
 *   console.log("tick");
 *   loop.close();
 * });
 * ```
 *
 * @module
 */
import { PollError, SocketClosedError, UseAfterCloseError } from "../core/errors.ts";
import { native } from "../ffi/native.ts";
import { monotonicMs, newTurn } from "../core/clock.ts";
import type { Timer, TimerCallback } from "../core/timer_heap.ts";
import { type BackendName, checkFd, type PollBackend, READABLE } from "./backend.ts";
import { createBackend } from "./choose.ts";
import { type IoCallback, IoWatcher, type WatcherHost } from "./io_watcher.ts";
import { LoopTimers } from "./loop_timers.ts";
import { WakeFd } from "./wake.ts";
import { refTimeout, unrefTimeout, yieldSoon, yieldToRuntime } from "./yield.ts";

/** Options of a {@link Loop}. */
export interface LoopOptions {
  /** The readiness backend (default: `FFINET_POLL`, else the platform's best). */
  backend?: BackendName;
  /** Most events per wait (default 1024). */
  maxEvents?: number;
  /** Receives exceptions thrown by callbacks (default: rethrown in a microtask). */
  onError?: (error: unknown) => void;
  /** Poll interval while nothing is referenced (default 10 ms). */
  unrefPollMs?: number;
  /**
   * Empty polls in a row before parking (default 1: park on the first
   * empty poll). Higher values trade idle CPU for lower wake-up latency
   * under ping-pong load; `FFINET_LOOP_SPINS` sets the default.
   */
  spinsBeforePark?: number;
  /**
   * After a tick with events, the next tick's first wait may block the main
   * thread this long (default 1 ms; 0 turns it off) instead of parking at
   * once. Parking and waking the helper thread costs ~100–130 µs of CPU per
   * cycle here (all three runtimes), and under load the next events usually
   * come within a millisecond: the short blocking wait catches them with
   * one wake-up and no helper. Runtime timers and the runtime's own I/O may
   * wait up to this long meanwhile; a linger that ends with nothing turns
   * lingering off for a while (10 ms, doubling up to 1 s while it keeps
   * failing), so a process whose traffic is mostly on the runtime's own
   * sockets is not slowed (see `quickParkMs` for an exception). Whole
   * milliseconds on epoll and poll(2). `FFINET_LOOP_LINGER_MS` sets the
   * default.
   */
  lingerMs?: number;
  /**
   * A parked wait that follows a linger which found nothing and returns
   * with events within this many milliseconds keeps lingering on instead
   * of pausing it (default 0: off, a failed linger always pauses
   * lingering). Measured on Node on a shared 2-core machine (paired
   * rounds, load 3–17): 5 ms cuts a 50-connection WebSocket echo's parks
   * 4–15x (0.006 → 0.0004 per message) but not its CPU per message
   * (15.3 vs 15.5 µs: lingering catches events one at a time, more ticks
   * with fewer events each), leaves uncached DNS lookups' parks as they
   * are (~0.06 per lookup: the answers come 1–10+ ms apart there, past
   * any linger) and a wrk HTTP server's (~0); idle is unchanged.
   * `FFINET_LOOP_QUICK_PARK_MS` sets the default.
   */
  quickParkMs?: number;
  /**
   * Most polls per tick while events keep coming (default 4): when a wait
   * filled the whole event buffer (`maxEvents`, so more are surely ready)
   * the loop polls again at once instead of yielding, up to this many times
   * and at most {@link HOT_TICK_BUDGET_MS} per tick. A wait that returned
   * fewer events always ends the tick (measured: polling again after a
   * partial batch finds nothing under ping-pong load and costs a system
   * call). 1 yields after every poll; `FFINET_LOOP_HOT` sets the default.
   */
  hotPolls?: number;
}

/** Default of {@link LoopOptions.lingerMs}. */
export const DEFAULT_LINGER_MS = 1;
/** Default of {@link LoopOptions.quickParkMs}. */
export const DEFAULT_QUICK_PARK_MS = 0;

/** Shortest and longest pause of lingering after a linger that found nothing. */
const LINGER_BACKOFF_MIN_MS = 10;
const LINGER_BACKOFF_MAX_MS = 1000;
/** Longest window of {@link Loop.expectEvents}. */
const MAX_EXPECT_MS = 10;
/**
 * "No time set" for the loop's performance.now() timestamps (the expect
 * window, the linger back-off, the park after a linger, the runtime turn's
 * start): a double, as every reading is, where 0 (an int32) was: a field
 * that held both made JavaScriptCore's optimised comparisons on it exit
 * (BadType) and recompile each time the other kind came (Bun).
 */
const NEVER = -Infinity;
/** How often an idle loop polls while its helper thread boots. */
const HELPER_BOOT_POLL_MS = 2;

/** Time after which a tick stops polling again and yields to the runtime. */
export const HOT_TICK_BUDGET_MS = 1;

/**
 * Most busy ticks in a row that follow one another after the promise jobs
 * only (`yieldSoon`, Node and Deno), without a turn of the runtime's loop:
 * on Node such a turn costs ~3 µs of CPU and a libuv poll system call (a
 * server in ping-pong made 4.1 system calls per request against
 * node:http's 3.0), on Deno ~1 µs. The runtime's timers and I/O run at
 * least every this many ticks and every {@link SOON_BUDGET_MS}.
 */
export const MAX_SOON_TURNS = 16;
/** Longest time busy ticks go on without a turn of the runtime's loop (see {@link MAX_SOON_TURNS}). */
export const SOON_BUDGET_MS = 1;

/** Options of {@link Loop.watch}. */
export interface WatchOptions {
  /** Edge-triggered reports (epoll, kqueue). */
  edge?: boolean;
}

/** Counters, for tests and benchmarks. */
export interface LoopStats {
  /** Hot-path iterations (one yield to the runtime, or after the promise jobs only, each). */
  ticks: number;
  /** Ticks that followed a busy one after the promise jobs only, without a turn of the runtime's loop (see {@link MAX_SOON_TURNS}). */
  soonTicks: number;
  /** Non-blocking waits on the hot path (several per tick while events keep coming). */
  polls: number;
  /** Short blocking waits on the main thread after a busy tick (see `lingerMs`). */
  lingers: number;
  /** Parked waits started. */
  parks: number;
  /** Wake-ups written to end a parked wait. */
  wakes: number;
  /** Events dispatched. */
  events: number;
}

/**
 * Loops with a wait parked on a helper thread. When the process exits, each
 * is woken so its helper returns from C: Node joins its worker threads at
 * exit and would otherwise wait for the parked wait forever. (Deno waits for
 * none: there `native.onExit` is never called.)
 */
const parkedLoops = new Set<{ wakeForExit(): void }>();
let exitHookInstalled = false;

function trackParked(loop: { wakeForExit(): void }): void {
  parkedLoops.add(loop);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  native.onExit(() => {
    for (const l of parkedLoops) l.wakeForExit();
    parkedLoops.clear();
  });
}

/**
 * The error that operations still pending on a loop end with when it
 * closes: `SocketClosedError` with code `ECANCELED`.
 *
 * @example
 * ```ts
 * import { loopClosedError } from "./loop.ts";
 * console.log(loopClosedError().code); // "ECANCELED"
 * ```
 */
export function loopClosedError(): SocketClosedError {
  return new SocketClosedError("ECANCELED", "the loop was closed");
}

const rethrow = (error: unknown): void => {
  queueMicrotask(() => {
    throw error;
  });
};

/**
 * An event loop over one poll backend, with its timers.
 *
 * @example
 * ```ts
 * import { Loop, READABLE } from "./loop.ts";
 * import { Socket } from "../socket/socket.ts";
 * const loop = new Loop({ backend: "epoll" });
 * const [a, b] = Socket.pair("stream", { nonBlocking: true });
 * const w = loop.watch(b.fd, READABLE, () => console.log(b.recv(new Uint8Array(16))));
 * w.unref(); // the watch alone does not keep the process alive
 * w.close();
 * loop.close();
 * a.close(); b.close();
 * ```
 */
export class Loop implements WatcherHost {
  /** The loop's timers (once, every, cancel, reschedule, pause/resume, remaining, ref/unref). */
  readonly timers: LoopTimers;
  /** Counters of the loop's work. */
  readonly stats: LoopStats = { ticks: 0, soonTicks: 0, polls: 0, lingers: 0, parks: 0, wakes: 0, events: 0 };
  readonly #backend: PollBackend;
  readonly #wake: WakeFd;
  readonly #watchers: (IoWatcher | undefined)[] = [];
  #count = 0;
  #refed = 0;
  readonly #onError: (error: unknown) => void;
  readonly #unrefPollMs: number;
  readonly #spins: number;
  readonly #lingerMs: number;
  #wasBusy = false;
  #lingerOffUntil = NEVER;
  #lingerBackoff = LINGER_BACKOFF_MIN_MS;
  readonly #quickParkMs: number;
  /** When the last linger found nothing (performance.now) while no events came since: the park after it is judged by it; else NEVER. */
  #parkAfterLinger = NEVER;
  /** Until when (performance.now) events are expected soon (see {@link Loop.expectEvents}); NEVER: none. */
  #expectUntil = NEVER;
  readonly #hotPolls: number;
  #empty = 0;
  /** Ticks run after the promise jobs only since the last turn of the runtime's loop, and when that turn began (performance.now). */
  #soonTurns = 0;
  #realTurnAt = NEVER;
  #scheduled = false;
  #inTick = false;
  /** Events are being handed to their watchers now (see {@link Loop.afterDispatch}). */
  #dispatching = false;
  /** Callbacks to run once the events being dispatched were all handled. */
  readonly #afterDispatch: Array<() => void> = [];
  #blocking = false;
  #stopRequested = false;
  #woken = false;
  #parkDeadline = Infinity;
  #cancelPollTimer: (() => void) | undefined;
  #canUnrefPark: boolean | undefined;
  #closed = false;
  /** `close()` has begun: new watches are refused (owners told to close must not add more). */
  #closing = false;
  #released = false;
  #whenReleased: Promise<void>;
  #resolveReleased!: () => void;

  /** Creates a loop on `options.backend` (default: the best for this platform) with its wake descriptor registered; throws RangeError for a bad tuning option. */
  constructor(options: LoopOptions = {}) {
    this.#onError = options.onError ?? rethrow;
    this.#unrefPollMs = options.unrefPollMs ?? 10;
    this.#spins = options.spinsBeforePark ?? (Number(native.env("FFINET_LOOP_SPINS") ?? "1") || 1);
    if (!Number.isInteger(this.#spins) || this.#spins < 1) throw new RangeError(`spinsBeforePark must be a positive integer, got ${this.#spins}`);
    this.#lingerMs = options.lingerMs ?? Number(native.env("FFINET_LOOP_LINGER_MS") ?? DEFAULT_LINGER_MS);
    if (!(this.#lingerMs >= 0 && this.#lingerMs <= 100)) throw new RangeError(`lingerMs must be in 0..100, got ${this.#lingerMs}`);
    this.#quickParkMs = options.quickParkMs ?? Number(native.env("FFINET_LOOP_QUICK_PARK_MS") ?? DEFAULT_QUICK_PARK_MS);
    if (!(this.#quickParkMs >= 0 && this.#quickParkMs <= 1000)) throw new RangeError(`quickParkMs must be in 0..1000, got ${this.#quickParkMs}`);
    this.#hotPolls = options.hotPolls ?? (Number(native.env("FFINET_LOOP_HOT") ?? "4") || 4);
    if (!Number.isInteger(this.#hotPolls) || this.#hotPolls < 1) throw new RangeError(`hotPolls must be a positive integer, got ${this.#hotPolls}`);
    if (!(this.#unrefPollMs >= 1)) throw new RangeError(`unrefPollMs must be at least 1, got ${this.#unrefPollMs}`);
    this.#backend = createBackend(options.backend, options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents });
    try {
      this.#wake = new WakeFd();
      this.#backend.add(this.#wake.fd, READABLE);
    } catch (err) {
      this.#backend.close();
      throw err;
    }
    this.timers = new LoopTimers(() => this.#kick(), { onError: (err) => this.#onError(err) });
    this.#whenReleased = new Promise((resolve) => (this.#resolveReleased = resolve));
  }

  /** The backend in use. */
  get backendName(): BackendName {
    return this.#backend.name;
  }

  /** Whether a wait is parked on the helper thread now. */
  get parked(): boolean {
    return this.#backend.parked;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of watched descriptors. */
  get size(): number {
    return this.#count;
  }

  /**
   * Whether the loop parks (rather than polls every `unrefPollMs`) while
   * nothing is referenced: true where the runtime's helper thread can be
   * unreferenced (Node, Bun), false on Deno.
   */
  get parksUnreferenced(): boolean {
    return !this.#closed && this.#unrefParks();
  }

  /** Whether something referenced keeps the loop (and the process) alive. */
  hasRef(): boolean {
    return this.#refed > 0 || this.timers.hasRef();
  }

  /**
   * Watches `fd` for `events`; `callback` gets the readiness bits.
   *
   * @throws {PollError} when the fd is already watched or invalid.
   */
  watch(fd: number, events: number, callback: IoCallback, options: WatchOptions = {}): IoWatcher {
    // Closing counts as closed: a watch made by an `onLoopClose` callback would outlive the loop.
    if (this.#closing) throw new UseAfterCloseError("Loop");
    checkFd(fd);
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    const edge = options.edge ?? false;
    this.#backend.add(fd, events, edge);
    const watcher = new IoWatcher(this, fd, events, edge, callback);
    this.#watchers[fd] = watcher;
    this.#count++;
    this.#refed++;
    this.#changed();
    return watcher;
  }

  /** A one-shot timer on this loop (shorthand for `timers.once`). */
  setTimeout(callback: TimerCallback, delayMs: number): Timer {
    return this.timers.once(delayMs, callback);
  }

  /** A repeating timer on this loop (shorthand for `timers.every`). */
  setInterval(callback: TimerCallback, intervalMs: number): Timer {
    return this.timers.every(intervalMs, callback);
  }

  /**
   * Blocking mode: waits and dispatches on this thread until nothing is
   * referenced, `stop()` is called or the loop closes. Runtime timers,
   * promises and the runtime's own I/O do not progress meanwhile: use it in
   * scripts that use nothing else, with handler callbacks.
   */
  run(): void {
    this.#checkOpen();
    if (this.#inTick || this.#blocking) throw new PollError("ERR_LOOP_RUNNING", "Loop.run() cannot be called from inside the loop");
    this.#blocking = true;
    this.#stopRequested = false;
    try {
      while (!this.#closed && !this.#stopRequested && this.hasRef()) {
        const n = this.#backend.wait(this.timers.timeoutMs());
        newTurn();
        this.#inTick = true;
        try {
          if (n > 0) this.#dispatch(n);
          this.timers.runDue();
        } finally {
          this.#inTick = false;
        }
      }
    } finally {
      this.#blocking = false;
      if (!this.#closed) this.#kick();
      else this.#release();
    }
  }

  /** Ends a `run()` after the current iteration. */
  stop(): void {
    this.#stopRequested = true;
  }

  /**
   * Closes the loop: every watcher's owner is told (`onLoopClose`, where
   * connections close their sockets), timers are cancelled, and the backend,
   * the wake-up descriptor and the helper thread are freed — at once, or as
   * soon as a parked wait returns (see {@link Loop.released}). Idempotent.
   * A failure on the way (a watched fd closed before its watcher, an
   * `onError` that throws) is thrown after everything is freed.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    // Nothing below may stop the close half-way (a retry would return at
    // once): the first failure — an fd closed before its watcher (EBADF), or
    // an `onError` that throws — is rethrown once everything is freed.
    let failed = false;
    let failure: unknown;
    const keep = (err: unknown): void => {
      if (!failed) [failed, failure] = [true, err];
    };
    const watchers = this.#watchers.filter((w): w is IoWatcher => w !== undefined);
    for (const w of watchers) {
      try {
        w.onLoopClose?.();
      } catch (err) {
        try {
          this.#onError(err);
        } catch (thrown) {
          keep(thrown);
        }
      }
      try {
        w.close();
      } catch (err) {
        keep(err); // the watcher is gone from the loop anyway
      }
    }
    this.#closed = true;
    this.timers.close();
    this.#cancelPollTimer?.();
    this.#cancelPollTimer = undefined;
    if (this.#backend.parked) {
      // Keep the process alive until the woken wait returns and `released()` resolves.
      this.#backend.refPark();
      this.#wake.signal();
    }
    this.#backend.close();
    if (!this.#backend.parked && !this.#blocking) this.#release();
    if (failed) throw failure;
  }

  /**
   * Resolves once every native resource of a closed loop is freed and its
   * helper thread has ended. A Worker that runs a loop should be terminated
   * only after this (`loop.close(); await loop.released();`): on Node,
   * terminating it earlier tears down the loop's helper (a Worker of its
   * own) while it may still be loading koffi, which aborts the process, or
   * while it is parked in a wait, which `terminate()` then waits for.
   */
  released(): Promise<void> {
    return this.#whenReleased;
  }

  /** Same as {@link Loop.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * @internal Routes an exception thrown by a callback that runs outside a
   * tick (a connection's microtask) as a tick routes one from its dispatch:
   * to the `onError` option, else rethrown in a microtask.
   */
  _reportError(error: unknown): void {
    this.#onError(error);
  }

  /** @internal */
  _modify(watcher: IoWatcher, events: number): void {
    this.#checkOpen();
    this.#backend.modify(watcher.fd, events, watcher.edge);
    if (!this.#backend.seesChangesWhileParked) this.#changed();
  }

  /** @internal */
  _unwatch(watcher: IoWatcher, fdClosing = false): void {
    if (this.#watchers[watcher.fd] !== watcher) return;
    this.#watchers[watcher.fd] = undefined;
    this.#count--;
    if (watcher.hasRef()) this.#refed--;
    if (!this.#closed) {
      if (watcher.active && !(fdClosing && this.#backend.closeUnregisters === true)) this.#backend.remove(watcher.fd);
      this.#changed();
    }
  }

  /** @internal */
  _setActive(watcher: IoWatcher, active: boolean): void {
    this.#checkOpen();
    if (active) this.#backend.add(watcher.fd, watcher.events, watcher.edge);
    else this.#backend.remove(watcher.fd);
    this.#changed();
  }

  /** @internal */
  _refChanged(_watcher: IoWatcher, ref: boolean): void {
    this.#refed += ref ? 1 : -1;
    this.#kick();
  }

  /** A registration changed: poll(2) must re-read its set. */
  #changed(): void {
    if (this.#backend.parked && !this.#backend.seesChangesWhileParked) this.#signal();
    this.#kick();
  }

  /** Makes sure the loop makes progress after a change. */
  #kick(): void {
    if (this.#closed || this.#blocking || this.#inTick) return;
    if (this.#backend.parked) {
      if (this.hasRef()) this.#backend.refPark();
      else if (this.#unrefParks()) this.#backend.unrefPark();
      else {
        this.#signal(); // a pending call would keep the process alive
        return;
      }
      const next = this.timers.nextDeadline();
      if (next !== undefined && next < this.#parkDeadline) this.#signal();
      return;
    }
    if (this.#scheduled) return;
    if (this.#cancelPollTimer !== undefined) {
      this.#cancelPollTimer();
      this.#cancelPollTimer = undefined;
    }
    if (this.#count === 0 && this.timers.size === 0) return;
    this.#scheduled = true;
    yieldToRuntime(this.#tick);
  }

  /**
   * Says that events are expected within `withinMs` (say the answer to a
   * datagram just sent to a nearby server): until then a tick that finds
   * nothing lingers again (a blocking wait of up to `lingerMs` on this
   * thread, which the linger backoff does not switch off meanwhile) instead
   * of parking on the helper thread, whose round trip costs far more CPU
   * than the wait. Callers keep `withinMs` short (a few milliseconds): the
   * runtime's own timers and I/O wait meanwhile. Nothing with `lingerMs` 0,
   * while nothing is referenced, or in `run()`.
   *
   * @example
   * ```ts
   * import { Loop } from "./loop.ts";
   * const loop = new Loop();
   * loop.expectEvents(2); // e.g. right after sending a DNS query to 127.0.0.1
   * loop.close();
   * ```
   */
  expectEvents(withinMs: number): void {
    if (this.#lingerMs === 0 || !(withinMs > 0)) return;
    const until = performance.now() + Math.min(withinMs, MAX_EXPECT_MS);
    if (until > this.#expectUntil) this.#expectUntil = until;
  }

  /**
   * Runs `callback` once the events this loop is dispatching now have all
   * been handled (every ready descriptor of the wait, before timers and
   * the next wait); returns false, and runs nothing, when no dispatch is
   * under way (a timer, a promise job, the runtime's own callbacks). A
   * protocol answering many connections in one dispatch can so gather
   * each one's output and send it after all of them were read: the
   * peers are woken by sends that come together, not one between every
   * two reads (a 64 B WebSocket echo server, paired against the send
   * after each read at load 22–43: per-round CPU ratios with medians of
   * 0.98–1.19 on Node over four runs, 0.98 and 1.39 on Deno, 1.01 on Bun:
   * within this machine's noise except on Node).
   * A throw goes to the loop's `onError`, as a watcher's does.
   *
   * @example
   * ```ts
   * import { Loop } from "./loop.ts";
   * const loop = new Loop();
   * console.log(loop.afterDispatch(() => {})); // false: not inside a dispatch
   * loop.close();
   * ```
   */
  afterDispatch(callback: () => void): boolean {
    if (!this.#dispatching) return false;
    this.#afterDispatch.push(callback);
    return true;
  }

  /** Whether events are expected now (see {@link Loop.expectEvents}). */
  #expecting(): boolean {
    if (this.#expectUntil === NEVER) return false;
    if (performance.now() < this.#expectUntil) return true;
    this.#expectUntil = NEVER;
    return false;
  }

  /** The blocking wait allowed at the start of a tick after a busy one (0: none). */
  #lingerTimeout(): number {
    if (this.#lingerMs === 0) return 0;
    if (this.#expecting()) {
      // Within the window: a wait never outlasts what is left of it.
      const left = Math.max(1, Math.ceil(this.#expectUntil - performance.now()));
      const t = this.timers.timeoutMs();
      return Math.min(left, t < 0 ? this.#lingerMs : Math.min(t, this.#lingerMs));
    }
    if (this.#lingerOffUntil !== NEVER) {
      if (performance.now() < this.#lingerOffUntil) return 0;
      this.#lingerOffUntil = NEVER;
    }
    const t = this.timers.timeoutMs();
    return t < 0 ? this.#lingerMs : Math.min(t, this.#lingerMs);
  }

  #lingered(found: boolean): void {
    this.stats.lingers++;
    if (found) {
      this.#lingerBackoff = LINGER_BACKOFF_MIN_MS;
      return;
    }
    // Expected events not there yet: no reason to pause lingering.
    if (this.#expectUntil !== NEVER) return;
    const now = performance.now();
    this.#lingerOffUntil = now + this.#lingerBackoff;
    this.#lingerBackoff = Math.min(this.#lingerBackoff * 2, LINGER_BACKOFF_MAX_MS);
    if (this.#quickParkMs > 0) this.#parkAfterLinger = now;
  }

  /** A park after a linger that found nothing ended with `n` events: when they came soon, lingering goes back on. */
  #parkEnded(n: number): void {
    const since = this.#parkAfterLinger;
    this.#parkAfterLinger = NEVER;
    // Our own wake-up (a timer, a registration change) says nothing about the traffic.
    if (n === 0 || this.#woken || performance.now() - since > this.#quickParkMs) return;
    this.#lingerOffUntil = NEVER;
    this.#lingerBackoff = LINGER_BACKOFF_MIN_MS;
  }

  /** Whether a parked wait can be unreferenced (asked once: it starts the helper). */
  #unrefParks(): boolean {
    return (this.#canUnrefPark ??= this.#backend.canUnrefPark === true);
  }

  #signal(): void {
    if (this.#woken) return;
    this.#woken = true;
    this.stats.wakes++;
    this.#wake.signal();
  }

  /** A tick entered from the runtime's loop (setImmediate, a timer): its timers and I/O have just run. */
  #tick = (): void => {
    this.#soonTurns = 0;
    this.#realTurnAt = NEVER;
    this.#turn();
  };

  /** A tick entered after the promise jobs only (`yieldSoon`). */
  #soonTick = (): void => {
    this.stats.soonTicks++;
    this.#turn();
  };

  #turn(): void {
    this.#scheduled = false;
    if (this.#closed || this.#blocking || this.#backend.parked) return;
    this.stats.ticks++;
    let busy = false;
    this.#inTick = true;
    try {
      const hot = this.#hotPolls;
      const start = hot > 1 ? performance.now() : 0;
      for (let polls = 1; ; polls++) {
        this.stats.polls++;
        const timeout = polls === 1 && this.#wasBusy ? this.#lingerTimeout() : 0;
        const n = this.#backend.wait(timeout);
        newTurn();
        if (timeout > 0) this.#lingered(n > 0);
        if (n === 0) break;
        busy = true;
        this.#parkAfterLinger = NEVER;
        this.#dispatch(n);
        if (n < this.#backend.readyFds.length || polls >= hot || this.#closed || this.#blocking) break;
        if (performance.now() - start >= HOT_TICK_BUDGET_MS) break;
      }
      if (!this.#closed) this.timers.runDue();
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#inTick = false;
    }
    this.#next(busy);
  }

  /** Whether the tick after a busy one may skip the runtime's loop (see {@link MAX_SOON_TURNS}). */
  #maySkipRuntime(): boolean {
    if (yieldSoon === undefined || this.#soonTurns >= MAX_SOON_TURNS) return false;
    const now = performance.now();
    if (this.#realTurnAt === NEVER) this.#realTurnAt = now;
    else if (now - this.#realTurnAt >= SOON_BUDGET_MS) return false;
    this.#soonTurns++;
    return true;
  }

  /** After a tick or a parked wait: go on hot, park, poll unreferenced, or stop. */
  #next(busy: boolean): void {
    if (this.#closed || this.#blocking) return;
    if (this.#count === 0 && this.timers.size === 0) return;
    this.#wasBusy = busy;
    if (busy) this.#empty = 0;
    else this.#empty++;
    if (busy || this.#empty < this.#spins || this.timers.timeoutMs() === 0 || (this.#expecting() && this.hasRef())) {
      // Expected events: the next tick lingers for them instead of parking.
      if (!busy && this.#expectUntil !== NEVER) this.#wasBusy = true;
      this.#scheduled = true;
      if (busy && this.#maySkipRuntime()) yieldSoon!(this.#soonTick);
      else yieldToRuntime(this.#tick);
      return;
    }
    if (!this.hasRef() && !this.#unrefParks()) {
      const timeout = this.timers.timeoutMs();
      const ms = timeout < 0 ? this.#unrefPollMs : Math.min(this.#unrefPollMs, timeout);
      this.#cancelPollTimer = unrefTimeout(() => {
        this.#cancelPollTimer = undefined;
        this.#tick();
      }, ms);
      return;
    }
    if (this.#backend.parkReady === false) {
      // The helper thread is still booting (a Node worker loading koffi
      // takes 100–300 ms): a wait parked now would start only then and
      // dispatch nothing meanwhile, so poll on a short timer until it is up.
      const timeout = this.timers.timeoutMs();
      const ms = timeout < 0 ? HELPER_BOOT_POLL_MS : Math.min(HELPER_BOOT_POLL_MS, timeout);
      this.#cancelPollTimer = this.hasRef() ? refTimeout(this.#pollTick, ms) : unrefTimeout(this.#pollTick, ms);
      return;
    }
    this.#park();
  }

  #pollTick = (): void => {
    this.#cancelPollTimer = undefined;
    this.#tick();
  };

  /** @internal Wakes a parked wait because the process exits. */
  wakeForExit(): void {
    if (this.#released) return;
    this.stats.wakes++;
    this.#wake.signal();
  }

  #park(): void {
    trackParked(this);
    const timeout = this.timers.timeoutMs();
    this.#parkDeadline = timeout < 0 ? Infinity : monotonicMs() + timeout;
    this.#woken = false;
    this.stats.parks++;
    if (this.hasRef()) this.#backend.refPark();
    else this.#backend.unrefPark();
    this.#backend.park(timeout).then(
      (n) => this.#afterPark(n),
      (err) => {
        this.#onError(err);
        this.#afterPark(0);
      },
    );
  }

  #afterPark(n: number): void {
    parkedLoops.delete(this);
    this.#soonTurns = 0;
    this.#realTurnAt = NEVER;
    this.#parkDeadline = Infinity;
    if (this.#parkAfterLinger !== NEVER) this.#parkEnded(n);
    if (this.#closed) {
      this.#release();
      return;
    }
    newTurn();
    this.#inTick = true;
    try {
      if (n > 0) this.#dispatch(n);
      this.timers.runDue();
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#inTick = false;
      this.#woken = false;
    }
    this.#next(n > 0);
  }

  #dispatch(n: number): void {
    const fds = this.#backend.readyFds;
    const evs = this.#backend.readyEvents;
    const wakeFd = this.#wake.fd;
    this.stats.events += n;
    this.#dispatching = true;
    try {
      for (let i = 0; i < n; i++) {
        const fd = fds[i]!;
        if (fd === wakeFd) {
          this.#wake.drain();
          continue;
        }
        const w = this.#watchers[fd];
        if (w === undefined) continue;
        try {
          w.callback(evs[i]!);
        } catch (err) {
          this.#onError(err);
        }
      }
    } finally {
      this.#dispatching = false;
      if (this.#afterDispatch.length > 0) this.#runAfterDispatch();
    }
  }

  /** Runs the callbacks {@link Loop.afterDispatch} took, in order (one's throw does not stop the rest). */
  #runAfterDispatch(): void {
    const queue = this.#afterDispatch;
    let failed = false;
    let failure: unknown;
    for (let i = 0; i < queue.length; i++) {
      try {
        queue[i]!();
      } catch (err) {
        try {
          this.#onError(err);
        } catch (thrown) {
          if (!failed) [failed, failure] = [true, thrown];
        }
      }
    }
    queue.length = 0;
    if (failed) throw failure;
  }

  #release(): void {
    if (this.#released) return;
    parkedLoops.delete(this);
    this.#released = true;
    this.#wake.close();
    const helper = this.#backend.helperExited;
    if (helper === undefined) this.#resolveReleased();
    else void helper.then(this.#resolveReleased);
  }

  #checkOpen(): void {
    if (this.#closed) throw new UseAfterCloseError("Loop");
  }
}

let defaultInstance: Loop | undefined;

/**
 * The process's default loop, created on first use (again after it was
 * closed). Explicit loops (`new Loop()`) are independent of it.
 *
 * @example
 * ```ts
 * import { defaultLoop } from "./loop.ts";
 * const loop = defaultLoop();
 * console.log(loop === defaultLoop()); // true
 * ```
 */
export function defaultLoop(): Loop {
  if (defaultInstance === undefined || defaultInstance.closed) defaultInstance = new Loop();
  return defaultInstance;
}

export { ERROR, HANGUP, PEER_CLOSED, READABLE, WRITABLE } from "./backend.ts";
export { IoWatcher } from "./io_watcher.ts";
export type { IoCallback } from "./io_watcher.ts";
