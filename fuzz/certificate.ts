/**
 * Fuzz target for the X.509 reader (`parseCertificate`, tls/certificate.ts),
 * which reads DER a peer sent (`peerCertificate()` and the pinning check):
 * only a `TLSError` ERR_TLS_CERT_PARSE may escape; a certificate it
 * returns has valid dates, an upper-case hex serial, and a `raw` that is
 * a prefix of the input (what follows the outer SEQUENCE is not part of it).
 *
 * @module
 */
import { base64Decode } from "../core/base64.ts";
import { TLSError } from "../core/errors.ts";
import { parseCertificate } from "../tls/certificate.ts";

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./certificate.ts";
 * fuzz(new Uint8Array([0x30, 0x03, 0x30, 0x01, 0x00]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  let cert;
  try {
    cert = parseCertificate(data);
  } catch (e) {
    if (e instanceof TLSError && e.code === "ERR_TLS_CERT_PARSE") return;
    throw e;
  }
  if (Number.isNaN(cert.validFrom.getTime()) || Number.isNaN(cert.validTo.getTime())) throw new Error("an invalid date");
  if (!/^([0-9A-F]{2})*$/.test(cert.serialNumber)) throw new Error(`serial ${cert.serialNumber}`);
  if (!/^([0-9A-F]{2}:)*[0-9A-F]{2}$/.test(cert.fingerprint256)) throw new Error("fingerprint");
  if (cert.raw.length > data.length || cert.raw.some((b, i) => b !== data[i])) throw new Error("raw is not the input's outer element");
  for (const list of [cert.subjectAltNames.dns, cert.subjectAltNames.ip, cert.subjectAltNames.email, cert.subjectAltNames.uri]) {
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) throw new Error("alt names");
  }
}

/** A self-signed P-256 certificate (CN=fuzz.test, SANs of every kind), DER. */
const SELF_SIGNED = "MIIB4TCCAYigAwIBAgIUQoxAi9CNNVtlV4bryJwmwOThcoUwCgYIKoZIzj0EAwIwJTESMBAGA1UEAwwJZnV6ei50ZXN0MQ8wDQYDVQQKDAZmZmluZXQwHhcNMjYxMjA3MDEzMDQ0WhcNMjYxMjA4MDEzMDQ0WjAlMRIwEAYDVQQDDAlmdXp6LnRlc3QxDzANBgNVBAoMBmZmaW5ldDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBf4KxeJ8/vOpMr3o88SHRsucJ+pIU8kjD1dmGwL9Y1b2cENld9dShzBSNRMRR8iKfIjpL6GwUq2MIklVcu1m8qjgZUwgZIwHQYDVR0OBBYEFCPyGRXtfpuMiHN2tZlxzdOeZLzCMB8GA1UdIwQYMBaAFCPyGRXtfpuMiHN2tZlxzdOeZLzCMA8GA1UdEwEB/wQFMAMBAf8wPwYDVR0RBDgwNoIJZnV6ei50ZXN0hwR/AAABhxAAAAAAAAAAAAAAAAAAAAABgQVhQGIuY4YKaHR0cHM6Ly94LzAKBggqhkjOPQQDAgNHADBEAiA/PKlKrR/sNcEtsovE7VK11ohUtIAQ5N5wMBTvV0jhHQIgCXxucbQHxNCurCwLvVnJtP8hy2sVgU6VytAlEJu6Hb4=";

/**
 * Inputs to start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./certificate.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  base64Decode(SELF_SIGNED),
  new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
  new Uint8Array([0x30, 0x00]),
];
