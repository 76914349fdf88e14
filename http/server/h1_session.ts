/**
 * One HTTP/1.1 server connection: the I/O-free `HTTP1Parser` fed from the
 * connection's handler-mode `data`, one exchange per request (pipelined
 * requests are handled concurrently and answered in order), request bodies
 * as streams with backpressure (the connection pauses while a body's
 * queue is full), responses written by respond.ts, and the timeouts:
 * header read (from the first byte of a request head, or from the
 * connection's opening), request body idle, keep-alive idle. A response
 * being written is never cut by a timeout.
 *
 * `Expect: 100-continue`: `100 Continue` is sent when the handler first
 * reads the body; a handler that answers without reading it gets its
 * response sent with `Connection: close` (the client may never send the
 * body).
 *
 * A request the parser refuses is answered, after the responses owed
 * before it, with the status of `HTTP1_ERROR_CODES` and
 * `Connection: close`; no byte after it is processed.
 *
 * @example
 * ```ts ignore
 * import { listen } from "../../poll/listener.ts";
 * import { H1_HANDLER, type SessionConfig } from "./h1_session.ts";
 * declare const config: SessionConfig;
 * listen({ port: 8000, handler: H1_HANDLER, ...config.connectionOptions });
 * ```
 *
 * @module
 */
import { HTTP1ParseError } from "../../core/errors.ts";
import type { Timer } from "../../core/timer_heap.ts";
import type { Connection, ConnectionHandler } from "../../poll/connection.ts";
import type { MessageHead } from "../h1/fields.ts";
import { HTTP1_ERROR_CODES, HTTP1Parser, type HTTP1ParserOptions } from "../h1/parser.ts";
import { lightRequest } from "./request.ts";
import { errorResponseBytes, type ResponseContext, type ResponseSink, writeResponse } from "./respond.ts";

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
  /** The sessions open now. */
  sessions: Set<H1Session>;
  /** Graceful shutdown started: finish what is in flight, take nothing new. */
  draining: boolean;
  /** Connections are unref'd. */
  unrefed: boolean;
  /** A session closed (the server checks whether it is finished). */
  sessionClosed(): void;
  /** Reports an error no response can carry (a body stream failing mid-response …). */
  report(error: unknown): void;
}

const T_NONE = 0;
const T_HEADER = 1;
const T_BODY = 2;
const T_IDLE = 3;
/** How long a closing connection waits for the client's FIN before closing anyway. */
const LINGER_MS = 2000;
/** Bytes a request body stream queues before the connection pauses. */
const BODY_QUEUE_BYTES = 65536;

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

function bodyStrategy(expectContinue: boolean): QueuingStrategy<Uint8Array> {
  // With 100-continue, a high-water mark of 0: pull() runs only for a real read.
  return { highWaterMark: expectContinue ? 0 : BODY_QUEUE_BYTES, size: (chunk) => chunk.byteLength };
}

/** One request and its response. */
class Exchange implements ServeHandlerInfo {
  readonly session: H1Session;
  readonly method: string;
  readonly http10: boolean;
  keepAlive: boolean;
  readonly expectContinue: boolean;
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
  response: Response | undefined;
  done = false;
  request!: Request;
  #abort: AbortController | undefined;
  #completed: Promise<void> | undefined;
  #resolveCompleted: (() => void) | undefined;
  #remote: ServeHandlerInfo["remoteAddr"] | undefined;

