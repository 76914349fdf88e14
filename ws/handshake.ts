/**
 * The WebSocket opening handshake (RFC 6455 §4), I/O-free: the client
 * builds its request and checks the server's answer; the server checks a
 * request and builds either the 101 response or an error response
 * (400 Bad Request, 426 Upgrade Required with the supported version).
 * Subprotocols and permessage-deflate are negotiated here.
 *
 * @example
 * ```ts
 * import { acceptKey, acceptUpgrade, createClientHandshake } from "./handshake.ts";
 * const client = createClientHandshake({ host: "example.com", path: "/chat" });
 * const result = acceptUpgrade({ method: "GET", headers: client.headers });
 * console.log(result.ok && result.response.startsWith("HTTP/1.1 101")); // true
 * acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 *
 * @module
 */
import { base64Decode, base64Encode } from "../core/base64.ts";
import { sha1 } from "../core/sha1.ts";
import { HTTPError, NetError } from "../core/errors.ts";
import { type DeflateOptions, PerMessageDeflate } from "./deflate.ts";
import { WEBSOCKET_GUID } from "./frame.ts";

/** Read access to request or response headers (WHATWG `Headers` fits). */
export interface HeaderLookup {
  /** The value of the header `name` (case-insensitive), or null when absent. */
  get(name: string): string | null;
}

