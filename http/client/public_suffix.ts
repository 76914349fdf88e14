/**
 * Public suffixes ("com", "co.uk": names under which anyone can register)
 * in the rule format of the Public Suffix List (https://publicsuffix.org/list/,
 * Mozilla Public License 2.0): one rule a line, `//` comments, `*.` wildcard
 * and `!` exception rules, and the implicit rule `*` (an unlisted top-level
 * label is a public suffix). The cookie jar refuses `Domain=` attributes that
 * are public suffixes (RFC 6265bis §5.7 step 9) and groups cookies by
 * registrable domain for SameSite.
 *
 * The built-in default (`DEFAULT_PUBLIC_SUFFIXES`) is a tiny hand-picked
 * subset of that list (generic TLDs and a few second-level registries);
 * real use should load the full list: `PublicSuffixList.parse(text)` with
 * the text of public_suffix_list.dat.
 *
 * @example
 * ```ts
 * import { PublicSuffixList } from "./public_suffix.ts";
 * const psl = PublicSuffixList.parse("com\nco.uk\n*.ck\n!www.ck\n");
 * psl.isPublicSuffix("co.uk"); // true
 * psl.registrableDomain("a.b.example.co.uk"); // "example.co.uk"
 * ```
 *
 * @module
 */

/**
 * Provenance: a subset of https://publicsuffix.org/list/public_suffix_list.dat
 * (ICANN section), picked by hand for the common cases; user code that
 * needs correctness everywhere passes the full list.
 *
 * @example
 * ```ts
 * import { DEFAULT_PUBLIC_SUFFIXES } from "./public_suffix.ts";
 * console.log(DEFAULT_PUBLIC_SUFFIXES.includes("co.uk")); // true
 * ```
 */
export const DEFAULT_PUBLIC_SUFFIXES: readonly string[] = Object.freeze([
  "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "dev", "app",
  "uk", "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "net.uk", "ltd.uk", "plc.uk",
  "au", "com.au", "net.au", "org.au", "edu.au", "gov.au",
  "jp", "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp",
  "nz", "co.nz", "org.nz", "net.nz",
  "br", "com.br", "net.br", "org.br",
  "de", "fr", "nl", "eu", "it", "es", "ch", "se", "no", "ca", "us", "ru", "cn", "com.cn", "in", "co.in",
  "github.io", "blogspot.com", "herokuapp.com", "appspot.com",
]);

/**
 * A set of public-suffix rules and the PSL algorithm over them.
 *
 * @example
 * ```ts
 * import { PublicSuffixList } from "./public_suffix.ts";
 * const psl = new PublicSuffixList(["com", "co.uk"]);
 * psl.publicSuffix("www.example.com"); // "com"
 * ```
 */
export class PublicSuffixList {
  #rules = new Set<string>();
  #wildcards = new Set<string>();
  #exceptions = new Set<string>();

  /** Rules as the list writes them (`co.uk`, `*.ck`, `!www.ck`). */
  constructor(rules: Iterable<string>) {
    for (const raw of rules) {
      const rule = raw.trim().toLowerCase();
      if (rule === "" || rule.startsWith("//")) continue;
      if (rule.startsWith("!")) this.#exceptions.add(rule.slice(1));
      else if (rule.startsWith("*.")) this.#wildcards.add(rule.slice(2));
      else this.#rules.add(rule);
    }
  }

  /**
   * Reads public_suffix_list.dat text (first word of each line; comments
   * and blank lines skipped). Rules in Unicode should be given in their
   * punycode (`xn--`) form, as URL host names are.
   *
   * @example
   * ```ts
   * import { PublicSuffixList } from "./public_suffix.ts";
   * PublicSuffixList.parse("// c\ncom\n").isPublicSuffix("com"); // true
   * ```
   */
  static parse(text: string): PublicSuffixList {
    return new PublicSuffixList(text.split(/\r?\n/).map((line) => line.split(/\s/)[0] ?? ""));
  }

  /**
   * The public suffix of `host` (lower-case, no trailing dot) by the
   * prevailing rule; an IP address or empty host gives null.
   *
   * @example
   * ```ts
   * import { PublicSuffixList } from "./public_suffix.ts";
   * new PublicSuffixList(["*.ck", "!www.ck"]).publicSuffix("www.ck"); // "ck"
   * ```
   */
  publicSuffix(host: string): string | null {
    const name = host.toLowerCase().replace(/\.$/, "");
    if (name === "" || isIPAddress(name)) return null;
    const labels = name.split(".");
    // The longest matching rule prevails; an exception beats everything.
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      if (this.#exceptions.has(suffix)) return labels.slice(i + 1).join(".");
      const parent = labels.slice(i + 1).join(".");
      if (i + 1 < labels.length && this.#wildcards.has(parent) && !this.#exceptions.has(suffix)) return suffix;
      if (this.#rules.has(suffix)) return suffix;
    }
    return labels[labels.length - 1]!;
  }

  /**
   * Tells whether `domain` is itself a public suffix.
   *
   * @example
   * ```ts
   * import { PublicSuffixList } from "./public_suffix.ts";
   * new PublicSuffixList(["com"]).isPublicSuffix("example.com"); // false
   * ```
   */
  isPublicSuffix(domain: string): boolean {
    const name = domain.toLowerCase().replace(/\.$/, "");
    return this.publicSuffix(name) === name;
  }

  /**
   * The public suffix plus one label (eTLD+1), or null when `host` is a
   * public suffix or an IP address.
   *
   * @example
   * ```ts
   * import { PublicSuffixList } from "./public_suffix.ts";
   * new PublicSuffixList(["co.uk"]).registrableDomain("www.bbc.co.uk"); // "bbc.co.uk"
   * ```
   */
  registrableDomain(host: string): string | null {
    const name = host.toLowerCase().replace(/\.$/, "");
    const suffix = this.publicSuffix(name);
    if (suffix === null || suffix === name) return null;
    const rest = name.slice(0, name.length - suffix.length - 1);
    return `${rest.slice(rest.lastIndexOf(".") + 1)}.${suffix}`;
  }
}

let defaultList: PublicSuffixList | undefined;
/**
 * The built-in list made from {@link DEFAULT_PUBLIC_SUFFIXES}.
 *
 * @example
 * ```ts
 * import { defaultPublicSuffixList } from "./public_suffix.ts";
 * defaultPublicSuffixList().isPublicSuffix("co.uk"); // true
 * ```
 */
export function defaultPublicSuffixList(): PublicSuffixList {
  return defaultList ??= new PublicSuffixList(DEFAULT_PUBLIC_SUFFIXES);
}

/**
 * Tells whether a host name (as `URL.hostname` gives it, IPv6 in brackets
 * or not) is an IP address literal.
 *
 * @example
 * ```ts
 * import { isIPAddress } from "./public_suffix.ts";
 * isIPAddress("127.0.0.1"); // true
 * isIPAddress("[::1]"); // true
 * isIPAddress("example.com"); // false
 * ```
 */
export function isIPAddress(host: string): boolean {
  if (host.startsWith("[") || host.includes(":")) return true;
  return /^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$/.test(host);
}
