/**
 * Fuzz target for the address parsers of socket/address.ts (and the
 * sockaddr decoder of socket/sockaddr.ts).
 *
 * The first byte picks how the rest is read: as Latin-1 text, as UTF-8 text
 * (which reaches non-ASCII digits and letters), or as raw sockaddr bytes.
 * Text goes through every parser: `parseIPv4`, `parseIPv6`, `parseIP`, the
 * `isIP*` predicates, `parsePort` and `parseHostPort`. Only `TypeError` and
 * `RangeError` may escape a parser. The checks that make a failure a
 * defect:
 *
 * - each parser agrees with an independent, deliberately naive reference
 *   (regular expressions and string splitting) on accept/reject and bytes;
 * - the predicates agree with the parsers;
 * - whatever parses formats and re-parses to the same bytes and zone, the
 *   formatted text is a fixed point, and a dotted quad formats back to its
 *   exact input;
 * - `host:port` formats and re-splits to the same host and port.
 *
 * @example
 * ```ts
 * import { fuzz } from "./address.ts";
 * fuzz(new TextEncoder().encode("\x00fe80::1%lo"));
 * ```
 *
 * @module
 */
import {
  formatHostPort,
  formatIPv4,
  formatIPv6,
  isIP,
  isIPv4,
  isIPv6,
  parseHostPort,
  parseIP,
  parseIPv4,
  parseIPv6,
  type ParsedIPv6,
  parsePort,
} from "../socket/address.ts";
import { decodeSockaddr } from "../socket/sockaddr.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false });

function expected(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError;
}

