/**
 * ffi_call: the cost of a call through ffinet's Native against a direct
 * binding made with the runtime's own FFI, for `abs` (a pure call) and
 * `getppid` (a system call). Target: at most 10% overhead on each runtime.
 */
import { createRequire } from "node:module";
import { libc } from "../ffi/libc.ts";
import { compare, finish, RUNTIME } from "./harness.ts";

type Direct = { abs(x: number): number; getppid(): number };

async function directBinding(): Promise<Direct> {
  if (RUNTIME === "deno") {
    const D = (globalThis as unknown as {
      Deno: { dlopen(p: string, s: object): { symbols: Direct } };
    }).Deno;
    return D.dlopen("libc.so.6", {
      abs: { parameters: ["i32"], result: "i32" },
      getppid: { parameters: [], result: "i32" },
    }).symbols;
  }
  if (RUNTIME === "bun") {
    const spec = "bun:ffi";
    const ffi = await import(spec);
    return ffi.dlopen("libc.so.6", {
      abs: { args: ["i32"], returns: "i32" },
      getppid: { args: [], returns: "i32" },
    }).symbols as Direct;
  }
  const koffi = createRequire(import.meta.url)("koffi");
  const lib = koffi.load("libc.so.6");
  return { abs: lib.func("int abs(int)"), getppid: lib.func("int getppid()") };
}

const direct = await directBinding();
const ours = libc();
let x = -12345;

await compare({ bench: "ffi_call", case: "abs (pure call)" }, {
  ours: () => ours.abs(x),
  peer: () => direct.abs(x),
  peerName: "direct",
});
x = 3;
await compare({ bench: "ffi_call", case: "getppid (syscall)" }, {
  ours: () => ours.getppid(),
  peer: () => direct.getppid(),
  peerName: "direct",
});
finish();
