// socket/proxy against real proxies on loopback: microsocks (SOCKS5 with and
// without RFC 1929 auth), dante-server (SOCKS4, SOCKS5 and SOCKS5 with remote
// names), tinyproxy (HTTP CONNECT with Basic auth, 407 and 403), each
// carrying real traffic to a socat echo server, blocking and on the loop;
// TLS to an openssl s_server through the tunnel; SOCKS4a against the
// scripted relay in proxy_fake_fixture.ts (dante does not implement 4a: it
// connects to 0.0.0.1); and scripted proxies that reply garbage, close
// mid-handshake or stall, each a typed error, with no descriptor left open.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NetError, ProxyError, SocketTimeoutError } from "../core/errors.ts";
import { connect } from "../poll/connect.ts";
import { startTLS, tlsConnector, tlsInfo } from "../tls/connect_async.ts";
import type { Connection } from "../poll/connection.ts";
import type { Socket } from "../socket/socket.ts";
import { connectTLSViaProxySync, connectViaProxy, connectViaProxySync, proxyConnector } from "../socket/proxy/mod.ts";
import { defaultLoop } from "../poll/loop.ts";
import { openFdCount, untilParked } from "./loop_helpers.ts";
import { type FakeProxies, freePort, type Peer, startDante, startEcho, startEcho6, startFakeProxies, startMicrosocks, startTinyproxy } from "./proxy_helpers.ts";
import { type SServer, startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TIMEOUT = 5000;

let echo: Peer;
/** An echo server on [::1], for IPv6 targets. */
let echo6: Peer;
let socksOpen: Peer;
let socksAuth: Peer;
let dante: Peer;
let tiny: Peer;
/** tinyproxy that allows CONNECT to the echo port only (others: 403). */
let tinyStrict: Peer;
let fake: FakeProxies;
/** A port nobody listens on. */
let closedPort: number;

function payload(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Sends 32 KiB through a blocking tunnel and reads the echo back. */
function echoSync(socket: Socket, seed: number): void {
  socket.setTimeouts({ recvMs: TIMEOUT, sendMs: TIMEOUT });
  const data = payload(32 * 1024, seed);
  socket.sendAll(data);
  const back = new Uint8Array(data.length);
  socket.recvAll(back);
  assert.deepEqual(back, data);
}

async function echoAsync(conn: Connection, seed: number): Promise<void> {
  const data = payload(32 * 1024, seed);
  await conn.write(data);
  const back = await conn.readExactly(data.length, { signal: AbortSignal.timeout(TIMEOUT) });
  assert.deepEqual(back, data);
}

function isProxyError(code: string, extra?: (e: ProxyError) => void): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ProxyError, `expected ProxyError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    extra?.(e);
    return true;
  };
}

/**
 * A fresh `openssl s_server -rev` for each TLS connection: one s_server
 * serving several blocking connections in turn stops answering the third
 * on Node 24 (the direct connectTLSSync does the same; not a proxy matter).
 */
async function tlsTarget(): Promise<SServer & AsyncDisposable> {
  const pki = testPKI();
  const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, "-rev"], false);
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.close() });
}

before(async () => {
  [echo, echo6, socksOpen, socksAuth, dante, fake, closedPort] = await Promise.all([
    startEcho(),
    startEcho6(),
    startMicrosocks(),
    startMicrosocks("alice", "s3cret"),
    startDante(),
    startFakeProxies(),
    freePort(),
  ]);
  [tiny, tinyStrict] = await Promise.all([startTinyproxy("bob", "p4ss.w0rd"), startTinyproxy("bob", "p4ss.w0rd", [echo.port])]);
});

after(async () => {
  await Promise.all([echo, echo6, socksOpen, socksAuth, dante, tiny, tinyStrict, fake].map((p) => p?.close()));
});

describe("proxies, blocking (connectViaProxySync)", () => {
  test("microsocks SOCKS5 without auth: IPv4 and IPv6 targets, a name resolved here, a name resolved by the proxy", () => {
    for (const [proxy, host] of [["socks5", "127.0.0.1"], ["socks5", "localhost"], ["socks5h", "localhost"]] as const) {
      using s = connectViaProxySync({ proxy: `${proxy}://127.0.0.1:${socksOpen.port}`, host, port: echo.port, timeoutMs: TIMEOUT });
      echoSync(s, 1);
    }
    using v6 = connectViaProxySync({ proxy: `socks5://127.0.0.1:${socksOpen.port}`, host: "::1", port: echo6.port, timeoutMs: TIMEOUT });
    echoSync(v6, 13);
  });

  test("microsocks SOCKS5 with username/password; wrong or missing credentials are typed", () => {
    {
      using s = connectViaProxySync({ proxy: `socks5h://alice:s3cret@127.0.0.1:${socksAuth.port}`, host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT });
      echoSync(s, 2);
    }
    assert.throws(
      () => connectViaProxySync({ proxy: `socks5://alice:wrong@127.0.0.1:${socksAuth.port}`, host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT }),
      isProxyError("ERR_SOCKS5_AUTH_FAILED"),
    );
    assert.throws(
      () => connectViaProxySync({ proxy: `socks5://127.0.0.1:${socksAuth.port}`, host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT }),
      isProxyError("ERR_SOCKS5_NO_ACCEPTABLE_METHOD", (e) => assert.equal(e.replyCode, 0xff)),
    );
  });

  test("dante: SOCKS4 (IPv4, and a name resolved here), SOCKS5, SOCKS5h; a refused target is the reply code", () => {
    for (const [proxy, host] of [["socks4", "127.0.0.1"], ["socks4", "localhost"], ["socks5", "127.0.0.1"], ["socks5h", "localhost"]] as const) {
      using s = connectViaProxySync({ proxy: `${proxy}://127.0.0.1:${dante.port}`, host, port: echo.port, timeoutMs: TIMEOUT });
      echoSync(s, 3);
    }
    assert.throws(
      () => connectViaProxySync({ proxy: `socks5://127.0.0.1:${dante.port}`, host: "127.0.0.1", port: closedPort, timeoutMs: TIMEOUT }),
      isProxyError("ERR_SOCKS5_CONNECTION_REFUSED", (e) => assert.equal(e.replyCode, 5)),
    );
    assert.throws(
      () => connectViaProxySync({ proxy: `socks4://127.0.0.1:${dante.port}`, host: "127.0.0.1", port: closedPort, timeoutMs: TIMEOUT }),
      isProxyError("ERR_SOCKS4_REJECTED", (e) => assert.equal(e.replyCode, 91)),
    );
  });

  test("SOCKS4a: the name goes to the proxy (scripted relay)", () => {
    using s = connectViaProxySync({ proxy: `socks4a://127.0.0.1:${fake.ports.socks4a}`, host: "localhost", port: echo.port, timeoutMs: TIMEOUT });
    echoSync(s, 4);
  });

  test("tinyproxy CONNECT with Basic auth; 407 without credentials; 403 for a port it refuses", () => {
    for (const host of ["127.0.0.1", "localhost"]) {
      using s = connectViaProxySync({ proxy: `http://bob:p4ss%2Ew0rd@127.0.0.1:${tiny.port}`, host, port: echo.port, timeoutMs: TIMEOUT });
      echoSync(s, 5);
    }
    assert.throws(
      () => connectViaProxySync({ proxy: `http://127.0.0.1:${tiny.port}`, host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT }),
      isProxyError("ERR_PROXY_AUTH_REQUIRED", (e) => assert.equal(e.status, 407)),
    );
    assert.throws(
      () => connectViaProxySync({ proxy: `http://bob:p4ss%2Ew0rd@127.0.0.1:${tinyStrict.port}`, host: "127.0.0.1", port: closedPort, timeoutMs: TIMEOUT }),
      isProxyError("ERR_PROXY_STATUS", (e) => assert.equal(e.status, 403)),
    );
  });

  test("bytes the target sends right after the proxy's reply are the tunnel's first bytes", () => {
    using s = connectViaProxySync({ proxy: `http://127.0.0.1:${fake.ports.banner}`, host: "10.0.0.1", port: 22, timeoutMs: TIMEOUT });
    s.setTimeouts({ recvMs: TIMEOUT });
    const banner = new Uint8Array(6);
    s.recvAll(banner);
    assert.equal(dec.decode(banner), "BANNER");
    echoSync(s, 6);
  });

  test("TLS to the target over the tunnel: tinyproxy, dante SOCKS5h and the SOCKS4a relay to openssl s_server", async () => {
    const pki = testPKI();
    for (const proxy of [`http://bob:p4ss%2Ew0rd@127.0.0.1:${tiny.port}`, `socks5h://127.0.0.1:${dante.port}`, `socks4a://127.0.0.1:${fake.ports.socks4a}`]) {
      await using server = await tlsTarget();
      using tls = connectTLSViaProxySync({ proxy, host: "localhost", port: server.port, ca: pki.root, timeoutMs: TIMEOUT, ioTimeoutMs: TIMEOUT });
      assert.match(tls.protocol, /^TLSv1\.[23]$/);
      assert.equal(tls.peerCertificate()!.commonName, "localhost");
      tls.sendAll(enc.encode("through the tunnel\n"));
      const buf = new Uint8Array(64);
      let got = "";
      while (!got.includes("\n")) {
        const n = tls.recv(buf);
        assert.ok(n > 0);
        got += dec.decode(buf.subarray(0, n));
      }
      assert.equal(got, "lennut eht hguorht\n");
      tls.sendAll(enc.encode("CLOSE\n"));
    }
  });

  test("garbage, a close mid-handshake and a stall are typed errors; no descriptor is left open", async () => {
    await untilParked(defaultLoop()); // the loop's helper thread (its own descriptors) is up before counting
    const before = await openFdCount();
    const t = { host: "127.0.0.1", port: echo.port };
    for (const kind of ["http", "socks4", "socks5"]) {
      assert.throws(() => connectViaProxySync({ ...t, proxy: `${kind}://127.0.0.1:${fake.ports.garbage}`, timeoutMs: TIMEOUT }), isProxyError("ERR_PROXY_PROTOCOL"));
      assert.throws(() => connectViaProxySync({ ...t, proxy: `${kind}://127.0.0.1:${fake.ports.close}`, timeoutMs: TIMEOUT }), isProxyError("ERR_PROXY_CLOSED"));
    }
    assert.throws(() => connectViaProxySync({ ...t, proxy: `socks5://127.0.0.1:${fake.ports.socks5half}`, timeoutMs: TIMEOUT }), isProxyError("ERR_PROXY_CLOSED"));
    assert.throws(
      () => connectViaProxySync({ ...t, proxy: `socks5://127.0.0.1:${fake.ports.stall}`, timeoutMs: 300 }),
      (e: unknown) => e instanceof SocketTimeoutError && e.code === "ETIMEDOUT" && e.syscall === "proxy",
    );
    assert.throws(() => connectViaProxySync({ ...t, proxy: `socks5://127.0.0.1:${closedPort}`, timeoutMs: TIMEOUT }), (e: unknown) => e instanceof NetError && e.code === "ECONNREFUSED");
    assert.throws(() => connectViaProxySync({ ...t, proxy: `socks5://127.0.0.1:${fake.ports.stall}`, timeoutMs: -1 }), RangeError);
    assert.throws(() => connectViaProxySync({ ...t, proxy: "ftp://127.0.0.1:1" }), TypeError);
    assert.throws(() => connectViaProxySync({ ...t, proxy: "socks5://127.0.0.1:1", extra: 1 } as never), TypeError);
    // A leak raises the count; Bun and Deno run every file in one process,
    // where earlier files' descriptors may close meanwhile (Bun CI: 44 -> 41).
    const after = await openFdCount();
    assert.ok(after <= before, `descriptors: ${before} before, ${after} after`);
  });

  test('proxy: "env" reads the variables given, NO_PROXY goes direct', () => {
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    {
      using s = connectViaProxySync({ proxy: "env", env: env({ ALL_PROXY: `socks5h://127.0.0.1:${socksOpen.port}` }), host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT });
      echoSync(s, 7);
    }
    {
      // The proxy named is a stall: only going direct can succeed.
      using s = connectViaProxySync({
        proxy: "env",
        env: env({ http_proxy: `socks5://127.0.0.1:${fake.ports.stall}`, no_proxy: "localhost,127.0.0.1" }),
        host: "127.0.0.1",
        port: echo.port,
        timeoutMs: TIMEOUT,
      });
      echoSync(s, 8);
    }
  });
});

