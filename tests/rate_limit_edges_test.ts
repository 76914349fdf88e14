// Rate limits at their edge values (red team, thirteenth pass). Found and
// fixed: `serve({ rateLimit: { perSecond: 0.5 } })` (one request every two
// seconds) refused every request for good, and so did
// `ListenProtection({ ratePerIp: { perSecond: 0.5 } })` every connection:
// the burst defaulted to `perSecond`, and a bucket of half a token never
// holds the one token a request takes, however long the client waits. The
// burst of a limit counting whole events now defaults to `perSecond` but at
// least 1, and a `burst` under 1 is a RangeError; 0, negative, NaN and
// infinite rates keep their errors (Infinity: no limit).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../core/clock.ts";
import { eventBurst, TokenBucket } from "../core/rate_limit.ts";
import { rateLimit, withRateLimit } from "../http/server/limits_http.ts";
import type { ServeHandlerInfo } from "../http/server/mod.ts";
import { serve } from "../http/server/mod.ts";
import { connect, listen, type Connection } from "../poll/mod.ts";
import { ListenProtection } from "../pool/mod.ts";

describe("eventBurst: the burst of a limit that counts whole events", () => {
  test("defaults to perSecond, at least 1; a burst under 1 or a bad rate is refused", () => {
    assert.equal(eventBurst(0.5, undefined, "x"), 1);
    assert.equal(eventBurst(1e-6, undefined, "x"), 1);
    assert.equal(eventBurst(10, undefined, "x"), 10);
    assert.equal(eventBurst(10, 1, "x"), 1);
    assert.equal(eventBurst(0.5, 3, "x"), 3);
    assert.equal(eventBurst(Infinity, undefined, "x"), Infinity);
    for (const burst of [0.5, 0.999, 0, -1, NaN]) assert.throws(() => eventBurst(2, burst, "x"), RangeError, String(burst));
    for (const rate of [0, -1, NaN, -Infinity]) assert.throws(() => eventBurst(rate, undefined, "x"), RangeError, String(rate));
    assert.throws(() => eventBurst(2, Infinity, "x"), RangeError); // an endless burst under a finite rate
    assert.throws(() => eventBurst("2" as unknown as number, undefined, "x"), TypeError);
    assert.throws(() => eventBurst(2, "3" as unknown as number, "x"), TypeError);
  });

  test("a TokenBucket itself still takes a fractional burst (bytes, not events)", () => {
    const bucket = new TokenBucket({ rate: 0.5, clock: new ManualClock() });
    assert.equal(bucket.burst, 0.5);
    assert.equal(bucket.waitTimeMs(1), Infinity);
  });
});

describe("serve({ rateLimit }) and rateLimit() below one request a second", () => {
  test("perSecond 0.5: one request, a 429, then one more after two seconds", async () => {
    const clock = new ManualClock();
    const server = serve({ port: 0, http2: false, rateLimit: { perSecond: 0.5, clock }, fetch: () => new Response("ok") });
    try {
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const status = async (): Promise<[number, string | null]> => {
        const response = await fetch(url);
        await response.arrayBuffer();
        return [response.status, response.headers.get("retry-after")];
      };
      assert.deepEqual(await status(), [200, null]);
      assert.deepEqual(await status(), [429, "2"]);
      clock.advance(1000);
      assert.deepEqual(await status(), [429, "1"]);
      clock.advance(1000);
      assert.deepEqual(await status(), [200, null]);
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });

  test("the middleware and withRateLimit alike; burst under 1 and bad rates refused when made", async () => {
    const info = { remoteAddr: { hostname: "127.0.0.1", port: 1, transport: "tcp" } } as ServeHandlerInfo;
    const clock = new ManualClock();
    const limited = withRateLimit({ perSecond: 0.1, clock }, () => new Response("ok"));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await limited(new Request("http://a/"), info)).status);
      clock.advance(5000);
    }
    assert.deepEqual(statuses, [200, 429, 200]);
    const middleware = rateLimit({ perSecond: 0.2, clock });
    assert.equal((await middleware(new Request("http://a/"), () => Promise.resolve(new Response("ok")), info)).status, 200);
    assert.equal((await middleware(new Request("http://a/"), () => Promise.resolve(new Response("ok")), info)).status, 429);
    for (const bad of [{ perSecond: 2, burst: 0.5 }, { perSecond: 0 }, { perSecond: NaN }, { perSecond: -1 }, { perSecond: 1, burst: Infinity }]) {
      assert.throws(() => rateLimit(bad), RangeError, JSON.stringify(bad));
      assert.throws(() => withRateLimit(bad, () => new Response("ok")), RangeError, JSON.stringify(bad));
      assert.throws(() => serve({ port: 0, rateLimit: bad, fetch: () => new Response("ok") }), RangeError, JSON.stringify(bad));
    }
    // Infinity: no limit.
    const open = withRateLimit({ perSecond: Infinity }, () => new Response("ok"));
    for (let i = 0; i < 100; i++) assert.equal((await open(new Request("http://a/"), info)).status, 200);
  });
});

describe("ListenProtection({ ratePerIp }) below one connection a second", () => {
  /** Whether a connection to `port` gets its byte echoed (false: refused or closed). */
  async function echoes(port: number): Promise<boolean> {
    let conn: Connection | undefined;
    try {
      conn = await connect({ port });
      await conn.send(new Uint8Array([7]));
      const got = await conn.read();
      return got !== null && got.length === 1;
    } catch {
      return false;
    } finally {
      await conn?.close().catch(() => {});
    }
  }

  test("perSecond 0.5: one connection, a refusal, then one more after two seconds", async () => {
    const clock = new ManualClock();
    const protect = new ListenProtection({ ratePerIp: { perSecond: 0.5 }, clock });
    const server = listen({ host: "127.0.0.1", port: 0, protect, handler: { data: (c, d) => void c.send(d) } });
    try {
      assert.equal(await echoes(server.port), true);
      assert.equal(await echoes(server.port), false);
      clock.advance(2000);
      assert.equal(await echoes(server.port), true);
      assert.equal(protect.stats().refusedRate, 1);
    } finally {
      server.close();
    }
    assert.throws(() => new ListenProtection({ ratePerIp: { perSecond: 2, burst: 0.5 } }), RangeError);
    assert.throws(() => new ListenProtection({ ratePerIp: { perSecond: NaN } }), RangeError);
    assert.throws(() => new ListenProtection({ ratePerIp: { perSecond: 0 } }), RangeError);
  });
});
