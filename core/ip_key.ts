/**
 * The key a client address is counted under by the per-address limits
 * (`IpConnectionTracker`, `SynGuard`, `ListenProtection`, `serve`'s
 * `rateLimit`): the `key` option of each. One IPv4 address is one
 * client; an IPv6 client gets a whole /64 from its provider (and picks a
 * new address in it at will, RFC 8981), so it is counted by its /64, as
 * one NAT'd IPv4 address is.
 *
 * - {@link ipKey} (the default): IPv4 exact; an IPv4-mapped IPv6 address
 *   (`::ffff:192.0.2.1`, what a dual-stack listener reports for an IPv4
 *   client) as that IPv4 address; IPv6 by its /64 (`2001:db8:1:2::/64`);
 *   loopback `::1`, the unspecified `::` and link-local `fe80::/10` (whose
 *   /64 is the whole link) exact. Text that is no IP literal is its own key.
 * - {@link ipPrefixKey}: the same with other prefix lengths
 *   (`{ ipv6Bits: 56 }`, `{ ipv4Bits: 24 }`; `{ ipv6Bits: 128 }` counts
 *   IPv6 addresses exactly).
 *
 * Keys of prefixes are CIDR text (`198.51.100.0/24`, `2001:db8::/48`), so
 * they can go to an `IpList` as they are. I/O-free.
 *
 * @example
 * ```ts
 * import { ipKey, ipPrefixKey } from "./ip_key.ts";
 * console.log(ipKey("192.0.2.7")); // "192.0.2.7"
 * console.log(ipKey("::ffff:192.0.2.7")); // "192.0.2.7"
 * console.log(ipKey("2001:db8:1:2:aaaa::1")); // "2001:db8:1:2::/64"
 * console.log(ipPrefixKey({ ipv6Bits: 48 })("2001:db8:1:2::1")); // "2001:db8:1::/48"
 * ```
 *
 * @module
 */

/**
 * Prefix lengths of {@link ipPrefixKey}.
 *
 * @example
 * ```ts
 * import { ipPrefixKey, type IpPrefixKeyOptions } from "./ip_key.ts";
 * const options: IpPrefixKeyOptions = { ipv4Bits: 32, ipv6Bits: 56 };
 * const key = ipPrefixKey(options);
 * ```
 */
export interface IpPrefixKeyOptions {
  /** Bits of an IPv4 address that make its key, 0–32 (default 32: exact). */
  ipv4Bits?: number;
  /** Bits of an IPv6 address that make its key, 0–128 (default 64). */
  ipv6Bits?: number;
}

/**
 * A key function counting IPv4 addresses by their first `ipv4Bits` and
 * IPv6 addresses by their first `ipv6Bits` (IPv4-mapped IPv6 addresses as
 * IPv4; loopback, unspecified and link-local IPv6 exact); see the module doc.
 *
 * @throws {RangeError} for a prefix length out of range.
 * @example
 * ```ts
 * import { ipPrefixKey } from "./ip_key.ts";
 * const key = ipPrefixKey({ ipv4Bits: 24, ipv6Bits: 56 });
 * console.log(key("198.51.100.77"), key("2001:db8:0:1f::9")); // "198.51.100.0/24" "2001:db8:0:1f::/56"
 * ```
 */
export function ipPrefixKey(options: IpPrefixKeyOptions = {}): (ip: string) => string {
  const v4 = bits(options.ipv4Bits ?? 32, 32, "ipv4Bits");
  const v6 = bits(options.ipv6Bits ?? 64, 128, "ipv6Bits");
  return (ip) => keyOf(ip, v4, v6);
}

/**
 * The default key: IPv4 exact, IPv4-mapped as IPv4, IPv6 by its /64
 * (`ipPrefixKey()`); see the module doc.
 *
 * @example
 * ```ts
 * import { ipKey } from "./ip_key.ts";
 * console.log(ipKey("2001:db8::1") === ipKey("2001:db8::ffff:2")); // true: one /64
 * console.log(ipKey("::ffff:127.0.0.2") === ipKey("::ffff:127.0.0.3")); // false: two IPv4 clients
 * ```
 */
