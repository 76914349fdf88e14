/**
 * The Node backend over koffi (an optional peer dependency). Pointers are
 * numbers here, as on Bun: koffi takes numbers for `void *` arguments and
 * `intptr_t` results come back as numbers.
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

/** The parts of koffi this backend uses. */
export interface Koffi {
  load(path: string, options?: { deep?: boolean; lazy?: boolean; global?: boolean }): {
    func(name: string, result: string, args: string[]): (...args: unknown[]) => unknown;
    unload(): void;
  };
  errno(): number;
  view(ptr: number | bigint, len: number): ArrayBuffer;
  proto(name: string, result: string, args: string[]): unknown;
  pointer(type: unknown): unknown;
  register(fn: (...args: unknown[]) => unknown, type: unknown): bigint | number;
  unregister(ptr: bigint | number): void;
}

const ARG_TYPES: Record<NativeType, string> = {
  void: "void",
  i8: "int8_t",
  u8: "uint8_t",
  i16: "int16_t",
  u16: "uint16_t",
  i32: "int32_t",
  u32: "uint32_t",
  i64: "int64_t",
  u64: "uint64_t",
  isize: "intptr_t",
  usize: "size_t",
  f32: "float",
  f64: "double",
  pointer: "void *",
  buffer: "void *",
  function: "void *",
};

// Pointer results and callback parameters as intptr_t: numbers, not BigInt.
const RESULT_TYPES: Record<NativeType, string> = {
  ...ARG_TYPES,
  pointer: "intptr_t",
  buffer: "intptr_t",
  function: "intptr_t",
};

// RTLD_DEEPBIND exists on Linux and FreeBSD.
const DEEP_BIND = ["linux", "freebsd"].includes(
  (globalThis as unknown as { process: { platform: string } }).process.platform,
);

const isPointer = (t: NativeType) => t === "pointer" || t === "buffer" || t === "function";

// The worker that runs one blocking symbol; see worker_call.ts.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const koffi = require(workerData.koffi);
const fn = koffi.load(workerData.path, { deep: workerData.deep }).func(workerData.name, workerData.result, workerData.args);
parentPort.postMessage("ready");
parentPort.on("message", (args) => {
  const r = Number(fn(...args));
  parentPort.postMessage([r, r < 0 ? koffi.errno() : 0]);
});
`;

/** Creates the Node backend; `koffiPath` is where `koffi` resolved. */
export function createNodeNative(
  koffi: Koffi,
  koffiPath: string,
  WorkerClass: new (code: string, options: { eval: true; workerData: unknown }) => {
    postMessage(m: unknown): void;
    terminate(): unknown;
    ref(): void;
    unref(): void;
    on(t: "message" | "exit", f: (d: unknown) => void): void;
  },
): Native {
  const proc = (globalThis as unknown as { process: { platform: string; arch: string } }).process;
  let protoCount = 0;
  const num = (p: Pointer | null) => p as unknown as number | null;

  const native: Native = {
    runtime: "node",
    os: proc.platform,
    arch: proc.arch,
    bigInt64Args: false,
    open(path: string, table: SymbolTable): RawLibrary {
      // Node's own binary exports the zlib and OpenSSL symbols it links
      // statically; without RTLD_DEEPBIND, libz's internal calls would bind
      // to Node's copies (a different struct layout) and crash.
      const lib = koffi.load(path, { deep: DEEP_BIND });
      const symbols: Record<string, ((...args: never[]) => unknown) | undefined> = {};
      for (const [name, spec] of Object.entries(table)) {
        let fn: (...args: unknown[]) => unknown;
        try {
          fn = lib.func(name, RESULT_TYPES[spec.result], spec.args.map((t) => ARG_TYPES[t]));
        } catch (err) {
          if (spec.optional) {
            symbols[name] = undefined;
            continue;
          }
          throw err;
        }
        symbols[name] = isPointer(spec.result)
          ? (...args: never[]) => {
            const r = fn(...args) as number;
            return r === 0 ? null : r;
          }
          : fn;
      }
      return { symbols, close: () => lib.unload() };
    },
    errno: () => koffi.errno(),
    view(pointer: Pointer, byteLength: number): ArrayBuffer {
      if (byteLength === 0) return new ArrayBuffer(0);
      return koffi.view(num(pointer)!, byteLength);
    },
    ...NUMERIC_POINTERS,
    callback(spec: SymbolSpec, fn): NativeCallback {
      const proto = koffi.proto(
        `ffinet_cb_${protoCount++}`,
        ARG_TYPES[spec.result],
        spec.args.map((t) => RESULT_TYPES[t]),
      );
      const wrapped = (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(
        ...args.map((a, i) => (isPointer(spec.args[i]!) && a === 0 ? null : a)),
      );
      const handle = koffi.register(wrapped, koffi.pointer(proto));
      let closed = false;
      return {
        pointer: Number(handle) as unknown as Pointer,
        close() {
          if (closed) return;
          closed = true;
          koffi.unregister(handle);
        },
      };
    },
    offThread(path: string, name: string, spec: SymbolSpec): OffThreadCall {
      const worker = new WorkerClass(WORKER_SOURCE, {
        eval: true,
        workerData: {
          koffi: koffiPath,
          path,
          deep: DEEP_BIND,
          name,
          result: RESULT_TYPES[spec.result],
          args: spec.args.map((t) => ARG_TYPES[t]),
        },
      });
      return workerCall(worker, name);
    },
    ...processRuntime(),
  };
  return native;
}
