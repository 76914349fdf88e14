/**
 * The WHATWG `WebSocket` on ffinet's connections: the browser's API
 * (`open`/`message`/`error`/`close` events and `on…` properties,
 * `binaryType`, `bufferedAmount`, `protocol`, `extensions`, `readyState`,
 * `close(code, reason)`), a `bufferedamountlow` event when queued output
 * falls back below the high-water mark, plus what the runtimes' clients add as options:
 * request headers, TLS settings for `wss:`, a proxy, permessage-deflate,
 * a heartbeat. The server's `upgradeWebSocket` hands out the same class.
 *
 * @example
 * ```ts ignore
 * import { WebSocket } from "./websocket.ts";
 * const ws = new WebSocket("ws://127.0.0.1:8080/", ["chat"]);
 * ws.onopen = () => ws.send("hello");
 * ws.onmessage = (event) => { console.log(event.data); ws.close(1000, "done"); };
 * ```
 *
 * @module
 */
import { type ChannelOptions, checkChannelLimits, WebSocketChannel } from "./channel.ts";
import { type DialOptions, dialWebSocket, webSocketURL } from "./dial.ts";
import type { WebSocketTransport } from "./transport.ts";

/** Options of the {@link WebSocket} constructor beyond the browser's (the second argument may be this object). */
export interface WebSocketInit extends DialOptions {
  /** Ping every this many ms and drop a silent peer (default off). */
  heartbeatMs?: number;
  /** Largest message accepted (default 64 MiB); larger closes with 1009. */
  maxPayload?: number;
  /** Queued output past which a peer that does not read is dropped (1008). */
  maxBufferedBytes?: number;
  /** How long the peer has to answer our Close (default 5000 ms). */
  closeTimeoutMs?: number;
}

/** The UTF-8 length of `s` (lone surrogates count as U+FFFD's three bytes, as TextEncoder writes them). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 4 bytes for 2 code units
      i++;
    } else n += 2;
  }
  return n;
}

/**
 * `send()`'s argument as WebIDL converts it: a `Blob`, an `ArrayBuffer`
 * (a shared one too) or a view as it is, anything else as a string
 * (`send(123)` sends the text "123", as browsers and undici do; a Symbol
 * is a TypeError).
 */
function sendData(data: unknown): string | ArrayBufferLike | ArrayBufferView | Blob {
  if (typeof data === "string") return data;
  if (typeof data === "object" && data !== null) {
    if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer || typeof Blob !== "undefined" && data instanceof Blob) return data;
    // By tag, so a buffer from another realm (a Worker's, a vm context's) is one too.
    const tag = Object.prototype.toString.call(data);
    if (tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]") return data as ArrayBufferLike;
  }
  return `${data as string}`;
}

/**
 * The `close` event of a {@link WebSocket} (as the runtimes' `CloseEvent`;
 * Node before 23 has no global one).
 *
 * @example
 * ```ts
 * import { WebSocketCloseEvent } from "./websocket.ts";
 * const e = new WebSocketCloseEvent("close", { code: 1000, reason: "bye", wasClean: true });
 * console.log(e.code, e.reason, e.wasClean); // 1000 "bye" true
 * ```
 */
export class WebSocketCloseEvent extends Event {
  /** The close code of the connection (0 when not given). */
  readonly code: number;
  /** The close reason sent by the peer ("" when none). */
  readonly reason: string;
  /** True when the closing handshake completed. */
  readonly wasClean: boolean;
  /** Creates a close event of `type` with the given code, reason and wasClean (defaults 0, "" and false). */
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? "";
    this.wasClean = init.wasClean ?? false;
  }
}

