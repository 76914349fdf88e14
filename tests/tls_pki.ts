// A throwaway test PKI made with the `openssl` CLI into a temp dir, once per
// process: root → intermediate → leaves (good for localhost/127.0.0.1/::1,
// expired, not yet valid, wrong host, client), a self-signed leaf and an
// encrypted copy of the good key. Every command is bounded by a timeout.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

export interface TestPKI {
  readonly dir: string;
  /** PEM text of the root CA. */
  readonly root: string;
  readonly intermediate: string;
  /** Leaf + intermediate, the chain a server sends. */
  readonly chain: string;
  readonly key: string;
  /** `key` encrypted with AES-256 under "secret-pass". */
  readonly encryptedKey: string;
  readonly leafOnly: string;
  readonly expiredChain: string;
  readonly futureChain: string;
  readonly wrongHostChain: string;
  readonly selfSigned: string;
  readonly clientChain: string;
  /** An RSA-2048 leaf for localhost (chain) and its key, for a second pair. */
  readonly rsaChain: string;
  readonly rsaKey: string;
  /** The good leaf and its key as DER. */
  readonly leafDER: Uint8Array;
  readonly keyDER: Uint8Array;
  /** A leaf for localhost revoked in the intermediate's CRL. */
  readonly revokedChain: string;
  /** The intermediate's CRL (lists the revoked leaf). */
  readonly intermediateCRL: string;
  /** The root's CRL (lists nothing it issued). */
  readonly rootCRL: string;
  /** Paths of the same files, for `-cert` / `certFile`. */
  readonly paths: Readonly<Record<string, string>>;
}

export const PASSPHRASE = "secret-pass";

let cached: TestPKI | undefined;

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, timeout: 20_000, stdio: ["ignore", "ignore", "pipe"] });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** The PKI, generated on first call. */
export function testPKI(): TestPKI {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "ffinet-tls-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "newcerts"));
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(join(dir, "crlnumber"), "01\n");
  writeFileSync(join(dir, "ca.cnf"), [
    "[ ca ]", "default_ca = test",
    "[ test ]", `dir = ${dir}`, "database = $dir/index.txt", "new_certs_dir = $dir/newcerts",
    "serial = $dir/serial", "default_md = sha256", "default_crl_days = 30", "crlnumber = $dir/crlnumber", "policy = anything", "unique_subject = no",
    "copy_extensions = copy", "email_in_dn = no",
    "[ anything ]", "commonName = supplied",
    "[ leaf_ext ]", "basicConstraints = CA:FALSE", "keyUsage = critical, digitalSignature",
    "extendedKeyUsage = serverAuth, clientAuth",
    "[ int_ext ]", "basicConstraints = critical, CA:TRUE, pathlen:0", "keyUsage = critical, keyCertSign, cRLSign",
    "",
  ].join("\n"));
  openssl(dir, ["req", "-x509", ...EC, "-keyout", "root.key", "-out", "root.pem", "-days", "3650",
    "-subj", "/CN=ffinet test root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  openssl(dir, ["req", "-new", ...EC, "-keyout", "int.key", "-out", "int.csr", "-subj", "/CN=ffinet test intermediate"]);
  openssl(dir, ["ca", "-config", "ca.cnf", "-batch", "-notext", "-keyfile", "root.key", "-cert", "root.pem",
    "-in", "int.csr", "-out", "int.pem", "-days", "3650", "-extensions", "int_ext"]);
  const leaf = (name: string, cn: string, san: string, dates: string[]) => {
    openssl(dir, ["req", "-new", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`]);
    openssl(dir, ["ca", "-config", "ca.cnf", "-batch", "-notext", "-keyfile", "int.key", "-cert", "int.pem",
      "-in", `${name}.csr`, "-out", `${name}.pem`, "-extensions", "leaf_ext", ...dates]);
    writeFileSync(join(dir, `${name}_chain.pem`), readFileSync(join(dir, `${name}.pem`), "utf8") + readFileSync(join(dir, "int.pem"), "utf8"));
  };
  const LOCAL = "DNS:localhost,IP:127.0.0.1,IP:::1";
  leaf("leaf", "localhost", LOCAL, ["-days", "365"]);
  leaf("expired", "localhost", LOCAL, ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"]);
  leaf("future", "localhost", LOCAL, ["-startdate", "20990101000000Z", "-enddate", "20991231000000Z"]);
  leaf("wronghost", "wrong.example", "DNS:wrong.example,IP:10.9.9.9", ["-days", "365"]);
  leaf("client", "ffinet client", "DNS:client.invalid", ["-days", "365"]);
  leaf("revoked", "localhost", LOCAL, ["-days", "365"]);
  openssl(dir, ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.csr", "-subj", "/CN=localhost", "-addext", `subjectAltName=${LOCAL}`]);
  openssl(dir, ["ca", "-config", "ca.cnf", "-batch", "-notext", "-keyfile", "int.key", "-cert", "int.pem", "-in", "rsa.csr", "-out", "rsa.pem", "-extensions", "leaf_ext", "-days", "365"]);
  writeFileSync(join(dir, "rsa_chain.pem"), readFileSync(join(dir, "rsa.pem"), "utf8") + readFileSync(join(dir, "int.pem"), "utf8"));
  openssl(dir, ["x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der"]);
  openssl(dir, ["pkey", "-in", "leaf.key", "-outform", "DER", "-out", "leaf.key.der"]);
  openssl(dir, ["ca", "-config", "ca.cnf", "-keyfile", "int.key", "-cert", "int.pem", "-revoke", "revoked.pem"]);
  openssl(dir, ["ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "int.key", "-cert", "int.pem", "-out", "int.crl.pem"]);
  openssl(dir, ["ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "root.key", "-cert", "root.pem", "-out", "root.crl.pem"]);
  openssl(dir, ["req", "-x509", ...EC, "-keyout", "self.key", "-out", "self.pem", "-days", "365",
    "-subj", "/CN=localhost", "-addext", `subjectAltName=${LOCAL}`]);
  openssl(dir, ["pkey", "-in", "leaf.key", "-aes256", "-passout", `pass:${PASSPHRASE}`, "-out", "leaf_enc.key"]);
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  const files = ["root.pem", "int.pem", "leaf_chain.pem", "leaf.key", "leaf.pem", "expired_chain.pem", "expired.key",
    "future_chain.pem", "future.key", "wronghost_chain.pem", "wronghost.key", "self.pem", "self.key", "client_chain.pem", "client.key", "leaf_enc.key", "revoked_chain.pem", "revoked.key", "int.crl.pem", "root.crl.pem"];
  const paths: Record<string, string> = {};
  for (const f of files) paths[f] = join(dir, f);
  cached = {
    dir,
    root: read("root.pem"),
    intermediate: read("int.pem"),
    chain: read("leaf_chain.pem"),
    key: read("leaf.key"),
    encryptedKey: read("leaf_enc.key"),
    leafOnly: read("leaf.pem"),
    expiredChain: read("expired_chain.pem"),
    futureChain: read("future_chain.pem"),
    wrongHostChain: read("wronghost_chain.pem"),
    selfSigned: read("self.pem"),
    clientChain: read("client_chain.pem"),
    revokedChain: read("revoked_chain.pem"),
    rsaChain: read("rsa_chain.pem"),
    rsaKey: read("rsa.key"),
    leafDER: new Uint8Array(readFileSync(join(dir, "leaf.der"))),
    keyDER: new Uint8Array(readFileSync(join(dir, "leaf.key.der"))),
    intermediateCRL: read("int.crl.pem"),
    rootCRL: read("root.crl.pem"),
    paths,
  };
  return cached;
}
