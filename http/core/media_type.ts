/**
 * Media types (RFC 9110 §8.3.1): `type/subtype; name=value` with token or
 * quoted-string parameter values, parsed and formatted.
 *
 * @example
 * ```ts
 * import { parseMediaType } from "./media_type.ts";
 * const m = parseMediaType('Text/HTML; Charset="utf-8"');
 * console.log(m?.type, m?.subtype, m?.params.get("charset")); // "text" "html" "utf-8"
 * ```
 *
 * @module
 */
import { isToken } from "./headers.ts";

/** A parsed media type. */
export interface MediaType {
  /** Lower-cased top-level type. */
  type: string;
  /** Lower-cased subtype. */
  subtype: string;
  /** Parameters, names lower-cased, values unquoted (case kept). */
  params: Map<string, string>;
}

/**
 * Parses `;`-separated parameters (`; a=b; c="d e"`), as used by media
 * types and weighted lists. Returns null on malformed syntax.
 *
 * @example
 * ```ts
 * import { parseParameters } from "./media_type.ts";
 * console.log(parseParameters('; q=0.5; x="a\\"b"')?.get("x")); // 'a"b'
 * ```
 */
export function parseParameters(text: string): Map<string, string> | null {
  const params = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const ows = () => {
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
  };
  for (;;) {
    ows();
    if (i === n) return params;
    if (text[i] !== ";") return null;
    i++;
    ows();
    if (i === n) return params; // trailing ";" is tolerated
    const nameStart = i;
    while (i < n && text[i] !== "=" && text[i] !== ";" && text[i] !== " " && text[i] !== "\t") i++;
    const name = text.slice(nameStart, i);
    if (!isToken(name) || text[i] !== "=") return null;
    i++;
    let value: string;
    if (text[i] === '"') {
      i++;
      let v = "";
      for (;;) {
        if (i >= n) return null;
        const c = text.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c) {
          i++;
          if (i >= n) return null;
          v += text[i];
        } else if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) {
          return null;
        } else {
          v += text[i];
        }
        i++;
      }
      i++;
      value = v;
    } else {
      const vs = i;
      while (i < n && text[i] !== ";" && text[i] !== " " && text[i] !== "\t") i++;
      value = text.slice(vs, i);
      if (!isToken(value)) return null;
    }
    const lower = name.toLowerCase();
    if (!params.has(lower)) params.set(lower, value);
  }
}

/**
 * Parses a media type, or returns null when it is malformed.
 *
 * @example
 * ```ts
 * import { parseMediaType } from "./media_type.ts";
 * console.log(parseMediaType("application/json")?.subtype); // "json"
 * console.log(parseMediaType("nonsense")); // null
 * ```
 */
export function parseMediaType(text: string): MediaType | null {
  const semi = text.indexOf(";");
  const essence = (semi === -1 ? text : text.slice(0, semi)).trim();
  const slash = essence.indexOf("/");
  if (slash === -1) return null;
  const type = essence.slice(0, slash);
  const subtype = essence.slice(slash + 1);
  if (!isToken(type) || !isToken(subtype)) return null;
  const params = semi === -1 ? new Map<string, string>() : parseParameters(text.slice(semi));
  if (params === null) return null;
  return { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params };
}

/**
 * Formats a media type; parameter values that are not tokens are quoted.
 *
 * @throws TypeError for a type, subtype or parameter name that is not a token.
 * @example
 * ```ts
 * import { formatMediaType } from "./media_type.ts";
 * console.log(formatMediaType({ type: "text", subtype: "plain", params: new Map([["charset", "utf-8"]]) }));
 * // "text/plain; charset=utf-8"
 * ```
 */
export function formatMediaType(m: MediaType): string {
  if (!isToken(m.type) || !isToken(m.subtype)) throw new TypeError("Media type and subtype must be tokens");
  let out = `${m.type}/${m.subtype}`;
  for (const [name, value] of m.params) {
    if (!isToken(name)) throw new TypeError(`Invalid parameter name ${JSON.stringify(name)}`);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value) || /[^\x00-\xff]/.test(value)) {
      throw new TypeError(`Invalid parameter value ${JSON.stringify(value)}`);
    }
    out += `; ${name}=${isToken(value) ? value : `"${value.replace(/(["\\])/g, "\\$1")}"`}`;
  }
  return out;
}
