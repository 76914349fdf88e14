/**
 * The HTTP/1.1 message parser (RFC 9112): an I/O-free, table-driven state
 * machine for requests or responses, fed bytes with `push(chunk)`. It is
 * incremental (any split of the input gives the same events and the same
 * error), strict by default, bounded by `HTTP1_LIMITS`, and zero-copy: the
 * head is handed out as spans into the input, and body data as views.
 *
 * Events, in order, per message: `onMessageBegin`, `onHead` (request or
 * status line, header fields, framing: content length, chunked, keep-alive,
 * upgrade), `onBody` (zero or more times), `onTrailers` (chunked bodies with
 * trailer fields), `onMessageComplete`; then `onUpgrade` with the bytes that
 * follow a message that switches protocols (Upgrade, 101, CONNECT).
 *
 * Every rejection is an `HTTP1ParseError` whose `code` is one of
 * {@link HTTP1_ERROR_CODES} and whose `offset` counts bytes from the first
 * byte ever pushed. After an error the parser stays failed.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "./parser.ts";
 * const parser = new HTTP1Parser({ kind: "request" }, {
 *   onHead(head) { console.log(head.method, head.target, head.framing); },
 *   onBody(data) { console.log(data.length); },
 *   onMessageComplete() { console.log("done"); },
 * });
 * parser.push(new TextEncoder().encode("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"));
 * ```
 *
 * @module
 */
import { HTTP1ParseError } from "../../core/errors.ts";
import { HTTP1_LIMITS } from "../../core/limits.ts";
import { ChunkSizeLine } from "./chunk_line.ts";
import { FieldBlock, latin1, MessageHead } from "./fields.ts";
import type { HTTP1ErrorCode, HTTP1ParserHandler, HTTP1ParserOptions } from "./parse_options.ts";
import { MessageFraming } from "./message_framing.ts";
import { isValidRequestTarget } from "./target.ts";
import { FIELD_VALUE, HEX_VALUE, REASON, scanFieldValue, TARGET, TARGET_LENIENT, TOKEN, wordView } from "./tables.ts";
import { PROHIBITED_TRAILER_FIELDS } from "../core/trailer_fields.ts";

export { HTTP1_ERROR_CODES } from "./parse_options.ts";
export type { HTTP1ErrorCode, HTTP1ParserHandler, HTTP1ParserOptions } from "./parse_options.ts";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

const S_MSG_START = 0;
const S_LEADING_LF = 1;
const S_METHOD = 2;
const S_TARGET = 3;
const S_REQ_VERSION = 4;
const S_RES_VERSION = 5;
const S_RES_STATUS = 6;
const S_RES_AFTER_STATUS = 7;
const S_RES_REASON = 8;
const S_START_LF = 9;
const S_FIELD_START = 10;
const S_FIELD_NAME = 11;
const S_FIELD_OWS = 12;
const S_FIELD_VALUE = 13;
const S_FIELD_LF = 14;
const S_SECTION_LF = 15;
const S_BODY_LENGTH = 20;
const S_BODY_CLOSE = 21;
const S_CHUNK_LINE = 22;
const S_CHUNK_DATA = 34;
const S_CHUNK_DATA_CR = 35;
const S_CHUNK_DATA_LF = 36;
const S_UPGRADED = 40;
const S_CLOSED = 41;
const S_DEAD = 42;

/** Fields the framing reads as they arrive: a fold continuing one of them still fails (see `unfoldObsFold`). */
const FRAMING_NAMES = ["content-length", "transfer-encoding", "connection", "upgrade"];

/** Whether `buf[at..]` is `lower` (ASCII letters compared case-insensitively). */
function lowerEquals(buf: Uint8Array, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[at + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

const VERSION_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e]; // "HTTP/1."

function sameBytes(buf: Uint8Array, s: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buf[s + i] !== text.charCodeAt(i)) return false;
  return true;
}

function internMethod(buf: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 3:
      if (sameBytes(buf, s, "GET")) return "GET";
      if (sameBytes(buf, s, "PUT")) return "PUT";
      break;
    case 4:
      if (sameBytes(buf, s, "POST")) return "POST";
      if (sameBytes(buf, s, "HEAD")) return "HEAD";
      break;
    case 5:
      if (sameBytes(buf, s, "PATCH")) return "PATCH";
      if (sameBytes(buf, s, "TRACE")) return "TRACE";
      break;
    case 6:
      if (sameBytes(buf, s, "DELETE")) return "DELETE";
      break;
    case 7:
      if (sameBytes(buf, s, "OPTIONS")) return "OPTIONS";
      if (sameBytes(buf, s, "CONNECT")) return "CONNECT";
      break;
  }
  return latin1(buf, s, e);
}

function limitOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || (value !== Infinity && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value === Infinity ? Number.MAX_SAFE_INTEGER : value;
}

/**
 * The incremental HTTP/1.1 parser. See the module documentation.
 *
 * @example
 * ```ts
 * import { HTTP1Parser } from "./parser.ts";
 * const p = new HTTP1Parser({ kind: "response" }, { onBody: (d) => console.log(d.length) });
 * p.expectResponseTo("GET");
 * p.push(new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\nread until close"));
 * p.finish(); // the connection closed: the body ends here
 * ```
 */
