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
