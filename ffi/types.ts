/**
 * Runtime-neutral FFI vocabulary shared by the three backends.
 *
 * A symbol is declared once, in these types, and each backend turns the
 * declaration into its runtime's binding (Deno.dlopen, bun:ffi, koffi).
 *
 * @module
 */

/**
 * The C types a symbol may take or return.
 *
 * - `i8` … `u32`: JavaScript numbers, validated as integers at the boundary.
 * - `i64`, `u64`, `isize`, `usize`: numbers or bigints as arguments; results
 *   are numbers (exact below 2^53).
 * - `f32`, `f64`: numbers.
 * - `pointer`: an opaque {@link Pointer} (or `null` for NULL).
 * - `buffer`: a `Uint8Array` (or other ArrayBufferView, or `null`) whose bytes
 *   are valid as a pointer for the duration of the call only.
 * - `function`: a callback pointer made by `native.callback`.
 * - `void`: results only.
 */
export type NativeType =
  | "void"
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "isize"
  | "usize"
  | "f32"
  | "f64"
  | "pointer"
  | "buffer"
  | "function";

/** One C function: its parameter types and its result type. */
export interface SymbolSpec {
  /** The C parameter types, in order. */
  readonly args: readonly NativeType[];
  /** The C result type. */
  readonly result: NativeType;
  /** The symbol may be absent from the library (resolved to `undefined`). */
  readonly optional?: boolean;
  /**
   * Buffer-and-length pairs the boundary checks before each call, each
   * `[bufferArg, lengthArg, unit?]`: a non-null `buffer` argument at index
   * `bufferArg` must hold at least `args[lengthArg] × unit` bytes (unit 1 by
   * default; the size of one element for counts of structs), otherwise the
   * call throws `NativeBoundsError` instead of letting C run past its end.
   */
  readonly bounds?: readonly BoundsRule[];
}

/** `[bufferArg, lengthArg, unit?]`: see {@link SymbolSpec.bounds}. */
export type BoundsRule = readonly [bufferArg: number, lengthArg: number, unit?: number];

/** A table of C functions by name. */
export type SymbolTable = Readonly<Record<string, SymbolSpec>>;

/**
 * An opaque native address. Underneath it is a Deno pointer object, a Bun
 * number or a koffi number; code outside `ffi/` must treat it as opaque and
 * use `native.offset`, `native.address` and `native.pointer` to work with it.
 */
export type Pointer = { readonly __brand: "ffinet.Pointer" };

/** The JavaScript type of an argument of the given native type. */
export type ArgValue<T extends NativeType> = T extends "pointer" | "function"
  ? Pointer | null
  : T extends "buffer"
  ? ArrayBufferView | null
  : T extends "i64" | "u64" | "isize" | "usize"
  ? number | bigint
  : number;

/** The JavaScript type of a result of the given native type. */
export type ResultValue<T extends NativeType> = T extends "void"
  ? void
  : T extends "pointer" | "function"
  ? Pointer | null
  : number;

/**
 * The JavaScript argument list of a C function with parameter types `A`.
 *
 * @example
 * ```ts
 * import type { ArgValues } from "./types.ts";
 * const args: ArgValues<["i32", "pointer"]> = [3, null];
 * ```
 */
export type ArgValues<A extends readonly NativeType[]> = {
  -readonly [K in keyof A]: A[K] extends NativeType ? ArgValue<A[K]> : never;
};

/** The JavaScript function type of a declared symbol. */
export type SymbolFunction<S extends SymbolSpec> = S["optional"] extends true
  ? ((...args: ArgValues<S["args"]>) => ResultValue<S["result"]>) | undefined
  : (...args: ArgValues<S["args"]>) => ResultValue<S["result"]>;

/** The callable functions of a symbol table. */
export type SymbolFunctions<T extends SymbolTable> = {
  readonly [K in keyof T]: SymbolFunction<T[K]>;
};

/** A C-callable function pointer that calls into JavaScript. */
export interface NativeCallback {
  /** The function pointer to hand to C. */
  readonly pointer: Pointer;
  /** Releases the trampoline. C must not call the pointer afterwards. */
  close(): void;
}

/** The outcome of a call made on a helper thread. */
export interface OffThreadResult {
  /** The C function's return value. */
  readonly result: number;
  /** errno as seen on the helper thread after a failing call; 0 when unknown. */
  readonly errno: number;
}

/**
 * A blocking C function run on a helper thread, so the JavaScript thread
 * stays free. Arguments must be numbers or pointers to native memory (never
 * JavaScript buffers, which may move or be collected while the call runs).
 */
