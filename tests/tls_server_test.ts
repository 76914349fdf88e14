// Our blocking TLS server (tls/) against `openssl s_client`: TLS 1.3 and
// 1.2, ALPN chosen by the server's preference, no-overlap behaviour, mTLS
// (required, missing, untrusted), an encrypted key, two key types, SNI
// selection, resumption, garbage input, and a peer that vanishes
// (truncation; writes fail with EPIPE/ECONNRESET, never SIGPIPE).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { SocketTimeoutError, TLSError, TLSHandshakeError, TLSVerifyError } from "../core/errors.ts";
import { connectTCPSync, listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, connectTLSSync, TLSContext, type TLSContextOptions } from "../tls/mod.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { PASSPHRASE, testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();

function serverContext(extra: Omit<TLSContextOptions, "role" | "cert" | "key"> = {}): TLSContext {
  const pki = testPKI();
  return new TLSContext({ role: "server", cert: pki.chain, key: pki.key, ...extra });
}

/** Accepts one s_client, says `pong`, closes with close_notify; returns the server side's facts and s_client's output. */
async function serveOnce(ctx: TLSContext, clientArgs: string[], strict = true) {
  const pki = testPKI();
  using listener = listenTCPSync("127.0.0.1", 0);
  const { port } = listener.localAddress() as { port: number };
  const checks = strict ? ["-verify_return_error", "-servername", "localhost"] : [];
  const client = runSClient(port, ["-CAfile", pki.paths["root.pem"]!, ...checks, ...clientArgs]);
  try {
    const tls = acceptTLS(listener, ctx, 30_000);
    const facts = { protocol: tls.protocol, alpn: tls.alpnProtocol, peer: tls.peerCertificate(), reused: tls.isSessionReused() };
    tls.sendAll(enc.encode("pong\n"));
    tls.close();
    return { ...facts, output: await client.done };
  } finally {
    await client.kill();
  }
}

