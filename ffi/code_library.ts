/**
 * Loads machine-code functions that ffinet carries as bytes: they are
 * wrapped into an ELF shared object (`elf_object.ts`), written to an
 * anonymous memory file (`memfd_create`) and opened through the runtime's
 * own `dlopen` by its `/proc/self/fd` path, so each function is called like
 * any libc symbol, with the same integer checks.
 *
 * Nothing touches the file system, no page is ever writable and executable
 * at once (the loader maps the code read+execute), the file is sealed
 * against writes before it is loaded, each library keeps one close-on-exec
 * descriptor open for the life of the process (or of the Worker that
 * loaded it), and every failure (not Linux, no FFI, no `memfd_create`, a
 * `vm.memfd_noexec` policy, a sandbox refusing the path) returns a reason
 * instead of throwing, so callers fall back to their JavaScript code.
 *
 * @module
 */
import { buildSharedObject, type ElfFunction } from "./elf_object.ts";
import { bindSymbols } from "./library.ts";
import { libc } from "./libc.ts";
import { cString } from "./marshal.ts";
import { native } from "./native.ts";
import { E } from "./platform.ts";
import type { SymbolFunctions, SymbolTable } from "./types.ts";

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const F_ADD_SEALS = 1033;
const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;
const F_SEAL_WRITE = 0x8;
// Linux 6.3+: ask for an executable memfd where `vm.memfd_noexec` would
// otherwise seal it non-executable; older kernels refuse the flag (EINVAL).
const MFD_EXEC = 0x10;
const EINVAL = E.EINVAL ?? 22;

/** Either the bound functions or why they could not be loaded. */
export type CodeLibrary<T extends SymbolTable> =
  | { readonly ok: true; readonly functions: SymbolFunctions<T> }
  | { readonly ok: false; readonly reason: string };

/**
 * Builds a shared object from `code` (one entry per symbol of `table`, for
 * ELF `machine`) and opens it.
 *
 * @example
 * ```ts
 * import { loadCodeLibrary } from "./code_library.ts";
 * import { ElfMachine } from "./elf_object.ts";
 * // x86-64: mov eax, edi; ret
 * const table = { identity: { args: ["i32"], result: "i32" } } as const;
 * const lib = loadCodeLibrary("demo", ElfMachine.x86_64, { identity: new Uint8Array([0x89, 0xf8, 0xc3]) }, table);
 * if (lib.ok) console.log(lib.functions.identity(7)); // 7
 * ```
 */
export function loadCodeLibrary<const T extends SymbolTable>(
  name: string,
  machine: number,
  code: { readonly [K in keyof T]: Uint8Array },
  table: T,
): CodeLibrary<T> {
  if (native.os !== "linux") return { ok: false, reason: "in-memory code needs Linux (memfd_create)" };
  let bytes: Uint8Array;
  try {
    const functions: ElfFunction[] = Object.keys(table).map((symbol) => ({ name: symbol, code: code[symbol as keyof T] }));
    bytes = buildSharedObject(machine, functions).bytes;
  } catch (err) {
    return { ok: false, reason: `bad code object: ${(err as Error).message}` };
  }
  let c: ReturnType<typeof libc>;
  try {
    c = libc();
  } catch (err) {
    return { ok: false, reason: (err as Error).message }; // no FFI permission, no koffi
  }
  if (c.memfd_create === undefined) return { ok: false, reason: "libc has no memfd_create" };
  const label = cString(`ffinet-${name}`);
  let fd = c.memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && native.errno() === EINVAL) fd = c.memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return { ok: false, reason: `memfd_create failed (errno ${native.errno()})` };
  for (let at = 0; at < bytes.length;) {
    const n = c.write(fd, bytes.subarray(at), bytes.length - at);
    if (n <= 0) {
      const reason = `writing the code object failed (errno ${native.errno()})`;
      c.close(fd);
      return { ok: false, reason };
    }
    at += n;
  }
  // Sealed before loading: the loader's private mapping would otherwise
  // show later writes to the file, so a stray write to this descriptor
  // (say, a socket fd number used after close) could change running code.
  if (c.fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) !== 0) {
    const reason = `sealing the code object failed (errno ${native.errno()})`;
    c.close(fd);
    return { ok: false, reason };
  }
  // From here on the descriptor stays open for the life of the process,
  // even when dlopen fails: glibc knows a loaded object by its path, and a
  // closed descriptor's number (so the same `/proc/self/fd/N`) would come
  // back for the next code library, which dlopen would take for this one;
  // and a runtime may fail after glibc has loaded the object (a missing
  // symbol).
  try {
    return { ok: true, functions: bindSymbols(native.open(`/proc/self/fd/${fd}`, table), table) };
  } catch (err) {
    return { ok: false, reason: `dlopen refused the code object: ${(err as Error).message}` };
  }
}
