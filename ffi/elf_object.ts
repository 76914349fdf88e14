/**
 * A minimal ELF64 shared object, built in memory: a handful of exported
 * machine-code functions and nothing else (no relocations, no imports, no
 * data). Loaded through the runtime's own `dlopen`, its functions get each
 * runtime's fastest call path (Deno's fast calls, bun:ffi's compiled
 * trampolines, koffi), which a bare function pointer does not get on Deno
 * (`UnsafeFnPointer` costs about 1.2 µs per call against 40 ns).
 *
 * Layout: one read+execute segment holding the ELF header, the program
 * headers, a SysV hash table, the symbol and string tables and the code;
 * one read+write page holding the dynamic section (older glibc writes the
 * load address into it), 64 KiB further on; a PT_GNU_STACK header so that
 * the loader never makes the stack executable; on x86-64 a GNU property
 * note marking the code as shadow-stack (CET) compatible.
 *
 * This module is a pure function of its input: no I/O.
 *
 * @module
 */

/** One exported function: its symbol name and its position-independent code. */
export interface ElfFunction {
  readonly name: string;
  readonly code: Uint8Array;
}

/** ELF machine numbers for the architectures we can emit code for. */
export const ElfMachine = Object.freeze({
  x86_64: 62,
  aarch64: 183,
});

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const PHDR_COUNT = 6;
const NOTE_SIZE = 32;
const SYM_SIZE = 24;
const DYN_SIZE = 16;
// Segments are aligned for the largest page size a loader may use (64 KiB
// on some arm64 kernels): glibc refuses a segment aligned below its page.
const PAGE = 0x10000;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_NOTE = 4;
const PT_GNU_STACK = 0x6474e551;
const PT_GNU_PROPERTY = 0x6474e553;
const NT_GNU_PROPERTY_TYPE_0 = 5;
const GNU_PROPERTY_X86_FEATURE_1_AND = 0xc0000002;
const GNU_PROPERTY_X86_FEATURE_1_SHSTK = 0x2;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const DT_NULL = 0;
const DT_HASH = 4;
const DT_STRTAB = 5;
const DT_SYMTAB = 6;
const DT_STRSZ = 10;
const DT_SYMENT = 11;
const STB_GLOBAL_STT_FUNC = 0x12;
const CODE_ALIGN = 16;

/** Where each function ended up in the object (virtual address = offset). */
export interface ElfLayout {
  readonly bytes: Uint8Array;
  readonly offsets: Readonly<Record<string, number>>;
}

const align = (n: number, a: number): number => (n + a - 1) & -a;

/**
 * Builds a little-endian ELF64 `ET_DYN` object exporting `functions`.
 * Names must be distinct C identifiers; at most 64 functions, all of it
 * within the first 64 KiB (the code segment).
 *
 * @example
 * ```ts
 * import { buildSharedObject, ElfMachine } from "./elf_object.ts";
 * const ret = new Uint8Array([0xc3]); // x86-64 `ret`
 * const { bytes, offsets } = buildSharedObject(ElfMachine.x86_64, [{ name: "nothing", code: ret }]);
 * console.log(bytes.length > 65536, offsets.nothing > 0); // true true
 * ```
 */
