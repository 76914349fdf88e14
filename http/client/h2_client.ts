/**
 * One HTTP/2 client connection of a {@link Pool}: the I/O-free
 * `H2Connection` (http/h2/) in the client role on a {@link Connection} in
 * handler mode, each request of the pool on a stream of its own, its
 * response handed to the request's {@link DispatchHandler} as HTTP/1.1's
 * are (a `MessageHead`, body pieces, trailers).
 *
 * - Multiplexing: as many streams as the server's
 *   SETTINGS_MAX_CONCURRENT_STREAMS allows (100 until its SETTINGS came);
 *   the pool queues the rest and hands them over as streams end.
 * - Flow control both ways: request bodies are queued a piece at a time,
 *   the next piece read once the stream's queue is below 64 KiB (what is
 *   queued leaves as the server's windows allow); response body bytes are
 *   credited back (WINDOW_UPDATE) as the handler takes them, so a consumer
 *   that pauses holds the server to one stream window (1 MiB). The
 *   connection window (32 MiB) is larger than one stream's, so one
 *   stalled stream does not stop the others.
 * - `ping()` measures the round trip (PING/ACK); `rtt` keeps the last.
 *   With `pingIntervalMs`, a PING goes out every interval while the
 *   connection is open; one unanswered for a whole interval ends the
 *   connection (`HTTP2Error` `ERR_H2_PING_TIMEOUT`): a health check.
 * - GOAWAY: the connection takes no new stream (the pool opens a fresh
 *   one); streams above the server's last stream id, which it did not
 *   process, are handed back to the pool once when their body can be sent
 *   again; the rest finish, then the connection closes.
 * - RST_STREAM from the server fails that request only, with an
 *   `HTTP2StreamError` (`ERR_H2_STREAM_RESET`, `http2Code` the server's);
 *   `REFUSED_STREAM` is retried as a GOAWAY'd stream. An abort resets the
 *   stream with CANCEL. A connection error fails every stream with the
 *   `HTTP2Error`.
 * - The connection closing without GOAWAY fails its streams, but an
 *   idempotent request without a response head is sent once more when
 *   the connection had completed a response before (a server closing an
 *   idle connection as we sent).
 * - Idle (no stream), the connection does not keep the process alive and
 *   closes after the keep-alive timeout.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "./pool.ts";
 * // h2c by prior knowledge; https: origins use HTTP/2 when the server picks it by ALPN.
 * const pool = new Pool("http://127.0.0.1:8080", { http2: "prior-knowledge" });
 * await pool.close();
 * ```
 *
 * @module
 */
import { HTTP2Error, HTTP2StreamError, HTTPError } from "../../core/errors.ts";
import { monotonicMs, turnMs } from "../../core/clock.ts";
import { onMicrotask } from "../../core/microtask.ts";
import type { Logger } from "../../core/log.ts";
import type { Timer } from "../../core/timer_heap.ts";
import type { Connection } from "../../poll/connection.ts";
import { AnswerLatency } from "../../dns/answer_latency.ts";
import { H2Connection } from "../h2/connection.ts";
import { ErrorCode, errorCodeName } from "../h2/constants.ts";
import type { H2Event } from "../h2/events.ts";
import type { ResponseControl } from "./dispatcher.ts";
import { h2RequestFields, h2ResponseHead } from "./h2_head.ts";
import type { PendingRequest } from "./pending.ts";
import type { RequestBody } from "./request_body.ts";

/**
 * What every HTTP/2 connection of a pool shares.
 *
 * @example
 * ```ts
 * import type { H2ClientConfig } from "./h2_client.ts";
 * const config: H2ClientConfig = {
 *   authority: "127.0.0.1:8080", scheme: "http", headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000,
 *   keepAliveTimeoutMs: 4_000, maxHeaderBytes: 65_536, maxHeaderCount: 100, maxResponseBytes: Infinity, pingIntervalMs: 0,
 * };
 * ```
 */
export interface H2ClientConfig {
  /** `host[:port]` for `:authority`. */
  authority: string;
  /** `:scheme`. */
  scheme: "http" | "https";
  /** Default most time from a request sent to its response head (0: none). */
  headersTimeoutMs: number;
  /** Default most time between two pieces of a response body (0: none). */
  bodyTimeoutMs: number;
  /** How long a connection without streams is kept. */
  keepAliveTimeoutMs: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we announce. */
  maxHeaderBytes: number;
  /** Most fields in a response header section. */
  maxHeaderCount: number;
  /** Most bytes of one response body. */
  maxResponseBytes: number;
  /** PING health check every this many ms (0: off). */
  pingIntervalMs: number;
  /**
   * The pool's logger: a stream the server reset (or refused) and a stream
   * error at DEBUG, GOAWAY received at DEBUG, a connection error (GOAWAY
   * sent) at WARN. Undefined: nothing (one check per H2 event).
   */
  logger?: Logger | undefined;
}

