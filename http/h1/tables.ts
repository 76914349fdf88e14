/**
 * Byte-class lookup tables for the HTTP/1.1 grammar (RFC 9110 §5.6,
 * RFC 9112, RFC 3986). Each table is a `Uint8Array(256)` indexed by byte with
 * 1 for "in the class"; they are computed here from the ABNF so the source of
 * every class is readable.
 *
 * @example
 * ```ts
 * import { TOKEN } from "./tables.ts";
 * console.log(TOKEN[0x41], TOKEN[0x20]); // 1 0
 * ```
 *
 * @module
 */

function table(chars: string, ranges: ReadonlyArray<readonly [number, number]> = []): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) t[b] = 1;
  return t;
}

const ALPHA: ReadonlyArray<readonly [number, number]> = [[0x41, 0x5a], [0x61, 0x7a]];
const DIGIT: ReadonlyArray<readonly [number, number]> = [[0x30, 0x39]];

/**
 * `tchar` (RFC 9110 §5.6.2): the bytes of a token (method, field name,
 * transfer coding, chunk extension name).
 *
 * @example
 * ```ts
 * import { TOKEN } from "./tables.ts";
 * console.log(TOKEN["!".charCodeAt(0)]); // 1
 * ```
 */
export const TOKEN: Uint8Array = table("!#$%&'*+-.^_`|~", [...ALPHA, ...DIGIT]);

/**
 * Bytes allowed inside a field value (RFC 9110 §5.5): `field-vchar`
 * (VCHAR / obs-text), SP and HTAB. CR, LF, NUL, other controls and DEL are
 * not.
 *
 * @example
 * ```ts
 * import { FIELD_VALUE } from "./tables.ts";
 * console.log(FIELD_VALUE[0x09], FIELD_VALUE[0x0d]); // 1 0
 * ```
 */
export const FIELD_VALUE: Uint8Array = table("\t ", [[0x21, 0x7e], [0x80, 0xff]]);

/**
 * Bytes allowed in a request-target (RFC 9112 §3.2, RFC 3986 §2): unreserved,
 * sub-delims, ":", "@", "/", "?", "%" (checked as pct-encoding later), and
 * "[" "]" for IP literals in absolute- and authority-form.
 *
 * @example
 * ```ts
 * import { TARGET } from "./tables.ts";
 * console.log(TARGET["/".charCodeAt(0)], TARGET["#".charCodeAt(0)]); // 1 0
 * ```
 */
export const TARGET: Uint8Array = table("-._~!$&'()*+,;=:@/?%[]", [...ALPHA, ...DIGIT]);

/**
 * The lenient request-target class: every visible ASCII byte and obs-text,
 * for the `lenientTargetChars` parser option.
 *
 * @example
 * ```ts
 * import { TARGET_LENIENT } from "./tables.ts";
 * console.log(TARGET_LENIENT["|".charCodeAt(0)]); // 1
 * ```
 */
export const TARGET_LENIENT: Uint8Array = table("", [[0x21, 0x7e], [0x80, 0xff]]);

/**
 * Reason-phrase bytes (RFC 9112 §4): HTAB, SP, VCHAR, obs-text.
 *
 * @example
 * ```ts
 * import { REASON } from "./tables.ts";
 * console.log(REASON[0x20]); // 1
 * ```
 */
export const REASON: Uint8Array = FIELD_VALUE;

/**
 * `qdtext` (RFC 9110 §5.6.4): bytes allowed unescaped inside a quoted-string.
 *
 * @example
 * ```ts
 * import { QDTEXT } from "./tables.ts";
 * console.log(QDTEXT['"'.charCodeAt(0)]); // 0
 * ```
 */
export const QDTEXT: Uint8Array = table("\t !", [[0x23, 0x5b], [0x5d, 0x7e], [0x80, 0xff]]);

/**
 * Value of a hexadecimal digit, or -1 (RFC 5234 HEXDIG, case-insensitive).
 *
 * @example
 * ```ts
 * import { HEX_VALUE } from "./tables.ts";
 * console.log(HEX_VALUE["f".charCodeAt(0)]); // 15
 * ```
 */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/**
 * Bytes of a reg-name host (RFC 3986 §3.2.2): unreserved, sub-delims and "%"
 * (pct-encoding is checked separately).
 *
 * @example
 * ```ts
 * import { REG_NAME } from "./tables.ts";
 * console.log(REG_NAME["-".charCodeAt(0)], REG_NAME["/".charCodeAt(0)]); // 1 0
 * ```
 */
export const REG_NAME: Uint8Array = table("-._~!$&'()*+,;=%", [...ALPHA, ...DIGIT]);

/**
 * Bytes allowed between "[" and "]" of an IP-literal (IPv6 digits, ":" ".",
 * IPvFuture's "v" and its unreserved / sub-delims / ":" characters, "%" for a
 * zone identifier).
 *
 * @example
 * ```ts
 * import { IP_LITERAL } from "./tables.ts";
 * console.log(IP_LITERAL[":".charCodeAt(0)]); // 1
 * ```
 */
export const IP_LITERAL: Uint8Array = table("-._~!$&'()*+,;=:%", [...ALPHA, ...DIGIT]);

const wordViews = new WeakMap<ArrayBufferLike, Int32Array>();

/**
 * An `Int32Array` over the whole of `buf.buffer` (cached per buffer), for
 * {@link scanFieldValue} to read four bytes at a time.
 *
 * @example
 * ```ts
 * import { wordView } from "./tables.ts";
 * console.log(wordView(new Uint8Array(8)).length); // 2
 * ```
 */
export function wordView(buf: Uint8Array): Int32Array {
  const ab = buf.buffer;
  let w = wordViews.get(ab);
  if (w === undefined || w.length !== ab.byteLength >> 2) {
    w = new Int32Array(ab, 0, ab.byteLength >> 2);
    wordViews.set(ab, w);
  }
  return w;
}

/**
 * Returns the first position in `buf[p..end)` that is not a field-value byte
 * ({@link FIELD_VALUE}), or `end`. Aligned runs are checked four bytes at a
 * time: a word holds no byte below 0x20 and no 0x7F exactly when two SWAR
 * tests are clear; a flagged word (HTAB, CR, a bad byte) is finished byte
 * by byte.
 *
 * @example
 * ```ts
 * import { scanFieldValue, wordView } from "./tables.ts";
 * const b = new TextEncoder().encode("text/html; charset=utf-8\r\n");
 * console.log(scanFieldValue(b, wordView(b), b.byteOffset, 0, b.length)); // 24
 * ```
 */
export function scanFieldValue(buf: Uint8Array, words: Int32Array, off: number, p: number, end: number): number {
  while (p < end && ((off + p) & 3) !== 0) {
    if (FIELD_VALUE[buf[p]!] !== 1) return p;
    p++;
  }
  let i = (off + p) >> 2;
  const iend = (off + end) >> 2;
  while (i < iend) {
    const x = words[i]!;
    const y = x ^ 0x7f7f7f7f;
    if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) break;
    i++;
  }
  p = (i << 2) - off;
  while (p < end && FIELD_VALUE[buf[p]!] === 1) p++;
  return p;
}
