/**
 * The parser's error codes (with the status a server answers for each),
 * its options and its callbacks.
 *
 * @example
 * ```ts
 * import { HTTP1_ERROR_CODES } from "./parse_options.ts";
 * console.log(HTTP1_ERROR_CODES.HPE_URI_TOO_LONG); // 414
 * ```
 *
 * @module
 */
import type { FieldBlock, MessageHead } from "./fields.ts";

/**
 * Every error code the parser raises, with the status a server answers
 * (400, or 414 / 431 / 413 for the limits, 501 for an unknown transfer
 * coding, 505 for an HTTP-version other than 1.0 and 1.1 (`HTTP/2.0`,
 * `HTTP/3.0`: well formed, not supported; a higher 1.x minor is served as 1.1), while a malformed one
 * (`http/1.1`, `GET /a b HTTP/1.1`) is 400; 502 for a bad response).
 *
 * @example
 * ```ts
 * import { HTTP1_ERROR_CODES } from "./parse_options.ts";
 * console.log(HTTP1_ERROR_CODES.HPE_HEADERS_TOO_LARGE); // 431
 * ```
 */
export const HTTP1_ERROR_CODES: {
  readonly HPE_INVALID_METHOD: 400;
  readonly HPE_INVALID_URL: 400;
  readonly HPE_INVALID_VERSION: 400;
  readonly HPE_UNSUPPORTED_VERSION: 505;
  readonly HPE_INVALID_STATUS: 502;
  readonly HPE_INVALID_REASON: 502;
  readonly HPE_INVALID_HEADER_TOKEN: 400;
  readonly HPE_INVALID_HEADER_VALUE: 400;
  readonly HPE_OBS_FOLD: 400;
  readonly HPE_CR_EXPECTED: 400;
  readonly HPE_LF_EXPECTED: 400;
  readonly HPE_INVALID_CONTENT_LENGTH: 400;
  readonly HPE_UNEXPECTED_CONTENT_LENGTH: 400;
  readonly HPE_INVALID_TRANSFER_ENCODING: 400;
  readonly HPE_UNKNOWN_TRANSFER_CODING: 501;
  readonly HPE_UNSUPPORTED_TRANSFER_CODING: 501;
  readonly HPE_INVALID_CHUNK_SIZE: 400;
  readonly HPE_INVALID_CHUNK_EXTENSION: 400;
  readonly HPE_INVALID_CHUNK_DATA: 400;
  readonly HPE_MISSING_HOST: 400;
  readonly HPE_DUPLICATE_HOST: 400;
  readonly HPE_INVALID_HOST: 400;
  readonly HPE_CLOSED_CONNECTION: 400;
  readonly HPE_INVALID_EOF_STATE: 400;
  readonly HPE_START_LINE_TOO_LONG: 414;
  readonly HPE_URI_TOO_LONG: 414;
  readonly HPE_HEADERS_TOO_LARGE: 431;
  readonly HPE_TOO_MANY_HEADERS: 431;
  readonly HPE_FIELD_TOO_LARGE: 431;
  readonly HPE_CHUNK_EXTENSIONS_TOO_LARGE: 400;
  readonly HPE_TRAILERS_TOO_LARGE: 431;
  readonly HPE_PROHIBITED_TRAILER: 400;
  readonly HPE_BODY_TOO_LARGE: 413;
} = Object.freeze({
  HPE_INVALID_METHOD: 400,
  HPE_INVALID_URL: 400,
  HPE_INVALID_VERSION: 400,
  HPE_UNSUPPORTED_VERSION: 505,
  HPE_INVALID_STATUS: 502,
  HPE_INVALID_REASON: 502,
  HPE_INVALID_HEADER_TOKEN: 400,
  HPE_INVALID_HEADER_VALUE: 400,
  HPE_OBS_FOLD: 400,
  HPE_CR_EXPECTED: 400,
  HPE_LF_EXPECTED: 400,
  HPE_INVALID_CONTENT_LENGTH: 400,
  HPE_UNEXPECTED_CONTENT_LENGTH: 400,
  HPE_INVALID_TRANSFER_ENCODING: 400,
  HPE_UNKNOWN_TRANSFER_CODING: 501,
  HPE_UNSUPPORTED_TRANSFER_CODING: 501,
  HPE_INVALID_CHUNK_SIZE: 400,
  HPE_INVALID_CHUNK_EXTENSION: 400,
  HPE_INVALID_CHUNK_DATA: 400,
  HPE_MISSING_HOST: 400,
  HPE_DUPLICATE_HOST: 400,
  HPE_INVALID_HOST: 400,
  HPE_CLOSED_CONNECTION: 400,
  HPE_INVALID_EOF_STATE: 400,
  HPE_START_LINE_TOO_LONG: 414,
  HPE_URI_TOO_LONG: 414,
  HPE_HEADERS_TOO_LARGE: 431,
  HPE_TOO_MANY_HEADERS: 431,
  HPE_FIELD_TOO_LARGE: 431,
  HPE_CHUNK_EXTENSIONS_TOO_LARGE: 400,
  HPE_TRAILERS_TOO_LARGE: 431,
  HPE_PROHIBITED_TRAILER: 400,
  HPE_BODY_TOO_LARGE: 413,
} as const);

