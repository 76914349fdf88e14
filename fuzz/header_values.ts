/**
 * Fuzz target for the small field-value parsers that take a peer's text
 * (the first byte picks one, the rest is the value as Latin-1 text):
 * Range (`parseByteRange`), Content-Encoding (`parseContentEncoding`),
 * cookie and HTTP dates, Sec-WebSocket-Extensions (`parseExtensions`),
 * media types and their parameters, Priority (`parsePriority`), weighted
 * lists such as Accept-Encoding (`parseQList`, `parseQValue`),
 * `traceparent`, CIDR prefixes (`parseCidr`), an ALPN wire list
 * (`decodeALPN`) and authentication challenges (`parseChallengeFields`).
 *
 * Only the documented outcome may come out: a value of the documented
 * shape, null/undefined, or the one documented error (`HTTP1ParseError`
 * ERR_WS_EXTENSION_HEADER for extensions, `TypeError` for a CIDR prefix);
 * anything else thrown is a crash.
 *
 * @module
 */
import { HTTP1ParseError } from "../core/errors.ts";
import { parseTraceparent } from "../core/log.ts";
import { parseChallengeFields } from "../http/client/auth.ts";
import { parseCookieDate } from "../http/client/cookie_parse.ts";
import { parseContentEncoding } from "../http/content_coding.ts";
import { parseHTTPDate } from "../http/core/date.ts";
import { parseMediaType, parseParameters } from "../http/core/media_type.ts";
import { parseQList, parseQValue } from "../http/core/qvalue.ts";
import { parsePriority } from "../http/h2/priority.ts";
import { parseByteRange } from "../http/server/static.ts";
import { parseCidr } from "../pool/ip_list.ts";
import { decodeALPN } from "../tls/alpn.ts";
import { parseExtensions } from "../ws/extensions.ts";

