/**
 * Byte-level readers for the header fields that decide HTTP/1.1 message
 * framing and connection handling (RFC 9112 §6, §7, §9.6; RFC 9110 §7.2,
 * §7.6.1, §8.6). They read a span of the parser's input without making
 * strings, and report malformed values by return value so that the parser
 * can raise the error with the right offset.
 *
 * @example
 * ```ts
 * import { readContentLength } from "./framing.ts";
 * const bytes = new TextEncoder().encode("42, 42");
 * console.log(readContentLength(bytes, 0, bytes.length)); // 42
 * ```
 *
 * @module
 */
import { isUrlAuthority, isValidIPLiteral } from "../core/uri.ts";
import { latin1 } from "./fields.ts";
import { HEX_VALUE, IP_LITERAL, REG_NAME, TOKEN } from "./tables.ts";

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;

/**
 * Reads a Content-Length value: `1*DIGIT`, or a comma list of identical
 * values (RFC 9110 §8.6). Returns the length, or -1 when the value is
 * malformed (empty, signs, inner spaces, empty list elements, differing
 * values, or above `Number.MAX_SAFE_INTEGER`).
 *
 * @example
 * ```ts
 * import { readContentLength } from "./framing.ts";
 * const bytes = new TextEncoder().encode("+5");
 * console.log(readContentLength(bytes, 0, bytes.length)); // -1
 * ```
 */
export function readContentLength(buf: Uint8Array, start: number, end: number): number {
  let result = -1;
  let p = start;
  for (;;) {
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    const digitsStart = p;
    let value = 0;
    while (p < end) {
      const d = (buf[p] as number) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      if (value > Number.MAX_SAFE_INTEGER) return -1;
      p++;
    }
    if (p === digitsStart) return -1;
    if (result !== -1 && result !== value) return -1;
    result = value;
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    if (p === end) return result;
    if (buf[p] !== COMMA) return -1;
    p++;
  }
}

/** Transfer codings a recipient understands (RFC 9112 §7, IANA registry). */
const KNOWN_CODINGS: readonly string[] = ["chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress"];

/** The state carried across Transfer-Encoding field lines of one message. */
export interface TransferCodingState {
  /** Codings seen so far, across every Transfer-Encoding line. */
  count: number;
  /** The last coding seen is `chunked`. */
  chunkedLast: boolean;
  /** `chunked` was seen (anywhere). */
  chunkedSeen: boolean;
  /** A coding outside the registry was seen. */
  unknown: boolean;
}

/** Why a Transfer-Encoding value was refused. */
export type TransferCodingProblem = "" | "syntax" | "chunked-twice";

function lowerEquals(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (((buf[start + i] as number) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Reads one Transfer-Encoding field value into `state` (RFC 9112 §6.1, §7):
 * a comma list of bare codings (empty list elements are ignored as RFC 9110
 * §5.6.1 requires; parameters are refused). Returns "" when the value is
 * acceptable so far, otherwise what is wrong.
 *
 * @example
 * ```ts
 * import { readTransferEncoding } from "./framing.ts";
 * const s = { count: 0, chunkedLast: false, chunkedSeen: false, unknown: false };
 * const bytes = new TextEncoder().encode("gzip, chunked");
 * console.log(readTransferEncoding(bytes, 0, bytes.length, s), s.chunkedLast); // "" true
 * ```
 */
export function readTransferEncoding(
  buf: Uint8Array,
  start: number,
  end: number,
  state: TransferCodingState,
): TransferCodingProblem {
  let p = start;
  let elements = 0;
  for (;;) {
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    const tokenStart = p;
    while (p < end && TOKEN[buf[p] as number] === 1) p++;
    const tokenEnd = p;
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    if (p < end && buf[p] !== COMMA) return "syntax";
    if (tokenEnd > tokenStart) {
      elements++;
      let known = false;
      let chunked = false;
      for (const name of KNOWN_CODINGS) {
        if (lowerEquals(buf, tokenStart, tokenEnd, name)) {
          known = true;
          chunked = name === "chunked";
          break;
        }
      }
      if (chunked) {
        if (state.chunkedSeen) return "chunked-twice";
        state.chunkedSeen = true;
      }
      // A coding after chunked is the caller's to judge: a request is
      // refused, a response is read until close (RFC 9112 §6.3 rule 4).
      state.count++;
      state.chunkedLast = chunked;
      if (!known) state.unknown = true;
    } else if (p === end && elements === 0) {
      return "syntax";
    }
    if (p === end) return "";
    p++; // comma
  }
}

/**
 * The `close` connection option, as a bit of {@link readConnection}'s result.
 *
 * @example
 * ```ts
 * import { CONNECTION_CLOSE, readConnection } from "./framing.ts";
 * const v = new TextEncoder().encode("close");
 * console.log(readConnection(v, 0, v.length) === CONNECTION_CLOSE); // true
 * ```
 */
export const CONNECTION_CLOSE = 1;
/**
 * The `keep-alive` connection option (HTTP/1.0 persistence).
 *
 * @example
 * ```ts
 * import { CONNECTION_KEEP_ALIVE, readConnection } from "./framing.ts";
 * const v = new TextEncoder().encode("Keep-Alive");
 * console.log(readConnection(v, 0, v.length) === CONNECTION_KEEP_ALIVE); // true
 * ```
 */
export const CONNECTION_KEEP_ALIVE = 2;
/**
 * The `upgrade` connection option (RFC 9110 §7.8).
 *
 * @example
 * ```ts
 * import { CONNECTION_UPGRADE, readConnection } from "./framing.ts";
 * const v = new TextEncoder().encode("Upgrade");
 * console.log(readConnection(v, 0, v.length) === CONNECTION_UPGRADE); // true
 * ```
 */
export const CONNECTION_UPGRADE = 4;

/**
 * Reads a Connection field value (RFC 9110 §7.6.1) and returns a bit set of
 * the `close`, `keep-alive` and `upgrade` options found (case-insensitive);
 * other options are ignored. Returns -1 for a value that is not a token list.
 *
 * @example
 * ```ts
 * import { CONNECTION_CLOSE, readConnection } from "./framing.ts";
 * const bytes = new TextEncoder().encode("Keep-Alive, close");
 * console.log((readConnection(bytes, 0, bytes.length) & CONNECTION_CLOSE) !== 0); // true
 * ```
 */
export function readConnection(buf: Uint8Array, start: number, end: number): number {
  let flags = 0;
  let p = start;
  for (;;) {
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    const s = p;
    while (p < end && TOKEN[buf[p] as number] === 1) p++;
    const e = p;
    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    if (p < end && buf[p] !== COMMA) return -1;
    if (lowerEquals(buf, s, e, "close")) flags |= CONNECTION_CLOSE;
    else if (lowerEquals(buf, s, e, "keep-alive")) flags |= CONNECTION_KEEP_ALIVE;
    else if (lowerEquals(buf, s, e, "upgrade")) flags |= CONNECTION_UPGRADE;
    if (p === end) return flags;
    p++;
  }
}

function validPercent(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (buf[i] === 0x25) {
      if (i + 2 >= end) return false;
      if ((HEX_VALUE[buf[i + 1] as number] as number) < 0) return false;
      if ((HEX_VALUE[buf[i + 2] as number] as number) < 0) return false;
      i += 2;
    }
  }
  return true;
}

function validPort(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return false;
  }
  return end - start <= 5 || allZeroPrefix(buf, start, end - 5);
}

function allZeroPrefix(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0x30) return false;
  return true;
}

