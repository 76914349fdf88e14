/**
 * Strict, incremental UTF-8 validation (RFC 3629), as WebSocket text
 * messages need it: overlong forms, UTF-16 surrogates (U+D800–U+DFFF), code
 * points above U+10FFFF and sequences cut off at the end are rejected; a code
 * point split across chunks is carried over; the first bad byte is reported
 * as soon as it arrives (fail fast).
 *
 * The validator is a small deterministic automaton whose state is "how many
 * continuation bytes are still due, and which range the next one must fall
 * in". Between code points the state is ACCEPT; the byte ranges follow the
 * well-formed byte sequence table of Unicode §3.9 (table 3-7). Runs of ASCII
 * are skipped four or eight bytes at a time through 32-bit words.
 *
 * Where a faster whole-input validator exists (simdutf behind `isUtf8` on
 * Node and Bun, a WebAssembly SIMD validator on Deno; see
 * ffi/utf8_native.ts), the bulk of a large input is handed to it: the DFA
 * still finishes a code point left open by the previous chunk, checks the
 * last (possibly cut) code point, and, when the native
 * check says "invalid", rescans to find the exact bad byte. Results are the
 * same either way; `{ native: false }` selects the pure DFA.
 *
 * @example
 * ```ts
 * import { Utf8Validator, isValidUtf8 } from "./utf8.ts";
 * isValidUtf8(new Uint8Array([0xce, 0xba])); // true ("κ")
 * const v = new Utf8Validator();
 * v.push(new Uint8Array([0xe2, 0x82])); // true: a prefix of "€"
 * v.isComplete; // false
 * v.push(new Uint8Array([0xac])); // true
 * v.isComplete; // true
 * ```
 *
 * @module
 */

import { nativeUtf8 } from "../ffi/utf8_native.ts";
import { wordView } from "./word_view.ts";

/** `end` when the whole range is valid; otherwise the index of the bad byte. */
type ScanResult = number;

// The pending state of a code point cut at a chunk end, packed in one small
// integer: bits 0–1 = continuation bytes still due (0 = ACCEPT), bits 8–15 =
// lowest allowed next byte, bits 16–23 = highest allowed next byte.
const ACCEPT = 0;

function pending(remaining: number, lo: number, hi: number): number {
  return remaining | (lo << 8) | (hi << 16);
}

/**
 * Skips ASCII from `i` by aligned 32-bit words of `words` (which starts at
 * byte `wordBase` of `bytes`), sixteen bytes per step; returns the index of
 * the first word holding a byte ≥ 0x80 (or the last whole word's end).
 */
function skipWords(bytes: Uint8Array, words: Int32Array, wordBase: number, i: number, end: number): number {
  let k = (i - wordBase + 3) >> 2; // first whole word at or after i
  const kEnd = (end - wordBase) >> 2; // words entirely before end
  if (k < 0 || k >= kEnd) return i;
  while (i < wordBase + (k << 2)) {
    if (bytes[i]! >= 0x80) return i;
    i++;
  }
  const k4 = kEnd - 3;
  while (k < k4 && ((words[k]! | words[k + 1]! | words[k + 2]! | words[k + 3]!) & 0x80808080) === 0) k += 4;
  while (k < kEnd && (words[k]! & 0x80808080) === 0) k++;
  return wordBase + (k << 2);
}

/**
 * Scans `bytes[start, end)` starting between code points. Returns `end` when
 * every byte is valid (a trailing partial code point is accepted and
 * described by `tail`), or the index of the first invalid byte.
 */
