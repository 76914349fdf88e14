/**
 * A cookie jar per RFC 6265bis (draft-ietf-httpbis-rfc6265bis) §5.7–§5.8:
 * storage (host-only and domain cookies, default-path, public-suffix
 * domains refused, no domain cookies for IP addresses, Secure only from
 * secure contexts, `__Secure-`/`__Host-` prefixes, "leave Secure cookies
 * alone", SameSite against a site-for-cookies, limits per domain and in
 * total) and retrieval (domain and path match, Secure, HttpOnly, SameSite,
 * longer paths first then earlier creation). It implements `CookieStore`
 * (hooks.ts), so `fetch(url, { cookieJar: jar })` sends and keeps cookies
 * across redirects. Time comes from an injectable clock (`now`, epoch ms);
 * `toJSON()`/`CookieJar.fromJSON()` persist the jar.
 *
 * Secure contexts: `https:` and, as browsers treat them as potentially
 * trustworthy, `http://localhost`, `127.0.0.0/8` and `[::1]` (as
 * tough-cookie's `allowSecureOnLocal`).
 *
 * @example
 * ```ts
 * import { CookieJar } from "./cookie_jar.ts";
 * const jar = new CookieJar();
 * jar.setCookie("sid=1; Path=/; HttpOnly", "https://example.com/login");
 * jar.getCookieHeader("https://example.com/account"); // "sid=1"
 * ```
 *
 * @module
 */
