// Built-in metrics over real peers: /metrics served by our `serve` and
// fetched by the runtime's fetch (checked by promtool), request metrics,
// loop, server, TLS handshake and DNS cache collectors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { MetricsRegistry } from "../core/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../core/prometheus.ts";
import { DNSCache } from "../dns/cache.ts";
import { dnsCollector } from "../dns/dns_metrics.ts";
import { httpMetrics, metricsHandler, serverCollector, withHttpMetrics } from "../http/server/metrics_handler.ts";
import { serve } from "../http/server/serve.ts";
import { connect, listen } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";
import { listenerCollector, loopCollector } from "../poll/loop_metrics.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { TLS_STATS, tlsCollector } from "../tls/tls_stats.ts";
import { testPKI } from "./tls_pki.ts";

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(line !== undefined, `no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe("/metrics over serve", () => {
  test("the runtime's fetch scrapes Prometheus text that promtool accepts, with request, loop and server metrics", async () => {
    const registry = new MetricsRegistry();
    const scrape = metricsHandler(registry);
    const app = (request: Request): Response | Promise<Response> => {
      const path = new URL(request.url).pathname;
      if (path === "/metrics") return scrape(request);
      if (path === "/missing") return new Response("no", { status: 404 });
      if (path === "/slow") return new Promise((resolve) => setTimeout(() => resolve(new Response("late")), 2));
      if (path === "/throw") throw new Error("boom");
      return new Response("hello");
    };
    await using server = serve({ host: "127.0.0.1", port: 0, fetch: withHttpMetrics(registry, app), onError: () => new Response("oops", { status: 500 }) });
    registry.collect(loopCollector({ default: defaultLoop() }));
    registry.collect(serverCollector({ web: server }));
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (let i = 0; i < 5; i++) assert.equal(await (await fetch(`${base}/`)).text(), "hello");
    assert.equal((await fetch(`${base}/missing`)).status, 404);
    assert.equal(await (await fetch(`${base}/slow`)).text(), "late");
    assert.equal((await fetch(`${base}/throw`)).status, 500);

    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    const text = await response.text();
    const { status, out } = promtool(text);
    assert.equal(status, 0, `${out}\n${text}`);
    assert.equal(sample(text, 'http_server_requests_total{class="2xx"}'), 6);
    assert.equal(sample(text, 'http_server_requests_total{class="4xx"}'), 1);
    assert.equal(sample(text, "http_server_handler_errors_total"), 1);
    assert.equal(sample(text, "http_server_request_duration_seconds_count"), 7);
    assert.equal(sample(text, "http_server_requests_in_flight"), 1); // the scrape itself
    assert.ok(sample(text, 'loop_events_total{loop="default"}') > 0);
    assert.ok(sample(text, 'http_server_connections{server="web"}') >= 1);
    // Quantiles are ordered (no assertion on how long a request took: timers may fire early).
    assert.ok(sample(text, 'http_server_request_duration_seconds{quantile="0.999"}') >= sample(text, 'http_server_request_duration_seconds{quantile="0.5"}'));

    const json = await (await fetch(`${base}/metrics?format=json`)).json() as { metrics: { name: string }[] };
    assert.ok(json.metrics.some((m) => m.name === "http_server_request_duration_seconds"));
    const viaAccept = await fetch(`${base}/metrics`, { headers: { accept: "application/json" } });
    assert.equal(viaAccept.headers.get("content-type"), "application/json");
    await viaAccept.body?.cancel();
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  test("httpMetrics as a middleware counts the chain's answers and rejections", async () => {
    const registry = new MetricsRegistry();
    const measure = httpMetrics(registry);
    const req = new Request("http://localhost/");
    assert.equal((await measure(req, () => Promise.resolve(new Response(null, { status: 302 })))).status, 302);
    await assert.rejects(measure(req, () => Promise.reject(new Error("x"))), /x/);
    const text = (await metricsHandler(registry)(req).text());
    assert.equal(sample(text, 'http_server_requests_total{class="3xx"}'), 1);
    assert.equal(sample(text, "http_server_handler_errors_total"), 1);
    assert.equal(sample(text, "http_server_requests_in_flight"), 0);
    assert.throws(() => metricsHandler(registry, { jsn: true } as never), /unknown option "jsn"/);
  });

  test("a handler result that is not a Response: serve answers and reports it the same with metrics as without, and counts a handler error", async () => {
    const seen: Array<{ metrics: boolean; path: string; status: number; error: string }> = [];
    for (const metrics of [false, true]) {
      const registry = new MetricsRegistry();
      let error = "";
      const server = serve({
        port: 0,
        ...(metrics ? { metrics: registry } : {}),
        onError: (e) => {
          error = e instanceof Error ? e.message : String(e);
          return new Response("failed", { status: 500 });
        },
        fetch: (request) => {
          const path = new URL(request.url).pathname;
          const wrong = (path === "/null" ? null : "text") as unknown as Response;
          return path === "/later" ? Promise.resolve(wrong) : wrong;
        },
      });
      try {
        for (const path of ["/now", "/null", "/later"]) {
          const response = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
          await response.arrayBuffer();
          seen.push({ metrics, path, status: response.status, error });
        }
      } finally {
        await server.shutdown({ deadlineMs: 1000 });
      }
      if (metrics) {
        const text = await metricsHandler(registry)(new Request("http://localhost/metrics")).text();
        assert.equal(sample(text, "http_server_handler_errors_total"), 3);
        assert.equal(sample(text, "http_server_requests_in_flight"), 0);
      }
    }
    const plain = seen.filter((s) => !s.metrics).map(({ path, status, error }) => ({ path, status, error }));
    const measured = seen.filter((s) => s.metrics).map(({ path, status, error }) => ({ path, status, error }));
    assert.deepEqual(measured, plain);
    assert.ok(plain.every((s) => s.status === 500 && /must return a Response/.test(s.error)), JSON.stringify(plain));
  });
});

describe("collectors", () => {
  test("TLS handshakes, resumptions and failures are counted by the engine", async () => {
    const pki = testPKI();
    const echo = { data: (conn: { write(b: Uint8Array): unknown }, bytes: Uint8Array) => void conn.write(bytes.slice()) };
    await using good = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: echo as never });
    const before = { ...TLS_STATS };
    const conn = await connectTLS({ host: "localhost", port: good.port, ca: pki.root });
    await conn.close();
    // Trusting an unrelated CA: OpenSSL's certificate verification fails the handshake.
    await assert.rejects(connectTLS({ host: "localhost", port: good.port, ca: pki.selfSigned }));
    assert.equal(TLS_STATS.clientHandshakes - before.clientHandshakes, 1);
    assert.ok(TLS_STATS.failures - before.failures >= 1);
    // The server side of the good handshake completes on the same loop (bounded wait, no timing asserted).
    for (let i = 0; i < 200 && TLS_STATS.serverHandshakes === before.serverHandshakes; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(TLS_STATS.serverHandshakes - before.serverHandshakes, 1);
    const registry = new MetricsRegistry();
    using ctx = new TLSContext({ role: "server", cert: pki.chain, key: pki.key });
    registry.collect(tlsCollector({ api: ctx }));
    const text = await metricsHandler(registry)(new Request("http://x/metrics")).text();
    assert.equal(promtool(text).status, 0, text);
    assert.equal(sample(text, 'tls_handshakes_total{role="client"}'), TLS_STATS.clientHandshakes);
    assert.equal(sample(text, 'tls_session_cache_hits_total{context="api"}'), 0);
  });

  test("DNS cache hits and misses, and listener gauges", async () => {
    const cache = new DNSCache();
    cache.get("a.test", 1);
    cache.setRecords("a.test", 1, [{ name: "a.test", type: 1, class: 1, ttl: 60, data: { kind: "A", address: "10.0.0.1" } }]);
    cache.get("a.test", 1);
    cache.get("A.TEST.", 1);
    await using listener = listen({ host: "127.0.0.1", port: 0 });
    const client = await connect({ host: "127.0.0.1", port: listener.port });
    const accepted = await listener.accept();
    const registry = new MetricsRegistry();
    registry.collect(dnsCollector({ local: cache }));
    registry.collect(listenerCollector({ api: listener }));
    const text = await metricsHandler(registry)(new Request("http://x/metrics")).text();
    assert.equal(promtool(text).status, 0, text);
    assert.equal(sample(text, 'dns_cache_hits_total{resolver="local"}'), 2);
    assert.equal(sample(text, 'dns_cache_misses_total{resolver="local"}'), 1);
    assert.equal(sample(text, 'dns_cache_entries{resolver="local"}'), 1);
    assert.equal(sample(text, 'listener_pending_connections{listener="api"}'), 0);
    assert.equal(sample(text, 'listener_accepted_total{listener="api"}'), 1);
    await accepted?.close();
    await client.close();
  });
});