/**
 * The Sec-WebSocket-Accept value for a Sec-WebSocket-Key:
 * base64(SHA-1(key + GUID)).
 *
 * @example
 * ```ts
 * import { acceptKey } from "./handshake.ts";
 * acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function acceptKey(key: string): string {
  return base64Encode(sha1(key + WEBSOCKET_GUID));
}

/** True when a comma-separated header contains `token` (case-insensitive). */
function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  return value.split(",").some((t) => t.trim().toLowerCase() === token);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function splitList(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

// ---- server

/** How a server answers upgrade requests. */
export interface ServerHandshakeOptions {
  /**
   * Subprotocols we speak, in our order of preference, or a function that
   * picks one of the client's (undefined: none).
   */
  protocols?: readonly string[] | ((offered: string[]) => string | undefined);
  /** permessage-deflate settings, or false to refuse compression (default: accept). */
  perMessageDeflate?: DeflateOptions | false;
  /** Extra response header lines, e.g. Set-Cookie. */
  headers?: Readonly<Record<string, string>>;
}

/** A request that may be an upgrade. */
export interface UpgradeRequest {
  /** The request method (an upgrade needs GET). */
  method: string;
  /** "1.1" by default. */
  httpVersion?: string;
  /** The request headers. */
  headers: HeaderLookup;
}

/** The outcome of {@link acceptUpgrade}. */
export type UpgradeResult =
  | {
    ok: true;
    /** The complete 101 response head, to write as is. */
    response: string;
    protocol: string | undefined;
    /** Set when permessage-deflate was agreed; owns zlib streams (close it). */
    deflate: PerMessageDeflate | undefined;
  }
  | {
    ok: false;
    status: 400 | 405 | 426;
    /** Why, for logs. */
    reason: string;
    /** The complete error response, to write before closing. */
    response: string;
  };

function refuse(status: 400 | 405 | 426, reason: string): UpgradeResult {
  const text = status === 400 ? "Bad Request" : status === 405 ? "Method Not Allowed" : "Upgrade Required";
  const extra = status === 426 ? "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" : status === 405 ? "Allow: GET\r\n" : "";
  const body = reason + "\n";
  return {
    ok: false,
    status,
    reason,
    response: `HTTP/1.1 ${status} ${text}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${new TextEncoder().encode(body).length}\r\nConnection: close\r\n\r\n${body}`,
  };
}

/**
 * Server side: checks an upgrade request (RFC 6455 §4.2.1) and builds the
 * response.
 *
 * @example
 * ```ts
 * import { acceptUpgrade } from "./handshake.ts";
 * const r = acceptUpgrade({ method: "GET", headers: new Headers({ host: "h", upgrade: "websocket" }) });
 * console.log(r.ok ? 101 : r.status); // 400 (no Connection: Upgrade)
 * ```
 */
export function acceptUpgrade(request: UpgradeRequest, options: ServerHandshakeOptions = {}): UpgradeResult {
  const h = request.headers;
  if (request.method !== "GET") return refuse(405, "WebSocket upgrades must use GET");
  const version = request.httpVersion ?? "1.1";
  if (!/^(?:1\.[1-9]|[2-9](?:\.\d)?)$/.test(version)) return refuse(400, "WebSocket upgrades need HTTP/1.1 or later");
  if (h.get("host") === null) return refuse(400, "missing Host header");
  if (!hasToken(h.get("upgrade"), "websocket")) return refuse(400, "Upgrade header must name websocket");
  if (!hasToken(h.get("connection"), "upgrade")) return refuse(400, "Connection header must contain Upgrade");
  const wsVersion = h.get("sec-websocket-version");
  if (wsVersion === null || wsVersion.trim() !== "13") return refuse(426, "only Sec-WebSocket-Version 13 is supported");
  const key = h.get("sec-websocket-key")?.trim() ?? "";
  let keyBytes: Uint8Array | undefined;
  try {
    keyBytes = base64Decode(key);
  } catch {
    keyBytes = undefined;
  }
  if (keyBytes === undefined || keyBytes.length !== 16) return refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64");

  const offer = negotiateOffer(h, options);
  if (typeof offer === "string") return refuse(400, offer);
  const { protocol, deflate } = offer;

  let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  if (protocol !== undefined) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (deflate !== undefined) response += `Sec-WebSocket-Extensions: ${deflate.responseHeader}\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (/[\r\n]/.test(name + value)) throw new TypeError("header names and values must not contain CR or LF");
    response += `${name}: ${value}\r\n`;
  }
  return { ok: true, response: response + "\r\n", protocol, deflate };
}

/**
 * The subprotocol and permessage-deflate a server agrees to, from the
 * request's `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`
 * (shared by the HTTP/1.1 upgrade and HTTP/2's extended CONNECT); a
 * string says why the offer is refused (answer 400).
 *
 * @example
 * ```ts
 * import { negotiateOffer } from "./handshake.ts";
 * const agreed = negotiateOffer(new Headers({ "sec-websocket-protocol": "chat, v2" }), { protocols: ["v2"] });
 * console.log(typeof agreed === "string" ? agreed : agreed.protocol); // "v2"
 * ```
 */
export function negotiateOffer(h: HeaderLookup, options: Pick<ServerHandshakeOptions, "protocols" | "perMessageDeflate">):
  | string
  | { protocol: string | undefined; deflate: PerMessageDeflate | undefined } {
  const offered = splitList(h.get("sec-websocket-protocol"));
  if (offered.some((p) => !TOKEN.test(p))) return "invalid Sec-WebSocket-Protocol";
  let protocol: string | undefined;
  const choose = options.protocols;
  if (typeof choose === "function") protocol = offered.length > 0 ? choose(offered) : undefined;
  else if (choose !== undefined) protocol = choose.find((p) => offered.includes(p));
  if (protocol !== undefined && !offered.includes(protocol)) throw new TypeError(`protocol ${protocol} was not offered`);

  let deflate: PerMessageDeflate | undefined;
  const extensions = h.get("sec-websocket-extensions");
  if (extensions !== null && options.perMessageDeflate !== false) {
    try {
      deflate = PerMessageDeflate.acceptOffer(extensions, options.perMessageDeflate ?? {});
    } catch (err) {
      if (err instanceof NetError) return "invalid Sec-WebSocket-Extensions";
      throw err;
    }
  }
  return { protocol, deflate };
}

/**
 * Client side: checks the subprotocol and extensions a server answered
 * (the `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` of a `101`,
 * or of HTTP/2's `200` to extended CONNECT). Throws an `HTTPError`
 * (`ERR_WS_HANDSHAKE`) for a subprotocol or extension not offered.
 *
 * @example
 * ```ts
 * import { checkAnswer } from "./handshake.ts";
 * console.log(checkAnswer(new Headers({ "sec-websocket-protocol": "chat" }), ["chat"], undefined).protocol); // "chat"
 * ```
 */
export function checkAnswer(h: HeaderLookup, protocols: readonly string[], deflateOptions: DeflateOptions | undefined): ClientHandshakeResult {
  const fail = (why: string): never => {
    throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: ${why}`);
  };
  const chosen = h.get("sec-websocket-protocol")?.trim();
  let protocol: string | undefined;
  if (chosen !== undefined && chosen !== "") {
    if (!protocols.includes(chosen)) fail(`the server chose subprotocol ${chosen}, which we did not offer`);
    protocol = chosen;
  } else if (chosen === "") {
    fail("empty Sec-WebSocket-Protocol");
  }
  const ext = h.get("sec-websocket-extensions");
  let deflate: PerMessageDeflate | undefined;
  if (ext !== null && ext.trim() !== "") {
    if (deflateOptions === undefined) fail("the server accepted an extension we did not offer");
    try {
      deflate = PerMessageDeflate.fromResponse(ext, deflateOptions);
    } catch (err) {
      if (err instanceof NetError) fail(err.message);
      throw err;
    }
  }
  return { protocol, deflate };
}

