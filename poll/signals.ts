/**
 * Signals: SIGINT/SIGTERM start a graceful shutdown of a {@link Loop}.
 *
 * Why the runtime's own signal API and not signalfd or a self-pipe (checked
 * on this machine, Linux, with all three runtimes):
 * - signalfd only sees a signal that every thread blocks. sigprocmask
 *   blocks it for the calling thread only, and each runtime has started its
 *   threads before any user code runs (Node 12, Deno 6, Bun 6 here; 10, 5
 *   and 4 of them leave SIGTERM unblocked). A `kill` is then delivered to
 *   one of those threads: the default action ends the process, or the
 *   runtime's handler takes it, and the signalfd stays empty.
 * - The self-pipe pattern needs a C signal handler that writes to the pipe;
 *   a JavaScript callback must not run in signal context, and we ship no C.
 * - The runtimes' APIs work: Node and Bun `process.on("SIGINT", f)`, Deno
 *   `Deno.addSignalListener("SIGINT", f)` (behind `native.addSignalListener`). The handler runs on the main
 *   thread between two Loop ticks (the Loop yields to the runtime after
 *   every tick and parks its idle wait on a helper thread), so it may close
 *   listeners, end connections and close the loop directly. A registered
 *   listener does not keep the process alive on any of the three.
 *
 * Not covered: a blocking `loop.run()` holds the main thread, so the
 * runtime cannot call the handler until `run()` returns; use the async mode
 * (the default) in programs that must shut down on a signal.
 *
 * @example
 * ```ts
 * import { listen } from "./listener.ts";
 * import { shutdownOnSignal } from "./signals.ts";
 * const server = listen({ port: 0, handler: { data: (c, d) => c.send(d) } });
 * shutdownOnSignal(async (signal) => {
 *   console.log(`${signal}: closing`);
 *   server.close(); // stop accepting; open connections finish, then the loop closes
 * });
 * ```
 *
 * @module
 */
import { native } from "../ffi/native.ts";
import { defaultLoop, type Loop } from "./loop.ts";
import { unrefTimeout } from "./yield.ts";

/** Signals a process commonly handles to shut down or reload. */
export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT" | "SIGUSR1" | "SIGUSR2";

const SIGNAL_NUMBERS: Record<SignalName, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
};

/** The longest delay the runtimes' `setTimeout` honours. */
const MAX_TIMER_MS = 0x7fffffff;

/** A registration that can be removed. */
export interface SignalSubscription {
  /** Removes the listeners. Idempotent. */
  close(): void;
}

function checkSignals(signals: readonly SignalName[]): void {
  if (!Array.isArray(signals) || signals.length === 0) throw new TypeError("signals must be a non-empty array");
  for (const s of signals) {
    if (typeof s !== "string" || !Object.hasOwn(SIGNAL_NUMBERS, s)) throw new TypeError(`unsupported signal ${String(s)}`);
  }
}

/**
 * Calls `handler` on the main thread each time one of `signals` arrives,
 * through the runtime's signal API. While registered, the signals no longer
 * end the process by default.
 *
 * @example
 * ```ts
 * import { onSignals } from "./signals.ts";
 * const sub = onSignals(["SIGHUP"], (signal) => console.log(`${signal}: reload`));
 * sub.close();
 * ```
 */
export function onSignals(signals: readonly SignalName[], handler: (signal: SignalName) => void): SignalSubscription {
  checkSignals(signals);
  if (typeof handler !== "function") throw new TypeError("handler must be a function");
  const listeners: (readonly [SignalName, () => void])[] = [];
  try {
    for (const signal of signals) {
      const listener = () => handler(signal);
      native.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    }
  } catch (err) {
    // The runtime refused one (a Worker, a missing permission): take back the others.
    for (const [signal, listener] of listeners) native.removeSignalListener(signal, listener);
    throw err;
  }
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      for (const [signal, listener] of listeners) native.removeSignalListener(signal, listener);
    },
  };
}

/** Options of {@link shutdownOnSignal}. */
export interface ShutdownOptions {
  /** The signals that start the shutdown (default SIGINT and SIGTERM). */
  signals?: readonly SignalName[];
  /** The loop closed at the end (default {@link defaultLoop}). */
  loop?: Loop;
  /**
   * Longest wait for `onShutdown` before the loop is closed anyway (default
   * 10,000 ms; `Infinity`, or anything above 2^31 - 1 ms, waits for
   * `onShutdown` however long it takes).
   */
  graceMs?: number;
  /**
   * A second signal during the shutdown exits at once with 128 + the
   * signal number (default true), as an impatient Ctrl-C expects.
   */
  exitOnSecondSignal?: boolean;
}

/**
 * Graceful shutdown: the first of `signals` calls `onShutdown(signal)`
 * (stop accepting, finish or end connections, flush), and once it settles —
 * or after `graceMs` — closes the loop, which closes whatever is still open,
 * and removes the signal listeners, so the process exits by itself. A second
 * signal meanwhile exits at once (see `exitOnSecondSignal`).
 *
 * @example
 * ```ts
 * import { listen } from "./listener.ts";
 * import { shutdownOnSignal } from "./signals.ts";
 * const server = listen({ port: 0, handler: { data: (c, d) => c.send(d) } });
 * const sub = shutdownOnSignal(() => server.close(), { graceMs: 5000 });
 * sub.close(); // not needed after a shutdown: it removes itself
 * server.close();
 * ```
 */
export function shutdownOnSignal(
  onShutdown: (signal: SignalName) => void | Promise<void>,
  options: ShutdownOptions = {},
): SignalSubscription {
  if (typeof onShutdown !== "function") throw new TypeError("onShutdown must be a function");
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const graceMs = options.graceMs ?? 10_000;
  if (typeof graceMs !== "number" || !(graceMs >= 0)) throw new RangeError(`graceMs must be a non-negative number, got ${graceMs}`);
  const exitOnSecond = options.exitOnSecondSignal ?? true;
  let stopping = false;
  let finished = false;
  let cancelGrace: (() => void) | undefined;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    cancelGrace?.();
    (options.loop ?? defaultLoop()).close();
    // With exitOnSecondSignal the listeners stay (they do not keep the
    // process alive) so a second signal still ends a process that something
    // else keeps running.
    if (!exitOnSecond) subscription.close();
  };
  const subscription = onSignals(signals, (signal) => {
    if (stopping) {
      if (exitOnSecond) native.exit(128 + SIGNAL_NUMBERS[signal]);
      return;
    }
    stopping = true;
    // Runtime timers take at most 2^31 - 1 ms; a longer delay fires at once.
    if (graceMs <= MAX_TIMER_MS) cancelGrace = unrefTimeout(finish, graceMs);
    let settled: Promise<void>;
    try {
      settled = Promise.resolve(onShutdown(signal));
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled.then(finish, (err: unknown) => {
      finish();
      queueMicrotask(() => {
        throw err;
      });
    });
  });
  return subscription;
}
