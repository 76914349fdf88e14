/**
 * The client side of WebSocket over HTTP/2 (RFC 8441): on a connection
 * that speaks HTTP/2 (ALPN `h2` over TLS, or prior knowledge over
 * cleartext), wait for the server's SETTINGS; when it announced
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, open a stream with an extended CONNECT
 * (`:protocol websocket`, `sec-websocket-version: 13`, the offered
 * subprotocols and extensions) and, on `200`, hand the stream back as the
 * WebSocket's transport (h2_stream.ts). One connection carries one
 * WebSocket; it ends (GOAWAY) when the WebSocket does.
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

/** One client HTTP/2 connection carrying one WebSocket stream. */
class H2TunnelClient implements H2StreamHost {
  readonly conn: Connection;
  readonly h2: H2Connection;
  streamId = -1;
  tunnel: H2StreamTransport | undefined;
  /** DATA of the stream that came with the `200`, before the transport existed. */
  early: { data: Uint8Array; end: boolean }[] = [];
  settings: Waiter<void> | undefined;
  response: Waiter<{ status: number; headers: Headers }> | undefined;
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

  release(_id: number): void {
    this.tunnel = undefined;
    this.shutdown();
  }

  /** GOAWAY, then FIN once it is written. */
  shutdown(): void {
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
    this.tunnel?.onFlushed();
    if (this.h2.dead && !this.#gone) {
      this.#gone = true;
      void conn.close();
    }
  }

  /** Bytes that came before the handler (buffered for `read()`). */
  feed(bytes: Uint8Array): void {
    this.#receive(bytes);
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
      case "headers": {
        if (e.streamId !== this.streamId) return;
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
        const w = this.response;
        this.response = undefined;
        w?.resolve({ status, headers });
        return;
      }
      case "data":
        if (e.streamId !== this.streamId) return;
        if (this.tunnel !== undefined) this.tunnel.onData(e.data, e.endStream);
        else this.early.push({ data: e.data.slice(), end: e.endStream });
        return;
      case "rst":
      case "stream-error": {
        if (e.streamId !== this.streamId) return;
        const code = e.type === "rst" ? e.code : e.error.http2Code;
        if (this.tunnel !== undefined) return this.tunnel.onReset(code);
        this.#fail(new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: the server reset the stream (HTTP/2 error ${code})`));
        return;
      }
      case "error":
        this.#fail(e.error);
        return;
      default:
        return;
    }
  }

  #fail(error: Error): void {
    const s = this.settings;
    const r = this.response;
    this.settings = this.response = undefined;
    s?.reject(error);
    r?.reject(error);
  }

  #closed(error: Error | undefined): void {
    this.#gone = true;
    this.#fail(error ?? new SocketClosedError("ECONNRESET", "the server closed the connection during the WebSocket handshake"));
    const tunnel = this.tunnel;
    this.tunnel = undefined;
    tunnel?.onConnectionClosed(undefined);
  }
}

function waitFor<T>(client: H2TunnelClient, slot: "settings" | "response", signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const done = { resolve: (v: T) => (signal.removeEventListener("abort", onAbort), resolve(v)), reject: (e: Error) => (signal.removeEventListener("abort", onAbort), reject(e)) };
    (client as unknown as Record<string, unknown>)[slot] = done;
  });
}

/**
 * Runs the RFC 8441 handshake on `conn`, which speaks HTTP/2. Resolves to
 * the agreed WebSocket (its `conn` is the stream), or to null when the
 * server did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL (the
 * connection is closed then). Rejects with an `HTTPError`
 * (`ERR_WS_HANDSHAKE`) when the server answers other than `200` or agrees
 * to something not offered, with an `HTTP2Error` when the server broke
 * HTTP/2 (or does not speak it), and with `signal`'s reason.
 *
 * @example
 * ```ts ignore
 * import { dialOverH2 } from "./h2_dial.ts";
 * const dialed = await dialOverH2(conn, new URL("wss://localhost:8443/"), { protocols: ["chat"] }, AbortSignal.timeout(5000));
 * if (dialed === null) console.log("no RFC 8441 here: use HTTP/1.1");
 * ```
 */
export async function dialOverH2(conn: Connection, url: URL, options: DialOptions, signal: AbortSignal): Promise<DialResult | null> {
  // What the connection read before it had a handler (the server's first
  // frames may come with the end of the TLS handshake) waits for read():
  // taken now, in the same turn as the switch to handler mode.
  const ac = new AbortController();
  const buffered = conn.read({ signal: ac.signal });
  ac.abort();
  const client = new H2TunnelClient(conn);
  try {
    const settings = waitFor<void>(client, "settings", signal);
    const early = await buffered.catch(() => null);
    if (early !== null && early.length > 0) client.feed(early);
    client.flush();
    await settings;
    if (!client.h2.remoteSettings.enableConnectProtocol) {
      client.shutdown();
      return null;
    }
    const protocols = options.protocols ?? [];
    for (const p of protocols) if (!TOKEN.test(p)) throw new TypeError(`invalid subprotocol ${p}`);
    if (new Set(protocols).size !== protocols.length) throw new TypeError("subprotocols must be unique");
    const deflateOptions = options.perMessageDeflate === false ? undefined : options.perMessageDeflate ?? {};
    const fields = [
      ":method", "CONNECT",
      ":protocol", "websocket",
      ":scheme", url.protocol === "wss:" ? "https" : "http",
      ":path", (url.pathname || "/") + url.search,
      ":authority", url.host,
      "sec-websocket-version", "13",
    ];
    if (protocols.length > 0) fields.push("sec-websocket-protocol", protocols.join(", "));
    if (deflateOptions !== undefined) fields.push("sec-websocket-extensions", PerMessageDeflate.offer(deflateOptions));
    if (options.origin !== undefined) fields.push("origin", options.origin);
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const lower = name.toLowerCase();
      if (SKIPPED.has(lower) || lower.startsWith(":")) continue;
      if (/[\r\n\0]/.test(value)) throw new TypeError("header values must not contain CR, LF or NUL");
      fields.push(lower, value);
    }
    const response = waitFor<{ status: number; headers: Headers }>(client, "response", signal);
    client.streamId = client.h2.request(fields, false);
    client.flush();
    const { status, headers } = await response;
    if (status !== 200) throw new HTTPError("ERR_WS_HANDSHAKE", `WebSocket handshake failed: status ${status}, expected 200`);
    const agreed = checkAnswer(headers, protocols, deflateOptions);
    const tunnel = new H2StreamTransport(client, client.streamId);
    client.tunnel = tunnel;
    for (const { data, end } of client.early.splice(0)) tunnel.onData(data, end);
    return {
      conn: tunnel,
      head: new Uint8Array(0),
      protocol: agreed.protocol ?? "",
      extensions: agreed.deflate === undefined ? "" : headers.get("sec-websocket-extensions") ?? "",
      deflate: agreed.deflate,
      url,
    };
  } catch (err) {
    if (err instanceof HTTPError && !client.h2.dead && !conn.closed) {
      // A refused answer: cancel the stream and leave gracefully (GOAWAY, FIN).
      if (client.streamId > 0) client.reset(client.streamId, ErrorCode.CANCEL);
      client.shutdown();
    } else conn.abort();
    throw err;
  }
}
