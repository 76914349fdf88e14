/**
 * WebSocket masking (XOR with a repeating 4-byte key, RFC 6455 §5.3) in
 * WebAssembly SIMD, for payloads long enough that copying them through the
 * module's memory beats JavaScript's 32-bit word loops.
 *
 * WebAssembly is sandboxed bytecode that every runtime compiles itself
 * (Deno, Node and Bun alike, on any CPU): no native code of ours, no FFI,
 * no permission. The module is 141 bytes, written out below instruction by
 * instruction beside its text form, so what runs can be read here.
 *
 * A module sees only its own memory, so the work goes in pieces of up to
 * {@link WASM_MASK_PIECE} bytes: copy the piece in, XOR it there (about
 * 60–75 GB/s), copy it back out. `ws/frame.ts` decides per size whether
 * this or its JavaScript loops run.
 *
 * The module, in the WebAssembly text format:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 5 5)     ;; 320 KiB, fixed: its buffer never detaches
 *   (func (export "mask") (param $p i32) (param $end i32) (param $key i32)
 *     (local $k v128)
 *     (local.set $k (i32x4.splat (local.get $key)))
 *     (loop $next                        ;; 64 bytes per turn, from address $p
 *       (v128.store offset=0  (local.get $p) (v128.xor (v128.load offset=0  (local.get $p)) (local.get $k)))
 *       (v128.store offset=16 (local.get $p) (v128.xor (v128.load offset=16 (local.get $p)) (local.get $k)))
 *       (v128.store offset=32 (local.get $p) (v128.xor (v128.load offset=32 (local.get $p)) (local.get $k)))
 *       (v128.store offset=48 (local.get $p) (v128.xor (v128.load offset=48 (local.get $p)) (local.get $k)))
 *       (br_if $next (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 64))) (local.get $end))))))
 * ```
 *
 * `mask(start, end, key)` XORs bytes [start, start + (end - start) rounded
 * up to 64) with `key` (the four key bytes little-endian, as memory holds
 * them). The first 64 KiB are the work area that payloads are copied
 * through (bytes past a piece's end there are scratch, never copied out);
 * the next 256 KiB are a read buffer ({@link wasmReadBuffer}) that a
 * connection can receive into, so a frame that arrived there is unmasked
 * in place with no copy at all (whole 64-byte blocks; the caller does the
 * tail).
 *
 * @example
 * ```ts
 * import { wasmMasker } from "./mask_wasm.ts";
 * const masker = wasmMasker();
 * const data = new Uint8Array(1024).fill(0x0f);
 * masker?.mask(data, 0, data, 0, data.length, 0x0f0f0f0f);
 * console.log(masker === null || data.every((b) => b === 0)); // true
 * ```
 *
 * @module
 */

/** Payload bytes copied through the module's memory per call. */
export const WASM_MASK_PIECE = 65536;
/** Bytes of the read buffer after the work area (see {@link wasmReadBuffer}). */
export const WASM_READ_BUFFER_BYTES = 256 * 1024;
// One 64 KiB page of work area (a piece rounded up to 64 bytes still fits)
// and the read buffer.
const MEMORY_PAGES = 1 + WASM_READ_BUFFER_BYTES / 65536;

/** Opcodes used below (WebAssembly core 2.0 and its fixed-width SIMD). */
const op = {
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32Add: 0x6a,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40, // block type: no result
  simd: 0xfd,
  v128Load: 0x00,
  v128Store: 0x0b,
  i32x4Splat: 0x11,
  v128Xor: 0x51,
  i32: 0x7f,
  v128: 0x7b,
} as const;

const [P, END, KEY, K] = [0, 1, 2, 3]; // parameters $p $end $key, local $k

/** `(v128.store offset=o (local.get $p) (v128.xor (v128.load offset=o (local.get $p)) (local.get $k)))` */
function xorAt(offset: number): number[] {
  return [
    op.localGet, P, // address for the store
    op.localGet, P, op.simd, op.v128Load, 0x00, offset, // v128.load align=1 offset=o
    op.localGet, K, op.simd, op.v128Xor,
    op.simd, op.v128Store, 0x00, offset, // v128.store align=1 offset=o
  ];
}

const FUNCTION_BODY = [
  1, 1, op.v128, // locals: one v128 ($k)
  op.localGet, KEY, op.simd, op.i32x4Splat, op.localSet, K, // $k = i32x4.splat($key)
  op.loop, op.void, // loop $next
  ...xorAt(0), ...xorAt(16), ...xorAt(32), ...xorAt(48),
  op.localGet, P, op.i32Const, 0xc0, 0x00, op.i32Add, op.localTee, P, // $p += 64 (0xc0 0x00: signed LEB128 of 64)
  op.localGet, END, op.i32LtU, op.brIf, 0, // continue while $p < $end
  op.end, // loop
  op.end, // function
];

