/**
 * Option objects are checked at run time: an unknown key is a `TypeError`,
 * so a misplaced or misspelt option (`{ signa: s }`, a connection option
 * passed where a listener option belongs) can never be ignored silently.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./options.ts";
 * const CONNECT_KEYS = new Set(["host", "port", "signal"]);
 * checkOptions({ host: "127.0.0.1", port: 80 }, CONNECT_KEYS, "connect");
 * try {
 *   checkOptions({ host: "127.0.0.1", prot: 80 }, CONNECT_KEYS, "connect");
 * } catch (err) {
 *   console.log((err as TypeError).message); // connect: unknown option "prot"
 * }
 * ```
 *
 * @module
 */

/**
 * Throws `TypeError` unless `options` is a plain object (or `undefined`,
 * which passes) whose own enumerable keys are all in `allowed`. Keys whose
 * value is `undefined` are checked too: a misspelt key is wrong whatever
 * its value.
 *
 * @param options the caller's object
 * @param allowed the keys this call takes
 * @param where the call's name, for the message (`"connect"`)
 *
 * @example
 * ```ts
 * import { checkOptions } from "./options.ts";
 * checkOptions(undefined, new Set(["port"]), "listen"); // passes
 * ```
 */
export function checkOptions(options: unknown, allowed: ReadonlySet<string>, where: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object, got ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options}`);
  }
  for (const key in options) {
    if (!Object.hasOwn(options, key)) continue;
    if (!allowed.has(key)) {
      const known = [...allowed].sort().join(", ");
      throw new TypeError(`${where}: unknown option "${key}" (known: ${known})`);
    }
  }
}

/**
 * The union of several key sets, for options types that extend others.
 *
 * @example
 * ```ts
 * import { optionKeys } from "./options.ts";
 * const base = optionKeys(["signal"]);
 * console.log(optionKeys(base, ["host", "port"]).size); // 3
 * ```
 */
export function optionKeys(...parts: Iterable<string>[]): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const part of parts) for (const key of part) keys.add(key);
  return keys;
}
