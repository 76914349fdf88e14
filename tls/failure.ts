/**
 * Why a handshake failed, as a typed error: a {@link TLSVerifyError} with
 * the X509 error name and depth when the peer's certificate was rejected,
 * else a {@link TLSHandshakeError} carrying OpenSSL's error queue — with a
 * hint naming `minVersion` when the peer only spoke an older protocol than
 * this context allows, or saying that the peer's bytes were no TLS.
 *
 * @example
 * ```ts
 * import { protocolHint } from "./failure.ts";
 * console.log(protocolHint("error:0A000102:SSL routines::unsupported protocol", "TLSv1.3") !== "");
 * ```
 *
 * @module
 */
import { TLSError, TLSHandshakeError, TLSPinError, TLSVerifyError } from "../core/errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { readCString } from "../ffi/marshal.ts";
import { errnoName } from "../ffi/platform.ts";
import type { Pointer } from "../ffi/types.ts";
import { isIP } from "../socket/address.ts";
import { SSL_ERROR, X509_V_OK, x509VerifyName } from "./ctrl.ts";
import { drainErrors } from "./errors.ts";
import type { TLSVersion } from "./options.ts";
import { takeVerifyFailure } from "./verify.ts";
import { contextPins, type TLSContext } from "./context.ts";
import { extendedMasterSecret } from "./session.ts";
import { certificateNames } from "./ssl_setup.ts";
import { peerChainPins } from "./x509.ts";

/** What the connection knows about its failed handshake call. */
export interface HandshakeFailure {
  readonly ssl: Pointer;
  readonly what: string;
  /** `SSL_get_error` result. */
  readonly code: number;
  /** errno after SSL_ERROR_SYSCALL, else 0. */
  readonly errno: number;
  /** Whether this end verified the peer's chain. */
  readonly verify: boolean;
  readonly minVersion: TLSVersion;
}

const VERSION_TROUBLE = /unsupported protocol|protocol version|no protocols available|version too low/i;
/** OpenSSL's words for bytes that are no TLS record at all (a plaintext service, garbage). */
const NOT_TLS = /wrong version number|http request|https proxy request|packet length too long/i;

/**
 * The hint appended when a TLS 1.3-only context met an older peer, or when
 * the peer's bytes were no TLS at all (not a version matter: lowering
 * `minVersion` would not help), else "".
 *
 * @example
 * ```ts
 * import { protocolHint } from "./failure.ts";
 * console.log(protocolHint("bad certificate", "TLSv1.3")); // ""
 * console.log(protocolHint("error:0A00010B:SSL routines::wrong version number", "TLSv1.3")); // the peer did not speak TLS …
 * ```
 */
export function protocolHint(queue: string, minVersion: TLSVersion): string {
  if (NOT_TLS.test(queue)) return "the peer did not speak TLS (a plaintext service on this port?)";
  if (minVersion !== "TLSv1.3" || !VERSION_TROUBLE.test(queue)) return "";
  return 'the peer does not speak TLS 1.3 and this context allows TLS 1.3 only; pass minVersion: "TLSv1.2" to allow TLS 1.2';
}

/**
 * The typed error for a failed handshake call (drains the error queue).
 *
 * @example
 * ```ts ignore
 * throw classifyHandshakeFailure({ ssl, what: "handshake", code, errno: 0, verify: true, minVersion: "TLSv1.3" });
 * ```
 */
export function classifyHandshakeFailure(f: HandshakeFailure): TLSHandshakeError {
  const queue = drainErrors().join("; ");
  const recorded = takeVerifyFailure(f.ssl);
  const result = f.verify ? libssl().SSL_get_verify_result(f.ssl) : X509_V_OK;
  if (result !== X509_V_OK || recorded !== null) {
    const code = result !== X509_V_OK ? result : recorded!.code;
    const depth = recorded !== null && recorded.code === code ? recorded.depth : -1;
    const reason = x509VerifyName(code);
    const text = readCString(libcrypto().X509_verify_cert_error_string(code));
    const at = depth >= 0 ? ` at depth ${depth}` : "";
    return new TLSVerifyError("ERR_TLS_VERIFY", `certificate verification failed: ${text} (${reason})${at}${queue ? `: ${queue}` : ""}`, {
      reason,
      depth,
      syscall: f.what,
    });
  }
  const parts = [`TLS ${f.what} failed`];
  const hint = protocolHint(queue, f.minVersion);
  if (hint) parts.push(hint);
  if (queue) parts.push(queue);
  else if (f.code === SSL_ERROR.SYSCALL) parts.push(f.errno ? `errno ${f.errno}` : "the peer closed the connection");
  else parts.push(`SSL_get_error ${f.code}`);
  return new TLSHandshakeError("ERR_TLS_HANDSHAKE", parts.join(": "), f.errno ? { syscall: f.what, errno: f.errno } : { syscall: f.what });
}

/**
 * The typed error for a failed read or write after the handshake (drains
 * the queue): ERR_TLS_TRUNCATED when the peer closed without close_notify,
 * ERR_TLS_SYSCALL with the errno name, else ERR_TLS.
 *
 * @example
 * ```ts
 * import { dataFailure } from "./failure.ts";
 * console.log(dataFailure("SSL_read", 5, 0).code); // "ERR_TLS_TRUNCATED"
 * ```
 */
