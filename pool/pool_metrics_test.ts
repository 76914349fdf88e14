import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { MetricsRegistry } from "../core/metrics.ts";
import { toPrometheusText } from "../core/prometheus.ts";
import { ConnectionPool, type PoolMember } from "./pool.ts";
import { connect, listen } from "../poll/listener.ts";
import { poolCollector, protectionCollector } from "./pool_metrics.ts";
import { ListenProtection } from "./protect.ts";

/** The pool's own member shape, in memory. */
class Member implements PoolMember {
  closed = false;
  close(): void {
    this.closed = true;
  }
  abort(): void {
    this.closed = true;
  }
}

describe("poolCollector", () => {
  test("reports each pool's statistics as counters and gauges that promtool accepts", () => {
    const a = new ConnectionPool<Member>({ cleanupIntervalMs: 0 });
    const b = new ConnectionPool<Member>({ cleanupIntervalMs: 0 });
    const m = new Member();
    a.add(m, "h:1");
    a.add(new Member(), "h:1");
    const registry = new MetricsRegistry();
    registry.collect(poolCollector({ a, b }));
    const text = toPrometheusText(registry.snapshot());
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}\n${text}`);
    assert.match(text, /^pool_connections_added_total\{pool="a"\} 2$/m);
    assert.match(text, /^pool_connections_added_total\{pool="b"\} 0$/m);
    const active = a.stats().active;
    assert.match(text, new RegExp(`^pool_connections_active\\{pool="a"\\} ${active}$`, "m"));
  });
});

describe("protectionCollector", () => {
  test("a connection refused for its IP shows as listen_refused_total{reason=\"per_ip\"} over a real listener", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    await using server = listen({ host: "127.0.0.1", port: 0, protect, handler: { data: (c, d) => void c.write(d.slice()) } });
    const first = await connect({ host: "127.0.0.1", port: server.port });
    await first.write(new Uint8Array([1]));
    await first.read(); // echoed: admitted
    const refused = await connect({ host: "127.0.0.1", port: server.port })
      .then((second) => second.read().finally(() => second.close()))
      .catch(() => null);
    assert.equal(refused, null);
    const registry = new MetricsRegistry();
    registry.collect(protectionCollector({ api: protect }));
    const text = toPrometheusText(registry.snapshot());
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}\n${text}`);
    assert.match(text, /^listen_admitted_total\{listener="api"\} 1$/m);
    assert.match(text, /^listen_refused_total\{listener="api",reason="per_ip"\} 1$/m);
    assert.match(text, /^listen_freed_early_total\{listener="api"\} 0$/m); // the held connection is open
    await first.close();
  });
});
