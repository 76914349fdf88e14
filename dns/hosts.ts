/**
 * `/etc/hosts` (hosts(5)): a pure parser of the text and a loader that
 * reads the file (path injectable). Lines are `address name [aliases…]`;
 * `#` starts a comment; names compare case-insensitively; a zone on an
 * IPv6 address is kept. Bounded: at most `maxEntries` names.
 *
 * @example
 * ```ts
 * import { parseHosts } from "./hosts.ts";
 * const hosts = parseHosts("127.0.0.1 localhost me # mine\n::1 localhost\n");
 * console.log(hosts.byName.get("me"), hosts.byName.get("localhost")?.length); // ["127.0.0.1"] 2
 * ```
 *
 * @module
 */
import { canonicalName } from "./name.ts";
import { formatIP, isIP, parseIP } from "../socket/address.ts";
import { readFileBytes } from "../ffi/read_file.ts";

/**
 * Bytes of a hosts file read at most.
 *
 * @example
 * ```ts
 * import { MAX_HOSTS_BYTES } from "./hosts.ts";
 * console.log(MAX_HOSTS_BYTES === 4 * 1024 * 1024); // true
 * ```
 */
export const MAX_HOSTS_BYTES = 4 * 1024 * 1024;
/**
 * Default names kept from one hosts file at most.
 *
 * @example
 * ```ts
 * import { MAX_HOSTS_ENTRIES } from "./hosts.ts";
 * console.log(MAX_HOSTS_ENTRIES); // 100000
 * ```
 */
export const MAX_HOSTS_ENTRIES = 100_000;

/** A parsed hosts file. */
export interface HostsTable {
  /** Canonical name → addresses, in file order. */
  readonly byName: ReadonlyMap<string, readonly string[]>;
  /** Address → names (first is the canonical one), in file order. */
  readonly byAddress: ReadonlyMap<string, readonly string[]>;
}

/**
 * Parses hosts text; malformed lines (a non-IP first field, a bad name)
 * are skipped, as glibc does. IPv6 addresses are kept in their RFC 5952
 * form (`0:0:0:0:0:0:0:1` is `::1`), so a name's addresses and a reverse
 * lookup agree with what the resolver returns for them.
 *
 * @example
 * ```ts
 * import { parseHosts } from "./hosts.ts";
 * console.log(parseHosts("10.0.0.1 Box.LAN box\n").byAddress.get("10.0.0.1")); // ["Box.LAN", "box"]
 * ```
 */
export function parseHosts(text: string, maxEntries = MAX_HOSTS_ENTRIES): HostsTable {
  const byName = new Map<string, string[]>();
  const byAddress = new Map<string, string[]>();
  // Membership sets beside the ordered lists: a file with many addresses
  // for one name (or names for one address) was quadratic through
  // Array.includes (100,000 entries: 27-35 s).
  const seen = new Set<string>();
  let entries = 0;
  for (const raw of text.split("\n")) {
    const hash = raw.indexOf("#");
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/[ \t\r]+/).filter((f) => f !== "");
    if (fields.length < 2) continue;
    const written = fields[0]!;
    if (isIP(written.split("%")[0]!) === 0) continue;
    // IPv6 in one text form (RFC 5952: "0:0::0001" and "::1" are one address, as glibc compares them in binary).
    const address = written.includes(":") ? canonicalIP(written) : written;
    if (address === null) continue;
    for (const name of fields.slice(1)) {
      if (entries >= maxEntries) return { byName, byAddress };
      let key: string;
      try {
        key = canonicalName(name);
      } catch {
        continue;
      }
      entries++;
      // "\n" cannot occur in either part, so it separates them in the keys.
      const pair = `${key}\n${address}`;
      if (!seen.has(pair)) {
        seen.add(pair);
        const list = byName.get(key);
        if (list === undefined) byName.set(key, [address]);
        else list.push(address);
      }
      const named = `${address}\n\n${name}`;
      if (!seen.has(named)) {
        seen.add(named);
        const names = byAddress.get(address);
        if (names === undefined) byAddress.set(address, [name]);
        else names.push(name);
      }
    }
  }
  return { byName, byAddress };
}

/**
 * Reads and parses a hosts file; a missing file is an empty table.
 *
 * @param path default `/etc/hosts`
 *
 * @example
 * ```ts
 * import { loadHosts } from "./hosts.ts";
 * console.log(loadHosts("/nonexistent/hosts").byName.size); // 0
 * ```
 */
export function loadHosts(path = "/etc/hosts"): HostsTable {
  const bytes = readFileBytes(path, MAX_HOSTS_BYTES);
  return parseHosts(bytes === null ? "" : new TextDecoder().decode(bytes));
}

/** An IPv6 literal (with a zone) in its RFC 5952 form; null when it does not parse. */
function canonicalIP(text: string): string | null {
  try {
    const p = parseIP(text);
    return formatIP(p.bytes, p.zone);
  } catch {
    return null;
  }
}
