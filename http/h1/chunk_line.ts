/**
 * The chunk-size line of the chunked transfer coding (RFC 9112 §7.1.1), read
 * byte by byte:
 *
 * ```
 * chunk-size [ chunk-ext ] CRLF
 * chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * chunk-ext-val = token / quoted-string
 * ```
 *
 * Whitespace is allowed only where BWS is (before ";" and around "="), the
 * size must fit in a safe integer, and a bare LF ends the line only when the
 * lenient option is on.
 *
 * @example
 * ```ts
 * import { ChunkSizeLine } from "./chunk_line.ts";
 * const line = new ChunkSizeLine(false);
 * let r = "";
 * for (const c of new TextEncoder().encode("1a;x=y\r\n")) r = line.step(c);
 * console.log(r, line.size); // "done" 26
 * ```
 *
 * @module
 */
import type { HTTP1ErrorCode } from "./parse_options.ts";
import { FIELD_VALUE, HEX_VALUE, QDTEXT, TOKEN } from "./tables.ts";

const CR = 0x0d;
const LF = 0x0a;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const SIZE_START = 0;
const SIZE = 1;
const SIZE_WS = 2;
const BWS_NAME = 3;
const NAME = 4;
const WS_NAME = 5;
const BWS_VALUE = 6;
const VALUE = 7;
const QUOTED = 8;
const QPAIR = 9;
const AFTER_QUOTE = 10;
const WS_VALUE = 11;
const EXPECT_LF = 12;

/** What one byte did: "" (line continues), "done" (line complete) or an error code. */
export type ChunkLineStep = "" | "done" | HTTP1ErrorCode;

/**
 * Reads one chunk-size line at a time; `reset()` before each line.
 *
 * @example
 * ```ts
 * import { ChunkSizeLine } from "./chunk_line.ts";
 * const line = new ChunkSizeLine(false);
 * console.log(line.step(0x20)); // "HPE_INVALID_CHUNK_SIZE"
 * ```
 */
export class ChunkSizeLine {
  /** The chunk size read so far. */
  size = 0;
  #state = SIZE_START;
  readonly #lenient: boolean;

  constructor(lenientLineEndings: boolean) {
    this.#lenient = lenientLineEndings;
  }

  /** Starts a new line. */
  reset(): void {
    this.size = 0;
    this.#state = SIZE_START;
  }

  /** Consumes one byte. */
  step(c: number): ChunkLineStep {
    const ws = c === 0x20 || c === 0x09;
    switch (this.#state) {
      case SIZE_START: {
        const d = HEX_VALUE[c]!;
        if (d < 0) return "HPE_INVALID_CHUNK_SIZE";
        this.size = d;
        this.#state = SIZE;
        return "";
      }
      case SIZE: {
        const d = HEX_VALUE[c]!;
        if (d >= 0) {
          if (this.size > (Number.MAX_SAFE_INTEGER - d) / 16) return "HPE_INVALID_CHUNK_SIZE";
          this.size = this.size * 16 + d;
          return "";
        }
        if (c === SEMI) return this.#go(BWS_NAME);
        if (ws) return this.#go(SIZE_WS);
        return this.#lineEnd(c, "HPE_INVALID_CHUNK_SIZE");
      }
      case SIZE_WS:
        if (ws) return "";
        if (c === SEMI) return this.#go(BWS_NAME);
        return "HPE_INVALID_CHUNK_SIZE";
      case BWS_NAME:
        if (ws) return "";
        if (TOKEN[c] === 1) return this.#go(NAME);
        return "HPE_INVALID_CHUNK_EXTENSION";
      case NAME:
        if (TOKEN[c] === 1) return "";
        if (c === EQUALS) return this.#go(BWS_VALUE);
        if (c === SEMI) return this.#go(BWS_NAME);
        if (ws) return this.#go(WS_NAME);
        return this.#lineEnd(c, "HPE_INVALID_CHUNK_EXTENSION");
      case WS_NAME:
        if (ws) return "";
        if (c === EQUALS) return this.#go(BWS_VALUE);
        if (c === SEMI) return this.#go(BWS_NAME);
        return "HPE_INVALID_CHUNK_EXTENSION";
      case BWS_VALUE:
        if (ws) return "";
        if (c === QUOTE) return this.#go(QUOTED);
        if (TOKEN[c] === 1) return this.#go(VALUE);
        return "HPE_INVALID_CHUNK_EXTENSION";
      case VALUE:
        if (TOKEN[c] === 1) return "";
        if (c === SEMI) return this.#go(BWS_NAME);
        if (ws) return this.#go(WS_VALUE);
        return this.#lineEnd(c, "HPE_INVALID_CHUNK_EXTENSION");
      case QUOTED:
        if (QDTEXT[c] === 1) return "";
        if (c === BACKSLASH) return this.#go(QPAIR);
        if (c === QUOTE) return this.#go(AFTER_QUOTE);
        return "HPE_INVALID_CHUNK_EXTENSION";
      case QPAIR:
        if (FIELD_VALUE[c] === 1) return this.#go(QUOTED);
        return "HPE_INVALID_CHUNK_EXTENSION";
      case AFTER_QUOTE:
        if (ws) return this.#go(WS_VALUE);
        if (c === SEMI) return this.#go(BWS_NAME);
        return this.#lineEnd(c, "HPE_INVALID_CHUNK_EXTENSION");
      case WS_VALUE:
        if (ws) return "";
        if (c === SEMI) return this.#go(BWS_NAME);
        return "HPE_INVALID_CHUNK_EXTENSION";
      default:
        return c === LF ? "done" : "HPE_LF_EXPECTED";
    }
  }

  #go(state: number): "" {
    this.#state = state;
    return "";
  }

  #lineEnd(c: number, code: HTTP1ErrorCode): ChunkLineStep {
    if (c === CR) return this.#go(EXPECT_LF);
    if (c === LF) return this.#lenient ? "done" : "HPE_CR_EXPECTED";
    return code;
  }
}
