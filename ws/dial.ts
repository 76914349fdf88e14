/**
 * The client's opening handshake over a real connection: connect (plain,
 * TLS for `wss:`, through a proxy), write the upgrade request, read and
 * check the `101`, and hand back the connection with what was agreed. The
 * promise API (client.ts) and the WHATWG `WebSocket` (websocket.ts) start
 * here.
 *
 * @example
 * ```ts ignore
 * import { dialWebSocket } from "./dial.ts";
 * const { conn, head, protocol } = await dialWebSocket("ws://127.0.0.1:8080/chat", { protocols: ["chat"] });
 * ```
 *
 * @module
 */
import { HTTP2Error, HTTPError, SocketClosedError } from "../core/errors.ts";
import { checkOptions, optionKeys } from "../core/options.ts";
import { connect, type ConnectOptions } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import type { DeflateOptions, PerMessageDeflate } from "./deflate.ts";
import { createClientHandshake } from "./handshake.ts";
import { dialOverH2, dialSharedH2, h2ShareKey, holdH2Setup } from "./h2_dial.ts";
import type { WebSocketTransport } from "./transport.ts";

/** Options of {@link dialWebSocket} (and of the clients built on it). */
export interface DialOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: readonly string[];
  /** Extra request header fields (Authorization, Cookie…). */
  headers?: Readonly<Record<string, string>>;
  /** The `Origin` field to send. */
  origin?: string;
  /** permessage-deflate parameters to offer, or false (default: offer with defaults). */
  perMessageDeflate?: DeflateOptions | false;
  /** TLS settings for `wss:` (tls/'s connection settings: `ca`, `servername`…); the host is verified. */
  tls?: object;
  /** A proxy (poll/connect's `proxy`: a URL, a config object or "env"). */
  proxy?: ConnectOptions["proxy"];
  /** Fails the connect and handshake after this long (default 30 000 ms). */
  timeoutMs?: number;
  /** Aborts the connect and handshake. */
  signal?: AbortSignal;
  /** Largest response head accepted (default 16 KiB). */
  maxHeadBytes?: number;
  /**
   * WebSocket over HTTP/2 (RFC 8441): `wss:` offers `h2` by ALPN, `ws:`
   * speaks HTTP/2 by prior knowledge; when the server announces
   * SETTINGS_ENABLE_CONNECT_PROTOCOL the WebSocket runs on an extended
   * CONNECT stream, else (or when the server does not speak HTTP/2) the
   * HTTP/1.1 Upgrade is used. WebSockets to the same scheme, host and
   * port, dialled with the same `tls` and `proxy` objects (or none), share
   * one HTTP/2 connection, a stream each. Default false.
   */
  http2?: boolean;
}

/** Every key of {@link DialOptions}. */
export const DIAL_OPTION_KEYS: ReadonlySet<string> = optionKeys(Object.keys({
  protocols: true,
  headers: true,
  origin: true,
  perMessageDeflate: true,
  tls: true,
  proxy: true,
  timeoutMs: true,
  signal: true,
  maxHeadBytes: true,
  http2: true,
} satisfies Record<keyof DialOptions, true>));

