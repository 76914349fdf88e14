/**
 * The header fields that decide how an HTTP/1.1 message is delimited and
 * whether its connection persists or switches protocol (RFC 9112 §6.1,
 * §6.3, §9.3, §9.6; RFC 9110 §7.2, §7.6.1, §7.8, §8.6), collected field by
 * field while the header section is parsed, then turned into a decision.
 *
 * @example
 * ```ts
 * import { MessageFraming } from "./message_framing.ts";
 * const f = new MessageFraming();
 * const v = new TextEncoder().encode("content-length5");
 * console.log(f.field(v, 0, 14, 14, 15, 0, true, 1), f.contentLength); // "" 5
 * console.log(f.decide(true, 1, "POST", 0, ""), f.framing); // "HPE_MISSING_HOST" …
 * ```
 *
 * @module
 */
import type { BodyFraming } from "./fields.ts";
import {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  CONNECTION_UPGRADE,
  isValidHost,
  readConnection,
  readContentLength,
  readTransferEncoding,
  type TransferCodingState,
} from "./framing.ts";
import type { HTTP1ErrorCode } from "./parse_options.ts";

/** Host values up to this length are remembered once valid (see MessageFraming). */
const MAX_REMEMBERED_HOST = 64;

function lowerIs(buf: Uint8Array, s: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[s + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * The framing state of one message. `field()` and `decide()` return "" or
 * the error code; on an error, `errorMessage` says why and `errorAt` is the
 * position in the buffer that `field()` was given.
 *
 * @example
 * ```ts
 * import { MessageFraming } from "./message_framing.ts";
 * const f = new MessageFraming();
 * console.log(f.decide(false, 1, "", 200, "GET"), f.framing, f.keepAlive); // "" "until-close" false
 * ```
 */
export class MessageFraming {
  /** The Content-Length value, or -1. */
  contentLength = -1;
  /** Transfer codings seen across Transfer-Encoding lines. */
  readonly te: TransferCodingState = { count: 0, chunkedLast: false, chunkedSeen: false, unknown: false };
  /** Number of Transfer-Encoding field lines. */
  teLines = 0;
  /** Connection options seen (CONNECTION_* bits). */
  connection = 0;
  /** An Upgrade field was present. */
  upgradeHeader = false;
  /** Number of Host field lines. */
  hostCount = 0;
  /** The decision of `decide()`. */
  framing: BodyFraming = "none";
  /** The connection stays open after the message. */
  keepAlive = true;
  /** The connection switches protocol after the message. */
  upgrade = false;
  /** A 1xx (not 101) response: another response follows for the same request. */
  interim = false;
  /** Why the last call failed. */
  errorMessage = "";
  /** Where the last `field()` failure is, in that call's buffer. */
  errorAt = 0;
  /** The last Host value found valid (Latin-1): the next request on a connection usually repeats it, and is not checked again. */
  #validHost = "";

  /** Starts a new message. */
  reset(): void {
    this.contentLength = -1;
    this.te.count = 0;
    this.te.chunkedLast = false;
    this.te.chunkedSeen = false;
    this.te.unknown = false;
    this.teLines = 0;
    this.connection = 0;
    this.upgradeHeader = false;
    this.hostCount = 0;
    this.interim = false;
  }

  /** Whether `buf[vs..ve)` is the Host value last found valid. */
  #knownHost(buf: Uint8Array, vs: number, ve: number): boolean {
    const known = this.#validHost;
    const len = ve - vs;
    if (len !== known.length || len === 0) return false;
    for (let i = 0; i < len; i++) if (buf[vs + i] !== known.charCodeAt(i)) return false;
    return true;
  }

  /** Remembers the valid Host value `buf[vs..ve)` (a short one: a long one is checked each time). */
  #rememberHost(buf: Uint8Array, vs: number, ve: number): void {
    if (ve - vs > MAX_REMEMBERED_HOST) return;
    let s = "";
    for (let i = vs; i < ve; i++) s += String.fromCharCode(buf[i]!);
    this.#validHost = s;
  }

  #error(code: HTTP1ErrorCode, message: string, at: number): HTTP1ErrorCode {
    this.errorMessage = message;
    this.errorAt = at;
    return code;
  }

  /**
   * Applies one field: name at `buf[ns..ns+len)`, value at `buf[vs..ve)`, the
   * line starting at `lineStart`. Fields that do not matter for framing are
   * skipped after a length check.
   */
  field(
    buf: Uint8Array,
    ns: number,
    len: number,
    vs: number,
    ve: number,
    lineStart: number,
    isRequest: boolean,
    minor: number,
  ): HTTP1ErrorCode | "" {
    switch (len) {
      case 4:
        if (isRequest && lowerIs(buf, ns, "host")) {
          if (++this.hostCount > 1) return this.#error("HPE_DUPLICATE_HOST", "more than one Host field", lineStart);
          if (!this.#knownHost(buf, vs, ve)) {
            if (!isValidHost(buf, vs, ve)) return this.#error("HPE_INVALID_HOST", "invalid Host value", vs);
            this.#rememberHost(buf, vs, ve);
          }
        }
        return "";
      case 7:
        if (lowerIs(buf, ns, "upgrade")) this.upgradeHeader = true;
        return "";
      case 10:
        if (lowerIs(buf, ns, "connection")) {
          const flags = readConnection(buf, vs, ve);
          if (flags > 0) this.connection |= flags;
        }
        return "";
      case 14:
        if (lowerIs(buf, ns, "content-length")) {
          const v = readContentLength(buf, vs, ve);
          if (v < 0) return this.#error("HPE_INVALID_CONTENT_LENGTH", "malformed Content-Length", vs);
          if (this.contentLength >= 0 && this.contentLength !== v) {
            return this.#error("HPE_INVALID_CONTENT_LENGTH", "Content-Length values differ", vs);
          }
          if (this.teLines > 0) {
            return this.#error("HPE_UNEXPECTED_CONTENT_LENGTH", "Content-Length with Transfer-Encoding", lineStart);
          }
          this.contentLength = v;
        }
        return "";
      case 17:
        if (lowerIs(buf, ns, "transfer-encoding")) {
          if (this.contentLength >= 0) {
            return this.#error("HPE_UNEXPECTED_CONTENT_LENGTH", "Transfer-Encoding with Content-Length", lineStart);
          }
          if (isRequest && minor === 0) {
            return this.#error("HPE_INVALID_TRANSFER_ENCODING", "Transfer-Encoding in an HTTP/1.0 request", lineStart);
          }
          this.teLines++;
          const problem = readTransferEncoding(buf, vs, ve, this.te);
          if (problem !== "") {
            return this.#error("HPE_INVALID_TRANSFER_ENCODING", `invalid Transfer-Encoding (${problem})`, vs);
          }
          if (isRequest && this.te.unknown) {
            return this.#error("HPE_UNKNOWN_TRANSFER_CODING", "unknown transfer coding", vs);
          }
          if (isRequest && this.te.chunkedSeen && !this.te.chunkedLast) {
            return this.#error("HPE_INVALID_TRANSFER_ENCODING", "chunked must be the final transfer coding of a request", vs);
          }
        }
        return "";
      default:
        return "";
    }
  }

  /**
   * Decides framing, persistence and protocol switch once the header section
   * ended (RFC 9112 §6.3). `requestMethod` is, for a response, the method of
   * the request it answers.
   */
  decide(
    isRequest: boolean,
    minor: number,
    method: string,
    status: number,
    requestMethod: string,
  ): HTTP1ErrorCode | "" {
    const conn = this.connection;
    let keepAlive = minor === 1
      ? (conn & CONNECTION_CLOSE) === 0
      : (conn & CONNECTION_KEEP_ALIVE) !== 0 && (conn & CONNECTION_CLOSE) === 0;
    let upgrade = false;
    let framing: BodyFraming = "none";
    const hasTE = this.teLines > 0;
    if (isRequest) {
      if (minor === 1 && this.hostCount === 0) {
        return this.#error("HPE_MISSING_HOST", "HTTP/1.1 request without Host", 0);
      }
      if (method === "CONNECT") {
        upgrade = true;
      } else {
        if (hasTE) {
          if (!this.te.chunkedLast) {
            return this.#error("HPE_INVALID_TRANSFER_ENCODING", "request Transfer-Encoding must end in chunked", 0);
          }
          // Codings under chunked (gzip, deflate, compress) are not undone
          // here: passing the body on still coded would mislead the
          // application, so the request is refused (RFC 9112 §6.1: 501).
          if (this.te.count > 1) {
            return this.#error("HPE_UNSUPPORTED_TRANSFER_CODING", "transfer codings other than chunked are not implemented", 0);
          }
          framing = "chunked";
        } else if (this.contentLength > 0) {
          framing = "length";
        }
        upgrade = minor === 1 && this.upgradeHeader && (conn & CONNECTION_UPGRADE) !== 0;
      }
    } else {
      if (status < 200 && status !== 101) {
        this.interim = true;
        keepAlive = true;
      } else if (status === 101 || (requestMethod === "CONNECT" && status < 300)) {
        upgrade = true;
      } else if (requestMethod === "HEAD" || status === 204 || status === 304) {
        framing = "none";
      } else if (hasTE) {
        framing = minor === 1 && this.te.chunkedLast ? "chunked" : "until-close";
      } else if (this.contentLength >= 0) {
        framing = this.contentLength > 0 ? "length" : "none";
      } else {
        framing = "until-close";
      }
      if (framing === "until-close") keepAlive = false;
    }
    this.framing = framing;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    return "";
  }
}
