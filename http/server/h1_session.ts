/**
 * One HTTP/1.1 server connection: the I/O-free `HTTP1Parser` fed from the
 * connection's handler-mode `data`, one exchange per request (pipelined
 * requests are handled concurrently and answered in order), request bodies
 * as streams with backpressure (the connection pauses while a body's
 * queue is full), responses written by respond.ts.
 *
 * Hot path: a request without a body gets no stream and no closure; its
 * light `Request` reads the head's fields only when asked. A handler that
 * returns a `Response` (not a promise) with a string or bytes body is
 * answered inside the same `data` call, and every response made during
 * one `data` call (pipelined requests) leaves in one `send`.
 *
 * Timeouts (checked by the server's sweep, see {@link H1Session.checkTimer}):
 * header read (from a request head's first byte, or from the connection's
 * opening), request body idle, keep-alive idle. A response being written
 * is never cut by one of them, only by the write stall timeout: queued
 * response bytes the client takes none of for `writeTimeoutMs` (default
 * {@link WRITE_STALL_TIMEOUT_MS}) abort the connection (a client that stops
 * reading held it, and what was queued for it, for ever).
 *
 * A client that half-closes (FIN after its requests): the requests'
 * signals abort, the responses owed still go out (RFC 9112 §9.6), and the
 * connection closes after the last of them; a handler that has not
 * answered `bodyTimeoutMs` after the FIN gets a 503 in its place.
 *
 * `Expect: 100-continue`: `100 Continue` is sent when the handler first
 * reads the body; a handler that answers without reading it gets its
 * response sent with `Connection: close` (the client may never send the
 * body).
 *
 * Upgrades: for a request with `Upgrade`, parsing stops after its head
 * until its response is known; `info.upgrade({ open })` makes the
 * response a `101 Switching Protocols`, after which the raw `Connection`
 * and the bytes that followed the head go to `open`. Otherwise the
 * upgrade is declined and the connection goes on with HTTP/1.1.
 *
 * A request the parser refuses is answered, after the responses owed
 * before it, with the status of `HTTP1_ERROR_CODES` and
 * `Connection: close`; no byte after it is processed.
 *
 * @example
 * ```ts ignore
 * import { listen } from "../../poll/listener.ts";
 * import { sessionHandler, type SessionConfig } from "./h1_session.ts";
 * declare const config: SessionConfig;
 * listen({ port: 8000, handler: sessionHandler(config) });
 * ```
 *
 * @module
 */
import { HTTP1ParseError } from "../../core/errors.ts";
import { holdLatencies, metricsNowMs, releaseLatencies } from "../../core/metrics_clock.ts";
import { BodyGather } from "../body_gather.ts";
import { WriteStallWatch } from "./write_stall.ts";
import type { Connection, ConnectionHandler } from "../../poll/connection.ts";
import type { Loop } from "../../poll/loop.ts";
import type { FieldBlock, MessageHead } from "../h1/fields.ts";
import { HTTP1_ERROR_CODES, HTTP1Parser, type HTTP1ParserOptions } from "../h1/parser.ts";
import { OutBuffer } from "./out_buffer.ts";
import { requestUrl } from "./request_url.ts";
import { lightRequest, type RequestParts } from "./request.ts";
import { ownLightBytes } from "./light_response.ts";
import { RequestFields, RequestHeadMemo } from "./request_fields.ts";
import { errorResponseBytes, type ResponseContext, type ResponseSink, type TrailersInit, writeResponse } from "./respond.ts";
import { answerOverloaded } from "./limits_http.ts";
import { ExchangeInfo } from "./exchange_info.ts";

/**
 * What {@link ServeHandlerInfo.upgrade} takes.
 *
 * @example
 * ```ts
 * import type { UpgradeOptions } from "./h1_session.ts";
 * const options: UpgradeOptions = {
 *   headers: { "sec-websocket-accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" },
 *   open: (conn, head) => conn.setHandler({ data: (c, bytes) => c.send(bytes) }),
 * };
 * ```
 */
export interface UpgradeOptions {
  /** Fields of the `101` response (`Connection: Upgrade` and `Upgrade` are added). */
  headers?: HeadersInit;
  /**
   * The protocol switched to, the `101`'s `Upgrade` (RFC 9110 §7.8: the
   * protocol(s) the connection switches to, of those the request listed):
   * a WebSocket gives `websocket`. Default: the request's `Upgrade` as sent.
   */
  protocol?: string;
  /**
   * Called once the `101` is written, with the raw connection (its handler
   * is the caller's to set: `conn.setHandler(...)`, or read with
   * `conn.read()`) and the bytes the client sent after the request head.
   */
  open(conn: Connection, head: Uint8Array): void;
  /**
   * Called once when the server starts a graceful shutdown while the
   * connection is switched (or at once, when it switched during one): the
   * protocol says goodbye its way (a WebSocket sends Close 1001 Going
   * Away). The connection is aborted at the shutdown deadline all the same.
   */
  goingAway?(): void;
}

/**
 * The second argument of a `fetch` handler.
 *
 * @example
 * ```ts
 * import type { ServeHandlerInfo } from "./h1_session.ts";
 * function log(info: ServeHandlerInfo) {
 *   console.log(info.remoteAddr.hostname, info.remoteAddr.port);
 *   info.completed.then(() => console.log("response sent"));
 * }
 * ```
 */
export interface ServeHandlerInfo {
  /** The client's address. */
  readonly remoteAddr: { readonly hostname: string; readonly port: number; readonly transport: "tcp" };
  /** Resolves once the response was written (or the connection closed first). */
  readonly completed: Promise<void>;
  /**
   * The request's trailer fields (a chunked body's), once its body has been
   * read to the end; empty when it had none or the body was not read whole.
   */
  readonly trailers: Promise<Headers>;
  /**
   * Trailer fields sent after the response body (HTTP/1.1: the body is then
   * chunked; HTTP/1.0 clients and HEAD get none). A function is called
   * once the body has ended, so it may report on it. Fields RFC 9110
   * §6.5.1 keeps out of trailers are a TypeError then, and the connection
   * (HTTP/2: the stream) is reset.
   */
  setTrailers(trailers: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)): void;
  /**
   * HTTP/1.1 only (undefined on HTTP/2 requests): switches the connection
   * to another protocol. Returns the response the handler must return; it
   * is written as `101 Switching Protocols`, then `options.open` gets the
   * connection. Throws a `TypeError` for a request without `Upgrade`.
   */
  upgrade?(options: UpgradeOptions): Response;
}

