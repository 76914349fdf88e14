/**
 * The ffinet error hierarchy.
 *
 * Every error the library throws for a network, protocol or native failure is
 * a {@link NetError} with a stable string `code`. Subclasses mirror the seed's
 * exception list (see the README's mapping table). Each class carries a
 * `Symbol.for` brand, so `instanceof` works even when two copies of the
 * library are loaded. Wrong arguments throw the built-in `TypeError` or
 * `RangeError` instead.
 *
 * This module is a leaf: it imports nothing, so `ffi/` may use it too.
 *
 * @module
 */

const BRANDS = Symbol.for("ffinet.error.brands");

/** Options common to every ffinet error. */
export interface NetErrorOptions {
  /** The underlying error (an errno, an OpenSSL error, another error). */
  cause?: unknown;
  /** The errno value, when a system call failed. */
  errno?: number;
  /** The failing system or library call. */
  syscall?: string;
}

/**
 * Base class of every ffinet error.
 *
 * @example
 * ```ts
 * import { NetError } from "./errors.ts";
 * try {
 *   throw new NetError("ERR_EXAMPLE", "something failed");
 * } catch (err) {
 *   if (err instanceof NetError) console.log(err.code); // "ERR_EXAMPLE"
 * }
 * ```
 */
export class NetError extends Error {
  /** The brand that `instanceof` checks across library copies. */
  static readonly brand: string = "ffinet.NetError";

  /** A stable, documented identifier of what went wrong. */
  readonly code: string;
  /** The errno value, when a system call failed. */
  readonly errno: number | undefined;
  /** The failing system or library call. */
  readonly syscall: string | undefined;
  /** The brands of this error's class and its ancestors (for `instanceof` across module copies). */
  declare readonly [BRANDS]: readonly string[];

  /** A new NetError; see the class documentation. */
  constructor(code: string, message: string, options: NetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = options.errno;
    this.syscall = options.syscall;
    const brands: string[] = [];
    for (
      let ctor = new.target as unknown as { brand?: string } | null;
      ctor && typeof ctor.brand === "string";
      ctor = Object.getPrototypeOf(ctor) as { brand?: string } | null
    ) {
      if (!brands.includes(ctor.brand)) brands.push(ctor.brand);
    }
    Object.defineProperty(this, BRANDS, { value: brands });
    Object.defineProperty(this, "name", {
      value: new.target.name,
      configurable: true,
      writable: true,
    });
  }