export function ipKey(ip: string): string {
  return keyOf(ip, 32, 64);
}

function bits(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${String(value)}`);
  return value;
}

const MAPPED = "::ffff:";
const groups = new Uint16Array(8);

function keyOf(ip: string, v4: number, v6: number): string {
  if (typeof ip !== "string") return ip;
  if (ip.indexOf(":") < 0) return v4 === 32 ? ip : ipv4Key(ip, v4);
  // What a dual-stack listener reports for an IPv4 client, in the form our addresses are formatted in.
  if (ip.startsWith(MAPPED) && ip.indexOf(":", MAPPED.length) < 0 && ip.indexOf(".", MAPPED.length) > 0 && ip.indexOf("%") < 0) {
    const tail = ip.slice(MAPPED.length);
    return v4 === 32 ? tail : ipv4Key(tail, v4);
  }
  if (ip.length > 64 || !parseIPv6(ip, groups)) return ip;
  const g = groups;
  const g5 = g[5]!, g6 = g[6]!, g7 = g[7]!;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0) {
    if (g5 === 0xffff) return ipv4Key(`${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`, v4);
    if (g5 === 0 && g6 === 0 && g7 <= 1) return g7 === 0 ? "::" : "::1"; // unspecified, loopback
  }
  if ((g[0]! & 0xffc0) === 0xfe80) return ip; // link-local: its zone says which link
  if (v6 === 128) return formatIPv6(g);
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, v6 - i * 16));
    g[i] = g[i]! & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
  }
  return `${formatIPv6(g)}/${v6}`;
}

/** `ip` (an IPv4 literal, or not) with its first `v4` bits kept, as CIDR text below 32. */
function ipv4Key(ip: string, v4: number): string {
  if (v4 === 32) return ip;
  const parts = ip.split(".");
  if (parts.length !== 4) return ip;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return ip;
    n = n * 256 + Number(part);
  }
  const masked = v4 === 0 ? 0 : Math.floor(n / 2 ** (32 - v4)) * 2 ** (32 - v4);
  return `${Math.floor(masked / 16777216)}.${Math.floor(masked / 65536) % 256}.${Math.floor(masked / 256) % 256}.${masked % 256}/${v4}`;
}

/** Parses an IPv6 literal (an optional IPv4 tail and `%zone` allowed) into `out`; false when it is none. A scan, no regular expressions or arrays: it runs per new client address. */
function parseIPv6(text: string, out: Uint16Array): boolean {
  let end = text.indexOf("%");
  if (end < 0) end = text.length;
  let n = 0; // groups read
  let gap = -1; // where "::" stands, in groups
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let value = 0;
    let digits = 0;
    for (; i < end && digits < 5; i++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      // The IPv4 tail: the last two groups.
      if (n > 6 || !parseIPv4Tail(text, start, end, out, n)) return false;
      n += 2;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    out[n++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === end) return false; // a single trailing colon
  }
  if (gap < 0) return n === 8;
  if (n > 7) return false;
  const tail = n - gap;
  for (let k = 0; k < tail; k++) out[7 - k] = out[n - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

/** Dotted IPv4 `text[from, end)` into `out[at]` and `out[at + 1]`; false when it is none. */
function parseIPv4Tail(text: string, from: number, end: number, out: Uint16Array, at: number): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  let high = 0;
  for (let i = from; i <= end; i++) {
    const c = i === end ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || value > 255 || octets === 4) return false;
      if (octets === 0 || octets === 2) high = value;
      else out[at + (octets >> 1)] = high * 256 + value;
      octets++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else return false;
  }
  return octets === 4;
}

const COLON = 58;
const DOT = 46;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups (the first of equals) as `::`. */
function formatIPv6(g: Uint16Array): string {
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      text += "::";
      i += bestLength - 1;
      continue;
    }
    if (text !== "" && !text.endsWith(":")) text += ":";
    text += g[i]!.toString(16);
  }
  return text;
}
