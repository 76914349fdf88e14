/**
 * Every size that input controls has a bound, with its safe default here.
 *
 * Each area keeps its limits in one frozen object; the code that enforces a
 * limit takes an options object whose fields default to these values.
 *
 * @example
 * ```ts
 * import { HTTP1_LIMITS } from "./limits.ts";
 * console.log(HTTP1_LIMITS.maxHeaderBytes); // 65536
 * ```
 *
 * @module
 */

/**
 * HTTP/1.x parser limits (RFC 9112). Exceeding one maps to 414, 431 or 413.
 *
 * @example
 * ```ts
 * import { HTTP1_LIMITS } from "./limits.ts";
 * console.log(HTTP1_LIMITS.maxHeaderCount); // 100
 * ```
 */
export const HTTP1_LIMITS: Readonly<{ maxStartLineBytes: number; maxUriBytes: number; maxHeaderBytes: number; maxHeaderCount: number; maxFieldBytes: number; maxChunkExtensionBytes: number; maxTrailerBytes: number; maxBodyBytes: number }> = Object.freeze({
  /** Bytes of the request line or status line (414 on requests). */
  maxStartLineBytes: 8192,
  /** Bytes of the request target (414). */
  maxUriBytes: 8192,
  /** Bytes of the whole header section (431). */
  maxHeaderBytes: 65536,
  /** Number of header fields (431). */
  maxHeaderCount: 100,
  /** Bytes of one field line, name and value together (431). */
  maxFieldBytes: 16384,
  /** Bytes of one chunk-size line: size, extensions and CRLF. */
  maxChunkExtensionBytes: 4096,
  /** Bytes of the trailer section. */
  maxTrailerBytes: 16384,
  /** Bytes of one message body (413); Infinity disables the check. */
  maxBodyBytes: 64 * 1024 * 1024,
});

/**
 * Content-coding (gzip, deflate, br) limits.
 *
 * @example
 * ```ts
 * import { COMPRESSION_LIMITS } from "./limits.ts";
 * console.log(COMPRESSION_LIMITS.maxCodings); // 5
 * ```
 */
export const COMPRESSION_LIMITS: Readonly<{ maxDecompressedBytes: number; maxRatio: number; ratioCheckAfterBytes: number; maxCodings: number }> = Object.freeze({
  /** Decompressed bytes of one body or message (a bomb ends in an error). */
  maxDecompressedBytes: 64 * 1024 * 1024,
  /**
   * Largest ratio of decompressed to compressed bytes accepted once the
   * output passes `ratioCheckAfterBytes` (deflate alone tops out near
   * 1032:1; brotli and stacked codings go far beyond). Infinity disables.
   */
  maxRatio: 1032,
  /** Decompressed bytes before the ratio is checked (small, very compressible bodies are fine). */
  ratioCheckAfterBytes: 1024 * 1024,
  /**
   * Codings in one Content-Encoding list (`gzip, br` is two). Each costs a
   * native decoder (~132 KiB for zlib); a header of thousands of `gzip`
   * would otherwise allocate hundreds of MiB before any body byte. undici
   * caps chains at 5 too (CVE-2025-66418 class).
   */
  maxCodings: 5,
});

/**
 * HPACK limits (RFC 7541).
 *
 * @example
 * ```ts
 * import { HPACK_LIMITS } from "./limits.ts";
 * console.log(HPACK_LIMITS.headerTableSize); // 4096
 * ```
 */
export const HPACK_LIMITS: Readonly<{ headerTableSize: number; maxHeaderTableSize: number; maxStringBytes: number; maxHeaderListSize: number; maxSizeUpdates: number }> = Object.freeze({
  /** SETTINGS_HEADER_TABLE_SIZE that we advertise to the peer. */
  headerTableSize: 4096,
  /** Largest dynamic table size a peer's encoder may ask us to use. */
  maxHeaderTableSize: 65536,
  /** Bytes of one decoded header name or value. */
  maxStringBytes: 65536,
  /** Decoded header list size, per RFC 9113 §6.5.2 (32 + name + value). */
  maxHeaderListSize: 65536,
  /** Table size updates at the start of one block. */
  maxSizeUpdates: 2,
});

/**
 * HTTP/2 connection limits and flood protection (RFC 9113).
 *
 * @example
 * ```ts
 * import { HTTP2_LIMITS } from "./limits.ts";
 * console.log(HTTP2_LIMITS.maxConcurrentStreams); // 100
 * ```
 */
