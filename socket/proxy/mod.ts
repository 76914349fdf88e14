/**
 * Proxies (seed: SocketProxy): HTTP CONNECT (also inside TLS to an
 * `https://` proxy), SOCKS4, SOCKS4a and SOCKS5
 * handshakes as I/O-free state machines, proxy URLs and the
 * HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY environment, and the glue:
 * blocking (`connectViaProxySync`, `connectTLSViaProxySync`, and
 * `connectViaHttpsProxySync`, whose tunnel is a `TLSSocket` to the
 * proxy) and on the loop (`connectViaProxy`, `proxyConnector`, and
 * `connect({ proxy })`).
 *
 * @example
 * ```ts
 * import { parseProxyURL, Socks5Handshake } from "./mod.ts";
 * const proxy = parseProxyURL("socks5://user:pass@127.0.0.1:1080");
 * const h = new Socks5Handshake({ host: "example.com", port: 443, username: proxy.username!, password: proxy.password! });
 * console.log(h.takeOutput()); // Uint8Array [5, 2, 0, 2]
 * ```
 *
 * @module
 */
export { type ProxyHandshake, type ProxyTarget } from "./handshake.ts";
export { HttpConnectHandshake, type HttpConnectHandshakeOptions } from "./http_connect.ts";
export { SOCKS4_REPLY_CODES, Socks4Handshake, type Socks4HandshakeOptions } from "./socks4.ts";
export { SOCKS5_REPLY_CODES, Socks5Handshake, type Socks5HandshakeOptions } from "./socks5.ts";
export { formatProxy, parseProxyURL, type ProxyConfig, type ProxyProtocol, type ProxySpec, type ProxyTLSSettings, toProxyConfig } from "./url.ts";
export { type EnvReader, noProxyMatches, proxyForTarget } from "./env.ts";
export { chooseProxy, proxyLocalResolution, makeProxyHandshake, type ProxyOption } from "./plan.ts";
export { connectViaProxySync, type ConnectViaProxySyncOptions, runProxyHandshakeSync } from "./sync.ts";
export { connectTLSViaProxySync, type ConnectTLSViaProxySyncOptions } from "./tls_sync.ts";
export { connectViaHttpsProxySync, type ConnectViaHttpsProxySyncOptions, runProxyHandshakeOverTLSSync } from "./https_sync.ts";
export { CONNECT_VIA_PROXY_KEYS, connectViaProxy, type ConnectViaProxyOptions, proxyConnector, runProxyHandshake } from "./tunnel.ts";