export class HTTP1Parser {
  /** Whether this parser reads requests or responses. */
  readonly kind: "request" | "response";
  private readonly isRequest: boolean;
  private readonly lenientLF: boolean;
  /** Join obs-fold continuation lines (responses only). */
  private readonly unfoldObs: boolean;
  private readonly targetTable: Uint8Array;
  private readonly maxStartLine: number;
  private readonly maxUri: number;
  private readonly maxHeader: number;
  private readonly maxCount: number;
  private readonly maxField: number;
  private readonly maxChunkLine: number;
  private readonly maxTrailer: number;
  private readonly maxBody: number;
  private readonly dropProhibitedTrailers: boolean;
  private readonly handler: HTTP1ParserHandler;
  private dropped = 0;

  private state = S_MSG_START;
  private error: HTTP1ParseError | null = null;
  private streamOffset = 0;
  // Head buffer: holds a header or trailer section that spans several chunks.
  private hb = new Uint8Array(0);
  private hbLen = 0;
  private hbBase = 0;
  private buffered = false;
  private spanBase = 0;
  // Positions relative to the span base.
  private lineStart = 0;
  private lineLimit = 0;
  private lineLimitCode: HTTP1ErrorCode = "HPE_START_LINE_TOO_LONG";
  private sectionStart = 0;
  private sectionMax = 0;
  private nameStart = 0;
  private nameEnd = 0;
  private valueStart = 0;
  private valueEnd = 0;
  private leading = 0;
  private vi = 0;
  private spans = new Int32Array(64);
  private count = 0;
  private inTrailers = false;
  private readonly head: MessageHead;
  private readonly trailers = new FieldBlock(new Uint8Array(0), 0, new Int32Array(0), 0);
  // Framing state of the current message.
  private readonly framing = new MessageFraming();
  private remaining = 0;
  private bodyBytes = 0;
  private readonly chunkLine: ChunkSizeLine;
  private chunkLineBytes = 0;
  private upgradePending = false;
  private readonly expected: string[] = [];
  private requestMethod = "GET";

  /** A parser of `options.kind` messages under `options`' limits, calling `handler` as parts arrive. */
  constructor(options: HTTP1ParserOptions, handler: HTTP1ParserHandler = {}) {
    if (options.kind !== "request" && options.kind !== "response") {
      throw new TypeError(`kind must be "request" or "response", got ${String(options.kind)}`);
    }
    this.kind = options.kind;
    this.isRequest = options.kind === "request";
    if (options.lenientLineEndings && this.isRequest) {
      throw new TypeError("lenientLineEndings is allowed for responses only");
    }
    if (options.lenientTargetChars && !this.isRequest) {
      throw new TypeError("lenientTargetChars is allowed for requests only");
    }
    if (options.unfoldObsFold && this.isRequest) {
      throw new TypeError("unfoldObsFold is allowed for responses only");
    }
    this.lenientLF = options.lenientLineEndings === true;
    this.unfoldObs = options.unfoldObsFold === true;
    this.targetTable = options.lenientTargetChars ? TARGET_LENIENT : TARGET;
    const L = HTTP1_LIMITS;
    this.maxStartLine = limitOption(options.maxStartLineBytes, L.maxStartLineBytes, "maxStartLineBytes");
    this.maxUri = limitOption(options.maxUriBytes, L.maxUriBytes, "maxUriBytes");
    this.maxHeader = limitOption(options.maxHeaderBytes, L.maxHeaderBytes, "maxHeaderBytes");
    this.maxCount = limitOption(options.maxHeaderCount, L.maxHeaderCount, "maxHeaderCount");
    this.maxField = limitOption(options.maxFieldBytes, L.maxFieldBytes, "maxFieldBytes");
    this.maxChunkLine = limitOption(options.maxChunkExtensionBytes, L.maxChunkExtensionBytes, "maxChunkExtensionBytes");
    this.maxTrailer = limitOption(options.maxTrailerBytes, L.maxTrailerBytes, "maxTrailerBytes");
    this.maxBody = limitOption(options.maxBodyBytes, L.maxBodyBytes, "maxBodyBytes");
    const trailerPolicy = options.prohibitedTrailers ?? "reject";
    if (trailerPolicy !== "reject" && trailerPolicy !== "drop") {
      throw new TypeError(`prohibitedTrailers must be "reject" or "drop", got ${String(trailerPolicy)}`);
    }
    this.dropProhibitedTrailers = trailerPolicy === "drop";
    this.handler = handler;
    this.head = new MessageHead(options.kind);
    this.chunkLine = new ChunkSizeLine(this.lenientLF);
  }

  /**
   * Trailer fields left out because RFC 9110 §6.5.1 prohibits them there
   * (with `prohibitedTrailers: "drop"`), over the parser's life.
   */
  get droppedTrailerFields(): number {
    return this.dropped;
  }

  /** Bytes pushed so far. */
  get bytesPushed(): number {
    return this.streamOffset;
  }

