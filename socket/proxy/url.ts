/**
 * Proxy URLs: `http://user:pass@host:port` (HTTP CONNECT), `https://`
 * (HTTP CONNECT inside TLS to the proxy itself), `socks4://`, `socks4a://`,
 * `socks5://` (names resolved here) and `socks5h://` (names resolved by the
 * proxy), parsed into a {@link ProxyConfig}. Credentials are
 * percent-decoded. Default ports: 80 for http, 443 for https, 1080 for
 * SOCKS. An `https://` proxy is verified like any TLS server (its name, the
 * system trust store) unless its config's `tls` says otherwise.
 *
 * @example
 * ```ts
 * import { parseProxyURL } from "./url.ts";
 * console.log(parseProxyURL("socks5h://alice:s%40cret@[::1]:1080"));
 * // { protocol: "socks5h", host: "::1", port: 1080, username: "alice", password: "s@cret" }
 * ```
 *
 * @module
 */
import type { TLSConnectionSettings } from "../../tls/connect_async.ts";
import { isIPv6 } from "../address.ts";

/** The proxy kinds: HTTP CONNECT (in the clear, or inside TLS to the proxy) and the SOCKS versions. */
export type ProxyProtocol = "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h";

/**
 * TLS to an `https://` proxy itself: tls/'s client settings (`ca`,
 * `servername` — default the proxy's host —, `rejectUnauthorized`, default
 * true, `context`, `handshakeTimeoutMs`, …). Unknown keys are a TypeError
 * when the proxy is used.
 *
 * @example
 * ```ts
 * import type { ProxyTLSSettings } from "./url.ts";
 * const tls: ProxyTLSSettings = { ca: "-----BEGIN CERTIFICATE-----...", servername: "proxy.internal" };
 * console.log(tls.servername);
 * ```
 */
export type ProxyTLSSettings = TLSConnectionSettings;

/**
 * A proxy: its kind, where it listens, and optional credentials (Basic for
 * HTTP, RFC 1929 for SOCKS5; SOCKS4 sends the username as USERID).
 *
 * @example
 * ```ts
 * import type { ProxyConfig } from "./url.ts";
 * const proxy: ProxyConfig = { protocol: "socks5", host: "127.0.0.1", port: 1080 };
 * console.log(proxy.protocol);
 * ```
 */
export interface ProxyConfig {
  /** The kind of proxy. */
  readonly protocol: ProxyProtocol;
  /** The proxy's host (IP literal or name). */
  readonly host: string;
  /** The proxy's port. */
  readonly port: number;
  /** Username, if any. */
  readonly username?: string;
  /** Password, if any. */
  readonly password?: string;
  /** `https` only: how the proxy's certificate is verified (default: its host name against the system trust store). */
  readonly tls?: ProxyTLSSettings;
}

/**
 * A proxy as a URL string or a parsed {@link ProxyConfig}.
 *
 * @example
 * ```ts
 * import type { ProxySpec } from "./url.ts";
 * const a: ProxySpec = "http://127.0.0.1:3128";
 * const b: ProxySpec = { protocol: "socks4a", host: "127.0.0.1", port: 1080 };
 * console.log(a, b);
 * ```
 */
export type ProxySpec = string | ProxyConfig;

const PROTOCOLS: ReadonlySet<string> = new Set(["http", "https", "socks4", "socks4a", "socks5", "socks5h"]);
const DEFAULT_PORTS: Readonly<Record<ProxyProtocol, number>> = { http: 80, https: 443, socks4: 1080, socks4a: 1080, socks5: 1080, socks5h: 1080 };
/** Longest proxy URL accepted. */
const MAX_URL_LENGTH = 2048;

/**
 * Parses a proxy URL.
 *
 * @throws TypeError for a malformed URL, an unknown scheme, a path, query
 *   or fragment
 *
 * @example
 * ```ts
 * import { parseProxyURL } from "./url.ts";
 * console.log(parseProxyURL("http://proxy.local:3128").port); // 3128
 * console.log(parseProxyURL("socks4a://10.0.0.1").port); // 1080
 * console.log(parseProxyURL("https://proxy.local").port); // 443
 * ```
 */
