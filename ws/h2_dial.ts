/**
 * The client side of WebSocket over HTTP/2 (RFC 8441): on a connection
 * that speaks HTTP/2 (ALPN `h2` over TLS, or prior knowledge over
 * cleartext), wait for the server's SETTINGS; when it announced
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, open a stream with an extended CONNECT
 * (`:protocol websocket`, `sec-websocket-version: 13`, the offered
 * subprotocols and extensions) and, on `200`, hand the stream back as the
 * WebSocket's transport (h2_stream.ts).
 *
 * One connection carries many WebSockets: a session that announced the
 * setting is kept under a share key (scheme, host, port and the very
 * `tls` and `proxy` objects the dial was given, see {@link h2ShareKey}),
 * and later dials to the same key open their streams on it
 * ({@link dialSharedH2}) while the peer's MAX_CONCURRENT_STREAMS, GOAWAY
 * and stream ids allow. Dials that start while the first one is still
 * setting the session up wait for it instead of opening their own
 * connection. A stream's refusal or abort resets that stream only; the
 * connection ends (GOAWAY, FIN) when its last WebSocket does.
 *
 * When the server did not announce the setting, {@link dialOverH2}
 * resolves to null (the connection is closed) and the caller falls back
 * to HTTP/1.1's Upgrade (dial.ts).
 *
 * @example
 * ```ts ignore
 * import { connect } from "../poll/connect.ts";
 * import { dialOverH2 } from "./h2_dial.ts";
 * const conn = await connect({ host: "127.0.0.1", port: 8080 });
 * const dialed = await dialOverH2(conn, new URL("ws://127.0.0.1:8080/chat"), {}, AbortSignal.timeout(5000));
 * ```
 *
 * @module
 */
import { HTTPError, SocketClosedError } from "../core/errors.ts";
import { H2Connection } from "../http/h2/connection.ts";
import { ErrorCode } from "../http/h2/constants.ts";
import type { H2Event } from "../http/h2/events.ts";
import type { Connection } from "../poll/connection.ts";
import { PerMessageDeflate } from "./deflate.ts";
import type { DialOptions, DialResult } from "./dial.ts";
import { checkAnswer } from "./handshake.ts";
import { type H2StreamHost, H2StreamTransport } from "./h2_stream.ts";

/** Request fields HTTP/2 forbids or that extended CONNECT replaces (RFC 9113 §8.2.2, RFC 8441 §5). */
const SKIPPED = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "sec-websocket-key", "te"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** How long a closing connection waits for the server's FIN before closing anyway. */
const LINGER_MS = 2000;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

type Answer = { status: number; headers: Headers };

/** One extended CONNECT stream of a session: its answer, then its transport. */
interface StreamSlot {
  tunnel: H2StreamTransport | undefined;
  /** DATA of the stream that came with the `200`, before the transport existed. */
  early: { data: Uint8Array; end: boolean }[];
  response: Waiter<Answer> | undefined;
}

/** Sessions that announced SETTINGS_ENABLE_CONNECT_PROTOCOL, by share key. */
const sessions = new Map<string, H2TunnelClient>();
/** Share keys whose first dial is still setting a session up: later dials wait for it. */
const settingUp = new Map<string, Promise<void>>();

/** One client HTTP/2 connection carrying WebSocket streams. */
class H2TunnelClient implements H2StreamHost {
  readonly conn: Connection;
  readonly h2: H2Connection;
  readonly streams = new Map<number, StreamSlot>();
  settings: Waiter<void> | undefined;
  /** The key this session is shared under, once it is. */
  shareKey: string | undefined;
  #flushScheduled = false;
  #writable = true;
  #gone = false;

  constructor(conn: Connection) {
    this.conn = conn;
    this.h2 = new H2Connection({ role: "client", autoWindowUpdate: false, settings: { enablePush: false } });
    conn.setHandler({
      data: (_c, bytes) => this.#receive(bytes),
      drain: () => {
        this.#writable = true;
        this.flush();
      },
      end: () => void conn.close(),
      close: (_c, error) => this.#closed(error),
    });
    this.flush();
  }

  get loop(): Connection["loop"] {
    return this.conn.loop;
  }

  get remoteAddress(): Connection["remoteAddress"] {
    return this.conn.remoteAddress;
  }

  /** Whether another WebSocket stream may be opened on this session now. */
  get usable(): boolean {
    return !this.#gone && !this.conn.closed && this.h2.remoteSettings.enableConnectProtocol && this.h2.canOpenStream();
  }

  write(id: number, bytes: Uint8Array, endStream: boolean): void {
    this.h2.sendData(id, bytes, endStream);
    this.scheduleFlush();
  }