/** A parser error code. */
export type HTTP1ErrorCode = keyof typeof HTTP1_ERROR_CODES;

/**
 * Options of an `HTTP1Parser`. Limits default to `HTTP1_LIMITS` (core/limits.ts).
 *
 * @example
 * ```ts
 * import type { HTTP1ParserOptions } from "./parse_options.ts";
 * const strictServer: HTTP1ParserOptions = { kind: "request", maxHeaderCount: 50, maxBodyBytes: 1 << 20 };
 * ```
 */
export interface HTTP1ParserOptions {
  /** Parse requests (a server) or responses (a client). */
  kind: "request" | "response";
  /** Bytes of the request or status line, CRLF included (414 / `HPE_START_LINE_TOO_LONG`). */
  maxStartLineBytes?: number;
  /** Bytes of the request-target (414 / `HPE_URI_TOO_LONG`). */
  maxUriBytes?: number;
  /** Bytes of the header section (431 / `HPE_HEADERS_TOO_LARGE`). */
  maxHeaderBytes?: number;
  /** Field lines in the header or trailer section (431 / `HPE_TOO_MANY_HEADERS`). */
  maxHeaderCount?: number;
  /** Bytes of one field line, CRLF included (431 / `HPE_FIELD_TOO_LARGE`). */
  maxFieldBytes?: number;
  /** Bytes of one chunk-size line (`HPE_CHUNK_EXTENSIONS_TOO_LARGE`). */
  maxChunkExtensionBytes?: number;
  /** Bytes of the trailer section (`HPE_TRAILERS_TOO_LARGE`). */
  maxTrailerBytes?: number;
  /** Bytes of one body; Infinity disables the check (413 / `HPE_BODY_TOO_LARGE`). */
  maxBodyBytes?: number;
  /**
   * Responses only: accept a bare LF as a line ending (RFC 9112 §2.2 allows
   * a recipient to; some old servers send it). Off by default; a request
   * parser refuses the option, since bare LF is a smuggling vector there.
   */
  lenientLineEndings?: boolean;
  /**
   * Responses only: a field line continued by obs-fold (CRLF, then SP or
   * HTAB) is joined to the field before it, the fold read as SP octets, as
   * RFC 9112 §5.2 requires of a user agent (the CR and LF are overwritten
   * with SP in the buffer being parsed). A fold continuing Content-Length,
   * Transfer-Encoding, Connection or Upgrade still fails, as does one in
   * trailers. Off by default: `HPE_OBS_FOLD`.
   */
  unfoldObsFold?: boolean;
  /**
   * Requests only: accept any visible ASCII or obs-text byte in the
   * request-target (`|`, `{`, `"`, raw UTF-8 …), which some clients send
   * unencoded. Off by default. Controls, SP and DEL are still refused.
   */
  lenientTargetChars?: boolean;
  /**
   * What to do with a trailer field that RFC 9110 §6.5.1 keeps out of
   * trailers (framing, routing, authentication, content processing:
   * `Content-Length`, `Host`, `Authorization`, `Content-Type`, … — see
   * `PROHIBITED_TRAILER_FIELDS`): "reject" (default) fails the message
   * with `HPE_PROHIBITED_TRAILER` (400); "drop" leaves it out of
   * `onTrailers` and counts it in `droppedTrailerFields`.
   */
  prohibitedTrailers?: "reject" | "drop";
}

/**
 * The callbacks the parser calls. Views handed out are valid during the call
 * only (call `detach()` or copy to keep them). The request or status line
 * and every header field arrive together in `onHead`, once the whole header
 * section is known to be valid.
 *
 * @example
 * ```ts
 * import type { HTTP1ParserHandler } from "./parse_options.ts";
 * const handler: HTTP1ParserHandler = {
 *   onHead: (head) => console.log(head.method, head.target),
 *   onBody: (data) => console.log(data.length),
 * };
 * ```
 */
export interface HTTP1ParserHandler {
  /** The first byte of a message arrived. */
  onMessageBegin?(): void;
  /** The start line and header section are complete and valid. */
  onHead?(head: MessageHead): void;
  /** Body bytes (decoded from chunked framing): a view into the pushed chunk. */
  onBody?(data: Uint8Array): void;
  /**
   * Body bytes as a span `buffer[start..end)`, without making a view: when
   * present it is called instead of `onBody` (for the hottest paths, such as
   * a proxy copying bytes straight to another socket buffer).
   */
  onBodySpan?(buffer: Uint8Array, start: number, end: number): void;
  /** The trailer section of a chunked body, when it has fields. */
  onTrailers?(trailers: FieldBlock): void;
  /** The message ended. */
  onMessageComplete?(): void;
  /** The connection switched protocol; `rest` is what followed the message (possibly empty), then every later chunk. */
  onUpgrade?(rest: Uint8Array): void;
}
