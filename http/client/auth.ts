/**
 * Credentials for `fetch`: `HttpAuth` implements `AuthProvider` (hooks.ts)
 * with Bearer (sent up front), Basic (RFC 7617; up front when asked, else
 * answering a `Basic` challenge) and Digest (RFC 7616; auth_digest.ts),
 * for servers (401, `WWW-Authenticate`) and proxies (407,
 * `Proxy-Authenticate`). Digest state is kept per protection space
 * (RFC 7235 §2.2: the canonical root and the realm): for a server its
 * origin, narrowed to the challenge's `domain` URIs when it names some
 * (RFC 7616 §3.3); for a proxy the proxy itself (`request.proxy`), whatever
 * the target (RFC 7616 §3.6). After one challenge, later requests in the
 * space answer up front (`authorization`, `proxyAuthorization`) with the
 * same nonce and `nc` counting on; a `stale=true` challenge (a fresh nonce,
 * same credentials) gets one more retry, any other second challenge hands
 * the 401 (407) back. A proxy that took Basic gets it up front after.
 * `authFromURL` takes `http://user:pass@host/` credentials.
 *
 * @example
 * ```ts ignore
 * import { fetch, HttpAuth } from "../mod.ts";
 * const auth = new HttpAuth({ username: "Mufasa", password: "Circle of Life" });
 * const response = await fetch("http://127.0.0.1:8080/dir/index.html", { auth });
 * ```
 *
 * @module
 */
import { base64Encode, randomBytes } from "../../core/crypto.ts";
import { checkOptions } from "../../core/options.ts";
import { parseAuthChallenges, type ParsedChallenge } from "./auth_challenge.ts";
import { chooseDigestChallenge, type DigestChoice, digestAuthorization } from "./auth_digest.ts";
import type { AuthChallenge, AuthProvider, AuthRequest } from "./hooks.ts";

/**
 * A user name and password.
 *
 * @example
 * ```ts
 * import type { Credentials } from "./auth.ts";
 * const c: Credentials = { username: "u", password: "p" };
 * ```
 */
export interface Credentials {
  /** The user name (UTF-8). */
  username: string;
  /** The password (UTF-8). */
  password: string;
}

/**
 * Options of {@link HttpAuth}.
 *
 * @example
 * ```ts
 * import type { HttpAuthOptions } from "./auth.ts";
 * const options: HttpAuthOptions = { username: "u", password: "p", preemptiveBasic: true };
 * ```
 */
export interface HttpAuthOptions {
  /** Server credentials (Basic, Digest). */
  username?: string;
  /** The server password (with `username`). */
  password?: string;
  /** A Bearer token (RFC 6750), sent on every request. */
  token?: string;
  /** Proxy credentials for 407 answers. */
  proxy?: Credentials;
  /** Send Basic before any challenge (default false: wait for one). */
  preemptiveBasic?: boolean;
  /** Answer only for this origin (`authFromURL` sets the URL's). */
  origin?: string;
  /** Client nonces (default 18 random bytes in base64). */
  cnonce?: () => string;
}

const AUTH_OPTION_KEYS: ReadonlySet<string> = new Set(["username", "password", "token", "proxy", "preemptiveBasic", "origin", "cnonce"]);

/**
 * The Basic credentials value (RFC 7617 §2, user-id and password as UTF-8).
 *
 * @example
 * ```ts
 * import { basicAuthorization } from "./auth.ts";
 * basicAuthorization("Aladdin", "open sesame"); // "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
 * ```
 */
export function basicAuthorization(username: string, password: string): string {
  if (username.includes(":")) throw new TypeError("a Basic user-id cannot contain ':'");
  return `Basic ${base64Encode(`${username}:${password}`)}`;
}

/**
 * The Bearer credentials value (RFC 6750 §2.1).
 *
 * @example
 * ```ts
 * import { bearerAuthorization } from "./auth.ts";
 * bearerAuthorization("mF_9.B5f-4.1JqM"); // "Bearer mF_9.B5f-4.1JqM"
 * ```
 */
export function bearerAuthorization(token: string): string {
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new TypeError("a Bearer token must be a token68");
  return `Bearer ${token}`;
}

/** Protection spaces remembered at once; the least recently challenged is forgotten beyond it. */
const MAX_SPACES = 256;