/**
 * A request handler: the runtime's own `Request` in, a `Response` out.
 *
 * @example
 * ```ts
 * import type { ServeHandler } from "./h1_session.ts";
 * const hello: ServeHandler = (request) => new Response(`hello ${new URL(request.url).pathname}`);
 * ```
 */
export type ServeHandler = (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>;

/**
 * Counts of what a server refused, by the limit that refused it.
 *
 * @example
 * ```ts
 * import type { ServerRejections } from "./h1_session.ts";
 * const none: ServerRejections = { maxConnections: 0, rateLimit: 0, protect: 0 };
 * ```
 */
export interface ServerRejections {
  /** Connections over `maxConnections`, answered `503` (HTTP/2 over TLS: on their first stream). */
  maxConnections: number;
  /** Requests over `rateLimit`, answered `429`. */
  rateLimit: number;
  /** Connections the `protect` gate refused at accept (closed before any byte was read). */
  protect: number;
}

/**
 * What every session of a server shares (made by `serve`).
 *
 * @example
 * ```ts
 * import type { SessionConfig } from "./h1_session.ts";
 * type Timeouts = Pick<SessionConfig, "headersTimeoutMs" | "keepAliveTimeoutMs" | "bodyTimeoutMs">;
 * const t: Timeouts = { headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, bodyTimeoutMs: 30_000 };
 * ```
 */
export interface SessionConfig {
  fetch: ServeHandler;
  onError: ((error: unknown, request: Request) => Response | Promise<Response>) | undefined;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  bodyTimeoutMs: number;
  maxConnections: number;
  /** Requests served on one connection; the last one's response closes it (Infinity: no bound). */
  maxRequestsPerConnection: number;
  parser: HTTP1ParserOptions;
  /** `host:port` for requests without a Host field (HTTP/1.0). */
  authority: string;
  /** The scheme of request URLs: "https://" on a TLS listener, "http://" on a plain one. */
  origin: "http://" | "https://";
  /** Requests and connections refused by a limit, by reason (the server's `rejected`). */
  rejected: ServerRejections;
  /** The sessions open now. */
  sessions: Set<H1Session>;
  /** Connections handed over by an upgrade, open now (closed at the shutdown deadline). */
  upgraded: Set<Connection>;
  /** Graceful shutdown started: finish what is in flight, take nothing new. */
  draining: boolean;
  /** Connections are unref'd. */
  unrefed: boolean;
  /** A session opened (the server starts its timeout sweep). */
  sessionOpened(): void;
  /** A session or upgraded connection closed (the server checks whether it is finished). */
  sessionClosed(): void;
  /** Reports an error no response can carry (a body stream failing mid-response …). */
  report(error: unknown): void;
  /** Most time queued response bytes wait without the client taking any (default {@link WRITE_STALL_TIMEOUT_MS}; 0 disables). */
  writeTimeoutMs?: number;
}

const T_NONE = 0;
const T_HEADER = 1;
const T_BODY = 2;
const T_IDLE = 3;
/** The client ended its side (FIN) while a handler owes a response: it has `bodyTimeoutMs` from then on. */
const T_GONE = 4;
/** How long a closing connection waits for the client's FIN before closing anyway. */
const LINGER_MS = 2000;
/** Bytes a request body stream queues before the connection pauses. */
const BODY_QUEUE_BYTES = 65536;
/**
 * Requests read ahead of their responses (pipelined) before the connection
 * stops reading: with responses that the client does not read, or handlers
 * that take their time, what one connection holds stays bounded.
 */
export const MAX_PIPELINED_REQUESTS = 64;
/**
 * Default of `SessionConfig.writeTimeoutMs`: how long response bytes may
 * stay queued while the client takes none of them (it stopped reading: a
 * slow-read attack) before the connection is aborted.
 */
export const WRITE_STALL_TIMEOUT_MS = 30_000;

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const SCHEME = /^https?:\/\//i;

/** The authority of an absolute-form http(s) target (checked by the parser): between "//" and the first "/", "?" or the end. */
function targetAuthority(target: string): string {
  const from = target.indexOf("//") + 2;
  let end = from;
  while (end < target.length && target.charCodeAt(end) !== 0x2f && target.charCodeAt(end) !== 0x3f) end++;
  return target.slice(from, end);
}
const upgrades = new WeakMap<Response, UpgradeOptions>();

/**
 * Whether `response` is the one {@link ServeHandlerInfo.upgrade} returned
 * (written as `101 Switching Protocols`, though it says 200), as
 * middleware such as the access log sees it.
 *
 * @example
 * ```ts
 * import { isUpgradeResponse } from "./h1_session.ts";
 * console.log(isUpgradeResponse(new Response("ok"))); // false
 * ```
 */
export function isUpgradeResponse(response: Response): boolean {
  return upgrades.has(response);
}

// RFC 9110 §7.8: Upgrade = #protocol, protocol = token ["/" token].
const UPGRADE_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?)*$/;
const REPLACED_BY_UPGRADE = new Set(["connection", "upgrade", "content-length", "transfer-encoding", "keep-alive"]);

/** Responses made during one `data` call, sent together at its end (one session at a time). */
const cork = new OutBuffer(4096);
/** Bytes sent while corked up to this size are copied into the cork buffer; larger ones are sent after it. */
const CORK_COPY_MAX = 32768;
let corked: H1Session | undefined;

/**
 * How long after a read whose requests were all answered at once the
 * client's next request is expected (`Loop.expectEvents`): meanwhile a
 * tick that finds nothing waits up to the loop's `lingerMs` on this thread
 * again instead of parking on the helper thread (~100 µs of CPU per
 * round trip). A client that takes a large response a little slowly (wrk
 * reading 64 KiB bodies on a loaded machine) made the linger miss by a
 * millisecond and the loop park about once per 25 requests (Bun, Node,
 * Deno); with this, once per 250–300.
 */
const NEXT_REQUEST_MS = 5;
/** The loop and its tick in which {@link expectNextRequest} last told it: once per tick of a loop is enough. */
let expectedLoop: Loop | undefined;
let expectedInTick = -1;

function expectNextRequest(loop: Loop): void {
  const tick = loop.stats.ticks;
  if (tick === expectedInTick && loop === expectedLoop) return;
  expectedLoop = loop;
  expectedInTick = tick;
  loop.expectEvents(NEXT_REQUEST_MS);
}

