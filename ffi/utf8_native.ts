/**
 * The fastest whole-input UTF-8 check this runtime offers outside the
 * JavaScript DFA of core/utf8.ts:
 *
 * - Node and Bun: `isUtf8` from `node:buffer`, which runs simdutf (10–20
 *   GB/s on non-ASCII text, far beyond a validator in JavaScript);
 * - Deno: its `isUtf8` is Rust's scalar `from_utf8` (about 1.2 GB/s on CJK
 *   text, no faster than our DFA), so a small WebAssembly SIMD validator is
 *   used instead (about 3 GB/s on CJK text including the copy into its
 *   memory). It is assembled below from its instructions at load time.
 *
 * `core/utf8.ts` hands it the bulk of large inputs and keeps the DFA for
 * everything a yes/no check cannot say: where the first bad byte is, code
 * points split across chunks, and inputs too short to repay the call.
 *
 * Measured on the project machine (ns per call, 64 KiB CJK / 1 KiB Latin /
 * 64 B, against the DFA): Node isUtf8 3.8 µs / 87 / 33 (DFA 66 µs / 1100 /
 * 74); Bun isUtf8 3.5 µs / 65 / 11 (DFA 44 µs / 800 / 73); Deno WebAssembly
 * 22 µs / 343 / 41 (DFA 55 µs / 920 / 47; Deno's isUtf8 53 µs / 720 / 49).
 *
 * @example
 * ```ts
 * import { nativeUtf8 } from "./utf8_native.ts";
 * if (nativeUtf8 !== null) {
 *   nativeUtf8.isValid(new Uint8Array([0xce, 0xba])); // true
 *   nativeUtf8.minBytes; // below this, the DFA is faster
 * }
 * ```
 *
 * @module
 */
import * as nodeBuffer from "node:buffer";
import { native } from "./native.ts";

/** A native whole-input UTF-8 check and the input size from which it pays. */
export interface NativeUtf8 {
  /** `true` when `bytes` is complete, well-formed UTF-8 (RFC 3629). */
  isValid(bytes: Uint8Array): boolean;
  /** Inputs shorter than this are checked faster by the DFA. */
  minBytes: number;
  /** What it is, for benchmark and diagnostic output. */
  name: string;
}

/** Tells a strict RFC 3629 validator from a lenient or broken one. */
function isStrict(isValid: (bytes: Uint8Array) => boolean): boolean {
  const probe = (bytes: number[]): boolean => isValid(new Uint8Array(bytes));
  return probe([0xe2, 0x82, 0xac]) && probe([0xf4, 0x8f, 0xbf, 0xbf]) && probe([0x61, 0xdf, 0xbf]) &&
    !probe([0xc0, 0x80]) && !probe([0xed, 0xa0, 0x80]) && !probe([0xf4, 0x90, 0x80, 0x80]) &&
    !probe([0xe0, 0x9f, 0xbf]) && !probe([0xf0, 0x8f, 0xbf, 0xbf]) &&
    !probe([0xe2, 0x82]) && !probe([0x80]) && !probe([0xf8, 0x88, 0x80, 0x80, 0x80]);
}

function load(): NativeUtf8 | null {
  // `native.env` reads undefined where the environment cannot be read.
  if (native.env("FFINET_PURE_UTF8") === "1") return null;
  const runtime = native.runtime;
  if (runtime === "deno") {
    const isValid = wasmUtf8Validator();
    return isValid !== null && isStrict(isValid) ? { isValid, minBytes: 128, name: "WebAssembly SIMD" } : null;
  }
  const isUtf8 = (nodeBuffer as { isUtf8?: (input: Uint8Array) => boolean }).isUtf8;
  if (typeof isUtf8 !== "function" || !isStrict(isUtf8)) return null;
  return { isValid: isUtf8, minBytes: runtime === "bun" ? 16 : 32, name: "node:buffer isUtf8" };
}

