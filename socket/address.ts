/**
 * Strict IP address literals and ports: parsing (RFC 4291 text forms, zone
 * ids as in RFC 4007/6874) and canonical formatting (RFC 5952). Pure code: no
 * sockets, no FFI.
 *
 * Accepted IPv4 text is the dotted-quad form only: four decimal parts 0–255,
 * no leading zeros, no signs, no shorthand. `1.2.3`, `256.1.1.1`,
 * `01.2.3.4`, `0x7f.0.0.1` and `127.1` are rejected, because other parsers
 * (inet_aton, browsers) read them as different addresses.
 *
 * @example
 * ```ts
 * import { formatIPv6, parseIPv6, isIP } from "./address.ts";
 * const a = parseIPv6("2001:0DB8:0:0:0:0:0:1");
 * console.log(formatIPv6(a.bytes)); // "2001:db8::1"
 * console.log(isIP("01.2.3.4")); // 0
 * ```
 *
 * @module
 */

/** Longest address literal looked at (a full IPv6 with IPv4 tail and a zone). */
const MAX_LITERAL = 45 + 1 + 64;
/** Longest zone id accepted (Linux interface names are < 16 bytes). */
const MAX_ZONE = 64;

/** An IPv6 address as 16 bytes plus an optional zone (interface name or index). */
export interface ParsedIPv6 {
  /** The 16 address bytes, network order. */
  readonly bytes: Uint8Array;
  /** The zone id after `%`, or undefined. */
  readonly zone: string | undefined;
}

/** An IP literal, parsed. */
export type ParsedIP =
  | { readonly family: 4; readonly bytes: Uint8Array; readonly zone: undefined }
  | { readonly family: 6; readonly bytes: Uint8Array; readonly zone: string | undefined };

function describe(text: unknown): string {
  if (typeof text !== "string") return String(text);
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + "…" : text);
}

function invalid(kind: string, text: unknown): TypeError {
  return new TypeError(`invalid ${kind} address: ${describe(text)}`);
}

/**
 * Parses the dotted decimal at text[start, end) into out[offset..offset+4).
 * Returns false when it is not a strict dotted quad.
 */
function scanIPv4(text: string, start: number, end: number, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let i = start;
  while (part < 4) {
    const first = i;
    let value = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      i++;
      if (i - first > 3) return false;
    }
    const digits = i - first;
    if (digits === 0 || value > 255) return false;
    if (digits > 1 && text.charCodeAt(first) === 48) return false; // leading zero
    out[offset + part] = value;
    part++;
    if (part < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === end;
}

/**
 * Parses a strict dotted-quad IPv4 literal.
 *
 * @param text e.g. "192.0.2.1"
 * @returns the 4 address bytes, network order
 * @throws TypeError naming the value when it is not a strict dotted quad
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "./address.ts";
 * console.log(parseIPv4("10.0.0.1")); // Uint8Array [10, 0, 0, 1]
 * ```
 */
export function parseIPv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  if (typeof text !== "string" || text.length > 15 || !scanIPv4(text, 0, text.length, out, 0)) {
    throw invalid("IPv4", text);
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function validZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > MAX_ZONE) return false;
  for (let i = 0; i < zone.length; i++) {
    const c = zone.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) ||
      c === 45 || c === 46 || c === 95 || c === 126; // - . _ ~
    if (!ok) return false;
  }
  return true;
}

/** Parses text[0, end) as IPv6 into out (16 bytes); false when invalid. */
function scanIPv6(text: string, end: number, out: Uint8Array): boolean {
  out.fill(0);
  let group = 0; // groups written so far (each 2 bytes)
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false; // a single leading ':'
    gap = 0;
    i = 2;
    if (i === end) return true; // "::"
  }
  while (i < end) {
    if (group === 8) return false;
    const first = i;
    let value = 0;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      i++;
      if (i - first > 4) return false;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // An IPv4 tail: it must end the address and fill two groups.
      if (group > 6) return false;
      if (!scanIPv4(text, first, end, out, group * 2)) return false;
      group += 2;
      i = end;
      break;
    }
    if (i === first) return false; // empty group
    out[group * 2] = value >> 8;
    out[group * 2 + 1] = value & 0xff;
    group++;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false; // a second "::"
      gap = group;
      i++;
      if (i === end) break; // trailing "::"
    } else if (i === end) {
      return false; // a single trailing ':'
    }
  }
  if (gap < 0) return group === 8;
  if (group > 7) return false; // "::" must stand for at least one group
  // Move the groups after the gap to the end.
  const tail = (group - gap) * 2;
  out.copyWithin(16 - tail, gap * 2, group * 2);
  out.fill(0, gap * 2, 16 - tail);
  return true;
}

