// WebSocket limit and interval options given bad values (red team,
// thirteenth pass, limit edge values). Found and fixed: serve()'s
// `websocket.maxPayloadLength`, `closeTimeoutMs` and `heartbeatMs` were
// checked only when each connection's channel was made, after its `101`:
// `serve({ websocket: { maxPayloadLength: -1 } })` started, and every
// upgrade then failed with a logged RangeError; `maxBufferedBytes: NaN`
// (or -1) and `heartbeatMs: NaN` were taken without a word (a NaN bound
// never bounds the output of a peer that does not read). They are now
// checked where they are given: by serve(), by connectWebSocket() and the
// WHATWG WebSocket constructor before they dial (a TypeError for a
// non-number, a RangeError for a negative number or NaN, or Infinity for
// a time), and by the channel itself.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../http/server/serve.ts";
import { connectWebSocket } from "../ws/client.ts";
import { checkWebSocketLimit } from "../ws/channel.ts";
import { WebSocket } from "../ws/websocket.ts";

const TIMES = ["heartbeatMs", "closeTimeoutMs"] as const;
const SIZES = ["maxBufferedBytes"] as const;

function bad(name: string): Array<[unknown, typeof TypeError | typeof RangeError]> {
  const out: Array<[unknown, typeof TypeError | typeof RangeError]> = [[-1, RangeError], [NaN, RangeError], [-Infinity, RangeError], ["3", TypeError], [null, TypeError]];
  if ((TIMES as readonly string[]).includes(name)) out.push([Infinity, RangeError]);
  return out;
}

describe("WebSocket limits and intervals are checked where they are given", () => {
  test("checkWebSocketLimit: times finite and ≥ 0, sizes ≥ 0 or Infinity, undefined not checked", () => {
    for (const ok of [0, 1, 1.5, 30_000]) checkWebSocketLimit(ok, "t", true);
    for (const ok of [0, 1, Infinity]) checkWebSocketLimit(ok, "s", false);
    checkWebSocketLimit(undefined, "u", true);
    assert.throws(() => checkWebSocketLimit(Infinity, "t", true), RangeError);
    assert.throws(() => checkWebSocketLimit(NaN, "s", false), RangeError);
    assert.throws(() => checkWebSocketLimit(-0.5, "s", false), RangeError);
    assert.throws(() => checkWebSocketLimit("1", "s", false), TypeError);
  });

  test("serve({ websocket }): maxPayloadLength, heartbeatMs, closeTimeoutMs, maxBufferedBytes refused by serve()", () => {
    for (const name of ["maxPayloadLength", ...TIMES, ...SIZES]) {
      for (const [value, type] of bad(name)) {
        assert.throws(() => serve({ port: 0, fetch: () => new Response("x"), websocket: { [name]: value, message() {} } }), type, `${name}: ${String(value)}`);
      }
    }
  });

  test("connectWebSocket and new WebSocket refuse them before dialing (no connection is made)", async () => {
    let connections = 0;
    const listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(listener.address() as net.AddressInfo).port}/`;
    try {
      for (const name of ["maxPayload", ...TIMES, ...SIZES]) {
        for (const [value, type] of bad(name)) {
          await assert.rejects(connectWebSocket(url, { [name]: value }), type, `connectWebSocket ${name}: ${String(value)}`);
          assert.throws(() => new WebSocket(url, { [name]: value }), type, `WebSocket ${name}: ${String(value)}`);
        }
      }
      assert.equal(connections, 0);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  test("good values still serve: heartbeatMs 0, maxPayloadLength Infinity, an echo both ways", async () => {
    const server = serve({
      port: 0,
      fetch: (r) => (server.upgrade(r) ? undefined : new Response("no", { status: 400 })),
      websocket: { heartbeatMs: 0, maxPayloadLength: Infinity, closeTimeoutMs: 1000, maxBufferedBytes: Infinity, message: (ws, m) => void ws.send(m) },
    });
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, { heartbeatMs: 0, maxPayload: Infinity, closeTimeoutMs: 1000 });
      await ws.send("hello");
      const got = await ws.recv();
      assert.equal(got?.data, "hello");
      await ws.close();
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});
