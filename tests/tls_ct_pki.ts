// Certificate Transparency material for the test PKI (tests/tls_pki.ts):
// a test CT log (an ECDSA P-256 key), a CT log list naming it (OpenSSL's
// CTLOG_FILE format), and a signed certificate timestamp from that log for
// the good leaf (RFC 6962 §3.2, an x509_entry), packed as an `s_server
// -serverinfo` file so the server sends it in the signed_certificate_timestamp
// extension. Signing uses the `openssl` CLI; every command is bounded.
import { execFileSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testPKI } from "./tls_pki.ts";

export interface TestCT {
  /** A log list (CTLOG_FILE format) naming only the test log. */
  readonly logListFile: string;
  /** A log list naming another log (a fresh key) instead. */
  readonly otherLogListFile: string;
  /** `s_server -serverinfo` file: the leaf's SCT from the test log (SERVERINFO v1: TLS 1.2 ServerHello). */
  readonly serverinfoFile: string;
  /** The same SCT as SERVERINFOV2 for the TLS 1.3 Certificate message. */
  readonly serverinfoV2File: string;
  /** The leaf's SCT alone (a serialized SignedCertificateTimestamp). */
  readonly sct: Uint8Array;
  /** The SignedCertificateTimestampList holding it (the extension's body), and a file with it. */
  readonly sctList: Uint8Array;
  readonly sctListFile: string;
}

let cached: TestCT | undefined;

function openssl(dir: string, args: string[]): Buffer {
  return execFileSync("openssl", args, { cwd: dir, timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function logList(dir: string, name: string, key: string): string {
  openssl(dir, ["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key]);
  const spki = openssl(dir, ["pkey", "-in", key, "-pubout", "-outform", "DER"]);
  const file = join(dir, `${name}.cnf`);
  writeFileSync(file, `enabled_logs = ${name}\n\n[${name}]\ndescription = ffinet ${name}\nkey = ${spki.toString("base64")}\n`);
  return file;
}

/** The material, generated on first call. */
export function testCT(): TestCT {
  if (cached) return cached;
  const { dir } = testPKI();
  const logListFile = logList(dir, "ct_test_log", "ctlog.key");
  const otherLogListFile = logList(dir, "ct_other_log", "ctlog_other.key");
  const spki = openssl(dir, ["pkey", "-in", "ctlog.key", "-pubout", "-outform", "DER"]);
  const logId = createHash("sha256").update(spki).digest();
  const cert = readFileSync(join(dir, "leaf.der"));
  const timestamp = new DataView(new ArrayBuffer(8));
  timestamp.setBigUint64(0, BigInt(Date.now() - 60_000)); // a minute ago: SCTs from the future are invalid
  const ts = [...new Uint8Array(timestamp.buffer)];
  // digitally-signed struct: version v1, certificate_timestamp, timestamp,
  // x509_entry, the certificate (24-bit length), no extensions.
  const signed = Uint8Array.from([0, 0, ...ts, ...u16(0), (cert.length >> 16) & 0xff, ...u16(cert.length & 0xffff), ...cert, ...u16(0)]);
  writeFileSync(join(dir, "sct_input.bin"), signed);
  const signature = openssl(dir, ["dgst", "-sha256", "-sign", "ctlog.key", "sct_input.bin"]);
  // SignedCertificateTimestamp: v1, log id, timestamp, no extensions,
  // DigitallySigned (sha256 = 4, ecdsa = 3, signature).
  const sct = [0, ...logId, ...ts, ...u16(0), 4, 3, ...u16(signature.length), ...signature];
  const list = [...u16(sct.length + 2), ...u16(sct.length), ...sct];
  const extension = Uint8Array.from([...u16(18), ...u16(list.length), ...list]); // signed_certificate_timestamp
  const base64 = Buffer.from(extension).toString("base64").replace(/.{64}/g, "$&\n");
  const serverinfoFile = join(dir, "leaf_sct.serverinfo.pem");
  writeFileSync(serverinfoFile, `-----BEGIN SERVERINFO FOR CT-----\n${base64}\n-----END SERVERINFO FOR CT-----\n`);
  // v2 prefixes each extension with its contexts (ssl.h SSL_EXT_*):
  // CLIENT_HELLO (0x80) | TLS1_3_CERTIFICATE (0x1000).
  const v2 = Buffer.concat([Buffer.from([0, 0, 0x10, 0x80]), extension]).toString("base64").replace(/.{64}/g, "$&\n");
  const serverinfoV2File = join(dir, "leaf_sct.serverinfo_v2.pem");
  writeFileSync(serverinfoV2File, `-----BEGIN SERVERINFOV2 FOR CT-----\n${v2}\n-----END SERVERINFOV2 FOR CT-----\n`);
  const sctListFile = join(dir, "leaf.sctlist");
  writeFileSync(sctListFile, Uint8Array.from(list));
  cached = { logListFile, otherLogListFile, serverinfoFile, serverinfoV2File, sct: Uint8Array.from(sct), sctList: Uint8Array.from(list), sctListFile };
  return cached;
}