/**
 * The pool side of an HTTP/2 connection.
 *
 * @example
 * ```ts
 * import type { H2ClientOwner } from "./h2_client.ts";
 * const owner: H2ClientOwner = { connectionFree() {}, connectionClosed() {}, retry(p) { p.fail(new Error("no retry")); } };
 * ```
 */
export interface H2ClientOwner {
  /** The connection can take more requests (or stopped taking new ones: GOAWAY). */
  connectionFree(connection: H2ClientConnection): void;
  /** The connection closed. */
  connectionClosed(connection: H2ClientConnection): void;
  /** Send this request again on another connection. */
  retry(request: PendingRequest): void;
}

/** Our SETTINGS_INITIAL_WINDOW_SIZE: response bytes a stream may receive ahead of its consumer. */
const STREAM_WINDOW = 1 << 20;
/** The connection's receive window. */
const CONNECTION_WINDOW = 32 << 20;
/** Streams opened before the server's SETTINGS say how many it takes. */
const STREAMS_BEFORE_SETTINGS = 100;
/** A stream's queued request body below this: the next piece is read. */
const STREAM_QUEUE_BYTES = 64 * 1024;
const PULL_BYTES = 256 * 1024;
/**
 * Frames (request heads) the core may hold unsent: past this, new streams
 * wait in the pool's queue (bounded, ERR_POOL_QUEUE_FULL) until a flush
 * hands them to the socket, so a server that stops reading cannot make
 * every request's HEADERS pile up here.
 */
const HEADS_QUEUE_BYTES = PULL_BYTES;

/**
 * One request on a stream of an {@link H2ClientConnection} (its own record; exported as a type only).
 *
 * @example
 * ```ts
 * import type { ClientStream } from "./h2_client.ts";
 * const describe = (s: ClientStream) => `stream ${s.id}: ${s.received} bytes`;
 * ```
 */
class ClientStream implements ResponseControl {
  /** The HTTP/2 stream identifier. */
  readonly id: number;
  /** The request sent on it. */
  readonly request: PendingRequest;
  /** The final response head came. */
  responded = false;
  /** The consumer paused: bytes delivered and not credited yet. */
  paused = false;
  /** Body bytes delivered while paused, not yet credited back to the server's window. */
  unconsumed = 0;
  /** Body bytes received so far (checked against maxResponseBytes). */
  received = 0;
  /** The trailer fields received, or null. */
  trailers: Array<[string, string]> | null = null;
  /** When the head/body timeout expires ({@link monotonicMs} reading; 0: no timeout). */
  deadline = 0;
  /** The timeout in ms (0: none); the body timeout starts again at each piece. */
  timerMs = 0;
  /** The request body is still being sent. */
  sending = false;
  /** A body pump waits for room. */
  wake: (() => void) | undefined;
  /** The connection it runs on. */
  readonly connection: H2ClientConnection;

  /** Creates the stream `id` for `request`; its control calls back into `connection`. */
  constructor(id: number, request: PendingRequest, connection: H2ClientConnection) {
    this.id = id;
    this.request = request;
    this.connection = connection;
  }

  /** Lets the response handler pause, resume or abort this stream (the stream itself: no closures per request). */
  get control(): ResponseControl {
    return this;
  }

  /** Stops crediting what arrives until {@link resume} (the server's window closes). */
  pause(): void {
    this.paused = true;
  }

  /** Credits what arrived while paused and goes on. */
  resume(): void {
    this.connection.resumeStream(this);
  }

  /** Resets the stream and fails its request with `error`. */
  abort(error: Error): void {
    this.connection.abortRequest(this.request, error);
  }
}
export type { ClientStream };

/**
 * An HTTP/2 client connection. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { H2ClientConnection } from "./h2_client.ts";
 * // new H2ClientConnection(conn, config, owner) — Pool makes these.
 * ```
 */
