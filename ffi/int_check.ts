/**
 * Builds the boundary wrappers that validate integer arguments before a
 * native call. Deno throws on fractions and -0, Bun and koffi truncate
 * silently (`close(1.5)` would close fd 1): every backend gets the same
 * checked behaviour from one wrapper, generated per symbol so that the hot
 * path is a straight-line function with no loops.
 *
 * @module
 */
import { NativeBoundsError } from "../core/errors.ts";
import type { NativeType, SymbolSpec } from "./types.ts";

const INT32 = new Set<NativeType>(["i8", "i16", "i32"]);
const UINT32 = new Set<NativeType>(["u8", "u16", "u32"]);
const INT64 = new Set<NativeType>(["i64", "u64", "isize", "usize"]);
const RANGES: Partial<Record<NativeType, readonly [number, number]>> = {
  i8: [-128, 127],
  u8: [0, 255],
  i16: [-32768, 32767],
  u16: [0, 65535],
};

/** Whether a symbol needs a wrapper at all (integer args, 64-bit result or bounds to check). */
export function needsWrapper(spec: SymbolSpec): boolean {
  return spec.args.some((t) => INT32.has(t) || UINT32.has(t) || INT64.has(t)) ||
    INT64.has(spec.result) || (spec.bounds?.length ?? 0) > 0;
}

/** Throws the error for a length larger than its buffer (kept out of line). */
export function badBounds(symbol: string, bufferArg: number, lengthArg: number, requested: unknown, available: number): never {
  throw new NativeBoundsError(symbol, bufferArg, lengthArg, Number(requested), available);
}

/** Throws the error for a bad integer argument (kept out of line). */
export function badInteger(symbol: string, index: number, type: string, value: unknown): never {
  const shown = typeof value === "number" && Object.is(value, -0) ? "-0" : String(value);
  if (typeof value !== "number" && typeof value !== "bigint") {
    throw new TypeError(`${symbol}: argument ${index} must be an integer (${type}), got ${typeof value}`);
  }
  throw new RangeError(`${symbol}: argument ${index} must be an integer in ${type} range, got ${shown}`);
}

/**
 * Wraps `fn` so that integer arguments are validated (TypeError or
 * RangeError naming the symbol, the argument and the value) and passed on
 * as exact integers, and 64-bit results come back as numbers. With
 * `bigInt64Args`, 64-bit arguments given as numbers are passed as bigints
 * (Deno's fast call path takes only bigints there: a number costs ~250 ns
 * more per call).
 */
export function wrapSymbol(
  name: string,
  spec: SymbolSpec,
  fn: (...args: never[]) => unknown,
  bigInt64Args = false,
): (...args: never[]) => unknown {
  if (!needsWrapper(spec)) return fn;
  const params = spec.args.map((_, i) => `a${i}`);
  const lines: string[] = [];
  const pass: string[] = [];
  spec.args.forEach((t, i) => {
    const a = `a${i}`;
    const fail = `bad(${JSON.stringify(name)}, ${i}, ${JSON.stringify(t)}, ${a})`;
    const range = RANGES[t];
    if (INT32.has(t)) {
      lines.push(`if ((${a} | 0) !== ${a}${range ? ` || ${a} < ${range[0]} || ${a} > ${range[1]}` : ""}) ${fail};`);
      pass.push(`${a} | 0`);
    } else if (UINT32.has(t)) {
      lines.push(`if ((${a} >>> 0) !== ${a}${range ? ` || ${a} > ${range[1]}` : ""}) ${fail};`);
      pass.push(`${a} >>> 0`);
    } else if (INT64.has(t)) {
      const unsigned = t === "u64" || t === "usize";
      lines.push(
        `if (typeof ${a} === "number") { if (!Number.isSafeInteger(${a})${unsigned ? ` || ${a} < 0` : ""}) ${fail}; ${a} = ${bigInt64Args ? `big(${a})` : `${a} + 0`}; }` +
          ` else if (typeof ${a} !== "bigint"${unsigned ? ` || ${a} < 0n` : ""}) ${fail};`,
      );
      pass.push(a);
    } else {
      pass.push(a);
    }
  });
  // Bounds after the integer checks: a length is then an exact integer
  // (a bigint for 64-bit ones on Deno, which compares with a number as is).
  for (const [b, l, unit = 1] of spec.bounds ?? []) {
    if (spec.args[b] !== "buffer" || !(INT32.has(spec.args[l]!) || UINT32.has(spec.args[l]!) || INT64.has(spec.args[l]!))) {
      throw new TypeError(`${name}: bounds [${b}, ${l}] must pair a buffer argument with an integer argument`);
    }
    if (!Number.isSafeInteger(unit) || unit < 1) throw new TypeError(`${name}: bounds unit must be a positive integer, got ${unit}`);
    const want = unit === 1 ? `a${l}` : INT64.has(spec.args[l]!) ? `Number(a${l}) * ${unit}` : `a${l} * ${unit}`;
    lines.push(`if (a${b} !== null && ${want} > a${b}.byteLength) bounds(${JSON.stringify(name)}, ${b}, ${l}, ${want}, a${b}.byteLength);`);
  }
  const call = `fn(${pass.join(", ")})`;
  const body = INT64.has(spec.result)
    ? `const r = ${call}; return typeof r === "bigint" ? Number(r) : r;`
    : `return ${call};`;
  const factory = new Function(
    "fn",
    "bad",
    "big",
    "bounds",
    `return function ${safeIdent(name)}(${params.join(", ")}) {\n${lines.join("\n")}\n${body}\n};`,
  ) as (f: unknown, b: typeof badInteger, g: typeof bigIntOf, o: typeof badBounds) => (...args: never[]) => unknown;
  return factory(fn, badInteger, bigIntOf, badBounds);
}

// BigInts for 64-bit arguments, made once per value: lengths and offsets
// repeat (buffer sizes, message sizes), and a fresh BigInt per call would be
// garbage on every recv and send. Small values in an array, others in a
// map that stops growing at MAX_CACHED_BIG entries.
const SMALL_BIG = 4096;
const MAX_CACHED_BIG = 1024;
const smallBig: (bigint | undefined)[] = new Array<bigint | undefined>(SMALL_BIG).fill(undefined); // packed, fast elements
const largeBig = new Map<number, bigint>();

/**
 * `BigInt(n)` for a safe integer, from a cache where it has been seen.
 *
 * @example
 * ```ts
 * import { bigIntOf } from "./int_check.ts";
 * console.log(bigIntOf(64)); // 64n
 * ```
 */
export function bigIntOf(n: number): bigint {
  if (n >= 0 && n < SMALL_BIG) return smallBig[n] ?? (smallBig[n] = BigInt(n));
  const cached = largeBig.get(n);
  if (cached !== undefined) return cached;
  const b = BigInt(n);
  if (largeBig.size < MAX_CACHED_BIG) largeBig.set(n, b);
  return b;
}

function safeIdent(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : "native_call";
}
