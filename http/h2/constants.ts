/**
 * HTTP/2 wire constants (RFC 9113): frame types, flags, error codes,
 * settings identifiers and the client connection preface.
 *
 * @example
 * ```ts
 * import { ErrorCode, FrameType } from "./constants.ts";
 * console.log(FrameType.HEADERS, ErrorCode.PROTOCOL_ERROR); // 1 1
 * ```
 *
 * @module
 */

/** Frame types (RFC 9113 §6; PRIORITY_UPDATE from RFC 9218 §7.1). */
export const FrameType = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
  PRIORITY_UPDATE: 0x10,
});

/** Frame flags (RFC 9113 §6). */
export const Flag = Object.freeze({
  ACK: 0x1,
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
});

/** Error codes (RFC 9113 §7). */
export const ErrorCode = Object.freeze({
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
});

const ERROR_NAMES = Object.keys(ErrorCode);

/**
 * The RFC name of an error code, or `UNKNOWN_0x..` for codes outside §7.
 *
 * @example
 * ```ts
 * import { errorCodeName } from "./constants.ts";
 * errorCodeName(0xb); // "ENHANCE_YOUR_CALM"
 * ```
 */
export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

/** Settings identifiers (RFC 9113 §6.5.2; RFC 8441; RFC 9218). */
export const SettingId = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
});

/** The client connection preface (RFC 9113 §3.4). */
export const CLIENT_PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Size of a frame header. */
export const FRAME_HEADER_SIZE = 9;
/** Largest flow-control window (2^31 - 1). */
export const MAX_WINDOW = 0x7fffffff;
/** Largest stream identifier (2^31 - 1). */
export const MAX_STREAM_ID = 0x7fffffff;
/** Smallest and largest SETTINGS_MAX_FRAME_SIZE. */
export const MIN_MAX_FRAME_SIZE = 16384;
/** Largest SETTINGS_MAX_FRAME_SIZE (2^24 - 1). */
export const MAX_MAX_FRAME_SIZE = 16777215;
/** The initial flow-control window of the protocol. */
export const DEFAULT_WINDOW = 65535;
