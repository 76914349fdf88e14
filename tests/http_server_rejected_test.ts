// What serve's limits refuse is counted: 503 over maxConnections, 429 over rateLimit and
// connections the protect gate closes at accept, in server.rejected and as
// http_server_rejected_total{reason} from serverCollector (with the listener's own
// listen_refused_total from protectionCollector), in text promtool accepts. Real clients
// (node:net raw requests, the runtime's fetch) on 127.0.0.1.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import net from "node:net";
import { describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import { toPrometheusText } from "../core/prometheus.ts";
import { serverCollector } from "../http/server/metrics_handler.ts";
import { serve } from "../http/server/serve.ts";
import { ListenProtection } from "../pool/protect.ts";
import { protectionCollector } from "../pool/pool_metrics.ts";

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(line !== undefined, `no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** A raw client connection: send a request, read until the server closes or `until` matches. */
class RawClient {
  readonly socket: net.Socket;
  text = "";
  readonly closed: Promise<void>;
  readonly #waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setEncoding("latin1");
    this.socket.on("data", (d: string) => {
      this.text += d;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
  }

  get(path: string): void {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
  }

  async until(pattern: RegExp): Promise<void> {
    while (!pattern.test(this.text)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

describe("serve counts what its limits refuse", () => {
  test("429 over rateLimit and 503 over maxConnections, in server.rejected and http_server_rejected_total", async () => {
    const clock = new ManualClock(0); // never advances: no token comes back during the test
    await using server = serve({ port: 0, maxConnections: 1, rateLimit: { perSecond: 1, burst: 2, clock }, fetch: () => new Response("ok") });
    const port = server.addr.port;
    const held = new RawClient(port);
    held.get("/1");
    await held.until(/ok$/);
    held.get("/2");
    await held.until(/ok[\s\S]*ok$/);
    held.get("/3");
    await held.until(/429 Too Many Requests[\s\S]*Too Many Requests\n$/);
    assert.match(held.text, /retry-after: \d+/i);

    const over = new RawClient(port);
    over.get("/");
    await over.closed;
    assert.match(over.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(over.text, /retry-after: 1\r\n/i);

    assert.deepEqual(server.rejected, { maxConnections: 1, rateLimit: 1, protect: 0 });
    const registry = new MetricsRegistry();
    registry.collect(serverCollector({ web: server }));
    const text = toPrometheusText(registry.snapshot());
    const { status, out } = promtool(text);
    assert.equal(status, 0, `${out}\n${text}`);
    assert.equal(sample(text, 'http_server_rejected_total{server="web",reason="max_connections"}'), 1);
    assert.equal(sample(text, 'http_server_rejected_total{server="web",reason="rate_limit"}'), 1);
    assert.equal(sample(text, 'http_server_rejected_total{server="web",reason="protect"}'), 0);
    held.socket.destroy();
  });

  test("connections the protect gate refuses are counted by the server and by the listener's collector", async () => {
    const protection = new ListenProtection({ maxPerIp: 1 });
    await using server = serve({ port: 0, protect: protection, fetch: () => new Response("ok") });
    const port = server.addr.port;
    const held = new RawClient(port);
    held.get("/");
    await held.until(/ok$/);
    for (let i = 0; i < 3; i++) {
      const refused = new RawClient(port);
      await refused.closed;
      assert.equal(refused.text, "");
    }
    assert.deepEqual(server.rejected, { maxConnections: 0, rateLimit: 0, protect: 3 });
    const registry = new MetricsRegistry();
    registry.collect(serverCollector({ api: server }));
    registry.collect(protectionCollector({ api: protection }));
    const text = toPrometheusText(registry.snapshot());
    const { status, out } = promtool(text);
    assert.equal(status, 0, `${out}\n${text}`);
    assert.equal(sample(text, 'http_server_rejected_total{server="api",reason="protect"}'), 3);
    assert.equal(sample(text, 'listen_refused_total{listener="api",reason="per_ip"}'), 3);
    held.socket.destroy();
    await held.closed;
  });
});
