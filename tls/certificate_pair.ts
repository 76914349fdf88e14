/**
 * Installing a certificate chain and its private key on an `SSL_CTX`. Each
 * call adds the pair for its key type (OpenSSL keeps one per type: RSA,
 * ECDSA, Ed25519, …); chain certificates attach to the pair just set.
 *
 * @example
 * ```ts ignore
 * useCertificatePair(ctx, { certFile: "ec.pem", keyFile: "ec.key" }, "cert");
 * useCertificatePair(ctx, { certFile: "rsa.pem", keyFile: "rsa.key" }, "certificates[0]");
 * ```
 *
 * @module
 */
import { checkOptions } from "../core/options.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import type { Pointer } from "../ffi/types.ts";
import { CTRL } from "./ctrl.ts";
import { tlsError } from "./errors.ts";
import { type CertificatePair, optionalString } from "./options.ts";
import { freeCertificates, type PEMSource, readCertificates, readPrivateKey } from "./pem.ts";

const PAIR_KEYS: ReadonlySet<string> = new Set(["cert", "certFile", "key", "keyFile", "passphrase"]);

/**
 * Adds `pair` to `ctx` and checks that the key matches the certificate.
 *
 * @throws TypeError for an incomplete pair, TLSError ERR_TLS_PEM / ERR_TLS_CERT / ERR_TLS_KEY
 *
 * @example
 * ```ts ignore
 * useCertificatePair(ctx, { cert: chainPem, key: keyPem }, "cert");
 * ```
 */
export function useCertificatePair(ctx: Pointer, pair: CertificatePair, where: string): void {
  if (where !== "cert") checkOptions(pair, PAIR_KEYS, `TLSContext ${where}`);
  if ((pair.cert === undefined && pair.certFile === undefined) || (pair.key === undefined && pair.keyFile === undefined)) {
    throw new TypeError(`TLSContext: ${where} needs cert (or certFile) and key (or keyFile)`);
  }
  const ssl = libssl();
  const source: PEMSource = pair.cert !== undefined ? { data: pair.cert } : { file: pair.certFile! };
  const certs = readCertificates(source, "cert");
  try {
    if (ssl.SSL_CTX_use_certificate(ctx, certs[0]!) !== 1) throw tlsError("ERR_TLS_CERT", "SSL_CTX_use_certificate");
    for (const x of certs.slice(1)) {
      // SSL_CTX_add1_chain_cert: a macro, SSL_CTX_ctrl(CHAIN_CERT, 1, X509 *).
      if (ssl.SSL_CTX_ctrl(ctx, CTRL.SSL_CTRL_CHAIN_CERT, 1, x) !== 1) throw tlsError("ERR_TLS_CERT", "SSL_CTX_add1_chain_cert");
    }
  } finally {
    freeCertificates(certs);
  }
  const passphrase = pair.passphrase === undefined ? undefined : optionalString(pair.passphrase, "passphrase");
  const key = readPrivateKey(pair.key !== undefined ? { data: pair.key } : { file: pair.keyFile! }, passphrase);
  try {
    if (ssl.SSL_CTX_use_PrivateKey(ctx, key) !== 1) throw tlsError("ERR_TLS_KEY", "SSL_CTX_use_PrivateKey", `${where}: the key does not match the certificate`);
  } finally {
    libcrypto().EVP_PKEY_free(key);
  }
  if (ssl.SSL_CTX_check_private_key(ctx) !== 1) throw tlsError("ERR_TLS_KEY", "SSL_CTX_check_private_key", `${where}: the key does not match the certificate`);
}