// ---- client

/** What a client asks for. */
export interface ClientHandshakeOptions {
  /** The Host header value (`host` or `host:port`). */
  host: string;
  /** Path and query; default "/". */
  path?: string;
  /** Subprotocols to offer in `Sec-WebSocket-Protocol`, preferred first. */
  protocols?: readonly string[];
  /** permessage-deflate settings to offer, or false (default: offer with defaults). */
  perMessageDeflate?: DeflateOptions | false;
  /** The `Origin` header to send, when any. */
  origin?: string;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
  /** The 16 random key bytes; tests only. */
  keyBytes?: Uint8Array;
}

/** A response as the HTTP layer parsed it. */
export interface UpgradeResponse {
  /** The response status (101 for an accepted upgrade). */
  status: number;
  /** The response headers. */
  headers: HeaderLookup;
}

/** What the handshake agreed. */
export interface ClientHandshakeResult {
  /** The subprotocol the server chose, or undefined for none. */
  protocol: string | undefined;
  /** The permessage-deflate state agreed, or undefined when not negotiated. */
  deflate: PerMessageDeflate | undefined;
}

/** A client handshake in progress. */
export interface ClientHandshake {
  /** The Sec-WebSocket-Key sent. */
  key: string;
  /** The request headers (as a WHATWG Headers object). */
  headers: Headers;
  /** The complete request head, to write as is. */
  request: string;
  /** Checks the server's response; throws an HTTPError when it is not a valid upgrade. */
  finish(response: UpgradeResponse): ClientHandshakeResult;
}

/**
 * Client side: builds the upgrade request with a fresh random key
 * (RFC 6455 §4.1, from `crypto.getRandomValues`) and returns the check to run on the response.
 *
 * @example
 * ```ts
 * import { createClientHandshake } from "./handshake.ts";
 * const hs = createClientHandshake({ host: "example.com", protocols: ["chat"] });
 * console.log(hs.request.split("\r\n")[0]); // "GET / HTTP/1.1"
 * ```
 */
export function createClientHandshake(options: ClientHandshakeOptions): ClientHandshake {
  const path = options.path ?? "/";
  if (!path.startsWith("/") || /[\s]/.test(path)) throw new TypeError(`invalid request path ${path}`);
  if (/[\s]/.test(options.host) || options.host === "") throw new TypeError(`invalid host ${options.host}`);
  const keyBytes = options.keyBytes ?? crypto.getRandomValues(new Uint8Array(16));
  if (keyBytes.length !== 16) throw new RangeError("the key must be 16 bytes");
  const key = base64Encode(keyBytes);
  const protocols = options.protocols ?? [];
  for (const p of protocols) if (!TOKEN.test(p)) throw new TypeError(`invalid subprotocol ${p}`);
  if (new Set(protocols).size !== protocols.length) throw new TypeError("subprotocols must be unique");
  const deflateOptions = options.perMessageDeflate === false ? undefined : options.perMessageDeflate ?? {};

  const headers = new Headers();
  headers.set("Host", options.host);
  headers.set("Upgrade", "websocket");
  headers.set("Connection", "Upgrade");
  headers.set("Sec-WebSocket-Key", key);
  headers.set("Sec-WebSocket-Version", "13");
  if (protocols.length > 0) headers.set("Sec-WebSocket-Protocol", protocols.join(", "));
  if (deflateOptions !== undefined) headers.set("Sec-WebSocket-Extensions", PerMessageDeflate.offer(deflateOptions));
  if (options.origin !== undefined) headers.set("Origin", options.origin);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  let request = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of headers) request += `${name}: ${value}\r\n`;
  request += "\r\n";

  const expected = acceptKey(key);
  return {
    key,
    headers,
    request,
    finish(response: UpgradeResponse): ClientHandshakeResult {
      const h = response.headers;
      const fail = (why: string): never => {
        throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: ${why}`);
      };
      if (response.status !== 101) fail(`status ${response.status}, expected 101`);
      if (!hasToken(h.get("upgrade"), "websocket")) fail("Upgrade header must name websocket");
      if (!hasToken(h.get("connection"), "upgrade")) fail("Connection header must contain Upgrade");
      if (h.get("sec-websocket-accept")?.trim() !== expected) fail("wrong Sec-WebSocket-Accept");
      return checkAnswer(h, protocols, deflateOptions);
    },
  };
}