  /** True once a message switched protocol; later pushes go to `onUpgrade`. */
  get upgraded(): boolean {
    return this.state === S_UPGRADED;
  }

  /** True between messages (nothing of a message has been seen). */
  get idle(): boolean {
    return this.state === S_MSG_START || this.state === S_CLOSED;
  }

  /**
   * Responses: records the method of a request sent on this connection, in
   * order (pipelining), so the parser knows that a response to HEAD has no
   * body and that a 2xx to CONNECT starts a tunnel. Without it, GET is
   * assumed.
   */
  expectResponseTo(method: string): void {
    if (this.isRequest) throw new TypeError("expectResponseTo is for response parsers");
    this.expected.push(method);
  }

  /**
   * Requests: after an Upgrade request that the server declines, returns the
   * parser to reading requests; push the bytes `onUpgrade` handed over again.
   */
  declineUpgrade(): void {
    if (this.state !== S_UPGRADED || this.head.method === "CONNECT") {
      throw new TypeError("no declinable upgrade is pending");
    }
    this.state = this.framing.keepAlive ? S_MSG_START : S_CLOSED;
  }

  /**
   * Feeds bytes. Callbacks run synchronously; views they receive are valid
   * until they return.
   *
   * @throws HTTP1ParseError on malformed input or a limit.
   */
  push(chunk: Uint8Array): void {
    if (this.state === S_DEAD) throw this.error!;
    const end = chunk.length;
    try {
      let p = 0;
      if (this.buffered) {
        const old = this.hbLen;
        const cap = (this.inTrailers ? this.maxTrailer : this.maxStartLine + this.maxHeader) + 2;
        const take = Math.min(end, Math.max(0, cap - old));
        this.append(chunk, take);
        const stop = this.run(this.hb, old, this.hbLen, this.hbBase);
        if (this.buffered) {
          if (take < end) this.fail("HPE_HEADERS_TOO_LARGE", "header section too large", this.hbBase + this.hbLen);
          this.streamOffset += end;
          return;
        }
        p = stop - old;
      }
      p = this.run(chunk, p, end, this.streamOffset);
      const s = this.state;
      if (s >= S_METHOD && s <= S_SECTION_LF && !this.buffered) {
        // The section continues in the next chunk: keep its bytes.
        this.hbLen = 0;
        this.append(chunk.subarray(this.spanBase, end), end - this.spanBase);
        this.hbBase = this.streamOffset + this.spanBase;
        this.buffered = true;
      }
      if (this.upgradePending) {
        this.upgradePending = false;
        this.handler.onUpgrade?.(chunk.subarray(end));
      }
      this.streamOffset += end;
    } catch (err) {
      if (this.state !== S_DEAD) {
        this.state = S_DEAD;
        this.error = err instanceof HTTP1ParseError
          ? err
          : new HTTP1ParseError("HPE_USER", `a parser callback threw: ${String(err)}`, this.streamOffset);
      }
      throw err;
    }
  }

  /**
   * Signals the end of the input (the peer closed). Completes a response
   * read until close.
   *
   * @throws HTTP1ParseError `HPE_INVALID_EOF_STATE` when a message is cut short.
   */
  finish(): void {
    const s = this.state;
    if (s === S_DEAD) throw this.error!;
    if (s === S_BODY_CLOSE) {
      this.state = this.messageComplete();
      return;
    }
    if (s === S_MSG_START || s === S_CLOSED || s === S_UPGRADED) return;
    this.state = S_DEAD;
    this.error = new HTTP1ParseError("HPE_INVALID_EOF_STATE", "input ended inside a message", this.streamOffset);
    throw this.error;
  }

  private words: Int32Array = new Int32Array(0);
  private wordsSource: Uint8Array | null = null;
  private wordsOffset = 0;

  /** A word view of `buf`'s buffer, cached for the chunk being parsed. */
  private wordsFor(buf: Uint8Array): Int32Array {
    if (buf !== this.wordsSource) {
      this.wordsSource = buf;
      this.words = wordView(buf);
      this.wordsOffset = buf.byteOffset;
    }
    return this.words;
  }

  /** Appends the first `n` bytes of `src` to the held bytes of an unfinished section, growing the buffer when needed. */
  private append(src: Uint8Array, n: number): void {
    const need = this.hbLen + n;
    if (need > this.hb.length) {
      const grown = new Uint8Array(Math.max(need, this.hb.length * 2, 1024));
      grown.set(this.hb.subarray(0, this.hbLen));
      this.hb = grown;
    }
    this.hb.set(n === src.length ? src : src.subarray(0, n), this.hbLen);
    this.hbLen = need;
  }

  /** Hands body bytes to `onBodySpan` (no allocation) or `onBody` (a view). */
  private emitBody(buf: Uint8Array, from: number, to: number): void {
    const h = this.handler;
    if (h.onBodySpan !== undefined) h.onBodySpan(buf, from, to);
    else if (h.onBody !== undefined) h.onBody(buf.subarray(from, to));
  }

  /** Records a parse error (the parser is dead from now on) and throws it. */
  private fail(code: HTTP1ErrorCode | "HPE_USER", message: string, offset: number): never {
    const err = new HTTP1ParseError(code, message, offset);
    this.state = S_DEAD;
    this.error = err;
    throw err;
  }