  queued(id: number): number {
    return this.h2.dead ? 0 : this.h2.queuedData(id);
  }

  consume(id: number, n: number): void {
    if (this.h2.dead) return;
    try {
      this.h2.consume(id, n);
    } catch {
      return; // the stream is gone
    }
    this.scheduleFlush();
  }

  reset(id: number, code: number): void {
    if (this.h2.dead) return;
    try {
      this.h2.reset(id, code);
    } catch {
      // gone already
    }
    this.scheduleFlush();
  }

  release(id: number): void {
    this.streams.delete(id);
    if (this.streams.size === 0) this.shutdown();
  }

  /** Stops sharing; GOAWAY, then FIN once it is written. */
  shutdown(): void {
    this.#unshare();
    if (this.#gone) return;
    this.#gone = true;
    if (!this.h2.dead) {
      try {
        this.h2.goaway(ErrorCode.NO_ERROR);
      } catch {
        // dead
      }
    }
    this.flush();
    const conn = this.conn;
    if (conn.closed) return;
    // FIN, then wait for the server's (reading what it still sends, so no reset), bounded by a linger.
    void conn.end().then(() => {
      if (conn.closed) return;
      const t = conn.loop.timers.once(LINGER_MS, () => void conn.close()).unref();
      void conn.whenClosed.then(() => t.cancel());
    }, () => conn.abort());
  }

  /** Opens an extended CONNECT stream; its answer settles `response`. */
  open(fields: string[], response: Waiter<Answer>): number {
    const id = this.h2.request(fields, false);
    this.streams.set(id, { tunnel: undefined, early: [], response });
    this.flush();
    return id;
  }

  /** A stream that will not become a WebSocket: reset it and let go. */
  cancel(id: number): void {
    if (!this.streams.has(id)) return;
    this.reset(id, ErrorCode.CANCEL);
    this.release(id);
  }

  /** The stream's `200` was accepted: its transport takes the DATA from now on. */
  attach(id: number): H2StreamTransport {
    const slot = this.streams.get(id)!;
    const tunnel = new H2StreamTransport(this, id);
    slot.tunnel = tunnel;
    for (const { data, end } of slot.early.splice(0)) tunnel.onData(data, end);
    return tunnel;
  }

  scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  flush(): void {
    const conn = this.conn;
    if (conn.closed) return;
    while (this.#writable && this.h2.wantsWrite) {
      const out = this.h2.pull(256 * 1024);
      if (out.length === 0) break;
      try {
        if (!conn.send(out)) this.#writable = false;
      } catch {
        break;
      }
    }
    for (const slot of this.streams.values()) slot.tunnel?.onFlushed();
    if (this.h2.dead && !this.#gone) {
      this.#gone = true;
      this.#unshare();
      void conn.close();
    }
  }

  /** Bytes that came before the handler (buffered for `read()`). */
  feed(bytes: Uint8Array): void {
    this.#receive(bytes);
  }

  #unshare(): void {
    const key = this.shareKey;
    if (key !== undefined && sessions.get(key) === this) sessions.delete(key);
    this.shareKey = undefined;
  }

