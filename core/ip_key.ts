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

/** Parses an IPv6 literal (an optional IPv4 tail and `%zone` allowed) into `out`; false when it is none. */
function parseIPv6(text: string, out: Uint16Array): boolean {
  const percent = text.indexOf("%");
  const body = percent >= 0 ? text.slice(0, percent) : text;
  const gap = body.indexOf("::");
  if (gap >= 0 && body.indexOf("::", gap + 1) >= 0) return false;
  const head = gap >= 0 ? body.slice(0, gap) : body;
  const tail = gap >= 0 ? body.slice(gap + 2) : "";
  const front: number[] = [];
  const back: number[] = [];
  if (!parseGroups(head, front, gap < 0) || !parseGroups(tail, back, true)) return false;
  const count = front.length + back.length;
  if (gap < 0 ? count !== 8 : count > 7) return false;
  out.fill(0);
  out.set(front, 0);
  out.set(back, 8 - back.length);
  return true;
}

/** Colon-separated hex groups (the last may be dotted IPv4 when `lastMayBeIPv4`) into `into`. */
function parseGroups(text: string, into: number[], lastMayBeIPv4: boolean): boolean {
  if (text === "") return true;
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (lastMayBeIPv4 && i === parts.length - 1 && part.includes(".")) {
      const octets = part.split(".");
      if (octets.length !== 4) return false;
      const [a, b, c, d] = octets.map((o) => (/^\d{1,3}$/.test(o) ? Number(o) : 256)) as [number, number, number, number];
      if (a > 255 || b > 255 || c > 255 || d > 255) return false;
      into.push(a * 256 + b, c * 256 + d);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return false;
      into.push(parseInt(part, 16));
    }
  }
  return true;
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
  const hex = (from: number, to: number): string => Array.from(g.subarray(from, to), (v) => v.toString(16)).join(":");
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLength, 8)}`;
}