/** The `error` event: `error` is what failed (ffinet's typed error). */
class WebSocketErrorEvent extends Event {
  readonly error: unknown;
  readonly message: string;
  constructor(error: unknown) {
    super("error");
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

const decoder = new TextDecoder();
// RFC 6455 §4.1: a subprotocol is an RFC 7230 token.
const PROTOCOL_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** WebIDL's [Clamp] unsigned short: NaN is 0, the rest clamped to 0-65535 and rounded half to even. */
function clampUnsignedShort(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const x = Math.min(Math.max(n, 0), 65535);
  const f = Math.floor(x);
  const rest = x - f;
  return rest > 0.5 || (rest === 0.5 && f % 2 === 1) ? f + 1 : f;
}
const SERVER_SIDE: unique symbol = Symbol("ffinet.ws.serverSide");

/**
 * An `on*` event handler property of a {@link WebSocket}: called with the socket as `this`, or null for none.
 *
 * @example
 * ```ts
 * import type { Handler } from "./websocket.ts";
 * const onOpen: Handler<Event> = (event) => console.log(event.type);
 * ```
 */
export type Handler<E extends Event> = ((this: WebSocket, event: E) => unknown) | null;

/**
 * A WebSocket with the WHATWG API. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { WebSocket } from "./websocket.ts";
 * const ws = new WebSocket("wss://localhost:8443/", { tls: { ca }, headers: { authorization: "Bearer x" } });
 * ws.binaryType = "arraybuffer";
 * ws.addEventListener("message", (e) => console.log((e as MessageEvent).data));
 * ```
 */
export class WebSocket extends EventTarget {
  /** readyState while the handshake is in progress (0). */
  static readonly CONNECTING = 0;
  /** readyState once open (1). */
  static readonly OPEN = 1;
  /** readyState while closing (2). */
  static readonly CLOSING = 2;
  /** readyState once closed (3). */
  static readonly CLOSED = 3;
  /** readyState while the handshake is in progress (0). */
  readonly CONNECTING = 0;
  /** readyState once open (1). */
  readonly OPEN = 1;
  /** readyState while closing (2). */
  readonly CLOSING = 2;
  /** readyState once closed (3). */
  readonly CLOSED = 3;

  /** The URL the connection was opened to, serialized. */
  readonly url: string;
  #state = 0;
  #protocol = "";
  #extensions = "";
  #binaryType: "blob" | "arraybuffer" = "blob";
  #channel: WebSocketChannel | undefined;
  #abandon: AbortController | undefined;
  #pendingClose: { code?: number | undefined; reason: string } | undefined;
  #sendChain: Promise<void> | undefined;
  /** Bytes of the sends made after close() began (see bufferedAmount). */
  #dropped = 0;
  /** The `on*` handlers set, by event type, each with the listener that calls it (see #setHandler). */
  #handlers = new Map<string, { handler: NonNullable<Handler<Event>>; listener: EventListener }>();

  /** Called on the `open` event. */
  get onopen(): Handler<Event> {
    return this.#getHandler("open");
  }
  set onopen(handler: Handler<Event>) {
    this.#setHandler("open", handler);
  }
  /** Called on each `message` event. */
  get onmessage(): Handler<MessageEvent> {
    return this.#getHandler("message") as Handler<MessageEvent>;
  }
  set onmessage(handler: Handler<MessageEvent>) {
    this.#setHandler("message", handler as Handler<Event>);
  }
  /** Called on the `error` event. */
  get onerror(): Handler<Event> {
    return this.#getHandler("error");
  }
  set onerror(handler: Handler<Event>) {
    this.#setHandler("error", handler);
  }
  /** Called on the `close` event. */
  get onclose(): Handler<WebSocketCloseEvent> {
    return this.#getHandler("close") as Handler<WebSocketCloseEvent>;
  }
  set onclose(handler: Handler<WebSocketCloseEvent>) {
    this.#setHandler("close", handler as Handler<Event>);
  }
  /**
   * ffinet's addition: the `bufferedamountlow` event, fired when
   * `bufferedAmount` falls back below the connection's high-water mark
   * after a `send` pushed it past (the signal to send more; as
   * RTCDataChannel's event of that name).
   */
  get onbufferedamountlow(): Handler<Event> {
    return this.#getHandler("bufferedamountlow");
  }
  set onbufferedamountlow(handler: Handler<Event>) {
    this.#setHandler("bufferedamountlow", handler);
  }

  #getHandler(type: string): Handler<Event> {
    return this.#handlers.get(type)?.handler ?? null;
  }

  // An event handler as HTML defines one: a value that is not an object
  // is null ([LegacyTreatNonObjectAsNull]); the first non-null value adds
  // one listener, in order with addEventListener's, which calls whatever
  // handler is set when the event comes; null removes it, and setting one
  // again later adds it at the end.
  #setHandler(type: string, handler: unknown): void {
    const value = (typeof handler === "object" || typeof handler === "function") && handler !== null ? handler as NonNullable<Handler<Event>> : null;
    const entry = this.#handlers.get(type);
    if (value === null) {
      if (entry !== undefined) {
        this.removeEventListener(type, entry.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    if (entry !== undefined) {
      entry.handler = value;
      return;
    }
    const added: { handler: NonNullable<Handler<Event>>; listener: EventListener } = {
      handler: value,
      listener: (event) => this.#callHandler(added.handler, event as Event),
    };
    this.#handlers.set(type, added);
    this.addEventListener(type, added.listener);
  }

  #callHandler(handler: NonNullable<Handler<Event>>, event: Event): void {
    // A handler that is an object but not callable throws when called, as in browsers: reported, never thrown into the loop.
    try {
      if (typeof handler !== "function") throw new TypeError(`the on${event.type} handler is not a function`);
      handler.call(this, event);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Opens a WebSocket to `url` (ws: or wss:), offering `protocols` (or, ffinet's addition, a WebSocketInit with options); the handshake runs in the background. */
  constructor(url: string | URL, protocols?: string | readonly string[] | WebSocketInit) {
    super();
    if ((url as unknown) === SERVER_SIDE) {
      this.url = "";
      return;
    }
    // WebIDL: `url` is a required argument (a TypeError, not the SyntaxError of a URL that does not parse).
    if (arguments.length === 0) throw new TypeError("WebSocket: 1 argument required, but only 0 present");
    let parsed: URL;
    try {
      parsed = webSocketURL(url);
    } catch (err) {
      // WHATWG WebSockets §3, steps 1-4: a "SyntaxError" DOMException.
      throw new DOMException((err as Error).message, "SyntaxError");
    }
    this.url = parsed.href;
    const init: WebSocketInit = typeof protocols === "string"
      ? { protocols: [protocols] }
      : Array.isArray(protocols)
      ? { protocols: protocols as readonly string[] }
      : (protocols as WebSocketInit | undefined) ?? {};
    const { heartbeatMs, maxPayload, maxBufferedBytes, closeTimeoutMs, ...dial } = init;
    // WHATWG WebSockets §3 (the constructor), step 8: subprotocols are
    // checked here, synchronously (a SyntaxError), not by a failed dial.
    const offered = dial.protocols ?? [];
    for (const p of offered) {
      if (!PROTOCOL_TOKEN.test(p)) throw new DOMException(`invalid subprotocol ${JSON.stringify(p)}`, "SyntaxError");
    }
    if (new Set(offered).size !== offered.length) throw new DOMException("subprotocols must be unique", "SyntaxError");
    // Bad limits too, before a dial whose connection they would fail.
    checkChannelLimits({ heartbeatMs, closeTimeoutMs, maxBufferedBytes, maxPayload });
    // close() while connecting fails the connection at once (WHATWG
    // WebSockets §3 close(), step 4): the dial is aborted, never opened.
    const abandon = this.#abandon = new AbortController();
    const dialOptions = { ...dial, signal: dial.signal === undefined ? abandon.signal : AbortSignal.any([dial.signal, abandon.signal]) };
    dialWebSocket(parsed, dialOptions).then((d) => {
      this.#abandon = undefined;
      if (this.#state !== 0) {
        // close() came first: fail the connection (error, then close 1006; no open).
        d.conn.abort();
        d.deflate?.close();
        return this.#failConnecting(new DOMException("the WebSocket was closed before the connection was established", "AbortError"));
      }
      this.#protocol = d.protocol;
      this.#extensions = d.extensions;
      this.attachConnection(d.conn, d.head, {
        role: "client",
        deflate: d.deflate,
        ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
        ...(maxPayload !== undefined ? { maxPayload } : {}),
        ...(maxBufferedBytes !== undefined ? { maxBufferedBytes } : {}),
        ...(closeTimeoutMs !== undefined ? { closeTimeoutMs } : {}),
      });
    }, (err: unknown) => {
      this.#abandon = undefined;
      this.#failConnecting(err);
    });
  }

  /** The handshake failed or was abandoned: error, then close 1006 (not clean). */
  #failConnecting(err: unknown): void {
    if (this.#state === 3) return;
    this.#state = 3;
    this.#fire(new WebSocketErrorEvent(err));
    this.#fire(new WebSocketCloseEvent("close", { code: 1006, reason: "", wasClean: false }));
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get readyState(): number {
    return this.#state;
  }

  /** The subprotocol the server chose ("" for none). */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions the server accepted ("" for none). */
  get extensions(): string {
    return this.#extensions;
  }

  /**
   * Bytes sent but not yet taken by the kernel, plus the bytes of every
   * send after `close()` began (dropped, and counted as the WebSockets
   * Standard says, so a sender that watches it sees its data is not going).
   */
  get bufferedAmount(): number {
    return (this.#channel?.bufferedAmount ?? 0) + this.#dropped;
  }

  /** How binary messages arrive: "blob" (default) or "arraybuffer". */
  get binaryType(): "blob" | "arraybuffer" {
    return this.#binaryType;
  }

  set binaryType(value: "blob" | "arraybuffer") {
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  /** Sends a message; a `Blob` is sent in order once read, anything not bytes as its string. Throws `InvalidStateError` while connecting. */
  send(value: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    // WebIDL: `data` is a required argument (send() with none was sent as the text "undefined").
    if (arguments.length === 0) throw new TypeError("WebSocket.send: 1 argument required, but only 0 present");
    const data = sendData(value);
    if (this.#state === 0) throw new DOMException("the WebSocket is still connecting", "InvalidStateError");
    if (this.#state !== 1) {
      // Closing or closed: dropped, as browsers do, and counted in bufferedAmount.
      if (typeof data === "string") this.#dropped += utf8Length(data);
      else if (typeof Blob !== "undefined" && data instanceof Blob) this.#dropped += data.size;
      else this.#dropped += (data as ArrayBufferLike | ArrayBufferView).byteLength;
      return;
    }
    if (typeof Blob !== "undefined" && data instanceof Blob) {
      const chain = (this.#sendChain ?? Promise.resolve()).then(() => data.arrayBuffer()).then((buffer) => {
        if (this.#state === 1) this.#channel!.send(new Uint8Array(buffer), true);
      });
      this.#sendChain = chain;
      void chain.finally(() => {
        if (this.#sendChain === chain) this.#sendChain = undefined;
      });
      return;
    }
    const bytes = typeof data === "string"
      ? data
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data as ArrayBufferLike);
    if (this.#sendChain !== undefined) {
      const chain = this.#sendChain.then(() => {
        if (this.#state === 1) this.#channel!.send(bytes, typeof bytes !== "string");
      });
      this.#sendChain = chain;
      return;
    }
    this.#channel!.send(bytes, typeof bytes !== "string");
  }

  /**
   * Starts the closing handshake (`code` 1000 or 3000–4999; `reason` at
   * most 123 UTF-8 bytes). A reason without a code is sent with 1000, as
   * the WebSockets Standard says; neither sends an empty Close. While
   * connecting it abandons the handshake: no `open`, then `error` and
   * `close` with 1006, as browsers do.
   */
  close(code?: number, reason = ""): void {
    // WebIDL: code is an [Clamp] unsigned short, reason a USVString.
    if (code !== undefined) code = clampUnsignedShort(code);
    reason = String(reason);
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`close code must be 1000 or in 3000-4999, got ${code}`, "InvalidAccessError");
    }
    if (new TextEncoder().encode(reason).length > 123) throw new DOMException("close reason over 123 bytes", "SyntaxError");
    if (this.#state >= 2) return;
    if (this.#state === 0 && this.#channel === undefined) {
      this.#state = 2;
      // A client abandons its dial; a server-side socket (its 101 not yet
      // written) opens and then closes with this code.
      if (this.#abandon !== undefined) this.#abandon.abort();
      else this.#pendingClose = { code, reason };
      return;
    }
    this.#state = 2;
    this.#channel!.close(code, reason);
  }

  /** @internal Server side: the server shuts down; an open socket starts the closing handshake with 1001 Going Away. */
  goingAway(): void {
    if (this.#state !== 1) return;
    this.#state = 2;
    this.#channel!.close(1001, "server shutting down");
  }

  /** @internal Server side: a socket not yet open, for `upgradeWebSocket`. */
  static serverSide(): WebSocket {
    return new WebSocket(SERVER_SIDE as unknown as string);
  }

  /** @internal Runs this socket over `conn` (after the handshake) and fires `open`. */
  attachConnection(conn: WebSocketTransport, head: Uint8Array, options: ChannelOptions, protocol?: string, extensions?: string): void {
    if (protocol !== undefined) this.#protocol = protocol;
    if (extensions !== undefined) this.#extensions = extensions;
    const pending = this.#pendingClose;
    this.#channel = new WebSocketChannel(conn, new Uint8Array(0), options, {
      message: (data, binary) => {
        let payload: string | ArrayBuffer | Blob;
        if (!binary) payload = decoder.decode(data);
        // The channel's bytes are valid during the call only: a copy.
        else if (this.#binaryType === "arraybuffer") payload = data.slice().buffer as ArrayBuffer;
        else payload = new Blob([data as Uint8Array<ArrayBuffer>]);
        this.#fire(new MessageEvent("message", { data: payload, origin: this.url === "" ? "" : new URL(this.url).origin }));
      },
      error: (error) => this.#fire(new WebSocketErrorEvent(error)),
      drain: () => this.#fire(new Event("bufferedamountlow")),
      close: (_code, reason, wasClean, peerCode) => {
        this.#state = 3;
        // The WHATWG close event carries the connection's close code (RFC
        // 6455 §7.1.5): the code of the Close frame received, 1006 when
        // none came, also when this side failed the connection (a
        // protocol error, invalid UTF-8, a message too big, a peer that
        // does not read), as browsers and undici report it; the error
        // event before it has the reason.
        this.#fire(new WebSocketCloseEvent("close", peerCode === undefined ? { code: 1006, reason: "", wasClean: false } : { code: peerCode, reason, wasClean }));
      },
    });
    this.#state = 1;
    this.#fire(new Event("open"));
    if (pending !== undefined) {
      this.#state = 2;
      this.#channel.close(pending.code, pending.reason);
    }
    if (head.length > 0) this.#channel.feed(head);
  }

  #fire(event: Event): void {
    this.dispatchEvent(event);
  }
}
