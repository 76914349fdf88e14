// https:// proxies on the loop against real peers: tinyproxy (CONNECT with
// Basic auth) behind a socat TLS terminator (OPENSSL-LISTEN, the test PKI's
// leaf for localhost/127.0.0.1), carrying a plain tunnel to a socat echo
// server and TLS in TLS to an openssl s_server; the proxy's certificate is
// verified (CA, servername, rejectUnauthorized); a scripted proxy whose
// reply and the target's first bytes come in one TLS record; a stall is a
// typed timeout; ProxyAgent through the same proxy; no descriptor leaks.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { after, before, describe, test } from "node:test";
import { ProxyError, SocketTimeoutError, TLSVerifyError, UnsupportedError } from "../core/errors.ts";
import { fetch, ProxyAgent } from "../http/client/mod.ts";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { connectViaHttpsProxySync, connectViaProxy, connectViaProxySync, parseProxyURL, proxyConnector, type ProxyConfig } from "../socket/proxy/mod.ts";
import { startTLS, tlsInfo } from "../tls/connect_async.ts";
import { defaultLoop } from "../poll/loop.ts";
import { openFdCount, untilParked } from "./loop_helpers.ts";
import { type FakeProxies, freePort, type Peer, startEcho, startFakeProxies, startTinyproxy } from "./proxy_helpers.ts";
import { type SServer, startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TIMEOUT = 5000;

let echo: Peer;
let tiny: Peer;
let fake: FakeProxies;
/** socat TLS in front of tinyproxy, of the banner proxy and of the stall. */
let tlsTiny: Peer;
let tlsBanner: Peer;
let tlsStall: Peer;

/** socat terminating TLS (the test PKI's localhost leaf) on a free port, forwarding to `to`. */
async function tlsTerminator(to: number): Promise<Peer> {
  const pki = testPKI();
  const port = await freePort();
  const child: ChildProcess = spawn("socat", [
    `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${pki.paths["leaf_chain.pem"]},key=${pki.paths["leaf.key"]},verify=0`,
    `TCP:127.0.0.1:${to}`,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => (stderr += dec.decode(d)));
  const stop = (): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    const up = await new Promise<boolean>((resolve) => {
      import("node:net").then(({ default: netModule }) => {
        const c = netModule.connect(port, "127.0.0.1");
        c.once("connect", () => {
          c.destroy();
          resolve(true);
        });
        c.once("error", () => resolve(false));
      });
    });
    if (up) return { port, close: stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`socat OPENSSL-LISTEN did not start: ${stderr}`);
}

function payload(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function echoAsync(conn: Connection, seed: number): Promise<void> {
  const data = payload(32 * 1024, seed);
  await conn.write(data);
  const back = await conn.readExactly(data.length, { signal: AbortSignal.timeout(TIMEOUT) });
  assert.deepEqual(back, data);
}

/** A fresh `openssl s_server -rev` (it reverses each line; "CLOSE" ends it). */
async function tlsTarget(): Promise<SServer & AsyncDisposable> {
  const pki = testPKI();
  const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, "-rev"], false);
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.close() });
}

async function reversed(conn: Connection, line: string): Promise<void> {
  await conn.write(enc.encode(line + "\n"));
  let got = "";
  for (let i = 0; i < 100 && !got.includes("\n"); i++) {
    const chunk = await conn.read({ signal: AbortSignal.timeout(TIMEOUT) });
    assert.ok(chunk !== null, "the target closed early");
    got += dec.decode(chunk);
  }
  assert.equal(got, [...line].reverse().join("") + "\n");
}

function httpsProxy(port: number, extra: Partial<ProxyConfig> = {}): ProxyConfig {
  return { protocol: "https", host: "127.0.0.1", port, username: "bob", password: "p4ss.w0rd", tls: { ca: testPKI().root }, ...extra };
}

before(async () => {
  [echo, tiny, fake] = await Promise.all([startEcho(), startTinyproxy("bob", "p4ss.w0rd"), startFakeProxies()]);
  [tlsTiny, tlsBanner, tlsStall] = await Promise.all([tlsTerminator(tiny.port), tlsTerminator(fake.ports.banner), tlsTerminator(fake.ports.stall)]);
});

