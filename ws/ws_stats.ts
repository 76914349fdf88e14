/**
 * WebSocket counters, kept by every `WebSocketChannel` (server and
 * client, TCP and HTTP/2) as plain number bumps, and a metrics collector
 * that reads them at scrape time: open connections, messages and frame
 * bytes each way, and closes by code.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { WS_STATS, wsCollector } from "./ws_stats.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(wsCollector());
 * console.log(WS_STATS.server.open >= 0, registry.snapshot()[0]?.name); // true ws_connections_open
 * ```
 *
 * @module
 */
import type { MetricFamily, MetricsCollector } from "../core/metrics.ts";

/**
 * The counters of one role.
 *
 * @example
 * ```ts
 * import { WS_STATS } from "./ws_stats.ts";
 * const s = WS_STATS.client;
 * console.log(s.opened - s.closed === s.open); // true
 * ```
 */
export interface WebSocketRoleStats {
  /** WebSockets open now. */
  open: number;
  /** WebSockets opened since the process started. */
  opened: number;
  /** WebSockets that ended. */
  closed: number;
  /** Messages received. */
  messagesIn: number;
  /** Messages sent. */
  messagesOut: number;
  /** Frame bytes received (headers and compressed payloads included). */
  bytesIn: number;
  /** Frame bytes sent (headers and compressed payloads included). */
  bytesOut: number;
  /** Ends by the close code reported (1006 when no Close frame came). */
  closesByCode: Map<number, number>;
}

/** Fresh zeroed counters. */
function roleStats(): WebSocketRoleStats {
  return { open: 0, opened: 0, closed: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, closesByCode: new Map() };
}

/**
 * The process-wide WebSocket counters, by role.
 *
 * @example
 * ```ts
 * import { WS_STATS } from "./ws_stats.ts";
 * console.log(WS_STATS.server.messagesIn >= 0); // true
 * ```
 */
export const WS_STATS: WebSocketStatsByRole = {
  server: roleStats(),
  client: roleStats(),
};

/**
 * Counts one end of a WebSocket with close `code`.
 *
 * @example
 * ```ts
 * import { countClose, WS_STATS } from "./ws_stats.ts";
 * WS_STATS.client.open++;
 * countClose(WS_STATS.client, 1000);
 * console.log(WS_STATS.client.closesByCode.get(1000)); // 1
 * ```
 */
export function countClose(stats: WebSocketRoleStats, code: number): void {
  stats.open--;
  stats.closed++;
  const codes = stats.closesByCode;
  let key = code;
  if (code >= 3000 && !codes.has(code)) {
    // The peer picks these (any of 2,000 per range): past the bound they share one series.
    let apps = 0;
    for (const k of codes.keys()) if (k >= 3000) apps++;
    if (apps >= MAX_APP_CLOSE_CODES) key = OTHER_CLOSE_CODE;
  }
  codes.set(key, (codes.get(key) ?? 0) + 1);
}

/**
 * Distinct close codes of the registered and private ranges (3000–4999,
 * which the peer chooses) that each role counts apart; ends with further
 * such codes are counted under {@link OTHER_CLOSE_CODE}, so a peer cycling
 * through them cannot make thousands of `ws_closes_total` series. Codes
 * below 3000 (the protocol's own few) are always counted apart.
 *
 * @example
 * ```ts
 * import { MAX_APP_CLOSE_CODES } from "./ws_stats.ts";
 * console.log(MAX_APP_CLOSE_CODES); // 64
 * ```
 */
export const MAX_APP_CLOSE_CODES = 64;

/**
 * The `closesByCode` key of the application close codes past
 * {@link MAX_APP_CLOSE_CODES} (written as `code="other"`).
 *
 * @example
 * ```ts
 * import { OTHER_CLOSE_CODE } from "./ws_stats.ts";
 * console.log(OTHER_CLOSE_CODE); // 0
 * ```
 */
export const OTHER_CLOSE_CODE = 0;

const ROLES = ["server", "client"] as const;

/**
 * The counters of both roles, as {@link WS_STATS} holds them and
 * {@link wsCollector} reads them.
 *
 * @example
 * ```ts
 * import { WS_STATS, type WebSocketStatsByRole } from "./ws_stats.ts";
 * const stats: WebSocketStatsByRole = WS_STATS;
 * console.log(stats.server.open >= 0); // true
 * ```
 */
export type WebSocketStatsByRole = { readonly server: WebSocketRoleStats; readonly client: WebSocketRoleStats };

function byRole(stats: WebSocketStatsByRole, key: "open" | "opened" | "messagesIn" | "messagesOut" | "bytesIn" | "bytesOut", name: string, help: string, type: "counter" | "gauge"): MetricFamily {
  return { name, help, type, series: ROLES.map((role) => ({ labels: { role }, value: stats[role][key] })) };
}

/**
 * A collector of {@link WS_STATS}, labelled `role` (`server`, `client`):
 * `ws_connections_open` (gauge), `ws_connections_total`,
 * `ws_messages_received_total`, `ws_messages_sent_total`,
 * `ws_received_bytes_total`, `ws_sent_bytes_total` (frame bytes on the wire), and
 * `ws_closes_total` labelled `role` and `code` (`other` for the
 * application codes past {@link MAX_APP_CLOSE_CODES}). `stats` is what it
 * reads (default {@link WS_STATS}).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../core/metrics.ts";
 * import { toPrometheusText } from "../core/prometheus.ts";
 * import { wsCollector } from "./ws_stats.ts";
 * const registry = new MetricsRegistry();
 * registry.collect(wsCollector());
 * console.log(toPrometheusText(registry.snapshot()).includes("ws_connections_open")); // true
 * ```
 */
export function wsCollector(stats: WebSocketStatsByRole = WS_STATS): MetricsCollector {
  return (): MetricFamily[] => {
    const closes = [];
    for (const role of ROLES) {
      const codes = [...stats[role].closesByCode].sort((a, b) => a[0] - b[0]);
      for (const [code, n] of codes) closes.push({ labels: { role, code: code === OTHER_CLOSE_CODE ? "other" : String(code) }, value: n });
    }
    return [
      byRole(stats, "open", "ws_connections_open", "WebSockets open now.", "gauge"),
      byRole(stats, "opened", "ws_connections_total", "WebSockets opened.", "counter"),
      byRole(stats, "messagesIn", "ws_messages_received_total", "WebSocket messages received.", "counter"),
      byRole(stats, "messagesOut", "ws_messages_sent_total", "WebSocket messages sent.", "counter"),
      byRole(stats, "bytesIn", "ws_received_bytes_total", "WebSocket frame bytes received.", "counter"),
      byRole(stats, "bytesOut", "ws_sent_bytes_total", "WebSocket frame bytes sent.", "counter"),
      { name: "ws_closes_total", help: "WebSockets ended, by close code (1006: no Close frame).", type: "counter", series: closes },
    ];
  };
}
