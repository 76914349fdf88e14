/**
 * Metrics collectors for the loop and listeners: they read the counters
 * the loop (`loop.stats`) and listeners keep anyway, at scrape time, so
 * the hot path pays nothing.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { defaultLoop } from "./loop.ts";
 * import { loopCollector } from "./loop_metrics.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(loopCollector({ main: defaultLoop() }));
 * console.log(registry.snapshot()[0]?.name); // loop_ticks_total
 * ```
 *
 * @module
 */
import type { MetricFamily, MetricsCollector } from "../core/metrics.ts";
import type { Listener } from "./listener.ts";
import type { Loop, LoopStats } from "./loop.ts";

const LOOP_COUNTERS: readonly (readonly [keyof LoopStats, string, string])[] = [
  ["ticks", "loop_ticks_total", "Hot-path loop iterations (one yield to the runtime each)."],
  ["polls", "loop_polls_total", "Non-blocking waits on the hot path."],
  ["lingers", "loop_lingers_total", "Short blocking waits on the main thread after a busy tick."],
  ["parks", "loop_parks_total", "Waits parked on a helper thread while idle."],
  ["wakes", "loop_wakes_total", "Wake-ups written to end a parked wait."],
  ["events", "loop_events_total", "I/O events dispatched."],
];

/**
 * A collector of each loop's `stats` as counters labelled `loop` (the key
 * in `loops`): `loop_ticks_total`, `loop_polls_total`, `loop_lingers_total`,
 * `loop_parks_total`, `loop_wakes_total`, `loop_events_total`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { Loop } from "./loop.ts";
 * import { loopCollector } from "./loop_metrics.ts";
 * const loop = new Loop();
 * const registry = new MetricsRegistry();
 * registry.collect(loopCollector({ worker: loop }));
 * loop.close();
 * ```
 */
export function loopCollector(loops: Readonly<Record<string, Loop>>): MetricsCollector {
  return (): MetricFamily[] =>
    LOOP_COUNTERS.map(([key, name, help]) => ({
      name,
      help,
      type: "counter" as const,
      series: Object.keys(loops).map((loop) => ({ labels: { loop }, value: (loops[loop] as Loop).stats[key] })),
    }));
}

/**
 * A collector of listeners labelled `listener` (the key in `listeners`):
 * `listener_accepted_total`, `listener_accept_errors_total` and
 * `listener_pending_connections`
 * (accepted, waiting for `accept()`); closed listeners are left out.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { listen } from "./listener.ts";
 * import { listenerCollector } from "./loop_metrics.ts";
 * const listener = listen({ host: "127.0.0.1", port: 0 });
 * const registry = new MetricsRegistry();
 * registry.collect(listenerCollector({ api: listener }));
 * listener.close();
 * ```
 */
export function listenerCollector(listeners: Readonly<Record<string, Listener>>): MetricsCollector {
  return (): MetricFamily[] => {
    const open = Object.keys(listeners).filter((k) => !(listeners[k] as Listener).closed);
    return [
      {
        name: "listener_accepted_total",
        help: "Connections accepted.",
        type: "counter",
        series: open.map((listener) => ({ labels: { listener }, value: (listeners[listener] as Listener).accepted })),
      },
      {
        name: "listener_accept_errors_total",
        help: "Accepts that failed.",
        type: "counter",
        series: open.map((listener) => ({ labels: { listener }, value: (listeners[listener] as Listener).acceptErrors })),
      },
      {
        name: "listener_pending_connections",
        help: "Accepted connections waiting for accept().",
        type: "gauge",
        series: open.map((listener) => ({ labels: { listener }, value: (listeners[listener] as Listener).pending })),
      },
    ];
  };
}
