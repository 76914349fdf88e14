/**
 * One HTTP/2 server connection of `serve`: the I/O-free `H2Connection`
 * (http/h2/) fed from the connection's handler-mode `data`, each request
 * stream handed to the same `fetch(request, info)` handler as HTTP/1.1 as
 * a WHATWG `Request` (the lazy one of request.ts), its `Response` written
 * by h2_response.ts.
 *
 * - Request bodies are streams under flow control: the stream's window is
 *   credited back (WINDOW_UPDATE) as the handler reads, so a slow handler
 *   holds at most one window plus the body queue per stream. The
 *   connection window is as large as every stream's together, so one
 *   stalled stream cannot stop the others.
 * - Response bodies that stream wait for room: their stream's queued DATA
 *   below a mark and the socket writable (the h2 flow-control window
 *   decides when queued DATA leaves).
 * - `request.signal` aborts on RST_STREAM, on a stream error and when the
 *   connection goes, while the response is owed.
 * - Every protection of the core is active (rapid reset and MadeYouReset
 *   through `reset()`/writes releasing a reset stream only once its handler
 *   finished, CONTINUATION and no-progress floods, PING/SETTINGS rates,
 *   outbound flood, zero-window and SETTINGS-ACK timeouts on the loop's
 *   timers), with SETTINGS_MAX_CONCURRENT_STREAMS from the options.
 * - The server's `writeTimeoutMs` write stall timeout, as over HTTP/1.1
 *   (see {@link H2Session.checkTimer}): a client that opened large windows
 *   and stopped reading is cut off.
 * - Graceful shutdown: GOAWAY (NO_ERROR); streams already opened finish,
 *   then the connection closes.
 * - Server push through {@link H2HandlerInfo.push}.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * // h2c by prior knowledge and by Upgrade: h2c come with serve():
 * serve({ port: 8080, fetch: () => new Response("hello over h1 or h2") });
 * ```
 *
 * @module
 */
import { HTTP1ParseError, HTTP2Error } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { checkOptions } from "../../core/options.ts";
import { monotonicMs } from "../../core/clock.ts";
import { holdLatencies, metricsNowMs, releaseLatencies } from "../../core/metrics_clock.ts";
import { BodyGather } from "../body_gather.ts";
import type { Timer } from "../../core/timer_heap.ts";
import type { Connection, ConnectionHandler } from "../../poll/connection.ts";
import { H2Connection, type H2ConnectionOptions } from "../h2/connection.ts";
import { ErrorCode, MAX_WINDOW } from "../h2/constants.ts";
import type { H2Event } from "../h2/events.ts";
import { HTTP1_LIMITS, HTTP2_LIMITS } from "../../core/limits.ts";
import type { Settings } from "../h2/settings.ts";
import { type ServeHandlerInfo, type SessionConfig, WRITE_STALL_TIMEOUT_MS } from "./h1_session.ts";
import { requestUrl } from "./request_url.ts";
import { WriteStallWatch } from "./write_stall.ts";
import { lightRequest, type RequestFieldList, type RequestParts } from "./request.ts";
import { ExchangeInfo } from "./exchange_info.ts";
import { writeH2Response, writeStaticH2Response } from "./h2_response.ts";
import { PARTS_MAX } from "../../socket/send_pair.ts";
import { releaseClaimedBody, type TakenBody } from "./response_peek.ts";
import { EXTENDED_CONNECT_HANDLERS, type H2StreamHost, H2StreamTransport } from "../../ws/h2_stream.ts";

/**
 * The `info` of a handler answering over HTTP/2: the HTTP/1 fields plus
 * push and trailers. `isH2Info(info)` tells them apart.
 *
 * @example
 * ```ts
 * import { isH2Info } from "./h2_session.ts";
 * import type { ServeHandler } from "./h1_session.ts";
 * const handler: ServeHandler = (_request, info) => {
 *   if (isH2Info(info)) {
 *     info.push("/style.css");
 *     info.setTrailers(() => ({ "x-checksum": "abc" }));
 *   }
 *   return new Response("<link rel=stylesheet href=/style.css>", { headers: { "content-type": "text/html" } });
 * };
 * ```
 */
export interface H2HandlerInfo extends ServeHandlerInfo {
  /** "h2" (over TLS) or "h2c" (cleartext). */
  readonly protocol: "h2" | "h2c";
  /** The request's stream id. */
  readonly streamId: number;
  /**
   * Server push (RFC 9113 §8.4): promises a GET of `path` (same origin,
   * with `headers` as its request fields) and answers it by calling the
   * server's `fetch` handler with that request, on a stream of its own.
   * Call it before the response ends. Returns false when the client
   * disabled push (`SETTINGS_ENABLE_PUSH` 0, as browsers now do), the
   * connection is going away, or this request is itself a push.
   */
  push(path: string, headers?: HeadersInit): boolean;
  /**
   * Trailer fields sent after the response body (a function is called when
   * the body has ended, so it may report on it). Fields RFC 9110 §6.5.1
   * keeps out of trailers are a TypeError then, and the stream is reset.
   */
  setTrailers(trailers: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)): void;
  /** The request's trailer fields, once its body has ended (empty when it had none). */
  readonly trailers: Promise<Headers>;
  /** RFC 8441: the `:protocol` of an extended CONNECT (such as "websocket"), "" for any other request. */
  readonly connectProtocol: string;
  /**
   * RFC 8441: accepts an extended CONNECT (the server announces
   * SETTINGS_ENABLE_CONNECT_PROTOCOL when it has a `websocket` option).
   * Returns the response the handler must return: it is written as `200`
   * with `headers`, the stream left open, and `open` then gets the stream
   * as a byte transport (DATA both ways under flow control). Throws a
   * `TypeError` for a request that is no extended CONNECT.
   */
  openTunnel(options: H2TunnelOptions): Response;
}

/**
 * What {@link H2HandlerInfo.openTunnel} takes.
 *
 * @example
 * ```ts
 * import type { H2TunnelOptions } from "./h2_session.ts";
 * const options: H2TunnelOptions = {
 *   headers: [["sec-websocket-protocol", "chat"]],
 *   open: (stream) => stream.setHandler({ data: (_s, bytes) => void stream.send(bytes.slice()) }),
 * };
 * ```
 */
export interface H2TunnelOptions {
  /** Fields of the `200` response. */
  headers?: readonly (readonly [string, string])[];
  /** Called once the `200` is queued, with the stream. */
  open(stream: H2StreamTransport): void;
  /**
   * Called once when the server starts a graceful shutdown while the tunnel
   * is open (or at once, when it opened during one): the protocol says
   * goodbye its way (a WebSocket sends Close 1001). The connection is
   * closed at the shutdown deadline all the same.
   */
  goingAway?(): void;
}

/** The responses made by `openTunnel`, and what to do when they are written. */
const tunnelResponses = new WeakMap<Response, H2TunnelOptions>();

/**
 * Whether a handler's `info` belongs to an HTTP/2 request.
 *
 * @example
 * ```ts
 * import { isH2Info } from "./h2_session.ts";
 * import type { ServeHandlerInfo } from "./h1_session.ts";
 * function protocolOf(info: ServeHandlerInfo): string {
 *   return isH2Info(info) ? info.protocol : "http/1.1";
 * }
 * ```
 */
export function isH2Info(info: ServeHandlerInfo): info is H2HandlerInfo {
  return info instanceof H2Exchange;
}