export function buildSharedObject(machine: number, functions: readonly ElfFunction[]): ElfLayout {
  if (functions.length === 0 || functions.length > 64) {
    throw new RangeError(`buildSharedObject: 1 to 64 functions, got ${functions.length}`);
  }
  const names = new Set<string>();
  for (const f of functions) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name) || names.has(f.name)) {
      throw new TypeError(`buildSharedObject: bad or repeated symbol name ${JSON.stringify(f.name)}`);
    }
    names.add(f.name);
  }
  const symbols = functions.length + 1; // index 0 is the undefined symbol
  const noteAt = EHDR_SIZE + PHDR_SIZE * PHDR_COUNT;
  const hashAt = noteAt + NOTE_SIZE;
  const hashSize = 4 * (2 + 1 + symbols); // nbucket, nchain, one bucket, chains
  const symAt = align(hashAt + hashSize, 8);
  const strAt = symAt + SYM_SIZE * symbols;
  const strings: number[] = [0];
  const nameAt: number[] = [];
  for (const f of functions) {
    nameAt.push(strings.length);
    for (let i = 0; i < f.name.length; i++) strings.push(f.name.charCodeAt(i));
    strings.push(0);
  }
  let codeAt = align(strAt + strings.length, CODE_ALIGN);
  const offsets: Record<string, number> = {};
  const starts: number[] = [];
  for (const f of functions) {
    starts.push(codeAt);
    offsets[f.name] = codeAt;
    codeAt = align(codeAt + f.code.length, CODE_ALIGN);
  }
  const textEnd = codeAt;
  if (textEnd > PAGE) throw new RangeError(`buildSharedObject: ${textEnd} bytes do not fit the code segment`);
  const dynAt = PAGE;
  const dynEntries = 6;
  const total = dynAt + DYN_SIZE * dynEntries;

  const bytes = new Uint8Array(total);
  const v = new DataView(bytes.buffer);
  const u16 = (at: number, x: number): void => v.setUint16(at, x, true);
  const u32 = (at: number, x: number): void => v.setUint32(at, x, true);
  const u64 = (at: number, x: number): void => v.setBigUint64(at, BigInt(x), true);

  // ELF header.
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */], 0);
  u16(16, 3); // ET_DYN
  u16(18, machine);
  u32(20, 1); // EV_CURRENT
  u64(24, 0); // no entry point
  u64(32, EHDR_SIZE); // program headers follow the header
  u64(40, 0); // no section headers
  u32(48, 0);
  u16(52, EHDR_SIZE);
  u16(54, PHDR_SIZE);
  u16(56, PHDR_COUNT);
  u16(58, 64);
  u16(60, 0);
  u16(62, 0);

  const phdr = (i: number, type: number, flags: number, offset: number, size: number, alignTo: number): void => {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    u32(at, type);
    u32(at + 4, flags);
    u64(at + 8, offset);
    u64(at + 16, offset); // vaddr = offset
    u64(at + 24, offset); // paddr
    u64(at + 32, size); // filesz
    u64(at + 40, size); // memsz
    u64(at + 48, alignTo);
  };
  phdr(0, PT_LOAD, PF_R | PF_X, 0, textEnd, PAGE);
  phdr(1, PT_LOAD, PF_R | PF_W, dynAt, total - dynAt, PAGE);
  phdr(2, PT_DYNAMIC, PF_R | PF_W, dynAt, total - dynAt, 8);
  phdr(3, PT_GNU_STACK, PF_R | PF_W, 0, 0, 16);
  if (machine === ElfMachine.x86_64) {
    // The code is shadow-stack safe (plain call/ret): say so, or glibc
    // refuses the object in a process running with CET shadow stacks (or,
    // when told to be permissive, turns them off for the whole process).
    // Not IBT: the functions do not start with endbr64.
    phdr(4, PT_NOTE, PF_R, noteAt, NOTE_SIZE, 8);
    phdr(5, PT_GNU_PROPERTY, PF_R, noteAt, NOTE_SIZE, 8);
    u32(noteAt, 4); // namesz
    u32(noteAt + 4, 16); // descsz
    u32(noteAt + 8, NT_GNU_PROPERTY_TYPE_0);
    bytes.set([0x47, 0x4e, 0x55, 0], noteAt + 12); // "GNU"
    u32(noteAt + 16, GNU_PROPERTY_X86_FEATURE_1_AND);
    u32(noteAt + 20, 4); // pr_datasz
    u32(noteAt + 24, GNU_PROPERTY_X86_FEATURE_1_SHSTK);
  } // other machines: the two headers stay PT_NULL, which loaders skip

  // SysV hash table with one bucket: every symbol on one chain.
  u32(hashAt, 1);
  u32(hashAt + 4, symbols);
  u32(hashAt + 8, 1); // bucket 0 starts at symbol 1
  for (let s = 1; s < symbols; s++) u32(hashAt + 12 + 4 * s, s + 1 < symbols ? s + 1 : 0);

  // Symbols (entry 0 stays all zero).
  for (let i = 0; i < functions.length; i++) {
    const at = symAt + SYM_SIZE * (i + 1);
    u32(at, nameAt[i]!);
    bytes[at + 4] = STB_GLOBAL_STT_FUNC;
    u16(at + 6, 1); // any defined section index other than SHN_ABS
    u64(at + 8, starts[i]!);
    u64(at + 16, functions[i]!.code.length);
  }
  bytes.set(strings, strAt);
  for (let i = 0; i < functions.length; i++) bytes.set(functions[i]!.code, starts[i]!);

  const dyn = [
    [DT_HASH, hashAt],
    [DT_STRTAB, strAt],
    [DT_SYMTAB, symAt],
    [DT_STRSZ, strings.length],
    [DT_SYMENT, SYM_SIZE],
    [DT_NULL, 0],
  ] as const;
  dyn.forEach(([tag, value], i) => {
    u64(dynAt + DYN_SIZE * i, tag);
    u64(dynAt + DYN_SIZE * i + 8, value);
  });
  return { bytes, offsets };
}