/**
 * Parses an IPv6 literal (RFC 4291 §2.2 forms, with an optional IPv4 tail and
 * an optional `%zone`). Hex digits may be upper or lower case; each group has
 * at most four digits.
 *
 * @param text e.g. "2001:db8::1", "::ffff:192.0.2.1", "fe80::1%eth0"
 * @returns the 16 bytes and the zone
 * @throws TypeError naming the value when it is not a valid literal
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "./address.ts";
 * const { bytes, zone } = parseIPv6("fe80::1%lo");
 * console.log(bytes[0], bytes[15], zone); // 254 1 "lo"
 * ```
 */
export function parseIPv6(text: string): ParsedIPv6 {
  if (typeof text !== "string" || text.length > MAX_LITERAL) throw invalid("IPv6", text);
  const percent = text.indexOf("%");
  let zone: string | undefined;
  let end = text.length;
  if (percent >= 0) {
    zone = text.slice(percent + 1);
    if (!validZone(zone)) throw invalid("IPv6", text);
    end = percent;
  }
  const bytes = new Uint8Array(16);
  if (end > 45 || !scanIPv6(text, end, bytes)) throw invalid("IPv6", text);
  return { bytes, zone };
}

/**
 * Parses an IPv4 or IPv6 literal.
 *
 * @throws TypeError naming the value when it is neither
 *
 * @example
 * ```ts
 * import { parseIP } from "./address.ts";
 * console.log(parseIP("::1").family, parseIP("127.0.0.1").family); // 6 4
 * ```
 */
export function parseIP(text: string): ParsedIP {
  if (typeof text === "string" && text.includes(":")) {
    const { bytes, zone } = parseIPv6(text);
    return { family: 6, bytes, zone };
  }
  if (typeof text !== "string") throw invalid("IP", text);
  const out = new Uint8Array(4);
  if (text.length > 15 || !scanIPv4(text, 0, text.length, out, 0)) throw invalid("IP", text);
  return { family: 4, bytes: out, zone: undefined };
}

/**
 * Whether `text` is a strict IPv4 literal.
 *
 * @example
 * ```ts
 * import { isIPv4 } from "./address.ts";
 * console.log(isIPv4("1.2.3.4"), isIPv4("1.2.3")); // true false
 * ```
 */
export function isIPv4(text: string): boolean {
  return typeof text === "string" && text.length <= 15 &&
    scanIPv4(text, 0, text.length, scratch, 0);
}

const scratch = new Uint8Array(16);

/**
 * Whether `text` is a valid IPv6 literal (zone allowed).
 *
 * @example
 * ```ts
 * import { isIPv6 } from "./address.ts";
 * console.log(isIPv6("::1"), isIPv6("1::2::3")); // true false
 * ```
 */
export function isIPv6(text: string): boolean {
  if (typeof text !== "string" || text.length > MAX_LITERAL) return false;
  const percent = text.indexOf("%");
  const end = percent >= 0 ? percent : text.length;
  if (percent >= 0 && !validZone(text.slice(percent + 1))) return false;
  return end <= 45 && scanIPv6(text, end, scratch);
}

/**
 * Whether `host` is the name "localhost" in any letter case (names compare
 * without regard to case, RFC 4343), which connecting takes as 127.0.0.1.
 *
 * @example
 * ```ts
 * import { isLocalhost } from "./address.ts";
 * console.log(isLocalhost("LocalHost"), isLocalhost("localhost.example")); // true false
 * ```
 */
export function isLocalhost(host: string): boolean {
  return host.length === 9 && host.toLowerCase() === "localhost";
}

/**
 * 4 for an IPv4 literal, 6 for an IPv6 literal, 0 otherwise.
 *
 * @example
 * ```ts
 * import { isIP } from "./address.ts";
 * console.log(isIP("::1"), isIP("10.0.0.1"), isIP("localhost")); // 6 4 0
 * ```
 */
export function isIP(text: string): 0 | 4 | 6 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}

/**
 * Formats 4 bytes as a dotted quad.
 *
 * @example
 * ```ts
 * import { formatIPv4 } from "./address.ts";
 * console.log(formatIPv4(new Uint8Array([127, 0, 0, 1]))); // "127.0.0.1"
 * ```
 */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  if (bytes.length < offset + 4) throw new RangeError(`an IPv4 address needs 4 bytes, got ${bytes.length - offset}`);
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * Formats 16 bytes in the RFC 5952 canonical text form: lower-case hex, no
 * leading zeros, the first longest run of two or more zero groups as `::`,
 * and IPv4-mapped addresses as `::ffff:a.b.c.d`. A zone is appended as
 * `%zone`.
 *
 * @example
 * ```ts
 * import { formatIPv6 } from "./address.ts";
 * const b = new Uint8Array(16); b[15] = 1;
 * console.log(formatIPv6(b)); // "::1"
 * console.log(formatIPv6(b, "lo")); // "::1%lo"
 * ```
 */
