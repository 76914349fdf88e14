import { test } from "node:test";
import assert from "node:assert/strict";
import { denseSlots, valueList } from "./dense_slots.ts";

/** Bun's bun:jsc describeArray, or undefined on the other runtimes. */
async function describeArray(): Promise<((a: unknown[]) => string) | undefined> {
  if (!("Bun" in globalThis)) return undefined;
  const jsc = await import("bun:jsc" as string) as { describeArray?: (a: unknown[]) => string };
  return jsc.describeArray;
}

test("denseSlots: size slots, all undefined, each its own index", () => {
  const a = denseSlots<Uint8Array>(2049);
  assert.equal(a.length, 2049);
  assert.equal(a.filter((x) => x !== undefined).length, 0);
  assert.equal(Object.keys(a).length, 2049); // filled, not holes
  const v = new Uint8Array(1500);
  a[1500] ??= v;
  a[5] ??= new Uint8Array(5);
  assert.equal(a[1500], v);
  assert.equal(a[5]!.length, 5);
  assert.equal(a.length, 2049);
  assert.deepEqual(denseSlots(0), []);
});

test("denseSlots: a size that is not an integer from 0 to 2^24 is a RangeError", () => {
  for (const bad of [-1, 1.5, Number.NaN, Infinity, 0x1000001]) assert.throws(() => denseSlots(bad), RangeError);
});

test("denseSlots: written first at index 1500, the array keeps a vector of every slot (JavaScriptCore would go sparse)", async () => {
  const describe = await describeArray();
  const vectorLength = (a: unknown[]): number => Number(/vector length: (\d+)/.exec(describe!(a))?.[1] ?? NaN);
  const a = denseSlots<object>(2049);
  a[1500] = {};
  a[7] = {};
  if (describe !== undefined) {
    assert.ok(vectorLength(a) >= 2049, describe(a));
    // What the cache was before: an empty array written at 1500 keeps a vector of a few slots (a sparse map past it).
    const before: unknown[] = [];
    before[1500] = {};
    assert.ok(vectorLength(before) < 1501, describe(before));
  } else {
    assert.equal(a.length, 2049);
    assert.equal(Object.keys(a).length, 2049);
  }
});

test("valueList: an empty array that takes, loses and takes values again", () => {
  const list = valueList<{ n: number }>();
  assert.equal(list.length, 0);
  list.push({ n: 1 }, { n: 2 });
  assert.deepEqual(list.map((x) => x.n), [1, 2]);
  list.length = 0;
  assert.equal(list.length, 0);
  list.push({ n: 3 });
  assert.equal(list[0]!.n, 3);
  assert.notEqual(valueList(), valueList());
});

test("valueList: stored as a list of values before its first element (JavaScriptCore: [] is undecided)", async () => {
  if (!("Bun" in globalThis)) {
    assert.equal(valueList().length, 0);
    return;
  }
  const jsc = await import("bun:jsc" as string) as { describe(v: unknown): string };
  assert.match(jsc.describe(valueList()), /ArrayWithContiguous/);
  assert.match(jsc.describe([]), /ArrayWithUndecided/); // what the batch was
});
