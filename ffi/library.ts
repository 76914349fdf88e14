/**
 * Lazily loaded native libraries with fallbacks and environment overrides.
 *
 * A library is declared once with {@link defineLibrary}; its first use loads
 * it (trying `FFINET_*` first, then the candidates for this platform) and
 * binds every symbol through the boundary checks of `int_check.ts`.
 *
 * @module
 */
import { FFIUnavailableError } from "../core/errors.ts";
import { wrapSymbol } from "./int_check.ts";
import { native } from "./native.ts";
import type { RawLibrary, SymbolFunctions, SymbolTable } from "./types.ts";

/** How to find a library and what to bind from it. */
export interface LibraryDefinition<T extends SymbolTable> {
  /** Short name for messages: "libc", "libssl", … */
  readonly name: string;
  /** Environment variable that overrides the path, e.g. "FFINET_LIBZ". */
  readonly env: string;
  /** File names to try, per `native.os`; "*" applies to every other OS. */
  readonly candidates: Readonly<Record<string, readonly string[]>>;
  /** What to install when nothing was found. */
  readonly hint: string;
  /** The symbols, each with its C prototype as a comment. */
  readonly symbols: T;
  /**
   * Runs once, right after the library is bound and before its functions
   * reach the first caller: the place for a call that must come before any
   * other (OpenSSL's init options, see `libcrypto.ts`). It must not throw.
   */
  readonly afterLoad?: (functions: SymbolFunctions<T>) => void;
}

/** A library that loads on first call and then returns its functions. */
export interface LazyLibrary<T extends SymbolTable> {
  /** Loads the library (once) and returns its bound functions. */
  (): SymbolFunctions<T>;
  /** The path that was loaded (loads the library if needed). */
  path(): string;
  /** Whether the library has been loaded. */
  readonly loaded: boolean;
  /** The definition this library was made from. */
  readonly definition: LibraryDefinition<T>;
}

/**
 * Declares a library that loads lazily on first use.
 *
 * @example
 * ```ts
 * import { defineLibrary } from "./library.ts";
 * const libm = defineLibrary({
 *   name: "libm",
 *   env: "FFINET_LIBM",
 *   candidates: { linux: ["libm.so.6"], darwin: ["libSystem.B.dylib"], "*": ["libm.so"] },
 *   hint: "install the C math library",
 *   symbols: {
 *     cos: { args: ["f64"], result: "f64" }, // double cos(double x)
 *   },
 * } as const);
 * console.log(libm().cos(0)); // 1
 * ```
 */
export function defineLibrary<const T extends SymbolTable>(
  definition: LibraryDefinition<T>,
): LazyLibrary<T> {
  let functions: SymbolFunctions<T> | undefined;
  let loadedPath = "";
  const load = (): SymbolFunctions<T> => {
    if (functions) return functions;
    const override = native.env(definition.env);
    const names = override
      ? [override]
      : definition.candidates[native.os] ?? definition.candidates["*"] ?? [];
    const failures: unknown[] = [];
    for (const path of names) {
      let raw;
      try {
        raw = native.open(path, definition.symbols);
      } catch (err) {
        if (isPermissionError(err)) {
          throw new FFIUnavailableError(
            definition.name,
            "FFI is not permitted: run Deno with --allow-ffi (and --allow-env for FFINET_* overrides)",
            err,
          );
        }
        if (err instanceof FFIUnavailableError) throw err;
        failures.push(err);
        continue;
      }
      loadedPath = path;
      const bound = bindSymbols(raw, definition.symbols);
      // The hook gets the bound functions: it never calls the lazy library.
      definition.afterLoad?.(bound);
      functions = bound;
      return functions;
    }
    const tried = names.join(", ");
    throw new FFIUnavailableError(
      definition.name,
      `${definition.hint} (tried ${tried || "nothing"}; set ${definition.env} to a path to override)`,
      failures.length === 1 ? failures[0] : new AggregateError(failures, `could not load ${definition.name}`),
    );
  };
  const lazy = load as LazyLibrary<T>;
  Object.defineProperties(lazy, {
    path: {
      value: () => {
        load();
        return loadedPath;
      },
    },
    loaded: { get: () => functions !== undefined },
    definition: { value: definition },
  });
  return lazy;
}

/**
 * The checked functions of an opened library: each symbol of `symbols`
 * wrapped by `int_check.ts` (an optional symbol the library lacks is
 * `undefined`).
 *
 * @example
 * ```ts
 * import { bindSymbols } from "./library.ts";
 * import { native } from "./native.ts";
 * const table = { getpid: { args: [], result: "i32" } } as const;
 * const libc = bindSymbols(native.open("libc.so.6", table), table);
 * console.log(libc.getpid() > 0); // true
 * ```
 */
export function bindSymbols<const T extends SymbolTable>(raw: RawLibrary, symbols: T): SymbolFunctions<T> {
  const bound: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(symbols)) {
    const fn = raw.symbols[name];
    bound[name] = fn == null ? undefined : wrapSymbol(name, spec, fn, native.bigInt64Args);
  }
  return withFastProperties(bound) as SymbolFunctions<T>;
}

/**
 * A table of ~80 symbols filled in a loop ends up in V8's dictionary mode,
 * which costs about a nanosecond per lookup on the hottest calls. Making the
 * object a prototype turns its properties back into fast ones.
 */
function withFastProperties<O extends object>(object: O): O {
  function FastProperties(): void {}
  FastProperties.prototype = object;
  return object;
}

function isPermissionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.name;
  return name === "NotCapable" || name === "PermissionDenied" ||
    /requires ffi access|--allow-ffi/i.test(err.message);
}
