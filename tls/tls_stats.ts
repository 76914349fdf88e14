/**
 * Process-wide TLS handshake counters, bumped by the engine (one integer
 * increment per completed or failed handshake, nothing per record), and a
 * metrics collector that reports them with the session-cache counters of
 * any server contexts passed in.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { tlsCollector, TLS_STATS } from "./tls_stats.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(tlsCollector());
 * console.log(TLS_STATS.failures >= 0, registry.snapshot().length > 0); // true true
 * ```
 *
 * @module
 */
import type { MetricFamily, MetricsCollector } from "../core/metrics.ts";
import type { TLSContext } from "./context.ts";

/** Handshake counters of this process (this thread), by role. */
export interface TLSStats {
  /** Client handshakes completed. */
  clientHandshakes: number;
  /** Server handshakes completed. */
  serverHandshakes: number;
  /** Completed handshakes that resumed a session (either role). */
  resumed: number;
  /** Handshakes that OpenSSL failed (either role; certificate verification included; a pin or OCSP-staple refusal after it is not counted). */
  failures: number;
  /** Accepted connections a TLS listener closed at once, unread, because `maxHandshakes` handshakes were in progress on it. */
  refused: number;
}

/**
 * The live counters (read them, or reset them in tests).
 *
 * @example
 * ```ts
 * import { TLS_STATS } from "./tls_stats.ts";
 * console.log(TLS_STATS.clientHandshakes + TLS_STATS.serverHandshakes >= TLS_STATS.resumed); // true
 * ```
 */
export const TLS_STATS: TLSStats = { clientHandshakes: 0, serverHandshakes: 0, resumed: 0, failures: 0, refused: 0 };

/**
 * Counts one handshake outcome (called by the engine).
 *
 * @example
 * ```ts
 * import { countHandshake, TLS_STATS } from "./tls_stats.ts";
 * const before = TLS_STATS.failures;
 * countHandshake("client", "failed");
 * console.log(TLS_STATS.failures - before); // 1
 * ```
 */
export function countHandshake(role: "client" | "server", outcome: "full" | "resumed" | "failed"): void {
  if (outcome === "failed") TLS_STATS.failures++;
  else {
    if (role === "client") TLS_STATS.clientHandshakes++;
    else TLS_STATS.serverHandshakes++;
    if (outcome === "resumed") TLS_STATS.resumed++;
  }
}

/**
 * A collector of `tls_handshakes_total{role}`, `tls_handshake_failures_total`,
 * `tls_resumed_handshakes_total`, `tls_handshakes_refused_total`, and per server context (named by the
 * key of `contexts`) the session cache: `tls_session_cache_hits_total`,
 * `..._misses_total`, `tls_session_cache_sessions`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { TLSContext } from "./context.ts";
 * import { tlsCollector } from "./tls_stats.ts";
 * const registry = new MetricsRegistry();
 * const server = new TLSContext({ role: "server" });
 * registry.collect(tlsCollector({ api: server }));
 * ```
 */
export function tlsCollector(contexts: Readonly<Record<string, TLSContext>> = {}): MetricsCollector {
  return (): MetricFamily[] => {
    const families: MetricFamily[] = [
      {
        name: "tls_handshakes_total",
        help: "TLS handshakes completed.",
        type: "counter",
        series: [{ labels: { role: "client" }, value: TLS_STATS.clientHandshakes }, { labels: { role: "server" }, value: TLS_STATS.serverHandshakes }],
      },
      { name: "tls_resumed_handshakes_total", help: "TLS handshakes that resumed a session.", type: "counter", series: [{ labels: {}, value: TLS_STATS.resumed }] },
      { name: "tls_handshake_failures_total", help: "TLS handshakes that failed.", type: "counter", series: [{ labels: {}, value: TLS_STATS.failures }] },
      { name: "tls_handshakes_refused_total", help: "Accepted connections closed unread at a TLS listener's maxHandshakes.", type: "counter", series: [{ labels: {}, value: TLS_STATS.refused }] },
    ];
    const hits = [];
    const misses = [];
    const cached = [];
    for (const name in contexts) {
      const ctx = contexts[name] as TLSContext;
      if (ctx.closed || ctx.role !== "server") continue;
      const s = ctx.sessionStats();
      hits.push({ labels: { context: name }, value: s.hits });
      misses.push({ labels: { context: name }, value: s.misses });
      cached.push({ labels: { context: name }, value: s.cached });
    }
    if (hits.length > 0) {
      families.push(
        { name: "tls_session_cache_hits_total", help: "Sessions resumed by a server context.", type: "counter", series: hits },
        { name: "tls_session_cache_misses_total", help: "Session ids not found in a server context's cache.", type: "counter", series: misses },
        { name: "tls_session_cache_sessions", help: "Sessions in a server context's cache.", type: "gauge", series: cached },
      );
    }
    return families;
  };
}