function section(id: number, content: number[]): number[] {
  if (content.length > 127) throw new RangeError("section too long for a one-byte size");
  return [id, content.length, ...content];
}

/** The module's bytes, assembled from the listing above. */
export function maskModuleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [1, 0x60, 3, op.i32, op.i32, op.i32, 0]), // types: (i32, i32, i32) → ()
    ...section(3, [1, 0]), // functions: one, of type 0
    ...section(5, [1, 0x01, MEMORY_PAGES, MEMORY_PAGES]), // memory: min = max pages
    ...section(7, [2, ...name("mask"), 0x00, 0, ...name("memory"), 0x02, 0]), // exports
    ...section(10, [1, FUNCTION_BODY.length, ...FUNCTION_BODY]), // code
  ]);
}

/** Masking through the WebAssembly module. */
export interface WasmMasker {
  /**
   * `dst[dstAt + i] = src[srcAt + i] ^ key byte (i & 3)` for `n` bytes,
   * where `keyWord` packs the four key bytes little-endian (the first
   * byte's key in the low 8 bits). `src` and `dst` may be the same bytes at
   * the same offset, or must not overlap; the caller checks the ranges.
   */
  readonly mask: (src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, n: number, keyWord: number) => void;
  /**
   * XORs `blocks` bytes (a positive multiple of 64) in place at `address`
   * of the module's memory, with no copy: for bytes that already live
   * there ({@link wasmReadBuffer}). The caller checks the range.
   */
  readonly maskInPlace: (address: number, blocks: number, keyWord: number) => void;
  /** The module's memory, to tell whether a view lives in it. */
  readonly buffer: ArrayBuffer;
}

let loaded: WasmMasker | null | undefined;

/**
 * The WebAssembly masker, or null where WebAssembly or its SIMD
 * instructions are unavailable. Compiled once, on first call.
 *
 * @example
 * ```ts
 * import { wasmMasker } from "./mask_wasm.ts";
 * const out = new Uint8Array(4);
 * wasmMasker()?.mask(new Uint8Array([1, 1, 1, 1]), 0, out, 0, 4, 0x04030201);
 * console.log(out); // Uint8Array [ 0, 3, 2, 5 ] (where WebAssembly SIMD runs)
 * ```
 */
export function wasmMasker(): WasmMasker | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const api = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (api === undefined) return null;
  let run: (start: number, end: number, key: number) => void;
  let memory: Uint8Array<ArrayBuffer>;
  try {
    const instance = new api.Instance(new api.Module(maskModuleBytes()));
    run = instance.exports.mask as (start: number, end: number, key: number) => void;
    // A memory that is not shared: its buffer is an ordinary ArrayBuffer.
    memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer as ArrayBuffer);
  } catch {
    return null; // no SIMD support, or WebAssembly disabled
  }
  // The view of the last piece length copied out, kept: messages of one
  // size tend to repeat, and a new view costs as much as masking 200 bytes.
  let outLength = 0;
  let out = memory.subarray(0, 0);
  const mask = (src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, n: number, keyWord: number): void => {
    // Pieces are whole multiples of 4 bytes, so every piece starts at the
    // same key position and takes the same key word.
    for (let at = 0; at < n; at += WASM_MASK_PIECE) {
      const m = n - at < WASM_MASK_PIECE ? n - at : WASM_MASK_PIECE;
      const from = srcAt + at;
      memory.set(from === 0 && m === src.length ? src : src.subarray(from, from + m), 0);
      run(0, m, keyWord);
      if (m !== outLength) {
        out = memory.subarray(0, m);
        outLength = m;
      }
      dst.set(out, dstAt + at);
    }
  };
  const maskInPlace = (address: number, blocks: number, keyWord: number): void => run(address, address + blocks, keyWord);
  loaded = { mask, maskInPlace, buffer: memory.buffer };
  return loaded;
}

let readBuffer: Uint8Array<ArrayBuffer> | null | undefined;

/**
 * The module's read buffer ({@link WASM_READ_BUFFER_BYTES} bytes of its
 * memory, the same view on every call), or null without WebAssembly SIMD.
 * A connection that receives into it hands frames to the WebSocket
 * receiver where they can be unmasked in place; anything else may use it
 * as ordinary memory. Its buffer never detaches (the memory cannot grow).
 *
 * @example
 * ```ts
 * import { wasmReadBuffer, WASM_READ_BUFFER_BYTES } from "./mask_wasm.ts";
 * const buf = wasmReadBuffer();
 * console.log(buf === null || buf.length === WASM_READ_BUFFER_BYTES); // true
 * ```
 */
export function wasmReadBuffer(): Uint8Array<ArrayBuffer> | null {
  if (readBuffer !== undefined) return readBuffer;
  const masker = wasmMasker();
  readBuffer = masker === null ? null : new Uint8Array(masker.buffer, WASM_MASK_PIECE, WASM_READ_BUFFER_BYTES);
  return readBuffer;
}
