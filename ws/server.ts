/**
 * WebSocket upgrades in `serve` (http/server), in the two shapes users know:
 *
 * - **Bun's**: `serve({ fetch, websocket: { open, message, close, drain,
 *   ping, pong } })` and, in `fetch`, `server.upgrade(request, { data })`
 *   (true when the upgrade goes ahead; `fetch` then returns nothing). The
 *   handlers get a {@link ServerWebSocket} carrying `data`, with
 *   `subscribe`/`unsubscribe`/`publish` topics and `server.publish`. This
 *   is the fast path: no event objects, messages straight to `message`.
 * - **Deno's**: `upgradeWebSocket(request)` returns `{ socket, response }`;
 *   return `response` from the handler, and `socket` (a WHATWG
 *   `WebSocket`) opens once the `101` is written. It needs the request's
 *   `info` (the handler's second argument) unless the server has a
 *   `websocket` option (even `{}`).
 *
 * Both negotiate subprotocols (`protocols`), permessage-deflate (its four
 * parameters, a compression context per connection, or with
 * `serverNoContextTakeover` and `sharedCompressor` one zlib stream shared
 * by all, and with `clientNoContextTakeover` and `sharedDecompressor` one
 * shared for inflating; off unless `perMessageDeflate` is given), check `Origin` (`checkOrigin`: false
 * answers 403), bound messages (`maxPayloadLength`, 1009 past it), time
 * the closing handshake (`closeTimeoutMs`), ping dead peers
 * (`heartbeatMs`) and bound the output for peers that do not read
 * (`maxBufferedBytes`, then 1008).
 *
 * Over HTTP/2 (RFC 8441) the same calls accept an extended CONNECT
 * (`:protocol websocket`): a server with a `websocket` option announces
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, `server.upgrade(request)` and
 * `upgradeWebSocket(request)` answer `200` and the WebSocket runs on the
 * stream's DATA (flow-controlled; its close ends the stream; RST_STREAM is
 * an abnormal close, 1006).
 *
 * @example
 * ```ts ignore
 * import { serve } from "../http/server/serve.ts";
 * const server = serve({
 *   port: 0,
 *   fetch: (request) => server.upgrade(request, { data: { name: "anon" } }) ? undefined : new Response("not a websocket", { status: 400 }),
 *   websocket: {
 *     open: (ws) => ws.subscribe("chat"),
 *     message: (ws, message) => ws.publish("chat", message),
 *   },
 * });
 * ```
 *
 * @module
 */
import { checkOptions, optionKeys } from "../core/options.ts";
import { canSwitchProtocols, type ServeHandler, type ServeHandlerInfo } from "../http/server/h1_session.ts";
import type { H2HandlerInfo } from "../http/server/h2_session.ts";
import { type ChannelOptions, checkWebSocketLimit, WebSocketChannel } from "./channel.ts";
import type { DeflateOptions } from "./deflate.ts";
import { acceptUpgrade, negotiateOffer, type UpgradeResult } from "./handshake.ts";
import type { PerMessageDeflate } from "./deflate.ts";
import { EXTENDED_CONNECT_HANDLERS } from "./h2_stream.ts";
import type { WebSocketTransport } from "./transport.ts";
import { TopicHub } from "./pubsub.ts";
import { WebSocket } from "./websocket.ts";

/** Negotiation and limits shared by both server shapes. */
export interface WebSocketServerOptions {
  /** Subprotocols we speak, in our order of preference, or a function choosing among the client's. */
  protocols?: readonly string[] | ((offered: string[]) => string | undefined);
  /** permessage-deflate parameters to accept with, or true for defaults (default: off). */
  perMessageDeflate?: DeflateOptions | boolean;
  /** Decides on the request's `Origin` (null when absent); false answers 403. */
  checkOrigin?: (origin: string | null, request: Request) => boolean;
  /** Largest message accepted (default 16 MiB); larger closes with 1009. */
  maxPayloadLength?: number;
  /** Ping every this many ms; a peer silent for a whole interval is dropped (1006). Default 0: off. */
  heartbeatMs?: number;
  /** How long the peer has to answer our Close (default 5000 ms). */
  closeTimeoutMs?: number;
  /** Queued output past which a peer that does not read is dropped (1008; default 16 MiB). */
  maxBufferedBytes?: number;
}

