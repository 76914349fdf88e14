/**
 * One HTTP/1.1 client connection: writes request heads and bodies on a
 * {@link Connection} in handler mode and feeds what comes back to the
 * strict response parser, handing heads, body pieces and ends to each
 * request's {@link DispatchHandler} in order.
 *
 * - Keep-alive: after a complete response the connection is offered for
 *   the next request; idle, it is unreferenced (the process may exit) and
 *   closed after the keep-alive timeout, or earlier when the server's
 *   `Keep-Alive: timeout=N` says it will close first.
 * - Pipelining (`pipelining > 1`): further idempotent requests are written
 *   before the first response arrives, never behind a request with a body
 *   still being written or a non-idempotent one.
 * - Bodies: bytes in memory go out with the head in one write when small;
 *   streams are written with backpressure, chunked when their length is
 *   unknown; `Expect: 100-continue` holds a large body until the server's
 *   `100 Continue` (or a final response, which then closes the connection
 *   instead of sending the body; or one second, after which it is sent).
 * - Failures: a timeout (headers, body), a parse error, an abort or a
 *   write failure closes the connection. A request that got no response
 *   byte on a connection that had already served one (the server closed a
 *   kept-alive connection as we wrote) is handed back for one retry when it
 *   is idempotent and its body replayable; so are pipelined requests behind
 *   a failed one.
 *
 * @example
 * ```ts ignore
 * import { H1Connection } from "./h1_connection.ts";
 * // Made by Pool; see pool.ts.
 * ```
 *
 * @module
 */
import { BodyGather } from "../body_gather.ts";
import { HTTPError } from "../../core/errors.ts";
import type { Timer } from "../../core/timer_heap.ts";
import type { Connection } from "../../poll/connection.ts";
import type { FieldBlock, MessageHead } from "../h1/fields.ts";
import { HTTP1Parser, type HTTP1ParserOptions } from "../h1/parser.ts";
import { writeChunkHeader } from "../h1/chunked.ts";
import { writeRequestHead } from "../h1/serializer.ts";
import type { ResponseControl } from "./dispatcher.ts";
import type { PendingRequest } from "./pending.ts";
import type { RequestBody } from "./request_body.ts";

/**
 * What every connection of a pool shares.
 *
 * @example
 * ```ts
 * import type { H1ConnectionConfig } from "./h1_connection.ts";
 * const config: H1ConnectionConfig = {
 *   authority: "127.0.0.1:8080", pipelining: 1, headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000,
 *   keepAliveTimeoutMs: 4_000, keepAliveMaxTimeoutMs: 600_000, expectContinueBytes: 1 << 20,
 *   continueTimeoutMs: 1_000, parser: {},
 * };
 * ```
 */
export interface H1ConnectionConfig {
  /** `host[:port]` for the Host field. */
  authority: string;
  /** Requests in flight at once (1: no pipelining). */
  pipelining: number;
  /** Default most time from a request written to its response head (0: none). */
  headersTimeoutMs: number;
  /** Default most time between two pieces of a response body (0: none). */
  bodyTimeoutMs: number;
  /** How long an idle connection is kept (0: closed at once). */
  keepAliveTimeoutMs: number;
  /** The most a server's `Keep-Alive: timeout=N` hint is believed. */
  keepAliveMaxTimeoutMs: number;
  /** Bodies of at least this many bytes are sent with `Expect: 100-continue` (Infinity: never). */
  expectContinueBytes: number;
  /** How long to wait for `100 Continue` before sending the body anyway. */
  continueTimeoutMs: number;
  /** Limits of the response parser. */
  parser: Omit<HTTP1ParserOptions, "kind">;
}

/**
 * The pool side of a connection.
 *
 * @example
 * ```ts
 * import type { H1Owner } from "./h1_connection.ts";
 * const owner: H1Owner = { connectionFree() {}, connectionClosed() {}, retry(p) { p.fail(new Error("no retry here")); } };
 * ```
 */
export interface H1Owner {
  /** The connection can take a request now. */
  connectionFree(connection: H1Connection): void;
  /** The connection closed (its requests were failed or handed to `retry`). */
  connectionClosed(connection: H1Connection): void;
  /** Send this request again on another connection. */
  retry(request: PendingRequest): void;
}

