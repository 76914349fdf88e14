/**
 * A server's own signed certificate timestamps (RFC 6962 §3.3): the `scts`
 * option of a server `TLSContext` sends them in the
 * signed_certificate_timestamp extension (type 18) to clients that ask —
 * in the TLS 1.3 Certificate message (the leaf's entry) and the TLS 1.2
 * ServerHello — for a certificate whose SCTs are not embedded in it. They
 * go in as OpenSSL "serverinfo" (version 2, `SSL_CTX_use_serverinfo_ex`)
 * for the context's `cert`.
 *
 * `scts` is a SignedCertificateTimestampList (the extension's body: a
 * 2-byte length, then each SCT with its own 2-byte length), the path of a
 * file holding one, or an array of single serialized SCTs (as CT logs
 * return them, nginx-ct's `.sct` files) to be packed into a list.
 *
 * @example
 * ```ts ignore
 * import { TLSContext } from "./context.ts";
 * const ctx = new TLSContext({ role: "server", cert, key, scts: [sctFromLogA, sctFromLogB] });
 * ```
 *
 * @module
 */
import { libssl } from "../ffi/libssl.ts";
import { readFileBytes } from "../ffi/read_file.ts";
import type { Pointer } from "../ffi/types.ts";
import { tlsError } from "./errors.ts";

/**
 * The `scts` option: a SignedCertificateTimestampList, a file path holding
 * one, or single SCTs.
 *
 * @example
 * ```ts
 * import type { SCTSource } from "./sct.ts";
 * const fromFile: SCTSource = "/etc/ssl/site.sctlist";
 * ```
 */
export type SCTSource = Uint8Array | string | readonly Uint8Array[];

/** TLSEXT_TYPE_signed_certificate_timestamp. */
const SCT_EXTENSION = 18;
/** SSL_SERVERINFOV2 (ssl.h). */
const SERVERINFO_V2 = 2;
/**
 * Where the extension goes (ssl.h SSL_EXT_*): answered to a ClientHello
 * that asks (CLIENT_HELLO 0x80), in the TLS 1.2 ServerHello (0x100) and
 * the TLS 1.3 leaf's CertificateEntry (TLS1_3_CERTIFICATE 0x1000), not on
 * a resumption (IGNORE_ON_RESUMPTION 0x40).
 */
const SCT_CONTEXTS = 0x0040 | 0x0080 | 0x0100 | 0x1000;
/** Most bytes of a list (the extension's 16-bit length). */
const MAX_LIST_BYTES = 0xffff - 2;

/**
 * The SignedCertificateTimestampList `source` stands for, checked: each
 * SCT non-empty and version 1 (its first byte 0), at least one.
 *
 * @throws TypeError for anything else
 *
 * @example
 * ```ts
 * import { sctList } from "./sct.ts";
 * const sct = new Uint8Array(48); // version 1 (0), log id, timestamp, …
 * console.log(sctList([sct]).length); // 52: list length, SCT length, the SCT
 * ```
 */
export function sctList(source: SCTSource): Uint8Array {
  if (typeof source === "string") {
    if (source === "" || source.includes("\0")) throw new TypeError("TLSContext: scts must be a file path, a SignedCertificateTimestampList or an array of SCTs");
    const bytes = readFileBytes(source, MAX_LIST_BYTES + 2);
    if (bytes === null) throw new TypeError(`TLSContext: scts file ${JSON.stringify(source)} does not exist`);
    return checkList(bytes, `scts file ${JSON.stringify(source)}`);
  }
  if (source instanceof Uint8Array) return checkList(source, "scts");
  if (!Array.isArray(source) || source.length === 0) throw new TypeError("TLSContext: scts must be a file path, a SignedCertificateTimestampList or a non-empty array of SCTs");
  let total = 0;
  for (const [i, sct] of source.entries()) {
    if (!(sct instanceof Uint8Array)) throw new TypeError(`TLSContext: scts[${i}] must be a Uint8Array (one serialized SCT)`);
    checkSCT(sct, `scts[${i}]`);
    total += 2 + sct.length;
  }
  if (total > MAX_LIST_BYTES) throw new TypeError(`TLSContext: scts hold ${total} bytes, more than a TLS extension carries`);
  const list = new Uint8Array(2 + total);
  list[0] = total >> 8;
  list[1] = total & 0xff;
  let at = 2;
  for (const sct of source) {
    list[at] = sct.length >> 8;
    list[at + 1] = sct.length & 0xff;
    list.set(sct, at + 2);
    at += 2 + sct.length;
  }
  return list;
}

function checkSCT(sct: Uint8Array, where: string): void {
  // version (1) + log id (32) + timestamp (8) + extensions length (2) + hash, signature algorithms (2) + signature length (2)
  if (sct.length < 47 || sct.length > 0xffff) throw new TypeError(`TLSContext: ${where} is not a serialized SCT (${sct.length} bytes)`);
  if (sct[0] !== 0) throw new TypeError(`TLSContext: ${where} is not an SCT of version 1 (first byte ${sct[0]})`);
}

function checkList(list: Uint8Array, where: string): Uint8Array {
  if (list.length < 4 || list.length > MAX_LIST_BYTES + 2) throw new TypeError(`TLSContext: ${where} is not a SignedCertificateTimestampList (${list.length} bytes)`);
  const total = (list[0]! << 8) | list[1]!;
  if (total !== list.length - 2) throw new TypeError(`TLSContext: ${where} is not a SignedCertificateTimestampList (its length says ${total}, ${list.length - 2} follow)`);
  let count = 0;
  for (let at = 2; at < list.length; count++) {
    if (at + 2 > list.length) throw new TypeError(`TLSContext: ${where}: SCT ${count} is cut short`);
    const n = (list[at]! << 8) | list[at + 1]!;
    if (at + 2 + n > list.length) throw new TypeError(`TLSContext: ${where}: SCT ${count} is cut short`);
    checkSCT(list.subarray(at + 2, at + 2 + n), `${where}: SCT ${count}`);
    at += 2 + n;
  }
  return list.slice();
}

/**
 * Serverinfo v2 for `list`: the contexts (4 bytes), the extension type and
 * length, the list.
 *
 * @example
 * ```ts
 * import { sctList, sctServerinfo } from "./sct.ts";
 * console.log(sctServerinfo(sctList([new Uint8Array(48)])).length); // 60
 * ```
 */
export function sctServerinfo(list: Uint8Array): Uint8Array {
  const info = new Uint8Array(8 + list.length);
  const view = new DataView(info.buffer);
  view.setUint32(0, SCT_CONTEXTS);
  view.setUint16(4, SCT_EXTENSION);
  view.setUint16(6, list.length);
  info.set(list, 8);
  return info;
}

/**
 * Sends `source`'s SCTs with the certificate `ctx` loaded last.
 *
 * @throws TypeError for a bad `source`; TLSError when OpenSSL refuses it
 *
 * @example
 * ```ts ignore
 * useSCTs(ctx, "/etc/ssl/site.sctlist");
 * ```
 */
export function useSCTs(ctx: Pointer, source: SCTSource): void {
  const info = sctServerinfo(sctList(source));
  const use = libssl().SSL_CTX_use_serverinfo_ex;
  if (use === undefined) throw tlsError("ERR_TLS_OPTION", "SSL_CTX_use_serverinfo_ex", "scts need OpenSSL 1.1.1 or later");
  if (use(ctx, SERVERINFO_V2, info, info.length) !== 1) throw tlsError("ERR_TLS_OPTION", "SSL_CTX_use_serverinfo_ex", "scts");
}