/** Bun's `websocket` handler set (`T` is the `data` given to `server.upgrade`). */
export interface WebSocketHandler<T = undefined> extends WebSocketServerOptions {
  /** The WebSocket opened. */
  open?(ws: ServerWebSocket<T>): void;
  /** A message: a string for text, bytes for binary. */
  message?(ws: ServerWebSocket<T>, message: string | Uint8Array): void;
  /** The WebSocket closed with `code` and `reason`. */
  close?(ws: ServerWebSocket<T>, code: number, reason: string): void;
  /** The output emptied after `send` returned -1. */
  drain?(ws: ServerWebSocket<T>): void;
  /** A Ping frame arrived. */
  ping?(ws: ServerWebSocket<T>, data: Uint8Array): void;
  /** A Pong frame arrived. */
  pong?(ws: ServerWebSocket<T>, data: Uint8Array): void;
  /** The peer broke the protocol or the output limit was hit (close follows). */
  error?(ws: ServerWebSocket<T>, error: Error): void;
  /** `ws.publish` also reaches the publisher (default false). */
  publishToSelf?: boolean;
}

const HANDLER_KEYS: ReadonlySet<string> = optionKeys(Object.keys({
  open: true,
  message: true,
  close: true,
  drain: true,
  ping: true,
  pong: true,
  error: true,
  publishToSelf: true,
  protocols: true,
  perMessageDeflate: true,
  checkOrigin: true,
  maxPayloadLength: true,
  heartbeatMs: true,
  closeTimeoutMs: true,
  maxBufferedBytes: true,
} satisfies Record<keyof WebSocketHandler<unknown>, true>));

/** The callbacks of a {@link WebSocketHandler}, checked to be functions when given. */
const WS_CALLBACKS = ["open", "message", "close", "drain", "ping", "pong", "error", "checkOrigin"] as const;

const decoder = new TextDecoder();

/**
 * A server-side WebSocket of the Bun shape, given to the `websocket`
 * handlers.
 *
 * @example
 * ```ts ignore
 * const handler: WebSocketHandler<{ room: string }> = {
 *   open: (ws) => ws.subscribe(ws.data.room),
 *   message: (ws, message) => ws.publish(ws.data.room, message),
 * };
 * ```
 */
export class ServerWebSocket<T = undefined> {
  /** What `server.upgrade(request, { data })` attached. */
  data: T;
  /** The subprotocol agreed ("" for none). */
  readonly protocol: string;
  /** The extensions agreed ("" for none). */
  readonly extensions: string;
  /** The client's IP address. */
  readonly remoteAddress: string;
  readonly #channel: WebSocketChannel;
  readonly #hub: TopicHub<ServerWebSocket<T>>;
  readonly #publishToSelf: boolean;

  /** @internal Made by the server on upgrade. */
  constructor(channelFor: (ws: ServerWebSocket<T>) => WebSocketChannel, data: T, protocol: string, extensions: string, remoteAddress: string, hub: TopicHub<ServerWebSocket<T>>, publishToSelf: boolean) {
    this.data = data;
    this.protocol = protocol;
    this.extensions = extensions;
    this.remoteAddress = remoteAddress;
    this.#hub = hub;
    this.#publishToSelf = publishToSelf;
    this.#channel = channelFor(this);
  }

  /** 1 OPEN, 2 CLOSING, 3 CLOSED (WHATWG numbers). */
  get readyState(): number {
    const s = this.#channel.readyState;
    return s === "open" ? 1 : s === "closing" ? 2 : 3;
  }

  /**
   * Sends a message (a string is text). Returns the bytes of the message
   * when sent, -1 when it was queued past the high-water mark (backpressure:
   * wait for `drain`), 0 when dropped (the socket is closing, or this send
   * took the output past `maxBufferedBytes` and the peer was dropped, 1008).
   */
  send(message: string | Uint8Array | ArrayBuffer): number {
    if (this.#channel.readyState !== "open") return 0;
    const data = message instanceof ArrayBuffer ? new Uint8Array(message) : message;
    const below = this.#channel.send(data, typeof data !== "string");
    return below ? (typeof data === "string" ? data.length : data.length) : this.#notSent();
  }

  /** What a send that did not go below the high-water mark returns: -1 queued, 0 dropped with the connection. */
  #notSent(): number {
    return this.#channel.readyState === "closed" ? 0 : -1;
  }

  /** Sends a text message. */
  sendText(message: string): number {
    return this.send(String(message));
  }

