import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MetricsRegistry } from "../core/metrics.ts";
import { StatsdClient } from "../poll/statsd_client.ts";
import { bindUDP, type UdpSocket } from "../poll/udp.ts";

const text = (d: Uint8Array) => new TextDecoder().decode(d);

async function receiveLines(server: UdpSocket, count: number): Promise<{ lines: string[]; sizes: number[] }> {
  const lines: string[] = [];
  const sizes: number[] = [];
  while (lines.length < count) {
    const d = await server.recv({ signal: AbortSignal.timeout(5000) });
    assert.ok(d !== null);
    sizes.push(d.data.length);
    lines.push(...text(d.data).split("\n"));
  }
  return { lines, sizes };
}

describe("StatsdClient over UDP", () => {
  test("counters, gauges, timings and histograms with sample rates and tags arrive at a UDP listener", async () => {
    using server = bindUDP({ host: "127.0.0.1" });
    let draws = 0;
    const statsd = new StatsdClient({
      host: "127.0.0.1",
      port: server.port,
      prefix: "app.",
      flushIntervalMs: 0,
      tags: { env: "test" },
      random: () => (draws++ % 2 === 0 ? 0.05 : 0.95), // every other sampled event is kept
    });
    statsd.increment("hits");
    statsd.increment("sampled", 1, { sampleRate: 0.1 }); // kept (0.05 < 0.1)
    statsd.increment("sampled", 1, { sampleRate: 0.1 }); // dropped (0.95 >= 0.1)
    statsd.gauge("temp", -3);
    statsd.timing("lat", 12.5, { tags: { route: "/" } });
    statsd.histogram("size", 512);
    await statsd.flush();
    const { lines } = await receiveLines(server, 6);
    assert.deepEqual(lines, [
      "app.hits:1|c|#env:test",
      "app.sampled:1|c|@0.1|#env:test",
      "app.temp:0|g|#env:test",
      "app.temp:-3|g|#env:test",
      "app.lat:12.5|ms|#env:test,route:/",
      "app.size:512|h|#env:test",
    ]);
    assert.equal(statsd.sent, 1);
    await statsd.close();
    statsd.increment("after_close"); // ignored, never throws
  });

  test("lines are batched into datagrams of at most the MTU", async () => {
    using server = bindUDP({ host: "::1" });
    const statsd = new StatsdClient({ host: "::1", port: server.port, mtu: 200, flushIntervalMs: 0 });
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      statsd.increment(`metric_number_${i}`, i);
      expected.push(`metric_number_${i}:${i}|c`);
    }
    await statsd.flush();
    const { lines, sizes } = await receiveLines(server, 50);
    assert.deepEqual(lines, expected);
    assert.ok(sizes.length >= 50 * 20 / 200, `${sizes.length} datagrams`);
    for (const s of sizes) assert.ok(s <= 200, `${s} bytes`);
    await statsd.close();
  });

  test("a registry is pushed at each flush: counters as increases", async () => {
    using server = bindUDP({ host: "127.0.0.1" });
    const registry = new MetricsRegistry();
    const c = registry.counter("jobs_total");
    const statsd = new StatsdClient({ host: "127.0.0.1", port: server.port, registry, flushIntervalMs: 0 });
    c.inc(5);
    await statsd.flush();
    c.inc(2);
    await statsd.flush();
    const { lines } = await receiveLines(server, 2);
    assert.deepEqual(lines, ["jobs_total:5|c", "jobs_total:2|c"]);
    await statsd.close();
  });

  test("the periodic flush sends without being asked", async () => {
    using server = bindUDP({ host: "127.0.0.1" });
    const statsd = new StatsdClient({ host: "127.0.0.1", port: server.port, flushIntervalMs: 5 });
    statsd.increment("tick");
    const { lines } = await receiveLines(server, 1);
    assert.deepEqual(lines, ["tick:1|c"]);
    await statsd.close();
  });

  test("a failing send, an onError that throws and a registry collector that throws: flush and close resolve, each failure counted", async () => {
    const seen: string[] = [];
    const registry = new MetricsRegistry();
    registry.collect(() => {
      throw new Error("collector failed");
    });
    // 255.255.255.255 without SO_BROADCAST: every send fails (EACCES).
    const statsd = new StatsdClient({
      host: "255.255.255.255",
      port: 8125,
      flushIntervalMs: 0,
      registry,
      onError: (error) => {
        seen.push(error instanceof Error ? (error as Error & { code?: string }).code ?? error.message : String(error));
        throw new Error("onError failed");
      },
    });
    statsd.increment("x");
    await statsd.flush(); // the periodic flush runs this very promise with no one to catch it
    assert.deepEqual(seen, ["collector failed", "EACCES"]);
    assert.equal(statsd.errors, 2);
    statsd.increment("y");
    await statsd.close();
    assert.equal(statsd.errors, 4);
    statsd.increment("z"); // after close: nothing, no throw
    await statsd.flush();
    assert.equal(statsd.errors, 4);
  });

  test("bad options are typed errors", () => {
    assert.throws(() => new StatsdClient({ host: "localhost", port: 8125 }), TypeError);
    assert.throws(() => new StatsdClient({ host: "127.0.0.1", port: 70000 }), RangeError);
    assert.throws(() => new StatsdClient({ host: "127.0.0.1", port: 8125, mtu: 1 }), RangeError);
    assert.throws(() => new StatsdClient({ host: "127.0.0.1", port: 8125, flushIntervalMs: -1 }), RangeError);
    assert.throws(() => new StatsdClient({ host: "127.0.0.1", port: 8125, mtuu: 1 } as never), /unknown option "mtuu"/);
  });
});
