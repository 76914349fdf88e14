/**
 * `/etc/resolv.conf` (resolv.conf(5)): a pure parser of the text and a
 * loader that reads the file (path injectable). Understood: `nameserver`
 * (IPv4 or IPv6, at most 3 as glibc), `search` and `domain` (the last of
 * them wins), `options ndots:n timeout:n attempts:n rotate edns0`. Other
 * lines are ignored. Values are clamped as glibc does (ndots ≤ 15,
 * timeout ≤ 30 s, attempts ≤ 5); without a nameserver, 127.0.0.1 and ::1.
 *
 * @example
 * ```ts
 * import { parseResolvConf } from "./resolv_conf.ts";
 * const conf = parseResolvConf("nameserver 10.0.0.53\nsearch a.test b.test\noptions ndots:2 rotate\n");
 * console.log(conf.servers, conf.search, conf.ndots, conf.rotate); // ["10.0.0.53"] ["a.test", "b.test"] 2 true
 * ```
 *
 * @module
 */
import { isIP } from "../socket/address.ts";
import { readFileBytes } from "../ffi/read_file.ts";
import { canonicalName } from "./name.ts";

/**
 * Bytes of a resolv.conf read at most.
 *
 * @example
 * ```ts
 * import { MAX_RESOLV_CONF_BYTES } from "./resolv_conf.ts";
 * console.log(MAX_RESOLV_CONF_BYTES); // 65536
 * ```
 */
export const MAX_RESOLV_CONF_BYTES = 64 * 1024;
/**
 * Name servers kept (glibc's MAXNS).
 *
 * @example
 * ```ts
 * import { MAX_NAMESERVERS } from "./resolv_conf.ts";
 * console.log(MAX_NAMESERVERS); // 3
 * ```
 */
export const MAX_NAMESERVERS = 3;
/**
 * Search domains kept (glibc's MAXDNSRCH).
 *
 * @example
 * ```ts
 * import { MAX_SEARCH_DOMAINS } from "./resolv_conf.ts";
 * console.log(MAX_SEARCH_DOMAINS); // 6
 * ```
 */
export const MAX_SEARCH_DOMAINS = 6;

/** The resolver configuration. */
export interface ResolvConf {
  /** Server addresses (IP literals, port 53). */
  readonly servers: readonly string[];
  /** Search domains, canonical. */
  readonly search: readonly string[];
  /** Dots a name needs to be tried as-is first (default 1). */
  readonly ndots: number;
  /** Seconds to wait for one server (default 5). */
  readonly timeout: number;
  /** Rounds over the servers (default 2). */
  readonly attempts: number;
  /** Start each query at the next server. */
  readonly rotate: boolean;
  /** Send EDNS0 (an OPT record). ffinet sends it by default; this records the option. */
  readonly edns0: boolean;
}

/**
 * The defaults of an empty file.
 *
 * @example
 * ```ts
 * import { DEFAULT_RESOLV_CONF } from "./resolv_conf.ts";
 * console.log(DEFAULT_RESOLV_CONF.timeout); // 5
 * ```
 */
export const DEFAULT_RESOLV_CONF: ResolvConf = Object.freeze({
  servers: Object.freeze(["127.0.0.1", "::1"]),
  search: Object.freeze([]),
  ndots: 1,
  timeout: 5,
  attempts: 2,
  rotate: false,
  edns0: false,
});

function clampInt(text: string, max: number): number | null {
  if (!/^[0-9]{1,6}$/.test(text)) return null;
  return Math.min(Number(text), max);
}

/**
 * Parses resolv.conf text.
 *
 * @example
 * ```ts
 * import { parseResolvConf } from "./resolv_conf.ts";
 * console.log(parseResolvConf("domain corp.test\noptions timeout:1 attempts:9\n")); // search ["corp.test"], timeout 1, attempts 5 …
 * ```
 */
export function parseResolvConf(text: string): ResolvConf {
  const servers: string[] = [];
  let search: string[] = [];
  let ndots = DEFAULT_RESOLV_CONF.ndots;
  let timeout = DEFAULT_RESOLV_CONF.timeout;
  let attempts = DEFAULT_RESOLV_CONF.attempts;
  let rotate = false;
  let edns0 = false;
  for (const raw of text.split("\n")) {
    const fields = raw.trim().split(/[ \t\r]+/);
    const keyword = fields[0];
    if (keyword === undefined || keyword === "" || keyword.startsWith("#") || keyword.startsWith(";")) continue;
    const args = fields.slice(1).filter((f) => f !== "");
    const cut = args.findIndex((a) => a.startsWith("#") || a.startsWith(";"));
    if (cut >= 0) args.length = cut;
    switch (keyword) {
      case "nameserver": {
        const address = args[0];
        if (address !== undefined && servers.length < MAX_NAMESERVERS && isIP(address.split("%")[0]!) !== 0) servers.push(address);
        break;
      }
      case "domain":
      case "search": {
        const list: string[] = [];
        for (const d of keyword === "domain" ? args.slice(0, 1) : args) {
          if (list.length >= MAX_SEARCH_DOMAINS) break;
          try {
            const c = canonicalName(d);
            if (c !== ".") list.push(c);
          } catch {
            // an invalid domain is skipped
          }
        }
        search = list;
        break;
      }
      case "options":
        for (const o of args) {
          const [name, value = ""] = o.split(":", 2) as [string, string?];
          if (name === "ndots") ndots = clampInt(value, 15) ?? ndots;
          else if (name === "timeout") timeout = Math.max(1, clampInt(value, 30) ?? timeout);
          else if (name === "attempts") attempts = Math.max(1, clampInt(value, 5) ?? attempts);
          else if (name === "rotate") rotate = true;
          else if (name === "edns0") edns0 = true;
        }
        break;
    }
  }
  return {
    servers: servers.length > 0 ? servers : DEFAULT_RESOLV_CONF.servers,
    search,
    ndots,
    timeout,
    attempts,
    rotate,
    edns0,
  };
}

/**
 * Reads and parses a resolv.conf; a missing file gives the defaults.
 *
 * @param path default `/etc/resolv.conf`
 *
 * @example
 * ```ts
 * import { loadResolvConf } from "./resolv_conf.ts";
 * console.log(loadResolvConf("/nonexistent/resolv.conf").servers); // ["127.0.0.1", "::1"]
 * ```
 */
export function loadResolvConf(path = "/etc/resolv.conf"): ResolvConf {
  const bytes = readFileBytes(path, MAX_RESOLV_CONF_BYTES);
  return parseResolvConf(bytes === null ? "" : new TextDecoder().decode(bytes));
}