  #receive(bytes: Uint8Array): void {
    const events = this.h2.receive(bytes);
    for (let i = 0; i < events.length; i++) this.#event(events[i]!);
    this.flush();
  }

  #event(e: H2Event): void {
    switch (e.type) {
      case "settings": {
        const w = this.settings;
        this.settings = undefined;
        w?.resolve();
        return;
      }
      case "goaway":
        this.#unshare(); // streams below lastStreamId go on; no new ones here
        return;
      case "headers": {
        const slot = this.streams.get(e.streamId);
        if (slot === undefined || slot.response === undefined) return;
        let status = 0;
        const headers = new Headers();
        for (let i = 0; i < e.headers.length; i += 2) {
          const name = e.headers[i]!;
          if (name === ":status") status = Number(e.headers[i + 1]);
          else if (name.charCodeAt(0) !== 0x3a) {
            try {
              headers.append(name, e.headers[i + 1]!);
            } catch {
              // a value Headers refuses
            }
          }
        }
        if (status >= 100 && status < 200) return; // informational
        const w = slot.response;
        slot.response = undefined;
        w.resolve({ status, headers });
        return;
      }
      case "data": {
        const slot = this.streams.get(e.streamId);
        if (slot === undefined) return;
        if (slot.tunnel !== undefined) slot.tunnel.onData(e.data, e.endStream);
        else slot.early.push({ data: e.data.slice(), end: e.endStream });
        return;
      }
      case "rst":
      case "stream-error": {
        const slot = this.streams.get(e.streamId);
        if (slot === undefined) return;
        const code = e.type === "rst" ? e.code : e.error.http2Code;
        if (slot.tunnel !== undefined) return slot.tunnel.onReset(code);
        const w = slot.response;
        slot.response = undefined;
        w?.reject(new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: the server reset the stream (HTTP/2 error ${code})`));
        return;
      }
      case "error":
        this.#unshare();
        this.#fail(e.error);
        return;
      default:
        return;
    }
  }

  /** Rejects every wait on this session. */
  #fail(error: Error): void {
    const s = this.settings;
    this.settings = undefined;
    s?.reject(error);
    for (const slot of this.streams.values()) {
      const r = slot.response;
      slot.response = undefined;
      r?.reject(error);
    }
  }

  #closed(error: Error | undefined): void {
    this.#gone = true;
    this.#unshare();
    this.#fail(error ?? new SocketClosedError("ECONNRESET", "the server closed the connection during the WebSocket handshake"));
    const tunnels: H2StreamTransport[] = [];
    for (const slot of this.streams.values()) if (slot.tunnel !== undefined) tunnels.push(slot.tunnel);
    this.streams.clear();
    for (const tunnel of tunnels) tunnel.onConnectionClosed(undefined);
  }
}

function waitFor<T>(signal: AbortSignal, place: (w: Waiter<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    place({ resolve: (v: T) => (signal.removeEventListener("abort", onAbort), resolve(v)), reject: (e: Error) => (signal.removeEventListener("abort", onAbort), reject(e)) });
  });
}

/** The extended CONNECT request of `url` with the offered subprotocols, extensions and headers. */
function requestFields(url: URL, options: DialOptions, protocols: readonly string[], deflateOptions: DialOptions["perMessageDeflate"]): string[] {
  const fields = [
    ":method", "CONNECT",
    ":protocol", "websocket",
    ":scheme", url.protocol === "wss:" ? "https" : "http",
    ":path", (url.pathname || "/") + url.search,
    ":authority", url.host,
    "sec-websocket-version", "13",
  ];
  if (protocols.length > 0) fields.push("sec-websocket-protocol", protocols.join(", "));
  if (deflateOptions) fields.push("sec-websocket-extensions", PerMessageDeflate.offer(deflateOptions));
  if (options.origin !== undefined) fields.push("origin", options.origin);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (SKIPPED.has(lower) || lower.startsWith(":")) continue;
    if (/[\r\n\0]/.test(value)) throw new TypeError("header values must not contain CR, LF or NUL");
    fields.push(lower, value);
  }
  return fields;
}

/** Opens one WebSocket stream on `client` and waits for its `200`. */
async function openStream(client: H2TunnelClient, url: URL, options: DialOptions, signal: AbortSignal): Promise<DialResult> {
  const protocols = options.protocols ?? [];
  for (const p of protocols) if (!TOKEN.test(p)) throw new TypeError(`invalid subprotocol ${p}`);
  if (new Set(protocols).size !== protocols.length) throw new TypeError("subprotocols must be unique");
  const deflateOptions = options.perMessageDeflate === false ? undefined : options.perMessageDeflate ?? {};
  const fields = requestFields(url, options, protocols, deflateOptions);
  let id = -1;
  const response = waitFor<Answer>(signal, (w) => (id = client.open(fields, w)));
  try {
    const { status, headers } = await response;
    if (status !== 200) throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: status ${status}, expected 200`);
    const agreed = checkAnswer(headers, protocols, deflateOptions);
    return {
      conn: client.attach(id),
      head: new Uint8Array(0),
      protocol: agreed.protocol ?? "",
      extensions: agreed.deflate === undefined ? "" : headers.get("sec-websocket-extensions") ?? "",
      deflate: agreed.deflate,
      url,
    };
  } catch (err) {
    if (id > 0) client.cancel(id); // this stream only; the session goes on for the others
    throw err;
  }
}

/** Numbers for objects, so that a share key can name "this very object". */
const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;
function objectId(value: unknown): string {
  if (value === undefined) return "-";
  if (typeof value !== "object" || value === null) return JSON.stringify(value) ?? "?";
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, id = nextObjectId++);
  return `#${id}`;
}

/**
 * The key under which WebSockets to `url` with these options share an
 * HTTP/2 connection: the scheme, host and port, and the identity of the
 * `tls` and `proxy` options (the same objects, or none), so that a dial
 * never rides a connection verified or routed differently from what it
 * asked for.
 *
 * @example
 * ```ts
 * import { h2ShareKey } from "./h2_dial.ts";
 * const tls = { ca: "..." };
 * const a = h2ShareKey(new URL("wss://example.com/a"), { tls });
 * console.log(a === h2ShareKey(new URL("wss://example.com:443/b"), { tls })); // true
 * console.log(a === h2ShareKey(new URL("wss://example.com/a"), { tls: { ca: "..." } })); // false
 * ```
 */
