/**
 * What the sync and async glue share: which proxy applies (a URL, a config
 * or `"env"`), whether the target name must be resolved here first
 * (SOCKS4 needs an IPv4 address; `socks5://` resolves locally as curl does,
 * `socks5h://` and `socks4a://` let the proxy resolve), and the handshake
 * machine for a proxy and a target.
 *
 * @example
 * ```ts
 * import { chooseProxy, proxyLocalResolution, makeProxyHandshake } from "./plan.ts";
 * const proxy = chooseProxy("socks5h://127.0.0.1:1080", "example.com", 443, true)!;
 * console.log(proxyLocalResolution(proxy, "example.com")); // null: the proxy resolves
 * const h = makeProxyHandshake(proxy, { host: "example.com", port: 443 });
 * console.log(h.takeOutput()); // the SOCKS5 greeting
 * ```
 *
 * @module
 */
import { native } from "../../ffi/native.ts";
import { isIP } from "../address.ts";
import { type EnvReader, proxyForTarget } from "./env.ts";
import type { ProxyHandshake, ProxyTarget } from "./handshake.ts";
import { HttpConnectHandshake } from "./http_connect.ts";
import { Socks4Handshake } from "./socks4.ts";
import { Socks5Handshake } from "./socks5.ts";
import { type ProxyConfig, type ProxySpec, toProxyConfig } from "./url.ts";

/**
 * The `proxy` option: a URL, a config, or `"env"` for the environment's
 * settings (see env.ts; no proxy there means a direct connection).
 *
 * @example
 * ```ts
 * import type { ProxyOption } from "./plan.ts";
 * const fromEnv: ProxyOption = "env";
 * console.log(fromEnv);
 * ```
 */
export type ProxyOption = ProxySpec | "env";

/** The process environment, read through the FFI layer. */
const processEnv: EnvReader = (name) => native.env(name);

/**
 * The proxy for `host:port`, or null to connect directly (`"env"` with no
 * matching variable, or a NO_PROXY match). `secure`: the tunnel will carry
 * TLS (HTTPS_PROXY applies).
 *
 * @example
 * ```ts
 * import { chooseProxy } from "./plan.ts";
 * console.log(chooseProxy("env", "127.0.0.1", 80, false, () => undefined)); // null
 * ```
 */
export function chooseProxy(option: ProxyOption, host: string, port: number, secure: boolean, env: EnvReader = processEnv): ProxyConfig | null {
  if (option === "env") return proxyForTarget(env, host, port, secure);
  return toProxyConfig(option);
}

/**
 * The address family the target name must be resolved to here before the
 * handshake, or null when it goes to the proxy as it is (an IP literal, or
 * a proxy that resolves names: HTTP, SOCKS4a, SOCKS5h).
 *
 * @example
 * ```ts
 * import { proxyLocalResolution } from "./plan.ts";
 * console.log(proxyLocalResolution({ protocol: "socks4", host: "127.0.0.1", port: 1080 }, "example.com")); // "ipv4"
 * ```
 */
export function proxyLocalResolution(proxy: ProxyConfig, host: string): "ipv4" | "any" | null {
  const kind = isIP(host);
  if (proxy.protocol === "socks4") return kind === 4 ? null : "ipv4";
  if (proxy.protocol === "socks5") return kind === 0 ? "any" : null;
  return null;
}

/**
 * The handshake machine for `proxy` and `target` (a target that needs
 * {@link proxyLocalResolution} must already be an address).
 *
 * @example
 * ```ts
 * import { makeProxyHandshake } from "./plan.ts";
 * const h = makeProxyHandshake({ protocol: "http", host: "127.0.0.1", port: 3128 }, { host: "example.com", port: 443 });
 * console.log(new TextDecoder().decode(h.takeOutput()!).split("\r\n")[0]); // CONNECT example.com:443 HTTP/1.1
 * ```
 */
export function makeProxyHandshake(proxy: ProxyConfig, target: ProxyTarget): ProxyHandshake {
  const { host, port } = target;
  switch (proxy.protocol) {
    case "http":
    case "https": // the same CONNECT, inside TLS to the proxy
      return new HttpConnectHandshake(
        proxy.username === undefined ? { host, port } : { host, port, username: proxy.username, password: proxy.password ?? "" },
      );
    case "socks4":
    case "socks4a":
      return new Socks4Handshake({ host, port, userId: proxy.username ?? "", remoteResolve: proxy.protocol === "socks4a" });
    case "socks5":
    case "socks5h":
      return new Socks5Handshake(
        proxy.username === undefined ? { host, port } : { host, port, username: proxy.username, password: proxy.password ?? "" },
      );
  }
}
