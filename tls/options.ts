/**
 * The options of a {@link TLSContext}, their keys (for `checkOptions`) and
 * their checks.
 *
 * @example
 * ```ts
 * import { CONTEXT_KEYS } from "./options.ts";
 * console.log(CONTEXT_KEYS.has("minVersion")); // true
 * ```
 *
 * @module
 */
import type { KeylogTarget } from "./keylog.ts";
import type { PEMInput } from "./pem.ts";

/** A `TLSContext` as seen from the options (avoids an import cycle). */
export interface TLSContextLike {
  /** "client" or "server". */
  readonly role: "client" | "server";
  /** Whether the context has been closed. */
  readonly closed: boolean;
}

/** One certificate chain (leaf first) and its private key. */
export interface CertificatePair {
  /** Certificate chain as PEM (or one DER certificate), leaf first. */
  readonly cert?: PEMInput | readonly PEMInput[];
  /** Certificate chain file. */
  readonly certFile?: string;
  /** Private key as PEM (or DER). */
  readonly key?: PEMInput;
  /** Private key file. */
  readonly keyFile?: string;
  /** Passphrase of an encrypted key. */
  readonly passphrase?: string;
}

/** A protocol version name. */
export type TLSVersion = "TLSv1.2" | "TLSv1.3";

/** What happens when the server shares no ALPN protocol with the client. */
export type ALPNMismatch = "fail" | "ignore";