/**
 * HTTP/2 options of `serve` (the `http2` option); every key optional.
 *
 * @example
 * ```ts
 * import type { H2ServeOptions } from "./h2_session.ts";
 * const options: H2ServeOptions = { maxConcurrentStreams: 250, initialWindowSize: 1 << 20, limits: { maxResetsPerSecond: 50 } };
 * ```
 */
export interface H2ServeOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (default `HTTP2_LIMITS.maxConcurrentStreams`, 100). */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a stream may send ahead of the handler (default 65 535). */
  initialWindowSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (default `HPACK_LIMITS.maxHeaderListSize`). */
  maxHeaderListSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE (default 16 384). */
  maxFrameSize?: number;
  /** Closes a connection without streams after this long (default: the server's `keepAliveTimeoutMs`; 0 disables). */
  idleTimeoutMs?: number;
  /** The core's flood limits and timeouts (see `H2ConnectionOptions`). */
  limits?: Pick<
    H2ConnectionOptions,
    | "maxContinuationFrames" | "maxResetsPerSecond" | "maxSettingsPerSecond" | "maxPingsPerSecond" | "maxNoProgressFrames"
    | "noProgressRefillPerSecond" | "zeroWindowTimeoutMs" | "settingsAckTimeoutMs" | "maxClosedStreams" | "maxOutboundBytes"
  >;
}

const H2_SERVE_KEYS: ReadonlySet<string> = new Set(Object.keys({
  maxConcurrentStreams: true,
  initialWindowSize: true,
  maxHeaderListSize: true,
  maxFrameSize: true,
  idleTimeoutMs: true,
  limits: true,
} satisfies Record<keyof H2ServeOptions, true>));

const LIMIT_KEYS: ReadonlySet<string> = new Set([
  "maxContinuationFrames", "maxResetsPerSecond", "maxSettingsPerSecond", "maxPingsPerSecond", "maxNoProgressFrames",
  "noProgressRefillPerSecond", "zeroWindowTimeoutMs", "settingsAckTimeoutMs", "maxClosedStreams", "maxOutboundBytes",
]);

/**
 * The resolved HTTP/2 options every session of a server shares.
 *
 * @example
 * ```ts
 * import { h2Config } from "./h2_session.ts";
 * console.log(h2Config({ maxConcurrentStreams: 10 }, 5000).settings.maxConcurrentStreams); // 10
 * ```
 */
export interface H2Config {
  settings: Partial<Settings>;
  core: Partial<H2ConnectionOptions>;
  connectionWindow: number;
  idleTimeoutMs: number;
  /**
   * The server's logger (serve's `logger`): a stream the client reset or
   * broke at DEBUG, GOAWAY received and sent at DEBUG, a connection error
   * (GOAWAY sent with its code) at WARN. Undefined: nothing (one check per
   * such event; requests and data are not logged here).
   */
  logger?: Logger | undefined;
}

/**
 * Checks and resolves the `http2` option of `serve`.
 *
 * @throws TypeError for an unknown key, RangeError for a bad value.
 * @example
 * ```ts
 * import { h2Config } from "./h2_session.ts";
 * const config = h2Config({}, 5000);
 * console.log(config.idleTimeoutMs); // 5000
 * ```
 */
export function h2Config(options: H2ServeOptions, keepAliveTimeoutMs: number): H2Config {
  checkOptions(options, H2_SERVE_KEYS, "serve: http2");
  if (options.limits !== undefined) checkOptions(options.limits, LIMIT_KEYS, "serve: http2.limits");
  const settings: Partial<Settings> = {};
  if (options.maxConcurrentStreams !== undefined) settings.maxConcurrentStreams = options.maxConcurrentStreams;
  if (options.initialWindowSize !== undefined) settings.initialWindowSize = options.initialWindowSize;
  if (options.maxHeaderListSize !== undefined) settings.maxHeaderListSize = options.maxHeaderListSize;
  if (options.maxFrameSize !== undefined) settings.maxFrameSize = options.maxFrameSize;
  // Validated by a throwaway connection (the core's checks, its messages).
  const probe = new H2Connection({ role: "server", now: null, settings, ...options.limits });
  const s = probe.localSettings;
  const idle = options.idleTimeoutMs ?? keepAliveTimeoutMs;
  if (typeof idle !== "number" || !(idle >= 0)) throw new RangeError(`serve: http2.idleTimeoutMs must be a non-negative number, got ${String(idle)}`);
  return {
    settings,
    core: { ...options.limits },
    // Room for every stream's window at once: a stalled stream never blocks the connection.
    connectionWindow: Math.min(MAX_WINDOW, Math.max(65535, s.initialWindowSize * Math.min(s.maxConcurrentStreams, 1024))),
    idleTimeoutMs: idle,
  };
}

/** Bytes of a request body queued for the handler before its stream's window stops being credited. */
const BODY_QUEUE_BYTES = 65536;
/**
 * DATA payloads under this size arriving in one read for one stream are
 * handed to its body stream joined, as one chunk (a body sent in 17-byte
 * frames was one stream chunk, one credit and one pull per frame); larger
 * ones go as they are (the core copied them into memory of their own, and
 * joining would copy them again).
 */
const GATHER_BELOW = 4096;

/** A payload the handler may keep: small ones share the core's slabs, so they get a copy of their own. */
function ownBytes(data: Uint8Array): Uint8Array {
  return data.byteLength === data.buffer.byteLength ? data : data.slice();
}
/** Bytes of response DATA queued in the core per stream before a streaming body waits. */
const STREAM_QUEUE_BYTES = 65536;
/** Most bytes one `pull()` produces. */
const PULL_BYTES = 256 * 1024;
/** The pieces of one send (taken into the connection before the next pull). */
const sendScratch: Uint8Array[] = [];
/** Most pieces one joined (TLS) send takes: a 256 KiB pull of 16 KiB frames is 33. */
const JOIN_PARTS = 64;
/** The joined buffer kept for the next sends grows up to this size; a larger pull (a peer's large frames) gets one of its own. */
const JOIN_KEEP = 1 << 20;
let joinBuffer = new Uint8Array(0);
/** A session's send is in progress: a send it runs (another session's flush) must not reuse the shared pieces or buffer. */
let sending = false;

/**
 * `parts` (`n` octets) copied into one buffer: the one all sessions reuse,
 * which `send()` sends or copies before it returns (as the core's own
 * buffer of `pullView`), so the bodies are copied once and nothing is
 * allocated per send; a fresh one inside another send (`nested`) or past
 * {@link JOIN_KEEP}.
 */
function joined(parts: readonly Uint8Array[], n: number, nested: boolean): Uint8Array {
  let buf = joinBuffer;
  if (nested || n > JOIN_KEEP) buf = new Uint8Array(n);
  else if (buf.length < n) buf = joinBuffer = new Uint8Array(Math.max(n, Math.min(JOIN_KEEP, PULL_BYTES + 65536)));
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    buf.set(p, at);
    at += p.length;
  }
  return buf.subarray(0, n);
}
/** How long a closing connection waits for the client's FIN before closing anyway. */
const LINGER_MS = 2000;
/** Microtask hops before a scheduled flush runs: responses ready in the same turn share a write. */
const FLUSH_HOPS = 24;

const SKIP_REQUEST_FIELD = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings"]);

/**
 * The regular fields of a request's decoded header section (a flat
 * name/value list, pseudo-headers first), read by index only when the
 * handler asks for `headers`; `host` (the authority) first when the
 * client sent none.
 */
