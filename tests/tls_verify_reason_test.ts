// A failed certificate check names OpenSSL's reason (red team, twelfth
// pass). The name table held 36 of the 94 `X509_V_ERR_*` codes OpenSSL 3.0
// defines, so a chain under a CA whose name constraints exclude the server
// failed with reason "X509_V_ERR_47" (PERMITTED_VIOLATION), as did other
// path checks (excluded names, key usage, policy, Suite B, the strict
// checks of OpenSSL 3). Each chain is made here with the openssl CLI.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TLSVerifyError } from "../core/errors.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { X509_VERIFY_NAMES, x509VerifyName } from "../tls/ctrl.ts";

const dir = mkdtempSync(join(tmpdir(), "ffinet-reasons-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
function openssl(args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, timeout: 20_000, stdio: ["ignore", "ignore", "pipe"] });
}

/** A root, a CA under it with `caExt`, and a leaf for localhost under that CA: the root PEM, the chain and the key. */
function chain(name: string, caExt: string): { root: string; cert: string; key: string } {
  openssl(["req", "-x509", ...EC, "-keyout", `${name}-root.key`, "-out", `${name}-root.pem`, "-days", "30", "-subj", "/CN=root",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  writeFileSync(join(dir, `${name}-ca.ext`), caExt);
  openssl(["req", "-new", ...EC, "-keyout", `${name}-ca.key`, "-out", `${name}-ca.csr`, "-subj", "/CN=ca"]);
  openssl(["x509", "-req", "-in", `${name}-ca.csr`, "-CA", `${name}-root.pem`, "-CAkey", `${name}-root.key`, "-CAcreateserial",
    "-out", `${name}-ca.pem`, "-days", "30", "-extfile", `${name}-ca.ext`]);
  writeFileSync(join(dir, `${name}-leaf.ext`), "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\n");
  openssl(["req", "-new", ...EC, "-keyout", `${name}-leaf.key`, "-out", `${name}-leaf.csr`, "-subj", "/CN=localhost"]);
  openssl(["x509", "-req", "-in", `${name}-leaf.csr`, "-CA", `${name}-ca.pem`, "-CAkey", `${name}-ca.key`, "-CAcreateserial",
    "-out", `${name}-leaf.pem`, "-days", "30", "-extfile", `${name}-leaf.ext`]);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return { root: read(`${name}-root.pem`), cert: read(`${name}-leaf.pem`) + read(`${name}-ca.pem`), key: read(`${name}-leaf.key`) };
}

/** "ok", or the reason of the TLSVerifyError a client trusting only `root` gets for localhost. */
async function reason(pki: { root: string; cert: string; key: string }): Promise<string> {
  await using server = listenTLS({ port: 0, host: "127.0.0.1", cert: pki.cert, key: pki.key, handler: { data: (c, d) => c.send(d) } });
  try {
    const conn = await connectTLS({ host: "127.0.0.1", port: server.port, ca: pki.root, servername: "localhost" });
    await conn.close();
    return "ok";
  } catch (err) {
    assert.ok(err instanceof TLSVerifyError, String(err));
    return err.reason ?? String(err);
  }
}

describe("TLS client: the reason a chain fails is named", () => {
  test("a CA whose name constraints permit only example.com: PERMITTED_VIOLATION", async () => {
    const pki = chain("permitted", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nnameConstraints=critical,permitted;DNS:example.com\n");
    assert.equal(await reason(pki), "PERMITTED_VIOLATION");
  });

  test("a CA whose name constraints exclude localhost: EXCLUDED_VIOLATION", async () => {
    const pki = chain("excluded", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nnameConstraints=critical,excluded;DNS:localhost\n");
    assert.equal(await reason(pki), "EXCLUDED_VIOLATION");
  });

  test("the same chain shape with a plain CA verifies", async () => {
    assert.equal(await reason(chain("plain", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")), "ok");
  });

  test("every number OpenSSL 3.0 defines has its name; others a stable fallback", () => {
    assert.equal(Object.keys(X509_VERIFY_NAMES).length, 94);
    for (let n = 1; n <= 94; n++) assert.match(x509VerifyName(n), /^[A-Z][A-Z0-9_]*[A-Z0-9]$/, String(n));
    assert.equal(x509VerifyName(47), "PERMITTED_VIOLATION");
    assert.equal(x509VerifyName(10), "CERT_HAS_EXPIRED");
    assert.equal(x509VerifyName(999), "X509_V_ERR_999");
  });
});
