/**
 * A metrics collector for connection pools: reads each pool's `stats()` at
 * scrape time (the pool keeps those counters anyway), so pools pay nothing
 * for being measured.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { ConnectionPool } from "./pool.ts";
 * import { poolCollector } from "./pool_metrics.ts";
 * const pool = new ConnectionPool();
 * const registry = new MetricsRegistry();
 * registry.collect(poolCollector({ upstream: pool }));
 * console.log(registry.snapshot().map((f) => f.name).includes("pool_connections_active")); // true
 * ```
 *
 * @module
 */
import type { MetricFamily, MetricsCollector } from "../core/metrics.ts";
import type { ListenProtectionStats } from "./protect.ts";
import type { PoolStatsSnapshot } from "./stats.ts";

/** Anything with a pool's statistics. */
export interface PoolStatsSource {
  /** The pool's statistics now. */
  stats(): PoolStatsSnapshot;
}

const COUNTERS: readonly (readonly [keyof PoolStatsSnapshot, string, string])[] = [
  ["added", "pool_connections_added_total", "Connections added to the pool."],
  ["removed", "pool_connections_removed_total", "Connections removed from the pool."],
  ["reused", "pool_connections_reused_total", "Idle connections handed out again."],
  ["healthChecks", "pool_health_checks_total", "Connection health checks."],
  ["healthFailures", "pool_health_check_failures_total", "Health checks that found a connection unhealthy."],
  ["idleCleanups", "pool_idle_cleanups_total", "Connections closed for being idle too long."],
];

const GAUGES: readonly (readonly [keyof PoolStatsSnapshot, string, string])[] = [
  ["active", "pool_connections_active", "Connections in use."],
  ["idle", "pool_connections_idle", "Idle connections."],
  ["reuseRate", "pool_reuse_ratio", "Share of hand-outs that needed no new connection."],
  ["averageAgeMs", "pool_connection_average_age_seconds", "Average age of the pool's connections in seconds."],
];

/**
 * A collector of pool statistics labelled `pool` (the key in `pools`):
 * counters `pool_connections_added_total`, `..._removed_total`,
 * `..._reused_total`, `pool_health_checks_total`,
 * `pool_health_check_failures_total`, `pool_idle_cleanups_total` (a pool's
 * `resetStats` shows as a counter reset, which Prometheus handles), and
 * gauges `pool_connections_active`, `pool_connections_idle`,
 * `pool_reuse_ratio`, `pool_connection_average_age_seconds`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { ConnectionPool } from "./pool.ts";
 * import { poolCollector } from "./pool_metrics.ts";
 * new MetricsRegistry().collect(poolCollector({ a: new ConnectionPool(), b: new ConnectionPool() }));
 * ```
 */
export function poolCollector(pools: Readonly<Record<string, PoolStatsSource>>): MetricsCollector {
  return (): MetricFamily[] => {
    const stats = Object.keys(pools).map((pool) => [pool, (pools[pool] as PoolStatsSource).stats()] as const);
    const family = (type: "counter" | "gauge") => ([key, name, help]: readonly [keyof PoolStatsSnapshot, string, string]): MetricFamily => ({
      name,
      help,
      type,
      series: stats.map(([pool, s]) => ({ labels: { pool }, value: key === "averageAgeMs" ? s[key] / 1000 : s[key] })),
    });
    return [...COUNTERS.map(family("counter")), ...GAUGES.map(family("gauge"))];
  };
}

/** Anything with admission-control statistics (a `ListenProtection`). */
export interface ProtectionStatsSource {
  /** The protection's statistics now. */
  stats(): ListenProtectionStats;
}

const REFUSALS: readonly (readonly [keyof ListenProtectionStats, string])[] = [
  ["refusedPerIp", "per_ip"],
  ["refusedTooManyIps", "too_many_ips"],
  ["refusedRate", "rate"],
  ["refusedBlocked", "blocked"],
  ["refusedThrottled", "throttled"],
  ["refusedChallenge", "challenge"],
];

/**
 * A collector of listeners' admission control, labelled `listener` (the
 * key in `sources`): `listen_admitted_total`,
 * `listen_refused_total{reason}` (per_ip, too_many_ips, rate, blocked,
 * throttled, challenge), `listen_freed_early_total` (slots freed at
 * admission for connections whose peer had closed them),
 * `listen_bandwidth_pauses_total` and the gauge
 * `listen_connections_open`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { ListenProtection } from "./protect.ts";
 * import { protectionCollector } from "./pool_metrics.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(protectionCollector({ api: new ListenProtection({ maxPerIp: 10 }) }));
 * ```
 */
export function protectionCollector(sources: Readonly<Record<string, ProtectionStatsSource>>): MetricsCollector {
  return (): MetricFamily[] => {
    const stats = Object.keys(sources).map((listener) => [listener, (sources[listener] as ProtectionStatsSource).stats()] as const);
    return [
      { name: "listen_admitted_total", help: "Connections admitted by admission control.", type: "counter", series: stats.map(([listener, s]) => ({ labels: { listener }, value: s.admitted })) },
      {
        name: "listen_refused_total",
        help: "Connections refused by admission control, by reason.",
        type: "counter",
        series: stats.flatMap(([listener, s]) => REFUSALS.map(([key, reason]) => ({ labels: { listener, reason }, value: s[key] }))),
      },
      {
        name: "listen_freed_early_total",
        help: "Slots of connections freed at admission because their peer had already closed or reset them.",
        type: "counter",
        series: stats.map(([listener, s]) => ({ labels: { listener }, value: s.freedEarly })),
      },
      { name: "listen_bandwidth_pauses_total", help: "Reads paused for a bandwidth limit.", type: "counter", series: stats.map(([listener, s]) => ({ labels: { listener }, value: s.bandwidthPauses })) },
      { name: "listen_connections_open", help: "Admitted connections open now (upgraded ones included).", type: "gauge", series: stats.map(([listener, s]) => ({ labels: { listener }, value: s.open })) },
    ];
  };
}
