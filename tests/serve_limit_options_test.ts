// serve()'s request size limits given bad values (red team, thirteenth
// pass, rate and limit edge values). Found and fixed: `maxBodyBytes`,
// `maxHeaderBytes` and `maxHeaderCount` were handed to each connection's
// HTTP/1.1 parser unchecked, and the parser's RangeError came when the
// first client connected, thrown out of the event loop: `serve({
// maxBodyBytes: -1 })` (or NaN, 1.5, "3", null) started, and its first
// connection ended the process. They are now checked when serve() is
// called, as maxConnections and the timeouts are: a TypeError for a
// non-number, a RangeError for anything but a non-negative integer or
// Infinity.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../http/server/mod.ts";
import { rawExchangeText } from "./raw_exchange.ts";

const OPTIONS = ["maxBodyBytes", "maxHeaderBytes", "maxHeaderCount"] as const;

describe("serve: maxBodyBytes, maxHeaderBytes and maxHeaderCount are checked when the server is made", () => {
  for (const name of OPTIONS) {
    test(`${name}: bad values refused by serve()`, () => {
      for (const bad of [-1, NaN, 1.5, -Infinity]) {
        assert.throws(() => serve({ port: 0, fetch: () => new Response("x"), [name]: bad }), RangeError, `${name}: ${bad}`);
      }
      for (const bad of ["3", null, {}, 10n]) {
        assert.throws(() => serve({ port: 0, fetch: () => new Response("x"), [name]: bad as unknown as number }), TypeError, `${name}: ${String(bad)}`);
      }
    });
  }

  test("Infinity and 0 are limits the parser takes: the server serves (or answers with its limit)", async () => {
    const open = serve({ port: 0, http2: false, maxBodyBytes: Infinity, maxHeaderBytes: Infinity, maxHeaderCount: Infinity, fetch: async (r) => new Response(`got ${(await r.text()).length}`) });
    try {
      const raw = await rawExchangeText(open.addr.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
      assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[\s\S]*got 5$/);
    } finally {
      await open.shutdown({ deadlineMs: 200 });
    }
    const none = serve({ port: 0, http2: false, maxBodyBytes: 0, fetch: async (r) => new Response(`got ${(await r.text()).length}`) });
    try {
      const raw = await rawExchangeText(none.addr.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
      assert.match(raw, /^HTTP\/1\.1 413 /);
    } finally {
      await none.shutdown({ deadlineMs: 200 });
    }
  });
});