/** Options of `new TLSContext(options)`. */
export interface TLSContextOptions {
  /** "client" (default) or "server". */
  readonly role?: "client" | "server";
  /** Lowest protocol version (default "TLSv1.3"; "TLSv1.2" opts in to 1.2). */
  readonly minVersion?: TLSVersion;
  /** Highest protocol version (default "TLSv1.3"). */
  readonly maxVersion?: TLSVersion;
  /** TLS 1.2 cipher list in OpenSSL syntax ("ECDHE-ECDSA-AES128-GCM-SHA256:…"). */
  readonly ciphers?: string;
  /** TLS 1.3 suites ("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"). */
  readonly ciphersuites?: string;
  /** Key exchange groups in preference order (["X25519", "P-256"]). */
  readonly groups?: readonly string[];
  /** Certificate chain as PEM, leaf first (one blob or several). */
  readonly cert?: PEMInput | readonly PEMInput[];
  /** Certificate chain PEM file, leaf first. */
  readonly certFile?: string;
  /** Private key as PEM. */
  readonly key?: PEMInput;
  /** Private key PEM file. */
  readonly keyFile?: string;
  /** Passphrase of an encrypted private key. */
  readonly passphrase?: string;
  /**
   * Further certificate/key pairs of other key types (an RSA pair beside an
   * ECDSA one): OpenSSL serves the one the client's signature algorithms allow.
   */
  readonly certificates?: readonly CertificatePair[];
  /** Trusted CA certificates as PEM (one blob or several). */
  readonly ca?: PEMInput | readonly PEMInput[];
  /** Trusted CA PEM file. */
  readonly caFile?: string;
  /**
   * Trust the system store (`SSL_CTX_set_default_verify_paths`, which honours
   * SSL_CERT_FILE / SSL_CERT_DIR). Default: true when neither `ca` nor
   * `caFile` is given; set it with them to add those on top of the system's.
   */
  readonly systemCA?: boolean;
  /**
   * Verify the peer (default true). A client always checks the server's
   * chain and name; a server checks client certificates when `requestCert`.
   * `false` is the explicit opt-out.
   */
  readonly rejectUnauthorized?: boolean;
  /**
   * Server: ask clients for a certificate (mTLS). `true`: required and
   * verified (with `rejectUnauthorized: false`: asked for, anything
   * accepted); "optional": asked for and verified when sent, a client
   * without one goes on (its `peerCertificate()` is null).
   */
  readonly requestCert?: boolean | "optional";
  /** ALPN: the client's offer, or the server's preference order. */
  readonly alpn?: readonly string[];
  /**
   * SPKI pins: base64 SHA-256 of a SubjectPublicKeyInfo ("sha256/…" as
   * HPKP, or bare). After the handshake some certificate of the peer's
   * verified chain (its own certificate alone when `rejectUnauthorized` is
   * false) must match one, else `TLSPinError`.
   */
  readonly pins?: readonly string[];
  /**
   * Log TLS secrets in the NSS key log format (for Wireshark): a file path
   * to append to, `true` for the file named by SSLKEYLOGFILE (nothing when
   * unset), or a function given each line. Off by default.
   */
  readonly keylog?: KeylogTarget;
  /**
   * Server: contexts by the name clients send (SNI): exact names and
   * `*.example.com` (one label). The chosen context's certificate and ALPN
   * serve the connection; protocol range and verification stay this
   * context's. Each must be a server context; it is kept alive while this
   * one is in use. Clients naming nothing listed get this context.
   */
  readonly sni?: Readonly<Record<string, TLSContextLike>>;
  /** Certificate revocation lists as PEM (one blob or several), checked during verification. */
  readonly crl?: PEMInput | readonly PEMInput[];
  /** A PEM file of CRLs. */
  readonly crlFile?: string;
  /**
   * With CRLs: "leaf" (default) checks the peer's certificate against its
   * issuer's CRL; "chain" checks every certificate (each CA then needs a CRL).
   */
  readonly crlCheck?: "leaf" | "chain";
  /**
   * Client: Certificate Transparency. "strict" requires a valid SCT from a
   * known log (else TLSVerifyError NO_VALID_SCTS); "permissive" checks SCTs
   * without failing. Off by default.
   */
  readonly ct?: "strict" | "permissive";
  /** CT log list file (OpenSSL's CTLOG_FILE format); default: OpenSSL's own list. */
  readonly ctLogFile?: string;
  /**
   * Kernel TLS (`SSL_OP_ENABLE_KTLS`): after the handshake the kernel's
   * `tls` module takes over the record layer when it accepts the cipher,
   * and `tlsSendfile` sends files without copying them through user
   * space. Only for fd-mode connections on Linux; where the kernel has no
   * `tls` module (or OpenSSL was built without kTLS) it is a no-op and
   * `tlsInfo(conn).ktls` stays false. `"require"`: as true, but an
   * `UnsupportedError` (ERR_UNSUPPORTED, feature "kTLS") when the kernel
   * has no `tls` protocol (`kernelTLSSupport()` says why). Off by default.
   */
  readonly ktls?: boolean | "require";
  /**
   * Server: signed certificate timestamps for `cert` (RFC 6962), sent in the
   * signed_certificate_timestamp extension to clients that ask (TLS 1.3:
   * in the leaf's Certificate entry; TLS 1.2: in the ServerHello) — for a
   * certificate without embedded SCTs. A SignedCertificateTimestampList
   * (the extension's body), the path of a file holding one, or an array of
   * single serialized SCTs (see tls/sct.ts).
   */
  readonly scts?: Uint8Array | string | readonly Uint8Array[];
  /** Server: no shared ALPN protocol → "fail" (no_application_protocol alert, default) or "ignore". */
  readonly alpnMismatch?: ALPNMismatch;
  /**
   * Server: the session id context (1–32 bytes, default "ffinet"): sessions
   * and tickets resume only on servers with the same one.
   */
  readonly sessionIdContext?: string | Uint8Array;
  /** Server: keep sessions in a cache for resumption by id (default true). */
  readonly sessionCache?: boolean;
  /** Server: the most sessions the cache holds (OpenSSL's default: 20480). */
  readonly sessionCacheSize?: number;
  /** Server: how long a session (cached or ticket) can be resumed, in seconds (OpenSSL's default: 7200). */
  readonly sessionTimeout?: number;
  /**
   * Server: issue stateless session tickets (default true). With false,
   * TLS 1.2 resumes by session id and TLS 1.3 with stateful tickets, both
   * from the cache.
   */
  readonly sessionTickets?: boolean;
  /**
   * Server: ticket keys, newest first, each 80 bytes (16 name, 32 HMAC-SHA256
   * key, 32 AES-256 key), so several servers accept each other's tickets.
   * Default: one random key.
   */
  readonly ticketKeys?: Uint8Array | readonly Uint8Array[];
  /**
   * Server: make a new ticket key when the newest is this old (checked at
   * each ticket; default 12 hours; 0: only by `rotateTicketKeys()`).
   */
  readonly ticketKeyRotationMs?: number;
  /** Server: how many keys older than the newest still decrypt tickets (default 1). */
  readonly ticketKeysKept?: number;
  /** Server: a DER OCSP response to staple when a client asks (refresh with `setOCSPResponse`). */
  readonly ocspResponse?: Uint8Array;
  /**
   * Server: a file holding a DER OCSP response to staple. It is read again
   * when it changed (a look at its modification time and size, at most once
   * per `ocspRefreshMs`, when a client asks for a staple), so a cron job
   * that replaces the file needs no restart; `setOCSPResponse` takes over
   * from the file.
   */
  readonly ocspResponseFile?: string;
  /** Server with `ocspResponseFile`: the least ms between two looks at the file (default 10000; 0: at every handshake that asks). */
  readonly ocspRefreshMs?: number;
  /**
   * Client: ask the server to staple an OCSP response and check it when it
   * does (a revoked or bad one is TLSVerifyError ERR_TLS_OCSP).
   */
  readonly requestOCSP?: boolean;
  /**
   * Client: a staple is required (implies `requestOCSP`): none, or an
   * "unknown" status, fails the handshake (reason OCSP_MISSING / OCSP_UNKNOWN).
   */
  readonly requireOCSP?: boolean;
  /**
   * Refuse a TLS 1.2 handshake without the extended master secret (RFC
   * 7627), on either side: `TLSHandshakeError` ERR_TLS_NO_EXTENDED_MASTER_SECRET
   * after the handshake, no close_notify. Default false, as OpenSSL 3,
   * curl, browsers and Go outside FIPS mode accept such peers. Either way a
   * client never offers such a session for resumption (RFC 7627 §5.3: the
   * next connection makes a full handshake). TLS 1.3 always passes.
   */
  readonly requireExtendedMasterSecret?: boolean;
}