class H2RequestFields implements RequestFieldList {
  readonly count: number;
  readonly #fields: readonly string[];
  readonly #start: number;
  readonly #host: string | undefined;

  constructor(fields: readonly string[], start: number, host: string | undefined) {
    this.#fields = fields;
    this.#start = host === undefined ? start : start - 2;
    this.#host = host;
    this.count = (fields.length - start) / 2 + (host === undefined ? 0 : 1);
  }

  rawName(i: number): string {
    return this.#host !== undefined && i === 0 ? "host" : this.#fields[this.#start + 2 * i]!;
  }

  value(i: number): string {
    return this.#host !== undefined && i === 0 ? this.#host : this.#fields[this.#start + 2 * i + 1]!;
  }
}

/** The plain 500 of a request whose handler or response failed. */
function internalError(): Response {
  return new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** One request stream (or a pushed one) and its response; its own light request's parts. */
class H2Exchange extends ExchangeInfo implements H2HandlerInfo, RequestParts {
  readonly session: H2Session;
  readonly streamId: number;
  readonly method: string;
  readonly url: string;
  readonly headers: Array<[string, string]> | RequestFieldList;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly request: Request;
  readonly pushed: boolean;
  /** The body stream's controller while the body arrives. */
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  bodyDone: boolean;
  /** Body bytes arriving now are credited and dropped. */
  discard = false;
  /** Body octets received and credited back to the client. */
  received = 0;
  credited = 0;
  /** The stream was reset (by the client or for its errors): nothing more is written. */
  reset = false;
  /** In the session's map of exchanges by stream id (one answered while its handler was called never is). */
  listed = false;
  /** Set when waiting for room to write (see H2Session.room). */
  wake: (() => void) | undefined;
  /** The reader of the response body being streamed (h2_response.ts): cancelled when the stream is reset or the connection goes. */
  bodyReader: ReadableStreamDefaultReader<unknown> | undefined;
  responseTrailers: HeadersInit | (() => HeadersInit | Promise<HeadersInit>) | undefined;
  connectProtocol = "";
  #abort: AbortController | undefined;
  #receivedTrailers: Headers | undefined;
  /** Small DATA payloads of the read being handled (made on the first). */
  #gather: BodyGather | undefined;
  /** The handler returned its Response: the body goes on at the client's pace (full duplex), no body timeout. */
  answering = false;
  /** `received` when the timeout sweep last saw it change (-1: not watched), and then (bodyStalled). */
  #sweptReceived = -1;
  #sweptAt = 0;

  constructor(session: H2Session, streamId: number, method: string, url: string, headers: Array<[string, string]> | RequestFieldList, hasBody: boolean, pushed: boolean) {
    super();
    this.session = session;
    this.streamId = streamId;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.pushed = pushed;
    this.bodyDone = !hasBody;
    let body: ReadableStream<Uint8Array> | null = null;
    if (hasBody) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.credit();
          this.session.scheduleFlush();
        },
        cancel: () => {
          this.controller = undefined;
          this.discard = true;
          this.credit();
          this.session.scheduleFlush();
        },
      }, { highWaterMark: BODY_QUEUE_BYTES, size: (chunk) => chunk.byteLength });
    }
    this.body = body;
    // The exchange is the request's parts (no closure per request).
    this.request = lightRequest(this);
  }

  get protocol(): "h2" | "h2c" {
    return this.session.protocol;
  }

  protected host(): H2Session {
    return this.session;
  }

  protected trailersNow(): Headers | undefined {
    return this.bodyDone ? this.#receivedTrailers ?? new Headers() : undefined;
  }

  push(path: string, headers?: HeadersInit): boolean {
    return this.session.push(this, path, headers);
  }

  setTrailers(trailers: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)): void {
    this.responseTrailers = trailers;
  }

  openTunnel(options: H2TunnelOptions): Response {
    if (this.connectProtocol === "") throw new TypeError("openTunnel: the request is no extended CONNECT (no :protocol)");
    if (options === null || typeof options !== "object" || typeof options.open !== "function") throw new TypeError("openTunnel: options.open must be a function");
    if (this.done) throw new TypeError("openTunnel: the request is answered already");
    const response = new Response(null, { status: 200 });
    tunnelResponses.set(response, options);
    return response;
  }

  /** The request's abort signal (made when the handler first asks for it). */
  signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.reset && !this.done) this.#abort.abort(new DOMException("the client reset the stream", "AbortError"));
    return this.#abort.signal;
  }

  /** Credits the body octets the handler has taken off the queue. */
  credit(): void {
    const c = this.controller;
    const queued = c === undefined ? 0 : Math.max(0, BODY_QUEUE_BYTES - (c.desiredSize ?? BODY_QUEUE_BYTES));
    // Octets gathered from the read being handled are not the handler's yet.
    const n = this.received - queued - (this.#gather?.bytes ?? 0) - this.credited;
    if (n > 0) {
      this.credited += n;
      // Octets nobody reads past maxBodyBytes reopen the connection's window, not the stream's: a client that goes on
      // sending stops at it (below, the stream is drained as a handler reading it would be, so an upload can end).
      if (this.discard && this.received > this.session.maxBodyBytes) this.session.drop(n);
      else this.session.consume(this.streamId, n);
    }
  }

  onData(data: Uint8Array, endStream: boolean): void {
    const n = data.length;
    this.received += n;
    if (this.received > this.session.maxBodyBytes && !this.discard) {
      this.credited += n;
      this.session.drop(n); // dropped: the connection's window gets it back
      this.session.bodyTooLarge(this);
      return;
    }
    const c = this.controller;
    if (c !== undefined && !this.discard && n > 0) {
      if (n < GATHER_BELOW && this.session.receiving) {
        // Joined with the stream's other small payloads of this read, and
        // handed on (and credited) once the read is handled: see GATHER_BELOW.
        const gather = this.#gather ??= new BodyGather();
        if (gather.count === 0) this.session.gathered(this);
        gather.add(data);
        if (!endStream) return;
      } else {
        this.handOnGathered();
        c.enqueue(ownBytes(data));
      }
    }
    if (endStream) this.endBody(undefined);
    else this.credit();
  }

  /**
   * Hands the small payloads gathered from the read being handled to the
   * body stream as one chunk (or drops them when nobody reads the body any
   * more); true when there were any.
   */
  handOnGathered(): boolean {
    const gather = this.#gather;
    if (gather === undefined || gather.count === 0) return false;
    const c = this.controller;
    if (c === undefined || this.discard) {
      // Nobody reads them: credited back at once, as ungathered ones are.
      gather.clear();
      this.credit();
    } else {
      const lone = gather.count === 1;
      const bytes = gather.take()!;
      c.enqueue(lone ? ownBytes(bytes) : bytes);
    }
    return true;
  }

  /** The whole body, received before HTTP/2 (an upgraded request): nothing to credit for it. */
  preload(body: Uint8Array): void {
    this.received += body.length;
    this.credited += body.length;
    this.controller?.enqueue(body);
    this.endBody(undefined);
  }

  endBody(trailers: Headers | undefined): void {
    if (this.bodyDone) return;
    this.handOnGathered();
    this.bodyDone = true;
    this.#receivedTrailers = trailers;
    const c = this.controller;
    this.controller = undefined;
    try {
      c?.close();
    } catch {
      // cancelled
    }
    this.resolveTrailers(trailers);
  }

  failBody(error: unknown): void {
    // What came before the failure goes first, as it would have ungathered.
    this.handOnGathered();
    const c = this.controller;
    this.controller = undefined;
    if (c !== undefined && !this.bodyDone) {
      try {
        c.error(error);
      } catch {
        // already closed
      }
    }
    if (!this.bodyDone) {
      this.bodyDone = true;
      this.resolveTrailers(undefined);
    }
    // What the client sent and nobody will read still counts against the connection window.
    this.credit();
  }

  /**
   * True once the body has not moved for `ms` while the handler waits for it
   * (nothing queued for it) before answering: the body timeout, checked by
   * the server's sweep (H2Session.checkTimer), as HTTP/1.1's
   * `bodyTimeoutMs`. Bytes queued and not taken make the handler the slow
   * side, not the client.
   */
  bodyStalled(now: number, ms: number): boolean {
    const c = this.controller;
    // Not a request body: a CONNECT stream's DATA is its tunnel's; after the
    // Response, a stream reading its body as it answers (gRPC-style) is
    // the application's to pace.
    if (this.bodyDone || this.discard || this.answering || this.method === "CONNECT" || c === undefined || (c.desiredSize ?? 0) < BODY_QUEUE_BYTES) {
      this.#sweptReceived = -1;
      return false;
    }
    if (this.received !== this.#sweptReceived) {
      this.#sweptReceived = this.received;
      this.#sweptAt = now;
      return false;
    }
    return now - this.#sweptAt >= ms;
  }

  /** The stream was reset, or the connection went: the handler's signal aborts, the body fails. */
  abandon(reason: string, name = "AbortError"): void {
    this.reset = true;
    const error = new DOMException(reason, name);
    if (!this.done) this.#abort?.abort(error);
    this.failBody(error);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    // A response body waiting on a read that may never settle (an event stream with nothing to say) ends now.
    const reader = this.bodyReader;
    this.bodyReader = undefined;
    reader?.cancel(error).catch(() => {});
  }
}

