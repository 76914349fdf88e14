// serve's limits with real clients: `protect` (per-IP connection limit at
// accept, clients bound to 127.0.0.1 and 127.0.0.2), `rateLimit` (429 with
// Retry-After after the burst, on a manual clock) and `maxConnections`
// (503 with Retry-After), with the runtime's fetch and raw sockets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { SocketError } from "../core/errors.ts";
import { adopt, type Connection } from "../poll/mod.ts";
import { ListenProtection } from "../pool/mod.ts";
import { Socket } from "../socket/socket.ts";
import fc from "fast-check";
import { rateLimit, serveProtection, withRateLimit } from "../http/server/limits_http.ts";
import type { ServeHandlerInfo } from "../http/server/h1_session.ts";
import { MetricsRegistry } from "../core/metrics.ts";
import { serverCollector, withHttpMetrics } from "../http/server/metrics_handler.ts";
import { toPrometheusText } from "../core/prometheus.ts";
import { connectWebSocket } from "../ws/client.ts";
import { serve, type ServeOptions, type Server } from "../http/server/serve.ts";

async function withServer(options: Omit<ServeOptions, "port" | "fetch">, fn: (server: Server) => Promise<void>): Promise<void> {
  const server = serve({ port: 0, fetch: () => new Response("ok"), ...options });
  try {
    await fn(server);
  } finally {
    await server.shutdown({ deadlineMs: 1000 });
  }
}

/** A raw connection from `source` (a loopback address) to 127.0.0.1:port. */
function connectFrom(source: string, port: number): Connection {
  const s = Socket.create("ipv4");
  try {
    s.bind(source, 0);
    s.connect("127.0.0.1", port);
  } catch (err) {
    s.close();
    throw err;
  }
  return adopt(s);
}

const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");

/** Sends one GET and reads the response head and body (until "ok" or the body of a 503); null when refused with a close. */
async function rawGet(conn: Connection): Promise<string | null> {
  try {
    await conn.write(REQUEST);
    let text = "";
    for (let i = 0; i < 100; i++) {
      const chunk = await conn.read();
      if (chunk === null) return text === "" ? null : text;
      text += new TextDecoder().decode(chunk);
      if (/\r\n\r\n[\s\S]*(ok|Unavailable\n)$/.test(text)) return text;
    }
    return text;
  } catch (err) {
    if (err instanceof SocketError && (err.code === "ECONNRESET" || err.code === "EPIPE")) return null;
    throw err;
  }
}

