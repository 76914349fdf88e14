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

/**
 * Frame types (RFC 9113 §6; PRIORITY_UPDATE from RFC 9218 §7.1).
 *
 * @example
 * ```ts
 * import { FrameType } from "./constants.ts";
 * console.log(FrameType.SETTINGS, FrameType.GOAWAY); // 4 7
 * ```
 */
export const FrameType: {
  readonly DATA: 0x0;
  readonly HEADERS: 0x1;
  readonly PRIORITY: 0x2;
  readonly RST_STREAM: 0x3;
  readonly SETTINGS: 0x4;
  readonly PUSH_PROMISE: 0x5;
  readonly PING: 0x6;
  readonly GOAWAY: 0x7;
  readonly WINDOW_UPDATE: 0x8;
  readonly CONTINUATION: 0x9;
  readonly PRIORITY_UPDATE: 0x10;
} = Object.freeze({
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

/**
 * Frame flags (RFC 9113 §6).
 *
 * @example
 * ```ts
 * import { Flag } from "./constants.ts";
 * const flags = Flag.END_STREAM | Flag.END_HEADERS;
 * console.log((flags & Flag.END_HEADERS) !== 0); // true
 * ```
 */
export const Flag: {
  readonly ACK: 0x1;
  readonly END_STREAM: 0x1;
  readonly END_HEADERS: 0x4;
  readonly PADDED: 0x8;
  readonly PRIORITY: 0x20;
} = Object.freeze({
  ACK: 0x1,
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
});

/**
 * Error codes (RFC 9113 §7).
 *
 * @example
 * ```ts
 * import { ErrorCode } from "./constants.ts";
 * console.log(ErrorCode.CANCEL); // 8
 * ```
 */
export const ErrorCode: {
  readonly NO_ERROR: 0x0;
  readonly PROTOCOL_ERROR: 0x1;
  readonly INTERNAL_ERROR: 0x2;
  readonly FLOW_CONTROL_ERROR: 0x3;
  readonly SETTINGS_TIMEOUT: 0x4;
  readonly STREAM_CLOSED: 0x5;
  readonly FRAME_SIZE_ERROR: 0x6;
  readonly REFUSED_STREAM: 0x7;
  readonly CANCEL: 0x8;
  readonly COMPRESSION_ERROR: 0x9;
  readonly CONNECT_ERROR: 0xa;
  readonly ENHANCE_YOUR_CALM: 0xb;
  readonly INADEQUATE_SECURITY: 0xc;
  readonly HTTP_1_1_REQUIRED: 0xd;
} = Object.freeze({
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

/**
 * Settings identifiers (RFC 9113 §6.5.2; RFC 8441; RFC 9218).
 *
 * @example
 * ```ts
 * import { SettingId } from "./constants.ts";
 * console.log(SettingId.INITIAL_WINDOW_SIZE); // 4
 * ```
 */
export const SettingId: {
  readonly HEADER_TABLE_SIZE: 0x1;
  readonly ENABLE_PUSH: 0x2;
  readonly MAX_CONCURRENT_STREAMS: 0x3;
  readonly INITIAL_WINDOW_SIZE: 0x4;
  readonly MAX_FRAME_SIZE: 0x5;
  readonly MAX_HEADER_LIST_SIZE: 0x6;
  readonly ENABLE_CONNECT_PROTOCOL: 0x8;
  readonly NO_RFC7540_PRIORITIES: 0x9;
} = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
});

/**
 * The client connection preface (RFC 9113 §3.4).
 *
 * @example
 * ```ts
 * import { CLIENT_PREFACE } from "./constants.ts";
 * console.log(CLIENT_PREFACE.length, new TextDecoder().decode(CLIENT_PREFACE.subarray(0, 14))); // 24 "PRI * HTTP/2.0"
 * ```
 */
export const CLIENT_PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Size of a frame header.
 *
 * @example
 * ```ts
 * import { FRAME_HEADER_SIZE } from "./constants.ts";
 * console.log(FRAME_HEADER_SIZE); // 9
 * ```
 */
export const FRAME_HEADER_SIZE = 9;
/**
 * Largest flow-control window (2^31 - 1).
 *
 * @example
 * ```ts
 * import { MAX_WINDOW } from "./constants.ts";
 * console.log(MAX_WINDOW === 2 ** 31 - 1); // true
 * ```
 */
export const MAX_WINDOW = 0x7fffffff;
/**
 * Largest stream identifier (2^31 - 1).
 *
 * @example
 * ```ts
 * import { MAX_STREAM_ID } from "./constants.ts";
 * console.log(MAX_STREAM_ID === 2 ** 31 - 1); // true
 * ```
 */
export const MAX_STREAM_ID = 0x7fffffff;
/**
 * Smallest SETTINGS_MAX_FRAME_SIZE (2^14), also its initial value.
 *
 * @example
 * ```ts
 * import { MIN_MAX_FRAME_SIZE } from "./constants.ts";
 * console.log(MIN_MAX_FRAME_SIZE); // 16384
 * ```
 */
export const MIN_MAX_FRAME_SIZE = 16384;
/**
 * Largest SETTINGS_MAX_FRAME_SIZE (2^24 - 1).
 *
 * @example
 * ```ts
 * import { MAX_MAX_FRAME_SIZE } from "./constants.ts";
 * console.log(MAX_MAX_FRAME_SIZE === 2 ** 24 - 1); // true
 * ```
 */
export const MAX_MAX_FRAME_SIZE = 16777215;
/**
 * The initial flow-control window of the protocol.
 *
 * @example
 * ```ts
 * import { DEFAULT_WINDOW } from "./constants.ts";
 * console.log(DEFAULT_WINDOW); // 65535
 * ```
 */
export const DEFAULT_WINDOW = 65535;