/**
 * One HTTP/2 connection of a server (made by `startH2Session` in
 * h2_route.ts, which also routes the connection's callbacks to it).
 *
 * @example
 * ```ts ignore
 * import { startH2Session } from "./h2_route.ts";
 * import { h2Config } from "./h2_session.ts";
 * import type { SessionConfig } from "./h1_session.ts";
 * import type { Connection } from "../../poll/connection.ts";
 * declare const conn: Connection, config: SessionConfig;
 * const session = startH2Session(conn, config, h2Config({}, 5000), "h2", new Uint8Array(0));
 * session.shutdown(); // GOAWAY; open streams finish
 * ```
 */
export class H2Session {
  readonly conn: Connection;
  /** The client's address once an exchange read it (ExchangeInfo.remoteAddr: once per connection). */
  peer: ServeHandlerInfo["remoteAddr"] | undefined = undefined;
  readonly config: SessionConfig;
  readonly h2: H2Connection;
  readonly protocol: "h2" | "h2c";
  readonly #options: H2Config;
  readonly #exchanges = new Map<number, H2Exchange>();
  readonly #waiting = new Set<H2Exchange>();
  #writable = true;
  #closing = false;
  #flushScheduled = false;
  /** Inside `onData`: it flushes when its events are handled. */
  #receiving = false;
  /** Exchanges that gathered DATA in the read being handled (see GATHER_BELOW). */
  readonly #gathered: H2Exchange[] = [];
  /** When the last exchange finished (the idle timeout counts from there), or -1 while exchanges run. */
  #idleSince = 0;
  /** The idle timeout started inside `onData`: it counts from the end of the read (one clock read per read). */
  #idlePending = false;
  #tickTimer: Timer | undefined;
  #tickArmed = false;
  #idleTimer: Timer | undefined;
  #goingAway = false;
  #pushesActive = 0;
  /** Streams carrying a tunnel (RFC 8441) after their `200`. */
  readonly #tunnels = new Map<number, H2StreamTransport>();
  /** The tunnels' goodbyes ({@link H2TunnelOptions.goingAway}), run once by `shutdown`. */
  readonly #tunnelGoodbyes = new Map<number, () => void>();
  #tunnelHost: H2StreamHost | undefined;
  /** Bytes handed to the connection, and the write stall check on them. */
  readonly #stall = new WriteStallWatch();
  /** Bodies taken out of responses and queued as DATA: released once the core has copied them out (see {@link releaseWhenSent}). */
  readonly #toRelease: Array<{ id: number; claim: TakenBody }> = [];
  /** Answered streams whose request body goes on: reset (NO_ERROR) once their response is out (see #resetWhenSent). */
  readonly #toReset: number[] = [];
  /** Answered streams whose request body goes on, drained up to maxBodyBytes: body octets received so far (see #drain). */
  readonly #draining = new Map<number, number>();

  constructor(conn: Connection, config: SessionConfig, options: H2Config, protocol: "h2" | "h2c") {
    this.conn = conn;
    this.config = config;
    this.protocol = protocol;
    this.#options = options;
    this.h2 = new H2Connection({
      role: "server",
      // RFC 8441: WebSockets over HTTP/2 when the handler takes them.
      settings: EXTENDED_CONNECT_HANDLERS.has(config.fetch) ? { ...options.settings, enableConnectProtocol: true } : options.settings,
      autoWindowUpdate: false,
      connectionWindowSize: options.connectionWindow,
      ...options.core,
    });
  }

  /** The client's first bytes (from the preface on), after `upgrade` when it was one. */
  start(bytes: Uint8Array): void {
    if (this.config.draining) this.shutdown();
    this.#armIdle();
    if (bytes.length > 0) this.onData(bytes);
    else this.flush();
  }

  /**
   * `Upgrade: h2c`: stream 1 is the upgraded request, its `body` received
   * over HTTP/1.1 already (or null). Throws an `HTTP2Error` when `settings`
   * is no valid SETTINGS payload.
   */
  upgrade(settings: Uint8Array, method: string, url: string, headers: Array<[string, string]>, body: Uint8Array | null = null): void {
    this.h2.upgrade(settings, method);
    const ex = new H2Exchange(this, 1, method, url, headers, body !== null, false);
    if (body !== null) ex.preload(body);
    ex.listed = true;
    this.#exchanges.set(1, ex);
    this.#dispatch(ex);
  }

  get gone(): boolean {
    return this.conn.closed;
  }

  // ---- connection callbacks