export function parseProxyURL(text: string): ProxyConfig {
  if (typeof text !== "string") throw new TypeError(`proxy URL must be a string, got ${typeof text}`);
  if (text.length > MAX_URL_LENGTH) throw new TypeError(`proxy URL is longer than ${MAX_URL_LENGTH} characters`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined || !PROTOCOLS.has(scheme)) {
    throw new TypeError(`proxy URL must start with http://, https://, socks4://, socks4a://, socks5:// or socks5h://, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`invalid proxy URL ${JSON.stringify(redact(text))}`);
  }
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    throw new TypeError(`a proxy URL has no path, query or fragment: ${JSON.stringify(redact(text))}`);
  }
  let host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  host = host.toLowerCase();
  if (host === "") throw new TypeError(`proxy URL without a host: ${JSON.stringify(redact(text))}`);
  if (host.includes(":") && !isIPv6(host)) throw new TypeError(`invalid proxy host ${JSON.stringify(host)}`);
  const protocol = scheme as ProxyProtocol;
  const port = url.port === "" ? DEFAULT_PORTS[protocol] : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`invalid proxy port in ${JSON.stringify(redact(text))}`);
  const config: { -readonly [K in keyof ProxyConfig]: ProxyConfig[K] } = { protocol, host, port };
  if (url.username !== "" || url.password !== "") {
    config.username = decode(url.username);
    config.password = decode(url.password);
  }
  return config;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError("proxy URL credentials are not valid percent-encoded UTF-8");
  }
}

/** The URL with its credentials replaced, for messages. */
function redact(text: string): string {
  return text.replace(/\/\/[^@/]*@/, "//***@").slice(0, 200);
}

/**
 * Checks a {@link ProxySpec} and returns it as a {@link ProxyConfig}.
 *
 * @throws TypeError / RangeError for a bad URL or config
 *
 * @example
 * ```ts
 * import { toProxyConfig } from "./url.ts";
 * console.log(toProxyConfig("socks5://127.0.0.1:9050").protocol); // "socks5"
 * const proxy = toProxyConfig({ protocol: "https", host: "127.0.0.1", port: 8443, tls: { servername: "proxy.test" } });
 * console.log(proxy.tls?.servername); // "proxy.test"
 * ```
 */
export function toProxyConfig(spec: ProxySpec): ProxyConfig {
  if (typeof spec === "string") return parseProxyURL(spec);
  if (typeof spec !== "object" || spec === null) throw new TypeError("proxy must be a URL string or a { protocol, host, port } object");
  const { protocol, host, port, username, password, tls } = spec;
  if (!PROTOCOLS.has(protocol)) throw new TypeError(`proxy protocol must be one of ${[...PROTOCOLS].join(", ")}, got ${String(protocol)}`);
  if (typeof host !== "string" || host === "") throw new TypeError("proxy host must be a non-empty string");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`proxy port must be an integer in 1..65535, got ${String(port)}`);
  if (username !== undefined && typeof username !== "string") throw new TypeError("proxy username must be a string");
  if (password !== undefined && typeof password !== "string") throw new TypeError("proxy password must be a string");
  if (tls !== undefined) {
    if (tls === null || typeof tls !== "object" || Array.isArray(tls)) throw new TypeError("proxy tls must be an object of TLS settings");
    if (protocol !== "https") throw new TypeError(`proxy tls is for https:// proxies, not ${protocol}://`);
  }
  return spec;
}

/**
 * The proxy as a URL with the password left out, for logs.
 *
 * @example
 * ```ts
 * import { formatProxy } from "./url.ts";
 * console.log(formatProxy({ protocol: "socks5", host: "::1", port: 1080, username: "u", password: "p" })); // socks5://u:***@[::1]:1080
 * ```
 */
export function formatProxy(config: ProxyConfig): string {
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const user = config.username === undefined ? "" : `${encodeURIComponent(config.username)}:***@`;
  return `${config.protocol}://${user}${host}:${config.port}`;
}
