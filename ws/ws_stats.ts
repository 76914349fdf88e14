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
export const WS_STATS: { readonly server: WebSocketRoleStats; readonly client: WebSocketRoleStats } = {
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
  stats.closesByCode.set(code, (stats.closesByCode.get(code) ?? 0) + 1);
}

const ROLES = ["server", "client"] as const;

function byRole(key: "open" | "opened" | "messagesIn" | "messagesOut" | "bytesIn" | "bytesOut", name: string, help: string, type: "counter" | "gauge"): MetricFamily {
  return { name, help, type, series: ROLES.map((role) => ({ labels: { role }, value: WS_STATS[role][key] })) };
}

/**
 * A collector of {@link WS_STATS}, labelled `role` (`server`, `client`):
 * `ws_connections_open` (gauge), `ws_connections_total`,
 * `ws_messages_received_total`, `ws_messages_sent_total`,
 * `ws_received_bytes_total`, `ws_sent_bytes_total` (frame bytes on the wire), and
 * `ws_closes_total` labelled `role` and `code`.
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
export function wsCollector(): MetricsCollector {
  return (): MetricFamily[] => {
    const closes = [];
    for (const role of ROLES) {
      const codes = [...WS_STATS[role].closesByCode].sort((a, b) => a[0] - b[0]);
      for (const [code, n] of codes) closes.push({ labels: { role, code: String(code) }, value: n });
    }
    return [
      byRole("open", "ws_connections_open", "WebSockets open now.", "gauge"),
      byRole("opened", "ws_connections_total", "WebSockets opened.", "counter"),
      byRole("messagesIn", "ws_messages_received_total", "WebSocket messages received.", "counter"),
      byRole("messagesOut", "ws_messages_sent_total", "WebSocket messages sent.", "counter"),
      byRole("bytesIn", "ws_received_bytes_total", "WebSocket frame bytes received.", "counter"),
      byRole("bytesOut", "ws_sent_bytes_total", "WebSocket frame bytes sent.", "counter"),
      { name: "ws_closes_total", help: "WebSockets ended, by close code (1006: no Close frame).", type: "counter", series: closes },
    ];
  };
}
