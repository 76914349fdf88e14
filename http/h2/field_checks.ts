/**
 * HTTP/2 field validation (RFC 9113 §8.2, §8.3), as strict as nghttp2:
 * what makes a request, response or trailer section malformed. Names are
 * lowercase tokens and never connection-specific; values hold no control
 * character but HTAB (no NUL, CR, LF, DEL) and no leading or trailing
 * whitespace; `:method` is a token, `:scheme` a scheme, `:path` an
 * origin-form target (or `*` for OPTIONS) without SP, controls or `#`,
 * `:authority` a host and port without userinfo, and `host` agrees with
 * `:authority`. Such requests would be dangerous to forward to HTTP/1.1.
 * Fields are the flat arrays HPACK produces (`[name0, value0, …]`).
 *
 * @module
 */
import { PROHIBITED_TRAILER_FIELDS } from "../core/trailer_fields.ts";
import { isUrlAuthority } from "../core/uri.ts";

/** What a checked section turned out to hold. */
export interface SectionInfo {
  /** `:method` of a request, `""` otherwise. */
  method: string;
  /** `:status` of a response, 0 otherwise. */
  status: number;
  /** Parsed content-length, -1 when absent. */
  contentLength: number;
}

const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

// tchar per RFC 9110 §5.6.2, without uppercase letters (RFC 9113 §8.2.1).
const NAME_CHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;
// tchar with uppercase (methods are case-sensitive tokens, RFC 9110 §9.1).
const TOKEN_CHAR = NAME_CHAR.slice();
for (let c = 0x41; c <= 0x5a; c++) TOKEN_CHAR[c] = 1;
// origin-form request-target octets (RFC 3986 pchar, "/", "?"), obs-text allowed as nghttp2 does; no SP, CTL, DEL or "#".
const PATH_CHAR = new Uint8Array(256);
for (let c = 0x21; c <= 0xff; c++) PATH_CHAR[c] = c === 0x7f || c === 0x23 ? 0 : 1;
// authority = host [":" port]: reg-name, IP literals in brackets; no userinfo ("@"), no "/", "?", "#", "\\".
const AUTHORITY_CHAR = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:[]") AUTHORITY_CHAR[c.charCodeAt(0)] = 1;

