import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { bigIntOf, needsWrapper, wrapSymbol } from "./int_check.ts";

describe("ffi/int_check", () => {
  const seen: unknown[][] = [];
  const record = (...args: unknown[]) => {
    seen.push(args);
    return args.length;
  };

  test("symbols without integer arguments are handed out as they are", () => {
    const spec = { args: ["pointer", "buffer"], result: "void" } as const;
    assert.equal(needsWrapper(spec), false);
    assert.equal(wrapSymbol("f", spec, record as never), record);
  });

  test("accepts every i32 and u32 and passes exact integers (-0 becomes 0)", () => {
    const f = wrapSymbol("f", { args: ["i32", "u32"], result: "i32" }, record as never) as (
      a: number,
      b: number,
    ) => number;
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat({ max: 2 ** 32 - 1 }), (a, b) => {
        seen.length = 0;
        f(a, b);
        assert.deepEqual(seen[0], [a, b]);
      }),
      { numRuns: 200 },
    );
    seen.length = 0;
    f(-0, -0);
    assert.ok(Object.is(seen[0]![0], 0) && Object.is(seen[0]![1], 0));
  });

  test("rejects fractions, NaN, out-of-range values and non-numbers", () => {
    const f = wrapSymbol("close", { args: ["i32"], result: "i32" }, record as never) as (a: unknown) => number;
    fc.assert(
      fc.property(fc.double().filter((d) => !Number.isInteger(d) || d >= 2 ** 31 || d < -(2 ** 31)), (d) => {
        assert.throws(() => f(d), RangeError);
      }),
      { numRuns: 200 },
    );
    assert.throws(() => f("3"), TypeError);
    assert.throws(() => f(3n), TypeError);
    const u8 = wrapSymbol("f", { args: ["u8"], result: "void" }, record as never) as (a: number) => void;
    assert.throws(() => u8(256), RangeError);
    assert.throws(() => u8(-1), RangeError);
  });

  test("64-bit arguments take safe integers or bigints; results become numbers", () => {
    const f = wrapSymbol("f", { args: ["usize", "i64"], result: "u64" }, ((a: unknown) => BigInt(a as number)) as never) as (
      a: number | bigint,
      b: number | bigint,
    ) => number;
    assert.equal(f(5, -1), 5);
    assert.equal(typeof f(5n, 0n), "number");
    assert.throws(() => f(-1, 0), RangeError);
    assert.throws(() => f(-1n, 0), RangeError);
    assert.throws(() => f(2 ** 53, 0), RangeError);
    assert.throws(() => f(0.5, 0), RangeError);
  });

  test("bigInt64Args: 64-bit arguments reach the function as bigints, checked the same way", () => {
    const seen: unknown[] = [];
    const f = wrapSymbol("f", { args: ["usize", "i64", "i32"], result: "i64" }, ((a: unknown, b: unknown, c: unknown) => {
      seen.push(a, b, c);
      return -3n;
    }) as never, true) as (a: number | bigint, b: number | bigint, c: number) => number;
    assert.equal(f(5, -1, 7), -3);
    assert.deepEqual(seen, [5n, -1n, 7]);
    assert.equal(f(2n, 3n, 0), -3);
    assert.deepEqual(seen.slice(3), [2n, 3n, 0]);
    assert.throws(() => f(-1, 0, 0), RangeError);
    assert.throws(() => f(0.5, 0, 0), RangeError);
    assert.throws(() => f(2 ** 53, 0, 0), RangeError);
  });

  test("bigIntOf: exact for any safe integer, cached or not", () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => bigIntOf(n) === BigInt(n)));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => bigIntOf(n) === BigInt(n)));
    for (const n of [0, 64, 4095, 4096, 262144, -1, 2 ** 40]) assert.equal(bigIntOf(n), BigInt(n));
  });
});