  constructor(session: H1Session, head: MessageHead) {
    this.session = session;
    this.method = head.method;
    this.http10 = head.versionMinor === 0;
    this.keepAlive = head.keepAlive && !head.upgrade;
    this.hasBody = head.framing === "chunked" || (head.framing === "length" && head.contentLength > 0);
    this.bodyDone = !this.hasBody;
    let expect = false;
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < head.count; i++) {
      const value = head.value(i);
      if (head.nameIs(i, "expect") && value.toLowerCase() === "100-continue") expect = true;
      headers.push([head.rawName(i), value]);
    }
    this.expectContinue = expect && this.hasBody && !this.http10;
    const target = head.target;
    let url: string;
    if (target.charCodeAt(0) === 0x2f) url = `http://${head.get("host") ?? session.config.authority}${target}`;
    else if (/^https?:\/\//i.test(target)) url = target;
    else url = `http://${head.get("host") ?? session.config.authority}/`;
    let body: ReadableStream<Uint8Array> | null = null;
    if (this.hasBody) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.session.bodyPulled(this),
        cancel: () => {
          this.discard = true;
          this.controller = undefined;
          this.session.bodyPulled(this);
        },
      }, bodyStrategy(this.expectContinue));
    }
    this.request = lightRequest({ method: this.method, url, headers, body, signal: () => this.#signal() });
  }

  get remoteAddr(): ServeHandlerInfo["remoteAddr"] {
    if (this.#remote !== undefined) return this.#remote;
    let hostname = "";
    let port = 0;
    try {
      const a = this.session.conn.remoteAddress;
      if (a.family !== "unix") {
        hostname = a.host;
        port = a.port;
      }
    } catch {
      // closed already
    }
    return (this.#remote = { hostname, port, transport: "tcp" });
  }

  get completed(): Promise<void> {
    if (this.#completed === undefined) {
      if (this.done) this.#completed = Promise.resolve();
      else this.#completed = new Promise((resolve) => (this.#resolveCompleted = resolve));
    }
    return this.#completed;
  }

  /** The response went out (or could not). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.#resolveCompleted?.();
  }

  #signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.session.clientGone && !this.done) this.#abort.abort(new DOMException("the client closed the connection", "AbortError"));
    return this.#abort.signal;
  }

  /** The client closed its side while the response was owed: the request's signal aborts. */
  clientGone(): void {
    if (!this.done) this.#abort?.abort(new DOMException("the client closed the connection", "AbortError"));
  }

  /** The client went away before the response was written. */
  abandon(): void {
    if (this.done) return;
    this.#abort?.abort(new DOMException("the client closed the connection", "AbortError"));
    this.failBody(new DOMException("the client closed the connection", "AbortError"));
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
  }
}

/** One connection's HTTP/1 state. */
export class H1Session implements ResponseSink {
  readonly conn: Connection;
  readonly config: SessionConfig;
  readonly parser: HTTP1Parser;
  readonly #queue: Exchange[] = [];
  /** The exchange whose body is arriving. */
  #receiving: Exchange | undefined;
  /** No more input is processed (a rejected request, the last request, EOF). */
  #inputDone = false;
  /** The request being parsed is the last one (Connection: close, HTTP/1.0). */
  #lastRequest = false;
  #rejectStatus = 0;
  #writing = false;
  #closing = false;
  #bodyPaused = false;
  #upgradeRest: Uint8Array | undefined;
  #timer: Timer | undefined;
  #timerKind = T_NONE;
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

  send(bytes: Uint8Array): boolean {
    if (this.conn.closed || this.#closing) return false;
    try {
      return this.conn.send(bytes);
    } catch {
      return false;
    }
  }

  drained(): Promise<void> {
    if (this.conn.closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  // ---- connection callbacks

  onData(bytes: Uint8Array): void {
    if (this.#inputDone) return;
    try {
      this.parser.push(bytes);
    } catch (err) {
      this.#reject(err);
      return;
    }
    const rest = this.#upgradeRest;
    if (rest !== undefined) {
      this.#upgradeRest = undefined;
      try {
        this.parser.declineUpgrade();
      } catch {
        // CONNECT: nothing after it is HTTP; its response closes the connection
        this.#inputDone = true;
        return;
      }
      if (rest.length > 0) this.onData(rest);
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
    else void this.#pump();
  }

  onDrain(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  onClose(): void {
    this.clientGone = true;
    this.#clearTimer();
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
    const ex = new Exchange(this, head);
    if (++this.#requests >= this.config.maxRequestsPerConnection) ex.keepAlive = false;
    if (!ex.keepAlive || head.method === "CONNECT") this.#lastRequest = true;
    this.#queue.push(ex);
    if (ex.hasBody) {
      this.#receiving = ex;
      this.#setTimer(T_BODY, this.config.bodyTimeoutMs);
    } else this.#clearTimer();
    this.#dispatch(ex);
  }

  onBody(data: Uint8Array): void {
    const ex = this.#receiving;
    if (ex === undefined) return;
    if (this.#timerKind === T_BODY) this.#setTimer(T_BODY, this.config.bodyTimeoutMs);
    const c = ex.controller;
    if (ex.discard || c === undefined) return;
    c.enqueue(data.slice());
    if ((c.desiredSize ?? 1) <= 0 && !this.#bodyPaused) {
      this.#bodyPaused = true;
      this.#clearTimer(); // the handler is slow, not the client
      this.conn.pause();
    }
  }

  onMessageComplete(): void {
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
      if (this.#timerKind === T_BODY) this.#clearTimer();
    }
    if (this.#lastRequest || this.config.draining) this.#inputDone = true;
    if (ex !== undefined && ex.done) void this.#pump();
  }

  onUpgrade(rest: Uint8Array): void {
    this.#upgradeRest = rest.slice();
  }

  // ---- body flow

  /** The handler wants more of `ex`'s body (or cancelled it). */
  bodyPulled(ex: Exchange): void {
    if (ex.expectContinue && !ex.continueSent && !ex.discard) {
      if (this.#queue[0] === ex && !this.#writing) {
        ex.continueSent = true;
        this.send(CONTINUE);
      } else ex.wantsContinue = true;
    }
    if (this.#bodyPaused && (ex.controller === undefined || (ex.controller.desiredSize ?? 1) > 0)) {
      this.#bodyPaused = false;
      if (this.#receiving !== undefined) this.#setTimer(T_BODY, this.config.bodyTimeoutMs);
      if (!this.conn.closed) this.conn.resume();
    }
  }

  // ---- requests and responses

  #dispatch(ex: Exchange): void {
    let result: Response | Promise<Response>;
    try {
      result = this.config.fetch(ex.request, ex);
    } catch (err) {
      void this.#failed(ex, err);
      return;
    }
    if (result instanceof Response) {
      ex.response = result;
      void this.#pump();
      return;
    }
    Promise.resolve(result).then((response) => {
      if (!(response instanceof Response)) throw new TypeError(`the fetch handler must return a Response, got ${response === null ? "null" : typeof response}`);
      ex.response = response;
      void this.#pump();
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
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (!this.conn.closed && !this.#closing) {
        const ex = this.#queue[0];
        if (ex === undefined) {
          if (this.#rejectStatus !== 0) this.#closeWith(errorResponseBytes(this.#rejectStatus));
          else if (this.#inputDone || this.config.draining) this.#closeWith(undefined);
          else if (this.parser.idle && this.#receiving === undefined) this.#setTimer(T_IDLE, this.config.keepAliveTimeoutMs);
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
        if (!(await this.#respond(ex, response))) return;
        this.#queue.shift();
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Writes `ex`'s response; false when the connection is closing afterwards. */
  async #respond(ex: Exchange, response: Response): Promise<boolean> {
    const lastInQueue = this.#queue.length === 1 && this.#receiving === undefined;
    const ctx: ResponseContext = {
      head: ex.method === "HEAD",
      http10: ex.http10,
      close: !ex.keepAlive ||
        (this.config.draining && lastInQueue) ||
        (ex.expectContinue && !ex.continueSent && !ex.bodyDone),
    };
    let persist: boolean;
    try {
      persist = await writeResponse(this, response, ctx);
    } catch (err) {
      this.config.report(err);
      if (ctx.headSent) {
        ex.finish();
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

  /** A parse failure or timeout: answer `status` after what is owed, then close. */
  #reject(error: unknown, status = 0): void {
    if (this.#inputDone && this.#rejectStatus !== 0) return;
    this.#inputDone = true;
    const code = error instanceof HTTP1ParseError ? error.code : "";
    this.#rejectStatus = status || (HTTP1_ERROR_CODES as Record<string, number>)[code] || 400;
    const ex = this.#receiving;
    if (ex !== undefined) {
      this.#receiving = undefined;
      ex.poisoned = !ex.done;
      ex.failBody(error);
    }
    this.#clearTimer();
    void this.#pump();
  }

  /** Sends `bytes` (if any), then half-closes and waits a little for the client's FIN. */
  #closeWith(bytes: Uint8Array | undefined): void {
    if (this.#closing || this.conn.closed) return;
    if (bytes !== undefined) this.send(bytes);
    this.#closing = true;
    this.#inputDone = true;
    this.#clearTimer();
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

  /** One timer per connection, moved rather than made anew (the kind says what it guards). */
  #setTimer(kind: number, ms: number): void {
    if (!(ms > 0) || ms === Infinity) {
      this.#clearTimer();
      return;
    }
    this.#timerKind = kind;
    if (this.#timer === undefined) this.#timer = this.conn.loop.timers.once(ms, () => this.#onTimer()).unref();
    else this.#timer.reschedule(ms);
  }

  #clearTimer(): void {
    if (this.#timerKind === T_NONE) return;
    this.#timer?.cancel();
    this.#timerKind = T_NONE;
  }

  #onTimer(): void {
    const kind = this.#timerKind;
    this.#timerKind = T_NONE;
    if (this.conn.closed || this.#closing) return;
    if (kind === T_IDLE) {
      if (this.#queue.length === 0 && this.parser.idle) this.#closeWith(undefined);
    } else if (kind === T_HEADER) {
      if (this.#queue.length === 0 && this.parser.bytesPushed === 0) this.#closeWith(undefined);
      else this.#reject(undefined, 408);
    } else if (kind === T_BODY) this.#reject(new DOMException("request body timeout", "TimeoutError"), 408);
  }
}

function session(conn: Connection): H1Session {
  return conn.data as H1Session;
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
      if (config.draining || config.sessions.size >= config.maxConnections) {
        conn.abort();
        return;
      }
      if (config.unrefed) conn.unref();
      const s = new H1Session(conn, config);
      conn.data = s;
      config.sessions.add(s);
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
      // the session keeps its own timers
    },
  };
}
