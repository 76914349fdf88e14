// TLS 1.2 and the extended master secret (RFC 7627). By default a peer
// without it is accepted (as OpenSSL 3, curl, browsers and Go outside FIPS
// mode do), but its session is never offered again (§5.3: a client SHOULD
// NOT resume a session without it; the next connection makes a full
// handshake); `requireExtendedMasterSecret` refuses such a handshake on
// either side. The peers without EMS are openssl s_server / s_client under
// an OPENSSL_CONF that sets SSL_OP_NO_EXTENDED_MASTER_SECRET
// (tests/fixtures/openssl_no_ems.cnf).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Connection } from "../poll/connection.ts";
import { connectTLS, listenTLS, tlsConnector, tlsInfo } from "../tls/connect_async.ts";
import { connectTLSSync } from "../tls/connect_sync.ts";
import { TLSContext } from "../tls/context.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const NO_EMS = { OPENSSL_CONF: fileURLToPath(new URL("./fixtures/openssl_no_ems.cnf", import.meta.url)) };
const CODE = "ERR_TLS_NO_EXTENDED_MASTER_SECRET";

function serverArgs(extra: string[] = []): string[] {
  const pki = testPKI();
  return ["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, "-rev", ...extra];
}

/** Writes a line to an `-rev` server and reads its reversed echo. */
async function echo(conn: Connection, line: string): Promise<string> {
  await conn.write(new TextEncoder().encode(line + "\n"));
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += new TextDecoder().decode(chunk);
  }
  return text;
}

describe("RFC 7627 §5.3: a TLS 1.2 session without the extended master secret is not resumed", () => {
  test("tlsConnector against s_server without EMS: each connection makes a full handshake, tlsInfo gives no session; with EMS the second resumes", async () => {
    const pki = testPKI();
    const without = await startSServer(serverArgs(["-tls1_2"]), false, NO_EMS);
    const withEMS = await startSServer(serverArgs(["-tls1_2"]), false);
    try {
      using context = new TLSContext({ ca: pki.root, minVersion: "TLSv1.2" });
      const reused = async (port: number): Promise<boolean[]> => {
        const connector = tlsConnector({ context });
        const seen: boolean[] = [];
        for (let i = 0; i < 3; i++) {
          const conn = await connector({ host: "localhost", port });
          assert.equal(tlsInfo(conn)!.protocol, "TLSv1.2");
          seen.push(tlsInfo(conn)!.isSessionReused());
          assert.equal(await echo(conn, `x${i}`), `${i}x\n`);
          await tlsInfo(conn)!.waitSession(5000);
          await new Promise((resolve) => setTimeout(resolve, 0)); // the connector's store
          await conn.close();
        }
        return seen;
      };
      assert.deepEqual(await reused(without.port), [false, false, false]);
      assert.deepEqual(await reused(withEMS.port), [false, true, true]);

      // The session bytes are never given out, and a wait for them ends at once (no 60 s timer to run out).
      const conn = await connectTLS({ host: "localhost", port: without.port, context });
      assert.equal(tlsInfo(conn)!.session(), null);
      assert.equal(await tlsInfo(conn)!.waitSession(60_000), null);
      await conn.close();
    } finally {
      await without.close();
      await withEMS.close();
    }
  });
});

describe("requireExtendedMasterSecret", () => {
  test("client: a TLS 1.2 server without EMS is refused (async and blocking); with EMS, or over TLS 1.3, it passes", async () => {
    const pki = testPKI();
    const without = await startSServer(serverArgs(["-tls1_2"]), false, NO_EMS);
    const withEMS = await startSServer(serverArgs(["-tls1_2"]), false);
    const tls13 = await startSServer(serverArgs(["-tls1_3"]), false, NO_EMS);
    try {
      const options = { ca: pki.root, minVersion: "TLSv1.2", requireExtendedMasterSecret: true } as const;
      await assert.rejects(connectTLS({ host: "localhost", port: without.port, ...options }), (e: Error & { code?: string; name: string }) => {
        assert.equal(e.code, CODE);
        assert.equal(e.name, "TLSHandshakeError");
        return true;
      });
      assert.throws(() => connectTLSSync({ host: "localhost", port: without.port, timeoutMs: 10_000, ...options }), (e: Error & { code?: string }) => e.code === CODE);
      for (const port of [withEMS.port, tls13.port]) {
        const conn = await connectTLS({ host: "localhost", port, ...options });
        assert.equal(await echo(conn, "ok"), "ko\n");
        await conn.close();
      }
      // Default: accepted.
      const accepted = await connectTLS({ host: "localhost", port: without.port, ca: pki.root, minVersion: "TLSv1.2" });
      assert.equal(await echo(accepted, "ok"), "ko\n");
      await accepted.close();
    } finally {
      await without.close();
      await withEMS.close();
      await tls13.close();
    }
  });

  test("server: a TLS 1.2 client without EMS is refused (counted, onError with the code); a client with EMS is served; without the option both are", async () => {
    const pki = testPKI();
    const errors: (Error & { code?: string })[] = [];
    const opened: string[] = [];
    const serve = (requireExtendedMasterSecret: boolean) => listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      minVersion: "TLSv1.2",
      requireExtendedMasterSecret,
      handler: { open: (conn) => void conn.write(new TextEncoder().encode("hello\n")).then(() => conn.close()) },
      onError: (error) => void errors.push(error),
    });
    await using strict = serve(true);
    await using lenient = serve(false);
    const sclient = async (port: number, env: Record<string, string>) => {
      const out = await runSClient(port, ["-tls1_2", "-servername", "localhost"], env).done;
      opened.push(out.includes("hello") ? "served" : "refused");
      return out;
    };
    assert.match(await sclient(strict.port, NO_EMS), /Extended master secret: no/);
    assert.equal(strict.handshakeErrors, 1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, CODE);
    assert.match(await sclient(strict.port, {}), /Extended master secret: yes/);
    await sclient(lenient.port, NO_EMS);
    assert.deepEqual(opened, ["refused", "served", "served"]);
    assert.equal(errors.length, 1);
  });

  test("bad values are a TypeError", () => {
    assert.throws(() => new TLSContext({ requireExtendedMasterSecret: "yes" as unknown as boolean }), TypeError);
    using strict = new TLSContext({ requireExtendedMasterSecret: true });
    using lenient = new TLSContext();
    assert.equal(strict.requireExtendedMasterSecret, true);
    assert.equal(lenient.requireExtendedMasterSecret, false);
  });
});