// ---------------------------------------------------------------------------
// The WebAssembly validator.
//
// It classifies every pair (previous byte, byte) by three 16-entry tables
// indexed by the previous byte's high nibble, its low nibble and this byte's
// high nibble; each entry holds one bit per error class, and a pair is bad
// when a bit survives the AND of its three entries. The classes (bit,
// previous-byte high nibbles, low nibbles, this byte's high nibbles):
const ALL = range(0x0, 0xf);
const CONT = range(0x8, 0xb);
const ERROR_CLASSES: readonly (readonly [number, number[], number[], number[]])[] = [
  [0x01, range(0xc, 0xf), ALL, [...range(0x0, 0x7), ...range(0xc, 0xf)]], // lead byte not followed by a continuation
  [0x02, range(0x0, 0x7), ALL, CONT], // continuation after ASCII
  [0x04, [0xe], [0x0], [0x8, 0x9]], // E0 80–9F: overlong three-byte form
  [0x08, [0xf], range(0x4, 0xf), [0x9, 0xa, 0xb]], // F4 90–BF, F5–FF 90–BF: above U+10FFFF
  [0x10, [0xe], [0xd], [0xa, 0xb]], // ED A0–BF: a surrogate
  [0x20, [0xc], [0x0, 0x1], CONT], // C0, C1: overlong two-byte form
  [0x40, [0xf], [0x0, ...range(0x5, 0xf)], [0x8]], // F0 80–8F overlong, F5–FF 80–8F above U+10FFFF
  [0x80, CONT, ALL, CONT], // two continuations: wrong unless this is a third or fourth byte
];
// The last class is cancelled (XOR) where the byte two back is ≥ E0 or the
// byte three back is ≥ F0, and raised where such a byte is not a
// continuation. The input sits at offset 16 of the module's memory with
// zeros before it and after it, so a sequence cut off at the end meets a
// zero byte and fails like any other truncated sequence.

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function nibbleTable(column: 1 | 2 | 3): number[] {
  return ALL.map((n) => ERROR_CLASSES.reduce((bits, c) => (c[column].includes(n) ? bits | c[0] : bits), 0));
}

/** Unsigned and signed LEB128, as the binary format encodes integers. */
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    const b = v & 0x7f;
    v >>>= 7;
    out.push(v !== 0 ? b | 0x80 : b);
  } while (v !== 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const SIMD = 0xfd;
const wasm = {
  v128Load: [SIMD, 0x00, 0x04, 0x00], // align 16, offset 0
  v128Const: (bytes: number[]) => [SIMD, 0x0c, ...bytes],
  shuffle: (lanes: number[]) => [SIMD, 0x0d, ...lanes],
  swizzle: [SIMD, 0x0e],
  and: [SIMD, 0x4e],
  or: [SIMD, 0x50],
  xor: [SIMD, 0x51],
  anyTrue: [SIMD, 0x53],
  bitmask: [SIMD, 0x64], // i8x16.bitmask
  shrU: [SIMD, 0x6d], // i8x16.shr_u
  subSatU: [SIMD, 0x73], // i8x16.sub_sat_u
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32LtU: [0x49],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, depth],
};

