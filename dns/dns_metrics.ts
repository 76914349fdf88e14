/**
 * A metrics collector for resolvers' caches: hits and misses (counted by
 * {@link DNSCache.get}) and entries held, read at scrape time.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { DNSCache } from "./cache.ts";
 * import { dnsCollector } from "./dns_metrics.ts";
 * const cache = new DNSCache();
 * cache.get("example.test", 1); // a miss
 * const registry = new MetricsRegistry();
 * registry.collect(dnsCollector({ main: cache }));
 * console.log(JSON.stringify(registry.snapshot()[1]?.series)); // [{"labels":{"resolver":"main"},"value":1}]
 * ```
 *
 * @module
 */
import type { MetricFamily, MetricsCollector } from "../core/metrics.ts";
import type { DNSCache } from "./cache.ts";
import type { Resolver } from "./resolver.ts";

/**
 * A collector of `dns_cache_hits_total`, `dns_cache_misses_total` and
 * `dns_cache_entries`, labelled `resolver` (the key in `sources`; a
 * resolver without a cache is left out).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { Resolver } from "./resolver.ts";
 * import { dnsCollector } from "./dns_metrics.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(dnsCollector({ system: new Resolver({ servers: ["127.0.0.1:53"] }) }));
 * ```
 */
export function dnsCollector(sources: Readonly<Record<string, Resolver | DNSCache>>): MetricsCollector {
  return (): MetricFamily[] => {
    const caches: [string, DNSCache][] = [];
    for (const name in sources) {
      const s = sources[name] as Resolver | DNSCache;
      const cache = "cache" in s ? s.cache : s;
      if (cache !== null) caches.push([name, cache]);
    }
    return [
      { name: "dns_cache_hits_total", help: "DNS lookups answered from the cache.", type: "counter", series: caches.map(([resolver, c]) => ({ labels: { resolver }, value: c.hits })) },
      { name: "dns_cache_misses_total", help: "DNS lookups the cache could not answer (sent to a server).", type: "counter", series: caches.map(([resolver, c]) => ({ labels: { resolver }, value: c.misses })) },
      { name: "dns_cache_entries", help: "Entries in the DNS cache.", type: "gauge", series: caches.map(([resolver, c]) => ({ labels: { resolver }, value: c.size })) },
    ];
  };
}
