/**
 * An RFC 3986 URI parser: URI references with scheme, userinfo, host
 * (reg-name, IPv4, IP-literal with an RFC 6874 zone, IPvFuture), port, path,
 * query and fragment; percent-encoding validation and decoding; dot-segment
 * removal; and the four HTTP request-target forms (RFC 9112 §3.2).
 *
 * Every malformed input throws an `HTTPError` with code `ERR_INVALID_URI`.
 *
 * @example
 * ```ts
 * import { parseURI } from "./uri.ts";
 * const u = parseURI("https://user@[fe80::1%25eth0]:8443/a/../b?x=1#top");
 * console.log(u.host, u.zone, u.port, u.path); // "fe80::1" "eth0" 8443 "/a/../b"
 * ```
 *
 * @module
 */
import { isIPv4, isIPv6 } from "../../socket/address.ts";
import { HTTPError } from "../../core/errors.ts";

/** The strict IP literal checks of socket/address.ts, which RFC 3986 §3.2.2 hosts follow too. */
export { isIPv4, isIPv6 };

/** The kind of host a URI names. */
export type HostKind = "reg-name" | "ipv4" | "ipv6" | "ipvfuture";

/** The components of a parsed URI reference (RFC 3986 §3). */
export interface URI {
  /** Lower-cased scheme, or null for a relative reference. */
  scheme: string | null;
  /** The userinfo, still percent-encoded, or null. */
  userinfo: string | null;
  /** The host as written (lower-cased; without brackets for IP literals), or null without authority. */
  host: string | null;
  /** What kind of host, or null without authority. */
  hostKind: HostKind | null;
  /** The decoded IPv6 zone identifier, or null. */
  zone: string | null;
  /** The port, or null when absent or empty. */
  port: number | null;
  /** The path, still percent-encoded ("" when empty). */
  path: string;
  /** The query without "?", still percent-encoded, or null. */
  query: string | null;
  /** The fragment without "#", still percent-encoded, or null. */
  fragment: string | null;
}

function fail(input: string, why: string): never {
  throw new HTTPError("ERR_INVALID_URI", `Invalid URI ${JSON.stringify(input.slice(0, 200))}: ${why}`);
}

function charTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const UNRESERVED_SUB = "-._~!$&'()*+,;=";
const USERINFO = charTable(UNRESERVED_SUB + ":%");
const REG_NAME = charTable(UNRESERVED_SUB + "%");
const PCHAR = charTable(UNRESERVED_SUB + ":@%");
const PATH = charTable(UNRESERVED_SUB + ":@%/");
const QUERY = charTable(UNRESERVED_SUB + ":@%/?");
const SCHEME = charTable("+-.");
const FUTURE = charTable(UNRESERVED_SUB + ":");
const ZONE = charTable("-._~%");

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function checkChars(input: string, s: string, table: Uint8Array, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || table[c] !== 1) fail(input, `invalid character in ${what}`);
    if (c === 0x25) {
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) {
        fail(input, `invalid percent-encoding in ${what}`);
      }
      i += 2;
    }
  }
}

/**
 * Tells whether `s`, the text between "[" and "]", is a valid IP-literal:
 * an IPv6 address, one with an RFC 6874 zone (`%25` then the zone), or an
 * IPvFuture.
 *
 * @example
 * ```ts
 * import { isValidIPLiteral } from "./uri.ts";
 * console.log(isValidIPLiteral("fe80::1%25en0"), isValidIPLiteral("v1.x")); // true true
 * ```
 */
export function isValidIPLiteral(s: string): boolean {
  return classifyIPLiteral(s) !== null;
}

