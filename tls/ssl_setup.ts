/**
 * A new `SSL`'s per-connection setup: its descriptor (fd mode), and for a
 * client the name it checks and sends. A DNS name goes out as SNI
 * (`SSL_set_tlsext_host_name`, an `SSL_ctrl` macro) and is checked with
 * `SSL_set1_host` (without a final dot, Unicode labels as A-labels:
 * {@link peerName}; a wildcard only as a whole left-most label, and the
 * common name only for a certificate without subjectAltNames: verify.ts); an IP literal is never sent as SNI and is checked
 * against the certificate's IP addresses (`X509_VERIFY_PARAM_set1_ip_asc`).
 *
 * @example
 * ```ts ignore
 * configureSSL(ssl, socket.fd, "localhost", true);
 * ```
 *
 * @module
 */
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { cString } from "../ffi/marshal.ts";
import type { Pointer } from "../ffi/types.ts";
import { isIP } from "../socket/address.ts";
import { CTRL, TLSEXT_NAMETYPE_HOST_NAME } from "./ctrl.ts";
import { tlsError } from "./errors.ts";
import { certificateNamesDNS, NO_PARTIAL_WILDCARDS } from "./verify.ts";

/**
 * Binds `ssl` to `fd`; with a `host` (clients), sets SNI and the name check.
 *
 * @throws TLSError when OpenSSL refuses a setting
 *
 * @example
 * ```ts ignore
 * configureSSL(ssl, fd, "127.0.0.1", true); // no SNI, IP SAN check
 * ```
 */
export function configureSSL(ssl: Pointer, fd: number, host: string, verify: boolean): void {
  if (libssl().SSL_set_fd(ssl, fd) !== 1) throw tlsError("ERR_TLS", "SSL_set_fd");
  configurePeerName(ssl, host, verify);
}

/**
 * A client's name setup alone (SNI and the name check), for an `SSL`
 * whose bytes go through memory BIOs instead of a descriptor. "" (a
 * server): nothing.
 *
 * @throws TLSError when OpenSSL refuses the name
 *
 * @example
 * ```ts ignore
 * configurePeerName(ssl, "localhost", true);
 * ```
 */
export function configurePeerName(ssl: Pointer, host: string, verify: boolean): void {
  const lib = libssl();
  if (host === "") return;
  const literal = isIP(host) !== 0;
  const name = literal ? host : peerName(host);
  if (!literal && lib.SSL_ctrl(ssl, CTRL.SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_HOST_NAME, cString(name)) !== 1) {
    throw tlsError("ERR_TLS", "SSL_set_tlsext_host_name", `host ${JSON.stringify(host)}`);
  }
  if (!verify) return;
  const ok = literal
    ? libcrypto().X509_VERIFY_PARAM_set1_ip_asc(lib.SSL_get0_param(ssl), cString(host))
    : lib.SSL_set1_host(ssl, cString(name));
  if (ok !== 1) throw tlsError("ERR_TLS", literal ? "X509_VERIFY_PARAM_set1_ip_asc" : "SSL_set1_host", `host ${JSON.stringify(host)}`);
  if (!literal) lib.SSL_set_hostflags(ssl, NO_PARTIAL_WILDCARDS);
}

/**
 * The `code` of the TypeError {@link checkServername} throws.
 *
 * @example
 * ```ts
 * import { INVALID_SERVERNAME } from "./ssl_setup.ts";
 * console.log(INVALID_SERVERNAME); // ERR_TLS_INVALID_SERVERNAME
 * ```
 */
export const INVALID_SERVERNAME = "ERR_TLS_INVALID_SERVERNAME";

/** Characters of a host name as SNI carries it (RFC 6066 §3: ASCII, a DNS name); `_` as names in use have it. */
const NAME_CHARS = /^[A-Za-z0-9._-]+$/;
/** SNI's HostName and a DNS name are at most 255 bytes. */
const MAX_NAME_BYTES = 255;
/** A DNS label is at most 63 bytes (RFC 1035 §2.3.4; an A-label too, RFC 5890 §2.3.2.1). */
const MAX_LABEL_BYTES = 63;

function badName(host: string, where: string, why: string): TypeError {
  const shown = host.length > 80 ? `${JSON.stringify(host.slice(0, 80))}…` : JSON.stringify(host);
  return Object.assign(new TypeError(`${where}: server name ${shown} ${why}`), { code: INVALID_SERVERNAME });
}

