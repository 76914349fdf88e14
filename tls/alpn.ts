/**
 * ALPN (RFC 7301) without I/O: the wire encoding of a protocol list and the
 * server's choice (its own preference order first).
 *
 * @example
 * ```ts
 * import { encodeALPN, selectALPN } from "./alpn.ts";
 * const offer = encodeALPN(["h2", "http/1.1"]);
 * console.log(selectALPN(["http/1.1", "h2"], offer)); // { offset: 4, length: 8 }
 * ```
 *
 * @module
 */

const encoder = new TextEncoder();
// ProtocolNameList's length field is 16 bits (RFC 7301 §3.1).
const MAX_ALPN_LIST_BYTES = 0xffff;
const decoder = new TextDecoder();

/**
 * Encodes protocol names as length-prefixed bytes.
 *
 * @throws TypeError for an empty list, an empty name or one above 255 bytes,
 * or a list above 65,535 bytes (RFC 7301 §3.1: its length is 16 bits; such
 * a list failed every handshake late, with OpenSSL's "internal error")
 *
 * @example
 * ```ts
 * import { encodeALPN } from "./alpn.ts";
 * console.log(encodeALPN(["h2"])); // Uint8Array [2, 104, 50]
 * ```
 */
export function encodeALPN(protocols: readonly string[]): Uint8Array {
  if (!Array.isArray(protocols) || protocols.length === 0) throw new TypeError("alpn: a non-empty array of protocol names is required");
  const parts = protocols.map((p) => {
    if (typeof p !== "string") throw new TypeError("alpn: protocol names must be strings");
    const bytes = encoder.encode(p);
    if (bytes.length === 0 || bytes.length > 255) throw new TypeError(`alpn: protocol name must be 1–255 bytes, got ${JSON.stringify(p)}`);
    return bytes;
  });
  const length = parts.reduce((n, b) => n + 1 + b.length, 0);
  if (length > MAX_ALPN_LIST_BYTES) throw new TypeError(`alpn: the protocol list takes ${length} bytes, more than ${MAX_ALPN_LIST_BYTES}`);
  const out = new Uint8Array(length);
  let at = 0;
  for (const bytes of parts) {
    out[at++] = bytes.length;
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/**
 * Decodes a length-prefixed list; a malformed list yields the names read
 * before the fault.
 *
 * @example
 * ```ts
 * import { decodeALPN } from "./alpn.ts";
 * console.log(decodeALPN(new Uint8Array([2, 104, 50]))); // ["h2"]
 * ```
 */
export function decodeALPN(wire: Uint8Array): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < wire.length) {
    const n = wire[at]!;
    if (n === 0 || at + 1 + n > wire.length) break;
    out.push(decoder.decode(wire.subarray(at + 1, at + 1 + n)));
    at += 1 + n;
  }
  return out;
}

/**
 * The server's choice: the first of `preference` that the client offered.
 * Returns where that name lies in `offered` (as OpenSSL wants a pointer
 * into the client's list), or null when nothing overlaps.
 *
 * @example
 * ```ts
 * import { encodeALPN, selectALPN } from "./alpn.ts";
 * console.log(selectALPN(["h3"], encodeALPN(["h2"]))); // null
 * ```
 */
export function selectALPN(preference: readonly string[], offered: Uint8Array): { offset: number; length: number } | null {
  const wanted = preference.map((p) => encoder.encode(p));
  for (const want of wanted) {
    let at = 0;
    while (at < offered.length) {
      const n = offered[at]!;
      if (n === 0 || at + 1 + n > offered.length) break;
      if (n === want.length && want.every((b, i) => offered[at + 1 + i] === b)) return { offset: at + 1, length: n };
      at += 1 + n;
    }
  }
  return null;
}