  onData(bytes: Uint8Array): void {
    if (this.#closing) return;
    const events = this.h2.receive(bytes);
    // Request metrics' latencies end at the end of this read (below), without a microtask of their own.
    holdLatencies();
    try {
      this.#receiving = true;
      try {
        for (let i = 0; i < events.length; i++) this.#event(events[i]!);
      } finally {
        this.#receiving = false;
        if (this.#gathered.length > 0) this.#handOnGathered();
        if (this.#idlePending) {
          this.#idlePending = false;
          this.#idleSince = metricsNowMs();
        }
      }
      this.flush();
    } finally {
      // Request metrics (serve's `metrics`) end their requests of this read here, their responses flushed (no clock read of their own).
      releaseLatencies();
    }
  }

  /** Inside `onData`: small DATA payloads are gathered per stream until its events are handled. */
  get receiving(): boolean {
    return this.#receiving;
  }

  /** `ex` gathered DATA in this read: handed on when the read's events are handled. */
  gathered(ex: H2Exchange): void {
    this.#gathered.push(ex);
  }

  /** Each stream's DATA of this read goes to its body stream as one chunk, and is credited as the handler takes it. */
  #handOnGathered(): void {
    const list = this.#gathered;
    for (let i = 0; i < list.length; i++) {
      const ex = list[i]!;
      if (ex.handOnGathered() && !ex.bodyDone) ex.credit();
    }
    list.length = 0;
  }

  onDrain(): void {
    this.#writable = true;
    this.flush();
  }

  onEnd(): void {
    // The client will send nothing more: its streams cannot complete.
    void this.conn.close();
  }

  onClose(): void {
    this.#closing = true;
    this.#tickTimer?.cancel();
    this.#idleTimer?.cancel();
    for (const ex of this.#exchanges.values()) ex.abandon("the connection closed");
    this.#exchanges.clear();
    for (const tunnel of [...this.#tunnels.values()]) tunnel.onConnectionClosed(undefined);
    for (const ex of this.#waiting) ex.wake?.();
    this.#waiting.clear();
    if ((this.config.sessions as Set<unknown>).delete(this)) this.config.sessionClosed();
  }

  /** Graceful shutdown: GOAWAY; the streams opened so far finish, then the connection closes. */
  shutdown(): void {
    if (this.#goingAway || this.conn.closed) return;
    this.#goingAway = true;
    if (!this.h2.dead && this.h2.goawaySent < 0) {
      this.h2.goaway(ErrorCode.NO_ERROR);
      if (this.#options.logger !== undefined) this.#options.logger.debug("h2: GOAWAY sent", { address: this.#address(), code: ErrorCode.NO_ERROR });
    }
    for (const id of [...this.#tunnelGoodbyes.keys()]) this.#tunnelGoingAway(id);
    this.flush();
  }

  /** Runs the goodbye of the tunnel on stream `id` (once). */
  #tunnelGoingAway(id: number): void {
    const hook = this.#tunnelGoodbyes.get(id);
    if (hook === undefined) return;
    this.#tunnelGoodbyes.delete(id);
    try {
      hook();
    } catch {
      // the protocol's goodbye failed: the deadline closes the connection
    }
  }

  /** The client's address for a record (`host:port`, `[v6]:port`), or undefined once the socket is gone. */
  #address(): string | undefined {
    try {
      const a = this.conn.remoteAddress;
      return a.family === "unix" ? a.path : a.family === "ipv6" ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    } catch {
      return undefined;
    }
  }

  /** One connection-level or reset event as a record (only with a logger; see {@link H2Config.logger}). */
  #logEvent(log: Logger, e: H2Event): void {
    switch (e.type) {
      case "rst":
        log.debug("h2: stream reset by the client", { address: this.#address(), streamId: e.streamId, code: e.code });
        return;
      case "stream-error":
        log.debug("h2: stream reset, the client broke the protocol", { address: this.#address(), streamId: e.streamId, code: e.error.http2Code, error: e.error });
        return;
      case "error":
        log.warn("h2: connection error, GOAWAY sent", { address: this.#address(), code: e.error.http2Code, error: e.error });
        return;
      case "goaway":
        log.debug("h2: GOAWAY received", { address: this.#address(), lastStreamId: e.lastStreamId, code: e.code });
        return;
    }
  }

  // ---- events

  #event(e: H2Event): void {
    if (this.#options.logger !== undefined && (e.type === "rst" || e.type === "stream-error" || e.type === "error" || e.type === "goaway")) this.#logEvent(this.#options.logger, e);
    switch (e.type) {
      case "headers":
        this.#onRequest(e.streamId, e.headers, e.endStream);
        return;
      case "data": {
        const tunnel = this.#tunnels.get(e.streamId);
        if (tunnel !== undefined) return tunnel.onData(e.data, e.endStream);
        const ex = this.#exchanges.get(e.streamId);
        if (ex !== undefined && !ex.bodyDone) ex.onData(e.data, e.endStream);
        else this.#drain(e.streamId, e.data.length, e.endStream);
        return;
      }
      case "trailers": {
        const ex = this.#exchanges.get(e.streamId);
        if (ex === undefined) return;
        const headers = new Headers();
        for (let i = 0; i < e.headers.length; i += 2) {
          try {
            headers.append(e.headers[i]!, e.headers[i + 1]!);
          } catch {
            // a value the runtime's Headers refuses
          }
        }
        ex.endBody(headers);
        return;
      }
      case "rst":
      case "stream-error": {
        const tunnel = this.#tunnels.get(e.streamId);
        if (tunnel !== undefined) return tunnel.onReset(e.type === "rst" ? e.code : e.error.http2Code);
        const ex = this.#exchanges.get(e.streamId);
        if (ex === undefined || ex.done) {
          // Nobody works on it any more: its place among the concurrent streams is free.
          this.#draining.delete(e.streamId);
          this.#release(e.streamId);
          if (ex !== undefined) this.#exchanges.delete(e.streamId);
        } else ex.abandon(e.type === "rst" ? "the client reset the stream" : "the client broke the protocol on this stream");
        // The handler still runs: the stream is released when it finishes (rapid reset protection).
        return;
      }
      case "error":
        // GOAWAY is queued; the connection closes once it is written.
        for (const ex of this.#exchanges.values()) ex.abandon("the connection failed");
        return;
      default:
        // goaway, settings, window-update, ping … : the core answered; flush wakes writers.
        return;
    }
  }

  #onRequest(id: number, fields: string[], endStream: boolean): void {
    // Requests of a read after which the core failed the connection (a flood's GOAWAY) reach no handler: nothing could answer them.
    if (this.h2.dead) return;
    let method = "GET";
    let scheme = "http";
    let authority = "";
    let path = "/";
    let protocol = "";
    // The core checked the section: pseudo-headers come first.
    let i = 0;
    for (; i < fields.length && fields[i]!.charCodeAt(0) === 0x3a; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":authority") authority = value;
      else if (name === ":scheme") scheme = value;
      else if (name === ":protocol") protocol = value;
    }
    const start = i;
    let cookies = 0;
    let host = false;
    let declared = -1;
    for (; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name === "cookie") cookies++;
      else if (name === "host") {
        host = true;
        if (authority === "") authority = fields[i + 1]!;
      } else if (name === "content-length") declared = Number(fields[i + 1]!.split(",")[0]);
    }
    if (authority === "") authority = this.config.authority;
    let headers: Array<[string, string]> | RequestFieldList;
    // One cookie field or none: the fields as decoded, read when asked for.
    if (cookies < 2) headers = new H2RequestFields(fields, start, host ? undefined : authority);
    else {
      const list: Array<[string, string]> = host ? [] : [["host", authority]];
      let cookie: string | undefined;
      for (let k = start; k < fields.length; k += 2) {
        const name = fields[k]!;
        const value = fields[k + 1]!;
        // RFC 9113 §8.2.3: crumbs are joined with "; ", not ", ".
        if (name === "cookie") cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        else list.push([name, value]);
      }
      list.push(["cookie", cookie!]);
      headers = list;
    }
    // The URL takes the scheme of the connection, not :scheme: a client of
    // h2c sending ":scheme: https" would otherwise make a handler that
    // trusts url.protocol take a cleartext connection for TLS (as an
    // absolute-form target over HTTP/1.1 cannot either).
    scheme = this.protocol === "h2" ? "https" : "http";
    let url: string;
    // The URL parser's spelling (requestUrl): a lower-case host without its default port, no dot segments.
    const origin = scheme === "https" ? "https://" : "http://";
    if (method === "CONNECT" && protocol === "") url = requestUrl(origin, authority, "/");
    else if (path.charCodeAt(0) === 0x2f) url = requestUrl(origin, authority, path);
    // `OPTIONS *` (the core allows "*" for OPTIONS only): "#*", as over HTTP/1.1, tells it from `OPTIONS /`.
    else if (path === "*") url = `${requestUrl(origin, authority, "/")}#*`;
    else {
      // A :path of another :scheme (the core lets "urn:x" through for a scheme not http(s)): its url could only be made up.
      this.#resetStream(id, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const ex = new H2Exchange(this, id, method, url, headers, !endStream, false);
    ex.connectProtocol = protocol;
    this.#disarmIdle();
    // A body announced above maxBodyBytes: 413 before the handler, as over HTTP/1.1.
    if (!endStream && declared > this.maxBodyBytes) this.bodyTooLarge(ex);
    else this.#dispatch(ex);
    // Answered at once (the usual static response): no event will look for it by id, so it never joins the map.
    if (!ex.done) {
      ex.listed = true;
      this.#exchanges.set(id, ex);
    }
  }

  // ---- handlers and responses

  #dispatch(ex: H2Exchange): void {
    let result: Response | Promise<Response>;
    try {
      result = this.config.fetch(ex.request, ex);
    } catch (err) {
      void this.#failed(ex, err);
      return;
    }
    if (result instanceof Response) {
      this.#respondNow(ex, result);
      return;
    }
    Promise.resolve(result).then((response) => {
      if (!(response instanceof Response)) throw new TypeError(`the fetch handler must return a Response, got ${response === null ? "null" : typeof response}`);
      this.#respondNow(ex, response);
    }).catch((err) => this.#failed(ex, err));
  }

  /** Most octets of one request body (serve's `maxBodyBytes`, as over HTTP/1.1). */
  get maxBodyBytes(): number {
    return this.config.parser.maxBodyBytes ?? HTTP1_LIMITS.maxBodyBytes;
  }

  /**
   * `ex`'s body went past {@link H2Session.maxBodyBytes} (or announced it
   * would): the handler's read fails (`HPE_BODY_TOO_LARGE`, as over
   * HTTP/1.1), a handler that has not answered is answered with 413 (its
   * own response is not sent), and the stream is reset so that the client
   * stops sending: NO_ERROR once a complete response has gone out (RFC 9113
   * §8.1; a 413 waiting for the client's window is not dropped by it),
   * CANCEL while a response is still being written.
   */
  bodyTooLarge(ex: H2Exchange): void {
    const error = new HTTP1ParseError("HPE_BODY_TOO_LARGE", `the request body is larger than maxBodyBytes (${this.maxBodyBytes})`, ex.received);
    ex.discard = true;
    ex.failBody(error);
    if (ex.reset || this.conn.closed || this.h2.dead) return;
    if (!ex.done && !ex.answering) {
      ex.answering = true;
      const tooLarge = new Response("Content Too Large", { status: 413, headers: { "content-type": "text/plain; charset=utf-8" } });
      try {
        if (writeStaticH2Response(this, ex, tooLarge)) this.#finished(ex);
      } catch (err) {
        this.config.report(err);
      }
    }
    if (ex.done) this.#resetWhenSent(ex.streamId);
    else {
      this.#resetStream(ex.streamId, ErrorCode.CANCEL);
      ex.abandon("the request body is larger than maxBodyBytes");
    }
    this.scheduleFlush();
  }

  /** Writes a response that needs no waiting in this turn; any other goes to `#respond`. */
  #respondNow(ex: H2Exchange, response: Response): void {
    const tunnel = tunnelResponses.get(response);
    if (tunnel !== undefined) return this.#openTunnel(ex, tunnel);
    // A connection the core failed (a flood's GOAWAY) takes no response: #respond lets the exchange go without a report.
    if (!ex.done && !ex.reset && !this.conn.closed && !this.h2.dead) {
      try {
        if (writeStaticH2Response(this, ex, response)) {
          this.#finished(ex);
          return;
        }
      } catch (err) {
        void this.#failed(ex, err);
        return;
      }
    }
    void this.#respond(ex, response);
  }

  async #failed(ex: H2Exchange, error: unknown): Promise<void> {
    if (ex.done) return;
    if (ex.reset) {
      this.#finished(ex);
      return;
    }
    let response: Response | undefined;
    const onError = this.config.onError;
    if (onError !== undefined) {
      try {
        response = await onError(error, ex.request);
        if (!(response instanceof Response)) response = undefined;
      } catch {
        response = undefined;
      }
    } else this.config.report(error);
    await this.#respond(ex, response ?? internalError(), true);
  }

  /** `fallback`: `response` answers a failure already (one that fails too is not answered again). */
  async #respond(ex: H2Exchange, response: Response, fallback = false): Promise<void> {
    if (ex.done) return;
    ex.answering = true;
    if (ex.reset || this.conn.closed) {
      void response.body?.cancel().catch(() => {});
      this.#finished(ex);
      return;
    }
    const sent = { head: false };
    try {
      await writeH2Response(this, ex, response, sent);
    } catch (err) {
      if (!ex.reset && !this.conn.closed && !this.h2.dead) {
        this.config.report(err);
        // Nothing went out (a locked or used body, non-byte chunks, a stream failing at once): a 500, as HTTP/1.1 answers.
        if (!sent.head && !fallback) return this.#respond(ex, internalError(), true);
        this.#resetStream(ex.streamId, ErrorCode.INTERNAL_ERROR);
      }
    }
    this.#finished(ex);
  }

  /** Answers an extended CONNECT with `200` and hands its stream over as a transport. */
  #openTunnel(ex: H2Exchange, options: H2TunnelOptions): void {
    if (ex.done) return;
    if (ex.reset || this.conn.closed || this.h2.dead) {
      this.#finished(ex);
      return;
    }
    const fields = [":status", "200"];
    for (const [name, value] of options.headers ?? []) fields.push(name.toLowerCase(), value);
    try {
      this.h2.respond(ex.streamId, fields, false);
    } catch (err) {
      this.config.report(err);
      this.#resetStream(ex.streamId, ErrorCode.INTERNAL_ERROR);
      this.#finished(ex);
      return;
    }
    // The stream's DATA is the tunnel's from now: the exchange is done with it.
    ex.controller = undefined;
    ex.bodyDone = true;
    ex.finish();
    this.#exchanges.delete(ex.streamId);
    const tunnel = new H2StreamTransport(this.#tunnelHost ??= this.#makeTunnelHost(), ex.streamId);
    this.#tunnels.set(ex.streamId, tunnel);
    this.scheduleFlush();
    options.open(tunnel);
    // A tunnel released inside open() is gone: its goodbye is not kept until the session ends.
    if (typeof options.goingAway === "function" && this.#tunnels.has(ex.streamId)) {
      this.#tunnelGoodbyes.set(ex.streamId, options.goingAway);
      if (this.#goingAway) this.#tunnelGoingAway(ex.streamId);
    }
  }

  #makeTunnelHost(): H2StreamHost {
    const conn = this.conn;
    return {
      loop: conn.loop,
      get remoteAddress() {
        return conn.remoteAddress;
      },
      write: (id, bytes, endStream) => {
        this.h2.sendData(id, bytes, endStream);
        this.scheduleFlush();
      },
      queued: (id) => this.h2.queuedData(id),
      consume: (id, n) => this.consume(id, n),
      reset: (id, code) => {
        this.#resetStream(id, code);
        this.scheduleFlush();
      },
      release: (id) => {
        if (!this.#tunnels.delete(id)) return;
        this.#tunnelGoodbyes.delete(id);
        this.scheduleFlush();
        if (this.#exchanges.size === 0 && this.#tunnels.size === 0) this.#armIdle();
      },
    };
  }

  /** The handler and the response are done with `ex`. */
  #finished(ex: H2Exchange): void {
    if (ex.done) return;
    if (ex.pushed) this.#pushesActive--;
    ex.finish();
    if (ex.reset) this.#release(ex.streamId);
    if (!ex.bodyDone) {
      // The handler did not read the whole body: what still comes is dropped (see #drain).
      ex.discard = true;
      const received = ex.received;
      ex.failBody(new DOMException("the response was sent", "AbortError"));
      if (!ex.reset) {
        if (received > this.maxBodyBytes) this.#resetWhenSent(ex.streamId);
        else this.#draining.set(ex.streamId, received);
      }
    }
    if (ex.listed) this.#exchanges.delete(ex.streamId);
    this.scheduleFlush();
    if (this.#exchanges.size === 0) this.#armIdle();
  }

  /** Tells the core the application has finished with a reset stream (sends nothing). */
  #release(id: number): void {
    if (this.h2.dead) return;
    try {
      this.h2.reset(id);
    } catch {
      // connection gone
    }
  }

  #resetStream(id: number, code: number): void {
    if (this.h2.dead) return;
    try {
      this.h2.reset(id, code);
    } catch {
      // connection gone
    }
  }

  /**
   * DATA of a stream whose request was answered before its body ended:
   * dropped, and credited as a reading handler's would be up to
   * maxBodyBytes of body in all (so an upload a little longer than the
   * handler wanted ends as usual, without a reset some clients take
   * badly); past that only the connection's window is reopened, and once
   * the response is all out the stream is reset with NO_ERROR (RFC 9113
   * §8.1), so the client stops within the stream's window.
   */
  #drain(id: number, n: number, endStream: boolean): void {
    const before = this.#draining.get(id);
    if (before === undefined) {
      if (n > 0) this.drop(n);
      return;
    }
    const received = before + n;
    if (endStream) this.#draining.delete(id);
    if (received <= this.maxBodyBytes) {
      if (n > 0) this.consume(id, n);
      if (!endStream) this.#draining.set(id, received);
      return;
    }
    if (n > 0) this.drop(n);
    if (!endStream) {
      this.#draining.delete(id);
      this.#resetWhenSent(id);
    }
  }

  /**
   * Resets stream `id` with NO_ERROR once the core has copied all of its
   * queued DATA into its outbound bytes (at once when there is none; after
   * a flush otherwise): a response waiting for the client's window is not
   * dropped by the reset.
   */
  #resetWhenSent(id: number): void {
    if (this.h2.queuedData(id) === 0) this.#resetStream(id, ErrorCode.NO_ERROR);
    else this.#toReset.push(id);
  }

  #resetSent(): void {
    const list = this.#toReset;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const id = list[i]!;
      if (this.h2.queuedData(id) === 0) this.#resetStream(id, ErrorCode.NO_ERROR);
      else list[kept++] = id;
    }
    list.length = kept;
  }

  /** Credits `n` dropped request body octets to the connection's window only (see H2Connection.drop). */
  drop(n: number): void {
    if (this.h2.dead || this.#closing) return;
    try {
      this.h2.drop(n);
    } catch {
      // connection gone
    }
  }

  /** Credits `n` consumed request body octets of `id`. */
  consume(id: number, n: number): void {
    if (this.h2.dead || this.#closing) return;
    try {
      this.h2.consume(id, n);
    } catch {
      // connection gone
    }
  }

  /**
   * Releases `claim` (a body taken out of a response and queued on stream
   * `id` by reference) once the core has copied all of the stream's queued
   * DATA into its outbound bytes, or dropped it (a reset): checked after
   * each flush. A connection that closes first leaves it to the collector.
   */
  releaseWhenSent(id: number, claim: TakenBody): void {
    if (this.h2.queuedData(id) === 0) releaseClaimedBody(claim);
    else this.#toRelease.push({ id, claim });
  }

  #releaseSent(): void {
    const list = this.#toRelease;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      if (this.h2.queuedData(entry.id) === 0) releaseClaimedBody(entry.claim);
      else list[kept++] = entry;
    }
    list.length = kept;
  }

  /** Whether `ex` may queue more DATA now. */
  hasRoom(ex: H2Exchange): boolean {
    return ex.reset || this.#closing || this.h2.dead || (this.#writable && this.h2.queuedData(ex.streamId) < STREAM_QUEUE_BYTES);
  }

  /** Resolves when `ex` may queue more DATA (or can never: check `ex.reset`, `gone`). */
  room(ex: H2Exchange): Promise<void> {
    if (this.hasRoom(ex)) return Promise.resolve();
    return new Promise((resolve) => {
      ex.wake = resolve;
      this.#waiting.add(ex);
    });
  }

  /** Server push for `parent` (see {@link H2HandlerInfo.push}). */
  push(parent: H2Exchange, path: string, headers: HeadersInit | undefined): boolean {
    if (typeof path !== "string" || path.charCodeAt(0) !== 0x2f) throw new TypeError(`push: path must start with "/", got ${String(path)}`);
    if (parent.pushed || parent.done || parent.reset || this.#goingAway || this.h2.dead || !this.h2.remoteSettings.enablePush) return false;
    // Pushed streams count against the client's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2).
    if (this.#pushesActive >= this.h2.remoteSettings.maxConcurrentStreams) return false;
    const url = new URL(parent.request.url);
    const authority = url.host;
    const scheme = url.protocol === "https:" ? "https" : "http";
    const fields = [":method", "GET", ":scheme", scheme, ":authority", authority, ":path", path];
    const list: Array<[string, string]> = [["host", authority]];
    for (const [name, value] of new Headers(headers)) {
      if (SKIP_REQUEST_FIELD.has(name) || name === "host") continue;
      fields.push(name, value);
      list.push([name, value]);
    }
    let id: number;
    try {
      id = this.h2.push(parent.streamId, fields);
    } catch (err) {
      if (err instanceof HTTP2Error) return false;
      throw err;
    }
    const ex = new H2Exchange(this, id, "GET", `${scheme}://${authority}${path}`, list, false, true);
    ex.listed = true;
    this.#exchanges.set(id, ex);
    this.#pushesActive++;
    this.#dispatch(ex);
    this.scheduleFlush();
    return true;
  }

  // ---- output

  /** Flushes once the responses ready in this turn have queued their frames. */
  scheduleFlush(): void {
    if (this.#flushScheduled || this.#receiving) return;
    this.#flushScheduled = true;
    void this.#deferredFlush();
  }

  async #deferredFlush(): Promise<void> {
    for (let i = 0; i < FLUSH_HOPS; i++) await undefined;
    this.#flushScheduled = false;
    this.flush();
  }

  /** Writes what the core has to send, as the socket takes it; wakes writers with room; closes when done. */
  flush(): void {
    const conn = this.conn;
    if (conn.closed) return;
    const h2 = this.h2;
    if (!this.#closing) this.#send();
    if (this.#toRelease.length > 0) this.#releaseSent();
    if (this.#toReset.length > 0) {
      this.#resetSent();
      if (!this.#closing) this.#send(); // the resets just queued go in this flush
    }
    if (this.#tunnels.size > 0) for (const tunnel of this.#tunnels.values()) tunnel.onFlushed();
    if (this.#waiting.size > 0) {
      for (const ex of this.#waiting) {
        if (!this.hasRoom(ex)) continue;
        this.#waiting.delete(ex);
        const wake = ex.wake;
        ex.wake = undefined;
        wake?.();
      }
    }
    if (h2.dead || (h2.finished && this.#exchanges.size === 0 && this.#tunnels.size === 0) || (this.#goingAway && h2.streamCount === 0 && this.#exchanges.size === 0 && this.#tunnels.size === 0)) {
      this.#close();
      return;
    }
    if (!this.#tickArmed) {
      const deadline = h2.nextDeadline();
      if (deadline >= 0) this.#armTick(deadline);
    }
  }

  /**
   * Hands what the core has to send to the connection now, as
   * {@link flush} does first (nothing else: no wake-ups, no close): for a
   * writer whose queued DATA borrows an array that may change once it
   * returns. What the connection does not take stays queued in the core.
   */
  sendQueued(): void {
    if (!this.conn.closed && !this.#closing) this.#send();
  }

  /** Hands the core's output to the connection while it takes it. */
  #send(): void {
    const conn = this.conn;
    const h2 = this.h2;
    // A plain socket sends frame headers and body arrays in one sendmsg
    // (no copy of the bodies into frames); TLS encrypts one buffer.
    const gather = conn.gathersParts;
    while (this.#writable && h2.wantsWrite) {
      // A send can run another session's flush (a drain, a tunnel): that
      // one gets pieces and a joined buffer of its own.
      const nested = sending;
      const parts = nested ? [] : sendScratch;
      // Views of the core's buffer and of queued bodies: the connection sends or copies them before the next pull.
      const n = h2.pullParts(parts, gather ? PARTS_MAX : JOIN_PARTS, PULL_BYTES);
      if (n === 0) break;
      this.#stall.handed += n;
      sending = true;
      let below: boolean;
      try {
        if (parts.length === 1) below = conn.send(parts[0]!);
        else if (gather) below = conn.sendParts(parts);
        // TLS: one buffer per send (a TLS write per piece would make tiny records).
        else below = conn.send(joined(parts, n, nested));
      } catch {
        break;
      } finally {
        sending = nested;
        parts.length = 0;
      }
      if (!below) this.#writable = false;
    }
  }

  #armTick(deadline: number): void {
    this.#tickArmed = true;
    const ms = Math.max(1, deadline - monotonicMs());
    if (this.#tickTimer === undefined) this.#tickTimer = this.conn.loop.timers.once(ms, () => this.#onTick()).unref();
    else this.#tickTimer.reschedule(ms);
  }

  #onTick(): void {
    this.#tickArmed = false;
    if (this.conn.closed) return;
    for (const e of this.h2.tick()) this.#event(e);
    this.flush();
  }

  /** No exchange runs from now: the idle timeout starts (one timer, re-armed lazily when it fires early). */
  #armIdle(): void {
    const ms = this.#options.idleTimeoutMs;
    if (!(ms > 0) || ms === Infinity || this.conn.closed) return;
    // A fresh clock reading (the cheapest the runtime has), not the turn's
    // (turnMs): that is as old as the synchronous run so far, and a handler
    // that blocked the thread for a while shortened the idle timeout by as
    // much. Inside a read (requests answered at once) it is read when the
    // read is handled, once however many requests it carried (the idle
    // timer never fires in between).
    if (this.#receiving) this.#idlePending = true;
    else this.#idleSince = metricsNowMs();
    if (this.#idleTimer === undefined) this.#idleTimer = this.conn.loop.timers.once(ms, () => this.#onIdle()).unref();
  }

  #disarmIdle(): void {
    this.#idleSince = -1;
    this.#idlePending = false;
  }

  #onIdle(): void {
    const timer = this.#idleTimer!;
    if (this.conn.closed || this.#closing) return;
    const ms = this.#options.idleTimeoutMs;
    // Busy now, or idle for less than the timeout: look again a timeout later (or when due).
    if (this.#idleSince < 0 || this.#exchanges.size > 0 || this.#tunnels.size > 0) timer.reschedule(ms);
    else {
      const left = this.#idleSince + ms - monotonicMs();
      if (left > 0) timer.reschedule(left);
      else this.shutdown();
    }
  }

  /**
   * Called by the server's sweep: aborts the connection when queued output
   * made no progress for `writeTimeoutMs`, as HTTP/1.1 does (a client that
   * stops reading, with a flow-control window large enough that the core's
   * zero-window timeout never starts, would otherwise hold the connection
   * and every handler waiting for room forever).
   */
  checkTimer(now: number): void {
    if (this.conn.closed) return;
    if (this.#stall.stalled(this.conn.bufferedAmount, now, this.config.writeTimeoutMs ?? WRITE_STALL_TIMEOUT_MS)) {
      this.conn.abort();
      return;
    }
    // `bodyTimeoutMs`: a stream whose body stopped while its handler waits
    // is reset (CANCEL), its body failing with a TimeoutError as over
    // HTTP/1.1. Without it one connection held up to MAX_CONCURRENT_STREAMS
    // handlers forever by opening POSTs and sending nothing more (the
    // connection's idle timeout waits while streams are open).
    const bodyMs = this.config.bodyTimeoutMs;
    if (!(bodyMs > 0) || bodyMs === Infinity || this.#exchanges.size === 0 || this.h2.dead) return;
    let reset = false;
    for (const ex of this.#exchanges.values()) {
      if (ex.done || ex.reset || !ex.bodyStalled(now, bodyMs)) continue;
      this.#resetStream(ex.streamId, ErrorCode.CANCEL);
      ex.abandon("request body timeout", "TimeoutError");
      reset = true;
    }
    if (reset) this.scheduleFlush();
  }

  /** Sends what is queued, then FIN; closes once the client closes too (or after a linger). */
  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#tickTimer?.cancel();
    this.#idleTimer?.cancel();
    const conn = this.conn;
    if (conn.closed) return;
    conn.end().then(() => {
      if (conn.closed) return;
      const t = conn.loop.timers.once(LINGER_MS, () => void conn.close()).unref();
      void conn.whenClosed.then(() => t.cancel());
    }, () => conn.abort());
  }
}

function sessionOf(conn: Connection): H2Session | undefined {
  return conn.data as H2Session | undefined;
}

/**
 * The connection handler of a connection that speaks HTTP/2 (its
 * `H2Session` in `conn.data`).
 *
 * @example
 * ```ts
 * import { H2_CONNECTION_HANDLER } from "./h2_session.ts";
 * console.log(typeof H2_CONNECTION_HANDLER.data); // "function"
 * ```
 */
export const H2_CONNECTION_HANDLER: ConnectionHandler = {
  data(conn, bytes) {
    sessionOf(conn)?.onData(bytes);
  },
  end(conn) {
    const s = sessionOf(conn);
    if (s !== undefined) s.onEnd();
    else void conn.close();
  },
  drain(conn) {
    sessionOf(conn)?.onDrain();
  },
  close(conn) {
    sessionOf(conn)?.onClose();
  },
  timeout() {
    // the session keeps its own timers
  },
};

/** @internal For h2_response.ts: the exchange type. */
export type { H2Exchange };
