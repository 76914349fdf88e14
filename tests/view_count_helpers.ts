// Test helper: counts typed-array views a piece of code makes over one
// buffer, by wrapping the global constructor for the call.

/**
 * How many Int32Array views over `buffer` `run` made (the global
 * constructor is wrapped for the call and restored after it).
 *
 * @example
 * ```ts
 * import { countInt32Views } from "./view_count_helpers.ts";
 * const buffer = new ArrayBuffer(8);
 * console.log(countInt32Views(() => new Int32Array(buffer), buffer)); // 1
 * ```
 */
export function countInt32Views(run: () => void, buffer: ArrayBufferLike): number {
  const g = globalThis as { Int32Array: Int32ArrayConstructor };
  const original = g.Int32Array;
  let made = 0;
  g.Int32Array = new Proxy(original, {
    construct(target, args: unknown[]) {
      if (args[0] === buffer) made++;
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    run();
  } finally {
    g.Int32Array = original;
  }
  return made;
}