/** What {@link dialWebSocket} resolves to. */
export interface DialResult {
  /** The connection (HTTP/1.1), or the HTTP/2 stream (RFC 8441). */
  conn: WebSocketTransport;
  /** Bytes the server sent after its `101` head (the first frames). */
  head: Uint8Array;
  /** The subprotocol the server chose ("" for none). */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` the server answered ("" for none). */
  extensions: string;
  /** The permessage-deflate state agreed, or undefined when not negotiated. */
  deflate: PerMessageDeflate | undefined;
  /** The URL connected to. */
  url: URL;
}

/**
 * Parses and checks a WebSocket URL (`ws:`, `wss:`, and `http:`/`https:`
 * mapped to them, as WHATWG does); a fragment is a SyntaxError.
 *
 * @example
 * ```ts
 * import { webSocketURL } from "./dial.ts";
 * console.log(webSocketURL("http://example.com/x").href); // "ws://example.com/x"
 * ```
 */
export function webSocketURL(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new SyntaxError(`invalid WebSocket URL ${String(input)}`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new SyntaxError(`WebSocket URL scheme must be ws: or wss:, got ${url.protocol}`);
  // An empty fragment ("ws://h/#") is still a fragment (WHATWG WebSockets: "if urlRecord's fragment is non-null").
  if (url.hash !== "" || url.href.endsWith("#")) throw new SyntaxError("WebSocket URLs take no fragment");
  return url;
}

const CRLFCRLF = [13, 10, 13, 10];

function findHeadEnd(bytes: Uint8Array): number {
  outer: for (let i = 0; i + 4 <= bytes.length; i++) {
    for (let j = 0; j < 4; j++) if (bytes[i + j] !== CRLFCRLF[j]) continue outer;
    return i + 4;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Connects to `url` and runs the opening handshake. Rejects with an
 * `HTTPError` (`ERR_WS_HANDSHAKE`) when the server does not switch, and
 * with the connect's or TLS's error when those fail.
 *
 * @example
 * ```ts ignore
 * import { dialWebSocket } from "./dial.ts";
 * const dialed = await dialWebSocket("wss://localhost:8443/", { tls: { ca } });
 * console.log(dialed.protocol, dialed.extensions);
 * ```
 */
export async function dialWebSocket(input: string | URL, options: DialOptions = {}): Promise<DialResult> {
  checkOptions(options, DIAL_OPTION_KEYS, "connectWebSocket");
  const url = webSocketURL(input);
  const secure = url.protocol === "wss:";
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  const handshake = createClientHandshake({
    host: url.host,
    path: (url.pathname || "/") + url.search,
    ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
    ...(options.perMessageDeflate !== undefined ? { perMessageDeflate: options.perMessageDeflate } : {}),
    ...(options.origin !== undefined ? { origin: options.origin } : {}),
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const connectOptions: ConnectOptions = {
    host,
    port,
    timeoutMs,
    ...(secure ? { tls: options.tls ?? {} } : {}),
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal]);
  let conn: Connection | undefined;
  if (options.http2 === true) {
    // Several WebSockets to one origin share one HTTP/2 connection (h2_dial.ts).
    const shareKey = h2ShareKey(url, options);
    let shared = await dialSharedH2(shareKey, url, options, signal);
    if (shared !== undefined) return shared;
    let settingUp = holdH2Setup(shareKey);
    if (settingUp === undefined) {
      // Another dial began setting the session up meanwhile: wait for it once.
      shared = await dialSharedH2(shareKey, url, options, signal);
      if (shared !== undefined) return shared;
      settingUp = holdH2Setup(shareKey);
    }
    try {
      const tls = options.tls as { alpn?: readonly string[] } | undefined;
      const h2Options = secure ? { ...connectOptions, tls: { ...tls, alpn: tls?.alpn ?? ["h2", "http/1.1"] } } : connectOptions;
      const first = await connect(h2Options);
      const h2 = secure ? (await import("../tls/connect_async.ts")).tlsInfo(first)?.alpnProtocol === "h2" : true;
      if (!h2) conn = first; // the server picked HTTP/1.1: upgrade on this connection
      else {
        try {
          const dialed = await dialOverH2(first, url, options, signal, shareKey);
          if (dialed !== null) return dialed;
        } catch (err) {
          // A server that does not speak HTTP/2 (prior knowledge refused): HTTP/1.1 on a new connection.
          if (!(err instanceof HTTP2Error) && !(err instanceof SocketClosedError)) throw err;
        }
        if (secure) connectOptions.tls = { ...tls, alpn: ["http/1.1"] };
      }
    } finally {
      settingUp?.();
    }
  }
  conn ??= await connect(connectOptions);
  try {
    await conn.write(new TextEncoder().encode(handshake.request));
    const maxHead = options.maxHeadBytes ?? 16 * 1024;
    let got: Uint8Array = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const chunk = await conn.read({ signal });
      if (chunk === null) throw new HTTPError("ERR_WS_HANDSHAKE", "WebSocket handshake failed: the server closed the connection");
      got = concat(got, chunk);
      end = findHeadEnd(got);
      if (end < 0 && got.length > maxHead) throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: response head over ${maxHead} bytes`);
    }
    const text = new TextDecoder("latin1").decode(got.subarray(0, end - 4));
    const lines = text.split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? "");
    if (status === null) throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: bad status line ${JSON.stringify(lines[0])}`);
    // HTTP/1.0 has no protocol switch (RFC 6455 §4.1: the upgrade is HTTP/1.1 or later).
    if (status[1] === "0" && status[2] === "101") throw new HTTPError("ERR_WS_HANDSHAKE", "WebSocket handshake failed: a 101 in HTTP/1.0");
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: bad header line ${JSON.stringify(line)}`);
      try {
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      } catch {
        throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: bad header line ${JSON.stringify(line)}`);
      }
    }
    const agreed = handshake.finish({ status: Number(status[2]), headers });
    return {
      conn,
      head: got.slice(end),
      protocol: agreed.protocol ?? "",
      extensions: agreed.deflate === undefined ? "" : headers.get("sec-websocket-extensions") ?? "",
      deflate: agreed.deflate,
      url,
    };
  } catch (err) {
    conn.abort();
    throw err;
  }
}