describe("tls server against openssl s_client", () => {
  test("TLS 1.3, ALPN by the server's preference, verified by s_client", async () => {
    using ctx = serverContext({ alpn: ["h2", "http/1.1"] });
    const r = await serveOnce(ctx, ["-alpn", "http/1.1,h2"]);
    assert.equal(r.protocol, "TLSv1.3");
    assert.equal(r.alpn, "h2");
    assert.equal(r.peer, null);
    assert.match(r.output, /pong/);
    assert.match(r.output, /ALPN protocol: h2/);
    assert.match(r.output, /Verify return code: 0 \(ok\)/);
  });

  test("TLS 1.2 when the server opts in", async () => {
    using ctx = serverContext({ minVersion: "TLSv1.2" });
    const r = await serveOnce(ctx, ["-tls1_2"]);
    assert.equal(r.protocol, "TLSv1.2");
    assert.match(r.output, /pong/);
  });

  test("ALPN without overlap: fails by default, goes on without with alpnMismatch: ignore", async () => {
    {
      using ctx = serverContext({ alpn: ["h2"] });
      await assert.rejects(serveOnce(ctx, ["-alpn", "spdy/1"]), TLSHandshakeError);
    }
    using ctx = serverContext({ alpn: ["h2"], alpnMismatch: "ignore" });
    const r = await serveOnce(ctx, ["-alpn", "spdy/1"]);
    assert.equal(r.alpn, null);
    assert.match(r.output, /pong/);
  });

  test("mTLS: a client certificate is required, read and verified", async () => {
    const pki = testPKI();
    using ctx = serverContext({ requestCert: true, ca: pki.root });
    const r = await serveOnce(ctx, ["-cert", pki.paths["client_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["client.key"]!]);
    assert.equal(r.peer!.commonName, "ffinet client");
    assert.deepEqual(r.peer!.subjectAltNames.dns, ["client.invalid"]);
    await assert.rejects(serveOnce(ctx, []), (err: unknown) => err instanceof TLSHandshakeError && /certificate/.test(err.message));
    await assert.rejects(serveOnce(ctx, ["-cert", pki.paths["self.pem"]!, "-key", pki.paths["self.key"]!]),
      (err: unknown) => err instanceof TLSVerifyError && err.reason === "DEPTH_ZERO_SELF_SIGNED_CERT" && err.depth === 0);
  });

  test("an encrypted key loads with its passphrase and fails without or with a wrong one", async () => {
    const pki = testPKI();
    using ctx = new TLSContext({ role: "server", cert: pki.chain, key: pki.encryptedKey, passphrase: PASSPHRASE });
    const r = await serveOnce(ctx, []);
    assert.match(r.output, /Verify return code: 0 \(ok\)/);
    for (const passphrase of [undefined, "wrong"]) {
      assert.throws(() => new TLSContext({ role: "server", cert: pki.chain, key: pki.encryptedKey, ...(passphrase ? { passphrase } : {}) }),
        (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_KEY" && err.message.length > 0);
    }
  });

  test("files work as well as PEM data; a key that does not match the certificate is refused", () => {
    const pki = testPKI();
    new TLSContext({ role: "server", certFile: pki.paths["leaf_chain.pem"]!, keyFile: pki.paths["leaf.key"]!, caFile: pki.paths["root.pem"]! }).close();
    assert.throws(() => new TLSContext({ role: "server", cert: pki.chain, key: readFileSync(pki.paths["self.key"]!, "utf8") }),
      (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_KEY");
    assert.throws(() => new TLSContext({ certFile: "/nonexistent/x.pem", keyFile: "/nonexistent/x.key" }),
      (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_PEM" && /nonexistent/.test(err.message));
  });

  test("resumption on our server: TLS 1.2 with s_client -reconnect, TLS 1.3 tickets with -sess_out/-sess_in", async () => {
    const pki = testPKI();
    {
      using ctx = serverContext({ minVersion: "TLSv1.2" });
      using listener = listenTCPSync("127.0.0.1", 0);
      const { port } = listener.localAddress() as { port: number };
      // (s_client -reconnect of OpenSSL 3.0 does not resume TLS 1.3, even against s_server.)
      const client = runSClient(port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", "-tls1_2", "-reconnect"]);
      try {
        const reused: boolean[] = [];
        for (let i = 0; i < 6; i++) {
          const tls = acceptTLS(listener, ctx, 30_000);
          reused.push(tls.isSessionReused());
          if (i === 5) tls.sendAll(enc.encode("pong\n"));
          tls.close();
        }
        assert.deepEqual(reused, [false, true, true, true, true, true]);
        const output = await client.done;
        assert.equal(output.match(/^Reused, TLSv1\.2/gm)?.length, 5, output);
      } finally {
        await client.kill();
      }
    }
    using ctx = serverContext();
    const file = join(pki.dir, `session-${process.pid}.pem`);
    const first = await serveOnce(ctx, ["-sess_out", file]);
    assert.match(first.output, /^New, TLSv1\.3/m);
    const second = await serveOnce(ctx, ["-sess_in", file]);
    assert.match(second.output, /^Reused, TLSv1\.3/m);
    assert.equal(second.reused, true);
  });

  test("garbage, a plaintext HTTP request and a truncated record each end in a typed error; the next client is served", async () => {
    using ctx = serverContext();
    using listener = listenTCPSync("127.0.0.1", 0);
    const { port } = listener.localAddress() as { port: number };
    const record = Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]); // a ClientHello cut short
    const inputs: Array<[string, Uint8Array, boolean]> = [
      ["HTTP request", enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false],
      ["random bytes", Uint8Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) & 0xff), false],
      ["truncated record then EOF", record, true],
    ];
    for (const [name, bytes, shutWrite] of inputs) {
      // The kernel queues the connection and its bytes, so one thread can play both ends.
      using peer = connectTCPSync("127.0.0.1", port, 2000);
      peer.sendAll(bytes);
      if (shutWrite) peer.shutdown("write");
      assert.throws(() => acceptTLS(listener, ctx, 5000), (err: unknown) => err instanceof TLSHandshakeError && err.message.length > 0, name);
    }
    const r = await serveOnce(ctx, []);
    assert.match(r.output, /Verify return code: 0 \(ok\)/);
  });

  test("SNI: the server picks a context by the client's name (exact and *.), else its default", async () => {
    const pki = testPKI();
    const wrong = new TLSContext({ role: "server", cert: pki.wrongHostChain, key: readFileSync(pki.paths["wronghost.key"]!, "utf8") });
    const self = new TLSContext({ role: "server", cert: pki.selfSigned, key: readFileSync(pki.paths["self.key"]!, "utf8") });
    using ctx = serverContext({ sni: { "wrong.example": wrong, "*.test": self } });
    // The default context keeps the SNI contexts alive after their own close().
    wrong.close();
    self.close();
    const served = async (name: string) => {
      const r = await serveOnce(ctx, ["-servername", name], false);
      return `${/subject=CN = ([^\n]+)/.exec(r.output)?.[1]} / ${/issuer=CN = ([^\n]+)/.exec(r.output)?.[1]}`;
    };
    assert.equal(await served("wrong.example"), "wrong.example / ffinet test intermediate");
    assert.equal(await served("WRONG.example"), "wrong.example / ffinet test intermediate");
    assert.equal(await served("x.test"), "localhost / localhost"); // the self-signed one
    assert.equal(await served("a.x.test"), "localhost / ffinet test intermediate"); // one label only: the default
    assert.equal(await served("localhost"), "localhost / ffinet test intermediate");
    using client = new TLSContext();
    assert.throws(() => new TLSContext({ role: "server", cert: pki.chain, key: pki.key, sni: { x: client as never } }), TypeError);
  });

  test("two pairs (ECDSA and RSA): the client's signature algorithms pick; DER input works", async () => {
    const pki = testPKI();
    using ctx = serverContext({ certificates: [{ cert: pki.rsaChain, key: pki.rsaKey }] });
    const ec = await serveOnce(ctx, ["-sigalgs", "ECDSA+SHA256"]);
    assert.match(ec.output, /Peer signature type: ECDSA/);
    const rsa = await serveOnce(ctx, ["-sigalgs", "rsa_pss_rsae_sha256"]);
    assert.match(rsa.output, /Peer signature type: RSA-PSS/);
    assert.match(rsa.output, /Verify return code: 0 \(ok\)/);
    // One DER certificate (DER holds one object: no chain) and a DER key.
    using der = new TLSContext({ role: "server", cert: pki.leafDER, key: pki.keyDER });
    const r = await serveOnce(der, [], false);
    assert.match(r.output, /subject=CN = localhost/);
    assert.throws(() => serverContext({ certificates: [{ cert: pki.rsaChain }] }), TypeError);
    const otherKey = readFileSync(pki.paths["self.key"]!, "utf8");
    assert.throws(() => serverContext({ certificates: [{ cert: pki.rsaChain, key: otherKey }] }), (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_KEY");
  });

  test("a client that stalls before its ClientHello is dropped at the handshake timeout", () => {
    using ctx = serverContext();
    using listener = listenTCPSync("127.0.0.1", 0);
    const { port } = listener.localAddress() as { port: number };
    using silent = connectTCPSync("127.0.0.1", port, 2000);
    assert.throws(() => acceptTLS(listener, ctx, 300), SocketTimeoutError);
    assert.equal(silent.closed, false);
  });

  test("a peer gone without close_notify is a truncation (ERR_TLS_TRUNCATED)", async () => {
    const pki = testPKI();
    const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!]);
    let closed = false;
    try {
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, timeoutMs: 5000 });
      tls.sendAll(enc.encode("x-marks\n"));
      // Once s_server has printed it, nothing is left unread on its side, so
      // its end comes as a FIN (not a reset).
      for (let i = 0; i < 400 && !server.output().includes("x-marks"); i++) await new Promise((r) => setTimeout(r, 25));
      assert.match(server.output(), /x-marks/);
      await server.close();
      closed = true;
      assert.throws(() => tls.recv(new Uint8Array(16)), (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_TRUNCATED");
    } finally {
      if (!closed) await server.close();
    }
  });

  test("writing to a peer that is gone is a typed error (EPIPE or ECONNRESET), never a SIGPIPE", async () => {
    const pki = testPKI();
    const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!]);
    let closed = false;
    try {
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, timeoutMs: 5000 });
      tls.sendAll(enc.encode("x-marks\n"));
      // Once s_server has printed it, nothing is left unread on its side, so
      // its end comes as a FIN (not a reset).
      for (let i = 0; i < 400 && !server.output().includes("x-marks"); i++) await new Promise((r) => setTimeout(r, 25));
      assert.match(server.output(), /x-marks/);
      await server.close();
      closed = true;
      assert.throws(() => {
        for (let i = 0; i < 8; i++) tls.sendAll(new Uint8Array(64 * 1024));
      }, (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_SYSCALL" && /EPIPE|ECONNRESET/.test(err.message));
    } finally {
      if (!closed) await server.close();
    }
  });
});
