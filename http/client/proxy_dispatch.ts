/**
 * `ProxyAgent`: an {@link Agent}-like dispatcher that sends requests
 * through a proxy chosen per target, as curl and undici's ProxyAgent do.
 *
 * - `http:` targets through an HTTP proxy go in absolute form
 *   (`GET http://host/path HTTP/1.1` to the proxy, over kept-alive
 *   connections to the proxy shared by every such target), with
 *   `Proxy-Authorization: Basic …` from the proxy URL's credentials.
 * - `https:` targets through an HTTP proxy go through a `CONNECT` tunnel
 *   with TLS to the target inside it (a pool per target and proxy); so do
 *   `http:` targets with `httpTargets: "tunnel"`.
 * - SOCKS4/4a/5/5h proxies, and `https:` proxies (TLS to the proxy, its
 *   certificate checked with the config's `tls`), tunnel every target.
 * - `proxy: "env"` reads `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` and
 *   `NO_PROXY` (either case) per target; a `NO_PROXY` match, or no
 *   variable, connects directly.
 *
 * @example
 * ```ts ignore
 * import { fetch } from "./fetch.ts";
 * import { ProxyAgent } from "./proxy_dispatch.ts";
 * const agent = new ProxyAgent({ proxy: "http://user:secret@127.0.0.1:3128" });
 * console.log((await fetch("http://example.com/", { dispatcher: agent })).status);
 * await agent.close();
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import type { EnvReader } from "../../socket/proxy/env.ts";
import { chooseProxy, type ProxyOption } from "../../socket/proxy/plan.ts";
import { formatProxy, type ProxyConfig } from "../../socket/proxy/url.ts";
import { PoolSweep } from "./agent.ts";
import { basicAuthorization } from "./auth.ts";
import type { Dispatcher, DispatchHandler, DispatchOptions } from "./dispatcher.ts";
import { PendingRequest } from "./pending.ts";
import { originParts, Pool, POOL_OPTION_KEYS, type PoolOptions } from "./pool.ts";

/**
 * Options of a {@link ProxyAgent}: the proxy, and those of each pool
 * (without `proxy` and `connector`); an unknown key is a `TypeError`.
 *
 * @example
 * ```ts
 * import type { ProxyAgentOptions } from "./proxy_dispatch.ts";
 * const options: ProxyAgentOptions = { proxy: "env", connections: 16 };
 * ```
 */
export interface ProxyAgentOptions extends Omit<PoolOptions, "proxy" | "connector"> {
  /** A proxy URL (`http://`, `socks5://` …), a parsed config, or "env". */
  proxy: ProxyOption;
  /** Where "env" reads variables (default: the process environment). */
  env?: EnvReader;
  /** `http:` targets through an HTTP proxy: "absolute" form (default) or a CONNECT "tunnel". */
  httpTargets?: "absolute" | "tunnel";
}

const PROXY_AGENT_KEYS: ReadonlySet<string> = new Set(
  [...POOL_OPTION_KEYS, "env", "httpTargets"].filter((k) => k !== "connector"),
);

/**
 * How {@link ProxyAgent} sends a request to `origin`: directly, in
 * absolute form to an HTTP proxy, or through a tunnel.
 *
 * @example
 * ```ts
 * import type { ProxyRoute } from "./proxy_dispatch.ts";
 * const route: ProxyRoute = { kind: "direct" };
 * console.log(route.kind);
 * ```
 */
export type ProxyRoute =
  | { readonly kind: "direct" }
  | { readonly kind: "absolute"; readonly proxy: ProxyConfig }
  | { readonly kind: "tunnel"; readonly proxy: ProxyConfig };

/**
 * The route of a request to `origin` through `proxy`. See the module
 * documentation.
 *
 * @throws TypeError for a non-http(s) origin or a malformed proxy URL
 * @example
 * ```ts
 * import { proxyRoute } from "./proxy_dispatch.ts";
 * console.log(proxyRoute("http://a.test", "http://127.0.0.1:3128").kind); // "absolute"
 * console.log(proxyRoute("https://a.test", "http://127.0.0.1:3128").kind); // "tunnel"
 * console.log(proxyRoute("http://a.test", "env", () => undefined).kind); // "direct"
 * ```
 */
export function proxyRoute(origin: string, proxy: ProxyOption, env?: EnvReader, httpTargets: "absolute" | "tunnel" = "absolute"): ProxyRoute {
  const t = originParts(origin);
  const config = env === undefined
    ? chooseProxy(proxy, t.hostname, t.port, t.protocol === "https:")
    : chooseProxy(proxy, t.hostname, t.port, t.protocol === "https:", env);
  if (config === null) return { kind: "direct" };
  if (config.protocol === "http" && t.protocol === "http:" && httpTargets === "absolute") return { kind: "absolute", proxy: config };
  return { kind: "tunnel", proxy: config };
}

function poolOfEntry(entry: { pool: Dispatcher }): Dispatcher {
  return entry.pool;
}

function proxyOriginOf(proxy: ProxyConfig): string {
  return `http://${proxy.host.includes(":") ? `[${proxy.host}]` : proxy.host}:${proxy.port}`;
}

function proxyKey(config: ProxyConfig): string {
  return JSON.stringify([config.protocol, config.host, config.port, config.username ?? null, config.password ?? null]);
}

/**
 * Requests through a proxy chosen per target. See the module
 * documentation.
 *
 * @example
 * ```ts
 * import { ProxyAgent } from "./proxy_dispatch.ts";
 * const agent = new ProxyAgent({ proxy: "socks5://127.0.0.1:1080" });
 * console.log(agent.routes); // []
 * await agent.close();
 * ```
 */