  /** Sends a binary message. */
  sendBinary(message: Uint8Array | ArrayBuffer): number {
    return this.send(message instanceof ArrayBuffer ? new Uint8Array(message) : message);
  }

  /** Sends a ping (the pong arrives at the `pong` handler). */
  ping(data: string | Uint8Array = new Uint8Array(0)): number {
    if (this.#channel.readyState !== "open") return 0;
    return this.#channel.ping(data) ? 1 : this.#notSent();
  }

  /** Sends an unsolicited pong. */
  pong(data: string | Uint8Array = new Uint8Array(0)): number {
    if (this.#channel.readyState !== "open") return 0;
    return this.#channel.pong(data) ? 1 : this.#notSent();
  }

  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void {
    this.#channel.close(code, reason);
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.#channel.terminate();
  }

  /** Bytes queued for the peer. */
  getBufferedAmount(): number {
    return this.#channel.bufferedAmount;
  }

  /** Joins `topic`. */
  subscribe(topic: string): void {
    if (this.readyState === 1) this.#hub.subscribe(this, topic);
  }

  /** Leaves `topic`. */
  unsubscribe(topic: string): void {
    this.#hub.unsubscribe(this, topic);
  }

  /** Whether this socket is in `topic`. */
  isSubscribed(topic: string): boolean {
    return this.#hub.isSubscribed(this, topic);
  }

  /** The topics joined. */
  get subscriptions(): string[] {
    return this.#hub.topicsOf(this);
  }

  /** Sends `message` to the other subscribers of `topic`; returns how many got it. */
  publish(topic: string, message: string | Uint8Array | ArrayBuffer): number {
    const data = message instanceof ArrayBuffer ? new Uint8Array(message) : message;
    return this.#hub.publish(topic, data, this.#publishToSelf ? undefined : this);
  }
}

/** Options of `server.upgrade(request, options)`. */
export interface ServerUpgradeOptions<T> {
  /** Attached to the socket as `ws.data`. */
  data?: T;
  /** Extra fields of the `101` response (Set-Cookie…). */
  headers?: Readonly<Record<string, string>>;
}

interface PendingRequest {
  info: ServeHandlerInfo;
  response?: Response;
  refusal?: Response;
}

/** The requests of servers with a `websocket` option, while their handler runs. */
const pending = new WeakMap<Request, PendingRequest>();
/**
 * Requests already switched by `server.upgrade` or `upgradeWebSocket`: a
 * second upgrade of one request would answer it with a second 101 that
 * replaced the first (whose socket then never opened).
 */
const upgraded = new WeakSet<Request>();

function deflateOption(value: DeflateOptions | boolean | undefined): DeflateOptions | false {
  if (value === undefined || value === false) return false;
  return value === true ? {} : value;
}

function channelOptions(options: WebSocketServerOptions, deflate: ChannelOptions["deflate"]): ChannelOptions {
  return {
    role: "server",
    deflate,
    maxPayload: options.maxPayloadLength ?? 16 * 1024 * 1024,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.closeTimeoutMs } : {}),
    ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
  };
}