/** Interim (1xx) responses one request may get before its final one (the HTTP/2 client's no-progress budget is as large). */
const MAX_INTERIM_RESPONSES = 1000;
const T_NONE = 0;
const T_HEADERS = 1;
const T_BODY = 2;
const T_IDLE = 3;
const T_CONTINUE = 4;

const CRLF = Uint8Array.of(0x0d, 0x0a);
const LAST_CHUNK = Uint8Array.of(0x30, 0x0d, 0x0a, 0x0d, 0x0a);
/** Bodies up to this size are copied behind the head and sent in one write. */
const COALESCE_BYTES = 16 * 1024;

/** Head scratch buffer, shared: `send` copies whatever it cannot send at once. */
let scratch = new Uint8Array(32 * 1024);

function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}

/** The framing fields of a request, decided from the body and the caller's fields. */
interface Framing {
  fields: Array<readonly [string, string]>;
  /** Body bytes to send, or -1 for chunked. */
  length: number;
  expect: boolean;
  close: boolean;
}

function keepAliveTimeout(head: MessageHead): number {
  const value = head.get("keep-alive");
  if (value === null) return -1;
  const m = /(?:^|[\s,;])timeout\s*=\s*"?(\d+)/i.exec(value);
  return m ? Number(m[1]) * 1000 : -1;
}

/**
 * An HTTP/1.1 client connection. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { H1Connection } from "./h1_connection.ts";
 * // new H1Connection(conn, config, owner) — Pool makes these.
 * ```
 */
export class H1Connection {
  /** The transport. */
  readonly connection: Connection;
  readonly #config: H1ConnectionConfig;
  readonly #owner: H1Owner;
  readonly #parser: HTTP1Parser;
  /** Written (or being written), waiting for their responses, in order. */
  readonly #queue: PendingRequest[] = [];
  #allIdempotent = true;
  /** Responses completed. */
  #completed = 0;
  #reusable = true;
  #closed = false;
  /** The request whose body is being written. */
  #writing: PendingRequest | null = null;
  /** The request waiting for `100 Continue`, and its body. */
  #continueFor: PendingRequest | null = null;
  #continueBody: RequestBody | null = null;
  #continueLength = 0;
  /** The request whose 417 (to its Expect, before its body) is being read and dropped, to send it again without Expect. */
  #expectRefused: PendingRequest | null = null;
  /** Bytes of the current response arrived (no retry then). */
  #sawBytes = false;
  /** The current response is final (not 1xx). */
  #final = false;
  /** A read is being parsed. */
  #parsing = false;
  /** A response of this read left the connection idle: offer it once the read is parsed. */
  #freeAfterRead = false;
  #trailers: Array<[string, string]> | null = null;
  /** Interim (1xx) responses to the current request so far. */
  #interim = 0;
  /** Body pieces of the read being parsed (views valid during it). */
  readonly #bodyParts = new BodyGather();
  #timer: Timer | undefined;
  #timerKind = T_NONE;
  #timerMs = 0;
  /** The consumer paused the body. */
  #paused = false;
  #keepAliveMs: number;
  /** Why we closed, and the request it concerns. */
  #closeError: Error | undefined;
  #culprit: PendingRequest | undefined;
  /** Set by a parser callback to keep its own error rather than HPE_USER. */
  #callbackError: Error | undefined;
  readonly #control: ResponseControl;