export function h2ShareKey(url: URL, options: Pick<DialOptions, "tls" | "proxy">): string {
  const port = url.port === "" ? (url.protocol === "wss:" ? "443" : "80") : url.port;
  return `${url.protocol}//${url.hostname}:${port} tls${objectId(options.tls)} proxy${objectId(options.proxy)}`;
}

/**
 * Opens the WebSocket on a shared HTTP/2 session of `key` when one can
 * take another stream; when the first dial to `key` is still setting its
 * session up, waits for that first. Resolves to undefined when there is
 * no session to share (the caller dials its own connection, then, and
 * passes `key` to {@link dialOverH2} so that later dials share it).
 *
 * @example
 * ```ts ignore
 * import { dialSharedH2, h2ShareKey } from "./h2_dial.ts";
 * const url = new URL("ws://127.0.0.1:8080/");
 * const dialed = await dialSharedH2(h2ShareKey(url, {}), url, {}, AbortSignal.timeout(5000));
 * ```
 */
export async function dialSharedH2(key: string, url: URL, options: DialOptions, signal: AbortSignal): Promise<DialResult | undefined> {
  const pending = settingUp.get(key);
  if (pending !== undefined) {
    await waitFor<void>(signal, (w) => void pending.then(() => w.resolve()));
  }
  const client = sessions.get(key);
  if (client === undefined || !client.usable) return undefined;
  return await openStream(client, url, options, signal);
}

/**
 * Marks `key` as being set up by this dial: later dials to it wait (see
 * {@link dialSharedH2}) until the returned function runs. Returns
 * undefined when another dial is setting it up already.
 *
 * @example
 * ```ts ignore
 * import { holdH2Setup } from "./h2_dial.ts";
 * const done = holdH2Setup(key);
 * try { await dialOverH2(conn, url, options, signal, key); } finally { done?.(); }
 * ```
 */
export function holdH2Setup(key: string): (() => void) | undefined {
  if (settingUp.has(key) || sessions.get(key)?.usable === true) return undefined;
  let done!: () => void;
  settingUp.set(key, new Promise<void>((resolve) => (done = resolve)));
  return () => {
    settingUp.delete(key);
    done();
  };
}

/**
 * Runs the RFC 8441 handshake on `conn`, which speaks HTTP/2. Resolves to
 * the agreed WebSocket (its `conn` is the stream), or to null when the
 * server did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL (the
 * connection is closed then). Rejects with an `HTTPError`
 * (`ERR_WS_HANDSHAKE`) when the server answers other than `200` or agrees
 * to something not offered, with an `HTTP2Error` when the server broke
 * HTTP/2 (or does not speak it), and with `signal`'s reason. With
 * `shareKey`, the session is kept for later dials to that key
 * ({@link dialSharedH2}) while it carries WebSockets.
 *
 * @example
 * ```ts ignore
 * import { dialOverH2 } from "./h2_dial.ts";
 * const dialed = await dialOverH2(conn, new URL("wss://localhost:8443/"), { protocols: ["chat"] }, AbortSignal.timeout(5000));
 * if (dialed === null) console.log("no RFC 8441 here: use HTTP/1.1");
 * ```
 */
export async function dialOverH2(conn: Connection, url: URL, options: DialOptions, signal: AbortSignal, shareKey?: string): Promise<DialResult | null> {
  // What the connection read before it had a handler (the server's first
  // frames may come with the end of the TLS handshake) waits for read():
  // taken now, in the same turn as the switch to handler mode.
  const ac = new AbortController();
  const buffered = conn.read({ signal: ac.signal });
  ac.abort();
  const client = new H2TunnelClient(conn);
  try {
    const settings = waitFor<void>(signal, (w) => (client.settings = w));
    const early = await buffered.catch(() => null);
    if (early !== null && early.length > 0) client.feed(early);
    client.flush();
    await settings;
    if (!client.h2.remoteSettings.enableConnectProtocol) {
      client.shutdown();
      return null;
    }
    const dialed = await openStream(client, url, options, signal);
    if (shareKey !== undefined && client.usable && !sessions.get(shareKey)?.usable) {
      client.shareKey = shareKey;
      sessions.set(shareKey, client);
    }
    return dialed;
  } catch (err) {
    if (err instanceof HTTPError && !client.h2.dead && !conn.closed) {
      // A refused answer (its stream is reset already): leave gracefully (GOAWAY, FIN).
      if (client.streams.size === 0) client.shutdown();
    } else if (client.streams.size === 0) conn.abort();
    throw err;
  }
}
