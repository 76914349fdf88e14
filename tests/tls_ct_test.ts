// Certificate Transparency with a user-provided log list (tests/tls_ct_pki.ts):
// openssl s_server sends a signed certificate timestamp from a test log
// (-serverinfo: in the TLS 1.2 ServerHello and the TLS 1.3 Certificate); our client in strict mode accepts it with a log
// list naming that log and refuses it (NO_VALID_SCTS) with one that does
// not, and with no SCT at all; permissive mode lets all of them through.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TLSVerifyError } from "../core/errors.ts";
import { connectTLSSync, TLSContext, type TLSContextOptions } from "../tls/mod.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { testCT } from "./tls_ct_pki.ts";
import { testPKI } from "./tls_pki.ts";

describe("tls Certificate Transparency with a user log list", () => {
  for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
    test(`${version} strict: a valid SCT from a listed log passes; an unlisted log or no SCT is NO_VALID_SCTS; permissive passes all`, async () => {
      const pki = testPKI();
      const ct = testCT();
      const args = ["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!];
      const serverinfo = version === "TLSv1.3" ? ct.serverinfoV2File : ct.serverinfoFile;
      const withSCT = await startSServer([...args, "-serverinfo", serverinfo], false);
      const without = await startSServer(args, false);
      try {
        const connect = (port: number, extra: Omit<TLSContextOptions, "role">) =>
          connectTLSSync({ host: "localhost", port, ca: pki.root, minVersion: version, maxVersion: version, timeoutMs: 5000, ...extra }).close();
        const noValidSCTs = (err: unknown) => err instanceof TLSVerifyError && err.reason === "NO_VALID_SCTS";
        connect(withSCT.port, { ct: "strict", ctLogFile: ct.logListFile });
        assert.throws(() => connect(withSCT.port, { ct: "strict", ctLogFile: ct.otherLogListFile }), noValidSCTs);
        assert.throws(() => connect(withSCT.port, { ct: "strict" }), noValidSCTs); // OpenSSL's own list: no test log in it
        assert.throws(() => connect(without.port, { ct: "strict", ctLogFile: ct.logListFile }), noValidSCTs);
        connect(withSCT.port, { ct: "permissive", ctLogFile: ct.otherLogListFile });
        connect(without.port, { ct: "permissive", ctLogFile: ct.logListFile });
      } finally {
        await withSCT.close();
        await without.close();
      }
    });
  }
});

describe("tls: our server sends its own SCTs (scts option, the signed_certificate_timestamp extension)", () => {
  const noValidSCTs = (err: unknown) => err instanceof TLSVerifyError && err.reason === "NO_VALID_SCTS";
  for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
    test(`${version}: our strict client with the log list accepts the SCT that comes only in the extension (list, file, single SCTs); without scts or with another log list it is NO_VALID_SCTS`, async () => {
      const pki = testPKI();
      const ct = testCT();
      const sources = [ct.sctList, ct.sctListFile, [ct.sct]];
      for (const scts of sources) {
        const server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, minVersion: "TLSv1.2", scts, handler: { open: (c) => void c.close() } });
        try {
          const connect = (extra: Omit<TLSContextOptions, "role">) =>
            connectTLS({ host: "localhost", port: server.port, ca: pki.root, minVersion: version, maxVersion: version, ...extra }).then((c) => c.close());
          await connect({ ct: "strict", ctLogFile: ct.logListFile });
          await assert.rejects(connect({ ct: "strict", ctLogFile: ct.otherLogListFile }), noValidSCTs);
        } finally {
          server.close();
        }
      }
      const plain = listenTLS({ port: 0, cert: pki.chain, key: pki.key, minVersion: "TLSv1.2", handler: { open: (c) => void c.close() } });
      try {
        await assert.rejects(
          connectTLS({ host: "localhost", port: plain.port, ca: pki.root, minVersion: version, maxVersion: version, ct: "strict", ctLogFile: ct.logListFile }),
          noValidSCTs,
        );
      } finally {
        plain.close();
      }
    });
  }

  test("openssl s_client -ct sees the SCT valid (TLS 1.3 and 1.2); -serverinfo 18 shows the extension (TLS 1.2)", async () => {
    const pki = testPKI();
    const ct = testCT();
    const server = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      minVersion: "TLSv1.2",
      scts: ct.sctList,
      handler: { open: (c) => void c.write(new TextEncoder().encode("pong\n")).then(() => c.close()) },
    });
    try {
      const base = ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost"];
      for (const version of ["-tls1_3", "-tls1_2"]) {
        const out = await runSClient(server.port, [...base, version, "-ct", "-ctlogfile", ct.logListFile]).done;
        assert.match(out, /SCTs present \(1\)/, out);
        assert.match(out, /SCT validation status: valid/, out);
        assert.match(out, /pong/);
      }
      const info = await runSClient(server.port, [...base, "-tls1_2", "-serverinfo", "18"]).done;
      assert.match(info, /SERVERINFO FOR EXTENSION 18/, info);
    } finally {
      server.close();
    }
  });

  test("bad scts are TypeErrors", () => {
    const pki = testPKI();
    const ct = testCT();
    const server = (scts: unknown, role: "server" | "client" = "server") =>
      new TLSContext({ role, ...(role === "server" ? { cert: pki.chain, key: pki.key } : {}), scts: scts as never }).close();
    server(ct.sctList);
    assert.throws(() => server(new Uint8Array([0, 5, 1])), TypeError); // the length says 5, 1 follows
    assert.throws(() => server(ct.sctList.subarray(0, ct.sctList.length - 1)), TypeError);
    assert.throws(() => server([]), TypeError);
    assert.throws(() => server([new Uint8Array(10)]), TypeError); // too short for an SCT
    assert.throws(() => server([Uint8Array.from([1, ...ct.sct.subarray(1)])]), TypeError); // not version 1
    assert.throws(() => server("/nonexistent/leaf.sctlist"), TypeError);
    assert.throws(() => server(42), TypeError);
    assert.throws(() => server(ct.sctList, "client"), TypeError);
  });
});