/** Waits (bounded, no timing asserted) for the server side to catch up. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("serve({ protect })", () => {
  test("a second connection from 127.0.0.2 is refused at accept while 127.0.0.1 is served", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    await withServer({ protect }, async (server) => {
      const held = connectFrom("127.0.0.2", server.addr.port);
      try {
        assert.match((await rawGet(held)) ?? "", /^HTTP\/1\.1 200/);
        const second = connectFrom("127.0.0.2", server.addr.port);
        try {
          assert.equal(await rawGet(second), null);
        } finally {
          await second.close().catch(() => {});
        }
        assert.equal(protect.stats().refusedPerIp, 1);
        const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
        assert.equal(response.status, 200);
        assert.equal(await response.text(), "ok"); // 127.0.0.1 has its own limit
        assert.equal(protect.stats().refusedPerIp, 1);
      } finally {
        await held.close();
      }
      // Once the held connection closes, 127.0.0.2 is admitted again.
      await until(() => protect.connections("127.0.0.2") === 0, "the release of 127.0.0.2");
      const again = connectFrom("127.0.0.2", server.addr.port);
      try {
        assert.match((await rawGet(again)) ?? "", /^HTTP\/1\.1 200/);
      } finally {
        await again.close();
      }
    });
  });

  test("takes the protection's options; rejects bad values", async () => {
    assert.equal(typeof serveProtection({ maxPerIp: 2 })?.admit, "function");
    assert.equal(serveProtection(undefined), undefined);
    assert.throws(() => serveProtection({ maxPerIp: 2, nope: 1 } as never), TypeError);
    assert.throws(() => serve({ port: 0, fetch: () => new Response(""), protect: 5 as never }), TypeError);
    await withServer({ protect: { maxPerIp: 1 } }, async (server) => {
      const held = connectFrom("127.0.0.2", server.addr.port);
      try {
        assert.match((await rawGet(held)) ?? "", /^HTTP\/1\.1 200/);
        const second = connectFrom("127.0.0.2", server.addr.port);
        try {
          assert.equal(await rawGet(second), null);
        } finally {
          await second.close().catch(() => {});
        }
      } finally {
        await held.close();
      }
    });
  });
});

describe("serve({ rateLimit })", () => {
  test("429 with Retry-After after the burst; served again once a token is back", async () => {
    const clock = new ManualClock();
    await withServer({ rateLimit: { perSecond: 1, burst: 2, clock } }, async (server) => {
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 3; i++) {
        const response = await fetch(url);
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get("retry-after");
        await response.arrayBuffer();
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal(retryAfter, "1");
      clock.advance(1000);
      const later = await fetch(url);
      assert.equal(later.status, 200);
      assert.equal(await later.text(), "ok");
    });
  });

  test("by: each key has its own bucket; Retry-After rounds the wait up to whole seconds", async () => {
    const clock = new ManualClock();
    const limit = rateLimit({ perSecond: 0.25, burst: 1, clock, by: (request) => request.headers.get("x-key") ?? "" });
    await withServer({ middleware: limit }, async (server) => {
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const get = async (key: string): Promise<Response> => {
        const response = await fetch(url, { headers: { "x-key": key } });
        await response.clone().arrayBuffer();
        return response;
      };
      assert.equal((await get("a")).status, 200);
      const refused = await get("a");
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get("retry-after"), "4");
      assert.equal((await get("b")).status, 200);
    });
    assert.throws(() => rateLimit({ perSecond: 1, extra: true } as never), TypeError);
    assert.throws(() => rateLimit({ perSecond: -1 }), RangeError);
  });
});

describe("withRateLimit (serve's rateLimit without a middleware chain)", () => {
  const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" } } as ServeHandlerInfo;

  test("a synchronous handler stays synchronous; 429 once the bucket is empty; onRejected counts", () => {
    const clock = new ManualClock();
    let refused = 0;
    const fetch = withRateLimit({ perSecond: 1, burst: 2, clock }, () => new Response("ok"), () => void refused++);
    const statuses = [0, 1, 2].map(() => {
      const r = fetch(new Request("http://x/"), info);
      assert.ok(r instanceof Response, "no promise in between");
      return r.status;
    });
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(refused, 1);
    clock.advance(1000);
    assert.equal((fetch(new Request("http://x/"), info) as Response).status, 200);
    assert.throws(() => withRateLimit({ perSecond: 1 }, 5 as never), TypeError);
    assert.throws(() => withRateLimit({ perSecond: 1, nope: 1 } as never, () => new Response("")), TypeError);
  });

  test("the default key is the client's address: IPv6 by its /64, IPv4 (mapped or not) exactly; a key of by's as given", async () => {
    const from = (hostname: string) => ({ remoteAddr: { hostname, port: 1, transport: "tcp" } }) as ServeHandlerInfo;
    const middleware = rateLimit({ perSecond: 1, burst: 1, clock: new ManualClock() });
    for (const limited of [
      withRateLimit({ perSecond: 1, burst: 1, clock: new ManualClock() }, () => new Response("ok")),
      (request: Request, info: ServeHandlerInfo) => middleware(request, () => Promise.resolve(new Response("ok")), info),
    ]) {
      const status = async (hostname: string) => (await limited(new Request("http://x/"), from(hostname)))!.status;
      assert.equal(await status("2001:db8:1:2::1"), 200);
      assert.equal(await status("2001:db8:1:2::2"), 429); // another address of the same /64
      assert.equal(await status("2001:db8:1:3::1"), 200);
      assert.equal(await status("2001:db8:1:2::1"), 429);
      assert.equal(await status("192.0.2.1"), 200);
      assert.equal(await status("::ffff:192.0.2.1"), 429); // the same client through a dual-stack listener
      assert.equal(await status("::ffff:192.0.2.2"), 200);
      assert.equal(await status("::1"), 200);
    }
    const byHeader = withRateLimit({ perSecond: 1, burst: 1, clock: new ManualClock(), by: (_r, i) => i.remoteAddr.hostname }, () => new Response("ok"));
    assert.equal((byHeader(new Request("http://x/"), from("2001:db8:1:2::1")) as Response).status, 200);
    assert.equal((byHeader(new Request("http://x/"), from("2001:db8:1:2::2")) as Response).status, 200); // by's keys are not grouped
  });

  test("keys are remembered least-recently-seen first, a repeated key included (model check)", () => {
    // burst 1 and a clock that never moves: a request passes exactly when its key is not remembered.
    fc.assert(fc.property(fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (keys, maxKeys) => {
      const fetch = withRateLimit({ perSecond: 1, burst: 1, maxKeys, clock: new ManualClock(), by: (r) => r.headers.get("k")! }, () => new Response("ok"));
      const remembered: string[] = [];
      for (const key of keys) {
        const status = (fetch(new Request("http://x/", { headers: { k: key } }), info) as Response).status;
        const at = remembered.indexOf(key);
        assert.equal(status, at >= 0 ? 429 : 200, `key ${key} after ${remembered.join(",")}`);
        if (at >= 0) remembered.splice(at, 1);
        else if (remembered.length >= maxKeys) remembered.shift();
        remembered.push(key);
      }
    }), { numRuns: 200 });
  });
});

describe("serve({ metrics })", () => {
  test("counts every answer by class (the rate limit's 429s included) from sync and async handlers; one address per connection", async () => {
    const registry = new MetricsRegistry();
    const clock = new ManualClock();
    const seen: ServeHandlerInfo["remoteAddr"][] = [];
    await withServer({
      metrics: registry,
      rateLimit: { perSecond: 1, burst: 3, clock },
      fetch: (request: Request, info: ServeHandlerInfo) => {
        seen.push(info.remoteAddr);
        return new URL(request.url).pathname === "/async" ? Promise.resolve(new Response("later", { status: 201 })) : new Response("ok");
      },
    } as Omit<ServeOptions, "port">, async (server) => {
      registry.collect(serverCollector({ web: server }));
      // One keep-alive connection: its address is read once and shared by its requests.
      const conn = connectFrom("127.0.0.1", server.addr.port);
      try {
        for (let i = 0; i < 2; i++) assert.match((await rawGet(conn)) ?? "", /^HTTP\/1\.1 200/);
      } finally {
        await conn.close();
      }
      const async = await fetch(`http://127.0.0.1:${server.addr.port}/async`);
      assert.equal(async.status, 201);
      await async.arrayBuffer();
      const refused = await fetch(`http://127.0.0.1:${server.addr.port}/`);
      assert.equal(refused.status, 429);
      await refused.arrayBuffer();
      assert.equal(server.rejected.rateLimit, 1);
      const text = toPrometheusText(registry.snapshot());
      const value = (series: string): number => Number(text.split("\n").find((l) => l.startsWith(series + " "))?.slice(series.length + 1));
      assert.equal(value('http_server_requests_total{class="2xx"}'), 3);
      assert.equal(value('http_server_requests_total{class="4xx"}'), 1);
      assert.equal(value("http_server_request_duration_seconds_count"), 4);
      assert.equal(value("http_server_requests_in_flight"), 0);
      assert.equal(value('http_server_rejected_total{server="web",reason="rate_limit"}'), 1);
    });
    assert.equal(seen.length, 3);
    assert.equal(seen[0], seen[1], "the same connection: one address object");
    assert.equal(seen[0]!.hostname, "127.0.0.1");
    assert.ok(seen[0]!.port > 0);
    assert.throws(() => serve({ port: 0, fetch: () => new Response(""), metrics: {} as never }), TypeError);
  });
});

describe("serve({ metrics }) on a shared registry", () => {
  test("two servers and withHttpMetrics count into the same series, scraped between requests; a direct increment adds", async () => {
    const registry = new MetricsRegistry();
    const text = (): string => toPrometheusText(registry.snapshot());
    const value = (t: string, series: string): number => Number(t.split("\n").find((l) => l.startsWith(series + " "))?.slice(series.length + 1));
    await using a = serve({ port: 0, metrics: registry, fetch: () => new Response("a") });
    await using b = serve({ port: 0, metrics: registry, fetch: () => new Response("b", { status: 302, headers: { location: "/" } }) });
    const wrapped = withHttpMetrics(registry, () => Promise.reject(new Error("handler failed")));
    const get = async (port: number): Promise<number> => {
      const response = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
      await response.arrayBuffer();
      return response.status;
    };
    assert.equal(await get(a.addr.port), 200);
    let t = text();
    assert.equal(value(t, 'http_server_requests_total{class="2xx"}'), 1);
    assert.equal(value(t, "http_server_request_duration_seconds_count"), 1);
    assert.equal(await get(b.addr.port), 302);
    assert.equal(await get(a.addr.port), 200);
    await assert.rejects(Promise.resolve(wrapped(new Request("http://x/"), undefined)), /handler failed/);
    registry.counter("http_server_requests_total", { help: "HTTP requests answered, by status class.", labelNames: ["class"] }).labels("5xx").inc(5);
    t = text();
    assert.equal(value(t, 'http_server_requests_total{class="2xx"}'), 2);
    assert.equal(value(t, 'http_server_requests_total{class="3xx"}'), 1);
    assert.equal(value(t, 'http_server_requests_total{class="5xx"}'), 5);
    assert.equal(value(t, "http_server_handler_errors_total"), 1);
    assert.equal(value(t, "http_server_request_duration_seconds_count"), 3);
    assert.equal(value(t, "http_server_requests_in_flight"), 0);
    assert.equal(text(), t, "a read adds what was counted once");
  });
});

describe("serve({ metrics, websocket })", () => {
  test("an upgraded request (fetch returns nothing) counts as 1xx; a refused one by its status", async () => {
    const registry = new MetricsRegistry();
    let closed!: () => void;
    const serverClosed = new Promise<void>((r) => (closed = r));
    await using server = serve({
      port: 0,
      metrics: registry,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: { message: (ws, message) => ws.send(message), close: () => closed() },
    });
    const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, { perMessageDeflate: false });
    ws.send("hi");
    assert.equal((await ws.recv())?.data, "hi");
    await ws.close(1000, "");
    await serverClosed;
    const plain = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(plain.status, 400);
    await plain.arrayBuffer();
    const text = toPrometheusText(registry.snapshot());
    const value = (series: string): number => Number(text.split("\n").find((l) => l.startsWith(series + " "))?.slice(series.length + 1));
    assert.equal(value('http_server_requests_total{class="1xx"}'), 1);
    assert.equal(value('http_server_requests_total{class="4xx"}'), 1);
    assert.equal(value("http_server_requests_in_flight"), 0);
  });
});

describe("serve({ maxConnections })", () => {
  test("503 with Retry-After over the limit; served again once a connection closes", async () => {
    await withServer({ maxConnections: 1 }, async (server) => {
      const held = connectFrom("127.0.0.1", server.addr.port);
      try {
        assert.match((await rawGet(held)) ?? "", /^HTTP\/1\.1 200/);
        const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
        assert.equal(response.status, 503);
        assert.equal(response.headers.get("retry-after"), "1");
        assert.equal(await response.text(), "Service Unavailable\n");
        const raw = connectFrom("127.0.0.2", server.addr.port);
        try {
          const text = (await rawGet(raw)) ?? "";
          assert.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
          assert.match(text, /\r\nretry-after: 1\r\n/);
          assert.equal(await raw.read(), null); // then the server closes
        } finally {
          await raw.close();
        }
      } finally {
        await held.close();
      }
      await until(() => server.connections === 0, "the held connection to close");
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "ok");
    });
  });
});
