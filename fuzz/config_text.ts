/**
 * Fuzz target for the two system files the resolver reads: `/etc/hosts`
 * (`parseHosts`) and `/etc/resolv.conf` (`parseResolvConf`); the first byte
 * picks one, the rest is the file as Latin-1 text. Neither may throw (a
 * malformed line is skipped, as glibc does); the result stays inside the
 * documented limits (entries, 3 name servers that are IP literals, 6 search
 * domains, options clamped).
 *
 * @module
 */
import { isIP } from "../socket/address.ts";
import { parseHosts } from "../dns/hosts.ts";
import { MAX_NAMESERVERS, MAX_SEARCH_DOMAINS, parseResolvConf } from "../dns/resolv_conf.ts";

function fail(what: string): never {
  throw new Error(what);
}

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./config_text.ts";
 * fuzz(new TextEncoder().encode("\x00127.0.0.1 localhost\n"));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  if (data.length === 0) return;
  let text = "";
  for (let i = 1; i < data.length; i++) text += String.fromCharCode(data[i]!);
  if (data[0]! % 2 === 0) {
    const maxEntries = 1 + (data[0]! >> 4);
    const table = parseHosts(text, maxEntries);
    let entries = 0;
    for (const [address, names] of table.byAddress) {
      if (isIP(address.split("%")[0]!) === 0) fail(`hosts address ${JSON.stringify(address)}`);
      if (names.length === 0) fail("an address without names");
      entries += names.length;
    }
    if (table.byAddress.size > maxEntries && entries > maxEntries) fail(`${entries} hosts entries past ${maxEntries}`);
    for (const [name, addresses] of table.byName) {
      if (name === "" || /\s/.test(name) || addresses.length === 0) fail(`hosts name ${JSON.stringify(name)}`);
    }
    return;
  }
  const conf = parseResolvConf(text);
  if (conf.servers.length > MAX_NAMESERVERS || conf.search.length > MAX_SEARCH_DOMAINS) fail("resolv.conf lists past their limits");
  for (const s of conf.servers) if (isIP(s.split("%")[0]!) === 0) fail(`name server ${JSON.stringify(s)}`);
  for (const n of [conf.ndots, conf.timeout, conf.attempts]) if (!Number.isInteger(n) || n < 0) fail(`option ${n}`);
}

const enc = (selector: number, s: string): Uint8Array => Uint8Array.from([selector, ...Array.from(s, (c) => c.charCodeAt(0) & 0xff)]);

/**
 * Inputs to start from (used by scripts/fuzz.ts).
 *
 * @example
 * ```ts
 * import { fuzz, seeds } from "./config_text.ts";
 * for (const s of seeds) fuzz(s);
 * ```
 */
export const seeds: readonly Uint8Array[] = [
  enc(0xf0, "127.0.0.1 localhost\n::1 localhost ip6-localhost # comment\nfe80::1%eth0 link\n10.0.0.1\tBox.LAN box\n"),
  enc(1, "nameserver 127.0.0.53\nnameserver ::1\nsearch a.test b.test\ndomain corp.test\noptions ndots:2 timeout:1 attempts:9 rotate edns0\n"),
  enc(1, "nameserver fe80::1%eth0\noptions ndots:99999999999999999999 timeout:-1\n; comment\n"),
];
