/**
 * An array of `size` slots, every one `undefined`, stored densely: for caches
 * indexed by a small number that is first written out of order (a view per
 * read length, a buffer per id).
 *
 * JavaScriptCore keeps an array that starts empty and is then written at an
 * index of 1000 or more with few elements below it as a sparse map: the
 * vector stays at a few slots and every later element past it lives in a
 * hash table (Bun, `describeArray`: `[]` then `[1500] = x` gives length 1501
 * and vector length 5). The connection's receive-view cache, indexed by the
 * length read (up to 2048), so became sparse after its first read of 1000
 * bytes or more: each later lookup took the slow path, and the optimised
 * `receivedInto` that had read it as a plain array exited on the changed
 * structure (BadCache) some 300 times and was compiled three times
 * (`BUN_JSC_printEachOSRExit`, the HTTP/2 client benchmark). Filled
 * up front, the array has a vector of `size` from the start and stays so;
 * V8 keeps it as an array of elements either way.
 *
 * @example
 * ```ts
 * import { denseSlots } from "./dense_slots.ts";
 * const views = denseSlots<Uint8Array>(2049);
 * views[1500] ??= new Uint8Array(1500);
 * console.log(views.length, views[3]); // 2049 undefined
 * ```
 *
 * {@link valueList} is the other shape an array starts in: `[]` is stored
 * as "undecided" and becomes a list of values at its first element, a new
 * structure; a function JavaScriptCore optimised while the array was still
 * empty then exits on it. `TimerHeap.runDue`'s reused batch was empty
 * until the first timer fired, after the loop's tick had been compiled:
 * 100 exits (BadCache) and a recompile per run of the HTTP/2 client
 * benchmark.
 *
 * @module
 */

/**
 * `size` slots, all `undefined`, stored densely (see the module
 * documentation).
 *
 * @param size how many slots: indices 0..size-1.
 * @returns a new array of length `size`.
 * @throws {RangeError} when `size` is not an integer from 0 to 2^24.
 * @example
 * ```ts
 * import { denseSlots } from "./dense_slots.ts";
 * const byLength = denseSlots<string>(4);
 * byLength[3] = "abc";
 * console.log(byLength); // [ undefined, undefined, undefined, "abc" ]
 * ```
 */
export function denseSlots<T>(size: number): (T | undefined)[] {
  if (!Number.isInteger(size) || size < 0 || size > 0x1000000) throw new RangeError(`size must be an integer from 0 to 2^24, got ${size}`);
  return new Array<T | undefined>(size).fill(undefined);
}

/**
 * An empty array already stored as a list of values (JavaScriptCore's
 * contiguous shape, which `[]` takes only at its first element): for a
 * list that is reused, emptied and filled again on a hot path (see the
 * module documentation).
 *
 * @returns a new empty array.
 * @example
 * ```ts
 * import { valueList } from "./dense_slots.ts";
 * const batch = valueList<number>();
 * batch.push(1, 2);
 * batch.length = 0;
 * console.log(batch.length); // 0
 * ```
 */
export function valueList<T>(): T[] {
  const list: (T | undefined)[] = [undefined];
  list.length = 0;
  return list as T[];
}
