/**
 * PEM input for contexts: certificates and private keys from buffers,
 * strings or file paths (a single DER certificate or unencrypted DER key
 * as a `Uint8Array` is read too), read through an OpenSSL memory or file BIO.
 * Every X509 / EVP_PKEY / BIO made here is freed exactly once by its owner.
 *
 * @example
 * ```ts ignore
 * import { readCertificates, freeCertificates } from "./pem.ts";
 * const certs = readCertificates({ file: "/etc/ssl/certs/ca-certificates.crt" }, "ca");
 * freeCertificates(certs);
 * ```
 *
 * @module
 */
import { libcrypto } from "../ffi/libcrypto.ts";
import { cString } from "../ffi/marshal.ts";
import type { Pointer } from "../ffi/types.ts";
import { clearErrors, tlsError } from "./errors.ts";

/** PEM text: a string or its bytes. */
export type PEMInput = string | Uint8Array;

/** Where PEM comes from: in-memory data (one or several blobs) or a file. */
export type PEMSource = { readonly data: PEMInput | readonly PEMInput[] } | { readonly file: string };

const encoder = new TextEncoder();

/** Whether the source is one DER blob (a SEQUENCE, not PEM text). */
function isDER(source: PEMSource): boolean {
  if (!("data" in source)) return false;
  const blob = Array.isArray(source.data) ? (source.data.length === 1 ? source.data[0] : undefined) : source.data;
  return blob instanceof Uint8Array && blob[0] === 0x30;
}

/** Opens a BIO over the source; the caller frees it with BIO_free. */
function openBio(source: PEMSource, what: string): Pointer {
  const lib = libcrypto();
  clearErrors();
  if ("file" in source) {
    if (typeof source.file !== "string" || source.file === "") throw new TypeError(`${what}: file must be a non-empty string`);
    const bio = lib.BIO_new_file(cString(source.file), cString("r"));
    if (bio === null) throw tlsError("ERR_TLS_PEM", `open ${what} file ${JSON.stringify(source.file)}`);
    return bio;
  }
  const blobs = Array.isArray(source.data) ? source.data : [source.data as PEMInput];
  const bio = lib.BIO_new(lib.BIO_s_mem());
  if (bio === null) throw tlsError("ERR_TLS_PEM", "BIO_new");
  for (const blob of blobs) {
    let bytes: Uint8Array;
    if (typeof blob === "string") bytes = encoder.encode(blob);
    else if (blob instanceof Uint8Array) bytes = blob;
    else {
      lib.BIO_free(bio);
      throw new TypeError(`${what}: PEM data must be a string or Uint8Array`);
    }
    // A newline between blobs, so "-----END-----" never runs into "-----BEGIN".
    const withNewline = new Uint8Array(bytes.length + 1);
    withNewline.set(bytes);
    withNewline[bytes.length] = 0x0a;
    if (lib.BIO_write(bio, withNewline, withNewline.length) !== withNewline.length) {
      lib.BIO_free(bio);
      throw tlsError("ERR_TLS_PEM", "BIO_write");
    }
  }
  return bio;
}

/**
 * Reads every certificate of a PEM source, in order (leaf first for a
 * chain). At least one is required. Free them with {@link freeCertificates}.
 *
 * @throws TLSError ERR_TLS_PEM when nothing can be read
 *
 * @example
 * ```ts ignore
 * import { readCertificates } from "./pem.ts";
 * const certs = readCertificates({ data: "-----BEGIN CERTIFICATE-----\n…" }, "cert");
 * ```
 */
export function readCertificates(source: PEMSource, what: string): Pointer[] {
  const lib = libcrypto();
  const bio = openBio(source, what);
  const certs: Pointer[] = [];
  try {
    if (isDER(source)) {
      const x = lib.d2i_X509_bio(bio, null);
      if (x === null) throw tlsError("ERR_TLS_PEM", `read ${what}`, "not a DER certificate");
      certs.push(x);
    }
    for (;;) {
      if (certs.length > 0 && isDER(source)) break;
      const x = lib.PEM_read_bio_X509(bio, null, null, null);
      if (x === null) break;
      certs.push(x);
    }
    // The loop ends on "no start line": expected once something was read.
    if (certs.length === 0) throw tlsError("ERR_TLS_PEM", `read ${what}`, "no PEM certificate found");
    clearErrors();
    return certs;
  } catch (err) {
    freeCertificates(certs);
    throw err;
  } finally {
    lib.BIO_free(bio);
  }
}

/**
 * Frees certificates from {@link readCertificates} (each exactly once: the
 * array is emptied).
 *
 * @example
 * ```ts
 * import { freeCertificates } from "./pem.ts";
 * freeCertificates([]);
 * ```
 */
export function freeCertificates(certs: Pointer[]): void {
  const lib = libcrypto();
  for (const x of certs.splice(0)) lib.X509_free(x);
}

/**
 * Reads a private key (PKCS#8, PKCS#1 or SEC1 PEM; encrypted ones with
 * `passphrase`). Free it with `EVP_PKEY_free`.
 *
 * @throws TLSError ERR_TLS_KEY when the key cannot be read or decrypted
 *
 * @example
 * ```ts ignore
 * import { readPrivateKey } from "./pem.ts";
 * const key = readPrivateKey({ file: "key.pem" }, "secret");
 * ```
 */
export function readPrivateKey(source: PEMSource, passphrase?: string): Pointer {
  const lib = libcrypto();
  const bio = openBio(source, "key");
  try {
    // With no callback, OpenSSL's default one takes `u` as the passphrase;
    // an empty one makes an encrypted key fail instead of prompting.
    const pass = cString(passphrase ?? "");
    const key = isDER(source) ? lib.d2i_PrivateKey_bio(bio, null) : lib.PEM_read_bio_PrivateKey(bio, null, null, pass);
    pass.fill(0);
    if (key === null) {
      throw tlsError("ERR_TLS_KEY", "read private key", passphrase === undefined ? "no PEM key found, or the key is encrypted and no passphrase was given" : "no PEM key found, or wrong passphrase");
    }
    return key;
  } finally {
    lib.BIO_free(bio);
  }
}

/**
 * Adds every CRL of a PEM source to an `X509_STORE` (at least one).
 *
 * @throws TLSError ERR_TLS_CRL when none can be read or added
 *
 * @example
 * ```ts ignore
 * import { addCRLs } from "./pem.ts";
 * addCRLs(store, { file: "intermediate.crl.pem" });
 * ```
 */
export function addCRLs(store: Pointer, source: PEMSource): number {
  const lib = libcrypto();
  const bio = openBio(source, "crl");
  let added = 0;
  try {
    for (;;) {
      const crl = lib.PEM_read_bio_X509_CRL(bio, null, null, null);
      if (crl === null) break;
      const ok = lib.X509_STORE_add_crl(store, crl);
      lib.X509_CRL_free(crl);
      if (ok !== 1) throw tlsError("ERR_TLS_CRL", "X509_STORE_add_crl");
      added++;
    }
    if (added === 0) throw tlsError("ERR_TLS_CRL", "read crl", "no PEM CRL found");
    clearErrors();
    return added;
  } finally {
    lib.BIO_free(bio);
  }
}
