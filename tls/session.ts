/**
 * Client session export and import: an `SSL_SESSION` as DER bytes
 * (`i2d_SSL_SESSION` / `d2i_SSL_SESSION`), so a later connection can resume
 * it. Every SSL_SESSION reference taken here is freed here.
 *
 * @example
 * ```ts ignore
 * const bytes = exportSession(ssl); // null until resumable (a TLS 1.3 ticket arrived)
 * importSession(otherSsl, bytes!, "example.com"); // offered only for the name it was made for
 * ```
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { libssl } from "../ffi/libssl.ts";
import { writePointer } from "../ffi/marshal.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import type { Pointer } from "../ffi/types.ts";
import { pollOne, WAIT_READ } from "../socket/wait.ts";
import { CTRL, SSL_ERROR, TLS_VERSION } from "./ctrl.ts";
import { clearErrors, tlsError } from "./errors.ts";
import { encodeDER } from "./native_bytes.ts";
import { certificateNames } from "./ssl_setup.ts";

/** DTLS protocol numbers start here (DTLS1_2_VERSION is 0xfefd). */
const DTLS_VERSIONS = 0xfe00;

/**
 * Whether the completed handshake on `ssl` bound its keys to the whole
 * handshake: TLS 1.3 always does; TLS 1.2 only with the extended master
 * secret (RFC 7627, `SSL_get_extms_support`). Without it a man in the
 * middle can make two sessions with the same master secret (the triple
 * handshake attack), and resuming such a session is what lets the attack
 * go on (RFC 7627 §5.3: a client SHOULD NOT offer one).
 *
 * @example
 * ```ts ignore
 * if (!extendedMasterSecret(ssl)) console.log("TLS 1.2 without EMS");
 * ```
 */
export function extendedMasterSecret(ssl: Pointer): boolean {
  const lib = libssl();
  const version = lib.SSL_version(ssl);
  // TLS 1.3 (and later); DTLS numbers (0xfeXX) count down from 0xfeff and are not TLS 1.3.
  if (version >= TLS_VERSION["TLSv1.3"] && version < DTLS_VERSIONS) return true;
  // SSL_get_extms_support is a macro: SSL_ctrl(GET_EXTMS_SUPPORT).
  return Number(lib.SSL_ctrl(ssl, CTRL.SSL_CTRL_GET_EXTMS_SUPPORT, 0, null)) === 1;
}

/**
 * The connection's session as bytes, or null while it cannot be resumed
 * (in TLS 1.3 the ticket comes after the handshake). A TLS 1.2 session
 * without the extended master secret is never given out: resuming it is
 * what RFC 7627 §5.3 tells a client not to do, so the next connection
 * makes a full handshake instead.
 *
 * @example
 * ```ts ignore
 * const bytes = exportSession(ssl);
 * ```
 */
export function exportSession(ssl: Pointer): Uint8Array | null {
  const lib = libssl();
  if (!extendedMasterSecret(ssl)) return null;
  const session = lib.SSL_get1_session(ssl);
  if (session === null) return null;
  try {
    if (lib.SSL_SESSION_is_resumable(session) !== 1) return null;
    const der = encodeDER((object, out) => lib.i2d_SSL_SESSION(object, out), session);
    if (der === null) throw tlsError("ERR_TLS_SESSION", "i2d_SSL_SESSION");
    return der;
  } finally {
    lib.SSL_SESSION_free(session);
  }
}

/**
 * Offers a session from {@link exportSession} on a client connection that
 * has not started its handshake, when its certificate names `host` (the
 * client's host or servername; "": no check, as without verification). A
 * session whose certificate names another server is not offered (a full
 * handshake verifies this one instead): resuming skips the certificate
 * check, so a session verified for one name would otherwise stand for
 * any. Returns whether it was offered.
 *
 * @throws TypeError for empty input, TLSError ERR_TLS_SESSION for bytes that are not a session
 *
 * @example
 * ```ts ignore
 * importSession(ssl, bytes, "example.com");
 * ```
 */
export function importSession(ssl: Pointer, bytes: Uint8Array, host: string): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new TypeError("TLSSocket: session must be a non-empty Uint8Array");
  const lib = libssl();
  clearErrors();
  // d2i_SSL_SESSION reads through `*pp` (and advances it): native memory.
  using mem = NativeBuffer.alloc(bytes.length);
  mem.bytes.set(bytes);
  const pp = new Uint8Array(8);
  writePointer(new DataView(pp.buffer), 0, mem.pointer);
  const session = lib.d2i_SSL_SESSION(null, pp, bytes.length);
  if (session === null) throw tlsError("ERR_TLS_SESSION", "d2i_SSL_SESSION", "not a TLS session");
  try {
    const peer = lib.SSL_SESSION_get0_peer(session);
    if (host !== "" && (peer === null || !certificateNames(peer, host))) return false;
    if (lib.SSL_set_session(ssl, session) !== 1) throw tlsError("ERR_TLS_SESSION", "SSL_set_session");
    return true;
  } finally {
    lib.SSL_SESSION_free(session);
  }
}

/**
 * Waits up to `waitMs` for a resumable session, processing post-handshake
 * messages with `SSL_peek` (application data stays unread). Returns the
 * session bytes, null when none came in time (at once for a session that
 * is never given out, see {@link exportSession}), or the `SSL_get_error`
 * code of a failure for the caller to report.
 *
 * @example
 * ```ts ignore
 * const outcome = awaitSession(ssl, fd, 1000);
 * ```
 */
export function awaitSession(ssl: Pointer, fd: number, waitMs: number): Uint8Array | null | number {
  const lib = libssl();
  if (!extendedMasterSecret(ssl)) return null;
  const end = monotonicMs() + waitMs;
  const one = new Uint8Array(1);
  for (;;) {
    const bytes = exportSession(ssl);
    if (bytes !== null) return bytes;
    clearErrors();
    const r = lib.SSL_peek(ssl, one, 1);
    if (r > 0) return exportSession(ssl); // data waits: any ticket before it has been read
    const code = lib.SSL_get_error(ssl, r);
    if (code === SSL_ERROR.ZERO_RETURN) return exportSession(ssl);
    if (code !== SSL_ERROR.WANT_READ) return code;
    // The peek may just have processed the ticket: look before waiting for more.
    const after = exportSession(ssl);
    if (after !== null) return after;
    const left = end - monotonicMs();
    if (left <= 0) return null;
    pollOne(fd, WAIT_READ, Math.ceil(left));
  }
}
