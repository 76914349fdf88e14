// Our blocking TLS client (tls/) against `openssl s_server`: TLS 1.3 and
// 1.2, ALPN, SNI (present for names, absent for IP literals), every class
// of bad certificate rejected with its X509 name, and the opt-out.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { SocketTimeoutError, TLSError, TLSHandshakeError, TLSPinError, TLSVerifyError, UseAfterCloseError } from "../core/errors.ts";
import { listenTCPSync } from "../socket/connect.ts";
import { connectTLSSync, TLSContext, TLSSocket } from "../tls/mod.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function serverArgs(cert: string, key: string, extra: string[] = []): string[] {
  const pki = testPKI();
  return ["-cert", pki.paths[cert]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths[key]!, ...extra];
}

describe("tls client against openssl s_server", () => {
  test("TLS 1.3 by default: verified, ALPN, echo (-rev), certificate readable, close_notify", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", ["-alpn", "h2,http/1.1", "-rev"]));
    try {
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, alpn: ["http/1.1", "h2"], timeoutMs: 5000 });
      assert.equal(tls.protocol, "TLSv1.3");
      assert.match(tls.cipher, /^TLS_/);
      assert.equal(tls.alpnProtocol, "h2"); // s_server picks by its own order
      assert.equal(tls.isSessionReused(), false);
      const cert = tls.peerCertificate()!;
      assert.equal(cert.commonName, "localhost");
      assert.equal(cert.issuer, "CN=ffinet test intermediate");
      assert.deepEqual(cert.subjectAltNames.dns, ["localhost"]);
      assert.deepEqual(cert.subjectAltNames.ip, ["127.0.0.1", "::1"]);
      assert.match(cert.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(cert.raw[0], 0x30);
      assert.ok(cert.validFrom < new Date() && new Date() < cert.validTo);
      tls.sendAll(enc.encode("hello\n"));
      const buf = new Uint8Array(64);
      let got = "";
      while (!got.includes("\n")) {
        const n = tls.recv(buf);
        assert.ok(n > 0);
        got += dec.decode(buf.subarray(0, n));
      }
      assert.equal(got, "olleh\n");
      // s_server -rev answers CLOSE with close_notify: a clean end reads as 0.
      tls.sendAll(enc.encode("CLOSE\n"));
      let n: number;
      while ((n = tls.recv(buf)) > 0) assert.ok(n <= buf.length);
      assert.equal(n, 0);
    } finally {
      await server.close();
    }
  });

  test("SNI: sent for a name (s_server switches to -cert2), not for an IP literal", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", [
      "-servername", "localhost", "-cert2", pki.paths["self.pem"]!, "-key2", pki.paths["self.key"]!,
    ]));
    try {
      {
        using tls = connectTLSSync({ host: "localhost", port: server.port, rejectUnauthorized: false, timeoutMs: 5000 });
        assert.equal(tls.peerCertificate()!.issuer, "CN=localhost"); // the self-signed cert2: SNI arrived
      }
      {
        using tls = connectTLSSync({ host: "127.0.0.1", port: server.port, ca: pki.root, timeoutMs: 5000 });
        assert.equal(tls.peerCertificate()!.issuer, "CN=ffinet test intermediate"); // no SNI: the default cert
      }
    } finally {
      await server.close();
    }
  });

  test("TLS 1.2 peer: refused by default with a hint naming minVersion, accepted with minVersion TLSv1.2", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", ["-tls1_2"]));
    try {
      assert.throws(
        () => connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, timeoutMs: 5000 }),
        (err: unknown) => err instanceof TLSHandshakeError && !(err instanceof TLSVerifyError) && /minVersion: "TLSv1.2"/.test(err.message),
      );
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, minVersion: "TLSv1.2", timeoutMs: 5000 });
      assert.equal(tls.protocol, "TLSv1.2");
      assert.match(tls.cipher, /ECDHE-ECDSA/);
    } finally {
      await server.close();
    }
  });

  const BAD: Array<[string, string, string, string, Record<string, unknown>, string, number]> = [
    ["expired", "expired_chain.pem", "expired.key", "localhost", {}, "CERT_HAS_EXPIRED", 0],
    ["not yet valid", "future_chain.pem", "future.key", "localhost", {}, "CERT_NOT_YET_VALID", 0],
    ["wrong host name", "wronghost_chain.pem", "wronghost.key", "localhost", {}, "HOSTNAME_MISMATCH", 0],
    ["wrong IP", "wronghost_chain.pem", "wronghost.key", "127.0.0.1", {}, "IP_ADDRESS_MISMATCH", 0],
    ["self-signed", "self.pem", "self.key", "localhost", {}, "DEPTH_ZERO_SELF_SIGNED_CERT", 0],
    ["unknown issuer", "leaf_chain.pem", "leaf.key", "localhost", { trustSelfOnly: true }, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", 1],
  ];
  for (const [name, cert, key, host, flags, reason, depth] of BAD) {
    test(`rejects a bad certificate: ${name} → ${reason}`, async () => {
      const pki = testPKI();
      const args = cert === "self.pem" ? ["-cert", pki.paths[cert]!, "-key", pki.paths[key]!] : serverArgs(cert, key);
      const server = await startSServer(args);
      try {
        const ca = flags.trustSelfOnly ? pki.selfSigned : pki.root;
        assert.throws(
          () => connectTLSSync({ host, port: server.port, ca, timeoutMs: 5000 }),
          (err: unknown) => {
            assert.ok(err instanceof TLSVerifyError, String(err));
            assert.equal(err.code, "ERR_TLS_VERIFY");
            assert.equal(err.reason, reason);
            assert.equal(err.depth, depth);
            assert.ok(err.message.includes(reason));
            return true;
          },
        );
        // The explicit opt-out connects anyway.
        using tls = connectTLSSync({ host, port: server.port, rejectUnauthorized: false, timeoutMs: 5000 });
        assert.equal(tls.protocol, "TLSv1.3");
      } finally {
        await server.close();
      }
    });
  }

  test("SPKI pins: a chain certificate's pin passes, none matching is TLSPinError; groups are chosen and readable", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    try {
      let leafPin: string;
      {
        using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, groups: ["P-256"], timeoutMs: 5000 });
        leafPin = tls.peerCertificate()!.spkiSha256;
        assert.match(tls.group, /256/);
      }
      {
        using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, groups: ["X25519"], pins: [`sha256/${leafPin}`], timeoutMs: 5000 });
        assert.match(tls.group, /^x25519$/i); // OpenSSL 3 spells it "x25519"
      }
      {
        using tls = connectTLSSync({ host: "localhost", port: server.port, rejectUnauthorized: false, pins: [leafPin], timeoutMs: 5000 });
        assert.equal(tls.protocol, "TLSv1.3");
      }
      const otherPin = btoa(String.fromCharCode(...new Uint8Array(32)));
      assert.throws(() => connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, pins: [otherPin], timeoutMs: 5000 }),
        (err: unknown) => err instanceof TLSPinError && err.code === "ERR_TLS_PIN" && err.message.includes(leafPin));
      assert.throws(() => new TLSContext({ pins: ["not-a-pin"] }), TypeError);
      assert.throws(() => new TLSContext({ groups: ["no-such-group"] }), (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_OPTION");
    } finally {
      await server.close();
    }
  });

  test("keylog: NSS key log lines to a file (TLS 1.3) and to a function (TLS 1.2); a throwing function changes nothing", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    const path = join(pki.dir, `keylog-${process.pid}.txt`);
    try {
      connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, keylog: path, timeoutMs: 5000 }).close();
      const lines = readFileSync(path, "utf8").trimEnd().split("\n");
      const labels = lines.map((l) => l.split(" ")[0]).sort();
      assert.deepEqual(labels, ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "EXPORTER_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"]);
      for (const line of lines) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,96}$/);
      const seen: string[] = [];
      connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", keylog: (l) => seen.push(l), timeoutMs: 5000 }).close();
      assert.equal(seen.length, 1);
      assert.match(seen[0]!, /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, keylog: () => { throw new Error("boom"); }, timeoutMs: 5000 });
      assert.equal(tls.protocol, "TLSv1.3");
      assert.throws(() => new TLSContext({ keylog: "" }), TypeError);
    } finally {
      await server.close();
    }
  });

  test("session export/import: the TLS 1.3 ticket is awaited, the next connection resumes", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    try {
      using ctx = new TLSContext({ ca: pki.root });
      let saved: Uint8Array;
      {
        using tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, timeoutMs: 5000 });
        assert.equal(tls.isSessionReused(), false);
        saved = tls.session(5000)!;
        assert.ok(saved instanceof Uint8Array && saved.length > 0);
      }
      {
        using tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, session: saved, timeoutMs: 5000 });
        assert.equal(tls.isSessionReused(), true);
      }
      assert.throws(() => connectTLSSync({ host: "localhost", port: server.port, context: ctx, session: new Uint8Array([1, 2, 3]), timeoutMs: 5000 }),
        (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_SESSION");
    } finally {
      await server.close();
    }
  });

  test("CRLs: a revoked leaf is CERT_REVOKED; a good one passes; chain mode needs every CA's CRL", async () => {
    const pki = testPKI();
    const revoked = await startSServer(serverArgs("revoked_chain.pem", "revoked.key"));
    const good = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    try {
      const connect = (port: number, extra: Record<string, unknown>) =>
        connectTLSSync({ host: "localhost", port, ca: pki.root, timeoutMs: 5000, ...extra }).close();
      connect(revoked.port, {}); // no CRL given: not checked
      assert.throws(() => connect(revoked.port, { crl: pki.intermediateCRL }),
        (err: unknown) => err instanceof TLSVerifyError && err.reason === "CERT_REVOKED" && err.depth === 0);
      connect(good.port, { crl: pki.intermediateCRL });
      assert.throws(() => connect(good.port, { crl: pki.intermediateCRL, crlCheck: "chain" }),
        (err: unknown) => err instanceof TLSVerifyError && err.reason === "UNABLE_TO_GET_CRL" && err.depth === 1);
      connect(good.port, { crl: [pki.intermediateCRL, pki.rootCRL], crlCheck: "chain" });
      assert.throws(() => connect(revoked.port, { crlFile: pki.paths["int.crl.pem"]!, crlCheck: "chain", crl: pki.rootCRL }),
        (err: unknown) => err instanceof TLSVerifyError && err.reason === "CERT_REVOKED");
      assert.throws(() => new TLSContext({ crl: "not a crl" }), (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_CRL");
    } finally {
      await revoked.close();
      await good.close();
    }
  });

  test("Certificate Transparency: strict refuses a certificate without SCTs (NO_VALID_SCTS), permissive lets it through", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    try {
      assert.throws(() => connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, ct: "strict", timeoutMs: 5000 }),
        (err: unknown) => err instanceof TLSVerifyError && err.reason === "NO_VALID_SCTS");
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, ct: "permissive", timeoutMs: 5000 });
      assert.equal(tls.protocol, "TLSv1.3");
      assert.throws(() => new TLSContext({ role: "server", cert: pki.chain, key: pki.key, ct: "strict" }), TypeError);
      assert.throws(() => new TLSContext({ ct: "strict", ctLogFile: "/nonexistent/ct.cnf" }), (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_CT");
    } finally {
      await server.close();
    }
  });

  test("the system store is used when no CA is given (our test root is not in it)", async () => {
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    try {
      assert.throws(() => connectTLSSync({ host: "localhost", port: server.port, timeoutMs: 5000 }),
        (err: unknown) => err instanceof TLSVerifyError && err.reason === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
      // Extra CAs on top of the system store.
      using tls = connectTLSSync({ host: "localhost", port: server.port, ca: testPKI().root, systemCA: true, timeoutMs: 5000 });
      assert.equal(tls.protocol, "TLSv1.3");
    } finally {
      await server.close();
    }
  });

  test("a peer that never answers the ClientHello ends in SocketTimeoutError", () => {
    using listener = listenTCPSync("127.0.0.1", 0);
    const { port } = listener.localAddress() as { port: number };
    assert.throws(() => connectTLSSync({ host: "127.0.0.1", port, rejectUnauthorized: false, timeoutMs: 300 }), SocketTimeoutError);
  });

  test("use after close throws UseAfterCloseError; close is idempotent", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key"));
    try {
      const ctx = new TLSContext({ ca: pki.root });
      const tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, timeoutMs: 5000 });
      ctx.close();
      using unused = listenTCPSync("127.0.0.1", 0);
      assert.throws(() => TLSSocket.client(unused, ctx, { host: "x" }), UseAfterCloseError);
      assert.equal(tls.protocol, "TLSv1.3"); // the connection keeps its own reference
      tls.close();
      tls.close();
      assert.throws(() => tls.send(new Uint8Array(1)), UseAfterCloseError);
      assert.throws(() => tls.recv(new Uint8Array(1)), UseAfterCloseError);
      assert.throws(() => tls.protocol, UseAfterCloseError);
    } finally {
      await server.close();
    }
  });
});
