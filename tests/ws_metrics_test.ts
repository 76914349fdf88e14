// WebSocket metrics (ws/ws_stats.ts): a server and a client of ffinet
// exchange messages and close with a code; the registry's Prometheus text
// passes `promtool check metrics` and counts them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { MetricsRegistry } from "../core/metrics.ts";
import { toPrometheusText } from "../core/prometheus.ts";
import { serve } from "../http/server/serve.ts";
import { connectWebSocket } from "../ws/client.ts";
import { countClose, MAX_APP_CLOSE_CODES, WS_STATS, type WebSocketRoleStats, wsCollector } from "../ws/ws_stats.ts";

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  if (line === undefined) return 0;
  return Number(line.slice(series.length + 1));
}

describe("WebSocket metrics", () => {
  test("connections, messages, bytes and closes by code, accepted by promtool", async () => {
    // The counters are process-wide, and Bun and Deno run every test file in
    // one process: let WebSockets of earlier files finish closing first
    // (bounded), so only this test's traffic moves the counts.
    for (let turn = 0; turn < 200 && (WS_STATS.server.open > 0 || WS_STATS.client.open > 0); turn++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const registry = new MetricsRegistry();
    registry.collect(wsCollector());
    const before = toPrometheusText(registry.snapshot());
    let serverClosed!: (code: number) => void;
    const serverClose = new Promise<number>((r) => (serverClosed = r));
    let opened!: () => void;
    const serverOpen = new Promise<void>((r) => (opened = r));
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        open: () => opened(),
        message: (ws, message) => ws.send(message),
        close: (_ws, code) => serverClosed(code),
      },
    });
    const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, { perMessageDeflate: false });
    await serverOpen;
    const during = toPrometheusText(registry.snapshot());
    assert.equal(sample(during, 'ws_connections_open{role="server"}') - sample(before, 'ws_connections_open{role="server"}'), 1);
    assert.equal(sample(during, 'ws_connections_open{role="client"}') - sample(before, 'ws_connections_open{role="client"}'), 1);
    for (let i = 0; i < 3; i++) {
      ws.send("hello"); // 5 bytes: a 2-byte header from the server, 6 (masked) from the client
      assert.equal((await ws.recv())?.data, "hello");
    }
    ws.send(new Uint8Array(200)); // 200 bytes: 4-byte header, +4 mask from the client
    assert.equal(((await ws.recv())?.data as Uint8Array).length, 200);
    assert.equal((await ws.close(4001, "bye")).code, 4001);
    assert.equal(await serverClose, 4001);
    const text = toPrometheusText(registry.snapshot());
    const { status, out } = promtool(text);
    assert.equal(status, 0, `${out}\n${text}`);
    const delta = (series: string) => sample(text, series) - sample(before, series);
    for (const role of ["server", "client"]) {
      assert.equal(delta(`ws_connections_open{role="${role}"}`), 0, role);
      assert.equal(delta(`ws_connections_total{role="${role}"}`), 1, role);
      assert.equal(delta(`ws_messages_received_total{role="${role}"}`), 4, role);
      assert.equal(delta(`ws_messages_sent_total{role="${role}"}`), 4, role);
      assert.equal(delta(`ws_closes_total{role="${role}",code="4001"}`), 1, role);
    }
    // Frame bytes: client frames are masked (4 more bytes each); our Close carries the code and "bye".
    const clientOut = 3 * (2 + 4 + 5) + (4 + 4 + 200) + (2 + 4 + 2 + 3);
    const serverOut = 3 * (2 + 5) + (4 + 200) + (2 + 2); // the echoed Close carries the code only
    assert.equal(delta('ws_sent_bytes_total{role="client"}'), clientOut);
    assert.equal(delta('ws_received_bytes_total{role="server"}'), clientOut);
    assert.equal(delta('ws_sent_bytes_total{role="server"}'), serverOut);
    assert.equal(delta('ws_received_bytes_total{role="client"}'), serverOut);
    assert.equal(WS_STATS.server.open, WS_STATS.server.opened - WS_STATS.server.closed);
  });

  test("close codes the peer picks (3000–4999) make at most MAX_APP_CLOSE_CODES series per role, then code=\"other\"; protocol codes always their own", () => {
    const fresh = (): WebSocketRoleStats => ({ open: 0, opened: 0, closed: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, closesByCode: new Map() });
    const stats = { server: fresh(), client: fresh() };
    // A client cycling through 2,000 application codes, twice.
    for (let round = 0; round < 2; round++) {
      for (let code = 3000; code < 5000; code++) {
        stats.server.opened++;
        stats.server.open++;
        countClose(stats.server, code);
      }
    }
    stats.server.open++;
    countClose(stats.server, 1006);
    const registry = new MetricsRegistry();
    registry.collect(wsCollector(stats));
    const text = toPrometheusText(registry.snapshot());
    const closes = text.split("\n").filter((l) => l.startsWith("ws_closes_total{"));
    assert.equal(closes.length, MAX_APP_CLOSE_CODES + 2, closes.slice(-3).join("\n"));
    assert.equal(sample(text, 'ws_closes_total{role="server",code="3000"}'), 2);
    assert.equal(sample(text, `ws_closes_total{role="server",code="${3000 + MAX_APP_CLOSE_CODES - 1}"}`), 2);
    assert.equal(sample(text, 'ws_closes_total{role="server",code="other"}'), 2 * (2000 - MAX_APP_CLOSE_CODES));
    assert.equal(sample(text, 'ws_closes_total{role="server",code="1006"}'), 1);
    assert.equal(stats.server.closed, 4001);
    const { status, out } = promtool(text);
    assert.equal(status, 0, out);
  });
});
