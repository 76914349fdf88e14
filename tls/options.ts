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
  /** Server: ask clients for a certificate (mTLS); required when `rejectUnauthorized`. */
  readonly requestCert?: boolean;
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
  /** Server: no shared ALPN protocol → "fail" (no_application_protocol alert, default) or "ignore". */
  readonly alpnMismatch?: ALPNMismatch;
}

/** The keys of {@link TLSContextOptions}. */
export const CONTEXT_KEYS: ReadonlySet<string> = new Set([
  "role", "minVersion", "maxVersion", "ciphers", "ciphersuites", "groups",
  "cert", "certFile", "key", "keyFile", "passphrase", "certificates", "ca", "caFile", "systemCA",
  "rejectUnauthorized", "requestCert", "alpn", "alpnMismatch", "pins", "keylog", "sni", "crl", "crlFile", "crlCheck", "ct", "ctLogFile",
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