/** The keys of {@link TLSContextOptions}. */
export const CONTEXT_KEYS: ReadonlySet<string> = new Set([
  "role", "minVersion", "maxVersion", "ciphers", "ciphersuites", "groups",
  "cert", "certFile", "key", "keyFile", "passphrase", "certificates", "ca", "caFile", "systemCA",
  "rejectUnauthorized", "requestCert", "alpn", "alpnMismatch", "pins", "keylog", "sni", "crl", "crlFile", "crlCheck", "ct", "ctLogFile", "ktls", "scts",
  "sessionIdContext", "sessionCache", "sessionCacheSize", "sessionTimeout", "sessionTickets", "ticketKeys", "ticketKeyRotationMs", "ticketKeysKept",
  "ocspResponse", "ocspResponseFile", "ocspRefreshMs", "requestOCSP", "requireOCSP", "requireExtendedMasterSecret",
]);

/**
 * Checks a value against a set of allowed strings.
 *
 * @example
 * ```ts
 * import { oneOf } from "./options.ts";
 * console.log(oneOf("client", ["client", "server"], "role")); // "client"
 * ```
 */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new TypeError(`TLSContext: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Checks an optional boolean option.
 *
 * @example
 * ```ts
 * import { optionalBoolean } from "./options.ts";
 * console.log(optionalBoolean(undefined, true, "systemCA")); // true
 * ```
 */
export function optionalBoolean(value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`TLSContext: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

/**
 * Checks an optional non-empty string option without NUL.
 *
 * @example
 * ```ts
 * import { optionalString } from "./options.ts";
 * console.log(optionalString("HIGH", "ciphers")); // "HIGH"
 * ```
 */
export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.includes("\0")) {
    throw new TypeError(`TLSContext: ${name} must be a non-empty string`);
  }
  return value;
}
