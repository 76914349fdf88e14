import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildSharedObject, ElfMachine } from "./elf_object.ts";

/** Reads back what a loader reads: segments, and symbols through the hash table. */
function readBack(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const phnum = v.getUint16(56, true);
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + 56 * i;
    segments.push({
      type: v.getUint32(at, true),
      flags: v.getUint32(at + 4, true),
      offset: Number(v.getBigUint64(at + 8, true)),
      vaddr: Number(v.getBigUint64(at + 16, true)),
      filesz: Number(v.getBigUint64(at + 32, true)),
      align: Number(v.getBigUint64(at + 48, true)),
    });
  }
  const dynamic = segments.find((s) => s.type === 2)!;
  const tags = new Map<number, number>();
  for (let at = dynamic.offset; ; at += 16) {
    const tag = Number(v.getBigUint64(at, true));
    if (tag === 0) break;
    tags.set(tag, Number(v.getBigUint64(at + 8, true)));
  }
  const hash = tags.get(4)!;
  const symtab = tags.get(6)!;
  const strtab = tags.get(5)!;
  const symbols = new Map<string, { value: number; size: number; info: number; shndx: number }>();
  for (let s = v.getUint32(hash + 8, true); s !== 0; s = v.getUint32(hash + 12 + 4 * s, true)) {
    const at = symtab + 24 * s;
    let end = strtab + v.getUint32(at, true);
    const start = end;
    while (bytes[end] !== 0) end++;
    const name = String.fromCharCode(...bytes.subarray(start, end));
    symbols.set(name, {
      info: bytes[at + 4]!,
      shndx: v.getUint16(at + 6, true),
      value: Number(v.getBigUint64(at + 8, true)),
      size: Number(v.getBigUint64(at + 16, true)),
    });
  }
  return { type: v.getUint16(16, true), machine: v.getUint16(18, true), segments, tags, symbols };
}

describe("elf_object: in-memory shared objects", () => {
  const f = new Uint8Array([0x89, 0xf8, 0xc3]);
  const g = new Uint8Array(100).fill(0x90);

  test("header, segments and symbols read back as a loader sees them", () => {
    const { bytes, offsets } = buildSharedObject(ElfMachine.x86_64, [{ name: "first", code: f }, { name: "second_fn", code: g }]);
    assert.deepEqual([...bytes.subarray(0, 7)], [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    const elf = readBack(bytes);
    assert.equal(elf.type, 3);
    assert.equal(elf.machine, 62);
    assert.deepEqual(elf.segments.map((s) => s.type), [1, 1, 2, 0x6474e551, 4, 0x6474e553]);
    // The GNU property note: x86 feature 1 AND = SHSTK (not IBT: no endbr64).
    const note = elf.segments[5]!;
    const nv = new DataView(bytes.buffer, note.offset, 32);
    assert.deepEqual([nv.getUint32(0, true), nv.getUint32(4, true), nv.getUint32(8, true)], [4, 16, 5]);
    assert.deepEqual([...bytes.subarray(note.offset + 12, note.offset + 16)], [0x47, 0x4e, 0x55, 0]);
    assert.deepEqual([nv.getUint32(16, true), nv.getUint32(20, true), nv.getUint32(24, true)], [0xc0000002, 4, 2]);
    for (const s of elf.segments) {
      assert.ok((s.flags & 3) !== 3, "no segment is writable and executable");
      if (s.type === 1) assert.equal(s.offset % 65536, s.vaddr % 65536);
      if (s.type === 1) assert.equal(s.align, 65536);
    }
    assert.equal(elf.segments[3]!.flags & 1, 0, "the stack stays non-executable");
    assert.deepEqual([...elf.symbols.keys()].sort(), ["first", "second_fn"]);
    for (const [name, code] of [["first", f], ["second_fn", g]] as const) {
      const sym = elf.symbols.get(name)!;
      assert.equal(sym.value, offsets[name]);
      assert.equal(sym.value % 16, 0);
      assert.equal(sym.size, code.length);
      assert.equal(sym.info, 0x12);
      assert.notEqual(sym.shndx, 0);
      assert.deepEqual(bytes.subarray(sym.value, sym.value + code.length), code);
      const text = elf.segments[0]!;
      assert.ok(sym.value + sym.size <= text.filesz, "code lies in the executable segment");
    }
  });

  test("the machine number is written as given", () => {
    const { bytes } = buildSharedObject(ElfMachine.aarch64, [{ name: "f", code: f }]);
    const elf = readBack(bytes);
    assert.equal(elf.machine, 183);
    assert.deepEqual(elf.segments.map((s) => s.type), [1, 1, 2, 0x6474e551, 0, 0], "no x86 note on arm64");
  });

  test("bad input: no functions, too many, bad or repeated names, too much code", () => {
    assert.throws(() => buildSharedObject(62, []), RangeError);
    const many = Array.from({ length: 65 }, (_, i) => ({ name: `f${i}`, code: f }));
    assert.throws(() => buildSharedObject(62, many), RangeError);
    assert.throws(() => buildSharedObject(62, [{ name: "a b", code: f }]), TypeError);
    assert.throws(() => buildSharedObject(62, [{ name: "", code: f }]), TypeError);
    assert.throws(() => buildSharedObject(62, [{ name: "x", code: f }, { name: "x", code: f }]), TypeError);
    assert.throws(() => buildSharedObject(62, [{ name: "big", code: new Uint8Array(65536) }]), RangeError);
  });
});
