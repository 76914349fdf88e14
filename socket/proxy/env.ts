/**
 * Proxy settings from the environment, as curl and most HTTP clients read
 * them: `http_proxy`/`HTTP_PROXY` for plain targets, `https_proxy`/
 * `HTTPS_PROXY` for TLS targets, `all_proxy`/`ALL_PROXY` for either (the
 * lowercase name wins; an empty value counts as unset), and
 * `no_proxy`/`NO_PROXY` for the targets that go direct. A value without a
 * scheme is an HTTP proxy (`proxy.local:3128`).
 *
 * NO_PROXY is a comma- or space-separated list (no_proxy.ts has the
 * rules): `*` matches everything; a name matches itself and its subdomains
 * (`example.com`, `.example.com` and `*.example.com` all match
 * `a.example.com`; the first two also match `example.com`); an IP literal
 * matches that address (IPv6 with or without brackets); a CIDR prefix
 * (`10.0.0.0/8`, `fe80::/10`) matches the IP literals inside it;
 * `entry:port` matches that port only. Comparisons ignore case and a
 * trailing dot.
 *
 * This module is pure: it reads the environment through the function it is
 * given.
 *
 * @example
 * ```ts
 * import { proxyForTarget } from "./env.ts";
 * const env: Record<string, string> = { HTTPS_PROXY: "http://127.0.0.1:3128", NO_PROXY: "localhost,.internal" };
 * const get = (name: string) => env[name];
 * console.log(proxyForTarget(get, "example.com", 443, true)?.port); // 3128
 * console.log(proxyForTarget(get, "db.internal", 5432, true)); // null
 * ```
 *
 * @module
 */
import { noProxyMatches } from "./no_proxy.ts";
import { parseProxyURL, type ProxyConfig } from "./url.ts";

/** Reads one environment variable (undefined: unset). */
export type EnvReader = (name: string) => string | undefined;

function read(env: EnvReader, name: string): string | undefined {
  const lower = env(name.toLowerCase());
  if (lower !== undefined && lower.trim() !== "") return lower.trim();
  const upper = env(name.toUpperCase());
  if (upper !== undefined && upper.trim() !== "") return upper.trim();
  return undefined;
}

export { noProxyMatches } from "./no_proxy.ts";

/**
 * The proxy the environment names for `host:port` (`secure`: the tunnel
 * will carry TLS, so HTTPS_PROXY applies), or null to go direct.
 *
 * @throws TypeError when the variable holds an invalid proxy URL
 *
 * @example
 * ```ts
 * import { proxyForTarget } from "./env.ts";
 * const env: Record<string, string> = { all_proxy: "socks5h://127.0.0.1:1080" };
 * console.log(proxyForTarget((n) => env[n], "example.com", 80, false)?.protocol); // "socks5h"
 * ```
 */
export function proxyForTarget(env: EnvReader, host: string, port: number, secure: boolean): ProxyConfig | null {
  const noProxy = read(env, "no_proxy");
  if (noProxy !== undefined && noProxyMatches(noProxy, host, port)) return null;
  const value = read(env, secure ? "https_proxy" : "http_proxy") ?? read(env, "all_proxy");
  if (value === undefined) return null;
  return parseProxyURL(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? value : `http://${value}`);
}