  /** True for an error carrying this class's brand, even from another copy of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    const brands = (value as { [BRANDS]?: unknown })[BRANDS];
    if (!Array.isArray(brands)) return false;
    return brands.includes(this.brand);
  }
}

/**
 * A native library could not be loaded, or FFI is not permitted (for example
 * Deno without `--allow-ffi`). The message says what to do.
 *
 * @example
 * ```ts
 * import { FFIUnavailableError } from "./errors.ts";
 * const err = new FFIUnavailableError("libz", "install zlib or set FFINET_LIBZ");
 * console.log(err.code); // "ERR_FFI_UNAVAILABLE"
 * ```
 */
export class FFIUnavailableError extends NetError {
  /** The brand that identifies a FFIUnavailableError across copies of this module. */
  static override readonly brand: string = "ffinet.FFIUnavailableError";
  /** The library that was looked for. */
  readonly library: string;
  /** A new FFIUnavailableError; see the class documentation. */
  constructor(library: string, hint: string, cause?: unknown) {
    super("ERR_FFI_UNAVAILABLE", `${library} is unavailable: ${hint}`, { cause });
    this.library = library;
  }
}

/**
 * A feature cannot work on this runtime or platform.
 *
 * @example
 * ```ts
 * import { UnsupportedError } from "./errors.ts";
 * const err = new UnsupportedError("splice", "splice(2) exists only on Linux");
 * console.log(err.message); // "splice is not supported: splice(2) exists only on Linux"
 * ```
 */
export class UnsupportedError extends NetError {
  /** The brand that identifies a UnsupportedError across copies of this module. */
  static override readonly brand: string = "ffinet.UnsupportedError";
  /** The feature that is not available. */
  readonly feature: string;
  /** A new UnsupportedError; see the class documentation. */
  constructor(feature: string, reason: string) {
    super("ERR_UNSUPPORTED", `${feature} is not supported: ${reason}`);
    this.feature = feature;
  }
}

/**
 * A closed or freed handle was used again.
 *
 * @example
 * ```ts
 * import { UseAfterCloseError } from "./errors.ts";
 * const err = new UseAfterCloseError("NativeBuffer");
 * console.log(err.message); // "NativeBuffer is closed"
 * ```
 */
export class UseAfterCloseError extends NetError {
  /** The brand that identifies a UseAfterCloseError across copies of this module. */
  static override readonly brand: string = "ffinet.UseAfterCloseError";
  /** A new UseAfterCloseError; see the class documentation. */
  constructor(what: string) {
    super("ERR_USE_AFTER_CLOSE", `${what} is closed`);
  }
}

/**
 * A native call was about to be handed a JavaScript buffer with a length
 * larger than the buffer (C would read or write past its end): thrown by
 * the FFI boundary before the call, instead of corrupting memory. A
 * programming error in the caller, never retryable.
 *
 * @example
 * ```ts
 * import { NativeBoundsError } from "./errors.ts";
 * const err = new NativeBoundsError("recv", 1, 2, 100, 64);
 * console.log(err.code, err.message); // "ERR_NATIVE_BOUNDS" "recv: argument 2 asks for 100 bytes but the buffer in argument 1 holds 64"
 * ```
 */
export class NativeBoundsError extends NetError {
  /** The brand that identifies a NativeBoundsError across copies of this module. */
  static override readonly brand: string = "ffinet.NativeBoundsError";
  /** The C function that was about to be called. */
  readonly symbol: string;
  /** The bytes the length argument asked for. */
  readonly requested: number;
  /** The bytes the buffer holds. */
  readonly available: number;
  /** A new NativeBoundsError; see the class documentation. */
  constructor(symbol: string, bufferArg: number, lengthArg: number, requested: number, available: number) {
    super(
      "ERR_NATIVE_BOUNDS",
      `${symbol}: argument ${lengthArg} asks for ${requested} bytes but the buffer in argument ${bufferArg} holds ${available}`,
    );
    this.symbol = symbol;
    this.requested = requested;
    this.available = available;
  }
}

/** Options of a {@link SocketError}. */
export interface SocketErrorOptions extends NetErrorOptions {
  /** The address involved, as `host:port` or a path. */
  address?: string;
  /** Bytes that went through before the failure (calls that move many: sendfileAll, spliceTo). */
  transferred?: number;
}

/**
 * A socket system call failed (seed: `Socket_Failed`). `code` is the errno
 * name (`ECONNREFUSED`, …) when there is one.
 *
 * @example
 * ```ts
 * import { SocketError } from "./errors.ts";
 * const err = new SocketError("ECONNREFUSED", "connect failed", { errno: 111, syscall: "connect" });
 * console.log(err.code, err.syscall); // "ECONNREFUSED connect"
 * ```
 */
export class SocketError extends NetError {
  /** The brand that identifies a SocketError across copies of this module. */
  static override readonly brand: string = "ffinet.SocketError";
  /** The address involved, if any. */
  readonly address: string | undefined;
  /**
   * Bytes that went through before the failure, set by calls that move
   * many in a loop (`sendfileAll`, `spliceTo`); undefined elsewhere.
   */
  transferred: number | undefined;
  /** A new SocketError; see the class documentation. */
  constructor(code: string, message: string, options: SocketErrorOptions = {}) {
    super(code, message, options);
    this.address = options.address;
    this.transferred = options.transferred;
  }
}

/**
 * The peer is gone: EPIPE, ECONNRESET, or an orderly close where more bytes
 * were required (seed: `Socket_Closed`).
 *
 * @example
 * ```ts
 * import { SocketClosedError } from "./errors.ts";
 * console.log(new SocketClosedError("ECONNRESET", "peer reset").code); // "ECONNRESET"
 * ```
 */
export class SocketClosedError extends SocketError {
  /** The brand that identifies a SocketClosedError across copies of this module. */
  static override readonly brand: string = "ffinet.SocketClosedError";
}

/**
 * A socket operation did not complete within its timeout.
 *
 * @example
 * ```ts
 * import { SocketTimeoutError } from "./errors.ts";
 * console.log(new SocketTimeoutError("connect timed out").code); // "ETIMEDOUT"
 * ```
 */
export class SocketTimeoutError extends SocketError {
  /** The brand that identifies a SocketTimeoutError across copies of this module. */
  static override readonly brand: string = "ffinet.SocketTimeoutError";
  /** A new SocketTimeoutError; see the class documentation. */
  constructor(message: string, options: SocketErrorOptions = {}) {
    super("ETIMEDOUT", message, options);
  }
}

/** One failed attempt of a {@link ConnectAttemptsError}. */
export interface ConnectAttemptFailure {
  /** The address tried (an IP literal). */
  readonly address: string;
  /** Its family. */
  readonly family: 4 | 6;
  /** Why it failed. */
  readonly error: Error;
}

/**
 * Every connection attempt to a name's addresses failed (Happy Eyeballs,
 * RFC 8305). Like `AggregateError`, `errors` holds each attempt's error in
 * the order they failed; `attempts` pairs each with its address, and the
 * message names every address with its error's code. `code` (and `errno`,
 * `syscall`, `cause`) are the last attempt's, so a check of
 * `code === "ECONNREFUSED"` still holds when every address refused.
 *
 * @example
 * ```ts
 * import { ConnectAttemptsError, SocketError } from "./errors.ts";
 * const err = new ConnectAttemptsError("db.test:5432", [
 *   { address: "::1", family: 6, error: new SocketError("ECONNREFUSED", "refused") },
 *   { address: "127.0.0.1", family: 4, error: new SocketError("ECONNREFUSED", "refused") },
 * ]);
 * console.log(err.code, err.errors.length); // "ECONNREFUSED" 2
 * console.log(err.message); // "connect to db.test:5432 failed: every address failed ([::1]: ECONNREFUSED; 127.0.0.1: ECONNREFUSED)"
 * ```
 */
export class ConnectAttemptsError extends SocketError {
  /** The brand that identifies a ConnectAttemptsError across copies of this module. */
  static override readonly brand: string = "ffinet.ConnectAttemptsError";
  /** Each attempt's error, in the order they failed (as `AggregateError.errors`). */
  readonly errors: readonly Error[];
  /** Each failed attempt with its address, in the order they failed. */
  readonly attempts: readonly ConnectAttemptFailure[];
  /**
   * A new ConnectAttemptsError; see the class documentation.
   *
   * @param target `host:port` as asked for
   * @param attempts the failed attempts, at least one
   */
  constructor(target: string, attempts: readonly ConnectAttemptFailure[]) {
    const list = Object.freeze(attempts.slice());
    const last = list[list.length - 1]?.error as (Error & { code?: unknown; errno?: unknown; syscall?: unknown }) | undefined;
    const codeOf = (e: Error): string => {
      const code = (e as { code?: unknown }).code;
      return typeof code === "string" ? code : e.message;
    };
    const named = list.map((a) => `${a.address.includes(":") ? `[${a.address}]` : a.address}: ${codeOf(a.error)}`).join("; ");
    super(
      typeof last?.code === "string" ? last.code : "ERR_CONNECT_FAILED",
      `connect to ${target} failed: every address failed (${named})`,
      {
        address: target,
        cause: last,
        ...(typeof last?.errno === "number" ? { errno: last.errno } : {}),
        ...(typeof last?.syscall === "string" ? { syscall: last.syscall } : {}),
      },
    );
    this.attempts = list;
    this.errors = Object.freeze(list.map((a) => a.error));
  }
}

/**
 * The poll backend failed (seed: `SocketPoll_Failed`).
 *
 * @example
 * ```ts
 * import { PollError } from "./errors.ts";
 * console.log(new PollError("EBADF", "epoll_ctl failed").code); // "EBADF"
 * ```
 */
export class PollError extends NetError {
  /** The brand that identifies a PollError across copies of this module. */
  static override readonly brand: string = "ffinet.PollError";
}

/**
 * Name resolution failed (seed: `SocketDNS_Failed`).
 *
 * @example
 * ```ts
 * import { DNSError } from "./errors.ts";
 * console.log(new DNSError("ENOTFOUND", "no such host").code); // "ENOTFOUND"
 * ```
 */
export class DNSError extends NetError {
  /** The brand that identifies a DNSError across copies of this module. */
  static override readonly brand: string = "ffinet.DNSError";
}

/**
 * A TLS operation failed (seed: `SocketTLS_Failed`).
 *
 * @example
 * ```ts
 * import { TLSError } from "./errors.ts";
 * console.log(new TLSError("ERR_TLS", "SSL_write failed").code); // "ERR_TLS"
 * ```
 */
export class TLSError extends NetError {
  /** The brand that identifies a TLSError across copies of this module. */
  static override readonly brand: string = "ffinet.TLSError";
}

/**
 * The TLS handshake failed (seed: `SocketTLS_HandshakeFailed`).
 *
 * @example
 * ```ts
 * import { TLSHandshakeError } from "./errors.ts";
 * console.log(new TLSHandshakeError("ERR_TLS_HANDSHAKE", "bad certificate").code);
 * ```
 */
export class TLSHandshakeError extends TLSError {
  /** The brand that identifies a TLSHandshakeError across copies of this module. */
  static override readonly brand: string = "ffinet.TLSHandshakeError";
}

/** Options of {@link TLSVerifyError}: what X509 verification reported. */
export interface TLSVerifyErrorOptions extends NetErrorOptions {
  /** The X509 error name without its prefix: "CERT_HAS_EXPIRED", "HOSTNAME_MISMATCH", … */
  reason?: string;
  /** The depth in the chain where verification failed (0: the peer's own certificate). */
  depth?: number;
}

/**
 * Certificate verification failed (seed: `SocketTLS_VerifyFailed`).
 * `reason` is the X509 error name and `depth` where in the chain it failed.
 *
 * @example
 * ```ts
 * import { TLSVerifyError } from "./errors.ts";
 * const err = new TLSVerifyError("ERR_TLS_VERIFY", "certificate has expired", { reason: "CERT_HAS_EXPIRED", depth: 0 });
 * console.log(err.code, err.reason, err.depth); // ERR_TLS_VERIFY CERT_HAS_EXPIRED 0
 * ```
 */
export class TLSVerifyError extends TLSHandshakeError {
  /** The brand that identifies a TLSVerifyError across copies of this module. */
  static override readonly brand: string = "ffinet.TLSVerifyError";
  /** The X509 error name ("CERT_HAS_EXPIRED", …), "" when unknown. */
  readonly reason: string;
  /** The chain depth of the failure, -1 when unknown. */
  readonly depth: number;
  /** A new TLSVerifyError; see the class documentation. */
  constructor(code: string, message: string, options: TLSVerifyErrorOptions = {}) {
    super(code, message, options);
    this.reason = options.reason ?? "";
    this.depth = options.depth ?? -1;
  }
}

/**
 * The peer's certificate chain matched none of the configured SPKI pins
 * (the `pins` option of a TLS context).
 *
 * @example
 * ```ts
 * import { TLSPinError } from "./errors.ts";
 * console.log(new TLSPinError("ERR_TLS_PIN", "no pin matched").code);
 * ```
 */
export class TLSPinError extends TLSHandshakeError {
  /** The brand that identifies a TLSPinError across copies of this module. */
  static override readonly brand: string = "ffinet.TLSPinError";
}

/**
 * Malformed HTTP/1.x input (seed: `SocketHTTP1_ParseError`). `offset` is the
 * byte offset, counted from the start of the parser's input, where the
 * problem was found.
 *
 * @example
 * ```ts
 * import { HTTP1ParseError } from "./errors.ts";
 * const err = new HTTP1ParseError("HPE_INVALID_METHOD", "invalid method", 0);
 * console.log(err.code, err.offset); // "HPE_INVALID_METHOD 0"
 * ```
 */
export class HTTP1ParseError extends NetError {
  /** The brand that identifies a HTTP1ParseError across copies of this module. */
  static override readonly brand: string = "ffinet.HTTP1ParseError";
  /** Byte offset of the problem in the parser's input. */
  readonly offset: number;
  /** A new HTTP1ParseError; see the class documentation. */
  constructor(code: string, message: string, offset: number) {
    super(code, message);
    this.offset = offset;
  }
}

/**
 * A generic HTTP failure outside parsing (seed: `SocketHTTP_Failed`).
 *
 * @example
 * ```ts
 * import { HTTPError } from "./errors.ts";
 * console.log(new HTTPError("ERR_HTTP_INVALID_HEADER", "bad header").code);
 * ```
 */
export class HTTPError extends NetError {
  /** The brand that identifies a HTTPError across copies of this module. */
  static override readonly brand: string = "ffinet.HTTPError";
}

/**
 * HPACK decoding or encoding failed; on the wire this is COMPRESSION_ERROR
 * (seed: `SocketHPACK_Error`).
 *
 * @example
 * ```ts
 * import { HPACKError } from "./errors.ts";
 * console.log(new HPACKError("ERR_HPACK_HUFFMAN", "bad padding").http2Code); // 9
 * ```
 */
export class HPACKError extends NetError {
  /** The brand that identifies a HPACKError across copies of this module. */
  static override readonly brand: string = "ffinet.HPACKError";
  /** The HTTP/2 error code a connection reports for it: COMPRESSION_ERROR. */
  readonly http2Code: number = 0x9;
}

/**
 * An HTTP/2 connection error: the whole connection ends with GOAWAY
 * (seed: `SocketHTTP2_ProtocolError`).
 *
 * @example
 * ```ts
 * import { HTTP2Error } from "./errors.ts";
 * const err = new HTTP2Error("PROTOCOL_ERROR", "bad preface", 0x1);
 * console.log(err.http2Code); // 1
 * ```
 */
export class HTTP2Error extends NetError {
  /** The brand that identifies a HTTP2Error across copies of this module. */
  static override readonly brand: string = "ffinet.HTTP2Error";
  /** The RFC 9113 error code. */
  readonly http2Code: number;
  /** A new HTTP2Error; see the class documentation. */
  constructor(code: string, message: string, http2Code: number, options: NetErrorOptions = {}) {
    super(code, message, options);
    this.http2Code = http2Code;
  }
}

/**
 * An HTTP/2 stream error: one stream ends with RST_STREAM
 * (seed: `SocketHTTP2_StreamError`).
 *
 * @example
 * ```ts
 * import { HTTP2StreamError } from "./errors.ts";
 * const err = new HTTP2StreamError("REFUSED_STREAM", "too many streams", 0x7, 5);
 * console.log(err.streamId); // 5
 * ```
 */
export class HTTP2StreamError extends HTTP2Error {
  /** The brand that identifies a HTTP2StreamError across copies of this module. */
  static override readonly brand: string = "ffinet.HTTP2StreamError";
  /** The stream that failed. */
  readonly streamId: number;
  /** A new HTTP2StreamError; see the class documentation. */
  constructor(code: string, message: string, http2Code: number, streamId: number) {
    super(code, message, http2Code);
    this.streamId = streamId;
  }
}

/**
 * A WebSocket protocol failure; `closeCode` is the close code to send
 * (seed: `SocketWS_ProtocolError`).
 *
 * @example
 * ```ts
 * import { WebSocketError } from "./errors.ts";
 * const err = new WebSocketError("WS_ERR_INVALID_UTF8", "invalid UTF-8", 1007);
 * console.log(err.closeCode); // 1007
 * ```
 */
export class WebSocketError extends NetError {
  /** The brand that identifies a WebSocketError across copies of this module. */
  static override readonly brand: string = "ffinet.WebSocketError";
  /** The RFC 6455 close code for this failure. */
  readonly closeCode: number;
  /** A new WebSocketError; see the class documentation. */
  constructor(code: string, message: string, closeCode: number, options: NetErrorOptions = {}) {
    super(code, message, options);
    this.closeCode = closeCode;
  }
}

/**
 * A compression or decompression failure, including a decompressed size
 * above its limit (seed: `SocketCompress_Failed`).
 *
 * @example
 * ```ts
 * import { CompressionError } from "./errors.ts";
 * console.log(new CompressionError("ERR_ZLIB_DATA", "invalid stored block").code);
 * ```
 */
export class CompressionError extends NetError {
  /** The brand that identifies a CompressionError across copies of this module. */
  static override readonly brand: string = "ffinet.CompressionError";
}

/**
 * A libcrypto operation failed or got malformed input (base64 and so on).
 *
 * @example
 * ```ts
 * import { CryptoError } from "./errors.ts";
 * console.log(new CryptoError("ERR_BASE64", "invalid character").code);
 * ```
 */
export class CryptoError extends NetError {
  /** The brand that identifies a CryptoError across copies of this module. */
  static override readonly brand: string = "ffinet.CryptoError";
}

/** Options of a {@link ProxyError}: what the proxy answered, when it answered. */
export interface ProxyErrorOptions extends NetErrorOptions {
  /** The HTTP status of a refused CONNECT (407, 403, 502, …). */
  status?: number;
  /** The SOCKS reply code (SOCKS4 CD 91–93, SOCKS5 REP 1–8, the SOCKS5 method 0xFF, …). */
  replyCode?: number;
}

/**
 * A proxy handshake failed (seed: `SocketProxy_Failed`). `code` is stable:
 * `ERR_PROXY_STATUS` / `ERR_PROXY_AUTH_REQUIRED` (HTTP CONNECT refused,
 * `status` set), `ERR_SOCKS4_*` and `ERR_SOCKS5_*` (a SOCKS reply code,
 * `replyCode` set), `ERR_PROXY_PROTOCOL` (the proxy replied garbage),
 * `ERR_PROXY_REPLY_TOO_LARGE`, `ERR_PROXY_CLOSED` (it closed mid-handshake).
 *
 * @example
 * ```ts
 * import { ProxyError } from "./errors.ts";
 * const err = new ProxyError("ERR_PROXY_AUTH_REQUIRED", "CONNECT refused: 407", { status: 407 });
 * console.log(err.code, err.status); // ERR_PROXY_AUTH_REQUIRED 407
 * ```
 */
export class ProxyError extends NetError {
  /** The brand that identifies a ProxyError across copies of this module. */
  static override readonly brand: string = "ffinet.ProxyError";
  /** The HTTP status of a refused CONNECT, if that is what failed. */
  readonly status: number | undefined;
  /** The SOCKS reply code, if that is what failed. */
  readonly replyCode: number | undefined;
  /** A new ProxyError; see the class documentation. */
  constructor(code: string, message: string, options: ProxyErrorOptions = {}) {
    super(code, message, options);
    this.status = options.status;
    this.replyCode = options.replyCode;
  }
}

/**
 * A connection pool could not serve a request (seed: `SocketPool_Failed`).
 *
 * @example
 * ```ts
 * import { PoolError } from "./errors.ts";
 * console.log(new PoolError("ERR_POOL_EXHAUSTED", "no free connection").code);
 * ```
 */
export class PoolError extends NetError {
  /** The brand that identifies a PoolError across copies of this module. */
  static override readonly brand: string = "ffinet.PoolError";
}

/**
 * An input-controlled size went past its limit (see `core/limits.ts`).
 *
 * @example
 * ```ts
 * import { LimitError } from "./errors.ts";
 * const err = new LimitError("ERR_LIMIT_BUFFER", "buffer full", 65536);
 * console.log(err.limit); // 65536
 * ```
 */
export class LimitError extends NetError {
  /** The brand that identifies a LimitError across copies of this module. */
  static override readonly brand: string = "ffinet.LimitError";
  /** The limit that was exceeded. */
  readonly limit: number;
  /** A new LimitError; see the class documentation. */
  constructor(code: string, message: string, limit: number) {
    super(code, message);
    this.limit = limit;
  }
}

/** errno names that a retry can cure: the condition is transient. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "EAGAIN",
  "EWOULDBLOCK",
  "EINTR",
  "EINPROGRESS",
  "EALREADY",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "ENOBUFS",
  "EADDRNOTAVAIL",
  "EAI_AGAIN",
  "REFUSED_STREAM",
  "ERR_POOL_EXHAUSTED",
]);

/**
 * Tells whether retrying the operation that threw `err` may succeed: a
 * transient network condition, not a protocol violation or a bad argument.
 * A `TypeError` whose `cause` is one of ours (how `fetch` reports its
 * failures, as WHATWG fetch does: "fetch failed", a body's "terminated")
 * is judged by that cause.
 *
 * @example
 * ```ts
 * import { SocketError, isRetryable } from "./errors.ts";
 * isRetryable(new SocketError("ECONNREFUSED", "refused")); // true
 * isRetryable(new TypeError("fetch failed", { cause: new SocketError("ECONNREFUSED", "refused") })); // true
 * isRetryable(new TypeError("bad port")); // false
 * ```
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TypeError && err.cause instanceof NetError) return isRetryable(err.cause);
  if (!(err instanceof NetError)) return false;
  if (err instanceof HTTP2StreamError) return err.http2Code === 0x7; // REFUSED_STREAM
  if (err instanceof SocketTimeoutError) return true;
  if (
    err instanceof HTTP1ParseError || err instanceof HPACKError ||
    err instanceof WebSocketError || err instanceof TLSVerifyError || err instanceof TLSPinError ||
    err instanceof LimitError || err instanceof UnsupportedError ||
    err instanceof UseAfterCloseError || err instanceof FFIUnavailableError ||
    err instanceof NativeBoundsError
  ) return false;
  return RETRYABLE_CODES.has(err.code);
}
