/**
 * HTTP/2 (RFC 9113) protocol core: frame codec, settings, stream state,
 * flow control and the I/O-free connection state machine for both roles.
 *
 * @example
 * ```ts
 * import { H2Connection } from "./mod.ts";
 * const server = new H2Connection({ role: "server" });
 * const toClient = server.pull(); // our SETTINGS
 * ```
 *
 * @module
 */
export { H2Connection, type H2ConnectionOptions, describeHttp2Error } from "./connection.ts";
export type { H2Event } from "./events.ts";
export {
  CLIENT_PREFACE, DEFAULT_WINDOW, ErrorCode, errorCodeName, Flag, FRAME_HEADER_SIZE, FrameType, MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID, MAX_WINDOW, MIN_MAX_FRAME_SIZE, SettingId,
} from "./constants.ts";
export {
  encodeFrame, encodeGoaway, encodeHeaderBlock, encodePing, encodePriority, encodePriorityUpdate, encodeRstStream,
  encodeSettings, encodeWindowUpdate, type Frame, FrameReader, frameName, headerBlockWireLength, type PriorityFields,
  readPriority, readU32, validateFrame, writeFrameHeader, writeHeaderBlock,
} from "./frames.ts";
export { OutboundBuffer } from "./outbound.ts";
export { DataCopies } from "./data_copies.ts";
export { applySettingsPayload, checkLocalSettings, defaultSettings, type Settings, settingsToPairs } from "./settings.ts";
export { checkFieldName, checkFieldValue, checkRequest, checkResponse, checkTrailers, type RequestCheckOptions, type SectionInfo } from "./field_checks.ts";
export { formatPriority, parsePriority, type PrioritySignal } from "./priority.ts";
export { RateCounter } from "./rate_counter.ts";
export type { FloodCounters } from "./connection_core.ts";
export { NoProgressBudget, PROGRESS_BYTES_PER_FRAME, PROGRESS_FRAMES_PER_SECTION, SMALL_DATA_FRAME_COST, SMALL_FRAME_BYTES } from "./work_budget.ts";
export { H2_CONNECTION_OPTION_KEYS } from "./types.ts";
export { ClosedBy, H2Stream, StreamState } from "./stream.ts";