import { HTTPError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import { parseSetCookie, type SameSite } from "./cookie_parse.ts";
import type { CookieStore } from "./hooks.ts";
import { defaultPublicSuffixList, isIPAddress, type PublicSuffixList } from "./public_suffix.ts";

/**
 * A stored cookie (§5.7): times are epoch ms; `expires` null for a session
 * cookie.
 *
 * @example
 * ```ts
 * import { CookieJar, type Cookie } from "./cookie_jar.ts";
 * const c: Cookie | null = new CookieJar().setCookie("a=1", "http://a.test/x/y");
 * console.log(c?.path, c?.hostOnly); // "/x" true
 * ```
 */
export interface Cookie {
  /** The cookie name (may be empty, §5.6). */
  name: string;
  /** The cookie value, as received. */
  value: string;
  /** The host (host-only) or the Domain attribute, lower-case. */
  domain: string;
  /** Sent only to exactly `domain`, not its subdomains. */
  hostOnly: boolean;
  /** The Path attribute or the default-path. */
  path: string;
  /** Sent only to secure contexts. */
  secure: boolean;
  /** Hidden from non-HTTP APIs. */
  httpOnly: boolean;
  /** The SameSite enforcement. */
  sameSite: SameSite;
  /** Expiry in epoch ms; null for a session cookie. */
  expires: number | null;
  /** When first stored (kept across replacements). */
  creationTime: number;
  /** When last sent. */
  lastAccessTime: number;
}

/**
 * How a request relates to the page that caused it (§5.2, §5.8.3).
 * Everything is optional: without `siteForCookies` the request counts as
 * same-site, which is right for a program that is its own top level.
 *
 * @example
 * ```ts
 * import type { CookieContext } from "./cookie_jar.ts";
 * const ctx: CookieContext = { siteForCookies: "https://other.example/", topLevelNavigation: true, method: "GET" };
 * ```
 */
export interface CookieContext {
  /** The top-level site; null means an opaque (cross-site) one. */
  siteForCookies?: URL | string | null;
  /** The request navigates a top-level browsing context (Lax cookies go along on safe methods). */
  topLevelNavigation?: boolean;
  /** The request method (Lax allows only GET, HEAD, OPTIONS, TRACE cross-site). */
  method?: string;
  /** False for a non-HTTP API (as `document.cookie`): HttpOnly cookies are neither read nor written. */
  http?: boolean;
}

/**
 * Options of {@link CookieJar}.
 *
 * @example
 * ```ts
 * import { CookieJar, type CookieJarOptions } from "./cookie_jar.ts";
 * const options: CookieJarOptions = { now: () => 0, maxCookiesPerDomain: 10 };
 * new CookieJar(options);
 * ```
 */
export interface CookieJarOptions {
  /** Wall-clock time in epoch ms (default `Date.now`). */
  now?: () => number;
  /** Public suffixes refused as Domain (default the small built-in list); null refuses none. */
  publicSuffixes?: PublicSuffixList | null;
  /** Cookies kept per domain (default 50, RFC 6265bis §6.1's minimum). */
  maxCookiesPerDomain?: number;
  /** Cookies kept in total (default 3000). */
  maxCookies?: number;
  /** Whether a URL is a secure context (default: https:, or a loopback host). */
  isSecure?: (url: URL) => boolean;
}

const JAR_OPTION_KEYS: ReadonlySet<string> = new Set(["now", "publicSuffixes", "maxCookiesPerDomain", "maxCookies", "isSecure"]);
/** Cookies dropped at once up to which the least recently used are found by a scan, not a sort. */
const DROP_BY_SCAN = 8;
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * Tells whether `url` is a secure context for cookies: `https:`/`wss:`, or
 * a loopback host (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`).
 *
 * @example
 * ```ts
 * import { isSecureContextURL } from "./cookie_jar.ts";
 * isSecureContextURL(new URL("http://localhost:8080/")); // true
 * isSecureContextURL(new URL("http://example.com/")); // false
 * ```
 */
export function isSecureContextURL(url: URL): boolean {
  if (url.protocol === "https:" || url.protocol === "wss:") return true;
  const host = url.hostname.toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Domain-match of §5.1.3: identical, or `host` ends with `.domain` and is
 * a host name, not an IP address.
 *
 * @example
 * ```ts
 * import { domainMatch } from "./cookie_jar.ts";
 * domainMatch("www.example.com", "example.com"); // true
 * domainMatch("1.2.3.4", "2.3.4"); // false
 * ```
 */
export function domainMatch(host: string, domain: string): boolean {
  if (host === domain) return true;
  return host.endsWith("." + domain) && !isIPAddress(host);
}

/**
 * Path-match of §5.1.4.
 *
 * @example
 * ```ts
 * import { pathMatch } from "./cookie_jar.ts";
 * pathMatch("/docs/a", "/docs"); // true
 * pathMatch("/docsx", "/docs"); // false
 * ```
 */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/**
 * The default-path of §5.1.4: the URL path up to, not including, its last
 * `/` (or `/`).
 *
 * @example
 * ```ts
 * import { defaultPath } from "./cookie_jar.ts";
 * defaultPath("/a/b/c"); // "/a/b"
 * defaultPath("/a"); // "/"
 * ```
 */
export function defaultPath(path: string): string {
  if (!path.startsWith("/")) return "/";
  const last = path.lastIndexOf("/");
  return last === 0 ? "/" : path.slice(0, last);
}

const toURL = (url: URL | string): URL => (typeof url === "string" ? new URL(url) : url);
const canonicalHost = (url: URL): string => url.hostname.toLowerCase();

/**
 * The jar. Implements `CookieStore` for `fetch`.
 *
 * @example
 * ```ts
 * import { CookieJar } from "./cookie_jar.ts";
 * let t = 0;
 * const jar = new CookieJar({ now: () => t });
 * jar.setCookie("a=1; Max-Age=10", "http://a.test/");
 * t = 11_000;
 * jar.getCookieHeader("http://a.test/"); // ""
 * ```
 */
export class CookieJar implements CookieStore {
  // Cookies by their domain: retrieval looks only at the host and its parent domains.
  #byDomain = new Map<string, Cookie[]>();
  #count = 0;
  // The earliest expiry stored: nothing to sweep before it.
  #nextExpiry = Infinity;
  #now: () => number;
  #psl: PublicSuffixList | null;
  #perDomain: number;
  #total: number;
  #isSecure: (url: URL) => boolean;
  // Creation times can tie under a coarse clock; insertion order breaks ties.
  #seq = new WeakMap<Cookie, number>();
  #nextSeq = 0;

  /** A jar with the given clock, public-suffix list and limits; unknown keys are a TypeError. */
  constructor(options: CookieJarOptions = {}) {
    checkOptions(options, JAR_OPTION_KEYS, "CookieJar");
    this.#now = options.now ?? Date.now;
    this.#psl = options.publicSuffixes === undefined ? defaultPublicSuffixList() : options.publicSuffixes;
    this.#perDomain = positiveInt(options.maxCookiesPerDomain ?? 50, "maxCookiesPerDomain");
    this.#total = positiveInt(options.maxCookies ?? 3000, "maxCookies");
    this.#isSecure = options.isSecure ?? isSecureContextURL;
  }

  /**
   * Stores one `Set-Cookie` value received from `url`; returns the stored
   * cookie, or null when the rules of §5.7 ignore it.
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * const jar = new CookieJar();
   * jar.setCookie("a=1; Domain=com", "http://example.com/"); // null (a public suffix)
   * ```
   */
  setCookie(setCookie: string, url: URL | string, context: CookieContext = {}): Cookie | null {
    const requestURL = toURL(url);
    const now = this.#now();
    const parsed = parseSetCookie(setCookie, now);
    if (parsed === null) return null;
    const host = canonicalHost(requestURL);
    const http = context.http ?? true;
    const secureRequest = this.#isSecure(requestURL);
    let domain = parsed.domain ?? "";
    // §5.7 step 8: a Domain attribute outside ASCII is refused.
    if (/[^\x00-\x7f]/.test(domain)) return null;
    if (domain !== "" && this.#psl !== null && this.#psl.isPublicSuffix(domain)) {
      if (domain === host) domain = "";
      else return null;
    }
    let hostOnly = true;
    if (domain !== "") {
      if (!domainMatch(host, domain)) return null;
      hostOnly = false;
    } else domain = host;
    const path = parsed.path ?? defaultPath(requestURL.pathname);
    if (parsed.secure && !secureRequest) return null;
    if (parsed.httpOnly && !http) return null;
    // §5.7 step 16: an insecure cookie cannot shadow a Secure one.
    if (!parsed.secure && !secureRequest) {
      for (const [oldDomain, list] of this.#byDomain) {
        if (!domainMatch(domain, oldDomain) && !domainMatch(oldDomain, domain)) continue;
        for (const old of list) {
          if (old.secure && old.name === parsed.name && pathMatch(path, old.path)) return null;
        }
      }
    }
    if (parsed.sameSite !== "none" && !this.#sameSite(requestURL, context) && context.topLevelNavigation !== true) return null;
    if (parsed.sameSite === "none" && !parsed.secure) return null;
    const lowerName = parsed.name.toLowerCase();
    if (lowerName.startsWith("__secure-") && !parsed.secure) return null;
    if (lowerName.startsWith("__host-") && !(parsed.secure && hostOnly && parsed.pathAttribute && path === "/")) return null;
    if (parsed.name === "" && /^__(secure|host)-/i.test(parsed.value)) return null;
    const cookie: Cookie = {
      name: parsed.name,
      value: parsed.value,
      domain,
      hostOnly,
      path,
      secure: parsed.secure,
      httpOnly: parsed.httpOnly,
      sameSite: parsed.sameSite,
      expires: parsed.expires,
      creationTime: now,
      lastAccessTime: now,
    };
    const list = this.#byDomain.get(domain) ?? [];
    const oldIndex = list.findIndex((c) => c.name === cookie.name && c.hostOnly === hostOnly && c.path === path);
    let seq = this.#nextSeq++;
    if (oldIndex >= 0) {
      const old = list[oldIndex]!;
      if (old.httpOnly && !http) return null;
      cookie.creationTime = old.creationTime;
      seq = this.#seq.get(old) ?? seq;
      list.splice(oldIndex, 1);
      this.#count--;
      if (list.length === 0) this.#byDomain.delete(domain);
    }
    this.#seq.set(cookie, seq);
    if (cookie.expires !== null && cookie.expires <= now) return null;
    this.#insert(cookie);
    this.#evict(now, cookie);
    return this.#byDomain.get(domain)?.includes(cookie) ? { ...cookie } : null;
  }

  /**
   * The cookies to send to `url`, in Cookie-header order (§5.8.3); their
   * last-access time is updated.
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * const jar = new CookieJar();
   * jar.setCookie("a=1; Path=/", "http://a.test/");
   * jar.getCookies("http://a.test/x").map((c) => c.name); // ["a"]
   * ```
   */
  getCookies(url: URL | string, context: CookieContext = {}): Cookie[] {
    const requestURL = toURL(url);
    const now = this.#now();
    this.#removeExpired(now);
    const host = canonicalHost(requestURL);
    const secure = this.#isSecure(requestURL);
    const http = context.http ?? true;
    const sameSite = this.#sameSite(requestURL, context);
    const laxAllowed = context.topLevelNavigation === true && SAFE_METHODS.has((context.method ?? "GET").toUpperCase());
    // The host and, for a host name, each parent domain (§5.1.3 domain-match).
    const candidates: Cookie[] = [];
    const labels = isIPAddress(host) ? [host] : host.split(".");
    for (let i = 0; i < labels.length; i++) {
      const list = this.#byDomain.get(isIPAddress(host) ? host : labels.slice(i).join("."));
      if (list !== undefined) candidates.push(...list);
    }
    const out = candidates.filter((c) => {
      if (c.hostOnly ? host !== c.domain : !domainMatch(host, c.domain)) return false;
      if (!pathMatch(requestURL.pathname || "/", c.path)) return false;
      if (c.secure && !secure) return false;
      if (c.httpOnly && !http) return false;
      if (c.sameSite !== "none" && !sameSite) {
        if (c.sameSite === "strict" || !laxAllowed) return false;
      }
      return true;
    });
    out.sort((a, b) => b.path.length - a.path.length || a.creationTime - b.creationTime || this.#seq.get(a)! - this.#seq.get(b)!);
    for (const c of out) c.lastAccessTime = now;
    return out.map((c) => ({ ...c }));
  }

  /**
   * The Cookie field value for `url` ("" when none).
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * const jar = new CookieJar();
   * jar.setCookie("a=1", "http://a.test/");
   * jar.setCookie("b=2", "http://a.test/");
   * jar.getCookieHeader("http://a.test/"); // "a=1; b=2"
   * ```
   */
  getCookieHeader(url: URL | string, context: CookieContext = {}): string {
    return this.getCookies(url, context).map((c) => (c.name === "" ? c.value : `${c.name}=${c.value}`)).join("; ");
  }

  /** `CookieStore` hook: the Cookie value for a `fetch` request, null when none. */
  cookieHeader(url: URL): string | null {
    const header = this.getCookieHeader(url);
    return header === "" ? null : header;
  }

  /** `CookieStore` hook: keeps a response's `Set-Cookie` values. */
  storeSetCookie(url: URL, setCookie: readonly string[]): void {
    for (const value of setCookie) this.setCookie(value, url);
  }

  /**
   * Every unexpired cookie, in storage order.
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * new CookieJar().cookies().length; // 0
   * ```
   */
  cookies(): Cookie[] {
    this.#removeExpired(this.#now());
    return this.#all().map((c) => ({ ...c }));
  }

  /**
   * Removes every cookie (or those of one domain).
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * const jar = new CookieJar();
   * jar.setCookie("a=1", "http://a.test/");
   * jar.clear("a.test");
   * jar.cookies().length; // 0
   * ```
   */
  clear(domain?: string): void {
    if (domain === undefined) this.#byDomain.clear();
    else this.#byDomain.delete(domain.toLowerCase());
    this.#count = this.#all().length;
  }

  /**
   * The jar as plain JSON data (`{ version: 1, cookies }`), session cookies
   * included.
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * const jar = new CookieJar();
   * jar.setCookie("a=1", "http://a.test/");
   * const copy = CookieJar.fromJSON(JSON.stringify(jar));
   * copy.getCookieHeader("http://a.test/"); // "a=1"
   * ```
   */
  toJSON(): CookieJarJSON {
    const order = this.#all().sort((a, b) => this.#seq.get(a)! - this.#seq.get(b)!);
    return { version: 1, cookies: order.map((c) => ({ ...c, expires: c.expires === null ? null : Number.isFinite(c.expires) ? c.expires : 0 })) };
  }

  /**
   * A jar from `toJSON()` output (an object or its JSON text); bad data is
   * an `HTTPError` with code `ERR_COOKIE_JSON`.
   *
   * @example
   * ```ts
   * import { CookieJar } from "./cookie_jar.ts";
   * CookieJar.fromJSON({ version: 1, cookies: [] }).cookies().length; // 0
   * ```
   */
  static fromJSON(json: CookieJarJSON | string, options: CookieJarOptions = {}): CookieJar {
    let data: unknown;
    if (typeof json === "string") {
      try {
        data = JSON.parse(json);
      } catch (err) {
        throw new HTTPError("ERR_COOKIE_JSON", "cookie jar JSON does not parse", { cause: err });
      }
    } else data = json;
    const bad = (what: string) => new HTTPError("ERR_COOKIE_JSON", `cookie jar JSON: ${what}`);
    if (typeof data !== "object" || data === null) throw bad("not an object");
    const { version, cookies } = data as { version?: unknown; cookies?: unknown };
    if (version !== 1) throw bad(`unknown version ${String(version)}`);
    if (!Array.isArray(cookies)) throw bad("cookies is not an array");
    const jar = new CookieJar(options);
    for (const raw of cookies) jar.#adopt(validCookie(raw, bad));
    jar.#evict(jar.#now(), null);
    return jar;
  }

  #adopt(cookie: Cookie): void {
    this.#seq.set(cookie, this.#nextSeq++);
    this.#insert(cookie);
  }

  #insert(cookie: Cookie): void {
    const list = this.#byDomain.get(cookie.domain);
    if (list === undefined) this.#byDomain.set(cookie.domain, [cookie]);
    else list.push(cookie);
    this.#count++;
    if (cookie.expires !== null && cookie.expires < this.#nextExpiry) this.#nextExpiry = cookie.expires;
  }

  // Every cookie, in storage order.
  #all(): Cookie[] {
    const all: Cookie[] = [];
    for (const list of this.#byDomain.values()) all.push(...list);
    return all.sort((a, b) => this.#seq.get(a)! - this.#seq.get(b)!);
  }

  #remove(victims: ReadonlySet<Cookie>): void {
    // Only the victims' domains are looked at (a cookie's list is keyed by its domain).
    const domains = new Set<string>();
    for (const c of victims) domains.add(c.domain);
    for (const domain of domains) {
      const list = this.#byDomain.get(domain);
      if (list === undefined) continue;
      const kept = list.filter((c) => !victims.has(c));
      if (kept.length === list.length) continue;
      this.#count -= list.length - kept.length;
      if (kept.length === 0) this.#byDomain.delete(domain);
      else this.#byDomain.set(domain, kept);
    }
  }

  #sameSite(url: URL, context: CookieContext): boolean {
    if (context.siteForCookies === undefined) return true;
    if (context.siteForCookies === null) return false;
    const site = toURL(context.siteForCookies);
    // Schemeful same-site (§5.2): same scheme, same registrable domain (or host).
    const scheme = (u: URL) => (u.protocol === "https:" || u.protocol === "wss:" ? "https" : "http");
    if (scheme(site) !== scheme(url)) return false;
    const reg = (u: URL) => {
      const h = canonicalHost(u);
      return this.#psl?.registrableDomain(h) ?? h;
    };
    return reg(site) === reg(url);
  }

  #removeExpired(now: number): void {
    if (now < this.#nextExpiry) return;
    const expired = new Set<Cookie>();
    let next = Infinity;
    for (const list of this.#byDomain.values()) {
      for (const c of list) {
        if (c.expires === null) continue;
        if (c.expires <= now) expired.add(c);
        else if (c.expires < next) next = c.expires;
      }
    }
    this.#nextExpiry = next;
    if (expired.size > 0) this.#remove(expired);
  }

  // §5.7 last step: expired first, then the domain's excess, then the
  // least recently used overall.
  #evict(now: number, added: Cookie | null): void {
    this.#removeExpired(now);
    const lists = added !== null ? [this.#byDomain.get(added.domain) ?? []] : [...this.#byDomain.values()];
    for (const list of lists) if (list.length > this.#perDomain) this.#dropOldest([list], list.length - this.#perDomain);
    if (this.#count > this.#total) this.#dropOldest([...this.#byDomain.values()], this.#count - this.#total);
  }

  // The `count` least recently used of `lists` (ties: the first stored). One
  // or a few, the usual case once the jar is full, are found by a scan: a
  // sort of every cookie per stored cookie cost a full jar ~2 ms each.
  #dropOldest(lists: readonly Cookie[][], count: number): void {
    const victims = new Set<Cookie>();
    if (count <= DROP_BY_SCAN) {
      for (let k = 0; k < count; k++) {
        let oldest: Cookie | undefined;
        let oldestSeq = 0;
        for (const list of lists) {
          for (const c of list) {
            if (k > 0 && victims.has(c)) continue;
            if (oldest === undefined || c.lastAccessTime < oldest.lastAccessTime) {
              oldest = c;
              oldestSeq = -1;
            } else if (c.lastAccessTime === oldest.lastAccessTime) {
              if (oldestSeq < 0) oldestSeq = this.#seq.get(oldest)!;
              const seq = this.#seq.get(c)!;
              if (seq < oldestSeq) {
                oldest = c;
                oldestSeq = seq;
              }
            }
          }
        }
        if (oldest === undefined) break;
        victims.add(oldest);
      }
    } else {
      const all = lists.flat().sort((a, b) => a.lastAccessTime - b.lastAccessTime || this.#seq.get(a)! - this.#seq.get(b)!);
      for (let i = 0; i < count && i < all.length; i++) victims.add(all[i]!);
    }
    this.#remove(victims);
  }
}

/**
 * The JSON form of a {@link CookieJar}.
 *
 * @example
 * ```ts
 * import type { CookieJarJSON } from "./cookie_jar.ts";
 * const empty: CookieJarJSON = { version: 1, cookies: [] };
 * ```
 */
export interface CookieJarJSON {
  /** The format version. */
  version: 1;
  /** The cookies, oldest first. */
  cookies: Cookie[];
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`CookieJar: ${name} must be a positive integer, got ${n}`);
  return n;
}

const SAME_SITE_VALUES: ReadonlySet<string> = new Set(["strict", "lax", "none", "default"]);

function validCookie(raw: unknown, bad: (what: string) => Error): Cookie {
  if (typeof raw !== "object" || raw === null) throw bad("a cookie is not an object");
  const r = raw as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof r[k] !== "string") throw bad(`cookie ${k} is not a string`);
    return r[k] as string;
  };
  const bool = (k: string): boolean => {
    if (typeof r[k] !== "boolean") throw bad(`cookie ${k} is not a boolean`);
    return r[k] as boolean;
  };
  const time = (k: string): number => {
    if (typeof r[k] !== "number" || !Number.isFinite(r[k])) throw bad(`cookie ${k} is not a time`);
    return r[k] as number;
  };
  const sameSite = str("sameSite");
  if (!SAME_SITE_VALUES.has(sameSite)) throw bad(`cookie sameSite ${sameSite}`);
  const expires = r.expires === null ? null : time("expires");
  const cookie: Cookie = {
    name: str("name"),
    value: str("value"),
    domain: str("domain"),
    hostOnly: bool("hostOnly"),
    path: str("path"),
    secure: bool("secure"),
    httpOnly: bool("httpOnly"),
    sameSite: sameSite as SameSite,
    expires,
    creationTime: time("creationTime"),
    lastAccessTime: time("lastAccessTime"),
  };
  if (/[\x00-\x08\x0a-\x1f\x7f;]/.test(cookie.name + cookie.value) || !cookie.path.startsWith("/") || cookie.domain === "") {
    throw bad(`cookie ${JSON.stringify(cookie.name)} is not valid`);
  }
  return cookie;
}
