/**
 * Pools and protection (`ffinet/pool`): `ConnectionPool` (lookup by
 * connection and key, idle cleanup, health checks, statistics and the
 * drain state machine), accept helpers for listeners, `HostHealth`
 * (circuit breakers per host:port), `SynGuard` (reputation per address,
 * whitelist and blacklist with CIDR prefixes) and `ListenProtection`
 * (per-IP limits and SYN-flood protection as `listen`'s `protect` option).
 *
 * @example
 * ```ts
 * import { listen } from "../poll/listener.ts";
 * import { ConnectionPool, ListenProtection, acceptProtected } from "./mod.ts";
 * const server = listen({ port: 0 });
 * const pool = new ConnectionPool({ maxConnections: 100, cleanupIntervalMs: 0 });
 * const protect = new ListenProtection({ maxPerIp: 4 });
 * console.log(typeof acceptProtected, pool.size, protect.stats().admitted); // "function" 0 0
 * server.close();
 * ```
 *
 * @module
 */
export { type DrainPhase, DrainState } from "./drain.ts";
export { PoolCounters, type PoolStatsSnapshot } from "./stats.ts";
export {
  type ConnectionHealth,
  ConnectionPool,
  type ConnectionPoolOptions,
  type DrainResult,
  type PoolEntry,
  type PoolMember,
} from "./pool.ts";
export { acceptBatch, acceptLimited, acceptProtected } from "./accept.ts";
export { HostHealth, type HostHealthOptions, type OriginHealth } from "./health.ts";
export { cidrContains, IpList, type IpListOptions, parseCidr } from "./ip_list.ts";
export { ipKey, ipPrefixKey, type IpPrefixKeyOptions } from "../core/ip_key.ts";
export {
  type IpRecord,
  type Reputation,
  type SynAction,
  SynGuard,
  type SynGuardOptions,
  type SynGuardStats,
  synCookiesStatus,
} from "./syn_protect.ts";
export {
  ListenProtection,
  type ListenProtectionOptions,
  type ListenProtectionStats,
  type RefusalReason,
} from "./protect.ts";
export { poolCollector, type PoolStatsSource, protectionCollector, type ProtectionStatsSource } from "./pool_metrics.ts";
