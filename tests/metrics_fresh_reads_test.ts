// Issue 21: request metrics are counted into a compact record per registry
// and added to its instruments when they are read. Every read of an
// instrument — not only a scrape — must see every request answered before
// it: a counter's or gauge's value, a child from labels(), a histogram's
// count, sum and quantiles, family(); and the StatsD export and the
// /metrics handler must show the same. Served by our `serve`, fetched by
// the runtime's own fetch.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { describe, test } from "node:test";
import { MetricsRegistry } from "../core/metrics.ts";
import { StatsdExporter } from "../core/statsd.ts";
import { metricsHandler, withServeMetrics } from "../http/server/metrics_handler.ts";
import { serve } from "../http/server/serve.ts";

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(line !== undefined, `no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** The request metrics' instruments of `registry`, asked for as their names and labels are declared. */
function instruments(registry: MetricsRegistry) {
  const requests = registry.counter("http_server_requests_total", { labelNames: ["class"] });
  return {
    requests,
    errors: registry.counter("http_server_handler_errors_total"),
    inFlight: registry.gauge("http_server_requests_in_flight"),
    latency: registry.histogram("http_server_request_duration_seconds"),
  };
}

describe("request metrics read directly, without a scrape", () => {
  test("serve({ metrics }): counters, children, the in-flight gauge and the latency histogram see every request answered before the read; StatsD and /metrics agree", async () => {
    const registry = new MetricsRegistry();
    const scrape = metricsHandler(registry);
    let inFlightSeen = -1;
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      metrics: registry,
      onError: () => new Response("oops", { status: 500 }),
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/metrics") return scrape(request);
        if (path === "/missing") return new Response("no", { status: 404 });
        if (path === "/throw") throw new Error("boom");
        if (path === "/in-flight") {
          // This request is in flight while its handler runs.
          inFlightSeen = registry.gauge("http_server_requests_in_flight").value;
          return new Response("seen");
        }
        return new Response("hello");
      },
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const { requests, errors, inFlight, latency } = instruments(registry);
    const ok = requests.labels("2xx");
    for (let i = 1; i <= 5; i++) {
      assert.equal(await (await fetch(`${base}/`)).text(), "hello");
      // Read right after the response, no snapshot in between.
      assert.equal(ok.value, i);
      assert.equal(requests.labels("2xx").value, i);
      assert.equal(latency.sketch.count, i);
      assert.ok(latency.sketch.sum >= 0);
      assert.ok(!Number.isNaN(latency.sketch.quantile(0.5)));
      assert.equal(inFlight.value, 0);
    }
    assert.equal((await fetch(`${base}/missing`)).status, 404);
    assert.equal(requests.labels("4xx").value, 1);
    assert.equal(latency.sketch.count, 6);
    assert.equal((await fetch(`${base}/throw`)).status, 500);
    assert.equal(errors.value, 1);
    assert.equal(inFlight.value, 0);
    assert.equal(await (await fetch(`${base}/in-flight`)).text(), "seen");
    assert.equal(inFlightSeen, 1);
    assert.equal(ok.value, 6);
    // family() of one instrument, read alone.
    const family = requests.family();
    assert.deepEqual(family.series.map((s) => [s.labels.class, (s as { value: number }).value]), [["1xx", 0], ["2xx", 6], ["3xx", 0], ["4xx", 1], ["5xx", 0]]);
    const latencyFamily = latency.family();
    assert.equal(latencyFamily.type === "histogram" ? latencyFamily.series[0]!.count : -1, 7);

    // StatsD: one snapshot's lines carry the same counts.
    const lines = new StatsdExporter().lines(registry.snapshot());
    assert.ok(lines.includes("http_server_requests_total:6|c|#class:2xx"), lines.join("\n"));
    assert.ok(lines.includes("http_server_request_duration_seconds.count:7|c"), lines.join("\n"));
    assert.ok(lines.includes("http_server_handler_errors_total:1|c"), lines.join("\n"));

    // /metrics, served by the same server: everything answered before it, and itself in flight.
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.equal(sample(text, 'http_server_requests_total{class="2xx"}'), 6);
    assert.equal(sample(text, "http_server_request_duration_seconds_count"), 7);
    assert.equal(sample(text, "http_server_requests_in_flight"), 1);
    // And once it is answered, a direct read counts it too.
    assert.equal(ok.value, 7);
    assert.equal(latency.sketch.count, 8);
  });

  test("serve({ metrics }) over HTTP/2 (h2c, node:http2 by prior knowledge): each answered stream is in the counters and the histogram at the next direct read", async () => {
    const registry = new MetricsRegistry();
    await using server = serve({ host: "127.0.0.1", port: 0, metrics: registry, fetch: () => new Response("hello") });
    const { requests, latency, inFlight } = instruments(registry);
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    session.on("error", () => {});
    try {
      for (let i = 1; i <= 5; i++) {
        const body = await new Promise<string>((resolve, reject) => {
          const req = session.request({ ":path": "/" });
          let text = "";
          req.setEncoding("utf8");
          req.on("data", (d: string) => (text += d));
          req.on("end", () => resolve(text));
          req.on("error", reject);
          req.end();
        });
        assert.equal(body, "hello");
        assert.equal(requests.labels("2xx").value, i);
        assert.equal(latency.sketch.count, i);
        assert.equal(inFlight.value, 0);
      }
    } finally {
      await new Promise<void>((resolve) => session.close(() => resolve()));
    }
  });

  test("serve's wrapping: a latency still waiting for its clock reading is in the histogram at the next read, in the same synchronous run", () => {
    const registry = new MetricsRegistry();
    const hello = new Response("hello");
    const fetch = withServeMetrics(registry, () => hello);
    const { requests, latency, inFlight } = instruments(registry);
    for (let i = 1; i <= 100; i++) {
      assert.equal(fetch(new Request("http://127.0.0.1/"), undefined), hello);
      assert.equal(latency.sketch.count, i);
      assert.equal(requests.labels("2xx").value, i);
      assert.equal(inFlight.value, 0);
    }
    assert.ok(latency.sketch.max >= 0);
  });
});