function fail(what: string, text: string): never {
  throw new Error(`${what}: ${JSON.stringify(text)}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- the reference: written for obviousness, not speed

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const ZONE = /^[0-9A-Za-z._~-]{1,64}$/;

function referenceIPv4(text: string): number[] | null {
  return DOTTED_QUAD.test(text) ? text.split(".").map(Number) : null;
}

/** Hex groups of one side of "::"; an IPv4 tail counts as two groups. */
function referenceGroups(side: string, mayEndInIPv4: boolean): number[] | null {
  if (side === "") return [];
  const parts = side.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && mayEndInIPv4 && part.includes(".")) {
      const quad = referenceIPv4(part);
      if (quad === null) return null;
      groups.push((quad[0]! << 8) | quad[1]!, (quad[2]! << 8) | quad[3]!);
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function referenceIPv6(text: string): ParsedIPv6 | null {
  const percent = text.indexOf("%");
  const address = percent < 0 ? text : text.slice(0, percent);
  const zone = percent < 0 ? undefined : text.slice(percent + 1);
  if (zone !== undefined && !ZONE.test(zone)) return null;
  const halves = address.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 1) {
    const all = referenceGroups(address, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = referenceGroups(halves[0]!, false);
    const tail = referenceGroups(halves[1]!, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return { bytes, zone };
}

// ---- the checks

function checkIPv4(text: string): void {
  const want = referenceIPv4(text);
  let got: Uint8Array | null = null;
  try {
    got = parseIPv4(text);
  } catch (e) {
    if (!expected(e)) throw e;
  }
  if ((got === null) !== (want === null)) fail(`parseIPv4 ${got === null ? "rejected" : "accepted"}`, text);
  if (isIPv4(text) !== (got !== null)) fail("isIPv4 disagrees with parseIPv4", text);
  if (got === null) return;
  if (!sameBytes(got, Uint8Array.from(want!))) fail("parseIPv4 bytes differ from the reference", text);
  if (formatIPv4(got) !== text) fail("a dotted quad does not format back to itself", text);
}

function checkIPv6(text: string): void {
  const want = referenceIPv6(text);
  let got: ParsedIPv6 | null = null;
  try {
    got = parseIPv6(text);
  } catch (e) {
    if (!expected(e)) throw e;
  }
  if ((got === null) !== (want === null)) fail(`parseIPv6 ${got === null ? "rejected" : "accepted"}`, text);
  if (isIPv6(text) !== (got !== null)) fail("isIPv6 disagrees with parseIPv6", text);
  if (got === null) return;
  if (!sameBytes(got.bytes, want!.bytes) || got.zone !== want!.zone) fail("parseIPv6 differs from the reference", text);
  const formatted = formatIPv6(got.bytes, got.zone);
  const again = parseIPv6(formatted);
  if (!sameBytes(again.bytes, got.bytes) || again.zone !== got.zone) fail("format then parse is not identity", text);
  if (formatIPv6(again.bytes, again.zone) !== formatted) fail("the canonical form is not a fixed point", text);
  // RFC 5952 text is at most 39 characters (22 for the mapped dotted form).
  const zoneLength = got.zone === undefined ? 0 : got.zone.length + 1;
  if (formatted.length - zoneLength > (formatted.startsWith("::ffff:") ? 22 : 39)) fail("the canonical form is too long", text);
  if (formatted !== formatted.toLowerCase() && got.zone === undefined) fail("the canonical form is not lower case", text);
}

function checkIP(text: string): void {
  let family: 0 | 4 | 6 = 0;
  try {
    const parsed = parseIP(text);
    family = parsed.family;
    const formatted = parsed.family === 4 ? formatIPv4(parsed.bytes) : formatIPv6(parsed.bytes, parsed.zone);
    if (!sameBytes(parseIP(formatted).bytes, parsed.bytes)) fail("parseIP round trip", text);
  } catch (e) {
    if (!expected(e)) throw e;
  }
  if (isIP(text) !== family) fail("isIP disagrees with parseIP", text);
}

function checkPorts(text: string): void {
  let port = -1;
  try {
    port = parsePort(text);
  } catch (e) {
    if (!expected(e)) throw e;
  }
  const reference = /^(?:0|[1-9][0-9]*)$/.test(text) && Number(text) <= 65535 ? Number(text) : -1;
  if (port !== reference) fail("parsePort differs from the reference", text);
  try {
    const { host, port } = parseHostPort(text);
    if (host.length === 0 || port < 0 || port > 65535) fail("parseHostPort returned an empty host or a bad port", text);
    const back = parseHostPort(formatHostPort(host, port));
    if (back.host !== host || back.port !== port) fail("host:port round trip", text);
  } catch (e) {
    if (!expected(e)) throw e;
  }
}

function checkSockaddr(bytes: Uint8Array): void {
  if (bytes.length < 2) return;
  const length = bytes[0]!;
  const buffer = new Uint8Array(128);
  buffer.set(bytes.subarray(1, 129));
  try {
    const addr = decodeSockaddr(buffer, length);
    if (addr.family === "ipv4" && formatIPv4(parseIPv4(addr.host)) !== addr.host) fail("decoded IPv4 host", addr.host);
    if (addr.family === "ipv6") {
      const host = addr.host.split("%")[0]!;
      if (formatIPv6(parseIPv6(host).bytes) !== host) fail("decoded IPv6 host", addr.host);
    }
  } catch (e) {
    if (!expected(e)) throw e;
  }
}

/**
 * jazzer.js target: throws only for a defect.
 *
 * @example
 * ```ts
 * import { fuzz } from "./address.ts";
 * fuzz(Uint8Array.from("\x00::ffff:10.0.0.1", (c) => c.charCodeAt(0)));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  const mode = data[0]! % 3;
  const rest = data.subarray(1);
  if (mode === 2) {
    checkSockaddr(rest);
    return;
  }
  let text = "";
  if (mode === 0) for (let i = 0; i < rest.length; i++) text += String.fromCharCode(rest[i]!);
  else text = utf8.decode(rest);
  checkIPv4(text);
  checkIPv6(text);
  checkIP(text);
  checkPorts(text);
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** Valid literals that mutations start from (used by scripts/fuzz.ts). */
export const seeds: Uint8Array[] = [
  "\x00192.0.2.1",
  "\x00255.255.255.255",
  "\x000.0.0.0",
  "\x00::",
  "\x00::1",
  "\x002001:db8::1",
  "\x002001:0DB8:0000:0000:0000:ff00:0042:8329",
  "\x00fe80::1%lo",
  "\x00fe80::a:b%eth0.100",
  "\x00::ffff:192.0.2.128",
  "\x001:2:3:4:5:6:1.2.3.4",
  "\x001::",
  "\x00[::1]:8080",
  "\x00example.com:443",
  "\x0065535",
  "\x01２001:db8::1",
  "\x02\x10\x02\x00\x1f\x90\x7f\x00\x00\x01",
].map(latin1);
