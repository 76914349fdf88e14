/**
 * Runs the parser over a list of chunks and records what it reports as plain
 * data: the shape that tests, fuzz harnesses and the interop suite compare
 * (for instance, that any split of the input gives the same record).
 *
 * @example
 * ```ts
 * import { recordMessages } from "./recorder.ts";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const r = recordMessages({ kind: "request" }, [bytes.subarray(0, 5), bytes.subarray(5)]);
 * console.log(r.messages[0]?.method, r.error); // "GET" null
 * ```
 *
 * @module
 */
import { HTTP1ParseError } from "../../core/errors.ts";
import { HTTP1Parser, type HTTP1ParserOptions } from "./parser.ts";

/** One message as the parser reported it. */
export interface RecordedMessage {
  /** Request method (empty for a response). */
  method: string;
  /** Request target as sent (empty for a response). */
  target: string;
  /** HTTP version, such as `HTTP/1.1`. */
  version: string;
  /** Response status (0 for a request). */
  statusCode: number;
  /** Response reason phrase (empty for a request). */
  reason: string;
  /** Header fields in the order received. */
  headers: Array<[string, string]>;
  /** How the body was framed: `none`, `length`, `chunked` or `until-close` (empty before the head). */
  framing: string;
  /** Content-Length when framed by length, else -1. */
  contentLength: number;
  /** Whether the connection stays open after this message. */
  keepAlive: boolean;
  /** Whether this message switched protocols. */
  upgrade: boolean;
  /** The body decoded as latin1, so every byte survives. */
  body: string;
  /** Trailer fields of a chunked body. */
  trailers: Array<[string, string]>;
  /** Whether the whole message arrived. */
  complete: boolean;
}

/** What a run produced: the messages, the bytes handed over after an upgrade and the error, if any. */
export interface Recording {
  /** The messages, in order. */
  messages: RecordedMessage[];
  /** Bytes after an upgrade, as latin1, or null. */
  upgraded: string | null;
  /** The parse error's code and byte offset, or null. */
  error: { code: string; offset: number } | null;
}

/**
 * Parses `chunks` with a fresh parser (calling `finish()` at the end when
 * `end` is true) and records the events. `expect` lists request methods for
 * a response parser.
 *
 * @example
 * ```ts
 * import { recordMessages } from "./recorder.ts";
 * const r = recordMessages({ kind: "response" }, [new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n")]);
 * console.log(r.messages[0]?.statusCode); // 204
 * ```
 */
export function recordMessages(
  options: HTTP1ParserOptions,
  chunks: Iterable<Uint8Array>,
  { end = true, expect = [] as readonly string[] } = {},
): Recording {
  const messages: RecordedMessage[] = [];
  let current: RecordedMessage | null = null;
  let upgraded: string | null = null;
  const bodyParts: string[] = [];
  const parser = new HTTP1Parser(options, {
    onMessageBegin() {
      current = {
        method: "",
        target: "",
        version: "",
        statusCode: 0,
        reason: "",
        headers: [],
        framing: "",
        contentLength: -1,
        keepAlive: false,
        upgrade: false,
        body: "",
        trailers: [],
        complete: false,
      };
      bodyParts.length = 0;
      messages.push(current);
    },
    onHead(h) {
      const m = current!;
      m.method = h.method;
      m.target = h.kind === "request" ? h.target : "";
      m.version = h.version;
      m.statusCode = h.statusCode;
      m.reason = h.kind === "response" ? h.reason : "";
      m.headers = h.entries();
      m.framing = h.framing;
      m.contentLength = h.contentLength;
      m.keepAlive = h.keepAlive;
      m.upgrade = h.upgrade;
    },
    onBody(d) {
      let s = "";
      for (let i = 0; i < d.length; i++) s += String.fromCharCode(d[i]!);
      bodyParts.push(s);
    },
    onTrailers(t) {
      current!.trailers = t.entries();
    },
    onMessageComplete() {
      current!.body = bodyParts.join("");
      current!.complete = true;
    },
    onUpgrade(rest) {
      let s = "";
      for (let i = 0; i < rest.length; i++) s += String.fromCharCode(rest[i]!);
      upgraded = (upgraded ?? "") + s;
    },
  });
  for (const m of expect) parser.expectResponseTo(m);
  try {
    for (const c of chunks) parser.push(c);
    if (end) parser.finish();
  } catch (err) {
    if (!(err instanceof HTTP1ParseError)) throw err;
    if (current !== null && !(current as RecordedMessage).complete) {
      (current as RecordedMessage).body = bodyParts.join("");
    }
    return { messages, upgraded, error: { code: err.code, offset: err.offset } };
  }
  if (current !== null && !(current as RecordedMessage).complete) {
    (current as RecordedMessage).body = bodyParts.join("");
  }
  return { messages, upgraded, error: null };
}