function fail(what: string): never {
  throw new Error(what);
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NOW = Date.UTC(2026, 0, 1);

const PARSERS: ReadonlyArray<(text: string, bytes: Uint8Array, knob: number) => void> = [
  // Range against a file whose size comes from the knob (0 included).
  (text, _b, knob) => {
    const size = [0, 1, 10, 100, 2 ** 31, 2 ** 53 - 1][knob % 6]!;
    const r = parseByteRange(text, size);
    if (r === undefined || r === "unsatisfiable") return;
    const { start, end } = r;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
      fail(`range ${start}-${end} for a size of ${size}`);
    }
  },
  // Content-Encoding with the decoder's cap of 5 codings.
  (text) => {
    const codings = parseContentEncoding(text, 5);
    if (codings.length > 5) fail(`${codings.length} codings past the limit`);
    for (const c of codings) if (c === "" || c !== c.toLowerCase() || c.includes(",")) fail(`coding ${JSON.stringify(c)}`);
  },
  (text) => {
    const t = parseCookieDate(text);
    if (t !== null && !Number.isFinite(t)) fail(`cookie date ${t}`);
  },
  (text) => {
    const t = parseHTTPDate(text, NOW);
    if (t !== null && !Number.isFinite(t)) fail(`HTTP date ${t}`);
  },
  (text) => {
    let items;
    try {
      items = parseExtensions(text);
    } catch (e) {
      if (e instanceof HTTP1ParseError && e.code === "ERR_WS_EXTENSION_HEADER") return;
      throw e;
    }
    for (const item of items) {
      if (!TOKEN.test(item.name)) fail(`extension name ${JSON.stringify(item.name)}`);
      for (const [k, v] of item.params) {
        if (!TOKEN.test(k) || (v !== true && !TOKEN.test(v))) fail(`extension parameter ${k}=${String(v)}`);
      }
    }
  },
  (text) => {
    const m = parseMediaType(text);
    if (m === null) return;
    if (m.type === "" || m.subtype === "" || m.type !== m.type.toLowerCase() || m.subtype !== m.subtype.toLowerCase()) {
      fail(`media type ${m.type}/${m.subtype}`);
    }
    const again = parseMediaType(`${m.type}/${m.subtype}`);
    if (again === null || again.type !== m.type || again.subtype !== m.subtype) fail("a media type does not parse back");
  },
  (text) => {
    const p = parseParameters(text);
    if (p !== null && !(p instanceof Map)) fail("parameters are not a Map");
  },
  (text) => {
    const p = parsePriority(text);
    if (!Number.isInteger(p.urgency) || p.urgency < 0 || p.urgency > 7 || typeof p.incremental !== "boolean") {
      fail(`priority ${JSON.stringify(p)}`);
    }
  },
  (text) => {
    const list = parseQList(text);
    for (let i = 0; i < list.length; i++) {
      const q = list[i]!.q;
      if (!(q >= 0 && q <= 1)) fail(`q ${q}`);
      if (i > 0 && q > list[i - 1]!.q) fail("weighted list not sorted by q");
    }
    const q = parseQValue(text);
    if (q !== null && !(q >= 0 && q <= 1)) fail(`q-value ${q}`);
  },
  (text) => {
    const t = parseTraceparent(text);
    if (t === null) return;
    if (!/^[0-9a-f]{32}$/.test(t.traceId) || !/^[0-9a-f]{16}$/.test(t.parentId) || !(t.flags >= 0 && t.flags <= 255)) {
      fail(`traceparent ${JSON.stringify(t)}`);
    }
  },
  (text) => {
    let p;
    try {
      p = parseCidr(text);
    } catch (e) {
      if (e instanceof TypeError) return;
      throw e;
    }
    if (p.bytes.length !== 16 || !Number.isInteger(p.bits) || p.bits < 0 || p.bits > 128) fail(`prefix ${p.bits} bits`);
  },
  (_t, bytes) => {
    // Each name takes its length byte and at least one byte more.
    const names = decodeALPN(bytes);
    if (names.length * 2 > bytes.length || names.some((n) => n === "")) fail("ALPN list longer than its wire form");
  },
  (text) => {
    const challenges = parseChallengeFields(text.split("\n"));
    if (!Array.isArray(challenges)) fail("challenges are not an array");
  },
];

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./header_values.ts";
 * fuzz(new TextEncoder().encode("\x00bytes=0-9"));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  const selector = data[0]!;
  const bytes = data.subarray(1);
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  PARSERS[selector % PARSERS.length]!(text, bytes, selector >> 4);
}

/** How many parsers the first byte chooses from. */
export const PARSER_COUNT: number = PARSERS.length;

const enc = (selector: number, s: string): Uint8Array => Uint8Array.from([selector, ...Array.from(s, (c) => c.charCodeAt(0) & 0xff)]);

/**
 * Inputs to start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./header_values.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc(0x20, "bytes=0-9"),
  enc(0x30, "bytes=-10"),
  enc(0x40, "bytes=5-, 0-1"),
  enc(1, "gzip, br, identity"),
  enc(2, "Wed, 21 Oct 2015 07:28:00 GMT"),
  enc(3, "Sunday, 06-Nov-94 08:49:37 GMT"),
  enc(3, "Sun Nov  6 08:49:37 1994"),
  enc(4, 'permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo'),
  enc(5, 'text/html; charset="utf-8"; q=0.5'),
  enc(6, '; a=b; c="d \\" e"'),
  enc(7, "u=1, i"),
  enc(8, "gzip;q=0.8, br;q=1.0, *;q=0"),
  enc(9, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
  enc(10, "10.1.2.3/8"),
  enc(10, "2001:db8::/32"),
  Uint8Array.from([11, 2, 104, 50, 8, 104, 116, 116, 112, 47, 49, 46, 49]),
  enc(12, 'Digest realm="a", nonce="b", qop="auth", algorithm=SHA-256\nBasic realm="x"'),
];
