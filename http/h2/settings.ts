/**
 * HTTP/2 settings (RFC 9113 §6.5): the values, their protocol defaults, the
 * validation of received values, and conversion to SETTINGS pairs.
 *
 * @module
 */
import { HTTP2Error } from "../../core/errors.ts";
import { ErrorCode, MAX_MAX_FRAME_SIZE, MAX_WINDOW, MIN_MAX_FRAME_SIZE, SettingId } from "./constants.ts";

/** The settings an endpoint announces. */
export interface Settings {
  /** SETTINGS_HEADER_TABLE_SIZE in octets. */
  headerTableSize: number;
  /** SETTINGS_ENABLE_PUSH. */
  enablePush: boolean;
  /** Infinity when not announced. */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE in octets. */
  initialWindowSize: number;
  /** SETTINGS_MAX_FRAME_SIZE in octets. */
  maxFrameSize: number;
  /** Infinity when not announced. */
  maxHeaderListSize: number;
  /** RFC 8441 extended CONNECT. */
  enableConnectProtocol: boolean;
  /** RFC 9218 §2.1: the sender does not use RFC 7540 priorities. */
  noRfc7540Priorities: boolean;
}

/**
 * The values every endpoint starts with before SETTINGS arrive.
 *
 * @example
 * ```ts
 * import { defaultSettings } from "./settings.ts";
 * defaultSettings().initialWindowSize; // 65535
 * ```
 */
export function defaultSettings(): Settings {
  return {
    headerTableSize: 4096,
    enablePush: true,
    maxConcurrentStreams: Infinity,
    initialWindowSize: 65535,
    maxFrameSize: 16384,
    maxHeaderListSize: Infinity,
    enableConnectProtocol: false,
    noRfc7540Priorities: false,
  };
}

function protocolError(message: string): HTTP2Error {
  return new HTTP2Error("ERR_H2_SETTINGS", message, ErrorCode.PROTOCOL_ERROR);
}

/**
 * Applies a received SETTINGS payload to `settings`, validating each value
 * (RFC 9113 §6.5.2); unknown identifiers are ignored. `fromServer` enables
 * the client-side rule that ENABLE_PUSH must be 0. Throws HTTP2Error
 * (PROTOCOL_ERROR or FLOW_CONTROL_ERROR). Returns the identifiers changed.
 *
 * @example
 * ```ts
 * import { applySettingsPayload, defaultSettings } from "./settings.ts";
 * const s = defaultSettings();
 * applySettingsPayload(s, new Uint8Array([0, 3, 0, 0, 0, 10]), false);
 * s.maxConcurrentStreams; // 10
 * ```
 */