/** Digest state of one protection space. */
interface DigestSpace {
  choice: DigestChoice;
  nc: number;
  cnonce: string;
  /** The origin, or `proxy <proxy origin>`. */
  root: string;
  /** Absolute URL prefixes from the challenge's `domain`; null: the whole root. */
  domain: string[] | null;
}

/** The same-origin URIs of a Digest `domain` parameter, resolved against the request URL; null when it names none. */
function domainPrefixes(value: string | undefined, base: URL): string[] | null {
  if (value === undefined) return null;
  const out: string[] = [];
  for (const part of value.split(/\s+/)) {
    if (part === "") continue;
    try {
      const u = new URL(part, base);
      if (u.origin === base.origin) out.push(u.origin + u.pathname);
    } catch {
      // A URI that does not parse narrows nothing.
    }
  }
  return out.length > 0 ? out : null;
}

/**
 * Parses every challenge field value, skipping those that do not parse
 * (one bad field must not hide a good one).
 *
 * @example
 * ```ts
 * import { parseChallengeFields } from "./auth.ts";
 * parseChallengeFields(['Basic realm="a"', '"garbage']).length; // 1
 * ```
 */
export function parseChallengeFields(values: readonly string[]): ParsedChallenge[] {
  const out: ParsedChallenge[] = [];
  for (const value of values) {
    try {
      out.push(...parseAuthChallenges(value));
    } catch {
      // A malformed field is ignored; the others may still be answered.
    }
  }
  return out;
}

/**
 * Credentials as an `AuthProvider` for `fetch`'s `auth` option.
 *
 * @example
 * ```ts
 * import { HttpAuth } from "./auth.ts";
 * const auth = new HttpAuth({ username: "u", password: "p", cnonce: () => "c" });
 * auth.respond({ status: 401, challenges: ['Digest realm="r", nonce="n", qop="auth"'], request: { method: "GET", url: new URL("http://a.test/x"), body: null } })
 *   ?.startsWith("Digest "); // true
 * ```
 */
export class HttpAuth implements AuthProvider {
  #options: HttpAuthOptions;
  /** By `<root> <realm>`, most recently challenged last. */
  #spaces = new Map<string, DigestSpace>();
  /** Proxies (by origin) that took Basic. */
  #proxyBasic = new Set<string>();

  /** Credentials and choices; unknown keys are a TypeError. */
  constructor(options: HttpAuthOptions) {
    checkOptions(options, AUTH_OPTION_KEYS, "HttpAuth");
    if ((options.username === undefined) !== (options.password === undefined)) {
      throw new TypeError("HttpAuth: username and password go together");
    }
    if (options.token !== undefined) bearerAuthorization(options.token);
    this.#options = { ...options };
  }

  /** Bearer, preemptive Basic, or Digest with a known nonce; else null. */
  authorization(request: AuthRequest): string | null {
    const o = this.#options;
    if (!this.#forOrigin(request.url)) return null;
    if (o.token !== undefined) return bearerAuthorization(o.token);
    if (o.username === undefined || o.password === undefined) return null;
    if (o.preemptiveBasic === true) return basicAuthorization(o.username, o.password);
    const space = this.#spaceFor(request.url.origin, request.url);
    if (space === undefined) return null;
    return this.#digest(space, { username: o.username, password: o.password }, request);
  }

  /** Digest (or Basic) for `request.proxy` once that proxy challenged; else null. */
  proxyAuthorization(request: AuthRequest & { proxy: string }): string | null {
    const creds = this.#options.proxy;
    if (creds === undefined || typeof request.proxy !== "string") return null;
    const space = this.#spaceFor(`proxy ${request.proxy}`, null);
    if (space !== undefined) return this.#digest(space, creds, request);
    return this.#proxyBasic.has(request.proxy) ? basicAuthorization(creds.username, creds.password) : null;
  }

  /** The most recently challenged space of `root` that covers `url` (any of root's for a proxy). */
  #spaceFor(root: string, url: URL | null): DigestSpace | undefined {
    let found: DigestSpace | undefined;
    const href = url === null ? "" : url.origin + url.pathname;
    for (const space of this.#spaces.values()) {
      if (space.root !== root) continue;
      if (space.domain !== null && url !== null && !space.domain.some((prefix) => href.startsWith(prefix))) continue;
      found = space;
    }
    return found;
  }