function scan(bytes: Uint8Array, start: number, end: number, tail: { state: number }): ScanResult {
  let i = start;
  tail.state = ACCEPT;
  // A 32-bit view of the whole buffer (kept per buffer: a view per call
  // was one allocation per short text message), taken on the first long
  // ASCII run; its words are 4-byte aligned by construction.
  let words: Int32Array | undefined;
  let wordBase = 0; // byte index (relative to bytes[0]) of words[0]
  // Fast loop: at least four bytes left, so no sequence can be cut off.
  // A sequence that fails the combined check is left to the careful loop
  // below, which finds the exact bad byte.
  const safe = end - 3;
  while (i < safe) {
    const b = bytes[i]!;
    if (b < 0x80) {
      // Short runs (words between accented letters) stay byte-wise; after
      // sixteen ASCII bytes in a row, switch to sixteen bytes per step.
      const stop = i + 16 < end ? i + 16 : end;
      i++;
      while (i < stop && bytes[i]! < 0x80) i++;
      if (i === stop && end - i >= 16) {
        if (words === undefined) {
          words = wordView(bytes.buffer);
          wordBase = -bytes.byteOffset;
        }
        i = skipWords(bytes, words, wordBase, i, end);
      }
      continue;
    }
    if (b < 0xe0) {
      if (b < 0xc2 || (bytes[i + 1]! & 0xc0) !== 0x80) break;
      i += 2;
      continue;
    }
    const c1 = bytes[i + 1]!;
    if (b < 0xf0) {
      if (((c1 & 0xc0) | ((bytes[i + 2]! & 0xc0) << 8)) !== 0x8080 || (b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 > 0x9f)) break;
      i += 3;
      continue;
    }
    if (
      b > 0xf4 || ((c1 & 0xc0) | ((bytes[i + 2]! & 0xc0) << 8) | ((bytes[i + 3]! & 0xc0) << 16)) !== 0x808080 ||
      (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 > 0x8f)
    ) break;
    i += 4;
  }
  // Careful loop: the last bytes, or the sequence the fast loop stopped at.
  while (i < end) {
    let b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b < 0xc2) return i; // stray continuation or overlong C0/C1
    if (b < 0xe0) {
      // Two bytes: C2–DF 80–BF.
      if (i + 1 >= end) {
        tail.state = pending(1, 0x80, 0xbf);
        return end;
      }
      if ((bytes[i + 1]! & 0xc0) !== 0x80) return i + 1;
      i += 2;
      continue;
    }
    if (b < 0xf0) {
      // Three bytes: the second byte's range excludes overlongs (E0) and
      // surrogates (ED).
      const lo = b === 0xe0 ? 0xa0 : 0x80;
      const hi = b === 0xed ? 0x9f : 0xbf;
      if (i + 2 >= end) {
        if (i + 1 >= end) {
          tail.state = pending(2, lo, hi);
          return end;
        }
        b = bytes[i + 1]!;
        if (b < lo || b > hi) return i + 1;
        tail.state = pending(1, 0x80, 0xbf);
        return end;
      }
      b = bytes[i + 1]!;
      if (b < lo || b > hi) return i + 1;
      if ((bytes[i + 2]! & 0xc0) !== 0x80) return i + 2;
      i += 3;
      continue;
    }
    if (b < 0xf5) {
      // Four bytes: F0 excludes overlongs, F4 caps at U+10FFFF.
      const lo = b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xf4 ? 0x8f : 0xbf;
      if (i + 3 >= end) {
        if (i + 1 >= end) {
          tail.state = pending(3, lo, hi);
          return end;
        }
        b = bytes[i + 1]!;
        if (b < lo || b > hi) return i + 1;
        if (i + 2 >= end) {
          tail.state = pending(2, 0x80, 0xbf);
          return end;
        }
        if ((bytes[i + 2]! & 0xc0) !== 0x80) return i + 2;
        tail.state = pending(1, 0x80, 0xbf);
        return end;
      }
      b = bytes[i + 1]!;
      if (b < lo || b > hi) return i + 1;
      if ((bytes[i + 2]! & 0xc0) !== 0x80) return i + 2;
      if ((bytes[i + 3]! & 0xc0) !== 0x80) return i + 3;
      i += 4;
      continue;
    }
    return i; // F5–FF never appear in UTF-8
  }
  return end;
}

const scratch = { state: ACCEPT };

/** Options of {@link isValidUtf8} and {@link Utf8Validator}. */
export interface Utf8Options {
  /** Use the runtime's native validator for large inputs when it has one (default true). */
  native?: boolean;
}

const nativeIsValid = nativeUtf8?.isValid;
const nativeMin = nativeUtf8?.minBytes ?? Infinity;

/**
 * Like `scan`, but hands `bytes[start, cut)` to the native validator first,
 * where `cut` is the start of the last code point (which may be incomplete
 * and is left to the DFA). Only called with `end - start >= nativeMin`.
 */
function scanAssisted(bytes: Uint8Array, start: number, end: number, tail: { state: number }): ScanResult {
  // Back up over at most three continuation bytes to the last lead byte.
  let cut = end;
  let c = end - 1;
  const floor = end - 4 > start ? end - 4 : start;
  while (c > floor && (bytes[c]! & 0xc0) === 0x80) c--;
  if (bytes[c]! >= 0xc0) cut = c;
  const bulk = start === 0 && cut === bytes.length ? bytes : bytes.subarray(start, cut);
  if (nativeIsValid!(bulk)) return scan(bytes, cut, end, tail);
  // Invalid somewhere: the DFA finds the first bad byte.
  return scan(bytes, start, end, tail);
}

