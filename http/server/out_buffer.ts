/**
 * A growable byte buffer that response heads and small bodies are written
 * into, plus the pieces written most often, encoded once: status lines and
 * the `Date` field (made at most once a second).
 *
 * @example
 * ```ts
 * import { OutBuffer } from "./out_buffer.ts";
 * const out = new OutBuffer(64);
 * out.statusLine(200, "");
 * out.field("content-type", "text/plain");
 * out.crlf();
 * console.log(new TextDecoder().decode(out.view())); // "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n"
 * ```
 *
 * @module
 */
import { formatHTTPDate } from "../core/date.ts";
import { turnMs } from "../../core/clock.ts";
import { reasonPhrase } from "../core/status.ts";

const encoder = new TextEncoder();
const statusLines = new Map<number, Uint8Array>();
/** reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4). */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]+$/;

let dateSecond = -1;
let dateText = "";
let dateLine = new Uint8Array(0);
/** Until this reading of `turnMs` the cached date is the current second's. */
let dateValidUntil = -1;

/**
 * The `Date` field value, made at most once a second.
 *
 * @example
 * ```ts
 * import { httpDate } from "./out_buffer.ts";
 * console.log(httpDate()); // e.g. "Sun, 06 Dec 2026 03:00:00 GMT"
 * ```
 */
export function httpDate(): string {
  // The wall clock is read once per second of the monotonic turn clock
  // (shared with the session timers), not once per response.
  const now = turnMs();
  if (now < dateValidUntil) return dateText;
  const wall = Date.now();
  const second = Math.floor(wall / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = formatHTTPDate(second * 1000);
    dateLine = encoder.encode(`Date: ${dateText}\r\n`);
  }
  dateValidUntil = now + 1000 - (wall - second * 1000);
  return dateText;
}

function statusLine(status: number): Uint8Array {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = encoder.encode(`HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`);
    if (statusLines.size < 64) statusLines.set(status, line);
  }
  return line;
}

/**
 * Bytes being built (see the module text). Writes never fail: the buffer
 * grows. Strings written with {@link OutBuffer.latin1} must hold no code
 * unit above 0xFF (header names and values from `Headers` do not).
 *
 * @example
 * ```ts
 * import { OutBuffer } from "./out_buffer.ts";
 * const out = new OutBuffer();
 * out.utf8("héllo");
 * console.log(out.length); // 6
 * ```
 */
export class OutBuffer {
  buf: Uint8Array;
  length = 0;
  /** {@link OutBuffer.view}'s last answer, and the buffer it views. */
  #view: Uint8Array = new Uint8Array(0);
  #viewOf: Uint8Array | undefined;
  /** {@link OutBuffer.utf8}'s last view of the free space: of `#tailOf` from `#tailAt` on. */
  #tail: Uint8Array = new Uint8Array(0);
  #tailOf: Uint8Array | undefined;
  #tailAt = -1;

  constructor(size = 16384) {
    this.buf = new Uint8Array(size);
  }

  /** Empties the buffer (it keeps its memory, up to 1 MiB). */
  reset(): void {
    this.length = 0;
    if (this.buf.length > 1 << 20) {
      this.buf = new Uint8Array(16384);
      // The kept views must not hold the large buffer either.
      this.#view = this.#tail = this.buf.subarray(0, 0);
      this.#viewOf = this.#tailOf = undefined;
    }
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** What was written (a view, valid until the next write or reset). */
  view(): Uint8Array {
    // The view made last while it still fits (the same buffer, the same
    // length: a response like the one before), not a new subarray per send:
    // the bytes are the same either way, the buffer being reused.
    if (this.#viewOf !== this.buf || this.#view.length !== this.length) {
      this.#view = this.buf.subarray(0, this.length);
      this.#viewOf = this.buf;
    }
    return this.#view;
  }

  latin1(s: string): void {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) b[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** Writes `s` as UTF-8; returns the byte count. */
  utf8(s: string): number {
    if (s.length < 64) {
      // short ASCII strings by hand (a subarray and encodeInto cost more)
      let ascii = true;
      for (let i = 0; i < s.length; i++) {
        if (s.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.latin1(s);
        return s.length;
      }
    }
    this.reserve(s.length * 3);
    // Likewise the view of the free space: a body after a head of the same
    // length (the usual case) is encoded into the view made for the last one.
    if (this.#tailOf !== this.buf || this.#tailAt !== this.length) {
      this.#tail = this.buf.subarray(this.length);
      this.#tailOf = this.buf;
      this.#tailAt = this.length;
    }
    const written = encoder.encodeInto(s, this.#tail).written;
    this.length += written;
    return written;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  crlf(): void {
    this.reserve(2);
    this.buf[this.length++] = 0x0d;
    this.buf[this.length++] = 0x0a;
  }

  /**
   * `name: value\r\n`. A value with a control character other than HTAB
   * (C0 or DEL; `Headers` refuses only NUL, CR and LF) is a `TypeError` and
   * nothing is written: RFC 9110 §5.5 has no such octet in a field value,
   * and llhttp (undici, `node:http`) fails the whole response on one, so a
   * handler that echoes one (an ESC from a query string) gets a 500 instead,
   * as `node:http`'s `setHeader` answers.
   */
  field(name: string, value: string): void {
    this.reserve(name.length + value.length + 4);
    const b = this.buf;
    let at = this.length;
    for (let i = 0; i < name.length; i++) b[at++] = name.charCodeAt(i);
    b[at++] = 0x3a;
    b[at++] = 0x20;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new TypeError(`invalid value for the ${name} field: control character 0x${c.toString(16).padStart(2, "0")} (RFC 9110 §5.5)`);
      b[at++] = c;
    }
    b[at++] = 0x0d;
    b[at++] = 0x0a;
    this.length = at;
  }

  /** `name: n\r\n` for a non-negative integer. */
  numberField(name: string, n: number): void {
    this.field(name, String(n));
  }

  /**
   * The status line (`reason` when not empty and not the registered phrase;
   * the registered phrase when `reason` is no reason-phrase of RFC 9112
   * §4: Bun's Response takes any statusText, and a CR LF in it wrote a
   * field of the handler's making into the head).
   */
  statusLine(status: number, reason: string): void {
    if (reason === "" || reason === reasonPhrase(status) || !REASON_PHRASE.test(reason)) this.bytes(statusLine(status));
    else {
      this.latin1(`HTTP/1.1 ${status} `);
      this.latin1(reason);
      this.crlf();
    }
  }

  /** `Date: …\r\n`, the current second's. */
  dateField(): void {
    httpDate();
    this.bytes(dateLine);
  }
}
