/**
 * What a live `SSL` negotiated: ALPN protocol, protocol version, cipher
 * suite and key exchange group (read-only calls, nothing to free).
 *
 * @example
 * ```ts ignore
 * import { negotiatedProtocol } from "./connection_info.ts";
 * console.log(negotiatedProtocol(ssl)); // "TLSv1.3"
 * ```
 *
 * @module
 */
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { readPointer } from "../ffi/marshal.ts";
import type { Pointer } from "../ffi/types.ts";
import { CTRL } from "./ctrl.ts";
import { copyNative, nativeString, staticString } from "./native_bytes.ts";

/**
 * The ALPN protocol selected, or null.
 *
 * @example
 * ```ts ignore
 * negotiatedALPN(ssl); // "h2"
 * ```
 */
export function negotiatedALPN(ssl: Pointer): string | null {
  const out = new Uint8Array(8);
  const len = new Uint32Array(1);
  libssl().SSL_get0_alpn_selected(ssl, out, len);
  const p = readPointer(new DataView(out.buffer), 0);
  if (p === null || len[0] === 0) return null;
  return decoder.decode(copyNative(p, len[0]!));
}

/**
 * The protocol version name ("TLSv1.3").
 *
 * @example
 * ```ts ignore
 * negotiatedProtocol(ssl);
 * ```
 */
export function negotiatedProtocol(ssl: Pointer): string {
  return staticString(libssl().SSL_get_version(ssl));
}

/**
 * The cipher suite name, "" before the handshake.
 *
 * @example
 * ```ts ignore
 * negotiatedCipher(ssl); // "TLS_AES_256_GCM_SHA384"
 * ```
 */
export function negotiatedCipher(ssl: Pointer): string {
  const lib = libssl();
  const c = lib.SSL_get_current_cipher(ssl);
  return c === null ? "" : staticString(lib.SSL_CIPHER_get_name(c));
}

/**
 * The key exchange group ("x25519", "secp256r1", …), "" when none.
 *
 * @example
 * ```ts ignore
 * negotiatedGroup(ssl);
 * ```
 */
export function negotiatedGroup(ssl: Pointer): string {
  const lib = libssl();
  // SSL_get_negotiated_group is a macro: SSL_ctrl(GET_NEGOTIATED_GROUP).
  const id = lib.SSL_ctrl(ssl, CTRL.SSL_CTRL_GET_NEGOTIATED_GROUP, 0, null);
  if (id <= 0) return "";
  let text = groupNames.get(id);
  if (text === undefined) {
    // (A group's name does not change within the process: read once per id.)
    const name = lib.SSL_group_to_name?.(ssl, id) ?? null;
    text = nativeString(name ?? libcrypto().OBJ_nid2sn(id), 256);
    if (groupNames.size >= 256) groupNames.clear();
    groupNames.set(id, text);
  }
  return text;
}

const groupNames = new Map<number | bigint, string>();
const decoder = new TextDecoder();