/** Runs the handshake checks; a refusal response, or the agreed upgrade with the `101`'s fields. */
function negotiate(request: Request, options: WebSocketServerOptions, extraHeaders: Readonly<Record<string, string>> | undefined):
  | { ok: false; response: Response }
  | { ok: true; result: Extract<UpgradeResult, { ok: true }>; headers: [string, string][] } {
  if (options.checkOrigin !== undefined && !options.checkOrigin(request.headers.get("origin"), request)) {
    return { ok: false, response: new Response("origin not allowed\n", { status: 403 }) };
  }
  const result = acceptUpgrade({ method: request.method, headers: request.headers }, {
    ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
    perMessageDeflate: deflateOption(options.perMessageDeflate),
    ...(extraHeaders !== undefined ? { headers: extraHeaders } : {}),
  });
  if (!result.ok) {
    // RFC 9110 §15.5.22: a 426 MUST name the protocol in Upgrade (with Connection: upgrade, §7.8);
    // §15.5.6: a 405 MUST have Allow.
    const extra: Record<string, string> = result.status === 426
      ? { "sec-websocket-version": "13", upgrade: "websocket", connection: "upgrade" }
      : result.status === 405
      ? { allow: "GET" }
      : {};
    return { ok: false, response: new Response(result.reason + "\n", { status: result.status, headers: extra }) };
  }
  const headers: [string, string][] = [];
  for (const line of result.response.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const lower = name.toLowerCase();
    if (lower === "upgrade" || lower === "connection") continue;
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { ok: true, result, headers };
}

/** What an agreed handshake hands to the socket, on either HTTP version. */
interface Agreed {
  protocol: string | undefined;
  deflate: PerMessageDeflate | undefined;
  /**
   * Starts the response: the `101`, or HTTP/2's `200`; `open` gets the
   * transport; `goingAway` is called when the server shuts down.
   */
  respond(open: (transport: WebSocketTransport, head: Uint8Array) => void, goingAway: () => void): Response;
}

function isH2(info: ServeHandlerInfo): info is H2HandlerInfo {
  return typeof (info as Partial<H2HandlerInfo>).openTunnel === "function";
}

/**
 * Whether an extended CONNECT's :protocol names WebSocket: an upgrade token,
 * which RFC 9110 §7.8 has recipients compare case-insensitively (as the
 * HTTP/1.1 Upgrade field's is).
 */
function isWebSocketProtocol(protocol: string): boolean {
  return protocol === "websocket" || protocol.toLowerCase() === "websocket";
}

/** Whether `info` belongs to a request that can become a WebSocket (an HTTP/1.1 upgrade or an RFC 8441 CONNECT). */
function canUpgrade(info: ServeHandlerInfo): boolean {
  return isH2(info) ? isWebSocketProtocol(info.connectProtocol) : info.upgrade !== undefined;
}

/** RFC 8441 §5: checks an extended CONNECT and agrees on subprotocol and extensions. */
function negotiateH2(request: Request, info: H2HandlerInfo, options: WebSocketServerOptions, extraHeaders: Readonly<Record<string, string>> | undefined):
  | { ok: false; response: Response }
  | { ok: true; agreed: Agreed } {
  if (options.checkOrigin !== undefined && !options.checkOrigin(request.headers.get("origin"), request)) {
    return { ok: false, response: new Response("origin not allowed\n", { status: 403 }) };
  }
  if (request.method !== "CONNECT" || !isWebSocketProtocol(info.connectProtocol)) return { ok: false, response: new Response("not a WebSocket CONNECT\n", { status: 400 }) };
  if (request.headers.get("sec-websocket-version")?.trim() !== "13") {
    return { ok: false, response: new Response("only Sec-WebSocket-Version 13 is supported\n", { status: 400, headers: { "sec-websocket-version": "13" } }) };
  }
  const offer = negotiateOffer(request.headers, { ...(options.protocols !== undefined ? { protocols: options.protocols } : {}), perMessageDeflate: deflateOption(options.perMessageDeflate) });
  if (typeof offer === "string") return { ok: false, response: new Response(offer + "\n", { status: 400 }) };
  const headers: [string, string][] = [];
  if (offer.protocol !== undefined) headers.push(["sec-websocket-protocol", offer.protocol]);
  if (offer.deflate !== undefined) headers.push(["sec-websocket-extensions", offer.deflate.responseHeader]);
  for (const [name, value] of Object.entries(extraHeaders ?? {})) headers.push([name, value]);
  return {
    ok: true,
    agreed: {
      protocol: offer.protocol,
      deflate: offer.deflate,
      respond: (open, goingAway) => info.openTunnel({ headers, open: (stream) => open(stream, new Uint8Array(0)), goingAway }),
    },
  };
}

/** The handshake on either HTTP version: a refusal, or what was agreed. */
function agree(request: Request, info: ServeHandlerInfo, options: WebSocketServerOptions, extraHeaders: Readonly<Record<string, string>> | undefined):
  | { ok: false; response: Response }
  | { ok: true; agreed: Agreed } {
  if (isH2(info)) return negotiateH2(request, info, options, extraHeaders);
  const h1 = negotiate(request, options, extraHeaders);
  if (!h1.ok) return h1;
  const { result, headers } = h1;
  return {
    ok: true,
    agreed: {
      protocol: result.protocol,
      deflate: result.deflate,
      // The 101 names websocket alone, whatever else the request's Upgrade listed (RFC 9110 §7.8).
      respond: (open, goingAway) => info.upgrade!({ headers, open, goingAway, protocol: "websocket" }),
    },
  };
}

function remoteIP(conn: WebSocketTransport): string {
  try {
    const a = conn.remoteAddress as unknown as { address?: string; hostname?: string };
    return a.address ?? a.hostname ?? "";
  } catch {
    return "";
  }
}

/**
 * @internal What `serve` keeps for its `websocket` option: wraps `fetch`
 * so `server.upgrade(request)` can find the request's connection, and
 * holds the topics of `server.publish`.
 *
 * @example
 * ```ts ignore
 * const support = new WebSocketSupport({ message: (ws, m) => ws.send(m) });
 * const fetch = support.wrap((request) => support.upgrade(request) ? undefined : new Response("no"));
 * ```
 */
export class WebSocketSupport<T = unknown> {
  readonly handler: WebSocketHandler<T>;
  readonly hub: TopicHub<ServerWebSocket<T>> = new TopicHub();
  readonly #report: ((error: unknown) => void) | undefined;

  /**
   * `report` gets what a handler throws once its connection was failed for
   * it (Close 1011); without it the error is rethrown into the loop.
   */
  constructor(handler: WebSocketHandler<T>, report?: (error: unknown) => void) {
    checkOptions(handler, HANDLER_KEYS, "serve: websocket");
    // A callback that is not a function would throw from inside the loop at its first event.
    for (const name of WS_CALLBACKS) {
      const f = (handler as unknown as Record<string, unknown>)[name];
      if (f !== undefined && typeof f !== "function") throw new TypeError(`serve: websocket.${name} must be a function`);
    }
    // Likewise a bad limit: each upgrade would fail after its 101 (or a NaN bound never bound).
    checkWebSocketLimit(handler.maxPayloadLength, "serve: websocket.maxPayloadLength", false);
    checkWebSocketLimit(handler.heartbeatMs, "serve: websocket.heartbeatMs", true);
    checkWebSocketLimit(handler.closeTimeoutMs, "serve: websocket.closeTimeoutMs", true);
    checkWebSocketLimit(handler.maxBufferedBytes, "serve: websocket.maxBufferedBytes", false);
    this.handler = handler;
    this.#report = report;
  }

  /** The handler `serve` runs: records each request, answers with the upgrade's `101` when `upgrade` took it. */
  wrap(fetch: (request: Request, info: ServeHandlerInfo) => Response | undefined | Promise<Response | undefined>): ServeHandler {
    const handler: ServeHandler = (request, info) => {
      const entry: PendingRequest = { info };
      pending.set(request, entry);
      const answer = (response: Response | undefined): Response => {
        pending.delete(request);
        if (entry.response !== undefined) return entry.response;
        if (response !== undefined) return response;
        return entry.refusal ?? new Response("the handler returned no response\n", { status: 500 });
      };
      const result = fetch(request, info);
      if (result instanceof Promise) return result.then(answer, (err) => {
        pending.delete(request);
        throw err;
      });
      return answer(result);
    };
    EXTENDED_CONNECT_HANDLERS.add(handler); // its HTTP/2 sessions take extended CONNECT
    return handler;
  }

  /** Bun's `server.upgrade`: true when `request` is switched (return nothing from `fetch` then); false once it was switched already or answered. */
  upgrade(request: Request, options: ServerUpgradeOptions<T> = {}): boolean {
    const entry = pending.get(request);
    if (entry === undefined || entry.response !== undefined || upgraded.has(request) || !canUpgrade(entry.info)) return false;
    const handler = this.handler;
    const outcome = agree(request, entry.info, handler, options.headers);
    if (!outcome.ok) {
      entry.refusal = outcome.response;
      return false;
    }
    // The session will not switch this request (HTTP/1.0: RFC 9110 §7.8 has the server ignore its Upgrade): a refusal, not a 500.
    if (!isH2(entry.info) && !canSwitchProtocols(entry.info)) {
      entry.refusal = new Response("this request cannot be upgraded (a WebSocket needs HTTP/1.1)\n", { status: 400, headers: { connection: "close" } });
      return false;
    }
    const result = outcome.agreed;
    const hub = this.hub;
    const data = options.data as T;
    let channel: WebSocketChannel | undefined;
    const opened = (conn: WebSocketTransport, head: Uint8Array): void => {
        const ws = new ServerWebSocket<T>((self) =>
          channel = new WebSocketChannel(conn, new Uint8Array(0), { ...channelOptions(handler, result.deflate), onHandlerError: this.#report }, {
            // The channel's bytes are valid during the call only: the
            // handlers get copies of their own.
            message: (bytes, binary) => handler.message?.(self, binary ? bytes.slice() : decoder.decode(bytes)),
            ping: handler.ping === undefined ? undefined : (bytes) => handler.ping!(self, bytes.slice()),
            pong: handler.pong === undefined ? undefined : (bytes) => handler.pong!(self, bytes.slice()),
            drain: () => handler.drain?.(self),
            error: (error) => handler.error?.(self, error),
            close: (code, reason) => {
              hub.leaveAll(self);
              handler.close?.(self, code, reason);
            },
          }), data, result.protocol ?? "", result.deflate?.responseHeader ?? "", remoteIP(conn), hub, handler.publishToSelf ?? false);
        handler.open?.(ws);
        if (head.length > 0) channel!.feed(head);
    };
    // serve's shutdown: Close 1001 Going Away (RFC 6455 §7.4.1), the client then has until the deadline to answer.
    entry.response = result.respond(opened, () => channel?.close(1001, "server shutting down"));
    upgraded.add(request);
    return true;
  }

  /** `server.publish`: sends to every subscriber of `topic`; returns how many got it. */
  publish(topic: string, message: string | Uint8Array | ArrayBuffer): number {
    return this.hub.publish(topic, message instanceof ArrayBuffer ? new Uint8Array(message) : message);
  }

  /** How many sockets subscribe to `topic`. */
  subscriberCount(topic: string): number {
    return this.hub.subscriberCount(topic);
  }
}

/** Options of {@link upgradeWebSocket} (Deno's, plus ffinet's limits). */
export interface UpgradeWebSocketOptions extends WebSocketServerOptions {
  /** The subprotocol to answer with (Deno's option); must be one the client offered. */
  protocol?: string;
  /** The request's `info` (the handler's second argument); needed unless the server has a `websocket` option. */
  info?: ServeHandlerInfo;
  /** Extra fields of the `101` response. */
  headers?: Readonly<Record<string, string>>;
}

const UPGRADE_KEYS: ReadonlySet<string> = optionKeys(Object.keys({
  protocol: true,
  info: true,
  headers: true,
  protocols: true,
  perMessageDeflate: true,
  checkOrigin: true,
  maxPayloadLength: true,
  heartbeatMs: true,
  closeTimeoutMs: true,
  maxBufferedBytes: true,
} satisfies Record<keyof UpgradeWebSocketOptions, true>));

/**
 * Deno's `upgradeWebSocket`: returns a WHATWG `WebSocket` that opens once
 * `response` (which the handler must return) is written. Throws a
 * `TypeError` for a request that is not a valid WebSocket upgrade (or
 * whose connection cannot be found), or that was upgraded already.
 *
 * @example
 * ```ts ignore
 * import { serve } from "../http/server/serve.ts";
 * import { upgradeWebSocket } from "./server.ts";
 * serve({ port: 0, fetch: (request, info) => {
 *   const { socket, response } = upgradeWebSocket(request, { info });
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * } });
 * ```
 */
export function upgradeWebSocket(request: Request, options: UpgradeWebSocketOptions = {}): { socket: WebSocket; response: Response } {
  checkOptions(options, UPGRADE_KEYS, "upgradeWebSocket");
  if (upgraded.has(request)) throw new TypeError("upgradeWebSocket: the request was upgraded already");
  const info = options.info ?? pending.get(request)?.info;
  if (info === undefined || !canUpgrade(info)) {
    throw new TypeError("upgradeWebSocket: pass { info } (the handler's second argument), or serve with a websocket option; over HTTP/2 only an extended CONNECT (:protocol websocket) can become a WebSocket");
  }
  const protocols = options.protocol !== undefined ? [options.protocol] : options.protocols;
  const outcome = agree(request, info, { ...options, ...(protocols !== undefined ? { protocols } : {}) }, options.headers);
  if (!outcome.ok) throw new TypeError(`upgradeWebSocket: not a valid WebSocket upgrade (${outcome.response.status})`);
  const result = outcome.agreed;
  const socket = WebSocket.serverSide();
  const response = result.respond(
    (conn, head) => socket.attachConnection(conn, head, channelOptions(options, result.deflate), result.protocol ?? "", result.deflate?.responseHeader ?? ""),
    () => socket.goingAway(),
  );
  const entry = pending.get(request);
  if (entry !== undefined) entry.response = response;
  upgraded.add(request);
  return { socket, response };
}
