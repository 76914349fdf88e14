// mTLS: our client presenting a certificate to our server (each side reads
// the other's certificate as an object, checked against `openssl x509`),
// requestCert required / "optional" / unverified with openssl s_client as
// the client, and CRLs checked on client certificates (leaf and chain).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { TLSHandshakeError, TLSVerifyError } from "../core/errors.ts";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, type Certificate, TLSContext, type TLSContextOptions } from "../tls/mod.ts";
import { runSClient } from "./tls_helpers.ts";
import { ourClientAgainst } from "./tls_our_peers.ts";
import { testPKI } from "./tls_pki.ts";

function serverContext(extra: Omit<TLSContextOptions, "role" | "cert" | "key">): TLSContext {
  const pki = testPKI();
  return new TLSContext({ role: "server", cert: pki.chain, key: pki.key, ...extra });
}

/** What `openssl x509` says of the first certificate in `file`. */
function opensslFacts(file: string) {
  const { dir } = testPKI();
  const sh = (script: string) => execFileSync("sh", ["-c", script, "sh", file], { cwd: dir, timeout: 20_000 });
  const text = sh('openssl x509 -in "$1" -noout -serial -fingerprint -sha256 -enddate').toString();
  return {
    serialNumber: /serial=([0-9A-F]+)/.exec(text)![1]!.replace(/^(00)+(?=.)/, ""),
    fingerprint256: /Fingerprint=([0-9A-F:]+)/.exec(text)![1]!,
    validTo: new Date(/notAfter=(.+)/.exec(text)![1]!),
    spkiSha256: sh('openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64').toString().trim(),
    raw: new Uint8Array(sh('openssl x509 -in "$1" -outform DER')),
  };
}

/** Accepts one s_client (with `args`), says pong, closes; returns the client certificate the server saw. */
async function serveSClient(ctx: TLSContext, args: string[]): Promise<Certificate | null> {
  const pki = testPKI();
  using listener = listenTCPSync("127.0.0.1", 0);
  const { port } = listener.localAddress() as { port: number };
  const client = runSClient(port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", ...args]);
  try {
    const tls = acceptTLS(listener, ctx, 30_000);
    const peer = tls.peerCertificate();
    tls.sendAll(new TextEncoder().encode("pong\n"));
    tls.close();
    assert.match(await client.done, /pong/);
    return peer;
  } finally {
    await client.kill();
  }
}

describe("tls mTLS", () => {
  test("our client with a certificate and our server requiring one: each side reads the other's certificate", async () => {
    const pki = testPKI();
    using ctx = serverContext({ requestCert: true, ca: pki.root });
    let seenByServer: Certificate | null = null;
    const [line] = await ourClientAgainst([ctx], { ca: pki.paths["root.pem"]!, cert: pki.paths["client_chain.pem"]!, key: pki.paths["client.key"]! }, {
      after: (_i, side) => {
        assert.equal(side.error, undefined, String(side.error));
        seenByServer = side.tls!.peerCertificate();
      },
    });
    assert.equal(line!.error, undefined, JSON.stringify(line));
    // The server's view of the client.
    const client = seenByServer! as Certificate;
    const clientFacts = opensslFacts(pki.paths["client_chain.pem"]!);
    assert.equal(client.subject, "CN=ffinet client");
    assert.equal(client.issuer, "CN=ffinet test intermediate");
    assert.deepEqual(client.subjectAltNames.dns, ["client.invalid"]);
    assert.equal(client.serialNumber, clientFacts.serialNumber);
    assert.equal(client.fingerprint256, clientFacts.fingerprint256);
    assert.equal(client.spkiSha256, clientFacts.spkiSha256);
    assert.equal(client.validTo.getTime(), clientFacts.validTo.getTime());
    assert.ok(client.validFrom < client.validTo);
    assert.deepEqual(client.raw, clientFacts.raw);
    // The client's view of the server.
    const serverFacts = opensslFacts(pki.paths["leaf_chain.pem"]!);
    const peer = line!.peer!;
    assert.equal(peer.subject, "CN=localhost");
    assert.equal(peer.issuer, "CN=ffinet test intermediate");
    assert.deepEqual(peer.dns, ["localhost"]);
    assert.equal(peer.serialNumber, serverFacts.serialNumber);
    assert.equal(peer.fingerprint256, serverFacts.fingerprint256);
    assert.equal(peer.spkiSha256, serverFacts.spkiSha256);
    assert.equal(new Date(peer.validTo).getTime(), serverFacts.validTo.getTime());
    assert.equal(peer.rawLength, serverFacts.raw.length);
  });

  test('requestCert "optional": no certificate goes on, a trusted one is read, an untrusted one is refused', async () => {
    const pki = testPKI();
    using ctx = serverContext({ requestCert: "optional", ca: pki.root });
    assert.equal(await serveSClient(ctx, []), null);
    const peer = await serveSClient(ctx, ["-cert", pki.paths["client_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["client.key"]!]);
    assert.equal(peer!.commonName, "ffinet client");
    await assert.rejects(serveSClient(ctx, ["-cert", pki.paths["self.pem"]!, "-key", pki.paths["self.key"]!]),
      (err: unknown) => err instanceof TLSVerifyError && err.reason === "DEPTH_ZERO_SELF_SIGNED_CERT" && err.depth === 0);
    assert.throws(() => serverContext({ requestCert: "always" as never }), TypeError);
  });

  test("requestCert with rejectUnauthorized: false asks but accepts any certificate (or none)", async () => {
    const pki = testPKI();
    using ctx = serverContext({ requestCert: true, rejectUnauthorized: false });
    const peer = await serveSClient(ctx, ["-cert", pki.paths["self.pem"]!, "-key", pki.paths["self.key"]!]);
    assert.equal(peer!.issuer, "CN=localhost"); // self-signed, unverified, still readable
    assert.equal(await serveSClient(ctx, []), null);
  });

  test("CRLs on client certificates: a revoked one is CERT_REVOKED; chain mode needs every CA's CRL", async () => {
    const pki = testPKI();
    const revoked = ["-cert", pki.paths["revoked_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["revoked.key"]!];
    const good = ["-cert", pki.paths["client_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["client.key"]!];
    {
      using ctx = serverContext({ requestCert: true, ca: pki.root, crl: pki.intermediateCRL });
      await assert.rejects(serveSClient(ctx, revoked), (err: unknown) => err instanceof TLSVerifyError && err.reason === "CERT_REVOKED" && err.depth === 0);
      assert.equal((await serveSClient(ctx, good))!.commonName, "ffinet client");
    }
    {
      using ctx = serverContext({ requestCert: true, ca: pki.root, crl: pki.intermediateCRL, crlCheck: "chain" });
      await assert.rejects(serveSClient(ctx, good), (err: unknown) => err instanceof TLSVerifyError && err.reason === "UNABLE_TO_GET_CRL" && err.depth === 1);
    }
    {
      using ctx = serverContext({ requestCert: true, ca: pki.root, crl: [pki.intermediateCRL, pki.rootCRL], crlCheck: "chain" });
      assert.equal((await serveSClient(ctx, good))!.commonName, "ffinet client");
      await assert.rejects(serveSClient(ctx, revoked), (err: unknown) => err instanceof TLSHandshakeError && (err as TLSVerifyError).reason === "CERT_REVOKED");
    }
  });
});
