/**
 * The Bun backend: bun:ffi dlopen, toArrayBuffer, JSCallback, and a Worker
 * for off-thread calls.
 *
 * @module
 */
import { NUMERIC_POINTERS } from "./numeric_pointer.ts";
import { processRuntime } from "./process_runtime.ts";
import { workerCall } from "./worker_call.ts";
import type {
  Native,
  NativeCallback,
  NativeType,
  OffThreadCall,
  Pointer,
  RawLibrary,
  SymbolSpec,
  SymbolTable,
} from "./types.ts";

interface BunFFI {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void };
  toArrayBuffer(ptr: number, byteOffset: number, byteLength: number): ArrayBuffer;
  JSCallback: new (
    fn: (...args: unknown[]) => unknown,
    def: { args: string[]; returns: string; threadsafe?: boolean },
  ) => { ptr: number | null; close(): void };
}

const TYPES: Record<NativeType, string> = {
  void: "void",
  i8: "i8",
  u8: "u8",
  i16: "i16",
  u16: "u16",
  i32: "i32",
  u32: "u32",
  // The _fast variants return numbers when the value is a safe integer.
  i64: "i64_fast",
  u64: "u64_fast",
  isize: "i64_fast",
  usize: "u64_fast",
  f32: "f32",
  f64: "f64",
  pointer: "ptr",
  buffer: "ptr",
  function: "ptr",
};

function bunDefinition(spec: SymbolSpec): { args: string[]; returns: string } {
  return { args: spec.args.map((t) => TYPES[t]), returns: TYPES[spec.result] };
}

// The worker that runs one blocking symbol per instance. Its messages are
// plain arrays: [args…] in, [result, errno] out.
const WORKER_SOURCE = `
import { dlopen, toArrayBuffer } from "bun:ffi";
let fn;
let errnoView;
self.onmessage = (event) => {
  const m = event.data;
  if (!Array.isArray(m)) {
    const defs = { [m.name]: { args: m.args, returns: m.returns } };
    const lib = dlopen(m.path, defs);
    const libc = dlopen(m.libc, { [m.errnoName]: { args: [], returns: "ptr" } });
    fn = lib.symbols[m.name];
    errnoView = new Int32Array(toArrayBuffer(libc.symbols[m.errnoName](), 0, 4));
    postMessage("ready");
    return;
  }
  const r = Number(fn(...m));
  postMessage([r, r < 0 ? errnoView[0] : 0]);
};
`;

/** Creates the Bun backend; `ffi` is the `bun:ffi` module. */
export function createBunNative(ffi: BunFFI): Native {
  const proc = (globalThis as unknown as { process: { platform: string; arch: string } }).process;
  const os = proc.platform;
  const libcName = os === "darwin" ? "libSystem.B.dylib" : os === "linux" ? "libc.so.6" : "libc.so.7";
  const errnoName = os === "linux" ? "__errno_location" : "__error";
  let errnoView: Int32Array | undefined;
  const num = (p: Pointer | null) => p as unknown as number | null;
  let workerUrl: string | undefined;

  const native: Native = {
    runtime: "bun",
    os,
    arch: proc.arch,
    bigInt64Args: false,
    open(path: string, table: SymbolTable): RawLibrary {
      const defs: Record<string, { args: string[]; returns: string }> = {};
      const optional: string[] = [];
      for (const [name, spec] of Object.entries(table)) {
        if (spec.optional) optional.push(name);
        else defs[name] = bunDefinition(spec);
      }
      const lib = ffi.dlopen(path, defs);
      const symbols: Record<string, ((...args: never[]) => unknown) | undefined> = { ...lib.symbols };
      const extra: { close(): void }[] = [];
      // bun:ffi fails the whole dlopen on one missing symbol: bind optional
      // symbols one by one.
      for (const name of optional) {
        try {
          const one = ffi.dlopen(path, { [name]: bunDefinition(table[name]!) });
          symbols[name] = one.symbols[name];
          extra.push(one);
        } catch {
          symbols[name] = undefined;
        }
      }
      return {
        symbols,
        close() {
          for (const e of extra) e.close();
          lib.close();
        },
      };
    },
    errno(): number {
      if (!errnoView) {
        const lib = ffi.dlopen(libcName, { [errnoName]: { args: [], returns: "ptr" } });
        errnoView = new Int32Array(ffi.toArrayBuffer(lib.symbols[errnoName]!() as number, 0, 4));
      }
      return errnoView[0]!;
    },
    view(pointer: Pointer, byteLength: number): ArrayBuffer {
      if (byteLength === 0) return new ArrayBuffer(0);
      return ffi.toArrayBuffer(num(pointer)!, 0, byteLength);
    },
    ...NUMERIC_POINTERS,
    callback(spec, fn): NativeCallback {
      const cb = new ffi.JSCallback(fn as (...args: unknown[]) => unknown, bunDefinition(spec));
      let closed = false;
      return {
        pointer: cb.ptr as unknown as Pointer,
        close() {
          if (closed) return;
          closed = true;
          cb.close();
        },
      };
    },
    offThread(path: string, name: string, spec: SymbolSpec): OffThreadCall {
      workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
      const worker = new Worker(workerUrl) as Worker & { ref(): void; unref(): void };
      const def = bunDefinition(spec);
      worker.postMessage({ path, name, args: def.args, returns: def.returns, libc: libcName, errnoName });
      return workerCall(worker, name);
    },
    ...processRuntime(),
  };
  return native;
}