  /** Resets the per-message state before a new message starts. */
  private beginMessage(): void {
    this.count = 0;
    this.inTrailers = false;
    this.framing.reset();
    this.bodyBytes = 0;
    this.vi = 0;
    this.lineStart = 0;
    this.lineLimit = this.maxStartLine - this.leading;
    this.lineLimitCode = "HPE_START_LINE_TOO_LONG";
    this.leading = 0;
    const h = this.head;
    h.versionMinor = 1;
    h.statusCode = 0;
    h.reasonStart = h.reasonEnd = h.targetStart = h.targetEnd = 0;
    if (!this.isRequest) this.requestMethod = this.expected[0] ?? "GET";
    this.handler.onMessageBegin?.();
  }

  /** A field line starts at `rel`: sets how far it may run (the field limit, or the section limit when smaller) and the error code past it. */
  private fieldLine(rel: number): void {
    this.lineStart = rel;
    const f = rel + this.maxField;
    const s = this.sectionStart + this.sectionMax;
    if (f < s) {
      this.lineLimit = f;
      this.lineLimitCode = "HPE_FIELD_TOO_LARGE";
    } else {
      this.lineLimit = s;
      this.lineLimitCode = this.inTrailers ? "HPE_TRAILERS_TOO_LARGE" : "HPE_HEADERS_TOO_LARGE";
    }
  }

  /** The error message for the limit `code`. */
  private limitMessage(code: HTTP1ErrorCode): string {
    return code === "HPE_URI_TOO_LONG" ? "request-target too long" : "limit exceeded: " + code;
  }

  /**
   * An obs-fold line starts at `p` (SP or HTAB after a field line's end):
   * the line end before it becomes SP octets and the field before it is
   * parsed on, its value now running through this line (RFC 9112 §5.2, for
   * a user agent). False (the fold fails) in trailers, with no field
   * before, or after a field that framing read already.
   */
  private unfold(buf: Uint8Array, sb: number, p: number): boolean {
    if (this.inTrailers || this.count === 0 || buf[p - 1] !== LF) return false;
    const i = 4 * (this.count - 1);
    const spans = this.spans;
    const ns = sb + spans[i]!;
    const len = spans[i + 1]! - spans[i]!;
    for (const name of FRAMING_NAMES) if (len === name.length && lowerEquals(buf, ns, name)) return false;
    buf[p - 1] = SP;
    if (p - 2 >= sb + spans[i + 3]! && buf[p - 2] === CR) buf[p - 2] = SP;
    this.nameStart = spans[i]!;
    this.nameEnd = spans[i + 1]!;
    this.valueStart = spans[i + 2]!;
    return true;
  }

  /** Stores the name and value spans of the field line just parsed, growing the span table when full. */
  private storeField(): void {
    const i = this.count - 1;
    let spans = this.spans;
    if (4 * i + 4 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      this.spans = spans = grown;
    }
    spans[4 * i] = this.nameStart;
    spans[4 * i + 1] = this.nameEnd;
    spans[4 * i + 2] = this.valueStart;
    spans[4 * i + 3] = this.valueEnd;
  }

  /**
   * A trailer field just stored: one that RFC 9110 §6.5.1 keeps out of
   * trailers fails the message, or is taken back out and counted.
   */
  private trailerField(buf: Uint8Array, sb: number, base: number): void {
    const ns = sb + this.nameStart;
    const len = this.nameEnd - this.nameStart;
    // The longest prohibited name is 25 bytes: longer names need no string.
    if (len > 25) return;
    let name = "";
    for (let i = 0; i < len; i++) name += String.fromCharCode(buf[ns + i]! | 0x20);
    if (!PROHIBITED_TRAILER_FIELDS.has(name)) return;
    if (this.dropProhibitedTrailers) {
      this.count--;
      this.dropped++;
      return;
    }
    this.fail("HPE_PROHIBITED_TRAILER", `${name} is not allowed in a trailer section`, base + sb + this.lineStart);
  }

  /** Applies a header field that decides framing or connection handling. */
  private framingField(buf: Uint8Array, sb: number, base: number): void {
    const f = this.framing;
    const code = f.field(
      buf,
      sb + this.nameStart,
      this.nameEnd - this.nameStart,
      sb + this.valueStart,
      sb + this.valueEnd,
      sb + this.lineStart,
      this.isRequest,
      this.head.versionMinor,
    );
    if (code !== "") this.fail(code, f.errorMessage, base + f.errorAt);
  }