export function formatIPv6(bytes: Uint8Array, zone?: string, offset = 0): string {
  if (bytes.length < offset + 16) throw new RangeError(`an IPv6 address needs 16 bytes, got ${bytes.length - offset}`);
  if (zone !== undefined && !validZone(zone)) throw new TypeError(`invalid IPv6 zone: ${describe(zone)}`);
  const suffix = zone === undefined ? "" : `%${zone}`;
  let mapped = bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (bytes[offset + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${formatIPv4(bytes, offset + 12)}${suffix}`;
  // The first longest run of at least two zero groups.
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && bytes[offset + 2 * g] === 0 && bytes[offset + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLength) {
        bestStart = runStart;
        bestLength = g - runStart;
      }
      runStart = -1;
    }
  }
  let text = "";
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += g === 0 ? "::" : ":";
      g += bestLength - 1;
      continue;
    }
    const value = (bytes[offset + 2 * g]! << 8) | bytes[offset + 2 * g + 1]!;
    text += value.toString(16);
    if (g < 7) text += ":";
  }
  return text + suffix;
}

/**
 * Formats 4 or 16 bytes as an IP literal.
 *
 * @example
 * ```ts
 * import { formatIP } from "./address.ts";
 * console.log(formatIP(new Uint8Array([192, 0, 2, 7]))); // "192.0.2.7"
 * ```
 */
export function formatIP(bytes: Uint8Array, zone?: string): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (bytes.length === 16) return formatIPv6(bytes, zone);
  throw new RangeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
}

/**
 * Checks a port number: an integer 0–65535.
 *
 * @returns the port
 * @throws TypeError for a non-number, RangeError for anything else out of range
 *
 * @example
 * ```ts
 * import { checkPort } from "./address.ts";
 * console.log(checkPort(443)); // 443
 * ```
 */
export function checkPort(port: number, what = "port"): number {
  if (typeof port !== "number") throw new TypeError(`${what} must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${what} must be an integer 0–65535, got ${port}`);
  }
  return port;
}

/**
 * Parses a decimal port string strictly ("0"–"65535", no sign, no leading
 * zeros, no spaces).
 *
 * @throws TypeError naming the value
 *
 * @example
 * ```ts
 * import { parsePort } from "./address.ts";
 * console.log(parsePort("8080")); // 8080
 * ```
 */
export function parsePort(text: string): number {
  if (typeof text !== "string" || !/^(?:0|[1-9][0-9]{0,4})$/.test(text) || Number(text) > 65535) {
    throw new TypeError(`invalid port: ${describe(text)}`);
  }
  return Number(text);
}

/**
 * Formats a host and port as `host:port`, with brackets around IPv6 hosts.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./address.ts";
 * console.log(formatHostPort("::1", 80), formatHostPort("10.0.0.1", 53)); // "[::1]:80" "10.0.0.1:53"
 * ```
 */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Splits `host:port` or `[v6]:port`. The host is returned as written (a
 * name or a literal); an IPv6 literal must be in brackets.
 *
 * @throws TypeError naming the value when the form or the port is invalid
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./address.ts";
 * console.log(parseHostPort("[::1]:8080")); // { host: "::1", port: 8080 }
 * ```
 */
export function parseHostPort(text: string): { host: string; port: number } {
  if (typeof text !== "string") throw new TypeError(`invalid host:port: ${describe(text)}`);
  let host: string;
  let rest: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new TypeError(`invalid host:port: ${describe(text)}`);
    host = text.slice(1, close);
    if (!isIPv6(host)) throw new TypeError(`invalid host:port: ${describe(text)}`);
    rest = text.slice(close + 1);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0 || text.indexOf(":") !== colon) throw new TypeError(`invalid host:port: ${describe(text)}`);
    host = text.slice(0, colon);
    rest = text.slice(colon);
  }
  if (!rest.startsWith(":") || host.length === 0) throw new TypeError(`invalid host:port: ${describe(text)}`);
  return { host, port: parsePort(rest.slice(1)) };
}

/**
 * Whether 16 address bytes are an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
 *
 * @example
 * ```ts
 * import { isIPv4MappedBytes, parseIP } from "./address.ts";
 * console.log(isIPv4MappedBytes(parseIP("::ffff:10.0.0.1").bytes)); // true
 * ```
 */
export function isIPv4MappedBytes(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