export class H2ClientConnection {
  /** The transport. */
  readonly connection: Connection;
  /** The protocol core. */
  readonly h2: H2Connection;
  readonly #config: H2ClientConfig;
  readonly #owner: H2ClientOwner;
  readonly #streams = new Map<number, ClientStream>();
  readonly #waiting = new Set<ClientStream>();
  /** How soon the server answers what was sent (see #expectAnswer). */
  readonly #answers = new AnswerLatency();
  /**
   * When frames went out that nothing has answered yet (performance.now;
   * -Infinity: none, a double as every reading is: 0, an int32, made
   * JavaScriptCore's optimised checks of it exit and recompile on Bun).
   */
  #sentAt = -Infinity;
  #settingsSeen = false;
  #writable = true;
  /** canTake refused for want of room to send: the pool is told once a flush made room. */
  #heldBack = false;
  #closed = false;
  #closing = false;
  #flushScheduled = false;
  #receiving = false;
  #idleTimer: Timer | undefined;
  #tickTimer: Timer | undefined;
  /**
   * One timer for every stream's head/body timeout: armed for the earliest
   * deadline it knew of (`#deadlineAt`), it looks at the streams when it
   * fires and is armed again for the earliest one left. A stream's timeout
   * is a number it keeps (no timer of its own to start, move and cancel per
   * request).
   */
  #deadlineTimer: Timer | undefined;
  #deadlineAt = Infinity;
  #tickArmed = false;
  #pings: Array<{ resolve: (rtt: number) => void; reject: (e: Error) => void }> = [];
  #rtt = -1;
  #error: Error | undefined;
  #healthTimer: Timer | undefined;
  /** Responses completed. */
  #completed = 0;
  /** A health-check PING is unanswered. */
  #healthPending = false;

