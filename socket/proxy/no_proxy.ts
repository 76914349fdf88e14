/**
 * NO_PROXY matching, as curl and Go's `httpproxy` do it where they agree
 * (and curl's choice where they differ, said below). The list is split on
 * commas and white space; each entry is, ignoring case:
 *
 * - `*`: every target;
 * - a CIDR prefix (`10.0.0.0/8`, `::1/128`, `fe80::/10`): IP-literal
 *   targets inside it (host bits in the entry are ignored; a bad prefix
 *   length makes the entry match nothing; an IPv4-mapped prefix
 *   `::ffff:10.0.0.0/8` is the IPv4 `10.0.0.0/8`, as `/104` is). Names are
 *   never resolved to test them;
 * - an IP literal (`127.0.0.1`, `::1`, `[::1]`): that address, however it
 *   is written (`0:0::1` is `::1`);
 * - a name (`example.com`, `.example.com`, `*.example.com`): that name and
 *   every name below it (the leading-dot forms match the bare name too, as
 *   in curl; Go matches only names below);
 * - any of the last three with `:port` (`[::1]:443`, `example.com:8080`;
 *   Go's form — curl ignores ports): that port only. A CIDR entry takes no
 *   port.
 *
 * An IPv4-mapped IPv6 target (`::ffff:10.1.2.3`) is its IPv4 address, as
 * in Go. An IP-literal target matches IP and CIDR entries only (curl; Go
 * would also test it against name suffixes). A trailing dot and an IPv6
 * zone (`%eth0`) of the target are ignored.
 *
 * @example
 * ```ts
 * import { noProxyMatches } from "./no_proxy.ts";
 * console.log(noProxyMatches("10.0.0.0/8, fe80::/10", "10.20.30.40", 80)); // true
 * console.log(noProxyMatches("10.0.0.0/8", "11.0.0.1", 80)); // false
 * console.log(noProxyMatches(".internal", "db.internal", 5432)); // true
 * ```
 *
 * @module
 */
import { isIPv4, isIPv4MappedBytes as isMapped, isIPv6, parseIP } from "../address.ts";

/** Longest NO_PROXY list looked at (the rest is ignored). */
const MAX_LIST = 64 * 1024;

/** An address for matching: 4 or 16 bytes (a mapped IPv6 address made IPv4). */
type Address = Uint8Array;

/** The address of an IP literal (brackets and zone allowed), or null for a name. */
function addressOf(text: string): Address | null {
  let t = text;
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1);
  const percent = t.indexOf("%");
  if (percent >= 0) t = t.slice(0, percent);
  if (!isIPv4(t) && !isIPv6(t)) return null;
  const bytes = parseIP(t).bytes;
  return bytes.length === 16 && isMapped(bytes) ? bytes.slice(12) : bytes;
}


/** Whether the first `bits` bits of `a` and `b` (same length) are equal. */
function samePrefix(a: Address, b: Address, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

/** A CIDR entry against an address target; false for a malformed entry. */
function cidrMatches(entry: string, target: Address): boolean {
  const slash = entry.indexOf("/");
  const digits = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(digits)) return false;
  const base = entry.slice(0, slash);
  if (!isIPv4(base) && !isIPv6(base)) return false;
  let bytes: Uint8Array = parseIP(base).bytes;
  let bits = Number(digits);
  if (bits > bytes.length * 8) return false;
  if (bytes.length === 16 && isMapped(bytes)) {
    // ::ffff:a.b.c.d/n: n from 96 is an IPv6 length, up to 32 an IPv4 one (pool/ip_list.ts' parseCidr reads it so).
    if (bits >= 96) bits -= 96;
    else if (bits > 32) return false;
    bytes = bytes.slice(12);
  }
  return bytes.length === target.length && samePrefix(bytes, target, bits);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.length === b.length && samePrefix(a, b, a.length * 8);
}

/**
 * Whether the NO_PROXY list `noProxy` sends `host:port` direct (see the
 * module documentation for the rules). Never throws for any string.
 *
 * @example
 * ```ts
 * import { noProxyMatches } from "./no_proxy.ts";
 * console.log(noProxyMatches("example.com:8080, ::1", "api.example.com", 8080)); // true
 * console.log(noProxyMatches("example.com:8080", "api.example.com", 443)); // false
 * console.log(noProxyMatches("::1/128", "0:0::1", 1)); // true
 * console.log(noProxyMatches("*", "anything", 1)); // true
 * ```
 */
export function noProxyMatches(noProxy: string, host: string, port: number): boolean {
  if (typeof noProxy !== "string" || typeof host !== "string") return false;
  let target = host.toLowerCase();
  if (target.startsWith("[") && target.endsWith("]")) target = target.slice(1, -1);
  if (target.endsWith(".")) target = target.slice(0, -1);
  const address = addressOf(target);
  for (const raw of noProxy.slice(0, MAX_LIST).split(/[\s,]+/)) {
    let entry = raw.toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (address !== null && cidrMatches(entry, address)) return true;
      continue;
    }
    let entryPort: number | undefined;
    // "host:port" or "[v6]:port"; a bare IPv6 literal has colons but no port.
    const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
    if (bracket !== null) {
      entry = bracket[1]!;
      if (bracket[2] !== undefined) entryPort = Number(bracket[2]);
    } else if (!isIPv6(entry)) {
      const colon = entry.lastIndexOf(":");
      if (colon >= 0) {
        const p = entry.slice(colon + 1);
        if (!/^\d{1,5}$/.test(p)) continue;
        entryPort = Number(p);
        entry = entry.slice(0, colon);
      }
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    const entryAddress = addressOf(entry);
    if (entryAddress !== null || address !== null) {
      // Addresses match addresses only.
      if (entryAddress !== null && address !== null && sameAddress(entryAddress, address)) return true;
      continue;
    }
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.endsWith(".")) entry = entry.slice(0, -1);
    if (entry.startsWith(".")) {
      const bare = entry.slice(1);
      if (bare !== "" && (target === bare || target.endsWith(entry))) return true;
      continue;
    }
    if (entry === "") continue;
    if (target === entry || target.endsWith("." + entry)) return true;
  }
  return false;
}