export class ProxyAgent implements Dispatcher {
  readonly #proxy: ProxyOption;
  readonly #env: EnvReader | undefined;
  readonly #httpTargets: "absolute" | "tunnel";
  readonly #options: PoolOptions;
  readonly #pools = new Map<string, { label: string; pool: Dispatcher }>();
  readonly #sweep = new PoolSweep();
  #closed = false;

  /** An agent for `options.proxy`; pools are made per route on first use. */
  constructor(options: ProxyAgentOptions) {
    checkOptions(options, PROXY_AGENT_KEYS, "ProxyAgent");
    const { proxy, env, httpTargets, ...rest } = options;
    if (proxy === undefined) throw new TypeError("ProxyAgent: proxy is required");
    if (httpTargets !== undefined && httpTargets !== "absolute" && httpTargets !== "tunnel") {
      throw new TypeError(`ProxyAgent: httpTargets must be "absolute" or "tunnel", got ${String(httpTargets)}`);
    }
    // A malformed proxy URL fails here rather than on the first request.
    if (proxy !== "env") chooseProxy(proxy, "localhost", 80, false);
    this.#proxy = proxy;
    this.#env = env;
    this.#httpTargets = httpTargets ?? "absolute";
    this.#options = rest;
  }

  /** The pools held, by route (`direct <origin>`, `absolute <proxy>`, `tunnel <proxy> <origin>`; passwords hidden); an empty one may have been let go (agent.ts PoolSweep). */
  get routes(): string[] {
    return [...this.#pools.values()].map((p) => p.label);
  }

  #pool(key: string, label: string, make: () => Dispatcher): Dispatcher {
    let entry = this.#pools.get(key);
    if (entry === undefined) {
      this.#sweep.sweep(this.#pools, poolOfEntry); // routes no longer in use are let go (agent.ts)
      entry = { label, pool: make() };
      this.#pools.set(key, entry);
    }
    return entry.pool;
  }

  /** The HTTP proxy a request to `origin` goes to in absolute form (`http://host:port`), or null for a tunnel or a direct route. */
  proxyFor(origin: string): string | null {
    try {
      const route = proxyRoute(origin, this.#proxy, this.#env, this.#httpTargets);
      return route.kind === "absolute" ? proxyOriginOf(route.proxy) : null;
    } catch {
      return null;
    }
  }

  /** Sends one request by its route. */
  dispatch(options: DispatchOptions, handler: DispatchHandler): void {
    if (this.#closed) {
      new PendingRequest(options, handler).fail(new UseAfterCloseError("ProxyAgent"));
      return;
    }
    try {
      const route = proxyRoute(options.origin, this.#proxy, this.#env, this.#httpTargets);
      if (route.kind === "direct") {
        this.#pool(`direct ${options.origin}`, `direct ${options.origin}`, () => new Pool(options.origin, this.#options)).dispatch(forOrigin(options), handler);
        return;
      }
      const proxy = route.proxy;
      if (route.kind === "tunnel") {
        this.#pool(`tunnel ${proxyKey(proxy)} ${options.origin}`, `tunnel ${formatProxy(proxy)} ${options.origin}`, () => new Pool(options.origin, { ...this.#options, proxy })).dispatch(forOrigin(options), handler);
        return;
      }
      const proxyOrigin = proxyOriginOf(proxy);
      const pool = this.#pool(`absolute ${proxyKey(proxy)}`, `absolute ${formatProxy(proxy)}`, () => new Pool(proxyOrigin, { ...this.#options, http2: false }));
      const target = originParts(options.origin);
      const headers: Array<readonly [string, string]> = [];
      let hasHost = false;
      let hasProxyAuth = false;
      for (const pair of options.headers) {
        const name = pair[0].toLowerCase();
        if (name === "host") hasHost = true;
        else if (name === "proxy-authorization") hasProxyAuth = true;
        headers.push(pair);
      }
      if (!hasHost) headers.unshift(["host", target.authority]);
      if (!hasProxyAuth && proxy.username !== undefined) headers.push(["proxy-authorization", basicAuthorization(proxy.username, proxy.password ?? "")]);
      pool.dispatch({ ...options, origin: proxyOrigin, path: target.origin + options.path, headers }, handler);
    } catch (err) {
      new PendingRequest(options, handler).fail(err as Error);
    }
  }

  /** Lets requests finish, then closes every pool. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...[...this.#pools.values()].map((p) => p.pool), ...this.#sweep.letGo()].map((p) => p.close()));
  }

  /** Fails every request and closes every pool now. */
  async destroy(error?: Error): Promise<void> {
    this.#closed = true;
    await Promise.all([...[...this.#pools.values()].map((p) => p.pool), ...this.#sweep.letGo()].map((p) => p.destroy(error)));
  }
}

/**
 * A request that reaches its origin itself (directly, or inside a tunnel
 * where only the origin reads it) without a caller's `Proxy-Authorization`:
 * that field is the proxy's, and an origin must not get the proxy's
 * credentials (RFC 9110 §11.7.2: it is consumed by the proxy it is for).
 */
function forOrigin(options: DispatchOptions): DispatchOptions {
  if (!options.headers.some((pair) => pair[0].length === 19 && pair[0].toLowerCase() === "proxy-authorization")) return options;
  return { ...options, headers: options.headers.filter((pair) => pair[0].toLowerCase() !== "proxy-authorization") };
}
