// A `connector` of your own for https: origins: the Pool asks the TLS
// connection it returns which protocol ALPN negotiated and speaks HTTP/2 on
// it when that is h2 (one connection for every request), HTTP/1.1
// otherwise; with `http2: false` an h2 connection is a typed PoolError.
// Against a node:http2 secure server that also speaks HTTP/1.1.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { PoolError } from "../core/errors.ts";
import { type Connector } from "../poll/connector.ts";
import { tlsConnector } from "../tls/connect_async.ts";
import { Agent } from "../http/client/agent.ts";
import { fetch } from "../http/client/fetch.ts";
import { Pool } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";
import { testPKI } from "./tls_pki.ts";

describe("https: through a connector of your own", () => {
  const pki = testPKI();
  let server: http2.Http2SecureServer;
  let base = "";
  /** Connections the server accepted, and the HTTP version of each request it answered. */
  const seen = { connections: 0, versions: [] as string[] };

  before(async () => {
    server = http2.createSecureServer({ key: pki.key, cert: pki.chain, allowHTTP1: true }, (req, res) => {
      seen.versions.push(req.httpVersion);
      res.end(`v${req.httpVersion} ${req.url}`);
    });
    server.on("secureConnection", () => seen.connections++);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `https://localhost:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  test("a connector offering h2 by ALPN: HTTP/2, every request on one connection", async () => {
    let connects = 0;
    const inner = tlsConnector({ ca: pki.root, alpn: ["h2", "http/1.1"] });
    const connector: Connector = (options) => {
      connects++;
      return inner(options);
    };
    const pool = new Pool(base, { connector });
    const before = seen.connections;
    try {
      const bodies = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const r = await request(`${base}/r${i}`, { dispatcher: pool });
        return await r.body.text();
      }));
      assert.deepEqual(bodies, Array.from({ length: 20 }, (_, i) => `v2.0 /r${i}`));
      assert.equal(pool.protocol, "h2");
      assert.equal(connects, 1);
      assert.equal(seen.connections - before, 1);
      const f = await fetch(`${base}/f`, { dispatcher: pool });
      assert.equal(await f.text(), "v2.0 /f");
      assert.equal(typeof await pool.ping(), "number");
    } finally {
      await pool.close();
    }
  });

  test("through an Agent's connector too", async () => {
    const agent = new Agent({ connector: tlsConnector({ ca: pki.root, alpn: ["h2", "http/1.1"] }) });
    try {
      const r = await request(`${base}/agent`, { dispatcher: agent });
      assert.equal(await r.body.text(), "v2.0 /agent");
    } finally {
      await agent.close();
    }
  });

  test("a connector that offers only http/1.1 (or no ALPN): HTTP/1.1", async () => {
    for (const alpn of [["http/1.1"], undefined]) {
      const pool = new Pool(base, { connector: tlsConnector(alpn === undefined ? { ca: pki.root } : { ca: pki.root, alpn }) });
      try {
        const r = await request(`${base}/one`, { dispatcher: pool });
        assert.equal(await r.body.text(), "v1.1 /one");
        assert.equal(pool.protocol, "h1");
      } finally {
        await pool.close();
      }
    }
  });

  test("a connector that awaits something after the handshake: the server's SETTINGS it read meanwhile reach the HTTP/2 session first", async () => {
    // The server sends SETTINGS as its session starts; the connection, with
    // no handler yet, buffers them for read(). Before the fix the session
    // took over without them and saw the SETTINGS ACK as the first frame
    // (ERR_H2_PREFACE).
    const inner = tlsConnector({ ca: pki.root, alpn: ["h2", "http/1.1"] });
    const connector: Connector = async (options) => {
      const sessionStarted = new Promise<void>((r) => server.once("session", () => r()));
      const conn = await inner(options);
      await sessionStarted;
      // Some loop turns for the SETTINGS to arrive (the result is asserted either way).
      await new Promise((r) => setTimeout(r, 50));
      return conn;
    };
    for (let round = 0; round < 3; round++) {
      const pool = new Pool(base, { connector });
      try {
        const r = await request(`${base}/late${round}`, { dispatcher: pool });
        assert.equal(await r.body.text(), `v2.0 /late${round}`);
        assert.equal(pool.protocol, "h2");
      } finally {
        await pool.close();
      }
    }
  });

  test("http2: false with a connector that negotiates h2: PoolError ERR_POOL_ALPN, not a garbled exchange", async () => {
    const pool = new Pool(base, { connector: tlsConnector({ ca: pki.root, alpn: ["h2"] }), http2: false });
    try {
      await assert.rejects(request(`${base}/no`, { dispatcher: pool }), (err: unknown) => err instanceof PoolError && err.code === "ERR_POOL_ALPN");
    } finally {
      await pool.close();
    }
  });
});
