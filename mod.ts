/**
 * ffinet: networking in pure TypeScript over FFI, for Deno, Bun and Node.
 *
 * @example
 * ```ts
 * import { NetError } from "./mod.ts";
 * console.log(typeof NetError); // "function"
 * ```
 *
 * @module
 */
export * from "./core/errors.ts";
export * from "./core/limits.ts";