export interface OffThreadCall {
  /**
   * Whether `unref()` really lets the process exit while a call is in
   * flight: true for the worker-based helpers (Node, Bun), false on Deno,
   * whose pending nonblocking FFI calls always keep the process alive.
   */
  readonly canUnref: boolean;
  /**
   * Whether a call starts at once: false while a worker-based helper (Node,
   * Bun) is still booting — loading koffi in a Node worker takes 100–300 ms,
   * during which a posted call waits — and true from its first ready message
   * on; always true on Deno. A caller that must not stall (the loop) polls
   * instead of parking until this turns true.
   */
  readonly ready: boolean;
  /** Starts one call; at most one call is in flight at a time. */
  call(...args: (number | Pointer | null)[]): Promise<OffThreadResult>;
  /** Keeps the process alive while a call is in flight (the default). */
  ref(): void;
  /** Lets the process exit while a call is in flight. */
  unref(): void;
  /** Ends the helper thread once the call in flight (if any) returns. */
  close(): void;
  /**
   * Resolves once the helper thread has ended after `close()`: a worker
   * (Node, Bun) has exited, after the call in flight returned and, for one
   * still booting, after it was ready; at once on Deno, whose helper threads
   * are the runtime's own. Until then a Worker that owns the helper must not
   * be terminated: on Node that tears the helper down with it, and a worker
   * torn down while koffi loads in it aborts the whole process (a fatal
   * `napi_throw`), while one blocked in a parked call makes `terminate()`
   * wait for that call forever.
   */
  readonly exited: Promise<void>;
}

/** A library opened by a backend, with the runtime's own function objects. */
export interface RawLibrary {
  /** The resolved functions by symbol name (undefined for an absent optional symbol). */
  readonly symbols: Readonly<Record<string, ((...args: never[]) => unknown) | undefined>>;
  /** Closes the library. */
  close(): void;
}

/** The runtime this process is on. */
export type RuntimeName = "deno" | "bun" | "node";

/**
 * The narrow interface every backend implements. Nothing outside `ffi/`
 * knows which backend is behind it.
 */
export interface Native {
  /** The runtime this backend runs on. */
  readonly runtime: RuntimeName;
  /** `process.platform` spelling: "linux", "darwin", "freebsd", … */
  readonly os: string;
  /** `process.arch` spelling: "x64", "arm64", … */
  readonly arch: string;
  /**
   * Whether 64-bit integer arguments should reach the runtime as bigints:
   * true on Deno, whose fast call path takes a number there only through
   * its slow path (~250 ns more per `recv` or `send`); numbers elsewhere.
   */
  readonly bigInt64Args: boolean;
  /** Opens a shared library; throws the runtime's own error on failure. */
  open(path: string, table: SymbolTable): RawLibrary;
  /** errno of the calling thread, read right after a failing call. */
  errno(): number;
  /** An ArrayBuffer over native memory (no copy, no ownership). */
  view(pointer: Pointer, byteLength: number): ArrayBuffer;
  /** Makes an ArrayBuffer from `view` unusable, where the runtime allows it. */
  detach(buffer: ArrayBuffer): boolean;
  /** The numeric address of a pointer (0n for null). */
  address(pointer: Pointer | null): bigint;
  /** A pointer from a numeric address (null for 0). */
  pointer(address: bigint | number): Pointer | null;
  /** `pointer + bytes`. */
  offset(pointer: Pointer, bytes: number): Pointer;
  /** A C function pointer that calls `fn`. */
  callback(
    spec: SymbolSpec,
    fn: (...args: never[]) => number | void,
  ): NativeCallback;
  /** A blocking function of a library, run on a helper thread. */
  offThread(path: string, name: string, spec: SymbolSpec): OffThreadCall;
  /**
   * An environment variable, or undefined when unset or not permitted. Never
   * asks for a permission: on Deno only a variable whose env permission is
   * already granted is read.
   */
  env(name: string): string | undefined;
  /**
   * Runs `listener` once when the process is about to exit (`process.exit`
   * or the natural end), before the runtime joins its helper threads: the
   * place to wake a thread blocked in C, which Node would otherwise wait for
   * forever. Where the runtime waits for no such thread (Deno) the listener
   * is never called.
   */
  onExit(listener: () => void): void;
  /**
   * Runs `fn` after the runtime has processed its pending I/O and timers
   * (`setImmediate` on all three; `setTimeout(0)` is clamped on Deno).
   */
  yieldToRuntime(fn: () => void): void;
  /**
   * Runs `fn` after `ms` on a runtime timer that does not keep the process
   * alive; returns the function that cancels it.
   */
  unrefTimeout(fn: () => void, ms: number): () => void;
  /**
   * Calls `listener` on the main thread when `signal` ("SIGINT", "SIGTERM",
   * …) arrives: `process.on` on Node and Bun, `Deno.addSignalListener` on
   * Deno. While registered, the signal no longer ends the process by
   * default; the registration does not keep the process alive. Throws the
   * runtime's error where signals cannot be watched (a Deno Worker).
   */
  addSignalListener(signal: string, listener: () => void): void;
  /** Removes a listener added by {@link Native.addSignalListener}. */
  removeSignalListener(signal: string, listener: () => void): void;
  /** Ends the process at once with `code`. */
  exit(code: number): never;
}