function classifyIPLiteral(s: string): { kind: "ipv6" | "ipvfuture"; address: string; zone: string | null } | null {
  if (s.length > 0 && (s.charCodeAt(0) | 0x20) === 0x76) {
    const dot = s.indexOf(".");
    if (dot < 2 || dot === s.length - 1) return null;
    for (let i = 1; i < dot; i++) if (!isHex(s.charCodeAt(i))) return null;
    for (let i = dot + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128 || FUTURE[c] !== 1) return null;
    }
    return { kind: "ipvfuture", address: s.toLowerCase(), zone: null };
  }
  const pct = s.indexOf("%");
  if (pct === -1) return isIPv6(s) ? { kind: "ipv6", address: s.toLowerCase(), zone: null } : null;
  const address = s.slice(0, pct);
  if (!isIPv6(address) || !s.startsWith("%25", pct)) return null;
  const zoneRaw = s.slice(pct + 3);
  if (zoneRaw.length === 0) return null;
  for (let i = 0; i < zoneRaw.length; i++) {
    const c = zoneRaw.charCodeAt(i);
    if (c >= 128 || ZONE[c] !== 1) return null;
    if (c === 0x25) {
      if (!isHex(zoneRaw.charCodeAt(i + 1)) || !isHex(zoneRaw.charCodeAt(i + 2))) return null;
      i += 2;
    }
  }
  let zone: string;
  try {
    zone = percentDecode(zoneRaw);
  } catch {
    return null;
  }
  return { kind: "ipv6", address: address.toLowerCase(), zone };
}

interface Authority {
  userinfo: string | null;
  host: string;
  hostKind: HostKind;
  zone: string | null;
  port: number | null;
}

function parseAuthority(input: string, a: string): Authority {
  let rest = a;
  let userinfo: string | null = null;
  const at = rest.lastIndexOf("@");
  if (at !== -1) {
    userinfo = rest.slice(0, at);
    checkChars(input, userinfo, USERINFO, "userinfo");
    rest = rest.slice(at + 1);
  }
  let host: string;
  let hostKind: HostKind;
  let zone: string | null = null;
  let portText: string | null = null;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close === -1) fail(input, "unterminated IP literal");
    const literal = classifyIPLiteral(rest.slice(1, close));
    if (literal === null) fail(input, "invalid IP literal");
    host = literal.address;
    hostKind = literal.kind;
    zone = literal.zone;
    const after = rest.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) fail(input, "unexpected text after IP literal");
      portText = after.slice(1);
    }
  } else {
    const colon = rest.indexOf(":");
    host = colon === -1 ? rest : rest.slice(0, colon);
    if (colon !== -1) portText = rest.slice(colon + 1);
    checkChars(input, host, REG_NAME, "host");
    hostKind = isIPv4(host) ? "ipv4" : "reg-name";
    host = host.toLowerCase();
  }
  let port: number | null = null;
  if (portText !== null && portText !== "") {
    for (let i = 0; i < portText.length; i++) {
      const c = portText.charCodeAt(i);
      if (c < 0x30 || c > 0x39) fail(input, "invalid port");
    }
    port = Number(portText);
    if (port > 65535) fail(input, "port out of range");
  }
  return { userinfo, host, hostKind, zone, port };
}

/**
 * Parses a URI reference (RFC 3986 §4.1): an absolute URI or a relative
 * reference. Components stay percent-encoded; the scheme and host are
 * lower-cased (they are case-insensitive).
 *
 * @param input The URI reference.
 * @returns Its components.
 * @throws HTTPError `ERR_INVALID_URI` for any character or structure the grammar does not allow.
 * @example
 * ```ts
 * import { parseURI } from "./uri.ts";
 * console.log(parseURI("HTTP://Example.COM:80/p?q").host); // "example.com"
 * ```
 */
export function parseURI(input: string): URI {
  let rest = input;
  let fragment: string | null = null;
  const hash = rest.indexOf("#");
  if (hash !== -1) {
    fragment = rest.slice(hash + 1);
    checkChars(input, fragment, QUERY, "fragment");
    rest = rest.slice(0, hash);
  }
  let query: string | null = null;
  const q = rest.indexOf("?");
  if (q !== -1) {
    query = rest.slice(q + 1);
    checkChars(input, query, QUERY, "query");
    rest = rest.slice(0, q);
  }
  let scheme: string | null = null;
  const colon = rest.indexOf(":");
  const slash = rest.indexOf("/");
  if (colon !== -1 && (slash === -1 || colon < slash)) {
    const s = rest.slice(0, colon);
    if (s.length === 0) fail(input, "empty scheme");
    const c0 = s.charCodeAt(0) | 0x20;
    if (c0 < 0x61 || c0 > 0x7a) fail(input, "scheme must start with a letter");
    for (let i = 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128 || SCHEME[c] !== 1) fail(input, "invalid character in scheme");
    }
    scheme = s.toLowerCase();
    rest = rest.slice(colon + 1);
  }
  let authority: Authority | null = null;
  if (rest.startsWith("//")) {
    const end = rest.indexOf("/", 2);
    authority = parseAuthority(input, end === -1 ? rest.slice(2) : rest.slice(2, end));
    rest = end === -1 ? "" : rest.slice(end);
  }
  checkChars(input, rest, PATH, "path");
  if (authority === null && rest.startsWith("//")) fail(input, "path cannot start with //");
  return {
    scheme,
    userinfo: authority?.userinfo ?? null,
    host: authority?.host ?? null,
    hostKind: authority?.hostKind ?? null,
    zone: authority?.zone ?? null,
    port: authority?.port ?? null,
    path: rest,
    query,
    fragment,
  };
}