  /** The header section ended: decide framing, report the head, return the next state. */
  private headComplete(buf: Uint8Array, sb: number, p: number, base: number): number {
    const h = this.head;
    const f = this.framing;
    h.buffer = buf;
    h.offset = sb;
    h.spans = this.spans;
    h.count = this.count;
    h.contentLength = f.contentLength;
    const code = f.decide(this.isRequest, h.versionMinor, h.method, h.statusCode, this.requestMethod);
    if (code !== "") this.fail(code, f.errorMessage, base + p - 2);
    if (f.framing === "length" && f.contentLength > this.maxBody) {
      this.fail("HPE_BODY_TOO_LARGE", "Content-Length above the body limit", base + p);
    }
    h.framing = f.framing;
    h.keepAlive = f.keepAlive;
    h.upgrade = f.upgrade;
    this.handler.onHead?.(h);
    switch (f.framing) {
      case "length":
        this.remaining = f.contentLength;
        return S_BODY_LENGTH;
      case "chunked":
        this.chunkLineBytes = 0;
        this.chunkLine.reset();
        return S_CHUNK_LINE;
      case "until-close":
        return S_BODY_CLOSE;
      default:
        return this.messageComplete();
    }
  }

  /** Ends the current message (onMessageComplete) and returns the state to go on in: upgraded, next message or closed. */
  private messageComplete(): number {
    this.handler.onMessageComplete?.();
    if (!this.isRequest && !this.framing.interim) this.expected.shift();
    if (this.framing.upgrade) {
      this.upgradePending = true;
      return S_UPGRADED;
    }
    return this.framing.keepAlive ? S_MSG_START : S_CLOSED;
  }

