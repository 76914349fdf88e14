/**
 * The promise API of the WebSocket client: `connectWebSocket(url)` resolves
 * once the handshake is done to a {@link WebSocketConnection} whose
 * messages are read with `recv()` / `recvJSON()` or `for await`, with
 * `send` reporting backpressure (false: wait for `drained()`), `ping()`
 * resolving to the round-trip time, and `closed` resolving to the close.
 * Incoming messages queue up to `maxQueuedMessages` or `maxQueuedBytes`;
 * past either the socket stops reading from the kernel until `recv` takes
 * some (TCP backpressure, never unbounded memory).
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "./client.ts";
 * const ws = await connectWebSocket("ws://127.0.0.1:8080/");
 * ws.sendJSON({ hello: "world" });
 * console.log(await ws.recvJSON(), await ws.ping(), "ms");
 * for await (const message of ws) console.log(message.data);
 * ```
 *
 * @module
 */
import { UseAfterCloseError, WebSocketError } from "../core/errors.ts";
import { checkChannelLimits, WebSocketChannel } from "./channel.ts";
import { dialWebSocket } from "./dial.ts";
import type { WebSocketInit } from "./websocket.ts";

/** One received message: `data` is a string for text, bytes for binary. */
export interface WebSocketMessage {
  /** The message: a string for text, bytes for binary. */
  readonly data: string | Uint8Array;
  /** True for a binary message. */
  readonly binary: boolean;
}

/** How a {@link WebSocketConnection} ended. */
export interface WebSocketCloseInfo {
  /** The close code (1005 when the Close frame had none, 1006 when the connection was lost). */
  readonly code: number;
  /** The close reason ("" when none). */
  readonly reason: string;
  /** True when the closing handshake completed. */
  readonly wasClean: boolean;
}

/** Options of {@link connectWebSocket}. */
export interface ConnectWebSocketOptions extends WebSocketInit {
  /** Received messages held for `recv` before reading pauses (default 1024; 0: read only while a `recv` waits). */
  maxQueuedMessages?: number;
  /**
   * Bytes of received messages held for `recv` before reading pauses
   * (default 16 MiB; one message larger than this is still received whole).
   */
  maxQueuedBytes?: number;
}

/** The receive queue's bounds; a RangeError, before any dial, for a bad one. */
function queueLimits(options: ConnectWebSocketOptions): { messages: number; bytes: number } {
  const messages = options.maxQueuedMessages ?? 1024;
  const bytes = options.maxQueuedBytes ?? 16 * 1024 * 1024;
  if (typeof messages !== "number" || !(messages >= 0)) throw new RangeError(`maxQueuedMessages must be a number >= 0, got ${String(messages)}`);
  if (typeof bytes !== "number" || !(bytes >= 0)) throw new RangeError(`maxQueuedBytes must be a number >= 0, got ${String(bytes)}`);
  checkChannelLimits(options);
  return { messages, bytes };
}

const decoder = new TextDecoder();

/**
 * An open WebSocket with a promise API. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "./client.ts";
 * const ws = await connectWebSocket("ws://127.0.0.1:8080/", { protocols: ["chat"] });
 * console.log(ws.protocol);
 * await ws.close(1000, "bye");
 * ```
 */
export class WebSocketConnection implements AsyncIterable<WebSocketMessage> {
  /** The URL connected to, serialized. */
  readonly url: string;
  /** The subprotocol the server chose ("" for none). */
  readonly protocol: string;
  /** The extensions the server agreed to (its `Sec-WebSocket-Extensions`, "" for none). */
  readonly extensions: string;
  /** Resolves once the connection is gone. */
  readonly closed: Promise<WebSocketCloseInfo>;
  readonly #channel: WebSocketChannel;
  readonly #maxQueued: number;
  readonly #maxQueuedBytes: number;
  readonly #queueSizes: number[] = [];
  #queuedBytes = 0;
  readonly #queue: WebSocketMessage[] = [];
  readonly #waiters: { resolve(m: WebSocketMessage | null): void; reject(e: Error): void }[] = [];
  readonly #pings = new Map<string, { start: number; resolve(ms: number): void; reject(error: Error): void }>();
  #drainWaiters: (() => void)[] = [];
  #paused = false;
  #closeInfo: WebSocketCloseInfo | undefined;
  #error: Error | undefined;
  #pingCounter = 0;