/**
 * Tells whether the WHATWG URL parser takes `authority` (a `host[:port]`
 * that passed the RFC 3986 checks) as the host of an `http:` URL. A
 * server builds each request's `url` from its Host or `:authority`, and
 * RFC 3986 accepts hosts the URL parser refuses: a port above 65535, a
 * last label of digits or `0x` (`b.1`, `1.2.3.999` are IPv4 numbers to
 * it), percent-escapes that decode to forbidden code points, `xn--`
 * labels that are not Punycode, an empty host before a port, IPvFuture
 * and zones. Such a request's `new URL(request.url)` (or any real
 * `Request`) throws, so servers refuse it with 400 instead. Names of
 * letters, digits, `-` and `.` whose last label starts with a letter,
 * and dotted-quad IPv4, are answered without the URL parser. Takes a
 * string, or bytes (latin1) with the range `[start, end)`.
 *
 * @example
 * ```ts
 * import { isUrlAuthority } from "./uri.ts";
 * console.log(isUrlAuthority("example.com:8080"), isUrlAuthority("a:99999"), isUrlAuthority("b.1")); // true false false
 * const bytes = new TextEncoder().encode("Host: [::1]:8080");
 * console.log(isUrlAuthority(bytes, 6, bytes.length)); // true
 * ```
 */
