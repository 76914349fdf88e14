// SOCKS4a against a real implementation: OpenSSH's dynamic forwarding
// (`ssh -D` to a local sshd), the Debian proxy that speaks 4a (dante
// connects to 0.0.0.1, microsocks is SOCKS5 only). The target's name goes
// to the proxy, which resolves it (sshd does); plain traffic to a socat
// echo and TLS to an openssl s_server, blocking and on the loop; SOCKS4
// with an address and SOCKS5h through the same proxy; a target the proxy
// cannot reach (ssh closes without a SOCKS reply) is ERR_PROXY_CLOSED.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ProxyError } from "../core/errors.ts";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { tlsInfo } from "../tls/connect_async.ts";
import { connectTLSViaProxySync, connectViaProxy, connectViaProxySync } from "../socket/proxy/mod.ts";
import { freePort, type Peer, startEcho, startSshSocks } from "./proxy_helpers.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TIMEOUT = 5000;

let echo: Peer;
let socks: Peer;
let closedPort: number;

function payload(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

async function echoAsync(conn: Connection, seed: number): Promise<void> {
  const data = payload(32 * 1024, seed);
  await conn.write(data);
  assert.deepEqual(await conn.readExactly(data.length, { signal: AbortSignal.timeout(TIMEOUT) }), data);
}

before(async () => {
  [echo, socks, closedPort] = await Promise.all([startEcho(), startSshSocks(), freePort()]);
});

after(async () => {
  await Promise.all([echo, socks].map((p) => p?.close()));
});

describe("SOCKS4a through OpenSSH's ssh -D", () => {
  test("blocking: a name resolved by the proxy, an address (SOCKS4), SOCKS5h; an unreachable target", () => {
    for (const [proxy, host, seed] of [
      [`socks4a://127.0.0.1:${socks.port}`, "localhost", 1],
      [`socks4://127.0.0.1:${socks.port}`, "127.0.0.1", 2],
      [`socks5h://127.0.0.1:${socks.port}`, "localhost", 3],
    ] as const) {
      using s = connectViaProxySync({ proxy, host, port: echo.port, timeoutMs: TIMEOUT });
      s.setTimeouts({ recvMs: TIMEOUT, sendMs: TIMEOUT });
      const data = payload(32 * 1024, seed);
      s.sendAll(data);
      const back = new Uint8Array(data.length);
      s.recvAll(back);
      assert.deepEqual(back, data, proxy);
    }
    assert.throws(
      () => connectViaProxySync({ proxy: `socks4a://127.0.0.1:${socks.port}`, host: "localhost", port: closedPort, timeoutMs: TIMEOUT }),
      // OpenSSH answers a failed channel open by closing, not with code 91.
      (e: unknown) => e instanceof ProxyError && e.code === "ERR_PROXY_CLOSED",
    );
  });

  test("on the loop: plain, and TLS to openssl s_server with the name resolved by the proxy", async () => {
    const conn = await connectViaProxy({ proxy: `socks4a://127.0.0.1:${socks.port}`, host: "localhost", port: echo.port, timeoutMs: TIMEOUT });
    await echoAsync(conn, 4);
    await conn.close();
    const pki = testPKI();
    const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, "-rev"], false);
    try {
      const tls = await connect({ host: "localhost", port: server.port, proxy: `socks4a://127.0.0.1:${socks.port}`, tls: { ca: pki.root }, timeoutMs: TIMEOUT });
      assert.equal(tlsInfo(tls)!.peerCertificate()!.commonName, "localhost");
      await tls.write(enc.encode("four a\n"));
      let got = "";
      for (let i = 0; i < 100 && !got.includes("\n"); i++) {
        const chunk = await tls.read({ signal: AbortSignal.timeout(TIMEOUT) });
        assert.ok(chunk !== null);
        got += dec.decode(chunk);
      }
      assert.equal(got, "a ruof\n");
      await tls.write(enc.encode("CLOSE\n"));
      await tls.close();
    } finally {
      await server.close();
    }
    const second = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, "-rev"], false);
    try {
      using tls = connectTLSViaProxySync({ proxy: `socks4a://127.0.0.1:${socks.port}`, host: "localhost", port: second.port, ca: pki.root, timeoutMs: TIMEOUT, ioTimeoutMs: TIMEOUT });
      tls.sendAll(enc.encode("sync\n"));
      const buf = new Uint8Array(64);
      let got = "";
      for (let i = 0; i < 100 && !got.includes("\n"); i++) {
        const n = tls.recv(buf);
        assert.ok(n > 0);
        got += dec.decode(buf.subarray(0, n));
      }
      assert.equal(got, "cnys\n");
      tls.sendAll(enc.encode("CLOSE\n"));
    } finally {
      await second.close();
    }
  });
});