describe("proxies, on the loop (connectViaProxy, connect({ proxy }), proxyConnector)", () => {
  test("microsocks, dante and tinyproxy carry traffic", async () => {
    const cases: Array<[string, string]> = [
      [`socks5://127.0.0.1:${socksOpen.port}`, "localhost"],
      [`socks5://127.0.0.1:${socksOpen.port}`, "::1"],
      [`socks5h://alice:s3cret@127.0.0.1:${socksAuth.port}`, "localhost"],
      [`socks4://127.0.0.1:${dante.port}`, "localhost"],
      [`socks5h://127.0.0.1:${dante.port}`, "localhost"],
      [`socks4a://127.0.0.1:${fake.ports.socks4a}`, "localhost"],
      [`http://bob:p4ss%2Ew0rd@127.0.0.1:${tiny.port}`, "127.0.0.1"],
    ];
    for (const [proxy, host] of cases) {
      const conn = await connectViaProxy({ proxy, host, port: host === "::1" ? echo6.port : echo.port, timeoutMs: TIMEOUT });
      await echoAsync(conn, 9);
      await conn.close();
    }
  });

  test("connect({ proxy }) and proxyConnector go through the proxy; handler mode works over the tunnel", async () => {
    const conn = await connect({ host: "127.0.0.1", port: echo.port, proxy: `socks5://127.0.0.1:${dante.port}`, timeoutMs: TIMEOUT });
    await echoAsync(conn, 10);
    await conn.close();
    const connector = proxyConnector(`http://bob:p4ss%2Ew0rd@127.0.0.1:${tiny.port}`);
    const viaConnector = await connector({ host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT });
    await echoAsync(viaConnector, 11);
    await viaConnector.close();
    await assert.rejects(connector({ path: "/tmp/x.sock" }), TypeError);
    let received = "";
    const done = new Promise<void>((resolve) => {
      void connectViaProxy({
        proxy: `socks5h://127.0.0.1:${socksOpen.port}`,
        host: "localhost",
        port: echo.port,
        timeoutMs: TIMEOUT,
        handler: {
          open: (c) => void c.send(enc.encode("ping")),
          data: (c, d) => {
            received += dec.decode(d);
            if (received === "ping") {
              resolve();
              void c.close();
            }
          },
        },
      });
    });
    await done;
    assert.equal(received, "ping");
  });

  test("TLS to the target over the tunnel: connect({ proxy, tls }), startTLS on a tunnel, tlsConnector over proxyConnector", async () => {
    const pki = testPKI();
    const roundTrip = async (conn: Connection) => {
      assert.match(tlsInfo(conn)!.protocol, /^TLSv1\.[23]$/);
      await conn.write(enc.encode("async tunnel\n"));
      let got = "";
      while (!got.includes("\n")) {
        const chunk = await conn.read({ signal: AbortSignal.timeout(TIMEOUT) });
        assert.ok(chunk !== null);
        got += dec.decode(chunk);
      }
      assert.equal(got, "lennut cnysa\n");
      await conn.write(enc.encode("CLOSE\n"));
      await conn.close();
    };
    const env = { HTTPS_PROXY: `socks5h://127.0.0.1:${dante.port}`, HTTP_PROXY: `socks5://127.0.0.1:${fake.ports.stall}` };
    const connector = tlsConnector({ ca: pki.root, connector: proxyConnector(`http://bob:p4ss%2Ew0rd@127.0.0.1:${tiny.port}`) });
    const ways: Array<(port: number) => Promise<Connection>> = [
      (port) => connect({ host: "localhost", port, proxy: `socks5://127.0.0.1:${socksOpen.port}`, tls: { ca: pki.root }, timeoutMs: TIMEOUT }),
      (port) => connectViaProxy({ host: "localhost", port, proxy: `socks4a://127.0.0.1:${fake.ports.socks4a}`, tls: { ca: pki.root } }),
      // "env" with TLS to the target reads HTTPS_PROXY (HTTP_PROXY here is a stall).
      (port) => connectViaProxy({ host: "localhost", port, proxy: "env", env: (name) => env[name as keyof typeof env], tls: { ca: pki.root }, timeoutMs: TIMEOUT }),
      async (port) => startTLS(await connectViaProxy({ proxy: `socks5h://127.0.0.1:${dante.port}`, host: "localhost", port, timeoutMs: TIMEOUT }), { host: "localhost", ca: pki.root }),
      (port) => connector({ host: "localhost", port, timeoutMs: TIMEOUT }),
    ];
    for (const way of ways) {
      await using server = await tlsTarget();
      await roundTrip(await way(server.port));
    }
  });

  test("the target's first bytes reach the connection", async () => {
    const conn = await connectViaProxy({ proxy: `http://127.0.0.1:${fake.ports.banner}`, host: "10.0.0.1", port: 22, timeoutMs: TIMEOUT });
    assert.equal(dec.decode(await conn.readExactly(6, { signal: AbortSignal.timeout(TIMEOUT) })), "BANNER");
    await echoAsync(conn, 12);
    await conn.close();
  });

  test("refusals, garbage, closes, stalls and aborts are typed; no descriptor is left open", async () => {
    await untilParked(defaultLoop()); // the loop's helper thread (its own descriptors) is up before counting
    const before = await openFdCount();
    const t = { host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT };
    await assert.rejects(connectViaProxy({ ...t, proxy: `http://127.0.0.1:${tiny.port}` }), isProxyError("ERR_PROXY_AUTH_REQUIRED"));
    await assert.rejects(connectViaProxy({ ...t, proxy: `http://bob:p4ss%2Ew0rd@127.0.0.1:${tinyStrict.port}`, port: closedPort }), isProxyError("ERR_PROXY_STATUS", (e) => assert.equal(e.status, 403)));
    await assert.rejects(connectViaProxy({ ...t, proxy: `socks5://alice:nope@127.0.0.1:${socksAuth.port}` }), isProxyError("ERR_SOCKS5_AUTH_FAILED"));
    await assert.rejects(connectViaProxy({ ...t, proxy: `socks5://127.0.0.1:${dante.port}`, port: closedPort }), isProxyError("ERR_SOCKS5_CONNECTION_REFUSED"));
    for (const kind of ["http", "socks4a", "socks5h"]) {
      await assert.rejects(connectViaProxy({ ...t, proxy: `${kind}://127.0.0.1:${fake.ports.garbage}` }), isProxyError("ERR_PROXY_PROTOCOL"));
      await assert.rejects(connectViaProxy({ ...t, proxy: `${kind}://127.0.0.1:${fake.ports.close}` }), isProxyError("ERR_PROXY_CLOSED"));
    }
    await assert.rejects(connectViaProxy({ ...t, proxy: `socks5://127.0.0.1:${fake.ports.socks5half}` }), isProxyError("ERR_PROXY_CLOSED"));
    await assert.rejects(
      connectViaProxy({ ...t, proxy: `socks5://127.0.0.1:${fake.ports.stall}`, timeoutMs: 300 }),
      (e: unknown) => e instanceof SocketTimeoutError && e.syscall === "proxy",
    );
    const controller = new AbortController();
    const aborted = connectViaProxy({ host: "127.0.0.1", port: echo.port, proxy: `http://127.0.0.1:${fake.ports.stall}`, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("changed my mind")), 50);
    await assert.rejects(aborted, /changed my mind/);
    await assert.rejects(connectViaProxy({ ...t, proxy: `socks5://127.0.0.1:${closedPort}` }), (e: unknown) => e instanceof NetError && e.code === "ECONNREFUSED");
    await assert.rejects(connectViaProxy({ ...t, proxy: "socks5://127.0.0.1:1", highWaterMark: 0 }), RangeError);
    await assert.rejects(connectViaProxy({ ...t, proxy: "socks5://127.0.0.1:1", nope: 1 } as never), TypeError);
    { const after = await openFdCount(); assert.ok(after <= before, `descriptors: ${before} before, ${after} after`); }
  });
});