/** Whether `head` has an Expect field with an expectation other than `100-continue` (RFC 9110 §10.1.1). */
function unmetExpectation(head: MessageHead): boolean {
  for (let i = 0; i < head.count; i++) {
    if (head.nameIs(i, "expect") && head.value(i).trim().toLowerCase() !== "100-continue") return true;
  }
  return false;
}

function bodyStrategy(expectContinue: boolean): QueuingStrategy<Uint8Array> {
  // With 100-continue, a high-water mark of 0: pull() runs only for a real read.
  return { highWaterMark: expectContinue ? 0 : BODY_QUEUE_BYTES, size: (chunk) => chunk.byteLength };
}

function clientGoneError(): DOMException {
  return new DOMException("the client closed the connection", "AbortError");
}

/** One request and its response; also the parts of its light `Request` and the handler's `info`. */
class Exchange extends ExchangeInfo implements ServeHandlerInfo, RequestParts {
  readonly session: H1Session;
  readonly method: string;
  readonly http10: boolean;
  keepAlive: boolean;
  readonly expectContinue: boolean;
  /** The request asked to switch to this protocol ("" when it did not). */
  readonly upgradeTo: string;
  continueSent = false;
  wantsContinue = false;
  /** The body stream's controller while the body is being received. */
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly hasBody: boolean;
  bodyDone: boolean;
  /** Body bytes still arriving are dropped (the response is done). */
  discard = false;
  /** The body failed to parse: the exchange is answered with the session's error status. */
  poisoned = false;
  /** Read ahead of {@link MAX_PIPELINED_REQUESTS} others: the handler runs once the queue is shorter. */
  deferred = false;
  response: Response | undefined;
  /** What {@link Exchange.setTrailers} gave. */
  responseTrailers: TrailersInit | undefined;
  readonly request: Request;
  readonly headers: RequestFields;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly #target: string;
  #url: string | undefined;
  #abort: AbortController | undefined;
  #trailers: Headers | undefined;