after(async () => {
  await Promise.all([tlsTiny, tlsBanner, tlsStall, echo, tiny, fake].map((p) => p?.close()));
});

describe("https:// proxies (TLS to the proxy, CONNECT inside it)", () => {
  test("URLs: https:// parses (default port 443); tls is for https only; a blocking plain Socket says unsupported", () => {
    assert.deepEqual(parseProxyURL("https://u:p@proxy.test"), { protocol: "https", host: "proxy.test", port: 443, username: "u", password: "p" });
    assert.equal(parseProxyURL("https://[::1]:8443").port, 8443);
    assert.throws(() => proxyConnector({ protocol: "http", host: "127.0.0.1", port: 1, tls: {} }), TypeError);
    assert.throws(() => proxyConnector({ protocol: "https", host: "127.0.0.1", port: 1, tls: null as never }), TypeError);
    assert.throws(
      () => connectViaProxySync({ proxy: `https://127.0.0.1:${tlsTiny.port}`, host: "127.0.0.1", port: echo.port }),
      (e: unknown) => e instanceof UnsupportedError && e.code === "ERR_UNSUPPORTED",
    );
  });

  test("a plain tunnel through tinyproxy behind TLS carries traffic (config tls, proxyTls, connect({ proxy }), handler mode)", async () => {
    const viaConfig = await connectViaProxy({ proxy: httpsProxy(tlsTiny.port), host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT });
    assert.equal(tlsInfo(viaConfig), null, "the tunnel itself is not the target's TLS");
    await echoAsync(viaConfig, 1);
    await echoAsync(viaConfig, 2);
    await viaConfig.close();
    // A URL with the proxy's TLS settings beside it; the servername checked is "localhost".
    const viaURL = await connectViaProxy({
      proxy: `https://bob:p4ss%2Ew0rd@127.0.0.1:${tlsTiny.port}`,
      proxyTls: { ca: testPKI().root, servername: "localhost" },
      host: "127.0.0.1",
      port: echo.port,
      timeoutMs: TIMEOUT,
    });
    await echoAsync(viaURL, 3);
    await viaURL.end();
    assert.equal(await viaURL.read({ signal: AbortSignal.timeout(TIMEOUT) }), null, "our FIN went through both layers; the echo closed");
    await viaURL.close();
    const viaConnect = await connect({ host: "127.0.0.1", port: echo.port, proxy: httpsProxy(tlsTiny.port), timeoutMs: TIMEOUT, highWaterMark: 4096 });
    assert.equal(viaConnect.highWaterMark, 4096);
    await echoAsync(viaConnect, 4);
    await viaConnect.close();
    let received = "";
    await new Promise<void>((resolve, reject) => {
      connectViaProxy({
        proxy: httpsProxy(tlsTiny.port),
        host: "127.0.0.1",
        port: echo.port,
        timeoutMs: TIMEOUT,
        handler: {
          open: (c) => void c.send(enc.encode("ping")),
          data: (c, d) => {
            received += dec.decode(d);
            if (received === "ping") {
              void c.close();
              resolve();
            }
          },
        },
      }).catch(reject);
    });
    assert.equal(received, "ping");
  });

  test("detach() of a tunnel through an https:// proxy throws UnsupportedError and leaves the tunnel working", async () => {
    const tunnel = await connectViaProxy({ proxy: httpsProxy(tlsTiny.port), host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT });
    await echoAsync(tunnel, 7);
    assert.throws(() => tunnel.detach(), (e: unknown) => {
      assert.ok(e instanceof UnsupportedError, String(e));
      assert.equal(e.code, "ERR_UNSUPPORTED");
      assert.equal(e.feature, "detach() of a tunnel through an https:// proxy");
      return true;
    });
    assert.equal(tunnel.closed, false);
    await echoAsync(tunnel, 8);
    await tunnel.close();
    // A plain (http://) tunnel is a bare socket: detach hands it out.
    const plain = await connectViaProxy({ proxy: `http://bob:p4ss.w0rd@127.0.0.1:${tiny.port}`, host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT });
    const socket = plain.detach();
    try {
      assert.ok(socket.fd >= 0);
    } finally {
      socket.close();
    }
  });

  test("detach() of TLS inside a tunnel through an https:// proxy throws UnsupportedError and leaves it working; plain TLS still detaches", async () => {
    const pki = testPKI();
    await using server = await tlsTarget();
    const inner = await connect({ host: "localhost", port: server.port, proxy: httpsProxy(tlsTiny.port), tls: { ca: pki.root }, timeoutMs: TIMEOUT });
    await reversed(inner, "before detach");
    assert.throws(() => inner.detach(), (e: unknown) => {
      assert.ok(e instanceof UnsupportedError, String(e));
      assert.equal(e.code, "ERR_UNSUPPORTED");
      assert.equal(e.feature, "detach() of a connection over another connection");
      return true;
    });
    assert.equal(inner.closed, false);
    await reversed(inner, "after detach");
    await inner.write(enc.encode("CLOSE\n"));
    await inner.close();
    // TLS straight to the target (fd mode): detach frees the SSL and hands out the socket, as before.
    await using direct = await tlsTarget();
    // io: "readiness" — fd mode is TLS over readiness I/O; over io_uring TLS runs in memory-BIO mode, which does not detach.
    const plainTLS = await connect({ host: "localhost", port: direct.port, tls: { ca: pki.root }, timeoutMs: TIMEOUT, io: "readiness" });
    await reversed(plainTLS, "direct");
    const socket = plainTLS.detach();
    try {
      assert.ok(socket.fd >= 0);
      assert.equal(plainTLS.closed, true);
    } finally {
      socket.close();
    }
  });

  test("TLS in TLS: the target's TLS inside the proxy's (connect({ proxy, tls }), startTLS on a tunnel, env HTTPS_PROXY)", async () => {
    const pki = testPKI();
    const ways: Array<(port: number) => Promise<Connection>> = [
      (port) => connect({ host: "localhost", port, proxy: httpsProxy(tlsTiny.port), tls: { ca: pki.root }, timeoutMs: TIMEOUT }),
      async (port) => startTLS(await connectViaProxy({ proxy: httpsProxy(tlsTiny.port), host: "localhost", port, timeoutMs: TIMEOUT }), { host: "localhost", ca: pki.root, bio: true }),
      (port) =>
        connectViaProxy({
          proxy: "env",
          env: (name) => ({ HTTPS_PROXY: `https://bob:p4ss.w0rd@localhost:${tlsTiny.port}`, HTTP_PROXY: `http://127.0.0.1:${fake.ports.stall}` } as Record<string, string>)[name],
          proxyTls: { ca: pki.root },
          host: "localhost",
          port,
          tls: { ca: pki.root },
          timeoutMs: TIMEOUT,
        }),
    ];
    for (const way of ways) {
      await using server = await tlsTarget();
      const conn = await way(server.port);
      const info = tlsInfo(conn)!;
      assert.match(info.protocol, /^TLSv1\.[23]$/);
      assert.equal(info.peerCertificate()!.commonName, "localhost");
      await reversed(conn, "tls inside tls");
      await reversed(conn, "x".repeat(3000) + "y");
      await conn.write(enc.encode("CLOSE\n"));
      await conn.close();
    }
  });

  test("the proxy's certificate is verified: unknown CA, wrong servername, rejectUnauthorized: false; no descriptor left open", async () => {
    const t = { host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT };
    // No CA given: the system store does not know the test root (the first use loads it).
    await assert.rejects(connectViaProxy({ ...t, proxy: `https://bob:p4ss.w0rd@127.0.0.1:${tlsTiny.port}` }), TLSVerifyError);
    await untilParked(defaultLoop()); // the loop's helper thread (its own descriptors) is up before counting
    const before = await openFdCount();
    await assert.rejects(connectViaProxy({ ...t, proxy: `https://bob:p4ss.w0rd@127.0.0.1:${tlsTiny.port}` }), TLSVerifyError);
    await assert.rejects(connectViaProxy({ ...t, proxy: httpsProxy(tlsTiny.port, { tls: { ca: testPKI().root, servername: "not-the-proxy.test" } }) }), TLSVerifyError);
    const unverified = await connectViaProxy({ ...t, proxy: httpsProxy(tlsTiny.port, { tls: { rejectUnauthorized: false } }) });
    await echoAsync(unverified, 5);
    await unverified.close();
    await assert.rejects(connectViaProxy({ ...t, proxy: httpsProxy(tlsTiny.port, { tls: { nope: 1 } as never }) }), TypeError);
    { const after = await openFdCount(); assert.ok(after <= before, `descriptors: ${before} before, ${after} after`); }
  });

  test("a refusal, the target's first bytes in the reply's TLS record, a stall: typed, ordered, no descriptor left open", async () => {
    const t = { host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT };
    // Loads libssl and its trust store first (they keep descriptors of their own).
    await connectViaProxy({ ...t, proxy: `https://127.0.0.1:${tlsTiny.port}` }).catch(() => {});
    await untilParked(defaultLoop()); // the loop's helper thread (its own descriptors) is up before counting
    const before = await openFdCount();
    await assert.rejects(connectViaProxy({ ...t, proxy: { protocol: "https", host: "127.0.0.1", port: tlsTiny.port, tls: { ca: testPKI().root } } }), (e: unknown) => {
      assert.ok(e instanceof ProxyError && e.code === "ERR_PROXY_AUTH_REQUIRED", String(e));
      assert.equal(e.status, 407);
      return true;
    });
    // The scripted proxy writes its 200 reply and "BANNER" at once, then echoes.
    const banner = await connectViaProxy({ ...t, proxy: httpsProxy(tlsBanner.port), host: "10.0.0.1", port: 22 });
    assert.equal(dec.decode(await banner.readExactly(6, { signal: AbortSignal.timeout(TIMEOUT) })), "BANNER");
    await echoAsync(banner, 6);
    await banner.close();
    await assert.rejects(
      connectViaProxy({ ...t, proxy: httpsProxy(tlsStall.port), timeoutMs: 300 }),
      (e: unknown) => e instanceof SocketTimeoutError && e.code === "ETIMEDOUT",
    );
    const controller = new AbortController();
    const aborted = connectViaProxy({ host: "127.0.0.1", port: echo.port, proxy: httpsProxy(tlsStall.port), signal: controller.signal });
    setTimeout(() => controller.abort(new Error("changed my mind")), 50);
    await assert.rejects(aborted, /changed my mind/);
    { const after = await openFdCount(); assert.ok(after <= before, `descriptors: ${before} before, ${after} after`); }
  });

  test("blocking: connectViaHttpsProxySync tunnels through tinyproxy behind TLS (a TLSSocket carries the tunnel); the target's first bytes stay for recv", () => {
    const data = payload(32 * 1024, 9);
    const back = new Uint8Array(data.length);
    {
      using tunnel = connectViaHttpsProxySync({ proxy: httpsProxy(tlsTiny.port), host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT, ioTimeoutMs: TIMEOUT });
      assert.match(tunnel.protocol, /^TLSv1\.[23]$/);
      assert.equal(tunnel.peerCertificate()!.commonName, "localhost", "the proxy's certificate");
      assert.equal(tunnel.sendAll(data), data.length);
      assert.equal(tunnel.recvAll(back), data.length);
      assert.deepEqual(back, data);
    }
    // A URL with proxyTls beside it (servername checked: "localhost"), and "env" naming the https:// proxy.
    for (const options of [
      { proxy: `https://bob:p4ss%2Ew0rd@127.0.0.1:${tlsTiny.port}`, proxyTls: { ca: testPKI().root, servername: "localhost" } },
      { proxy: "env" as const, secure: true, env: (name: string) => (name === "HTTPS_PROXY" ? `https://bob:p4ss.w0rd@localhost:${tlsTiny.port}` : undefined), proxyTls: { ca: testPKI().root } },
    ]) {
      using tunnel = connectViaHttpsProxySync({ ...options, host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT, ioTimeoutMs: TIMEOUT });
      tunnel.sendAll(enc.encode("ping"));
      const four = new Uint8Array(4);
      assert.equal(tunnel.recvAll(four), 4);
      assert.equal(dec.decode(four), "ping");
    }
    // The scripted proxy writes its 200 reply and "BANNER" in one TLS record: the reply is peeked and consumed exactly.
    using banner = connectViaHttpsProxySync({ proxy: httpsProxy(tlsBanner.port), host: "10.0.0.1", port: 22, timeoutMs: TIMEOUT, ioTimeoutMs: TIMEOUT });
    const six = new Uint8Array(6);
    assert.equal(banner.recvAll(six), 6);
    assert.equal(dec.decode(six), "BANNER");
  });

  test("blocking: a refusal, a stall, an unverified proxy and a proxy that is not https:// are typed errors; no descriptor left open", async () => {
    const t = { host: "127.0.0.1", port: echo.port, timeoutMs: TIMEOUT };
    // Loads libssl and its trust store first (they keep descriptors of their own).
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: `https://127.0.0.1:${tlsTiny.port}` }), TLSVerifyError);
    await untilParked(defaultLoop()); // the loop's helper thread (its own descriptors) is up before counting
    const before = await openFdCount();
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: `https://127.0.0.1:${tlsTiny.port}` }), TLSVerifyError);
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: httpsProxy(tlsTiny.port, { tls: { ca: testPKI().root, servername: "not-the-proxy.test" } }) }), TLSVerifyError);
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: { protocol: "https", host: "127.0.0.1", port: tlsTiny.port, tls: { ca: testPKI().root } } }), (e: unknown) => {
      assert.ok(e instanceof ProxyError && e.code === "ERR_PROXY_AUTH_REQUIRED", String(e));
      assert.equal(e.status, 407);
      return true;
    });
    assert.throws(
      () => connectViaHttpsProxySync({ ...t, proxy: httpsProxy(tlsStall.port), timeoutMs: 300 }),
      (e: unknown) => e instanceof SocketTimeoutError && e.code === "ETIMEDOUT" && /proxy handshake/.test(e.message),
    );
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: `http://127.0.0.1:${tiny.port}` }), /needs an https:\/\/ proxy/);
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: httpsProxy(tlsTiny.port), nope: 1 } as never), TypeError);
    assert.throws(() => connectViaHttpsProxySync({ ...t, proxy: httpsProxy(tlsTiny.port, { tls: { allowTruncation: true } }) }), TypeError);
    { const after = await openFdCount(); assert.ok(after <= before, `descriptors: ${before} before, ${after} after`); }
  });

  test("ProxyAgent through the https:// proxy: http: and https: targets tunnel through it", async () => {
    const pki = testPKI();
    const plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", () => r()));
    const secure = https.createServer({ key: pki.key, cert: pki.chain }, (req, res) => res.end(`secure ${req.url}`));
    await new Promise<void>((r) => secure.listen(0, "127.0.0.1", () => r()));
    const agent = new ProxyAgent({ proxy: httpsProxy(tlsTiny.port), tls: { ca: pki.root } });
    try {
      const a = await fetch(`http://127.0.0.1:${(plain.address() as net.AddressInfo).port}/a`, { dispatcher: agent });
      assert.equal(await a.text(), "plain /a");
      const b = await fetch(`https://localhost:${(secure.address() as net.AddressInfo).port}/b`, { dispatcher: agent });
      assert.equal(await b.text(), "secure /b");
      assert.equal(agent.routes.length, 2);
      assert.ok(agent.routes.every((r) => r.startsWith(`tunnel https://bob:***@127.0.0.1:${tlsTiny.port} `)), agent.routes.join());
    } finally {
      await agent.close();
      plain.closeAllConnections?.();
      secure.closeAllConnections?.();
      await new Promise((r) => plain.close(r));
      await new Promise((r) => secure.close(r));
    }
  });
});