  /** The state machine: parses `buf` from `p` to `end` (`base`: the offset of `buf` in the stream) and returns where it stopped. */
  private run(buf: Uint8Array, p: number, end: number, base: number): number {
    let state = this.state;
    let sb = this.buffered ? 0 : this.spanBase;
    const lenient = this.lenientLF;
    outer: while (p < end) {
      switch (state) {
        case S_MSG_START: {
          const c = buf[p]!;
          if (this.isRequest && (c === CR || c === LF)) {
            // RFC 9112 §2.2: ignore empty lines before the request-line.
            if (c === LF) this.fail("HPE_CR_EXPECTED", "bare LF before the request-line", base + p);
            if (++this.leading > this.maxStartLine) {
              this.fail("HPE_START_LINE_TOO_LONG", "too many empty lines", base + p);
            }
            p++;
            state = S_LEADING_LF;
            continue;
          }
          if (!this.isRequest && (c === CR || (c === LF && lenient))) {
            // One empty line before a status line is tolerated: some servers
            // send a stray CRLF after a body or after `100 Continue`.
            if (this.leading > 0) this.fail("HPE_INVALID_VERSION", "more than one empty line before the status line", base + p);
            this.leading = 2;
            p++;
            if (c === CR) state = S_LEADING_LF;
            continue;
          }
          this.spanBase = sb = p;
          this.beginMessage();
          state = this.isRequest ? S_METHOD : S_RES_VERSION;
          continue;
        }
        case S_LEADING_LF: {
          if (buf[p] !== LF) this.fail("HPE_LF_EXPECTED", "CR not followed by LF", base + p);
          if (++this.leading > this.maxStartLine) {
            this.fail("HPE_START_LINE_TOO_LONG", "too many empty lines", base + p);
          }
          p++;
          state = S_MSG_START;
          continue;
        }
        case S_METHOD: {
          const stop = sb + this.lineLimit;
          const lim = end < stop ? end : stop;
          let q = p;
          while (q < lim && TOKEN[buf[q]!] === 1) q++;
          p = q;
          if (q === lim) {
            if (q === stop && q < end) this.fail("HPE_START_LINE_TOO_LONG", "request-line too long", base + q);
            break outer;
          }
          if (buf[q] !== SP || q === sb) this.fail("HPE_INVALID_METHOD", "invalid method", base + q);
          this.head.method = internMethod(buf, sb, q);
          p = q + 1;
          this.head.targetStart = p - sb;
          state = S_TARGET;
          continue;
        }
        case S_TARGET: {
          const stop = sb + this.lineLimit;
          const ustop = sb + this.head.targetStart + this.maxUri;
          const s = stop < ustop ? stop : ustop;
          const lim = end < s ? end : s;
          const table = this.targetTable;
          let q = p;
          while (q < lim && table[buf[q]!] === 1) q++;
          p = q;
          if (q === end) break outer;
          // A request-line that overflows inside the target is a too-long URI (414).
          if (q === stop) this.fail("HPE_URI_TOO_LONG", "request-line too long", base + q);
          const c = buf[q]!;
          if (q === ustop && table[c] === 1) this.fail("HPE_URI_TOO_LONG", "request-target too long", base + q);
          const ts = sb + this.head.targetStart;
          if (c !== SP) {
            if (c === CR || c === LF) this.fail("HPE_INVALID_VERSION", "request-line without HTTP-version", base + q);
            this.fail("HPE_INVALID_URL", "invalid character in request-target", base + q);
          }
          if (q === ts || !isValidRequestTarget(buf, ts, q, this.head.method)) {
            this.fail("HPE_INVALID_URL", "invalid request-target", base + ts);
          }
          this.head.targetEnd = q - sb;
          p = q + 1;
          this.vi = 0;
          state = S_REQ_VERSION;
          continue;
        }
        case S_REQ_VERSION:
        case S_RES_VERSION: {
          const stop = sb + this.lineLimit;
          if (this.vi === 0 && p + 10 <= end && p + 10 <= stop && buf[p + 5] === 0x31 && buf[p + 6] === 0x2e) {
            // Fast path: "HTTP/1.x" then CRLF (request) or SP (status line), all here.
            const minor = buf[p + 7]! - 0x30;
            if (
              buf[p] === 0x48 && buf[p + 1] === 0x54 && buf[p + 2] === 0x54 && buf[p + 3] === 0x50 &&
              buf[p + 4] === 0x2f && (minor === 0 || minor === 1)
            ) {
              this.head.versionMinor = minor;
              if (state === S_REQ_VERSION && buf[p + 8] === CR) {
                p += 9;
                state = S_START_LF;
                continue;
              }
              if (state === S_RES_VERSION && buf[p + 8] === SP) {
                p += 9;
                this.head.statusCode = 0;
                state = S_RES_STATUS;
                continue;
              }
            }
          }
          while (p < end) {
            if (p >= stop) this.fail("HPE_START_LINE_TOO_LONG", "start line too long", base + p);
            const c = buf[p]!;
            const vi = this.vi;
            if (vi < 7) {
              if (c !== VERSION_PREFIX[vi]) {
                // In a request, "HTTP/" and a major digit other than 1 is a version we do not speak (505); anything else is no HTTP-version (400).
                this.fail(vi === 5 && c >= 0x30 && c <= 0x39 && state === S_REQ_VERSION ? "HPE_UNSUPPORTED_VERSION" : "HPE_INVALID_VERSION", "invalid HTTP-version", base + p);
              }
            } else if (vi === 7) {
              // A request of a higher minor version (HTTP/1.2 … 1.9) is processed as HTTP/1.1 (RFC 9112 §2.3, RFC 9110 §6.2):
              // it is served and answered in 1.1.
              if (c >= 0x32 && c <= 0x39 && state === S_REQ_VERSION) this.head.versionMinor = 1;
              else if (c !== 0x30 && c !== 0x31) this.fail("HPE_INVALID_VERSION", "unsupported HTTP-version", base + p);
              else this.head.versionMinor = c - 0x30;
            } else if (state === S_REQ_VERSION) {
              if (c === CR) {
                p++;
                state = S_START_LF;
                continue outer;
              }
              this.fail(c === LF ? "HPE_CR_EXPECTED" : "HPE_INVALID_VERSION", "invalid HTTP-version", base + p);
            } else {
              if (c !== SP) this.fail("HPE_INVALID_VERSION", "invalid HTTP-version", base + p);
              p++;
              this.vi = 0;
              this.head.statusCode = 0;
              state = S_RES_STATUS;
              continue outer;
            }
            this.vi = vi + 1;
            p++;
          }
          break outer;
        }
        case S_RES_STATUS: {
          const stop = sb + this.lineLimit;
          while (p < end) {
            if (p >= stop) this.fail("HPE_START_LINE_TOO_LONG", "status line too long", base + p);
            const d = buf[p]! - 0x30;
            if (d < 0 || d > 9 || (this.vi === 0 && d === 0)) {
              this.fail("HPE_INVALID_STATUS", "invalid status code", base + p);
            }
            this.head.statusCode = this.head.statusCode * 10 + d;
            p++;
            if (++this.vi === 3) {
              state = S_RES_AFTER_STATUS;
              continue outer;
            }
          }
          break outer;
        }
        case S_RES_AFTER_STATUS: {
          if (p >= sb + this.lineLimit) this.fail("HPE_START_LINE_TOO_LONG", "status line too long", base + p);
          const c = buf[p]!;
          if (c === SP) {
            p++;
            this.head.reasonStart = this.head.reasonEnd = p - sb;
            state = S_RES_REASON;
          } else if (c === CR || (c === LF && lenient)) {
            // The SP before an empty reason-phrase is commonly left out.
            this.head.reasonStart = this.head.reasonEnd = p - sb;
            if (c === CR) p++;
            state = S_START_LF;
          } else {
            this.fail(c === LF ? "HPE_CR_EXPECTED" : "HPE_INVALID_STATUS", "invalid status code", base + p);
          }
          continue;
        }
        case S_RES_REASON: {
          const stop = sb + this.lineLimit;
          const lim = end < stop ? end : stop;
          let q = p;
          while (q < lim && REASON[buf[q]!] === 1) q++;
          p = q;
          if (q === lim) {
            if (q === stop && q < end) this.fail("HPE_START_LINE_TOO_LONG", "status line too long", base + q);
            break outer;
          }
          const c = buf[q]!;
          if (c === CR || (c === LF && lenient)) {
            this.head.reasonEnd = q - sb;
            p = c === CR ? q + 1 : q;
            state = S_START_LF;
            continue;
          }
          this.fail(c === LF ? "HPE_CR_EXPECTED" : "HPE_INVALID_REASON", "invalid reason-phrase", base + q);
          break;
        }
        case S_START_LF: {
          if (p >= sb + this.lineLimit) this.fail("HPE_START_LINE_TOO_LONG", "start line too long", base + p);
          if (buf[p] !== LF) this.fail("HPE_LF_EXPECTED", "CR not followed by LF", base + p);
          p++;
          this.sectionStart = p - sb;
          this.sectionMax = this.maxHeader;
          this.fieldLine(p - sb);
          state = S_FIELD_START;
          continue;
        }
        case S_FIELD_START: {
          if (p >= sb + this.lineLimit) this.fail(this.lineLimitCode, this.limitMessage(this.lineLimitCode), base + p);
          const c = buf[p]!;
          if (TOKEN[c] === 1) {
            if (++this.count > this.maxCount) {
              this.fail("HPE_TOO_MANY_HEADERS", "too many header fields", base + p);
            }
            this.nameStart = p - sb;
            // Fast path: the whole field line is in this buffer and well formed.
            const stop = sb + this.lineLimit;
            const lim = end < stop ? end : stop;
            const token = TOKEN;
            let q = p + 1;
            while (q < lim) {
              if (token[buf[q]!] !== 1) break;
              q++;
            }
            if (q < lim && buf[q] === 0x3a) {
              const ne = q;
              q++;
              while (q < lim && (buf[q] === SP || buf[q] === HTAB)) q++;
              const vs = q;
              q = lim - q > 16 ? scanFieldValue(buf, this.wordsFor(buf), this.wordsOffset, q, lim) : q;
              while (q < lim && FIELD_VALUE[buf[q]!] === 1) q++;
              if (q + 1 < lim && buf[q] === CR && buf[q + 1] === LF) {
                let ve = q;
                while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
                this.nameEnd = ne - sb;
                this.valueStart = vs - sb;
                this.valueEnd = ve - sb;
                this.storeField();
                if (this.inTrailers) this.trailerField(buf, sb, base);
                else this.framingField(buf, sb, base);
                p = q + 2;
                this.fieldLine(p - sb);
                continue;
              }
            }
            p++;
            state = S_FIELD_NAME;
            continue;
          }
          if (c === CR) {
            p++;
            state = S_SECTION_LF;
            continue;
          }
          if (c === LF && lenient) {
            state = S_SECTION_LF;
            continue;
          }
          if (c === LF) this.fail("HPE_CR_EXPECTED", "bare LF as line ending", base + p);
          if (c === SP || c === HTAB) {
            if (this.unfoldObs && this.unfold(buf, sb, p)) {
              state = S_FIELD_VALUE;
              continue;
            }
            this.fail("HPE_OBS_FOLD", "line folding (obs-fold) or leading whitespace", base + p);
          }
          this.fail("HPE_INVALID_HEADER_TOKEN", "invalid character in field name", base + p);
          break;
        }
        case S_FIELD_NAME: {
          const stop = sb + this.lineLimit;
          const lim = end < stop ? end : stop;
          let q = p;
          while (q < lim && TOKEN[buf[q]!] === 1) q++;
          p = q;
          if (q === lim) {
            if (q === stop && q < end) this.fail(this.lineLimitCode, this.limitMessage(this.lineLimitCode), base + q);
            break outer;
          }
          if (buf[q] !== 0x3a) {
            this.fail("HPE_INVALID_HEADER_TOKEN", "invalid character in field name", base + q);
          }
          this.nameEnd = q - sb;
          p = q + 1;
          state = S_FIELD_OWS;
          continue;
        }
        case S_FIELD_OWS: {
          const stop = sb + this.lineLimit;
          const lim = end < stop ? end : stop;
          let q = p;
          while (q < lim && (buf[q] === SP || buf[q] === HTAB)) q++;
          p = q;
          if (q === lim) {
            if (q === stop && q < end) this.fail(this.lineLimitCode, this.limitMessage(this.lineLimitCode), base + q);
            break outer;
          }
          this.valueStart = q - sb;
          state = S_FIELD_VALUE;
          continue;
        }
        case S_FIELD_VALUE: {
          const stop = sb + this.lineLimit;
          const lim = end < stop ? end : stop;
          let q = lim - p > 16 ? scanFieldValue(buf, this.wordsFor(buf), this.wordsOffset, p, lim) : p;
          while (q < lim && FIELD_VALUE[buf[q]!] === 1) q++;
          p = q;
          if (q === lim) {
            if (q === stop && q < end) this.fail(this.lineLimitCode, this.limitMessage(this.lineLimitCode), base + q);
            break outer;
          }
          const c = buf[q]!;
          if (c === CR || (c === LF && lenient)) {
            let ve = q;
            const vs = sb + this.valueStart;
            while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
            this.valueEnd = ve - sb;
            p = c === CR ? q + 1 : q;
            state = S_FIELD_LF;
            continue;
          }
          if (c === LF) this.fail("HPE_CR_EXPECTED", "bare LF as line ending", base + q);
          this.fail("HPE_INVALID_HEADER_VALUE", "invalid character in field value", base + q);
          break;
        }
        case S_FIELD_LF: {
          if (p >= sb + this.lineLimit) this.fail(this.lineLimitCode, this.limitMessage(this.lineLimitCode), base + p);
          if (buf[p] !== LF) this.fail("HPE_LF_EXPECTED", "CR not followed by LF", base + p);
          this.storeField();
          if (this.inTrailers) this.trailerField(buf, sb, base);
          else this.framingField(buf, sb, base);
          p++;
          this.fieldLine(p - sb);
          state = S_FIELD_START;
          continue;
        }
        case S_SECTION_LF: {
          if (p >= sb + this.lineLimit) this.fail(this.lineLimitCode, this.limitMessage(this.lineLimitCode), base + p);
          if (buf[p] !== LF) this.fail("HPE_LF_EXPECTED", "CR not followed by LF", base + p);
          p++;
          if (this.inTrailers) {
            if (this.count > 0 && this.handler.onTrailers) {
              const t = this.trailers;
              t.buffer = buf;
              t.offset = sb;
              t.spans = this.spans;
              t.count = this.count;
              this.handler.onTrailers(t);
            }
            state = this.messageComplete();
          } else {
            this.state = state;
            state = this.headComplete(buf, sb, p, base);
          }
          if (this.buffered) {
            this.buffered = false;
            this.state = state;
            return p;
          }
          continue;
        }
        case S_BODY_LENGTH: {
          const avail = end - p;
          const n = avail < this.remaining ? avail : this.remaining;
          this.remaining -= n;
          const from = p;
          p += n;
          this.emitBody(buf, from, p);
          if (this.remaining === 0) state = this.messageComplete();
          continue;
        }
        case S_BODY_CLOSE: {
          const n = end - p;
          if (this.bodyBytes + n > this.maxBody) {
            this.fail("HPE_BODY_TOO_LARGE", "body above the limit", base + p + (this.maxBody - this.bodyBytes));
          }
          this.bodyBytes += n;
          const from = p;
          p = end;
          this.emitBody(buf, from, end);
          continue;
        }
        case S_CHUNK_DATA: {
          const avail = end - p;
          const n = avail < this.remaining ? avail : this.remaining;
          this.remaining -= n;
          const from = p;
          p += n;
          this.emitBody(buf, from, p);
          if (this.remaining === 0) state = S_CHUNK_DATA_CR;
          continue;
        }
        case S_CHUNK_DATA_CR: {
          const c = buf[p]!;
          if (c === CR) {
            p++;
            state = S_CHUNK_DATA_LF;
          } else if (c === LF && lenient) {
            p++;
            this.chunkLineBytes = 0;
            this.chunkLine.reset();
            state = S_CHUNK_LINE;
          } else {
            this.fail("HPE_INVALID_CHUNK_DATA", "chunk data not followed by CRLF", base + p);
          }
          continue;
        }
        case S_CHUNK_DATA_LF: {
          if (buf[p] !== LF) this.fail("HPE_INVALID_CHUNK_DATA", "chunk data not followed by CRLF", base + p);
          p++;
          this.chunkLineBytes = 0;
          this.chunkLine.reset();
          state = S_CHUNK_LINE;
          continue;
        }
        case S_UPGRADED: {
          this.upgradePending = false;
          this.handler.onUpgrade?.(buf.subarray(p, end));
          p = end;
          continue;
        }
        case S_CLOSED: {
          // Stray CRLFs after the last message (old clients add one after a body) are ignored.
          const c = buf[p]!;
          if (c === CR || c === LF) {
            p++;
            continue;
          }
          this.fail("HPE_CLOSED_CONNECTION", "data after the last message of a closing connection", base + p);
          break;
        }
        default: {
          // S_CHUNK_LINE: size, extensions, CRLF; counted against the chunk line limit.
          const line = this.chunkLine;
          let done = false;
          if (this.chunkLineBytes === 0) {
            // Fast path: a whole "<hex>\r\n" line without extensions is here.
            let q = p;
            let size = 0;
            const lim = end < p + 13 ? end : p + 13;
            while (q < lim) {
              const d = HEX_VALUE[buf[q]!]!;
              if (d < 0) break;
              size = size * 16 + d;
              q++;
            }
            if (q > p && q + 1 < end && buf[q] === CR && buf[q + 1] === LF && q + 2 - p <= this.maxChunkLine) {
              line.size = size;
              p = q + 2;
              done = true;
            }
          }
          while (!done && p < end) {
            if (++this.chunkLineBytes > this.maxChunkLine) {
              this.fail("HPE_CHUNK_EXTENSIONS_TOO_LARGE", "chunk-size line too long", base + p);
            }
            const r = line.step(buf[p]!);
            p++;
            if (r === "") continue;
            if (r !== "done") this.fail(r, "invalid chunk-size line", base + p - 1);
            done = true;
          }
          if (done) {
            if (line.size === 0) {
              this.inTrailers = true;
              this.count = 0;
              this.spanBase = sb = p;
              this.sectionStart = 0;
              this.sectionMax = this.maxTrailer;
              this.fieldLine(0);
              state = S_FIELD_START;
            } else {
              this.bodyBytes += line.size;
              if (this.bodyBytes > this.maxBody) {
                this.fail("HPE_BODY_TOO_LARGE", "body above the limit", base + p);
              }
              this.remaining = line.size;
              state = S_CHUNK_DATA;
            }
            continue outer;
          }
          break outer;
        }
      }
    }
    this.state = state;
    return p;
  }
}
