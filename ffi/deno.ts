/**
 * The Deno backend: Deno.dlopen, Deno.UnsafePointer(View), Deno.UnsafeCallback
 * and `nonblocking: true` symbols for off-thread calls.
 *
 * @module
 */
import { FFIUnavailableError, PollError, UseAfterCloseError } from "../core/errors.ts";
import { detachBuffer } from "./detach.ts";
import { immediate } from "./immediate.ts";
import type {
  Native,
  NativeCallback,
  NativeType,
  OffThreadCall,
  OffThreadResult,
  Pointer,
  RawLibrary,
  SymbolSpec,
  SymbolTable,
} from "./types.ts";

type DenoPointer = object | null;
interface DenoForeignFunction {
  parameters: string[];
  result: string;
  nonblocking?: boolean;
  optional?: boolean;
}
interface DenoDynamicLibrary {
  symbols: Record<string, ((...args: unknown[]) => unknown) | undefined>;
  close(): void;
}
interface DenoUnsafeCallback {
  pointer: DenoPointer;
  close(): void;
  unref(): void;
}
interface DenoApi {
  build: { os: string; arch: string };
  dlopen(path: string, symbols: Record<string, DenoForeignFunction>): DenoDynamicLibrary;
  UnsafePointer: {
    create(value: bigint): DenoPointer;
    value(p: DenoPointer): bigint | number;
    offset(p: DenoPointer, offset: number): DenoPointer;
  };
  UnsafePointerView: {
    getArrayBuffer(p: DenoPointer, byteLength: number, offset?: number): ArrayBuffer;
  };
  UnsafeCallback: new (
    def: { parameters: string[]; result: string },
    fn: (...args: unknown[]) => unknown,
  ) => DenoUnsafeCallback;
  env: { get(name: string): string | undefined };
  unrefTimer?(id: number): void;
  addSignalListener(signal: string, listener: () => void): void;
  removeSignalListener(signal: string, listener: () => void): void;
  exit(code: number): never;
  permissions?: {
    querySync?(descriptor: { name: "env"; variable: string } | { name: "ffi"; path?: string }): { state: string };
  };
}

const TYPES: Record<NativeType, string> = {
  void: "void",
  i8: "i8",
  u8: "u8",
  i16: "i16",
  u16: "u16",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  isize: "isize",
  usize: "usize",
  f32: "f32",
  f64: "f64",
  pointer: "pointer",
  buffer: "buffer",
  function: "function",
};

function denoDefinition(spec: SymbolSpec, nonblocking = false): DenoForeignFunction {
  const def: DenoForeignFunction = {
    parameters: spec.args.map((t) => TYPES[t]),
    result: TYPES[spec.result],
  };
  if (nonblocking) def.nonblocking = true;
  if (spec.optional) def.optional = true;
  return def;
}