export function applySettingsPayload(settings: Settings, payload: Uint8Array, fromServer: boolean): number[] {
  const changed: number[] = [];
  for (let o = 0; o + 6 <= payload.length; o += 6) {
    const id = (payload[o]! << 8) | payload[o + 1]!;
    const v = ((payload[o + 2]! << 24) | (payload[o + 3]! << 16) | (payload[o + 4]! << 8) | payload[o + 5]!) >>> 0;
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        settings.headerTableSize = v;
        break;
      case SettingId.ENABLE_PUSH:
        if (v > 1) throw protocolError(`SETTINGS_ENABLE_PUSH ${v} is not 0 or 1`);
        if (fromServer && v !== 0) throw protocolError("server sent SETTINGS_ENABLE_PUSH 1");
        settings.enablePush = v === 1;
        break;
      case SettingId.MAX_CONCURRENT_STREAMS:
        settings.maxConcurrentStreams = v;
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        if (v > MAX_WINDOW) {
          throw new HTTP2Error("ERR_H2_SETTINGS", `SETTINGS_INITIAL_WINDOW_SIZE ${v} above 2^31-1`, ErrorCode.FLOW_CONTROL_ERROR);
        }
        settings.initialWindowSize = v;
        break;
      case SettingId.MAX_FRAME_SIZE:
        if (v < MIN_MAX_FRAME_SIZE || v > MAX_MAX_FRAME_SIZE) throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${v} out of range`);
        settings.maxFrameSize = v;
        break;
      case SettingId.MAX_HEADER_LIST_SIZE:
        settings.maxHeaderListSize = v;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        if (v > 1) throw protocolError(`SETTINGS_ENABLE_CONNECT_PROTOCOL ${v} is not 0 or 1`);
        if (settings.enableConnectProtocol && v === 0) throw protocolError("SETTINGS_ENABLE_CONNECT_PROTOCOL went back to 0");
        settings.enableConnectProtocol = v === 1;
        break;
      case SettingId.NO_RFC7540_PRIORITIES:
        if (v > 1) throw protocolError(`SETTINGS_NO_RFC7540_PRIORITIES ${v} is not 0 or 1`);
        settings.noRfc7540Priorities = v === 1;
        break;
      default:
        continue;
    }
    changed.push(id);
  }
  return changed;
}

/**
 * The SETTINGS pairs that announce `s` (values equal to the protocol
 * defaults are included when `all` is true).
 *
 * @example
 * ```ts
 * import { defaultSettings, settingsToPairs } from "./settings.ts";
 * settingsToPairs({ ...defaultSettings(), maxConcurrentStreams: 100 }, false); // [[3, 100]]
 * ```
 */
export function settingsToPairs(s: Settings, all: boolean): [number, number][] {
  const d = defaultSettings();
  const out: [number, number][] = [];
  const add = (id: number, v: number, dv: number) => {
    if ((all || v !== dv) && Number.isFinite(v)) out.push([id, v]);
  };
  add(SettingId.HEADER_TABLE_SIZE, s.headerTableSize, d.headerTableSize);
  add(SettingId.ENABLE_PUSH, s.enablePush ? 1 : 0, 1);
  add(SettingId.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams, d.maxConcurrentStreams);
  add(SettingId.INITIAL_WINDOW_SIZE, s.initialWindowSize, d.initialWindowSize);
  add(SettingId.MAX_FRAME_SIZE, s.maxFrameSize, d.maxFrameSize);
  add(SettingId.MAX_HEADER_LIST_SIZE, s.maxHeaderListSize, d.maxHeaderListSize);
  if (s.enableConnectProtocol) out.push([SettingId.ENABLE_CONNECT_PROTOCOL, 1]);
  if (s.noRfc7540Priorities) out.push([SettingId.NO_RFC7540_PRIORITIES, 1]);
  return out;
}

/**
 * Validates settings we are about to announce; wrong values are a RangeError.
 *
 * @example
 * ```ts
 * import { checkLocalSettings, defaultSettings } from "./settings.ts";
 * try {
 *   checkLocalSettings({ ...defaultSettings(), maxFrameSize: 100 });
 * } catch (err) {
 *   console.log(err instanceof RangeError); // true: below the protocol's 16384
 * }
 * ```
 */
export function checkLocalSettings(s: Settings): void {
  const u32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!u32(s.headerTableSize)) throw new RangeError("headerTableSize must be a 32-bit unsigned integer");
  if (s.maxConcurrentStreams !== Infinity && !u32(s.maxConcurrentStreams)) throw new RangeError("maxConcurrentStreams out of range");
  if (!u32(s.initialWindowSize) || s.initialWindowSize > MAX_WINDOW) throw new RangeError("initialWindowSize out of range");
  if (!Number.isInteger(s.maxFrameSize) || s.maxFrameSize < MIN_MAX_FRAME_SIZE || s.maxFrameSize > MAX_MAX_FRAME_SIZE) {
    throw new RangeError("maxFrameSize must be within 16384..16777215");
  }
  if (s.maxHeaderListSize !== Infinity && !u32(s.maxHeaderListSize)) throw new RangeError("maxHeaderListSize out of range");
}