  /** @internal Made by {@link connectWebSocket}. */
  constructor(dialed: Awaited<ReturnType<typeof dialWebSocket>>, options: ConnectWebSocketOptions) {
    this.url = dialed.url.href;
    this.protocol = dialed.protocol;
    this.extensions = dialed.extensions;
    let limits: { messages: number; bytes: number };
    try {
      limits = queueLimits(options);
    } catch (err) {
      // Nobody else holds the dialed connection: it must not stay open.
      dialed.conn.abort();
      dialed.deflate?.close();
      throw err;
    }
    this.#maxQueued = limits.messages;
    this.#maxQueuedBytes = limits.bytes;
    let resolveClosed!: (info: WebSocketCloseInfo) => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    this.#channel = new WebSocketChannel(dialed.conn, new Uint8Array(0), {
      role: "client",
      deflate: dialed.deflate,
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
      ...(options.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.closeTimeoutMs } : {}),
    }, {
      message: (data, binary) => {
        // The channel's bytes are valid during the call only.
        const message: WebSocketMessage = { data: binary ? data.slice() : decoder.decode(data), binary };
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) return waiter.resolve(message);
        this.#queue.push(message);
        this.#queueSizes.push(data.length); // as received (a text message's UTF-8 bytes)
        this.#queuedBytes += data.length;
        if ((this.#queue.length >= this.#maxQueued || this.#queuedBytes >= this.#maxQueuedBytes) && !this.#paused) {
          this.#paused = true;
          this.#channel.pause();
        }
      },
      pong: (data) => {
        const key = decoder.decode(data);
        const pending = this.#pings.get(key);
        if (pending !== undefined) {
          this.#pings.delete(key);
          pending.resolve(performance.now() - pending.start);
        }
      },
      drain: () => {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const w of waiters) w();
      },
      error: (error) => {
        this.#error ??= error;
      },
      close: (code, reason, wasClean) => {
        this.#closeInfo = { code, reason, wasClean };
        for (const w of this.#waiters.splice(0)) w.resolve(null);
        for (const w of this.#drainWaiters.splice(0)) w();
        // A ping still waiting for its pong gets none now: it fails, as ping() after the close does.
        const pings = [...this.#pings.values()];
        this.#pings.clear();
        for (const p of pings) p.reject(this.#error ?? new WebSocketError("ERR_WS_CLOSED", `the WebSocket closed (${code}) before the pong came`, 1006));
        resolveClosed(this.#closeInfo);
      },
    });
    if (dialed.head.length > 0) this.#channel.feed(dialed.head);
  }

  /** "open", "closing" or "closed". */
  get readyState(): "open" | "closing" | "closed" {
    return this.#channel.readyState;
  }

  /** Bytes queued for the peer. */
  get bufferedAmount(): number {
    return this.#channel.bufferedAmount;
  }

  /** Sends a message; false means the output is past its high-water mark (await `drained()`). */
  send(data: string | Uint8Array): boolean {
    return this.#channel.send(data, typeof data !== "string");
  }

  /** Sends `JSON.stringify(value)` as text. */
  sendJSON(value: unknown): boolean {
    return this.send(JSON.stringify(value));
  }

  /**
   * Resolves once the output is back below its high-water mark after a
   * `send` returned false (at once when it is not past it: a `send` that
   * returned true queued little, and no drain follows it).
   */
  drained(): Promise<void> {
    if (this.#closeInfo !== undefined || !this.#channel.awaitingDrain) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The next message, or null once the connection is closed. */
  recv(): Promise<WebSocketMessage | null> {
    const message = this.#queue.shift();
    if (message !== undefined) {
      this.#queuedBytes -= this.#queueSizes.shift()!;
      // Below half of both limits, or nothing held (a limit of 0: read only when asked).
      if (this.#paused && (this.#queue.length === 0 || (this.#queue.length < this.#maxQueued / 2 && this.#queuedBytes < this.#maxQueuedBytes / 2))) {
        this.#paused = false;
        this.#channel.resume();
      }
      return Promise.resolve(message);
    }
    if (this.#closeInfo !== undefined) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The next message parsed as JSON; rejects with a `WebSocketError` once closed. */
  async recvJSON(): Promise<unknown> {
    const message = await this.recv();
    if (message === null) throw this.#error ?? new WebSocketError("ERR_WS_CLOSED", `the WebSocket closed (${this.#closeInfo?.code})`, 1006);
    return JSON.parse(typeof message.data === "string" ? message.data : decoder.decode(message.data));
  }

  /** Sends a ping and resolves to the round-trip time in ms once its pong comes back; rejects if the connection closes first. */
  ping(): Promise<number> {
    if (this.#closeInfo !== undefined) return Promise.reject(new UseAfterCloseError("WebSocket"));
    const key = `ffinet-ping-${++this.#pingCounter}`;
    return new Promise((resolve, reject) => {
      this.#pings.set(key, { start: performance.now(), resolve, reject });
      this.#channel.ping(key);
    });
  }

  /** Starts the closing handshake and resolves once the connection is gone. */
  close(code?: number, reason = ""): Promise<WebSocketCloseInfo> {
    this.#channel.close(code, reason);
    return this.closed;
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.#channel.terminate();
  }

  /** Iterates received messages until the connection closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    for (;;) {
      const message = await this.recv();
      if (message === null) return;
      yield message;
    }
  }
}

/**
 * Connects to a `ws:`/`wss:` URL and resolves once the handshake is done.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "./client.ts";
 * const ws = await connectWebSocket("wss://localhost:8443/", { tls: { ca }, heartbeatMs: 30_000 });
 * console.log(await ws.ping(), "ms");
 * ```
 */
export async function connectWebSocket(url: string | URL, options: ConnectWebSocketOptions = {}): Promise<WebSocketConnection> {
  const { heartbeatMs: _h, maxPayload: _m, maxBufferedBytes: _b, closeTimeoutMs: _c, maxQueuedMessages: _q, maxQueuedBytes: _qb, ...dial } = options;
  // A bad bound is refused before dialing (after, the dialed socket would be left open).
  queueLimits(options);
  const dialed = await dialWebSocket(url, dial);
  return new WebSocketConnection(dialed, options);
}
