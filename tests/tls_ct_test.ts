// Certificate Transparency with a user-provided log list (tests/tls_ct_pki.ts):
// openssl s_server sends a signed certificate timestamp from a test log
// (-serverinfo: in the TLS 1.2 ServerHello and the TLS 1.3 Certificate); our client in strict mode accepts it with a log
// list naming that log and refuses it (NO_VALID_SCTS) with one that does
// not, and with no SCT at all; permissive mode lets all of them through.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TLSVerifyError } from "../core/errors.ts";
import { connectTLSSync, type TLSContextOptions } from "../tls/mod.ts";
import { startSServer } from "./tls_helpers.ts";
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
