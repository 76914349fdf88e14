/**
 * Structured logging: levels TRACE…FATAL, one record per call with bound
 * and per-call fields, JSON lines (default) or logfmt, written to a sink
 * function (default: `console.log`). Child loggers add fields (a request
 * id, a trace id) to everything they write.
 *
 * **Cost below the level.** A disabled level's method is a shared empty
 * function: no record, no formatting, no clock read — only the call and
 * its arguments. Guard fields that are expensive to compute with
 * {@link Logger.enabled}. Nothing in the library's hot paths logs.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * const lines: string[] = [];
 * const log = new Logger({ level: "info", sink: (line) => lines.push(line), clock: () => 0 });
 * const requestLog = log.child({ requestId: "r1" });
 * requestLog.debug("not written");
 * requestLog.info("served", { status: 200 });
 * console.log(lines[0]); // {"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"served","requestId":"r1","status":200}
 * ```
 *
 * @module
 */
import { checkOptions } from "./options.ts";

/**
 * Level names and their numbers (as pino numbers them); `silent` writes
 * nothing.
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "./log.ts";
 * console.log(LOG_LEVELS.warn > LOG_LEVELS.info); // true
 * ```
 */
export const LOG_LEVELS: Readonly<Record<LogLevel | "silent", number>> = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity });

/** A level a record can have. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Fields of a record. */
export type LogFields = Readonly<Record<string, unknown>>;

/** One record as the sink gets it beside its formatted line. */
export interface LogRecord {
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** The record's level. */
  readonly level: LogLevel;
  /** The message. */
  readonly msg: string;
  /** Bound fields, then the call's (the call's win). */
  readonly fields: LogFields;
}

/** Options of a {@link Logger}. */
export interface LoggerOptions {
  /** The lowest level written (default "info"; "silent" for none). */
  level?: LogLevel | "silent";
  /** "json" (one JSON object per line, the default) or "logfmt". */
  format?: "json" | "logfmt";
  /** Where lines go (default `console.log`). */
  sink?: (line: string, record: LogRecord) => void;
  /** Fields on every record. */
  fields?: LogFields;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
}

const LOGGER_KEYS: ReadonlySet<string> = new Set(["level", "format", "sink", "fields", "clock"]);
const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];
const RESERVED = new Set(["time", "level", "msg"]);

/**
 * One level's method of a `Logger`: writes `msg` with optional structured `fields` (a no-op below the logger's level).
 *
 * @example
 * ```ts
 * import type { LogMethod } from "./log.ts";
 * const print: LogMethod = (msg, fields) => console.log(msg, fields);
 * print("ready", { port: 8080 });
 * ```
 */
export type LogMethod = (msg: string, fields?: LogFields) => void;
const disabled: LogMethod = () => {};

function plain(value: unknown, seen: Set<unknown>): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.cause !== undefined && !seen.has(value.cause)) {
      seen.add(value);
      out.cause = plain(value.cause, seen);
    }
    return out;
  }
  if (value !== null && typeof value === "object") {
    if (seen.has(value)) return "[Circular]";
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => plain(v, seen));
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = plain((value as Record<string, unknown>)[k], seen);
    seen.delete(value);
    return out;
  }
  if (typeof value === "function" || typeof value === "symbol") return String(value);
  return value;
}

function logfmtValue(value: unknown): string {
  const v = plain(value, new Set());
  const text = v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v) ?? "";
  if (text !== "" && !LOGFMT_QUOTE.test(text)) return text;
  return `"${text.replace(LOGFMT_ESCAPE, logfmtEscape)}"`;
}