/**
 * Checks a Host field value: `uri-host [ ":" port ]` (RFC 9110 §7.2,
 * RFC 3986 §3.2.2): a reg-name with valid pct-encoding, an IPv4 address
 * (a reg-name lexically) or a bracketed IP-literal, then an optional port of
 * digits. An empty value is allowed (a target without authority). A
 * value the WHATWG URL parser refuses as an `http:` host is invalid too
 * (`isUrlAuthority`: `a:99999`, `b.1`, `a%25`), since the request's URL
 * is built from it.
 *
 * @example
 * ```ts
 * import { isValidHost } from "./framing.ts";
 * const bytes = new TextEncoder().encode("[::1]:8080");
 * console.log(isValidHost(bytes, 0, bytes.length)); // true
 * ```
 */
export function isValidHost(buf: Uint8Array, start: number, end: number): boolean {
  let p = start;
  if (p < end && buf[p] === 0x5b) {
    p++;
    const s = p;
    while (p < end && IP_LITERAL[buf[p] as number] === 1) p++;
    if (p === s || p === end || buf[p] !== 0x5d) return false;
    if (!isValidIPLiteral(latin1(buf, s, p))) return false;
    p++;
  } else {
    const s = p;
    let percent = false;
    let lastLabel = s;
    let hyphens = false;
    for (; p < end; p++) {
      const c = buf[p]!;
      if (REG_NAME[c] !== 1) break;
      if (c === 0x25) percent = true;
      else if (c === 0x2e) lastLabel = p + 1;
      else if (c === 0x2d && buf[p - 1] === 0x2d) hyphens = true;
    }
    if (percent && !validPercent(buf, s, p)) return false;
    if (p !== end && (buf[p] !== 0x3a || !validPort(buf, p + 1, end))) return false;
    // The usual name (no escapes, no "xn--", a last label that starts with a letter, so no IPv4 number) with a port up to 65535 needs no more checks.
    const first = (buf[lastLabel]! | 0x20) - 0x61;
    const name = lastLabel < p && first >= 0 && first < 26;
    if (!percent && !hyphens && (name || isDottedQuad(buf, s, p)) && (p === end || portValue(buf, p + 1, end) <= 65535)) return true;
  }
  if (p !== end && (buf[p] !== 0x3a || !validPort(buf, p + 1, end))) return false;
  // The request's url is built from it: a host the URL parser refuses (port over 65535, `b.1`, `a%25`) would make it throw.
  return start === end || isUrlAuthority(buf, start, end);
}

/** Whether `buf[start..end)` is a dotted-quad IPv4 address (four decimal octets up to 255, no leading zeros). */
function isDottedQuad(buf: Uint8Array, start: number, end: number): boolean {
  let dots = 0;
  let octet = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return false;
      octet = 0;
      digits = 0;
    } else {
      const d = c - 0x30;
      if (d < 0 || d > 9 || (digits === 1 && octet === 0)) return false;
      octet = octet * 10 + d;
      if (++digits > 3 || octet > 255) return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** The value of a port's digits (already checked), Infinity when it has more than five significant ones. */
function portValue(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    n = n * 10 + buf[i]! - 0x30;
    if (n > 65535) return Infinity;
  }
  return n;
}