export function dataFailure(what: string, code: number, errno: number): TLSError {
  const queue = drainErrors().join("; ");
  if ((code === SSL_ERROR.SYSCALL && errno === 0) || /unexpected eof/i.test(queue)) {
    return new TLSError("ERR_TLS_TRUNCATED", `${what} failed: the peer closed the connection without close_notify${queue ? `: ${queue}` : ""}`, { syscall: what });
  }
  const detail = queue || (errno ? `${errnoName(errno)} (errno ${errno})` : `SSL_get_error ${code}`);
  return new TLSError(code === SSL_ERROR.SYSCALL ? "ERR_TLS_SYSCALL" : "ERR_TLS", `${what} failed: ${detail}`, errno ? { syscall: what, errno } : { syscall: what });
}

/**
 * After a completed handshake: a {@link TLSPinError} when the context has
 * pins and no certificate of the peer's chain matches one, else null.
 *
 * @example
 * ```ts ignore
 * const refused = pinFailure(ssl, context);
 * if (refused !== null) throw refused;
 * ```
 */
export function pinFailure(ssl: Pointer, context: TLSContext): TLSPinError | null {
  return pinMismatch(ssl, contextPins(context), context.verify, "handshake");
}

/**
 * The pin check of {@link pinFailure} for any context (DTLS too): with
 * `pins`, a {@link TLSPinError} (syscall `what`) when no certificate of
 * the peer's chain (its verified chain, or its own certificate alone when
 * `verified` is false) matches one; else null.
 *
 * @example
 * ```ts ignore
 * const refused = pinMismatch(ssl, dtlsContextPins(context), context.verify, "DTLS handshake");
 * if (refused !== null) throw refused;
 * ```
 */
export function pinMismatch(ssl: Pointer, pins: readonly string[], verified: boolean, what: string): TLSPinError | null {
  if (pins.length === 0) return null;
  const seen = peerChainPins(ssl, verified);
  if (seen.some((pin) => pins.includes(pin))) return null;
  return new TLSPinError("ERR_TLS_PIN", `no certificate of the peer's chain matches a pin (chain SPKI sha256: ${seen.join(", ") || "none"})`, { syscall: what });
}

/**
 * After a completed client handshake that resumed a session, with
 * verification on: a {@link TLSVerifyError} when the session's certificate
 * was never verified (it came from a connection with
 * `rejectUnauthorized: false`) or does not name `host`, else null.
 * Resuming skips the certificate check, so without this a session would
 * stand for a verified server it never proved to be.
 *
 * @example
 * ```ts ignore
 * const stale = resumedSessionFailure(ssl, "example.com", true);
 * if (stale !== null) throw stale;
 * ```
 */
export function resumedSessionFailure(ssl: Pointer, host: string, verify: boolean): TLSVerifyError | null {
  const lib = libssl();
  if (!verify || host === "" || lib.SSL_session_reused(ssl) !== 1) return null;
  const result = Number(lib.SSL_get_verify_result(ssl));
  if (result !== X509_V_OK) {
    const reason = x509VerifyName(result);
    return new TLSVerifyError("ERR_TLS_VERIFY", `certificate verification failed: the resumed session's certificate was not verified (${reason})`, {
      reason,
      depth: -1,
      syscall: "handshake",
    });
  }
  const get = lib.SSL_get1_peer_certificate ?? lib.SSL_get_peer_certificate;
  const cert = get === undefined ? null : get(ssl);
  let names = false;
  if (cert !== null) {
    try {
      names = certificateNames(cert, host);
    } finally {
      libcrypto().X509_free(cert);
    }
  }
  if (names) return null;
  const reason = isIP(host) !== 0 ? "IP_ADDRESS_MISMATCH" : "HOSTNAME_MISMATCH";
  return new TLSVerifyError("ERR_TLS_VERIFY", `certificate verification failed: the resumed session's certificate does not name ${host} (${reason})`, {
    reason,
    depth: 0,
    syscall: "handshake",
  });
}

/**
 * After a completed TLS 1.2 or DTLS 1.2 handshake without the extended
 * master secret (RFC 7627), on a context (a `TLSContext` or a
 * `DTLSContext`) with `requireExtendedMasterSecret`: a
 * {@link TLSHandshakeError} with code ERR_TLS_NO_EXTENDED_MASTER_SECRET,
 * else null (TLS 1.3 always passes). `protocol` names it in the message.
 *
 * @example
 * ```ts ignore
 * const refused = extendedMasterSecretFailure(ssl, context);
 * if (refused !== null) throw refused;
 * ```
 */
export function extendedMasterSecretFailure(
  ssl: Pointer,
  context: { readonly requireExtendedMasterSecret: boolean },
  protocol: "TLS" | "DTLS" = "TLS",
): TLSHandshakeError | null {
  if (!context.requireExtendedMasterSecret || extendedMasterSecret(ssl)) return null;
  return new TLSHandshakeError(
    "ERR_TLS_NO_EXTENDED_MASTER_SECRET",
    `${protocol} handshake refused: the peer negotiated ${protocol} 1.2 without the extended master secret (RFC 7627) and requireExtendedMasterSecret is set`,
    { syscall: "handshake" },
  );
}

/**
 * Every check after a completed handshake, in order: pins
 * ({@link pinFailure}), a client's resumed session
 * ({@link resumedSessionFailure}), the extended master secret
 * ({@link extendedMasterSecretFailure}). The first error, else null; the
 * caller refuses the peer without close_notify.
 *
 * @example
 * ```ts ignore
 * const refused = handshakeRefusal(ssl, context, "example.com");
 * if (refused !== null) throw refused;
 * ```
 */
export function handshakeRefusal(ssl: Pointer, context: TLSContext, host: string): TLSError | null {
  return pinFailure(ssl, context) ??
    (context.role === "client" ? resumedSessionFailure(ssl, host, context.verify) : null) ??
    extendedMasterSecretFailure(ssl, context);
}