/** The module: `v(len) → 0 when memory[16, 16 + len) is valid UTF-8`, memory `m`. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const w = wasm;
  const splat = (b: number): number[] => new Array<number>(16).fill(b);
  // Locals: 0 len (the parameter), 1 p, 2 end (i32); 3 prev, 4 cur, 5 err, 6 prev1 (v128).
  const [P, END, PREV, CUR, ERR, PREV1] = [1, 2, 3, 4, 5, 6];
  const body = [
    ...w.i32Const(16), ...w.set(P),
    ...w.get(0), ...w.i32Const(32), ...w.i32Add, ...w.set(END), // one block past the input's end
    ...w.loop,
    ...w.get(P), ...w.v128Load, ...w.set(CUR),
    // Blocks with no byte ≥ 0x80 in them or in the block before need no work.
    ...w.get(PREV), ...w.get(CUR), ...w.or, ...w.bitmask,
    ...w.if,
    ...w.get(PREV), ...w.get(CUR), ...w.shuffle(range(15, 30)), ...w.set(PREV1),
    ...w.v128Const(nibbleTable(1)), ...w.get(PREV1), ...w.i32Const(4), ...w.shrU, ...w.swizzle,
    ...w.v128Const(nibbleTable(2)), ...w.get(PREV1), ...w.v128Const(splat(0x0f)), ...w.and, ...w.swizzle,
    ...w.and,
    ...w.v128Const(nibbleTable(3)), ...w.get(CUR), ...w.i32Const(4), ...w.shrU, ...w.swizzle,
    ...w.and,
    // Bytes that must be continuations: two after a byte ≥ E0, three after one ≥ F0.
    ...w.get(PREV), ...w.get(CUR), ...w.shuffle(range(14, 29)), ...w.v128Const(splat(0xe0 - 0x80)), ...w.subSatU,
    ...w.get(PREV), ...w.get(CUR), ...w.shuffle(range(13, 28)), ...w.v128Const(splat(0xf0 - 0x80)), ...w.subSatU,
    ...w.or, ...w.v128Const(splat(0x80)), ...w.and,
    ...w.xor, ...w.get(ERR), ...w.or, ...w.set(ERR),
    ...w.end,
    ...w.get(CUR), ...w.set(PREV),
    ...w.get(P), ...w.i32Const(16), ...w.i32Add, ...w.tee(P),
    ...w.get(END), ...w.i32LtU, ...w.brIf(0),
    ...w.end,
    ...w.get(ERR), ...w.anyTrue,
    ...w.end,
  ];
  const code = [2, 2, 0x7f, 4, 0x7b, ...body]; // local declarations: 2 × i32, 4 × v128
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
  const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), // type: (i32) → i32
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0x00, WASM_PAGES]), // memory: WASM_PAGES pages, no maximum
    ...section(7, [2, ...name("v"), 0x00, 0, ...name("m"), 0x02, 0]), // exports
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

const WASM_PAGES = 4;
/** Input bytes per call: the memory minus the zeros before and after. */
const WASM_PIECE = WASM_PAGES * 65536 - 64;

/**
 * A strict UTF-8 check in WebAssembly SIMD, or `null` where WebAssembly or
 * its SIMD instructions are unavailable. Inputs longer than `pieceBytes`
 * are checked in pieces cut at code point starts.
 *
 * @param pieceBytes Input bytes per call into the module (tests make it small).
 * @returns `(bytes) => true` when `bytes` is complete, well-formed UTF-8.
 * @example
 * ```ts
 * import { wasmUtf8Validator } from "./utf8_native.ts";
 * const isValid = wasmUtf8Validator();
 * isValid?.(new Uint8Array([0xed, 0xa0, 0x80])); // false (a surrogate)
 * ```
 */
export function wasmUtf8Validator(pieceBytes: number = WASM_PIECE): ((bytes: Uint8Array) => boolean) | null {
  if (!(pieceBytes >= 4 && pieceBytes <= WASM_PIECE)) throw new RangeError(`pieceBytes must be in [4, ${WASM_PIECE}]`);
  const api = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (api === undefined) return null;
  let check: (len: number) => number;
  let memory: Uint8Array;
  try {
    const instance = new api.Instance(new api.Module(moduleBytes()));
    check = instance.exports.v as (len: number) => number;
    memory = new Uint8Array((instance.exports.m as WebAssembly.Memory).buffer);
  } catch {
    return null; // no SIMD support (or WebAssembly disabled)
  }
  const piece = (bytes: Uint8Array, start: number, end: number): boolean => {
    const n = end - start;
    memory.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), 16);
    memory.fill(0, 16 + n, 16 + n + 32);
    return check(n) === 0;
  };
  return (bytes) => {
    const n = bytes.length;
    let at = 0;
    while (n - at > pieceBytes) {
      // Cut where a code point starts (if the next 3 bytes are all
      // continuations the input is invalid, and a piece will say so).
      let cut = at + pieceBytes;
      for (let k = 0; k < 3 && (bytes[cut]! & 0xc0) === 0x80; k++) cut--;
      if (!piece(bytes, at, cut)) return false;
      at = cut;
    }
    return piece(bytes, at, n);
  };
}

/**
 * The native validator for this runtime (isUtf8 on Node and Bun, the
 * WebAssembly one on Deno), or `null` where neither is available or
 * passes the strictness probe, or when the environment variable
 * `FFINET_PURE_UTF8=1` asks for the pure JavaScript DFA on every runtime.
 *
 * @example
 * ```ts
 * import { nativeUtf8 } from "./utf8_native.ts";
 * console.log(nativeUtf8 === null ? "pure DFA" : `native from ${nativeUtf8.minBytes} B`);
 * ```
 */
export const nativeUtf8: NativeUtf8 | null = load();
