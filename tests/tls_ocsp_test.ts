// OCSP stapling with responses made by `openssl ocsp` (tests/tls_ocsp_pki.ts):
// our server staples (from a buffer or a file, refreshed with
// setOCSPResponse) for `openssl s_client -status` and for our own client;
// our client asks `openssl s_server -status_file` and checks the staple
// (signature against the chain, the certificate it covers, its status),
// failing with TLSVerifyError ERR_TLS_OCSP when it is revoked or bad, or
// missing when required.
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { TLSVerifyError } from "../core/errors.ts";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, connectTLSSync, TLSContext, type TLSContextOptions } from "../tls/mod.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { ourClientAgainst } from "./tls_our_peers.ts";
import { testOCSP } from "./tls_ocsp_pki.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();

function serverContext(extra: Omit<TLSContextOptions, "role" | "cert" | "key"> = {}, chain = "leaf"): TLSContext {
  const pki = testPKI();
  const cert = chain === "leaf" ? pki.chain : pki.revokedChain;
  const key = chain === "leaf" ? pki.key : undefined;
  return new TLSContext({ role: "server", cert, ...(key ? { key } : { keyFile: pki.paths["revoked.key"]! }), ...extra });
}

/** Accepts one `openssl s_client` (with `args`), says pong, closes; returns its output. */
async function sClientAgainst(ctx: TLSContext, args: string[]): Promise<string> {
  const pki = testPKI();
  using listener = listenTCPSync("127.0.0.1", 0);
  const { port } = listener.localAddress() as { port: number };
  const client = runSClient(port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", ...args]);
  try {
    const tls = acceptTLS(listener, ctx, 30_000);
    tls.sendAll(enc.encode("pong\n"));
    tls.close();
    return await client.done;
  } finally {
    await client.kill();
  }
}

function isOCSPError(reason: string) {
  return (err: unknown) => err instanceof TLSVerifyError && err.code === "ERR_TLS_OCSP" && err.reason === reason && err.message.includes(reason);
}

describe("tls OCSP stapling", () => {
  test("our server staples from a buffer or a file, refreshed by setOCSPResponse; openssl s_client -status shows it", async () => {
    const ocsp = testOCSP();
    using ctx = serverContext({ ocspResponse: ocsp.good });
    const good = await sClientAgainst(ctx, ["-status"]);
    assert.match(good, /OCSP Response Status: successful/);
    assert.match(good, /Cert Status: good/);
    assert.match(good, /pong/);
    ctx.setOCSPResponse(ocsp.revoked);
    assert.match(await sClientAgainst(ctx, ["-status"]), /Cert Status: revoked/);
    ctx.setOCSPResponse(null);
    assert.match(await sClientAgainst(ctx, ["-status"]), /OCSP response: no response sent/);
    using fromFile = serverContext({ ocspResponseFile: ocsp.paths.good });
    assert.match(await sClientAgainst(fromFile, ["-status"]), /Cert Status: good/);
    // A client that does not ask gets nothing stapled.
    assert.doesNotMatch(await sClientAgainst(fromFile, []), /OCSP Response Status/);
  });

  test("our client against openssl s_server -status_file: good passes, revoked and bad fail with their reasons", async () => {
    const pki = testPKI();
    const ocsp = testOCSP();
    const garbage = join(pki.dir, `ocsp-garbage-${process.pid}.der`);
    writeFileSync(garbage, Uint8Array.from([0x30, 0x03, 0x0a, 0x01, 0x01])); // a DER "malformedRequest" response
    const serve = (cert: string, key: string, status?: string) =>
      startSServer(["-cert", pki.paths[cert]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths[key]!, ...(status ? ["-status_file", status] : [])], false);
    const servers = {
      good: await serve("leaf_chain.pem", "leaf.key", ocsp.paths.good),
      revoked: await serve("revoked_chain.pem", "revoked.key", ocsp.paths.revoked),
      unknown: await serve("leaf_chain.pem", "leaf.key", ocsp.paths.unknown),
      untrusted: await serve("leaf_chain.pem", "leaf.key", ocsp.paths.untrustedSigner),
      otherCert: await serve("leaf_chain.pem", "leaf.key", ocsp.paths.revoked), // covers the revoked leaf, not this one
      garbage: await serve("leaf_chain.pem", "leaf.key", garbage),
      none: await serve("leaf_chain.pem", "leaf.key"),
      revoked12: await startSServer(["-cert", pki.paths["revoked_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["revoked.key"]!, "-tls1_2", "-status_file", ocsp.paths.revoked], false),
    };
    try {
      const connect = (server: keyof typeof servers, extra: Omit<TLSContextOptions, "role">) =>
        connectTLSSync({ host: "localhost", port: servers[server].port, ca: pki.root, timeoutMs: 5000, ...extra });
      {
        using tls = connect("good", { requireOCSP: true });
        assert.equal(tls.ocspStatus, "good");
        assert.deepEqual(tls.ocspResponse(), ocsp.good);
      }
      {
        using tls = connect("good", {});
        assert.equal(tls.ocspStatus, null); // not asked for
        assert.equal(tls.ocspResponse(), null);
      }
      assert.throws(() => connect("revoked", { requestOCSP: true }), isOCSPError("OCSP_REVOKED"));
      // TLS 1.2 carries the staple in a CertificateStatus message instead of the Certificate.
      assert.throws(() => connect("revoked12", { requestOCSP: true, minVersion: "TLSv1.2" }), isOCSPError("OCSP_REVOKED"));
      assert.throws(() => connect("untrusted", { requestOCSP: true }), isOCSPError("OCSP_INVALID"));
      assert.throws(() => connect("otherCert", { requestOCSP: true }), isOCSPError("OCSP_INVALID"));
      assert.throws(() => connect("garbage", { requestOCSP: true }), isOCSPError("OCSP_INVALID"));
      assert.throws(() => connect("none", { requireOCSP: true }), isOCSPError("OCSP_MISSING"));
      assert.throws(() => connect("unknown", { requireOCSP: true }), isOCSPError("OCSP_UNKNOWN"));
      {
        using tls = connect("unknown", { requestOCSP: true });
        assert.equal(tls.ocspStatus, "unknown");
      }
      {
        using tls = connect("none", { requestOCSP: true });
        assert.equal(tls.ocspStatus, "none");
      }
      // Without chain verification the staple's own signature is still checked.
      {
        using tls = connect("good", { rejectUnauthorized: false, requireOCSP: true });
        assert.equal(tls.ocspStatus, "good");
      }
      // A resumed session has no certificate exchange: nothing to check, not a failure.
      using ctx = new TLSContext({ ca: pki.root, requireOCSP: true });
      let saved: Uint8Array;
      {
        using tls = connectTLSSync({ host: "localhost", port: servers.good.port, context: ctx, timeoutMs: 5000 });
        saved = tls.session(5000)!;
      }
      using again = connectTLSSync({ host: "localhost", port: servers.good.port, context: ctx, session: saved, timeoutMs: 5000 });
      assert.equal(again.isSessionReused(), true);
      assert.equal(again.ocspStatus, "none");
    } finally {
      for (const server of Object.values(servers)) await server.close();
    }
  });

  test("our client against our server: stapled and checked, a revoked staple refused, a missing one refused when required", async () => {
    const pki = testPKI();
    const ocsp = testOCSP();
    using good = serverContext({ ocspResponse: ocsp.good });
    using revoked = serverContext({ ocspResponse: ocsp.revoked }, "revoked");
    using none = serverContext();
    const [r1, r2, r3] = await ourClientAgainst([good, revoked, none], { ca: pki.paths["root.pem"]!, requireOCSP: true }, { resume: false });
    assert.equal(r1!.ocspStatus, "good", JSON.stringify(r1));
    assert.equal(r1!.text, "pong");
    assert.equal(r2!.error?.reason, "OCSP_REVOKED", JSON.stringify(r2));
    assert.equal(r2!.error?.code, "ERR_TLS_OCSP");
    assert.equal(r3!.error?.reason, "OCSP_MISSING", JSON.stringify(r3));
  });

  test("async connectTLS on the loop checks the staple the same way", async () => {
    const pki = testPKI();
    const ocsp = testOCSP();
    const args = (status?: string) => ["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, ...(status ? ["-status_file", status] : [])];
    const good = await startSServer(args(ocsp.paths.good), false);
    const none = await startSServer(args(), false);
    try {
      const conn = await connectTLS({ host: "localhost", port: good.port, ca: pki.root, requireOCSP: true });
      assert.equal(tlsInfo(conn)!.ocspStatus, "good");
      await conn.close();
      await assert.rejects(connectTLS({ host: "localhost", port: none.port, ca: pki.root, requireOCSP: true }), isOCSPError("OCSP_MISSING"));
    } finally {
      await good.close();
      await none.close();
    }
  });

  test("ocspResponseFile is read again when the file is replaced (s_client -status and our client see the new staple); a bad file keeps the last one; setOCSPResponse takes over", async () => {
    const pki = testPKI();
    const ocsp = testOCSP();
    const dir = mkdtempSync(join(pki.dir, "staple-"));
    const file = join(dir, "staple.der");
    let stamp = 1_700_000_000;
    /** Replaces the file as a cron job would (write beside, rename over), with its own modification time. */
    const replace = (bytes: Uint8Array) => {
      const next = join(dir, "next.der");
      writeFileSync(next, bytes);
      stamp += 60;
      utimesSync(next, stamp, stamp);
      renameSync(next, file);
    };
    try {
      replace(ocsp.good);
      using ctx = serverContext({ ocspResponseFile: file, ocspRefreshMs: 0 });
      assert.match(await sClientAgainst(ctx, ["-status"]), /Cert Status: good/);
      replace(ocsp.revoked);
      assert.match(await sClientAgainst(ctx, ["-status"]), /Cert Status: revoked/);
      // Our client on the loop, against our server on the loop, sees it too.
      const server = listenTLS({ port: 0, context: ctx, handler: { data: (c, d) => void c.send(d) } });
      try {
        // (The revoked response covers another certificate: our client would call it invalid.)
        replace(ocsp.unknown);
        const first = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, requestOCSP: true });
        assert.equal(tlsInfo(first)!.ocspStatus, "unknown");
        await first.close();
        replace(ocsp.good);
        const conn = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, requestOCSP: true });
        assert.equal(tlsInfo(conn)!.ocspStatus, "good");
        await conn.close();
        // Not an OCSP response: the last good one stays.
        replace(new Uint8Array([1, 2, 3]));
        const still = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, requestOCSP: true });
        assert.equal(tlsInfo(still)!.ocspStatus, "good");
        await still.close();
      } finally {
        server.close();
      }
      // setOCSPResponse takes over from the file.
      ctx.setOCSPResponse(ocsp.unknown);
      replace(ocsp.revoked);
      assert.match(await sClientAgainst(ctx, ["-status"]), /Cert Status: unknown/);
      // A long ocspRefreshMs: the file is not looked at again yet.
      replace(ocsp.good);
      using slow = serverContext({ ocspResponseFile: file, ocspRefreshMs: 3_600_000 });
      replace(ocsp.revoked);
      assert.match(await sClientAgainst(slow, ["-status"]), /Cert Status: good/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bad OCSP options are TypeErrors; use after close throws", () => {
    const pki = testPKI();
    const ocsp = testOCSP();
    assert.throws(() => serverContext({ ocspResponse: new Uint8Array([1, 2, 3]) }), TypeError);
    assert.throws(() => serverContext({ ocspResponseFile: join(pki.dir, "no-such-response.der") }), TypeError);
    assert.throws(() => serverContext({ ocspResponse: ocsp.good, ocspResponseFile: ocsp.paths.good }), TypeError);
    assert.throws(() => serverContext({ requestOCSP: true }), TypeError);
    assert.throws(() => serverContext({ ocspResponse: ocsp.good, ocspRefreshMs: 10 }), TypeError);
    assert.throws(() => serverContext({ ocspResponseFile: ocsp.paths.good, ocspRefreshMs: -1 }), RangeError);
    assert.throws(() => new TLSContext({ ocspRefreshMs: 10 }), TypeError);
    assert.throws(() => new TLSContext({ ocspResponse: ocsp.good }), TypeError);
    assert.throws(() => new TLSContext({ requireOCSP: true, requestOCSP: false }), TypeError);
    using client = new TLSContext({ requestOCSP: true });
    assert.throws(() => client.setOCSPResponse(ocsp.good), TypeError);
    const server = serverContext();
    assert.throws(() => server.setOCSPResponse("x" as never), TypeError);
    server.close();
    assert.throws(() => server.setOCSPResponse(ocsp.good), (err: unknown) => (err as Error).name === "UseAfterCloseError");
  });
});