export const HTTP2_LIMITS: Readonly<{ maxConcurrentStreams: number; initialWindowSize: number; maxFrameSize: number; maxContinuationFrames: number; maxResetsPerSecond: number; maxSettingsPerSecond: number; maxPingsPerSecond: number; maxNoProgressFrames: number; noProgressRefillPerSecond: number; zeroWindowTimeoutMs: number; settingsAckTimeoutMs: number; maxClosedStreams: number; maxOutboundBytes: number }> = Object.freeze({
  /** SETTINGS_MAX_CONCURRENT_STREAMS that we advertise. */
  maxConcurrentStreams: 100,
  /** SETTINGS_INITIAL_WINDOW_SIZE that we advertise. */
  initialWindowSize: 65535,
  /** SETTINGS_MAX_FRAME_SIZE that we advertise. */
  maxFrameSize: 16384,
  /** CONTINUATION frames in one header block. */
  maxContinuationFrames: 32,
  /**
   * Stream resets per second before ENHANCE_YOUR_CALM: those the peer sends
   * (rapid reset, CVE-2023-44487) and those we send because of the peer's
   * errors (MadeYouReset, CVE-2025-8671). Needs the clock.
   */
  maxResetsPerSecond: 100,
  /** SETTINGS frames per second (needs the clock). */
  maxSettingsPerSecond: 50,
  /** PING frames per second (needs the clock). */
  maxPingsPerSecond: 50,
  /**
   * Unpaid "no-progress" frames before ENHANCE_YOUR_CALM: PRIORITY, unknown
   * types, DATA or CONTINUATION under 16 octets that end nothing, empty DATA,
   * WINDOW_UPDATEs that return no credit for DATA we sent, resets, 1xx
   * responses, PRIORITY_UPDATE, GOAWAY, unsolicited PING ACKs. Each KiB of
   * DATA sent or received and each header section delivered pays one back.
   */
  maxNoProgressFrames: 1000,
  /** No-progress frames the clock pays back per second. */
  noProgressRefillPerSecond: 100,
  /** Milliseconds a stream may stay blocked on a zero window. */
  zeroWindowTimeoutMs: 30_000,
  /** Milliseconds to wait for a SETTINGS ACK. */
  settingsAckTimeoutMs: 10_000,
  /** Closed streams remembered to classify late frames. */
  maxClosedStreams: 1024,
  /** Bytes queued for sending before the connection stops accepting input. */
  maxOutboundBytes: 4 * 1024 * 1024,
});

/**
 * WebSocket limits (RFC 6455, RFC 7692), enforced by `ws/receiver.ts`.
 * Exceeding a size limit fails the connection with close code 1009.
 *
 * @example
 * ```ts
 * import { WEBSOCKET_LIMITS } from "./limits.ts";
 * console.log(WEBSOCKET_LIMITS.maxFrameBytes); // 16777216
 * ```
 */
export const WEBSOCKET_LIMITS: Readonly<{ maxFrameBytes: number; maxMessageBytes: number; maxBufferedBytes: number; compressionThreshold: number }> = Object.freeze({
  /** Payload bytes of one frame, checked on its header before the payload arrives. */
  maxFrameBytes: 16 * 1024 * 1024,
  /**
   * Payload bytes of one message, fragments together, counted after
   * permessage-deflate decompression (so a deflate bomb ends in 1009).
   */
  maxMessageBytes: 64 * 1024 * 1024,
  /** Bytes of an unfinished message the receiver holds between pushes. */
  maxBufferedBytes: 64 * 1024 * 1024,
  /** Messages smaller than this are sent uncompressed (bytes). */
  compressionThreshold: 1024,
});

/**
 * DNS limits.
 *
 * @example
 * ```ts
 * import { DNS_LIMITS } from "./limits.ts";
 * console.log(DNS_LIMITS.maxPointerHops); // 64
 * ```
 */
export const DNS_LIMITS: Readonly<{ maxUdpResponseBytes: number; maxTcpResponseBytes: number; maxCacheEntries: number; maxPointerHops: number }> = Object.freeze({
  /** Bytes of one response over UDP. */
  maxUdpResponseBytes: 4096,
  /** Bytes of one response over TCP. */
  maxTcpResponseBytes: 65535,
  /** Entries kept in the cache. */
  maxCacheEntries: 10_000,
  /** Compression pointers followed in one name. */
  maxPointerHops: 64,
});

/**
 * Socket, buffer and listener limits.
 *
 * @example
 * ```ts
 * import { SOCKET_LIMITS } from "./limits.ts";
 * console.log(SOCKET_LIMITS.writeHighWaterMark); // 65536
 * ```
 */
export const SOCKET_LIMITS: Readonly<{ writeHighWaterMark: number; readBufferBytes: number; maxReceivedFds: number; maxPendingPerIp: number; maxPendingAccepts: number }> = Object.freeze({
  /** Bytes a connection buffers for writing before `write` waits. */
  writeHighWaterMark: 64 * 1024,
  /** Bytes of one connection's receive buffer. */
  readBufferBytes: 64 * 1024,
  /** File descriptors received in one SCM_RIGHTS message. */
  maxReceivedFds: 64,
  /** Pending connections per remote IP (SYN-flood protection). */
  maxPendingPerIp: 32,
  /** Accepted connections a listener without a handler holds for `accept()` (default cap; the listen backlog when smaller). */
  maxPendingAccepts: 128,
});

/**
 * Proxy handshake limits (socket/proxy). SOCKS replies are bounded by their format (at most 262 bytes).
 *
 * @example
 * ```ts
 * import { PROXY_LIMITS } from "./limits.ts";
 * console.log(PROXY_LIMITS.maxInterimResponses); // 8
 * ```
 */
export const PROXY_LIMITS: Readonly<{ maxReplyHeaderBytes: number; maxReplyHeaderCount: number; maxInterimResponses: number }> = Object.freeze({
  /** Bytes of the header section of a CONNECT response, status line included. */
  maxReplyHeaderBytes: 16384,
  /** Header fields in a CONNECT response. */
  maxReplyHeaderCount: 64,
  /** Interim (1xx) responses before the CONNECT's final one. */
  maxInterimResponses: 8,
});