/** What makes a logfmt value quoted: space, quote, `=`, backslash, or a control character (C0, DEL, C1). */
const LOGFMT_QUOTE = /[\s"=\\\x00-\x1f\x7f-\x9f]/;
/** What is escaped inside quotes: no control character or line separator is written raw (a peer's ESC reaching a terminal, a line split). */
const LOGFMT_ESCAPE = /[\\"\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
/** A key's characters that become `_`. */
const LOGFMT_KEY_UNSAFE = /[\s"=\x00-\x1f\x7f-\x9f]/g;

function logfmtEscape(c: string): string {
  switch (c) {
    case "\\":
    case '"':
      return `\\${c}`;
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  const code = c.charCodeAt(0);
  return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, "0")}`;
}

/**
 * Formats a record as one JSON line (no trailing newline): `time` (ISO
 * 8601), `level`, `msg`, then the fields (errors as name, message, code and
 * cause; bigints as strings; cycles as "[Circular]"; a field named like a
 * reserved key gets a leading underscore). No control character or line
 * separator is written raw: besides what JSON escapes, DEL, C1 controls
 * and U+2028/U+2029 are written as `\u007f`, `\u009b`, `\u2028` ….
 *
 * @example
 * ```ts
 * import { formatJSONLine } from "./log.ts";
 * console.log(formatJSONLine({ time: 0, level: "warn", msg: "slow", fields: { ms: 812 } }));
 * // {"time":"1970-01-01T00:00:00.000Z","level":"warn","msg":"slow","ms":812}
 * ```
 */
export function formatJSONLine(record: LogRecord): string {
  const out: Record<string, unknown> = { time: new Date(record.time).toISOString(), level: record.level, msg: record.msg };
  const seen = new Set<unknown>();
  for (const k of Object.keys(record.fields)) out[RESERVED.has(k) ? `_${k}` : k] = plain(record.fields[k], seen);
  const line = JSON.stringify(out);
  return JSON_RAW.test(line) ? line.replace(JSON_RAW_ALL, jsonEscape) : line;
}

/**
 * What JSON.stringify leaves raw and a JSON line must not hold: DEL and the
 * C1 controls (a terminal acts on them: 0x9b is CSI), U+2028 and U+2029
 * (line breaks to JavaScript before ES2019 and to some line readers). They
 * occur only inside strings, where `\uXXXX` means the same character.
 */
const JSON_RAW = /[\x7f-\x9f\u2028\u2029]/;
const JSON_RAW_ALL = /[\x7f-\x9f\u2028\u2029]/g;

function jsonEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Formats a record as one logfmt line: `time=… level=… msg=… key=value`,
 * values quoted when they hold spaces, quotes, `=`, backslashes or control
 * characters; inside quotes `\\`, `"`, `\n`, `\r` and `\t` are escaped as
 * such and every other control character and line separator as `\xNN` or
 * `\uNNNN`, so no line holds one raw.
 *
 * @example
 * ```ts
 * import { formatLogfmtLine } from "./log.ts";
 * console.log(formatLogfmtLine({ time: 0, level: "info", msg: "hello world", fields: { n: 1 } }));
 * // time=1970-01-01T00:00:00.000Z level=info msg="hello world" n=1
 * ```
 */
export function formatLogfmtLine(record: LogRecord): string {
  let line = `time=${new Date(record.time).toISOString()} level=${record.level} msg=${logfmtValue(record.msg)}`;
  for (const k of Object.keys(record.fields)) {
    const key = (RESERVED.has(k) ? `_${k}` : k).replace(LOGFMT_KEY_UNSAFE, "_") || "_";
    line += ` ${key}=${logfmtValue(record.fields[k])}`;
  }
  return line;
}

/**
 * A structured logger (see the module doc).
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * const log = new Logger({ level: "debug", format: "logfmt" });
 * log.debug("listening", { port: 8080 });
 * ```
 */
export class Logger {
  /** The lowest level written. */
  readonly level: LogLevel | "silent";
  /** Writes a TRACE record. */
  readonly trace: LogMethod;
  /** Writes a DEBUG record. */
  readonly debug: LogMethod;
  /** Writes an INFO record. */
  readonly info: LogMethod;
  /** Writes a WARN record. */
  readonly warn: LogMethod;
  /** Writes an ERROR record. */
  readonly error: LogMethod;
  /** Writes a FATAL record (it does not exit). */
  readonly fatal: LogMethod;
  readonly #options: LoggerOptions;
  readonly #fields: LogFields;

  /** A logger with `options` (level, format, sink, bound fields). */
  constructor(options: LoggerOptions = {}) {
    checkOptions(options, LOGGER_KEYS, "Logger");
    const level = options.level ?? "info";
    if (!Object.hasOwn(LOG_LEVELS, level)) throw new TypeError(`Logger: unknown level ${JSON.stringify(level)}`);
    const format = options.format ?? "json";
    if (format !== "json" && format !== "logfmt") throw new TypeError(`Logger: format must be "json" or "logfmt", got ${JSON.stringify(format)}`);
    if (options.sink !== undefined && typeof options.sink !== "function") throw new TypeError("Logger: sink must be a function");
    this.level = level;
    this.#options = options;
    this.#fields = options.fields ?? {};
    const min = LOG_LEVELS[level];
    const make = (lvl: LogLevel): LogMethod => {
      if (LOG_LEVELS[lvl] < min) return disabled;
      const sink = options.sink ?? ((line: string) => console.log(line));
      const clock = options.clock ?? Date.now;
      const toLine = format === "json" ? formatJSONLine : formatLogfmtLine;
      const bound = this.#fields;
      return (msg, fields) => {
        const record: LogRecord = { time: clock(), level: lvl, msg: String(msg), fields: fields === undefined ? bound : { ...bound, ...fields } };
        sink(toLine(record), record);
      };
    };
    [this.trace, this.debug, this.info, this.warn, this.error, this.fatal] = LEVELS.map(make) as [LogMethod, LogMethod, LogMethod, LogMethod, LogMethod, LogMethod];
  }

  /**
   * Whether records of `level` are written.
   *
   * @example
   * ```ts
   * import { Logger } from "./log.ts";
   * const log = new Logger({ level: "warn" });
   * console.log(log.enabled("info"), log.enabled("error")); // false true
   * ```
   */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS[level] >= LOG_LEVELS[this.level];
  }

  /**
   * A logger with the same sink, format and level that adds `fields` to
   * every record (after this one's bound fields).
   *
   * @example
   * ```ts
   * import { Logger } from "./log.ts";
   * const log = new Logger().child({ component: "dns" });
   * log.info("resolver ready");
   * ```
   */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.#options, fields: { ...this.#fields, ...fields } });
  }

  /**
   * An `(error) => void` callback that logs at ERROR with `msg`, for the
   * `onError` options of listeners, loops and connections.
   *
   * @example
   * ```ts
   * import { Logger } from "./log.ts";
   * const log = new Logger();
   * const onError = log.errorHandler("accept failed");
   * ```
   */
  errorHandler(msg: string): (error: unknown) => void {
    return (error) => this.error(msg, { error });
  }
}

/**
 * A logger that writes nothing (the default wherever a logger is
 * optional).
 *
 * @example
 * ```ts
 * import { silentLogger } from "./log.ts";
 * silentLogger.error("never written");
 * ```
 */
export const silentLogger: Logger = new Logger({ level: "silent" });

/** The parts of a W3C `traceparent` header. */
export interface TraceParent {
  /** The version, two hex digits ("00"). */
  readonly version: string;
  /** The trace id, 32 hex digits. */
  readonly traceId: string;
  /** The parent span's id, 16 hex digits. */
  readonly parentId: string;
  /** The trace flags (bit 0: sampled). */
  readonly flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a W3C Trace Context `traceparent` header; null when malformed
 * (all-zero ids, version ff, or extra data on version 00 are invalid).
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "./log.ts";
 * console.log(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceId); // 4bf92f3577b34da6a3ce929d0e0e4736
 * ```
 */
export function parseTraceparent(header: string | null | undefined): TraceParent | null {
  if (typeof header !== "string" || header.length > 512) return null;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null) return null;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { version, traceId, parentId, flags: parseInt(flags, 16) };
}