  /** Runs HTTP/2 client requests over `connection` (no server push, flow-control windows of its own), reporting state changes to `owner`. */
  constructor(connection: Connection, config: H2ClientConfig, owner: H2ClientOwner) {
    this.connection = connection;
    this.#config = config;
    this.#owner = owner;
    this.h2 = new H2Connection({
      role: "client",
      autoWindowUpdate: false,
      connectionWindowSize: CONNECTION_WINDOW,
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW, maxHeaderListSize: config.maxHeaderBytes },
    });
    connection.setHandler({
      data: (_c, data) => this.#onData(data),
      end: () => this.#onEnd(),
      drain: () => {
        this.#writable = true;
        this.#flush();
      },
      close: (_c, error) => this.#onClose(error),
    });
    this.#armIdle();
    const every = config.pingIntervalMs;
    if (every > 0 && Number.isFinite(every)) {
      this.#healthTimer = connection.loop.timers.once(every, () => this.#healthCheck()).unref();
    }
    this.#flush();
  }

  /**
   * Bytes the connection read before this session took it over (they wait
   * for `read()`: the server's SETTINGS can come with the end of the TLS
   * handshake, or while a connector of one's own awaited something else).
   *
   * @example
   * ```ts
   * import type { H2ClientConnection } from "./h2_client.ts";
   * function takeOver(session: H2ClientConnection, early: Uint8Array | null): void {
   *   if (early !== null && early.length > 0) session.feed(early);
   * }
   * ```
   */
  feed(bytes: Uint8Array): void {
    this.#onData(bytes);
  }

  #healthCheck(): void {
    if (this.#closed || this.h2.dead) return;
    const every = this.#config.pingIntervalMs;
    if (this.#healthPending) {
      this.destroy(new HTTP2Error("ERR_H2_PING_TIMEOUT", `no PING acknowledgement within ${every} ms`, ErrorCode.NO_ERROR));
      return;
    }
    this.#healthPending = true;
    this.ping().then(() => (this.#healthPending = false), () => {});
    this.#healthTimer!.reschedule(every);
  }

  /** Streams open. */
  get inFlight(): number {
    return this.#streams.size;
  }

  /** Whether it is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether no stream is open and new ones can be. */
  get idle(): boolean {
    return this.#streams.size === 0 && this.acceptsStreams;
  }

  /** Whether it takes new streams at all (not closed, no GOAWAY either way). */
  get acceptsStreams(): boolean {
    return !this.#closed && !this.#closing && !this.h2.dead && this.h2.goawayReceived < 0 && this.h2.goawaySent < 0;
  }

  /** The last PING round trip in ms, or -1 before the first. */
  get rtt(): number {
    return this.#rtt;
  }

  /** Whether `request` is in flight here. */
  holds(request: PendingRequest): boolean {
    const s = request.stream;
    return s instanceof ClientStream && s.connection === this;
  }

  /**
   * Whether a stream can be opened now: the server's stream limit allows
   * it, and fewer than HEADS_QUEUE_BYTES of frames wait unsent (a server
   * that stops reading holds new requests in the pool's queue, not their
   * heads here; the flush that makes room tells the pool).
   */
  canTake(_request?: PendingRequest): boolean {
    if (!this.acceptsStreams || !this.h2.canOpenStream()) return false;
    if (this.h2.queuedBytes >= HEADS_QUEUE_BYTES) {
      this.#heldBack = true;
      return false;
    }
    return this.#settingsSeen || this.#streams.size < STREAMS_BEFORE_SETTINGS;
  }

  /** Opens a stream for `request` (check {@link canTake} first); a head that cannot be sent fails the request only. */
  dispatch(request: PendingRequest): void {
    const o = request.options;
    const body = o.body;
    let id: number;
    try {
      const length = body !== null ? body.length : o.method === "POST" || o.method === "PUT" || o.method === "PATCH" ? 0 : -1;
      const fields = h2RequestFields(o.method, this.#config.scheme, this.#config.authority, o.path, o.headers, length);
      const empty = body === null || body.length === 0;
      id = this.h2.request(fields, empty);
    } catch (err) {
      request.fail(toError(err));
      return;
    }
    if (this.#streams.size === 0) {
      this.connection.ref();
      this.#idleTimer?.cancel();
    }
    const s = new ClientStream(id, request, this);
    this.#streams.set(id, s);
    request.stream = s;
    this.#setTimer(s, request.options.headersTimeoutMs ?? this.#config.headersTimeoutMs);
    if (body !== null && body.length !== 0) this.#sendBody(s, body);
    this.#scheduleFlush();
  }

  /** Resets `request`'s stream (CANCEL) and fails it with `reason`; the connection carries on. */
  abortRequest(request: PendingRequest, reason: Error): void {
    const s = request.stream;
    if (!(s instanceof ClientStream) || s.connection !== this) {
      request.fail(reason);
      return;
    }
    this.#resetStream(s, ErrorCode.CANCEL);
    this.#end(s, reason);
    this.#flush();
  }

  /** The handler wants more body: what it took is credited back. */
  resumeStream(s: ClientStream): void {
    if (!s.paused) return;
    s.paused = false;
    if (s.unconsumed > 0 && !this.h2.dead && !this.#closed) {
      const n = s.unconsumed;
      s.unconsumed = 0;
      this.h2.consume(s.id, n);
      this.#scheduleFlush();
    }
  }

  /** Sends a PING; resolves with the round trip in ms. */
  ping(): Promise<number> {
    if (this.#closed || this.h2.dead) return Promise.reject(this.#error ?? closedError());
    return new Promise((resolve, reject) => {
      this.#pings.push({ resolve, reject });
      this.h2.ping();
      this.#flush();
    });
  }

  /** Closes now: every stream fails with `error`. */
  destroy(error: Error): void {
    if (this.#closed) return;
    this.#error ??= error;
    this.connection.abort(error);
  }

  /** GOAWAY, then closes once the streams in flight ended. */
  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    if (!this.h2.dead && this.h2.goawaySent < 0) this.h2.goaway(ErrorCode.NO_ERROR);
    this.#flush();
  }

  // ---- request bodies

  #sendBody(s: ClientStream, body: RequestBody): void {
    if (body.bytes !== null) {
      this.h2.sendData(s.id, body.bytes, true);
      return;
    }
    s.sending = true;
    void this.#pump(s, body).then(() => {
      s.sending = false;
    }, (err: unknown) => {
      s.sending = false;
      if (s.request.done) return;
      this.#resetStream(s, ErrorCode.CANCEL);
      this.#end(s, toError(err));
      this.#flush();
    });
  }

  async #pump(s: ClientStream, body: RequestBody): Promise<void> {
    const length = body.length;
    let sent = 0;
    for await (const chunk of body.chunks!()) {
      if (this.#stopped(s)) return;
      if (chunk.length === 0) continue;
      sent += chunk.length;
      if (length >= 0 && sent > length) throw new HTTPError("ERR_HTTP_REQUEST_BODY_LENGTH", `the request body is longer than its Content-Length (${length})`);
      this.h2.sendData(s.id, chunk, false);
      this.#scheduleFlush();
      if (!this.#hasRoom(s)) await new Promise<void>((resolve) => {
        s.wake = resolve;
        this.#waiting.add(s);
      });
    }
    if (this.#stopped(s)) return;
    if (length >= 0 && sent !== length) {
      throw new HTTPError("ERR_HTTP_REQUEST_BODY_LENGTH", `the request body is shorter (${sent}) than its Content-Length (${length})`);
    }
    this.h2.sendData(s.id, new Uint8Array(0), true);
    this.#scheduleFlush();
  }

  /** The stream is gone or the response already ended the exchange. */
  #stopped(s: ClientStream): boolean {
    return this.#closed || this.h2.dead || this.#streams.get(s.id) !== s;
  }

  #hasRoom(s: ClientStream): boolean {
    return this.#closed || this.h2.dead || this.#streams.get(s.id) !== s ||
      (this.#writable && this.h2.queuedData(s.id) < STREAM_QUEUE_BYTES);
  }

  // ---- input

  #onData(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#sentAt !== -Infinity) {
      this.#answers.observe(turnMs() - this.#sentAt);
      this.#sentAt = -Infinity;
    }
    const events = this.h2.receive(bytes);
    this.#receiving = true;
    try {
      for (let i = 0; i < events.length; i++) this.#event(events[i]!);
    } finally {
      this.#receiving = false;
    }
    this.#flush();
  }

  /** One reset, GOAWAY or connection error as a record (only with a logger; see {@link H2ClientConfig.logger}). */
  #logEvent(log: Logger, e: H2Event): void {
    const authority = this.#config.authority;
    switch (e.type) {
      case "rst":
        log.debug("h2: stream reset by the server", { authority, streamId: e.streamId, code: e.code, refused: e.refused });
        return;
      case "stream-error":
        log.debug("h2: stream reset, the server broke the protocol", { authority, streamId: e.streamId, code: e.error.http2Code, error: e.error });
        return;
      case "error":
        log.warn("h2: connection error, GOAWAY sent", { authority, code: e.error.http2Code, error: e.error });
        return;
      case "goaway":
        log.debug("h2: GOAWAY received", { authority, lastStreamId: e.lastStreamId, code: e.code });
        return;
    }
  }

  #event(e: H2Event): void {
    if (this.#config.logger !== undefined && (e.type === "rst" || e.type === "stream-error" || e.type === "error" || e.type === "goaway")) this.#logEvent(this.#config.logger, e);
    switch (e.type) {
      case "headers":
        return this.#onHeaders(e.streamId, e.headers, e.endStream);
      case "data":
        return this.#onBody(e.streamId, e.data, e.endStream);
      case "trailers": {
        const s = this.#streams.get(e.streamId);
        if (s === undefined) return;
        const trailers: Array<[string, string]> = [];
        for (let i = 0; i < e.headers.length; i += 2) trailers.push([e.headers[i]!, e.headers[i + 1]!]);
        s.trailers = trailers;
        this.#complete(s);
        return;
      }
      case "rst": {
        const s = this.#streams.get(e.streamId);
        if (s === undefined) return;
        if (e.refused || e.code === ErrorCode.REFUSED_STREAM) {
          // Not processed by the server: safe to send again, on another connection.
          this.#forget(s);
          const body = s.request.options.body;
          if (!s.request.done && !s.request.retried && (body === null || body.replayable)) {
            s.request.retried = true;
            this.#owner.retry(s.request);
          } else {
            s.request.fail(new HTTP2StreamError("ERR_H2_STREAM_REFUSED", `the server refused stream ${s.id} (not processed)`, e.code, s.id));
          }
          this.#afterStreamEnd();
          return;
        }
        this.#end(s, new HTTP2StreamError("ERR_H2_STREAM_RESET", `the server reset stream ${s.id} (${errorCodeName(e.code)})`, e.code, s.id));
        return;
      }
      case "stream-error": {
        const s = this.#streams.get(e.streamId);
        if (s !== undefined) this.#end(s, e.error);
        return;
      }
      case "error":
        this.#error ??= e.error;
        return; // GOAWAY is queued; #flush closes.
      case "settings":
        this.#settingsSeen = true;
        this.#owner.connectionFree(this);
        return;
      case "goaway":
        // No new streams here: the pool opens a fresh connection for what waits.
        this.#owner.connectionFree(this);
        return;
      case "ping-ack": {
        this.#rtt = e.rtt;
        this.#pings.shift()?.resolve(e.rtt);
        return;
      }
      default:
        return; // window-update and others: #flush wakes the body pumps
    }
  }

  #onHeaders(id: number, fields: string[], endStream: boolean): void {
    const s = this.#streams.get(id);
    if (s === undefined) return;
    // The HTTP/2 layer checked the section: pseudo-fields (only :status in a response) come first.
    let status = 0;
    let from = 0;
    while (from < fields.length && fields[from]!.charCodeAt(0) === 0x3a) {
      if (fields[from] === ":status") status = Number(fields[from + 1]);
      from += 2;
    }
    if (status < 200) {
      if (status === 101) this.#fail(s, new HTTPError("ERR_HTTP_UNEXPECTED_UPGRADE", "a 101 response over HTTP/2"));
      return; // 1xx: informational
    }
    if ((fields.length - from) / 2 > this.#config.maxHeaderCount) {
      this.#fail(s, new HTTPError("ERR_HTTP_HEADER_OVERFLOW", `more than ${this.#config.maxHeaderCount} response header fields`));
      return;
    }
    const head = h2ResponseHead(status, fields, endStream, from);
    if (head.contentLength > this.#config.maxResponseBytes) {
      this.#fail(s, new HTTPError("ERR_HTTP_BODY_TOO_LARGE", `the response body (${head.contentLength} bytes) is above ${this.#config.maxResponseBytes}`));
      return;
    }
    s.responded = true;
    if (endStream) this.#clearTimer(s);
    else this.#setTimer(s, s.request.options.bodyTimeoutMs ?? this.#config.bodyTimeoutMs);
    if (!s.request.done) s.request.handler.onHeaders(status, head, s.control);
    if (endStream) this.#complete(s);
  }

  #onBody(id: number, data: Uint8Array, endStream: boolean): void {
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (data.length > 0) this.h2.consume(id, data.length);
      return;
    }
    const n = data.length;
    if (n > 0) {
      s.received += n;
      if (s.received > this.#config.maxResponseBytes) {
        this.h2.consume(id, n);
        this.#fail(s, new HTTPError("ERR_HTTP_BODY_TOO_LARGE", `the response body is above ${this.#config.maxResponseBytes} bytes`));
        return;
      }
      // The body timeout starts again (not for the last piece: the stream ends now), from the clock itself: the
      // turn's reading is as old as the synchronous run so far (other streams' and connections' callbacks of
      // this turn), and a deadline counted from it would fire that much early.
      if (s.timerMs > 0 && !endStream) s.deadline = monotonicMs() + s.timerMs;
      const more = s.request.done ? true : s.request.handler.onData(data, true);
      if (!more) s.paused = true;
      if (s.paused) s.unconsumed += n;
      else this.h2.consume(id, n);
    }
    if (endStream) this.#complete(s);
  }

  // ---- stream ends

  #complete(s: ClientStream): void {
    if (this.#streams.get(s.id) !== s) return;
    const request = s.request;
    this.#forget(s);
    // A response complete before the request body: stop sending, and free the stream (RFC 9113 §8.1).
    if (s.sending) this.#resetStream(s, ErrorCode.CANCEL);
    // The stream ended: what the consumer has not taken yet is the connection's to credit.
    if (s.unconsumed > 0 && !this.h2.dead) this.h2.consume(s.id, s.unconsumed);
    s.unconsumed = 0;
    this.#completed++;
    if (!request.done) {
      request.finish();
      request.handler.onComplete(s.trailers);
    }
    this.#afterStreamEnd();
  }

  /** Fails `s` for a limit its response broke: the stream is reset (CANCEL) and the request failed. */
  #fail(s: ClientStream, error: Error): void {
    this.#resetStream(s, ErrorCode.CANCEL);
    this.#end(s, error);
  }

  /** Ends `s` with `error` (the stream is reset or closed already). */
  #end(s: ClientStream, error: Error): void {
    if (this.#streams.get(s.id) !== s) {
      s.request.fail(error);
      return;
    }
    this.#forget(s);
    if (s.unconsumed > 0 && !this.h2.dead) this.h2.consume(s.id, s.unconsumed);
    s.unconsumed = 0;
    s.request.fail(error);
    this.#afterStreamEnd();
  }

  #forget(s: ClientStream): void {
    this.#streams.delete(s.id);
    if (s.request.stream === s) s.request.stream = undefined;
    this.#clearTimer(s);
    this.#waiting.delete(s);
    const wake = s.wake;
    s.wake = undefined;
    wake?.();
  }

  #afterStreamEnd(): void {
    this.#scheduleFlush();
    if (this.#streams.size === 0) {
      this.connection.unref();
      this.#armIdle();
      if (this.#deadlineAt !== Infinity) {
        this.#deadlineAt = Infinity;
        this.#deadlineTimer!.cancel();
      }
    }
    if (!this.#closed) this.#owner.connectionFree(this);
  }

  #resetStream(s: ClientStream, code: number): void {
    if (this.h2.dead || this.#closed) return;
    try {
      this.h2.reset(s.id, code);
    } catch {
      // the connection failed meanwhile
    }
  }

  #onEnd(): void {
    if (this.#closed) return;
    if (this.#streams.size > 0) this.#error ??= new HTTPError("ERR_HTTP_SOCKET_CLOSED", "the server closed the connection before the responses ended");
    void this.connection.close();
  }

  #onClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#idleTimer?.cancel();
    this.#tickTimer?.cancel();
    this.#healthTimer?.cancel();
    this.#deadlineTimer?.cancel();
    this.#deadlineAt = Infinity;
    const cause = this.#error ?? error;
    const goaway = this.h2.goawayReceived;
    for (const s of [...this.#streams.values()]) {
      this.#forget(s);
      const body = s.request.options.body;
      // Streams the server never saw (above its GOAWAY's last id) can go again; so can an
      // idempotent request without a response on a connection that had served one (the
      // server closed it as we sent, as a kept-alive HTTP/1.1 connection can close).
      const unseen = goaway >= 0 && s.id > goaway && !s.request.retried && (body === null || body.replayable);
      if (unseen || (this.#completed > 0 && !s.responded && s.request.retryable)) {
        s.request.retried = true;
        this.#owner.retry(s.request);
      } else s.request.fail(closedError(cause));
    }
    for (const p of this.#pings.splice(0)) p.reject(closedError(cause));
    this.#owner.connectionClosed(this);
  }

  // ---- output

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#receiving) return;
    this.#flushScheduled = true;
    onMicrotask(this.#flushTask);
  }

  /**
   * The microtask of {@link #scheduleFlush}: one function per connection,
   * not a closure per request. Queued with `onMicrotask` (a settled
   * promise's reaction: Node's `queueMicrotask` made an async resource per
   * flush, about one per request); a throw is thrown again from a
   * `queueMicrotask` of its own, so a bug here stays an uncaught exception
   * (the error itself), as it was, not an unhandled rejection
   * (tests/h2_client_flush_error_test.ts).
   */
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    try {
      this.#flush();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  };

  /**
   * Frames went out while streams wait: a near server's answer is waited
   * for with short blocking waits on the loop's thread rather than a parked
   * wait on the helper thread (`Loop.expectEvents`), whose round trip cost
   * ~100 µs of CPU each time a batch of requests was answered a little
   * after the loop found nothing (Bun, 50 streams against nginx: 0.01-0.02
   * parks per request). How soon the server answers is learnt per
   * connection (dns/answer_latency.ts): a far one is not waited for so.
   */
  #expectAnswer(): void {
    if (this.#sentAt === -Infinity) this.#sentAt = performance.now();
    const ms = this.#answers.expectMs();
    if (ms > 0) this.connection.loop.expectEvents(ms);
  }

  #flush(): void {
    const conn = this.connection;
    if (this.#closed) return;
    const h2 = this.h2;
    let sent = false;
    while (this.#writable && h2.wantsWrite) {
      // A view of the core's own buffer (no allocation per flush): send() sends it or queues a copy of what is left.
      const out = h2.pullView(PULL_BYTES);
      if (out.length === 0) break;
      sent = true;
      try {
        if (!conn.send(out)) this.#writable = false;
      } catch (err) {
        this.destroy(toError(err));
        return;
      }
    }
    if (sent && this.#streams.size > 0) this.#expectAnswer();
    if (this.#heldBack && h2.queuedBytes < HEADS_QUEUE_BYTES) {
      this.#heldBack = false;
      this.#owner.connectionFree(this);
    }
    if (this.#waiting.size > 0) this.#wakePumps();
    if (h2.dead || ((this.#closing || h2.goawayReceived >= 0) && this.#streams.size === 0)) {
      this.#shutDown();
      return;
    }
    if (!this.#tickArmed) {
      const deadline = h2.nextDeadline();
      if (deadline >= 0) this.#armTick(deadline);
    }
  }

  // #flush runs once per read and per scheduled flush: what it rarely does is in the methods below, so that the
  // method JavaScriptCore compiles for the hot path stays small (on Bun its optimising compile of the whole took
  // 0.2 s of the JIT's CPU, while a client warmed up).

  /** Wakes the request-body pumps that have room again. */
  #wakePumps(): void {
    for (const s of this.#waiting) {
      if (!this.#hasRoom(s)) continue;
      this.#waiting.delete(s);
      const wake = s.wake;
      s.wake = undefined;
      wake?.();
    }
  }

  /** The core failed, or it is closing with no stream left: ends the transport. */
  #shutDown(): void {
    const conn = this.connection;
    if (this.h2.dead) this.#error ??= new HTTP2Error("ERR_H2_CONNECTION_CLOSED", "the HTTP/2 connection failed", ErrorCode.PROTOCOL_ERROR);
    this.#closing = true;
    void conn.end().then(() => conn.close(), () => conn.abort());
  }

  /** Arms the core's timer (SETTINGS/PING acknowledgement deadlines) for `deadline` (a {@link monotonicMs} reading). */
  #armTick(deadline: number): void {
    this.#tickArmed = true;
    const ms = Math.max(1, deadline - monotonicMs());
    if (this.#tickTimer === undefined) {
      this.#tickTimer = this.connection.loop.timers.once(ms, () => {
        this.#tickArmed = false;
        if (this.#closed) return;
        for (const e of this.h2.tick()) this.#event(e);
        this.#flush();
      }).unref();
    } else this.#tickTimer.reschedule(ms);
  }

  // ---- timers

  #armIdle(): void {
    const ms = this.#config.keepAliveTimeoutMs;
    if (this.#closed) return;
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    if (this.#idleTimer === undefined) {
      this.#idleTimer = this.connection.loop.timers.once(ms, () => {
        if (this.#streams.size === 0) this.close();
      }).unref();
    } else this.#idleTimer.reschedule(ms);
  }

  /** Starts `s`'s head or body timeout of `ms` (0 or not finite: none). */
  #setTimer(s: ClientStream, ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms)) {
      s.timerMs = 0;
      s.deadline = 0;
      return;
    }
    s.timerMs = ms;
    // The clock itself, not the turn's reading (turnMs): that may be as old
    // as the synchronous run that makes the request, and a deadline counted
    // from it fired that much early (a 200 ms head timeout at once after a
    // 300 ms synchronous stretch).
    const at = monotonicMs() + ms;
    s.deadline = at;
    if (at < this.#deadlineAt) this.#armDeadline(at);
  }

  #clearTimer(s: ClientStream): void {
    s.timerMs = 0;
    s.deadline = 0;
  }

  /** Arms the deadline timer for `at` (a {@link monotonicMs} reading). */
  #armDeadline(at: number): void {
    if (this.#closed) return;
    this.#deadlineAt = at;
    const ms = Math.max(1, at - monotonicMs());
    if (this.#deadlineTimer === undefined) {
      this.#deadlineTimer = this.connection.loop.timers.once(ms, () => this.#expire()).unref();
    } else this.#deadlineTimer.reschedule(ms);
  }

  /** The deadline timer fired: fails the streams whose timeout passed, arms it for the earliest one left. */
  #expire(): void {
    this.#deadlineAt = Infinity;
    if (this.#closed) return;
    const now = monotonicMs();
    let next = Infinity;
    let expired: ClientStream[] | undefined;
    for (const s of this.#streams.values()) {
      const at = s.deadline;
      if (at === 0) continue;
      if (at <= now) (expired ??= []).push(s);
      else if (at < next) next = at;
    }
    if (next < this.#deadlineAt) this.#armDeadline(next);
    if (expired === undefined) return;
    for (const s of expired) {
      if (this.#streams.get(s.id) !== s) continue;
      const error = s.responded
        ? new HTTPError("ERR_HTTP_BODY_TIMEOUT", `no response body bytes for ${s.timerMs} ms`)
        : new HTTPError("ERR_HTTP_HEADERS_TIMEOUT", `no response head within ${s.timerMs} ms`);
      this.#fail(s, error);
    }
    this.#flush();
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function closedError(cause?: Error): Error {
  if (cause instanceof HTTP2Error) return cause;
  return new HTTPError("ERR_HTTP_SOCKET_CLOSED", "the connection closed before the response ended", cause === undefined ? {} : { cause });
}