/**
 * Tells whether `bytes` is complete, well-formed UTF-8.
 *
 * @param bytes The bytes to check.
 * @param options `{ native: false }` to use only the JavaScript DFA.
 * @returns `true` when valid and not cut inside a code point.
 * @example
 * ```ts
 * import { isValidUtf8 } from "./utf8.ts";
 * isValidUtf8(new TextEncoder().encode("héllo")); // true
 * isValidUtf8(new Uint8Array([0xed, 0xa0, 0x80])); // false (a surrogate)
 * ```
 */
export function isValidUtf8(bytes: Uint8Array, options?: Utf8Options): boolean {
  const n = bytes.length;
  if (n >= nativeMin && options?.native !== false) return nativeIsValid!(bytes);
  let i = 0;
  if (n < 32) {
    // Short ASCII strings are the common case: no state object, no views.
    while (i < n && bytes[i]! < 0x80) i++;
    if (i === n) return true;
  }
  return scan(bytes, i, n, scratch) === n && scratch.state === ACCEPT;
}

/**
 * An incremental UTF-8 validator for a byte stream that arrives in chunks
 * (the fragments of a WebSocket text message).
 *
 * After a failed `push`, `lastIndex` is the number of bytes of that chunk
 * accepted before the bad byte and `totalIndex` the count over the stream;
 * the validator stays failed until `reset()`. With `{ native: false }` it
 * never calls the runtime's native validator.
 *
 * @example
 * ```ts
 * import { Utf8Validator } from "./utf8.ts";
 * const v = new Utf8Validator();
 * v.push(new TextEncoder().encode("edit")); // true
 * v.push(new Uint8Array([0xed, 0xa0, 0x80])); // false: U+D800
 * v.lastIndex; // 1 (the 0xA0 is the bad byte)
 * v.totalIndex; // 5
 * ```
 */
export class Utf8Validator {
  #state = ACCEPT;
  #failed = false;
  #tail = { state: ACCEPT };
  readonly #nativeMin: number;
  /** Bytes of the last chunk accepted (all of it, unless it failed). */
  lastIndex = 0;
  /** Bytes accepted since the start or the last `reset()`. */
  totalIndex = 0;

  /** Creates a streaming validator; `options.native: false` keeps validation in JavaScript for every chunk size. */
  constructor(options?: Utf8Options) {
    this.#nativeMin = options?.native === false ? Infinity : nativeMin;
  }

  /** `true` unless a bad byte was seen. */
  get isValid(): boolean {
    return !this.#failed;
  }

  /** `true` when valid and not inside a code point. */
  get isComplete(): boolean {
    return !this.#failed && this.#state === ACCEPT;
  }

  /**
   * Validates the next chunk (or `chunk[start, end)`).
   *
   * @returns `false` as soon as the stream is known to be invalid.
   */
  push(chunk: Uint8Array, start = 0, end: number = chunk.length): boolean {
    if (this.#failed) {
      this.lastIndex = 0;
      return false;
    }
    let i = start;
    let state = this.#state;
    // Finish a code point left open by the previous chunk.
    while (state !== ACCEPT && i < end) {
      const b = chunk[i]!;
      if (b < ((state >>> 8) & 0xff) || b > (state >>> 16)) return this.#fail(i - start);
      const remaining = (state & 3) - 1;
      state = remaining === 0 ? ACCEPT : pending(remaining, 0x80, 0xbf);
      i++;
    }
    if (state === ACCEPT && i < end) {
      const stop = end - i >= this.#nativeMin ? scanAssisted(chunk, i, end, this.#tail) : scan(chunk, i, end, this.#tail);
      if (stop !== end) return this.#fail(stop - start);
      state = this.#tail.state;
    }
    this.#state = state;
    this.lastIndex = end - start;
    this.totalIndex += end - start;
    return true;
  }

  /**
   * Ends the stream.
   *
   * @returns `true` when everything was valid and no code point is left open.
   */
  finish(): boolean {
    return this.isComplete;
  }

  /** Starts a new stream. */
  reset(): void {
    this.#state = ACCEPT;
    this.#failed = false;
    this.lastIndex = 0;
    this.totalIndex = 0;
  }

  #fail(accepted: number): false {
    this.#failed = true;
    this.lastIndex = accepted;
    this.totalIndex += accepted;
    return false;
  }
}