/** Creates the Deno backend. */
export function createDenoNative(): Native {
  const D = (globalThis as unknown as { Deno: DenoApi }).Deno;
  let errnoView: Int32Array | undefined;
  let errnoLib: DenoDynamicLibrary | undefined;
  const os = D.build.os === "windows" ? "win32" : D.build.os;
  const arch = D.build.arch === "x86_64" ? "x64" : D.build.arch === "aarch64" ? "arm64" : D.build.arch;
  const asPointer = (p: DenoPointer) => p as unknown as Pointer | null;
  const fromPointer = (p: Pointer | null) => p as unknown as DenoPointer;

  const granted = (descriptor: { name: "env"; variable: string } | { name: "ffi"; path?: string }): boolean => {
    const query = D.permissions?.querySync;
    if (typeof query !== "function") return false;
    try {
      return query.call(D.permissions, descriptor).state === "granted";
    } catch {
      return false;
    }
  };
  // Deno.dlopen without the ffi permission prompts on a terminal; the
  // library never prompts, so it fails with a typed error instead.
  const dlopen = (path: string, defs: Record<string, DenoForeignFunction>): DenoDynamicLibrary => {
    if (!granted({ name: "ffi" }) && !granted({ name: "ffi", path })) {
      throw new FFIUnavailableError(path, "FFI is not permitted: run Deno with --allow-ffi");
    }
    return D.dlopen(path, defs);
  };

  const native: Native = {
    runtime: "deno",
    os,
    arch,
    bigInt64Args: true,
    open(path: string, table: SymbolTable): RawLibrary {
      const defs: Record<string, DenoForeignFunction> = {};
      for (const [name, spec] of Object.entries(table)) defs[name] = denoDefinition(spec);
      const lib = dlopen(path, defs);
      return { symbols: lib.symbols as RawLibrary["symbols"], close: () => lib.close() };
    },
    errno(): number {
      if (!errnoView) {
        const name = os === "linux" ? "__errno_location" : "__error";
        const libc = os === "darwin" ? "libSystem.B.dylib" : os === "linux" ? "libc.so.6" : "libc.so.7";
        errnoLib = dlopen(libc, { [name]: { parameters: [], result: "pointer" } });
        const fn = errnoLib.symbols[name]!;
        errnoView = new Int32Array(D.UnsafePointerView.getArrayBuffer(fn() as DenoPointer, 4));
      }
      return errnoView[0]!;
    },
    view(pointer: Pointer, byteLength: number): ArrayBuffer {
      if (byteLength === 0) return new ArrayBuffer(0);
      return D.UnsafePointerView.getArrayBuffer(fromPointer(pointer), byteLength);
    },
    detach(buffer: ArrayBuffer): boolean {
      return detachBuffer(buffer);
    },
    address(pointer: Pointer | null): bigint {
      return pointer === null ? 0n : BigInt(D.UnsafePointer.value(fromPointer(pointer)));
    },
    pointer(address: bigint | number): Pointer | null {
      const a = BigInt(address);
      return a === 0n ? null : asPointer(D.UnsafePointer.create(a));
    },
    offset(pointer: Pointer, bytes: number): Pointer {
      return asPointer(D.UnsafePointer.offset(fromPointer(pointer), bytes))!;
    },
    callback(spec, fn): NativeCallback {
      const cb = new D.UnsafeCallback(
        {
          parameters: spec.args.map((t) => (t === "buffer" ? "pointer" : TYPES[t])),
          result: TYPES[spec.result],
        },
        fn as (...args: unknown[]) => unknown,
      );
      // A callback must not keep the process alive by itself.
      cb.unref();
      let closed = false;
      return {
        pointer: asPointer(cb.pointer)!,
        close() {
          if (closed) return;
          closed = true;
          cb.close();
        },
      };
    },
    offThread(path: string, name: string, spec: SymbolSpec): OffThreadCall {
      // Off-thread arguments are native memory: "buffer" becomes "pointer".
      const args = spec.args.map((t) => (t === "buffer" ? "pointer" : t));
      const lib = dlopen(path, { [name]: denoDefinition({ ...spec, args }, true) });
      const fn = lib.symbols[name] as (...args: unknown[]) => Promise<number | bigint>;
      let busy = false;
      let closed = false;
      let closeWhenIdle = false;
      let markExited!: () => void;
      const exited = new Promise<void>((resolve) => (markExited = resolve));
      return {
        canUnref: false,
        ready: true,
        async call(...args): Promise<OffThreadResult> {
          if (closed) throw new UseAfterCloseError(`off-thread ${name}`);
          if (busy) throw new PollError("EBUSY", `off-thread ${name} already has a call in flight`);
          busy = true;
          try {
            const r = await fn(...args);
            return { result: Number(r), errno: 0 };
          } finally {
            busy = false;
            if (closeWhenIdle) {
              lib.close();
              markExited();
            }
          }
        },
        // Deno keeps the process alive while a nonblocking call is pending;
        // it offers no way to unref one (documented in the README).
        ref() {},
        unref() {},
        close() {
          if (closed) return;
          closed = true;
          if (busy) closeWhenIdle = true;
          else {
            lib.close();
            markExited();
          }
        },
        // The runtime's own blocking-call threads: nothing of ours outlives the call.
        exited,
      };
    },
    env(name: string): string | undefined {
      // Read only what is already granted: Deno.env.get on an ungranted
      // variable prompts on a terminal, and the library never prompts.
      if (!granted({ name: "env", variable: name })) return undefined;
      try {
        return D.env.get(name);
      } catch {
        return undefined;
      }
    },
    // Never called: Deno neither waits for a pending nonblocking call at
    // exit nor when a Worker or a `deno test` file's isolate ends (measured:
    // a pending 5 s sleep delayed neither). A parked wait woken at "unload"
    // would only return into a runtime being torn down.
    onExit(): void {},
    yieldToRuntime: immediate,
    unrefTimeout(fn, ms) {
      // Deno's timers are numbers; D.unrefTimer takes one.
      const id = setTimeout(fn, ms) as unknown as number;
      D.unrefTimer?.(id);
      return () => clearTimeout(id);
    },
    addSignalListener(signal, listener) {
      D.addSignalListener(signal, listener);
    },
    removeSignalListener(signal, listener) {
      D.removeSignalListener(signal, listener);
    },
    exit: (code) => D.exit(code),
  };
  return native;
}