  /** Runs HTTP/1.1 requests over `connection` with `config` (parser limits, keep-alive timeout), reporting state changes to `owner`. */
  constructor(connection: Connection, config: H1ConnectionConfig, owner: H1Owner) {
    this.connection = connection;
    this.#config = config;
    this.#owner = owner;
    this.#keepAliveMs = config.keepAliveTimeoutMs;
    this.#parser = new HTTP1Parser({ ...config.parser, kind: "response" }, {
      onHead: (head) => this.#onHead(head),
      onBody: (data) => this.#onBody(data),
      onTrailers: (t) => this.#onTrailers(t),
      onMessageComplete: () => this.#onMessageComplete(),
    });
    this.#control = {
      pause: () => {
        if (this.#paused || this.#closed) return;
        this.#paused = true;
        this.connection.pause();
        if (this.#timerKind === T_BODY) this.#clearTimer();
      },
      resume: () => {
        if (!this.#paused || this.#closed) return;
        this.#paused = false;
        this.connection.resume();
        if (this.#queue.length > 0 && this.#final) this.#setTimer(T_BODY, this.#bodyTimeout(this.#queue[0]!));
      },
      abort: (error) => this.destroy(error, this.#queue[0]),
    };
    connection.setHandler({
      data: (_c, data) => this.#onData(data),
      end: () => this.#onEnd(),
      close: (_c, error) => this.#onClose(error),
    });
    // Until the first request: idle, and closed after the keep-alive timeout.
    this.#setTimer(T_IDLE, this.#keepAliveMs);
    this.#timer?.unref();
  }

  /** Requests written and not answered yet. */
  get inFlight(): number {
    return this.#queue.length;
  }

  /** Whether it is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether nothing is in flight and it can be reused. */
  get idle(): boolean {
    return !this.#closed && this.#reusable && this.#queue.length === 0 && this.#writing === null;
  }

  /** Whether `request` is in flight here. */
  holds(request: PendingRequest): boolean {
    return this.#queue.includes(request);
  }

  /** Whether `request` can be written now. */
  canTake(request: PendingRequest): boolean {
    if (this.#closed || !this.#reusable || this.#writing !== null || this.#continueFor !== null) return false;
    const n = this.#queue.length;
    if (n === 0) return true;
    // Only bodiless idempotent requests are pipelined.
    return n < this.#config.pipelining && this.#allIdempotent && request.idempotent && request.options.body === null;
  }

  /**
   * Writes `request` (check {@link canTake} first). A request whose head
   * cannot be encoded fails at once (TypeError) and the connection stays
   * as it was.
   */
  dispatch(request: PendingRequest): void {
    const o = request.options;
    let framing: Framing;
    let end: number;
    try {
      framing = this.#framing(request);
      end = this.#encodeHead(o.method, o.path, framing.fields);
    } catch (err) {
      request.fail(err as Error);
      return;
    }
    if (this.#queue.length === 0) {
      this.connection.ref();
      this.#allIdempotent = true;
      this.#sawBytes = false;
    }
    this.#queue.push(request);
    if (!request.idempotent) this.#allIdempotent = false;
    if (framing.close) this.#reusable = false;
    this.#parser.expectResponseTo(o.method);
    if (this.#queue.length === 1) this.#setTimer(T_HEADERS, this.#headersTimeout(request));
    const body = o.body;
    try {
      if (body === null || framing.length === 0) {
        this.connection.send(scratch.subarray(0, end));
      } else if (framing.expect) {
        this.connection.send(scratch.subarray(0, end));
        this.#continueFor = request;
        this.#continueBody = body;
        this.#continueLength = framing.length;
        this.#setTimer(T_CONTINUE, this.#config.continueTimeoutMs);
      } else if (body.bytes !== null && body.bytes.length <= COALESCE_BYTES && end + body.bytes.length <= scratch.length) {
        scratch.set(body.bytes, end);
        this.connection.send(scratch.subarray(0, end + body.bytes.length));
      } else {
        this.connection.send(scratch.subarray(0, end));
        this.#writeBody(request, body, framing.length);
      }
    } catch (err) {
      this.destroy(err as Error, request);
    }
  }

  /** Fails `request` (on this connection) with `reason` and closes the connection. */
  abortRequest(request: PendingRequest, reason: Error): void {
    this.destroy(reason, request);
  }

  /** Closes now; `culprit` fails with `error`, the others get a retry or the closed error. */
  destroy(error: Error, culprit?: PendingRequest): void {
    if (this.#closed) return;
    this.#closeError ??= error;
    this.#culprit ??= culprit;
    this.connection.abort(error);
  }

  /** Closes when idle (gracefully); requests in flight fail. */
  close(): void {
    if (this.#closed) return;
    if (this.#queue.length === 0) void this.connection.close();
    else this.destroy(new HTTPError("ERR_HTTP_CLIENT_CLOSED", "the client was closed"));
  }

  // ---- request side

  #framing(request: PendingRequest): Framing {
    const o = request.options;
    const body = o.body;
    const fields: Array<readonly [string, string]> = [];
    let hasHost = false;
    let userLength = -1;
    let close = false;
    let wantContinue = false;
    for (const pair of o.headers) {
      const name = pair[0];
      switch (name.length) {
        case 4:
          if (lower(name) === "host") hasHost = true;
          break;
        case 6:
          if (lower(name) === "expect") {
            if (lower(pair[1]).trim() !== "100-continue") throw new TypeError(`unsupported Expect: ${pair[1]}`);
            wantContinue = !request.withoutExpect;
            continue;
          }
          break;
        case 7:
          if (lower(name) === "upgrade") throw new TypeError("the Upgrade field is not supported by this client");
          break;
        case 10:
          if (lower(name) === "connection") {
            const v = lower(pair[1]);
            if (v.includes("upgrade")) throw new TypeError("Connection: upgrade is not supported by this client");
            if (v.includes("close")) close = true;
          }
          break;
        case 14:
          if (lower(name) === "content-length") {
            const v = pair[1].trim();
            if (!/^\d{1,15}$/.test(v)) throw new TypeError(`invalid Content-Length: ${pair[1]}`);
            const n = Number(v);
            if (userLength !== -1 && userLength !== n) throw new TypeError("conflicting Content-Length fields");
            userLength = n;
            continue;
          }
          break;
        case 17:
          if (lower(name) === "transfer-encoding") throw new TypeError("Transfer-Encoding is set by the client (chunked for bodies of unknown length)");
          break;
      }
      fields.push(pair);
    }
    if (!hasHost) fields.unshift(["host", this.#config.authority]);
    let length = 0;
    if (body === null) {
      if (userLength > 0) throw new TypeError(`Content-Length ${userLength} without a body`);
      if (userLength === 0 || o.method === "POST" || o.method === "PUT" || o.method === "PATCH") fields.push(["content-length", "0"]);
    } else {
      length = body.length;
      if (userLength !== -1) {
        if (length !== -1 && length !== userLength) throw new TypeError(`Content-Length ${userLength} does not match the body (${length} bytes)`);
        length = userLength;
      }
      if (length === -1) fields.push(["transfer-encoding", "chunked"]);
      else fields.push(["content-length", String(length)]);
    }
    let expect = false;
    if (length !== 0 && body !== null) {
      const ec = o.expectContinue;
      expect = !request.withoutExpect && (wantContinue || ec === true ||
        (length > 0 && ec !== false && length >= (typeof ec === "number" ? ec : this.#config.expectContinueBytes)));
      if (expect) fields.push(["expect", "100-continue"]);
    }
    return { fields, length, expect, close };
  }

  #encodeHead(method: string, path: string, fields: Array<readonly [string, string]>): number {
    for (;;) {
      const end = writeRequestHead(scratch, 0, { method, target: path, headers: fields });
      if (end >= 0) return end;
      scratch = new Uint8Array(scratch.length * 2);
    }
  }

  /** Writes a body that did not go out with the head; `length` -1 is chunked. */
  #writeBody(request: PendingRequest, body: RequestBody, length: number): void {
    this.#writing = request;
    void this.#pump(request, body, length).then(
      () => {
        if (this.#writing !== request) return;
        this.#writing = null;
        if (this.#closed) return;
        if (!this.#reusable && this.#queue.length === 0) void this.connection.close();
        else if (this.canTakeMore) this.#owner.connectionFree(this);
      },
      (err: unknown) => {
        if (this.#writing === request) this.#writing = null;
        this.destroy(err instanceof Error ? err : new Error(String(err)), request);
      },
    );
  }

  /** Whether a pipelined request could go out now. */
  get canTakeMore(): boolean {
    return !this.#closed && this.#reusable && this.#writing === null && this.#continueFor === null &&
      (this.#queue.length === 0 || (this.#queue.length < this.#config.pipelining && this.#allIdempotent));
  }

  async #pump(request: PendingRequest, body: RequestBody, length: number): Promise<void> {
    const conn = this.connection;
    if (body.bytes !== null) {
      await conn.write(body.bytes);
      return;
    }
    const chunked = length === -1;
    let sent = 0;
    const header = new Uint8Array(20);
    for await (const chunk of body.chunks!()) {
      // Stop once the connection closed or the response ended early.
      if (this.#closed || request.done || this.#writing !== request) return;
      if (chunk.length === 0) continue;
      sent += chunk.length;
      if (chunked) {
        conn.send(header.subarray(0, writeChunkHeader(header, 0, chunk.length)));
        const written = conn.write(chunk);
        conn.send(CRLF);
        await written;
      } else {
        if (sent > length) throw new HTTPError("ERR_HTTP_REQUEST_BODY_LENGTH", `the request body is longer than its Content-Length (${length})`);
        await conn.write(chunk);
      }
    }
    if (this.#closed || request.done || this.#writing !== request) return;
    if (chunked) await conn.write(LAST_CHUNK);
    else if (sent !== length) {
      throw new HTTPError("ERR_HTTP_REQUEST_BODY_LENGTH", `the request body is shorter (${sent}) than its Content-Length (${length})`);
    }
  }

  #startContinuedBody(): void {
    const request = this.#continueFor!;
    const body = this.#continueBody!;
    this.#continueFor = null;
    this.#continueBody = null;
    this.#setTimer(T_HEADERS, this.#headersTimeout(request));
    this.#writeBody(request, body, this.#continueLength);
  }

  // ---- response side

  #onData(data: Uint8Array): void {
    if (this.#closed) return;
    if (this.#queue.length === 0) {
      // Nothing was asked: a stray CRLF is tolerated, anything else ends the connection.
      for (let i = 0; i < data.length; i++) {
        const c = data[i];
        if (c !== 0x0d && c !== 0x0a) {
          this.destroy(new HTTPError("ERR_HTTP_UNEXPECTED_DATA", "the server sent data with no request outstanding"));
          return;
        }
      }
    } else this.#sawBytes = true;
    this.#parsing = true;
    try {
      this.#parser.push(data);
      this.#flushBody();
    } catch (err) {
      this.#bodyParts.clear();
      const error = this.#callbackError ?? (err as Error);
      this.#callbackError = undefined;
      this.destroy(error, this.#queue[0]);
    } finally {
      this.#parsing = false;
    }
    if (this.#freeAfterRead) {
      this.#freeAfterRead = false;
      if (this.#closed || this.#closeError !== undefined) return;
      // Bytes after the last response that begin another one (a 204's or a
      // HEAD response's body, say "HTTP/1.1 2"): no request was outstanding
      // for them, and kept they would become the start of the next request's
      // response. Complete extra responses already fail in #onHead.
      if (!this.#parser.idle) {
        this.destroy(new HTTPError("ERR_HTTP_UNEXPECTED_DATA", "the server sent data after the response with no request outstanding"));
        return;
      }
      this.#owner.connectionFree(this);
    }
  }

  #onHead(head: MessageHead): void {
    const request = this.#queue[0];
    if (request === undefined) {
      this.#callbackError = new HTTPError("ERR_HTTP_UNEXPECTED_DATA", "a response with no request outstanding");
      throw this.#callbackError;
    }
    const status = head.statusCode;
    if (status < 200) {
      if (status === 101) {
        this.#callbackError = new HTTPError("ERR_HTTP_UNEXPECTED_UPGRADE", "the server switched protocols, which was not asked for");
        throw this.#callbackError;
      }
      // A server sending 1xx heads without end kept the request (and a core
      // busy parsing them) until the headers timeout, five minutes by default.
      if (++this.#interim > MAX_INTERIM_RESPONSES) {
        this.#callbackError = new HTTPError("ERR_HTTP_HEADER_OVERFLOW", `more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses to one request`);
        throw this.#callbackError;
      }
      if (status === 100 && this.#continueFor === request) this.#startContinuedBody();
      return;
    }
    // RFC 9110 §15: a status code is three digits, 100 to 599; the parser
    // takes any three digits (a 600 reached request() as if it meant something).
    if (status > 599) {
      this.#callbackError = new HTTPError("ERR_HTTP_INVALID_STATUS", `the status code ${status} is outside 100-599`);
      throw this.#callbackError;
    }
    // A body under codings other than chunked (`Transfer-Encoding: gzip,
    // chunked`): only the chunked coding is undone, so the body would reach
    // the caller still coded, as if it were the content itself. So would a
    // chunked body the parser reads until the close because the response is
    // HTTP/1.0 (RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is
    // faulty framing): the chunk lines would be handed over as content.
    if (head.framing !== "none" && (otherTransferCoding(head) || (head.framing === "until-close" && head.has("transfer-encoding")))) {
      this.#callbackError = new HTTPError(
        "ERR_HTTP_UNSUPPORTED_TRANSFER_CODING",
        `the response's Transfer-Encoding (${head.getAll("transfer-encoding").join(", ")}) has a coding other than chunked, which is not implemented`,
      );
      throw this.#callbackError;
    }
    this.#final = true;
    this.#interim = 0;
    if (!head.keepAlive) this.#reusable = false;
    else {
      const hint = keepAliveTimeout(head);
      if (hint >= 0) {
        // Close a second before the server says it will, so a request never meets its close.
        this.#keepAliveMs = Math.min(this.#config.keepAliveTimeoutMs, this.#config.keepAliveMaxTimeoutMs, Math.max(0, hint - 1000));
      }
    }
    if (this.#continueFor === request) {
      // A final answer before the body was sent: the body is not sent, and the connection cannot carry on.
      this.#continueFor = null;
      this.#continueBody = null;
      this.#reusable = false;
      // A 417 refused the expectation, not the request (RFC 9110 §10.1.1: the
      // client SHOULD repeat it without one): this answer is read and
      // dropped, and the request, its body untouched, goes again (once).
      if (status === 417 && !request.withoutExpect && !request.done) {
        request.withoutExpect = true;
        this.#expectRefused = request;
      }
    }
    if (head.framing !== "none") this.#setTimer(T_BODY, this.#bodyTimeout(request));
    else this.#clearTimer();
    if (this.#expectRefused === request) return;
    request.handler.onHeaders(status, head, this.#control);
  }

  #onBody(data: Uint8Array): void {
    // Gathered and handed on once the read is parsed (#flushBody): a body of
    // one-byte chunks costs one handler call (one queued chunk, one timer
    // move) per read, not per chunk; a hostile server's 2 MB of them took
    // seconds of CPU and some 240 MB of heap in fetch's queue.
    this.#bodyParts.add(data);
  }

  /** Hands the body pieces of this read to the handler as one (owned when joined). */
  #flushBody(): void {
    const joined = this.#bodyParts.count > 1;
    const data = this.#bodyParts.take();
    if (data === undefined) return;
    const request = this.#queue[0];
    if (request === undefined) return; // the connection was destroyed meanwhile
    if (this.#timerKind === T_BODY && this.#timerMs > 0) this.#timer!.reschedule(this.#timerMs);
    if (request === this.#expectRefused) return; // the 417's body, dropped
    if (!request.done && !request.handler.onData(data, joined)) this.#control.pause();
  }

  #onTrailers(trailers: FieldBlock): void {
    this.#trailers = trailers.entries();
  }

  #onMessageComplete(): void {
    this.#flushBody();
    if (!this.#final) return; // an interim response
    this.#final = false;
    const request = this.#queue.shift()!;
    this.#completed++;
    this.#sawBytes = false;
    const trailers = this.#trailers;
    this.#trailers = null;
    if (this.#writing === request) {
      // The server answered before the body was all sent: stop sending, and do not reuse.
      this.#writing = null;
      this.#reusable = false;
    }
    if (this.#paused) {
      this.#paused = false;
      this.connection.resume();
    }
    if (request === this.#expectRefused) {
      this.#expectRefused = null;
      if (!request.done) this.#owner.retry(request);
    } else if (!request.done) {
      request.finish();
      request.handler.onComplete(trailers);
    }
    if (this.#queue.length > 0) {
      this.#setTimer(T_HEADERS, this.#headersTimeout(this.#queue[0]!));
      return;
    }
    if (!this.#reusable) {
      this.#clearTimer();
      void this.connection.close();
      return;
    }
    if (this.#writing !== null) return;
    // Idle: let the process exit, and close before the server would.
    this.connection.unref();
    if (this.#keepAliveMs <= 0) {
      this.#clearTimer();
      void this.connection.close();
      return;
    }
    this.#setTimer(T_IDLE, this.#keepAliveMs);
    this.#timer?.unref();
    if (this.#parsing) this.#freeAfterRead = true;
    else this.#owner.connectionFree(this);
  }

  #onEnd(): void {
    if (this.#closed) return;
    try {
      this.#parser.finish(); // completes a response read until close
    } catch (err) {
      this.destroy(err as Error, this.#queue[0]);
      return;
    }
    this.#reusable = false;
    if (this.#queue.length === 0) void this.connection.close();
    else this.destroy(new HTTPError("ERR_HTTP_SOCKET_CLOSED", "the server closed the connection before the response ended"));
  }

  #onClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    const cause = this.#closeError ?? error;
    const culprit = this.#culprit;
    const reused = this.#completed > 0;
    const queue = this.#queue.splice(0);
    this.#writing = null;
    this.#continueFor = null;
    for (let i = 0; i < queue.length; i++) {
      const request = queue[i]!;
      if (request === culprit) {
        request.fail(cause ?? closedError());
        continue;
      }
      const untouched = !(i === 0 && this.#sawBytes);
      if (untouched && (reused || i > 0 || culprit !== undefined) && request.retryable) {
        request.retried = true;
        this.#owner.retry(request);
      } else if (i === 0 && cause !== undefined && culprit === undefined) request.fail(cause);
      else request.fail(closedError(cause));
    }
    this.#owner.connectionClosed(this);
  }

  // ---- timers

  #headersTimeout(request: PendingRequest): number {
    return request.options.headersTimeoutMs ?? this.#config.headersTimeoutMs;
  }

  #bodyTimeout(request: PendingRequest): number {
    return request.options.bodyTimeoutMs ?? this.#config.bodyTimeoutMs;
  }

  #setTimer(kind: number, ms: number): void {
    this.#timerKind = kind;
    this.#timerMs = ms;
    if (ms <= 0 || !Number.isFinite(ms)) {
      this.#timer?.cancel();
      return;
    }
    if (this.#timer === undefined) this.#timer = this.connection.loop.timers.once(ms, () => this.#onTimer());
    else this.#timer.reschedule(ms);
    this.#timer.ref();
  }

  #clearTimer(): void {
    this.#timerKind = T_NONE;
    this.#timer?.cancel();
  }

  #onTimer(): void {
    const kind = this.#timerKind;
    this.#timerKind = T_NONE;
    switch (kind) {
      case T_HEADERS:
        this.destroy(
          new HTTPError("ERR_HTTP_HEADERS_TIMEOUT", `no response head within ${this.#timerMs} ms`),
          this.#queue[0],
        );
        break;
      case T_BODY:
        this.destroy(
          new HTTPError("ERR_HTTP_BODY_TIMEOUT", `no response body bytes for ${this.#timerMs} ms`),
          this.#queue[0],
        );
        break;
      case T_CONTINUE:
        if (this.#continueFor !== null) this.#startContinuedBody();
        break;
      case T_IDLE:
        if (this.idle) {
          this.#reusable = false;
          void this.connection.close();
        }
        break;
    }
  }
}

function closedError(cause?: Error): HTTPError {
  return new HTTPError(
    "ERR_HTTP_SOCKET_CLOSED",
    "the connection closed before the response ended",
    cause === undefined ? {} : { cause },
  );
}

/** The response has a transfer coding other than chunked (a value of its Transfer-Encoding lines). */
function otherTransferCoding(head: MessageHead): boolean {
  if (!head.has("transfer-encoding")) return false;
  for (const line of head.getAll("transfer-encoding")) {
    for (const coding of line.split(",")) {
      const name = coding.trim().toLowerCase();
      if (name !== "chunked" && name !== "") return true;
    }
  }
  return false;
}