export function isUrlAuthority(authority: string | Uint8Array, start = 0, end: number = authority.length): boolean {
  const bytes = typeof authority === "string" ? null : authority;
  const text = typeof authority === "string" ? authority : "";
  let hostEnd = end;
  let simple = end > start && codeAt(bytes, text, start) !== 0x5b;
  let label = start;
  let lastLabel = start;
  // A dotted quad is checked as it goes by (no string for isIPv4): octets of 1-3 digits, no leading 0, at most 255.
  let quad = true;
  let dots = 0;
  let octet = 0;
  let octetDigits = 0;
  for (let i = start; i < end; i++) {
    const c = codeAt(bytes, text, i);
    if (c === 0x3a && simple) {
      hostEnd = i;
      break;
    }
    if (c === 0x2e) {
      if (i + 1 < end && codeAt(bytes, text, i + 1) !== 0x3a) lastLabel = i + 1;
      label = i + 1;
      if (octetDigits === 0) quad = false;
      dots++;
      octet = 0;
      octetDigits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (octetDigits === 1 && octet === 0) quad = false;
      octet = octet * 10 + c - 0x30;
      if (++octetDigits > 3 || octet > 255) quad = false;
    } else {
      quad = false;
      if (c === 0x2d) {
        if (i === label + 3 && codeAt(bytes, text, i - 1) === 0x2d) simple = false; // "xn--": Punycode
      } else if (!((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) simple = false;
    }
  }
  if (hostEnd === start) return false;
  if (simple && hostEnd < end) {
    let port = 0;
    for (let i = hostEnd + 1; i < end; i++) {
      const d = codeAt(bytes, text, i) - 0x30;
      if (d < 0 || d > 9) return false;
      port = port * 10 + d;
      if (port > 65535) return false;
    }
  }
  if (simple) {
    const first = codeAt(bytes, text, lastLabel) | 0x20;
    if (first >= 0x61 && first <= 0x7a) return true;
    if (quad && dots === 3 && octetDigits > 0) return true;
  }
  // Anything else (escapes, sub-delims, numbers, brackets): ask the parser itself, once.
  const value = bytes === null ? text.slice(start, end) : latin1Of(bytes, start, end);
  if (/[\\/?#@\s]/.test(value)) return false;
  try {
    new URL(`http://${value}/`);
    return true;
  } catch {
    return false;
  }
}

function codeAt(bytes: Uint8Array | null, text: string, i: number): number {
  return bytes === null ? text.charCodeAt(i) : bytes[i]!;
}

function latin1Of(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The four request-target forms of RFC 9112 §3.2. */
export type RequestTargetForm = "origin" | "absolute" | "authority" | "asterisk";

/** A parsed request-target. */
export interface RequestTarget extends URI {
  /** Which of the four forms the target has. */
  form: RequestTargetForm;
}

/**
 * Parses an HTTP/1.1 request-target for the given method (RFC 9112 §3.2):
 * authority-form only (and always) for CONNECT, asterisk-form only for
 * OPTIONS, otherwise origin-form or absolute-form. Fragments are not allowed.
 *
 * @example
 * ```ts
 * import { parseRequestTarget } from "./uri.ts";
 * console.log(parseRequestTarget("example.com:443", "CONNECT").port); // 443
 * console.log(parseRequestTarget("/search?q=1", "GET").query); // "q=1"
 * ```
 */
export function parseRequestTarget(target: string, method: string): RequestTarget {
  if (target.includes("#")) fail(target, "fragment in request-target");
  if (method === "CONNECT") {
    if (target.includes("/") || target.includes("?")) fail(target, "CONNECT needs authority-form");
    const a = parseAuthority(target, target);
    if (a.userinfo !== null) fail(target, "userinfo in authority-form");
    if (a.port === null || a.host === "" || !/:\d+$/.test(target)) fail(target, "authority-form needs host and port");
    return { form: "authority", scheme: null, ...a, path: "", query: null, fragment: null };
  }
  if (target === "*") {
    if (method !== "OPTIONS") fail(target, "asterisk-form is only for OPTIONS");
    return {
      form: "asterisk",
      scheme: null,
      userinfo: null,
      host: null,
      hostKind: null,
      zone: null,
      port: null,
      path: "*",
      query: null,
      fragment: null,
    };
  }
  const u = parseURI(target);
  if (target.startsWith("/")) {
    if (u.host !== null) fail(target, "origin-form cannot have an authority");
    return { form: "origin", ...u };
  }
  if (u.scheme === null) fail(target, "request-target must be origin-, absolute-, authority- or asterisk-form");
  if (u.scheme === "http" || u.scheme === "https") {
    // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid; §4.2.4: userinfo is an error.
    if (u.host === null || u.host === "") fail(target, "http(s) URI without a host");
    if (u.userinfo !== null) fail(target, "userinfo in an http(s) URI");
    if (!isUrlAuthority(target, target.indexOf("//") + 2, authorityEnd(target))) fail(target, "host the URL parser refuses");
  }
  return { form: "absolute", ...u };
}

/** Where the authority after "//" ends: at the first "/", "?" or "#", or the end. */
function authorityEnd(uri: string): number {
  const from = uri.indexOf("//") + 2;
  for (let i = from; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) return i;
  }
  return uri.length;
}

/**
 * Decodes percent-encoding and then UTF-8 (RFC 3986 §2.1).
 *
 * @throws HTTPError `ERR_INVALID_URI` on a bad escape or invalid UTF-8.
 * @example
 * ```ts
 * import { percentDecode } from "./uri.ts";
 * console.log(percentDecode("caf%C3%A9")); // "café"
 * ```
 */
export function percentDecode(s: string): string {
  if (!s.includes("%")) return s;
  const bytes = percentDecodeBytes(s);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    fail(s, "percent-encoded bytes are not UTF-8");
  }
}

/**
 * Decodes percent-encoding to bytes; other characters are UTF-8 encoded.
 *
 * @throws HTTPError `ERR_INVALID_URI` on a bad escape.
 * @example
 * ```ts
 * import { percentDecodeBytes } from "./uri.ts";
 * console.log(percentDecodeBytes("%FF")); // Uint8Array [255]
 * ```
 */
export function percentDecodeBytes(s: string): Uint8Array {
  const text = new TextEncoder().encode(s);
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as number;
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const h = text[i + 1];
    const l = text[i + 2];
    if (h === undefined || l === undefined || !isHex(h) || !isHex(l)) fail(s, "invalid percent-encoding");
    out[n++] = parseInt(String.fromCharCode(h, l), 16);
    i += 2;
  }
  return out.slice(0, n);
}

/**
 * Removes "." and ".." segments from a path (RFC 3986 §5.2.4).
 *
 * @example
 * ```ts
 * import { removeDotSegments } from "./uri.ts";
 * console.log(removeDotSegments("/a/b/c/./../../g")); // "/a/g"
 * ```
 */
export function removeDotSegments(path: string): string {
  let input = path;
  const output: string[] = [];
  while (input.length > 0) {
    if (input.startsWith("../")) input = input.slice(3);
    else if (input.startsWith("./")) input = input.slice(2);
    else if (input.startsWith("/./")) input = input.slice(2);
    else if (input === "/.") input = "/";
    else if (input.startsWith("/../")) {
      input = input.slice(3);
      output.pop();
    } else if (input === "/..") {
      input = "/";
      output.pop();
    } else if (input === "." || input === "..") input = "";
    else {
      const next = input.indexOf("/", input.startsWith("/") ? 1 : 0);
      const seg = next === -1 ? input : input.slice(0, next);
      output.push(seg);
      input = next === -1 ? "" : input.slice(next);
    }
  }
  return output.join("");
}

/**
 * Recomposes a URI from its components (RFC 3986 §5.3). IP literals get
 * their brackets back and a zone is re-encoded as `%25`.
 *
 * @example
 * ```ts
 * import { formatURI, parseURI } from "./uri.ts";
 * console.log(formatURI(parseURI("HTTP://[::1]:8080/a?b#c"))); // "http://[::1]:8080/a?b#c"
 * ```
 */
export function formatURI(u: URI): string {
  let out = "";
  if (u.scheme !== null) out += u.scheme + ":";
  if (u.host !== null) {
    out += "//";
    if (u.userinfo !== null) out += u.userinfo + "@";
    if (u.hostKind === "ipv6" || u.hostKind === "ipvfuture") {
      out += "[" + u.host + (u.zone !== null ? "%25" + encodeURIComponent(u.zone) : "") + "]";
    } else {
      out += u.host;
    }
    if (u.port !== null) out += ":" + u.port;
  }
  out += u.path;
  if (u.query !== null) out += "?" + u.query;
  if (u.fragment !== null) out += "#" + u.fragment;
  return out;
}

function merge(base: URI, refPath: string): string {
  if (base.host !== null && base.path === "") return "/" + refPath;
  const slash = base.path.lastIndexOf("/");
  return slash === -1 ? refPath : base.path.slice(0, slash + 1) + refPath;
}

/**
 * Resolves a reference against an absolute base URI (RFC 3986 §5.2, strict
 * parser), as a client does with a `Location` or `Content-Location` value.
 *
 * @throws HTTPError `ERR_INVALID_URI` when either is malformed or the base is not absolute.
 * @example
 * ```ts
 * import { formatURI, resolveReference } from "./uri.ts";
 * console.log(formatURI(resolveReference("http://a/b/c/d;p?q", "../g"))); // "http://a/b/g"
 * ```
 */
export function resolveReference(base: string | URI, reference: string | URI): URI {
  const b = typeof base === "string" ? parseURI(base) : base;
  const r = typeof reference === "string" ? parseURI(reference) : reference;
  if (b.scheme === null) fail(typeof base === "string" ? base : formatURI(base), "base URI must be absolute");
  const t: URI = { ...r };
  if (r.scheme !== null) {
    t.path = removeDotSegments(r.path);
    return t;
  }
  t.scheme = b.scheme;
  if (r.host !== null) {
    t.path = removeDotSegments(r.path);
    return t;
  }
  t.userinfo = b.userinfo;
  t.host = b.host;
  t.hostKind = b.hostKind;
  t.zone = b.zone;
  t.port = b.port;
  if (r.path === "") {
    t.path = b.path;
    t.query = r.query !== null ? r.query : b.query;
  } else {
    t.path = removeDotSegments(r.path.startsWith("/") ? r.path : merge(b, r.path));
    t.query = r.query;
  }
  return t;
}