/**
 * Checks a client's host or servername, the name it verifies and sends as
 * SNI, and returns it without the brackets of an IPv6 literal. An IP
 * literal passes as it is (never sent as SNI, checked against the
 * certificate's addresses). A DNS name must be 1–255 bytes of letters,
 * digits, `-`, `_` and dots (one final dot allowed, no empty label, no
 * label over 63 bytes) once
 * its Unicode labels are A-labels (`xn--`, by the runtime's URL parser; a
 * name it does not convert is refused). Every client engine (TLS, DTLS,
 * `TLSSocket`) checks its name here, so a space, a NUL or another control
 * character never reaches OpenSSL.
 *
 * @throws TypeError with `code` {@link INVALID_SERVERNAME} for anything else (not a string, empty, a control character, a space, too long, a label too long)
 *
 * @example
 * ```ts
 * import { checkServername } from "./ssl_setup.ts";
 * console.log(checkServername("bücher.example", "connect"), checkServername("[::1]", "connect")); // bücher.example ::1
 * try { checkServername("a b", "connect"); } catch (e) { console.log((e as { code: string }).code); } // ERR_TLS_INVALID_SERVERNAME
 * ```
 */
export function checkServername(host: unknown, where: string): string {
  if (typeof host !== "string") throw Object.assign(new TypeError(`${where}: the server name (host or servername) must be a string, got ${typeof host}`), { code: INVALID_SERVERNAME });
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return bare;
  if (host === "") throw badName(host, where, "is empty");
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f]/.test(host)) throw badName(host, where, "has a space or a control character");
  let name = host.endsWith(".") ? host.slice(0, -1) : host;
  // deno-lint-ignore no-control-regex
  if (/[^\x00-\x7f]/.test(name)) {
    // ASCII outside a name's characters stays refused: URL would take "a:1" or "a/b" as a host and more.
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x7f]/.test(name.replace(/[A-Za-z0-9._-]/g, ""))) throw badName(host, where, "is not a DNS name or an IP literal");
    try {
      name = new URL(`http://${name}/`).hostname;
    } catch {
      throw badName(host, where, "is not a valid international name");
    }
  }
  if (!NAME_CHARS.test(name)) throw badName(host, where, "is not a DNS name or an IP literal (no A-label form)");
  const labels = name.split(".");
  if (labels.includes("")) throw badName(host, where, "has an empty label");
  if (labels.some((label) => label.length > MAX_LABEL_BYTES)) throw badName(host, where, `has a label longer than ${MAX_LABEL_BYTES} bytes`);
  if (name.length > MAX_NAME_BYTES) throw badName(host, where, `is longer than ${MAX_NAME_BYTES} bytes`);
  return bare;
}

/**
 * A DNS name as it goes out as SNI and is checked against the
 * certificate: without its final dot (an absolute name, `example.com.`:
 * SNI carries none, RFC 6066 §3, and certificates name none) and with
 * Unicode labels as A-labels (`xn--`), as a URL's host has them.
 *
 * @throws TypeError for a name with non-ASCII characters that is no valid host
 *
 * @example
 * ```ts
 * import { peerName } from "./ssl_setup.ts";
 * console.log(peerName("example.com."), peerName("bücher.example")); // example.com xn--bcher-kva.example
 * ```
 */
export function peerName(host: string): string {
  const name = host.length > 1 && host.endsWith(".") ? host.slice(0, -1) : host;
  // deno-lint-ignore no-control-regex
  if (!/[^\x00-\x7f]/.test(name)) return name;
  try {
    return new URL(`http://${name}/`).hostname;
  } catch {
    throw new TypeError(`TLS: host ${JSON.stringify(host)} is not a valid name`);
  }
}

/**
 * Whether the certificate `cert` (an `X509 *`) names `host`: a DNS name by
 * {@link peerName}'s form, an IP literal (brackets allowed) by its
 * addresses; the checks `SSL_set1_host` and the IP parameter make during a
 * full handshake (with the verify callback's rule: no common name when the
 * certificate has subjectAltNames), for a session that skips them.
 *
 * @example
 * ```ts ignore
 * if (!certificateNames(cert, "example.com")) console.log("another server's certificate");
 * ```
 */
export function certificateNames(cert: Pointer, host: string): boolean {
  const crypto = libcrypto();
  return isIP(host) !== 0
    ? crypto.X509_check_ip_asc(cert, cString(host.replace(/^\[(.*)\]$/, "$1")), 0) === 1
    : certificateNamesDNS(cert, peerName(host));
}
