// OCSP responses for the test PKI (tests/tls_pki.ts), made with `openssl
// ocsp` once per process: the intermediate (the leaves' issuer) answers
// from its CA database for the good leaf ("good"), the revoked leaf
// ("revoked") and, from an empty database, the good leaf again
// ("unknown"); and a response for the good leaf signed by a key nobody
// trusts (the self-signed certificate's). Every command is bounded.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testPKI } from "./tls_pki.ts";

export interface TestOCSP {
  /** DER responses. */
  readonly good: Uint8Array;
  readonly revoked: Uint8Array;
  readonly unknown: Uint8Array;
  readonly untrustedSigner: Uint8Array;
  /** Paths of the same responses, for `ocspResponseFile` and `s_server -status_file`. */
  readonly paths: Readonly<Record<"good" | "revoked" | "unknown" | "untrustedSigner", string>>;
}

let cached: TestOCSP | undefined;

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, timeout: 20_000, stdio: ["ignore", "ignore", "pipe"] });
}

/** The responses, generated on first call. */
export function testOCSP(): TestOCSP {
  if (cached) return cached;
  const { dir } = testPKI();
  writeFileSync(join(dir, "empty_index.txt"), "");
  const respond = (out: string, leaf: string, index: string, signer: string, key: string) => {
    openssl(dir, ["ocsp", "-issuer", "int.pem", "-cert", leaf, "-no_nonce", "-reqout", `${out}.req`]);
    openssl(dir, ["ocsp", "-index", index, "-CA", "int.pem", "-rsigner", signer, "-rkey", key, "-reqin", `${out}.req`, "-respout", `${out}.der`, "-ndays", "7"]);
  };
  respond("ocsp_good", "leaf.pem", "index.txt", "int.pem", "int.key");
  respond("ocsp_revoked", "revoked.pem", "index.txt", "int.pem", "int.key");
  respond("ocsp_unknown", "leaf.pem", "empty_index.txt", "int.pem", "int.key");
  respond("ocsp_untrusted", "leaf.pem", "index.txt", "self.pem", "self.key");
  const paths = {
    good: join(dir, "ocsp_good.der"),
    revoked: join(dir, "ocsp_revoked.der"),
    unknown: join(dir, "ocsp_unknown.der"),
    untrustedSigner: join(dir, "ocsp_untrusted.der"),
  };
  const read = (p: string) => new Uint8Array(readFileSync(p));
  cached = { good: read(paths.good), revoked: read(paths.revoked), unknown: read(paths.unknown), untrustedSigner: read(paths.untrustedSigner), paths };
  return cached;
}
