import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadCodeLibrary } from "./code_library.ts";
import { ElfMachine } from "./elf_object.ts";
import { nativeMasker, nativeMaskUnavailableReason } from "./mask_native.ts";
import { native } from "./native.ts";
import { libc } from "./libc.ts";
import { E } from "./platform.ts";
import { runChild } from "../tests/loop_helpers.ts";

/** `vm.memfd_noexec = 2` forbids executable memory files system-wide. */
function memfdExecForbidden(): boolean {
  try {
    return readFileSync("/proc/sys/vm/memfd_noexec", "utf8").trim() === "2";
  } catch {
    return false; // kernels before 6.3 have no such policy
  }
}

const expectNative = native.os === "linux" && native.arch === "x64" && native.env("FFINET_PURE_MASK") !== "1" &&
  !memfdExecForbidden();

describe("code_library and mask_native: machine code loaded through dlopen", () => {
  test("a small code library loads and its functions are called with integer checks", { skip: !expectNative && "x86-64 Linux only" }, () => {
    const table = {
      identity: { args: ["i32"], result: "i32" },
      add: { args: ["i32", "i32"], result: "i32" },
    } as const;
    // mov eax, edi; ret — lea eax, [rdi+rsi]; ret
    const lib = loadCodeLibrary("test", ElfMachine.x86_64, {
      identity: new Uint8Array([0x89, 0xf8, 0xc3]),
      add: new Uint8Array([0x8d, 0x04, 0x37, 0xc3]),
    }, table);
    assert.ok(lib.ok, lib.ok ? "" : lib.reason);
    assert.equal(lib.functions.identity(-7), -7);
    assert.equal(lib.functions.add(40, 2), 42);
    assert.throws(() => lib.functions.add(1.5, 2), RangeError);
  });

  test("a code object that cannot be built is a reason, not a throw", () => {
    const lib = loadCodeLibrary("bad", ElfMachine.x86_64, { "no such name": new Uint8Array([0xc3]) }, {
      "no such name": { args: [], result: "void" },
    });
    assert.equal(lib.ok, false);
    if (!lib.ok) assert.match(lib.reason, native.os === "linux" ? /bad code object/ : /Linux/);
  });

  test("the masker is there on x86-64 Linux, with a reason where it is not", () => {
    const m = nativeMasker();
    if (expectNative) {
      assert.notEqual(m, null, nativeMaskUnavailableReason());
      assert.ok(m!.minBytes >= 32 && m!.minBytes <= 1024);
      assert.equal(nativeMaskUnavailableReason(), "");
    } else {
      assert.equal(m, null);
      assert.notEqual(nativeMaskUnavailableReason(), "");
    }
  });

  test("masks like a byte-wise reference: any length, offset and key, in place and copying, nothing outside touched", { skip: !expectNative && "x86-64 Linux only" }, () => {
    const m = nativeMasker()!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.nat(31), fc.nat(31), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat(255), (n, srcAt, dstAt, key, seed) => {
        const src = new Uint8Array(srcAt + n + 32).map((_, i) => (i * 31 + seed) & 0xff);
        const dst = new Uint8Array(dstAt + n + 32).fill(0xa5);
        const expected = src.subarray(srcAt, srcAt + n).map((b, i) => b ^ ((key >>> (8 * (i & 3))) & 0xff));
        m.mask(dst, dstAt, src, srcAt, n, key);
        assert.deepEqual(dst.subarray(dstAt, dstAt + n), expected);
        assert.ok(dst.subarray(0, dstAt).every((b) => b === 0xa5));
        assert.ok(dst.subarray(dstAt + n).every((b) => b === 0xa5));
        m.mask(src, srcAt, src, srcAt, n, key);
        assert.deepEqual(src.subarray(srcAt, srcAt + n), expected);
      }),
      { numRuns: 300 },
    );
  });

  test("the loaded code file is sealed: writing to its descriptor fails", { skip: !expectNative && "x86-64 Linux only" }, () => {
    assert.notEqual(nativeMasker(), null);
    const fd = readdirSync("/proc/self/fd").map(Number).find((n) => {
      try {
        return readlinkSync(`/proc/self/fd/${n}`).startsWith("/memfd:ffinet-mask");
      } catch {
        return false;
      }
    });
    assert.notEqual(fd, undefined, "the code library's memfd is open");
    assert.equal(libc().write(fd!, new Uint8Array([0xc3]), 1), -1);
    assert.equal(native.errno(), E.EPERM);
  });

  test("views at an offset into a larger buffer are addressed from the view's start", { skip: !expectNative && "x86-64 Linux only" }, () => {
    const m = nativeMasker()!;
    const whole = new Uint8Array(4096);
    const view = whole.subarray(1000, 3000);
    m.mask(view, 10, view, 10, 1000, 0x01010101);
    assert.ok(whole.subarray(1010, 2010).every((b) => b === 1));
    assert.ok(whole.subarray(0, 1010).every((b) => b === 0));
    assert.ok(whole.subarray(2010).every((b) => b === 0));
  });

  test("Deno without FFI permission masks in JavaScript instead of throwing", { skip: native.runtime !== "deno" && "a Deno permission" }, async () => {
    const fixture = fileURLToPath(new URL("../tests/mask_fixture_pure.ts", import.meta.url));
    const exec = (globalThis as unknown as { process: { execPath: string } }).process.execPath;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(exec, ["run", "--allow-read", "--allow-env", "--no-check", fixture], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
      child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
      child.on("close", (code: number | null) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout.trim()) as { masker: null; reason: string; ok: boolean };
    assert.equal(result.masker, null);
    assert.equal(result.ok, true);
    assert.match(result.reason, /FFI is not permitted/);
  });

  test("FFINET_PURE_MASK=1 keeps masking in JavaScript, with the same result", async () => {
    const child = await runChild("mask_fixture_pure.ts", [], 20_000, { FFINET_PURE_MASK: "1" });
    assert.equal(child.code, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { masker: null, reason: "FFINET_PURE_MASK=1", ok: true });
  });
});