  /** Answers a 401 or 407 (see the module text for when it gives up). */
  respond(challenge: AuthChallenge): string | null {
    const attempt = challenge.attempt ?? 0;
    const proxy = challenge.status === 407;
    const o = this.#options;
    const creds: Credentials | undefined = proxy
      ? o.proxy
      : o.username !== undefined && o.password !== undefined
      ? { username: o.username, password: o.password }
      : undefined;
    if (creds === undefined) return null;
    if (!proxy && !this.#forOrigin(challenge.request.url)) return null;
    // Proxy credentials go to a proxy only: a 407 with no proxy named came from an origin server.
    if (proxy && (typeof challenge.request.proxy !== "string" || challenge.request.proxy === "")) return null;
    const parsed = parseChallengeFields(challenge.challenges);
    const url = challenge.request.url;
    const proxyOrigin = proxy ? challenge.request.proxy ?? "" : "";
    const root = proxy ? `proxy ${proxyOrigin}` : url.origin;
    const choice = chooseDigestChallenge(parsed);
    if (choice !== null) {
      const key = `${root} ${choice.realm}`;
      const previous = this.#spaces.get(key);
      // A second challenge on one request means the credentials failed, unless the nonce went stale.
      if (attempt > 0 && !choice.stale) {
        this.#spaces.delete(key);
        return null;
      }
      if (attempt > 1) return null;
      const chosen = parsed.find((c) => c.scheme === "digest" && c.params.get("nonce") === choice.nonce && c.params.get("realm") === choice.realm);
      const domain = proxy ? null : domainPrefixes(chosen?.params.get("domain"), url);
      const space: DigestSpace = previous !== undefined && previous.choice.nonce === choice.nonce
        ? previous
        : { choice, nc: 0, cnonce: this.#cnonce(), root, domain };
      space.choice = choice;
      space.domain = domain;
      this.#spaces.delete(key); // most recently challenged last
      this.#spaces.set(key, space);
      if (this.#spaces.size > MAX_SPACES) this.#spaces.delete(this.#spaces.keys().next().value!);
      return this.#digest(space, creds, challenge.request);
    }
    if (parsed.some((c) => c.scheme === "basic") && attempt === 0 && !(o.preemptiveBasic === true && !proxy)) {
      if (proxy && proxyOrigin !== "") this.#proxyBasic.add(proxyOrigin);
      return basicAuthorization(creds.username, creds.password);
    }
    if (proxy) this.#proxyBasic.delete(proxyOrigin);
    return null;
  }

  #forOrigin(url: URL): boolean {
    return this.#options.origin === undefined || this.#options.origin === url.origin;
  }

  #cnonce(): string {
    return this.#options.cnonce?.() ?? base64Encode(randomBytes(18));
  }

  #digest(space: DigestSpace, creds: Credentials, request: AuthRequest): string {
    space.nc++;
    if (space.nc > 0xffffffff) {
      space.nc = 1;
      space.cnonce = this.#cnonce();
    }
    const c = space.choice;
    return digestAuthorization({
      algorithm: c.algorithm,
      username: creds.username,
      password: creds.password,
      realm: c.realm,
      nonce: c.nonce,
      cnonce: space.cnonce,
      nc: space.nc,
      qop: c.qop,
      method: request.method,
      uri: request.url.pathname + request.url.search,
      body: request.body,
      opaque: c.opaque,
      userhash: c.userhash,
      sendAlgorithm: c.sendAlgorithm,
    });
  }
}

/**
 * Takes the credentials out of a URL: the URL without them, and an
 * {@link HttpAuth} for its origin (null when the URL has none). The
 * user name and password are percent-decoded as UTF-8; a `%` escape that
 * is malformed or not UTF-8 (`%ZZ`, `%E9`) is a `TypeError` (it was the
 * runtime's `URIError`, which `fetch` passed on as it was).
 *
 * @example
 * ```ts
 * import { authFromURL } from "./auth.ts";
 * const { url, auth } = authFromURL(new URL("http://user:p%40ss@a.test/x"));
 * console.log(url.href, auth !== null); // "http://a.test/x" true
 * ```
 */
export function authFromURL(input: URL): { url: URL; auth: HttpAuth | null } {
  if (input.username === "" && input.password === "") return { url: input, auth: null };
  const url = new URL(input.href);
  const username = decodeCredential(url.username);
  const password = decodeCredential(url.password);
  url.username = "";
  url.password = "";
  return { url, auth: new HttpAuth({ username, password, origin: url.origin }) };
}

function decodeCredential(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError("URL credentials are not valid percent-encoded UTF-8");
  }
}