  /** `target`: the request-target of `head`. */
  constructor(session: H1Session, head: MessageHead, target: string) {
    super();
    this.session = session;
    this.method = head.method;
    this.http10 = head.versionMinor === 0;
    this.keepAlive = head.keepAlive && !(head.upgrade && head.method === "CONNECT");
    this.hasBody = head.framing === "chunked" || (head.framing === "length" && head.contentLength > 0);
    this.bodyDone = !this.hasBody;
    this.#target = target;
    const fields = session.heads.fieldsOf(head);
    // Absolute-form (RFC 9112 §3.2.2): the target's authority is the request's, in the url and in the Host field alike.
    this.headers = target.charCodeAt(0) !== 0x2f && SCHEME.test(target) ? fields.withHost(targetAuthority(target)) : fields;
    let expect = false;
    let upgradeTo = "";
    if (this.hasBody || head.upgrade) {
      for (let i = 0; i < head.count; i++) {
        if (head.nameIs(i, "expect") && head.value(i).toLowerCase() === "100-continue") expect = true;
        else if (head.upgrade && head.nameIs(i, "upgrade")) upgradeTo = head.value(i);
      }
    }
    this.upgradeTo = head.upgrade && head.method !== "CONNECT" ? upgradeTo : "";
    this.expectContinue = expect && this.hasBody && !this.http10;
    let body: ReadableStream<Uint8Array> | null = null;
    if (this.hasBody) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.session.bodyPulled(this, true),
        cancel: () => {
          this.discard = true;
          this.controller = undefined;
          this.session.bodyPulled(this);
        },
      }, bodyStrategy(this.expectContinue));
    }
    this.body = body;
    this.request = lightRequest(this);
  }

  get url(): string {
    if (this.#url !== undefined) return this.#url;
    const target = this.#target;
    // The same fields and target as the request the connection's memo remembers: its URL.
    const memo = this.session.heads;
    const shared = this.headers === memo.fields && target === memo.target;
    if (shared && memo.url !== undefined) return (this.#url = memo.url);
    let url: string;
    const config = this.session.config;
    // An empty Host (valid by its grammar) is no authority: "http:///x" would parse as host "x", path "/".
    // The URL parser's spelling (requestUrl): a lower-case host without its default port, no dot segments.
    if (target.charCodeAt(0) === 0x2f) url = requestUrl(config.origin, this.headers.get("host") || config.authority, target);
    // Absolute-form: its host and path, with the scheme of the connection ("GET https://a/ HTTP/1.1" over cleartext is not https).
    else if (SCHEME.test(target)) {
      const authority = targetAuthority(target);
      url = requestUrl(config.origin, authority, target.slice(target.indexOf("//") + 2 + authority.length));
    }
    // Asterisk-form (`OPTIONS *`, the server as a whole): the fragment "#*", which no request-target can carry, tells it
    // from `OPTIONS /` (the path stays "/"); authority-form (CONNECT): the root.
    else url = `${requestUrl(config.origin, this.headers.get("host") || config.authority, "/")}${target === "*" ? "#*" : ""}`;
    if (shared) memo.url = url;
    return (this.#url = url);
  }

  protected host(): H1Session {
    return this.session;
  }

  protected trailersNow(): Headers | undefined {
    return this.bodyDone && !this.discard ? this.#trailers ?? new Headers() : undefined;
  }

  upgrade(options: UpgradeOptions): Response {
    if (this.upgradeTo === "") throw new TypeError("upgrade: the request asks for no protocol upgrade (no Upgrade field)");
    if (options === null || typeof options !== "object" || typeof options.open !== "function") throw new TypeError("upgrade: options.open must be a function");
    if (this.response !== undefined || this.done) throw new TypeError("upgrade: the request is answered already");
    if (options.protocol !== undefined && (typeof options.protocol !== "string" || !UPGRADE_LIST.test(options.protocol))) {
      throw new TypeError(`upgrade: protocol must be a list of protocol tokens, got ${JSON.stringify(options.protocol)}`);
    }
    const response = new Response(null, { status: 200 });
    upgrades.set(response, options);
    return response;
  }

  setTrailers(trailers: TrailersInit): void {
    if (typeof trailers !== "function") new Headers(trailers); // a TypeError now for fields no Headers takes
    this.responseTrailers = trailers;
  }

  /** The chunked body's trailer fields arrived. */
  receivedTrailers(fields: FieldBlock): void {
    const h = new Headers();
    for (let i = 0; i < fields.count; i++) {
      try {
        h.append(fields.rawName(i), fields.value(i));
      } catch {
        // a value the runtime's Headers refuses: left out
      }
    }
    this.#trailers = h;
  }

  /** The body ended (read whole, or not): settles `trailers`. */
  settleTrailers(): void {
    this.resolveTrailers(this.discard ? undefined : this.#trailers);
  }

  signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.session.clientGone && !this.done) this.#abort.abort(clientGoneError());
    return this.#abort.signal;
  }

  /** The client closed its side while the response was owed: the request's signal aborts. */
  clientGone(): void {
    if (!this.done) this.#abort?.abort(clientGoneError());
  }

  /** The client went away before the response was written. */
  abandon(): void {
    if (this.done) return;
    this.#abort?.abort(clientGoneError());
    this.failBody(clientGoneError());
    this.finish();
  }

  failBody(error: unknown): void {
    const c = this.controller;
    this.controller = undefined;
    if (c !== undefined && !this.bodyDone) {
      try {
        c.error(error);
      } catch {
        // already closed
      }
    }
    this.bodyDone = true;
    this.discard = true;
    this.settleTrailers();
  }
}

/**
 * Whether `info.upgrade` can switch the request of `info`: an HTTP/1.1
 * request with an Upgrade field its session honours (not HTTP/1.0, whose
 * Upgrade RFC 9110 §7.8 has the server ignore, nor CONNECT). False for
 * HTTP/2 requests and for a request already answered is no concern here:
 * `upgrade` says so itself.
 *
 * @example
 * ```ts
 * import { canSwitchProtocols, type ServeHandler } from "./h1_session.ts";
 * const handler: ServeHandler = (_request, info) =>
 *   canSwitchProtocols(info) ? info.upgrade!({ open: (conn) => void conn.close() }) : new Response("no upgrade", { status: 400 });
 * ```
 */
export function canSwitchProtocols(info: ServeHandlerInfo): boolean {
  return info instanceof Exchange && info.upgradeTo !== "";
}

/** The goodbyes of switched connections ({@link UpgradeOptions.goingAway}). */
const goingAwayHooks = new WeakMap<Connection, () => void>();

/**
 * @internal For `serve`'s shutdown: runs the `goingAway` hook the upgrade of
 * `conn` gave (once; nothing when it gave none).
 *
 * @example
 * ```ts ignore
 * for (const conn of config.upgraded) upgradedGoingAway(conn);
 * ```
 */
export function upgradedGoingAway(conn: Connection): void {
  const hook = goingAwayHooks.get(conn);
  if (hook === undefined) return;
  goingAwayHooks.delete(conn);
  try {
    hook();
  } catch {
    // the protocol's goodbye failed: the deadline closes the connection
  }
}

/** One connection's HTTP/1 state. */
export class H1Session implements ResponseSink {
  readonly conn: Connection;
  /** The client's address once an exchange read it (ExchangeInfo.remoteAddr: once per connection). */
  peer: ServeHandlerInfo["remoteAddr"] | undefined = undefined;
  readonly config: SessionConfig;
  readonly parser: HTTP1Parser;
  /** The last request's fields, target and URL, shared with the next request that repeats them. */
  readonly heads = new RequestHeadMemo();
  readonly #queue: Exchange[] = [];
  /** The exchange whose body is arriving. */
  #receiving: Exchange | undefined;
  /** No more input is processed (a rejected request, the last request, EOF). */
  #inputDone = false;
  /** The request being parsed is the last one (Connection: close, HTTP/1.0). */
  #lastRequest = false;
  #rejectStatus = 0;
  /** The refused input was the rest of an answered request's body: the connection closes with no error response. */
  #rejectSilently = false;
  #writing = false;
  #closing = false;
  #bodyPaused = false;
  /** Reading stopped: responses are backed up (see {@link MAX_PIPELINED_REQUESTS} and the output's high-water mark). */
  #outputPaused = false;
  /** Body bytes of the current read (views of it), handed to the body stream as one chunk when the read is parsed. */
  readonly #bodyParts = new BodyGather();
  /** The current read carried body bytes: the body idle timeout starts again once it is parsed. */
  #bodyMoved = false;
  /** Inside `onData`: a timeout armed now counts from the end of the read (see {@link H1Session.onData}). */
  #inRead = false;
  /** The timeout armed last inside `onData` (0: none). */
  #armMs = 0;
  /** Bytes handed to the connection, and the write stall check on them. */
  readonly #stall = new WriteStallWatch();
  /** An Upgrade request waits for its response: input is held, not parsed. */
  #upgradeHeld: Uint8Array[] | undefined;
  #upgradeEx: Exchange | undefined;
  #timerKind = T_NONE;
  #deadline = 0;
  #drainWaiters: (() => void)[] = [];
  /** The client closed its side (FIN) or the connection: request signals abort. */
  clientGone = false;
  #requests = 0;

  constructor(conn: Connection, config: SessionConfig) {
    this.conn = conn;
    this.config = config;
    this.parser = new HTTP1Parser(config.parser, this);
    this.#setTimer(T_HEADER, config.headersTimeoutMs);
  }

  get gone(): boolean {
    return this.conn.closed;
  }

  corkBuffer(): OutBuffer | undefined {
    return corked === this ? cork : undefined;
  }

  send(bytes: Uint8Array, more = false): boolean {
    if (corked === this) {
      if (bytes.length <= CORK_COPY_MAX) {
        cork.bytes(bytes);
        return true;
      }
      // A large body is not copied into the cork buffer: what was corked goes with it, in one system call where it can.
      if (cork.length > 0) {
        const head = cork.view();
        cork.reset();
        return this.sendPair(head, bytes, more);
      }
    }
    return this.#sendNow(bytes, more);
  }

  sendPair(head: Uint8Array, body: Uint8Array, more = false): boolean {
    if (corked === this && cork.length > 0) {
      cork.bytes(head);
      head = cork.view();
      cork.reset();
    }
    if (this.conn.closed || this.#closing) return false;
    this.#stall.handed += head.length + body.length;
    try {
      return this.conn.sendPair(head, body, more);
    } catch {
      return false;
    }
  }

  sendParts(parts: readonly Uint8Array[], more = false): boolean {
    if (corked === this && cork.length > 0) {
      // what was corked (this response's head) goes first, in the same system call
      const head = cork.view();
      cork.reset();
      parts = [head, ...parts];
    }
    if (this.conn.closed || this.#closing) return false;
    for (const part of parts) this.#stall.handed += part.byteLength;
    try {
      return this.conn.sendParts(parts, more);
    } catch {
      return false;
    }
  }

  canSendFile(): boolean {
    return this.conn.canSendFile && !this.conn.closed && !this.#closing;
  }

  sendFile(fd: number, position: number, length: number, done: (error?: Error) => void): boolean {
    if (corked === this && cork.length > 0) {
      // what was corked (this response's head) goes first, held for the file's bytes
      const head = cork.view();
      cork.reset();
      this.#sendNow(head, true);
    }
    this.#stall.handed += length;
    try {
      return this.conn.sendFile(fd, position, length, done);
    } catch (err) {
      done(err as Error);
      return false;
    }
  }

  #sendNow(bytes: Uint8Array, more: boolean): boolean {
    if (this.conn.closed || this.#closing) return false;
    this.#stall.handed += bytes.length;
    try {
      return this.conn.send(bytes, more);
    } catch {
      return false;
    }
  }

  /** Sends what was corked during a `data` call. */
  #uncork(): void {
    if (corked !== this) return;
    corked = undefined;
    if (cork.length > 0) {
      const bytes = cork.view();
      cork.reset();
      this.send(bytes);
    }
  }

  /** The reader of the response body being streamed (respond.ts), cancelled when the connection closes. */
  #streamReader: ReadableStreamDefaultReader<unknown> | undefined;

  streaming(reader: ReadableStreamDefaultReader<unknown> | undefined): void {
    this.#streamReader = reader;
  }

  drained(): Promise<void> {
    if (this.conn.closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  // ---- connection callbacks

  onData(bytes: Uint8Array): void {
    this.#inRead = true;
    // Request metrics' latencies end at the end of this read (below), without a microtask of their own.
    holdLatencies();
    try {
      this.#read(bytes);
    } finally {
      this.#inRead = false;
      // The timeout armed last while the read was handled counts from now: one clock read per read.
      const ms = this.#armMs;
      if (ms > 0) {
        this.#armMs = 0;
        if (this.#timerKind !== T_NONE) this.#deadline = metricsNowMs() + ms;
      }
      // Request metrics (serve's `metrics`) end their requests of this read here, their responses written (no clock read of their own).
      releaseLatencies();
    }
  }

  #read(bytes: Uint8Array): void {
    if (this.#inputDone) return;
    if (this.#upgradeHeld !== undefined) {
      this.#upgradeHeld.push(bytes.slice());
      return;
    }
    const outer = corked;
    if (outer !== undefined && outer !== this) outer.#uncork();
    corked = this;
    try {
      this.parser.push(bytes);
      this.#flushBody();
      if (this.#bodyMoved) {
        this.#bodyMoved = false;
        // Once per read, not per chunk of it.
        if (this.#timerKind === T_BODY) this.#setTimer(T_BODY, this.config.bodyTimeoutMs);
      }
    } catch (err) {
      this.#reject(err);
    } finally {
      this.#uncork();
    }
    this.#checkOutput();
    if (this.#upgradeHeld !== undefined) {
      if (this.#upgradeEx?.response !== undefined) this.#pump();
      return;
    }
    // Everything received was answered inside this call: the keep-alive wait starts.
    if (this.#timerKind === T_NONE && this.#queue.length === 0 && !this.#closing && this.parser.idle && this.#upgradeHeld === undefined) {
      this.#setTimer(T_IDLE, this.config.keepAliveTimeoutMs);
      expectNextRequest(this.conn.loop);
    }
  }

  onEnd(): void {
    // A FIN while responses are owed: the client is gone as far as its
    // requests' signals go (as hyper and Deno's server see it); responses are
    // still written while the socket takes them.
    this.clientGone = true;
    for (const ex of this.#queue) if (ex.bodyDone) ex.clientGone();
    if (!this.#inputDone) {
      this.#inputDone = true;
      this.#upgradeHeld = undefined;
      try {
        this.parser.finish();
      } catch {
        // a request cut short: its body fails below
      }
      if (this.#receiving !== undefined) {
        this.#receiving.poisoned = this.#receiving.response === undefined;
        this.#receiving.failBody(new HTTP1ParseError("HPE_INVALID_EOF_STATE", "the client ended the request early", this.parser.bytesPushed));
        this.#receiving = undefined;
      }
    }
    if (this.#queue.length === 0) void this.conn.close();
    else {
      this.#pump();
      // The responses owed still go out (RFC 9112 §9.6: the client may still
      // read), then the connection closes (#pump: input done); a handler that
      // never settles would hold it for good: the server's body timeout,
      // counted from the FIN, cuts it (see checkTimer).
      if (!this.conn.closed && !this.#closing && this.#queue.length > 0) this.#armGone();
    }
  }

  onDrain(): void {
    this.#checkOutput();
    this.#pump();
    const waiters = this.#drainWaiters;
    if (waiters.length === 0) return;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  onClose(): void {
    this.clientGone = true;
    this.#timerKind = T_NONE;
    // A body stream waiting on a read that may never settle (an event
    // stream with nothing to say): cancelled now, its pending read ends.
    const reader = this.#streamReader;
    this.#streamReader = undefined;
    reader?.cancel(clientGoneError()).catch(() => {});
    this.onDrain();
    for (const ex of this.#queue) ex.abandon();
    this.#queue.length = 0;
    this.#receiving?.abandon();
    this.#receiving = undefined;
    if (this.config.sessions.delete(this)) this.config.sessionClosed();
  }

  // ---- parser callbacks

  onMessageBegin(): void {
    if (this.#timerKind !== T_HEADER) this.#setTimer(T_HEADER, this.config.headersTimeoutMs);
  }

  onHead(head: MessageHead): void {
    if (this.#inputDone) return; // after the last request: not served
    // An absolute-form target of a scheme other than http(s) (`GET ftp://a/x`) asks for a proxy, which this is not;
    // its request.url could only be made up (the path lost): 400 and a close, as for a target the parser refuses.
    const target = this.heads.targetOf(head);
    if (target.charCodeAt(0) !== 0x2f && target !== "*" && head.method !== "CONNECT" && !SCHEME.test(target)) {
      this.#reject(undefined, 400);
      return;
    }
    // An expectation other than 100-continue cannot be met (RFC 9110 §10.1.1): 417, and the close, the handler never runs.
    if (unmetExpectation(head)) {
      this.#reject(undefined, 417);
      return;
    }
    const ex = new Exchange(this, head, target);
    if (++this.#requests >= this.config.maxRequestsPerConnection) ex.keepAlive = false;
    if (!ex.keepAlive) this.#lastRequest = true;
    this.#queue.push(ex);
    if (ex.hasBody) {
      this.#receiving = ex;
      this.#setTimer(T_BODY, this.config.bodyTimeoutMs);
    } else this.#timerKind = T_NONE;
    if (ex.upgradeTo !== "") this.#upgradeEx = ex;
    if (this.#queue.length > MAX_PIPELINED_REQUESTS) ex.deferred = true;
    else this.#dispatch(ex);
  }

  onBody(data: Uint8Array): void {
    const ex = this.#receiving;
    if (ex === undefined) return;
    this.#bodyMoved = true;
    if (ex.discard || ex.controller === undefined) return;
    // Gathered and handed over once the read is parsed (#flushBody): a body
    // of tiny chunks is one stream chunk per read, not one per chunk (a
    // stream queue of 100,000 one-byte chunks costs quadratic time to drain
    // on Node). The views stay valid until then.
    this.#bodyParts.add(data);
  }

  /** Hands the body bytes gathered from this read to the body stream; pauses the connection at its high-water mark. */
  #flushBody(): void {
    // The stream's own bytes: the read's memory is reused for the next one.
    const bytes = this.#bodyParts.takeCopy();
    if (bytes === undefined) return;
    const ex = this.#receiving;
    const c = ex?.controller;
    if (ex === undefined || ex.discard || c === undefined) return;
    c.enqueue(bytes);
    if ((c.desiredSize ?? 1) <= 0 && !this.#bodyPaused) {
      this.#bodyPaused = true;
      this.#timerKind = T_NONE; // the handler is slow, not the client
      this.conn.pause();
    }
  }

  /**
   * Stops reading while responses back up (more than
   * {@link MAX_PIPELINED_REQUESTS} requests waiting for theirs, or output at
   * the connection's high-water mark: a client that pipelines and does not
   * read), and reads again once they went.
   */
  #checkOutput(): void {
    if (this.conn.closed || this.#closing) return;
    const backed = this.#queue.length > MAX_PIPELINED_REQUESTS || this.conn.bufferedAmount >= this.conn.highWaterMark;
    if (backed === this.#outputPaused) return;
    this.#outputPaused = backed;
    if (backed) this.conn.pause();
    else if (!this.#bodyPaused && this.#upgradeHeld === undefined) this.conn.resume();
  }

  onTrailers(fields: FieldBlock): void {
    this.#receiving?.receivedTrailers(fields);
  }

  onMessageComplete(): void {
    this.#flushBody();
    const ex = this.#receiving;
    if (ex !== undefined) {
      this.#receiving = undefined;
      ex.bodyDone = true;
      const c = ex.controller;
      ex.controller = undefined;
      try {
        c?.close();
      } catch {
        // cancelled
      }
      ex.settleTrailers();
      if (this.#timerKind === T_BODY) this.#timerKind = T_NONE;
      // The body is whole: nothing is held back for its reader any more. A 100-continue body (high-water mark 0)
      // paused the connection with its one chunk, which the pending read took: no pull came after it, and the
      // connection's next request was never read.
      if (this.#bodyPaused) {
        this.#bodyPaused = false;
        if (!this.conn.closed && this.#upgradeHeld === undefined && !this.#outputPaused) this.conn.resume();
      }
    }
    if (this.#lastRequest || this.config.draining) this.#inputDone = true;
    if (ex !== undefined && ex.done) this.#pump();
  }

  onUpgrade(rest: Uint8Array): void {
    // Hold everything after the head until the handler answered.
    this.#upgradeHeld = rest.length > 0 ? [rest.slice()] : [];
    if (!this.conn.closed) this.conn.pause();
    // onData answers it once the parser returned (the parser is not re-entered).
  }

  // ---- body flow

  /**
   * The handler wants more of `ex`'s body (`pulled`: the stream's pull(),
   * which it calls only when it wants a chunk), or cancelled it.
   */
  bodyPulled(ex: Exchange, pulled = false): void {
    if (ex.expectContinue && !ex.continueSent && !ex.discard) {
      if (this.#queue[0] === ex && !this.#writing) {
        ex.continueSent = true;
        this.send(CONTINUE);
      } else ex.wantsContinue = true;
    }
    // A pull is a read waiting for bytes: resume even when desiredSize is 0,
    // as it stays with the high-water mark of 0 of a 100-continue body
    // (each chunk of which pauses the connection in onBody).
    if (this.#bodyPaused && (pulled || ex.controller === undefined || (ex.controller.desiredSize ?? 1) > 0)) {
      this.#bodyPaused = false;
      if (this.#receiving !== undefined) this.#setTimer(T_BODY, this.config.bodyTimeoutMs);
      if (!this.conn.closed && this.#upgradeHeld === undefined && !this.#outputPaused) this.conn.resume();
    }
  }

  // ---- requests and responses

  #dispatch(ex: Exchange, pump = true): void {
    ex.deferred = false;
    let result: Response | Promise<Response>;
    try {
      result = this.config.fetch(ex.request, ex);
    } catch (err) {
      void this.#failed(ex, err);
      return;
    }
    if (result instanceof Response) {
      ex.response = result;
      if (ex !== this.#queue[0] || this.#writing) ownLightBytes(result); // written later: see #pump
      if (pump) this.#pump();
      return;
    }
    Promise.resolve(result).then((response) => {
      // A throw here would reach no handler (the rejection callback is this then's sibling): an unhandled rejection ends the process.
      if (!(response instanceof Response)) return this.#failed(ex, new TypeError(`the fetch handler must return a Response, got ${response === null ? "null" : typeof response}`));
      ex.response = response;
      if (ex !== this.#queue[0] || this.#writing) ownLightBytes(response);
      this.#pump();
    }, (err) => this.#failed(ex, err));
  }

  async #failed(ex: Exchange, error: unknown): Promise<void> {
    let response: Response | undefined;
    const onError = this.config.onError;
    if (onError !== undefined) {
      try {
        response = await onError(error, ex.request);
        if (!(response instanceof Response)) response = undefined;
      } catch {
        response = undefined;
      }
    } else if (!ex.poisoned && !ex.done) this.config.report(error);
    ex.response = response ?? new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
    this.#pump();
  }

  /** Writes the responses that are ready, in order; synchronously as long as each one is. */
  #pump(): void {
    if (this.#writing) return;
    while (!this.conn.closed && !this.#closing) {
      const ex = this.#queue[0];
      if (ex === undefined) {
        if (this.#rejectStatus !== 0) this.#closeWith(this.#rejectSilently ? undefined : errorResponseBytes(this.#rejectStatus));
        else if (this.#inputDone || this.config.draining) this.#closeWith(undefined);
        else if (this.parser.idle && this.#receiving === undefined && this.#upgradeHeld === undefined) {
          this.#setTimer(T_IDLE, this.config.keepAliveTimeoutMs);
        }
        return;
      }
      if (ex.poisoned) {
        ex.finish();
        this.#closeWith(errorResponseBytes(this.#rejectStatus || 400));
        return;
      }
      if (ex.wantsContinue && !ex.continueSent) {
        ex.continueSent = true;
        this.send(CONTINUE);
      }
      const response = ex.response;
      if (response === undefined) return;
      // The output is at its high-water mark (a client that does not read): the next response waits for the drain.
      // A light response waiting (here or behind another) keeps a copy of its bytes, as the runtime's copied them
      // at construction: the application may change its array once it answered.
      if (this.conn.bufferedAmount >= this.conn.highWaterMark) {
        ownLightBytes(response);
        return;
      }
      // An Upgrade request is answered once the parser handed over what followed its head.
      if (ex === this.#upgradeEx && this.#upgradeHeld === undefined && !this.#inputDone) return;
      const upgrade = upgrades.get(response);
      if (upgrade !== undefined) {
        this.#switchProtocol(ex, upgrade);
        return;
      }
      const written = this.#respond(ex, response);
      if (written === false) return;
      if (written !== true) {
        this.#writing = true;
        void written.then((more) => {
          this.#writing = false;
          if (more) {
            this.#next(ex);
            this.#pump();
          }
        });
        return;
      }
      this.#next(ex);
    }
  }

  /** `ex` (the first in the queue) is answered. */
  #next(ex: Exchange): void {
    this.#queue.shift();
    if (ex === this.#upgradeEx) this.#declineUpgrade();
    const waiting = this.#queue[MAX_PIPELINED_REQUESTS - 1];
    if (waiting !== undefined && waiting.deferred) this.#dispatch(waiting, false);
    if (this.#outputPaused) this.#checkOutput();
  }

  /** Writes `ex`'s response; false when the connection is closing afterwards. */
  #respond(ex: Exchange, response: Response): boolean | Promise<boolean> {
    const lastInQueue = this.#queue.length === 1 && this.#receiving === undefined;
    const ctx: ResponseContext = {
      head: ex.method === "HEAD",
      connect: ex.method === "CONNECT",
      http10: ex.http10,
      close: !ex.keepAlive ||
        (this.config.draining && lastInQueue) ||
        (ex.expectContinue && !ex.continueSent && !ex.bodyDone),
    };
    if (ex.responseTrailers !== undefined) ctx.trailers = ex.responseTrailers;
    let written: boolean | Promise<boolean>;
    try {
      written = writeResponse(this, response, ctx);
    } catch (err) {
      return this.#written(ex, ctx, undefined, err);
    }
    if (written === true || written === false) return this.#written(ex, ctx, written, undefined);
    return written.then((persist) => this.#written(ex, ctx, persist, undefined), (err) => this.#written(ex, ctx, undefined, err));
  }

  #written(ex: Exchange, ctx: ResponseContext, persist: boolean | undefined, error: unknown): boolean {
    if (persist === undefined) {
      this.config.report(error);
      if (ctx.headSent) {
        ex.finish();
        this.#uncork();
        this.conn.abort();
        return false;
      }
      persist = !ctx.close;
      this.send(errorResponseBytes(500, ctx.close));
    }
    ex.finish();
    if (!ex.bodyDone) {
      // The handler did not read the whole body: drop the rest as it comes.
      ex.discard = true;
      ex.failBody(new DOMException("the response was sent", "AbortError"));
      this.bodyPulled(ex);
      ex.bodyDone = false; // still arriving: the parser completes it
    }
    if (!persist || this.conn.closed) {
      this.#inputDone = true;
      this.#closeWith(undefined);
      return false;
    }
    return true;
  }

  /** The upgrade was declined (an ordinary response went out): HTTP/1.1 goes on with what was held. */
  #declineUpgrade(): void {
    this.#upgradeEx = undefined;
    const held = this.#upgradeHeld;
    if (held === undefined) return; // the input ended first
    this.#upgradeHeld = undefined;
    try {
      this.parser.declineUpgrade();
    } catch {
      this.#inputDone = true;
      return;
    }
    if (!this.conn.closed && !this.#bodyPaused && !this.#outputPaused) this.conn.resume();
    for (const chunk of held) this.onData(chunk);
  }

  /** Writes the `101` and hands the connection over. */
  #switchProtocol(ex: Exchange, options: UpgradeOptions): void {
    const out = new OutBuffer(512);
    out.statusLine(101, "");
    out.field("Connection", "Upgrade");
    out.field("Upgrade", options.protocol ?? ex.upgradeTo);
    try {
      if (options.headers !== undefined) {
        for (const [name, value] of new Headers(options.headers)) if (!REPLACED_BY_UPGRADE.has(name)) out.field(name, value);
      }
    } catch (err) {
      ex.response = undefined;
      void this.#failed(ex, err);
      return;
    }
    out.crlf();
    this.#uncork();
    this.send(out.view());
    ex.finish();
    this.#queue.shift();
    const held = this.#upgradeHeld ?? [];
    this.#upgradeHeld = undefined;
    let total = 0;
    for (const c of held) total += c.length;
    const head = new Uint8Array(total);
    let at = 0;
    for (const c of held) {
      head.set(c, at);
      at += c.length;
    }
    const conn = this.conn;
    const config = this.config;
    config.upgraded.add(conn); // before the session lets go: a draining server is not finished in between
    this.#letGo();
    void conn.whenClosed.then(() => {
      if (config.upgraded.delete(conn)) config.sessionClosed();
    });
    conn.setHandler({});
    conn.resume();
    try {
      options.open(conn, head);
    } catch (err) {
      config.report(err);
      conn.abort();
      return;
    }
    if (typeof options.goingAway === "function") {
      goingAwayHooks.set(conn, options.goingAway);
      if (config.draining) upgradedGoingAway(conn);
    }
  }

  /** This session no longer owns the connection (an upgrade, another protocol). */
  #letGo(): void {
    this.#inputDone = true;
    this.#closing = true;
    this.#timerKind = T_NONE;
    this.conn.data = undefined;
    if (this.config.sessions.delete(this)) this.config.sessionClosed();
  }

  /** A parse failure or timeout: answer `status` after what is owed, then close. */
  #reject(error: unknown, status = 0): void {
    if (this.#inputDone && this.#rejectStatus !== 0) return;
    this.#inputDone = true;
    this.#upgradeHeld = undefined;
    const code = error instanceof HTTP1ParseError ? error.code : "";
    this.#rejectStatus = status || (HTTP1_ERROR_CODES as Record<string, number>)[code] || 400;
    this.#bodyParts.clear();
    this.#bodyMoved = false;
    const ex = this.#receiving;
    if (ex !== undefined) {
      this.#receiving = undefined;
      // The body of a request already answered (its response written, the
      // rest of its body being dropped): another response would answer no
      // request (a client takes it for its next one's), so the connection
      // closes without one (as Go's server and nginx do).
      if (ex.discard && !this.#queue.includes(ex)) this.#rejectSilently = true;
      ex.poisoned = !ex.done;
      ex.failBody(error);
    }
    this.#timerKind = T_NONE;
    this.#pump();
  }

  /** Sends `bytes` (if any), then half-closes and waits a little for the client's FIN. */
  #closeWith(bytes: Uint8Array | undefined): void {
    if (this.#closing || this.conn.closed) return;
    this.#uncork();
    if (bytes !== undefined) this.send(bytes);
    this.#closing = true;
    this.#inputDone = true;
    this.#timerKind = T_NONE;
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.conn.resume();
    }
    const conn = this.conn;
    conn.end().then(() => {
      if (conn.closed) return;
      const t = conn.loop.timers.once(LINGER_MS, () => void conn.close()).unref();
      void conn.whenClosed.then(() => t.cancel());
    }, () => conn.abort());
  }

  /** Graceful shutdown: an idle connection closes now, a busy one after its in-flight responses. */
  shutdown(): void {
    if (this.#queue.length === 0 && this.#receiving === undefined) {
      this.#closeWith(undefined);
      return;
    }
    if (this.#receiving === undefined) this.#inputDone = true;
  }

  // ---- timers

  /** Arms the session's one timeout (the kind says what it guards); the server's sweep checks it. */
  #setTimer(kind: number, ms: number): void {
    if (!(ms > 0) || ms === Infinity) {
      this.#timerKind = T_NONE;
      return;
    }
    this.#timerKind = kind;
    // Counted from a fresh clock reading, not from the turn's (turnMs): that
    // is as old as the synchronous run so far, and a handler that blocked
    // the thread for a while made a deadline counted from it that much
    // shorter. Inside a read (head begun, body bytes, keep-alive wait after
    // a response made at once) the clock is read once, when the read is
    // handled (the sweep never runs in between): one reading per read
    // however many requests it carried.
    if (this.#inRead) this.#armMs = ms;
    else this.#deadline = metricsNowMs() + ms;
  }

  /**
   * Aborts the connection when queued output made no progress for
   * `writeTimeoutMs` (however slowly a client reads, any byte taken counts).
   */
  #checkWriteStall(now: number): void {
    if (this.conn.closed) return;
    if (this.#stall.stalled(this.conn.bufferedAmount, now, this.config.writeTimeoutMs ?? WRITE_STALL_TIMEOUT_MS)) this.conn.abort();
  }

  /** Bytes handed to the connection when the after-FIN timeout was armed (see checkTimer's T_GONE). */
  #goneHanded = 0;

  #armGone(): void {
    this.#goneHanded = this.#stall.handed;
    this.#setTimer(T_GONE, this.config.bodyTimeoutMs);
  }

  /** Called by the server's sweep: acts on an expired timeout. */
  checkTimer(now: number): void {
    this.#checkWriteStall(now);
    const kind = this.#timerKind;
    if (kind === T_NONE || now < this.#deadline) return;
    this.#timerKind = T_NONE;
    if (this.conn.closed || this.#closing) return;
    if (kind === T_IDLE) {
      if (this.#queue.length === 0 && this.parser.idle) this.#closeWith(undefined);
    } else if (kind === T_HEADER) {
      if (this.#queue.length === 0 && this.parser.bytesPushed === 0) this.#closeWith(undefined);
      else this.#reject(undefined, 408);
    } else if (kind === T_BODY) this.#reject(new DOMException("request body timeout", "TimeoutError"), 408);
    else if (kind === T_GONE) {
      // A response being written is left to the write stall timeout (counted again from here); a handler
      // that has not answered by now gets a 503 in its place, and the connection closes after it.
      // A streamed body that sent nothing in that time, nothing of it queued (an event stream with nothing to
      // say, to a client that closed), is not waited for any longer: the connection closes, the body is
      // cancelled (onClose). One waiting for a slow reader is the write stall timeout's.
      if (this.#queue.length === 0) return;
      if (this.#writing && this.#stall.handed === this.#goneHanded && this.conn.bufferedAmount === 0) this.conn.abort();
      else if (this.#queue[0]!.response !== undefined || this.#writing) this.#armGone();
      else this.#closeWith(errorResponseBytes(503));
    }
  }
}

function session(conn: Connection): H1Session | undefined {
  return conn.data as H1Session | undefined;
}

/**
 * Builds the connection handler of a server: every connection gets an
 * {@link H1Session} in `conn.data`.
 *
 * @example
 * ```ts ignore
 * import { listen } from "../../poll/listener.ts";
 * import { sessionHandler, type SessionConfig } from "./h1_session.ts";
 * declare const config: SessionConfig;
 * listen({ port: 0, handler: sessionHandler(config) });
 * ```
 */
export function sessionHandler(config: SessionConfig): ConnectionHandler {
  return {
    open(conn) {
      if (config.draining) {
        conn.abort();
        return;
      }
      if (config.sessions.size + config.upgraded.size >= config.maxConnections) {
        if (config.unrefed) conn.unref();
        config.rejected.maxConnections++;
        answerOverloaded(conn, config); // 503 with Retry-After, then a close
        return;
      }
      if (config.unrefed) conn.unref();
      const s = new H1Session(conn, config);
      conn.data = s;
      config.sessions.add(s);
      config.sessionOpened();
    },
    data(conn, bytes) {
      session(conn)?.onData(bytes);
    },
    end(conn) {
      const s = session(conn);
      if (s !== undefined) s.onEnd();
      else void conn.close();
    },
    drain(conn) {
      session(conn)?.onDrain();
    },
    close(conn) {
      session(conn)?.onClose();
    },
    timeout() {
      // the session keeps its own timeouts
    },
  };
}