function allOf(table: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (table[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** A reason when `path` is not a valid `:path` for `method` (http and https schemes), or "". */
function checkPath(path: string, method: string, scheme: string): string {
  if (path === "*") return method === "OPTIONS" ? "" : "* as :path of a method other than OPTIONS";
  if (!allOf(PATH_CHAR, path)) return "invalid character in :path";
  if ((scheme === "http" || scheme === "https") && path.charCodeAt(0) !== 0x2f) return ":path does not start with /";
  return "";
}

/**
 * Puts `fields`, a section that passed, in `memo` (see {@link checkRequest}):
 * the array is refilled in place, so a connection keeps one.
 */
function remember(memo: string[], fields: readonly string[]): void {
  const n = fields.length;
  for (let k = 0; k < n; k++) memo[k] = fields[k]!;
  memo.length = n;
}

/** A reason when `authority` is not host [":" port] without userinfo, or "". */
function checkAuthority(authority: string, what: string, needPort: boolean): string {
  if (authority.length === 0) return `empty ${what}`;
  if (authority.includes("@")) return `userinfo in ${what}`;
  if (!allOf(AUTHORITY_CHAR, authority)) return `invalid character in ${what}`;
  const close = authority.lastIndexOf("]");
  const colon = authority.lastIndexOf(":");
  if (authority.charCodeAt(0) === 0x5b) {
    if (close < 0) return `unclosed IP literal in ${what}`;
  } else if (close >= 0 || authority.indexOf("[") >= 0 || authority.indexOf(":") !== colon) return `invalid host in ${what}`;
  const hasPort = colon > close;
  if (hasPort && !(/^[0-9]{0,5}$/.test(authority.slice(colon + 1)) && Number(authority.slice(colon + 1)) <= 65535)) return `invalid port in ${what}`;
  if (close >= 0 && close !== authority.length - 1 && colon !== close + 1) return `invalid host in ${what}`;
  if (needPort && (!hasPort || colon === authority.length - 1)) return `${what} without a port`;
  // The request's url is built from it: a host the URL parser refuses (`b.1`, `a%25`, `xn--a`) would make it throw.
  if (!isUrlAuthority(authority)) return `${what} is not a URL host`;
  return "";
}

/**
 * Returns a reason when `name` is not a valid HTTP/2 field name (tokens in
 * lowercase; pseudo-header names are checked by the section checks), or ""
 * when it is valid.
 *
 * @example
 * ```ts
 * import { checkFieldName } from "./field_checks.ts";
 * checkFieldName("Content-Type"); // "field name contains an invalid character"
 * ```
 */
export function checkFieldName(name: string): string {
  if (name.length === 0) return "empty field name";
  for (let i = 0; i < name.length; i++) {
    if (NAME_CHAR[name.charCodeAt(i)] !== 1) return "field name contains an invalid character";
  }
  return "";
}

/**
 * Returns a reason when `value` is not a valid field value (no control
 * character but HTAB: no NUL, CR, LF or DEL; no leading or trailing space
 * or tab), or "".
 *
 * @example
 * ```ts
 * import { checkFieldValue } from "./field_checks.ts";
 * checkFieldValue(" x"); // "field value starts or ends with whitespace"
 * ```
 */
export function checkFieldValue(value: string): string {
  const n = value.length;
  if (n === 0) return "";
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return "field value contains a control character";
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) {
    return "field value starts or ends with whitespace";
  }
  return "";
}

function parseContentLength(value: string, prev: number): number {
  // One number, the usual case: no split, trim or pattern.
  const n = value.length;
  if (n > 0 && n <= 15) {
    let digits = 0;
    while (digits < n) {
      const c = value.charCodeAt(digits);
      if (c < 0x30 || c > 0x39) break;
      digits++;
    }
    if (digits === n) {
      const one = Number(value);
      return prev >= 0 && prev !== one ? -2 : one;
    }
  }
  // A list of identical values is accepted (RFC 9110 §8.6).
  let result = -1;
  for (const part of value.split(",")) {
    const v = part.trim();
    if (!/^[0-9]{1,15}$/.test(v)) return -2;
    const n = Number(v);
    if (result !== -1 && n !== result) return -2;
    result = n;
  }
  if (prev >= 0 && prev !== result) return -2;
  return result;
}

/** Options of {@link checkRequest}. */
export interface RequestCheckOptions {
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL was sent (RFC 8441): `:protocol` allowed. */
  extendedConnect?: boolean;
}

/**
 * Checks the regular fields (after the pseudo-headers) shared by every
 * section; returns a reason or "".
 */
function checkRegular(fields: readonly string[], from: number, info: SectionInfo, memo: readonly string[] | undefined, host?: { value: string; present: boolean }): string {
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} after a regular field`;
    // The name and the value alone pass where the last section that passed had them (see SectionMemo).
    if (memo === undefined || name !== memo[i]) {
      const reason = checkFieldName(name);
      if (reason) return reason;
      if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    }
    if (memo === undefined || value !== memo[i + 1]) {
      const reason = checkFieldValue(value);
      if (reason) return `${name}: ${reason}`;
    }
    // By length first: a name HPACK decoded from a literal is a fresh string, not an atom like the
    // static table's; JavaScriptCore compiles `name === "te"` for atoms and exited and recompiled
    // (BadStringType) each time such a name reached it (Bun). Only names of these lengths are compared.
    switch (name.length) {
      case 2:
        // RFC 9113 §8.2.2: te holds "trailers" only; RFC 9110 §10.1.4 makes it a case-insensitive
        // token (as nghttp2 compares it), so "Trailers" is the same value.
        if (name === "te" && value !== "trailers" && value.toLowerCase() !== "trailers") return "te other than trailers";
        break;
      case 4:
        if (name === "host" && host !== undefined) {
          // Present, not non-empty: an empty first host must not let a second through.
          if (host.present) return "duplicate host";
          host.present = true;
          host.value = value;
        }
        break;
      case 14:
        if (name === "content-length") {
          info.contentLength = parseContentLength(value, info.contentLength);
          if (info.contentLength === -2) return "invalid content-length";
        }
        break;
    }
  }
  return "";
}

/**
 * Checks a request header section (RFC 9113 §8.3.1); returns a reason when
 * it is malformed, or "" and fills `info`.
 *
 * `memo` (optional, one per connection, starting empty) holds the fields of
 * the last section that passed with it and is refilled by each that passes:
 * a name or value equal to the one at the same place there is not scanned
 * again for what depends on that string alone (its characters, a
 * connection-specific name, an `:authority` a URL can take); what depends on
 * the section (duplicates, `host` against `:authority`, `:path` against
 * `:method`, content-length) is checked every time. HPACK hands back the
 * same string for a field taken from its tables or its string cache, so a
 * client's repeated fields compare by identity. The result is the same with
 * or without it.
 *
 * @example
 * ```ts
 * import { checkRequest } from "./field_checks.ts";
 * const info = { method: "", status: 0, contentLength: -1 };
 * checkRequest([":method", "GET", ":scheme", "https", ":path", "/"], info); // ""
 * const memo: string[] = [];
 * checkRequest([":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a.test"], info, {}, memo); // "", memo filled
 * ```
 */
export function checkRequest(fields: readonly string[], info: SectionInfo, options: RequestCheckOptions = {}, memo?: string[]): string {
  let method = "", scheme = "", path = "", authority = "", protocol = "";
  // The :authority the memo's section had at the same place: it passed checkAuthority (with or without a port required).
  let authorityKnown = false;
  let seen = 0;
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    const value = fields[i + 1]!;
    let bit: number;
    switch (name) {
      case ":method": bit = 1; method = value; break;
      case ":scheme": bit = 2; scheme = value; break;
      case ":path": bit = 4; path = value; break;
      case ":authority":
        bit = 8;
        authority = value;
        authorityKnown = memo !== undefined && value === memo[i + 1] && memo[i] === ":authority";
        break;
      case ":protocol":
        if (!options.extendedConnect) return "unexpected :protocol";
        bit = 16; protocol = value; break;
      default: return `unknown pseudo-header ${name}`;
    }
    if (seen & bit) return `duplicate ${name}`;
    seen |= bit;
    if (memo === undefined || value !== memo[i + 1]) {
      const reason = checkFieldValue(value);
      if (reason) return `${name}: ${reason}`;
    }
  }
  if (!(seen & 1) || method === "") return "missing :method";
  if (!allOf(TOKEN_CHAR, method)) return ":method is not a token";
  if (method === "CONNECT" && !(seen & 16)) {
    if (seen & (2 | 4)) return "CONNECT with :scheme or :path";
    if (!(seen & 8)) return "CONNECT without :authority";
    const reason = checkAuthority(authority, ":authority", true);
    if (reason) return reason;
  } else {
    if (seen & 16) {
      if (method !== "CONNECT") return ":protocol without CONNECT";
      if (!allOf(TOKEN_CHAR, protocol)) return ":protocol is not a token";
      if (!(seen & 8)) return "extended CONNECT without :authority";
    }
    if (!(seen & 2) || scheme === "") return "missing :scheme";
    if (scheme !== "https" && scheme !== "http" && !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) return "invalid :scheme";
    if (!(seen & 4) || path === "") return "missing :path";
    let reason = checkPath(path, method, scheme);
    if (reason) return reason;
    if (seen & 8 && !authorityKnown) {
      reason = checkAuthority(authority, ":authority", false);
      if (reason) return reason;
    }
  }
  info.method = method;
  const host = { value: "", present: false };
  const reason = checkRegular(fields, i, info, memo, host);
  if (reason) return reason;
  // RFC 9113 §8.3.1: a scheme with a mandatory authority (http, https) needs
  // :authority or host, as HTTP/1.1 needs Host (RFC 9112 §3.2: 400). An
  // empty host is taken as over HTTP/1.1 (no authority: the server's own).
  if (!(seen & 8) && !host.present && method !== "CONNECT") {
    const lower = scheme.toLowerCase();
    if (lower === "http" || lower === "https") return "neither :authority nor host";
  }
  if (host.value !== "") {
    const bad = checkAuthority(host.value, "host", false);
    if (bad) return bad;
    // RFC 9113 §8.3.1: host and :authority must name the same origin.
    if (seen & 8 && host.value.toLowerCase() !== authority.toLowerCase()) return "host differs from :authority";
  }
  if (memo !== undefined) remember(memo, fields);
  return "";
}

/**
 * Checks a response header section (RFC 9113 §8.3.2); returns a reason or "".
 * `memo` as for {@link checkRequest}: the last response section that passed
 * on the connection.
 *
 * @example
 * ```ts
 * import { checkResponse } from "./field_checks.ts";
 * const info = { method: "", status: 0, contentLength: -1 };
 * checkResponse([":status", "200", "content-length", "5"], info); // "", info.contentLength 5
 * ```
 */
export function checkResponse(fields: readonly string[], info: SectionInfo, memo?: string[]): string {
  let i = 0;
  let status = "";
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    if (name !== ":status") return `unknown pseudo-header ${name}`;
    if (status !== "") return "duplicate :status";
    status = fields[i + 1]!;
  }
  // RFC 9110 §15: three digits, 100 to 599 (a 600 reached request() as if it meant something).
  if (!/^[1-5][0-9]{2}$/.test(status)) return "missing or invalid :status";
  info.status = Number(status);
  const reason = checkRegular(fields, i, info, memo);
  if (!reason && memo !== undefined) remember(memo, fields);
  return reason;
}

/**
 * Checks a trailer section: no pseudo-headers (RFC 9113 §8.1), none of the
 * fields RFC 9110 §6.5.1 keeps out of trailers; returns a reason or "".
 *
 * @example
 * ```ts
 * import { checkTrailers } from "./field_checks.ts";
 * checkTrailers([":status", "200"]); // "pseudo-header :status after a regular field"
 * ```
 */
export function checkTrailers(fields: readonly string[]): string {
  const info: SectionInfo = { method: "", status: 0, contentLength: -1 };
  const reason = checkRegular(fields, 0, info, undefined);
  if (reason) return reason;
  // RFC 9110 §6.5.1: framing, routing, authentication and content fields
  // are not taken from trailers (names are lower case by now).
  for (let i = 0; i < fields.length; i += 2) {
    if (PROHIBITED_TRAILER_FIELDS.has(fields[i]!)) return `${fields[i]} is not allowed in trailers`;
  }
  return "";
}
