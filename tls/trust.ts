/**
 * A context's trust and verification: CA certificates (data, file, the
 * system store), CRLs with their check depth, and the verify mode and
 * callback for its role (a client verifies unless told not to; a server
 * asks for client certificates only with `requestCert`).
 *
 * @example
 * ```ts ignore
 * setTrust(ctx, { ca: rootPem }, "client", true, false);
 * ```
 *
 * @module
 */
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import type { Pointer } from "../ffi/types.ts";
import { UnsupportedError } from "../core/errors.ts";
import { cString } from "../ffi/marshal.ts";
import { SSL_CT_VALIDATION, SSL_VERIFY, X509_V_FLAG } from "./ctrl.ts";
import { clearErrors, tlsError } from "./errors.ts";
import { oneOf, optionalBoolean, type TLSContextOptions } from "./options.ts";
import { addCRLs, freeCertificates, type PEMSource, readCertificates } from "./pem.ts";
import { acceptAllCallback, verifyCallback } from "./verify.ts";

/**
 * Applies the trust options to `ctx`.
 *
 * @throws TypeError for bad options, TLSError for unreadable CA or CRL input
 *
 * @example
 * ```ts ignore
 * setTrust(ctx, { systemCA: true }, "client", true, false);
 * ```
 */
export function setTrust(ctx: Pointer, options: TLSContextOptions, role: "client" | "server", verify: boolean, requestCert: boolean | "optional"): void {
  const ssl = libssl();
  const sources: PEMSource[] = [];
  if (options.ca !== undefined) sources.push({ data: options.ca });
  if (options.caFile !== undefined) sources.push({ file: options.caFile });
  if (optionalBoolean(options.systemCA, sources.length === 0, "systemCA")) {
    if (ssl.SSL_CTX_set_default_verify_paths(ctx) !== 1) throw tlsError("ERR_TLS_CA", "SSL_CTX_set_default_verify_paths");
  }
  const store = ssl.SSL_CTX_get_cert_store(ctx);
  if (store === null) throw tlsError("ERR_TLS_CA", "SSL_CTX_get_cert_store");
  for (const source of sources) {
    const certs = readCertificates(source, "ca");
    try {
      for (const x of certs) {
        if (libcrypto().X509_STORE_add_cert(store, x) !== 1) throw tlsError("ERR_TLS_CA", "X509_STORE_add_cert");
      }
    } finally {
      freeCertificates(certs);
    }
  }
  const crls: PEMSource[] = [];
  if (options.crl !== undefined) crls.push({ data: options.crl });
  if (options.crlFile !== undefined) crls.push({ file: options.crlFile });
  if (options.crlCheck !== undefined) oneOf(options.crlCheck, ["leaf", "chain"], "crlCheck");
  if (crls.length > 0) {
    for (const source of crls) addCRLs(store, source);
    const flags = options.crlCheck === "chain" ? X509_V_FLAG.CRL_CHECK | X509_V_FLAG.CRL_CHECK_ALL : X509_V_FLAG.CRL_CHECK;
    libcrypto().X509_STORE_set_flags(store, flags);
  } else if (options.crlCheck !== undefined) {
    throw new TypeError("TLSContext: crlCheck needs crl or crlFile");
  }
  if (options.ct !== undefined || options.ctLogFile !== undefined) setCT(ctx, options, role);
  let mode: number = SSL_VERIFY.NONE;
  let callback: Pointer | null = null;
  if (role === "client" && verify) {
    mode = SSL_VERIFY.PEER;
    callback = verifyCallback();
  } else if (role === "server" && requestCert !== false) {
    // "optional": ask and verify what is sent, but a client may send nothing.
    mode = SSL_VERIFY.PEER | (verify && requestCert === true ? SSL_VERIFY.FAIL_IF_NO_PEER_CERT : 0);
    callback = verify ? verifyCallback() : acceptAllCallback();
  }
  ssl.SSL_CTX_set_verify(ctx, mode, callback);
}

function setCT(ctx: Pointer, options: TLSContextOptions, role: "client" | "server"): void {
  if (role !== "client") throw new TypeError("TLSContext: ct is a client option");
  const mode = oneOf(options.ct, ["strict", "permissive"], "ct");
  const ssl = libssl();
  if (ssl.SSL_CTX_enable_ct === undefined || ssl.SSL_CTX_set_ctlog_list_file === undefined || ssl.SSL_CTX_set_default_ctlog_list_file === undefined) {
    throw new UnsupportedError("ct", "this libssl was built without Certificate Transparency");
  }
  const loaded = options.ctLogFile !== undefined
    ? ssl.SSL_CTX_set_ctlog_list_file(ctx, cString(options.ctLogFile))
    : ssl.SSL_CTX_set_default_ctlog_list_file(ctx);
  // Without a readable list, strict mode fails every handshake with NO_VALID_SCTS, which says why.
  if (loaded !== 1 && options.ctLogFile !== undefined) throw tlsError("ERR_TLS_CT", "SSL_CTX_set_ctlog_list_file", JSON.stringify(options.ctLogFile));
  clearErrors();
  if (ssl.SSL_CTX_enable_ct(ctx, mode === "strict" ? SSL_CT_VALIDATION.STRICT : SSL_CT_VALIDATION.PERMISSIVE) !== 1) throw tlsError("ERR_TLS_CT", "SSL_CTX_enable_ct");
}
