import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { NativeBoundsError } from "../core/errors.ts";
import { bigIntOf, needsWrapper, wrapSymbol } from "./int_check.ts";
import { LIBC_SYMBOLS } from "./libc.ts";
import { LIBCRYPTO_SYMBOLS } from "./libcrypto.ts";
import { LIBSSL_SYMBOLS } from "./libssl.ts";
import { LIBZ_SYMBOLS } from "./libz.ts";
import { LAYOUT } from "./platform.ts";
import type { SymbolTable } from "./types.ts";

describe("ffi/int_check", () => {
  const seen: unknown[][] = [];
  const record = (...args: unknown[]) => {
    seen.push(args);
    return args.length;
  };

  test("symbols without integer arguments are handed out as they are", () => {
    const spec = { args: ["pointer", "buffer"], result: "void" } as const;
    assert.equal(needsWrapper(spec), false);
    assert.equal(wrapSymbol("f", spec, record as never), record);
  });

  test("accepts every i32 and u32 and passes exact integers (-0 becomes 0)", () => {
    const f = wrapSymbol("f", { args: ["i32", "u32"], result: "i32" }, record as never) as (
      a: number,
      b: number,
    ) => number;
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat({ max: 2 ** 32 - 1 }), (a, b) => {
        seen.length = 0;
        f(a, b);
        assert.deepEqual(seen[0], [a, b]);
      }),
      { numRuns: 200 },
    );
    seen.length = 0;
    f(-0, -0);
    assert.ok(Object.is(seen[0]![0], 0) && Object.is(seen[0]![1], 0));
  });

  test("rejects fractions, NaN, out-of-range values and non-numbers", () => {
    const f = wrapSymbol("close", { args: ["i32"], result: "i32" }, record as never) as (a: unknown) => number;
    fc.assert(
      fc.property(fc.double().filter((d) => !Number.isInteger(d) || d >= 2 ** 31 || d < -(2 ** 31)), (d) => {
        assert.throws(() => f(d), RangeError);
      }),
      { numRuns: 200 },
    );
    assert.throws(() => f("3"), TypeError);
    assert.throws(() => f(3n), TypeError);
    const u8 = wrapSymbol("f", { args: ["u8"], result: "void" }, record as never) as (a: number) => void;
    assert.throws(() => u8(256), RangeError);
    assert.throws(() => u8(-1), RangeError);
  });

  test("64-bit arguments take safe integers or bigints; results become numbers", () => {
    const f = wrapSymbol("f", { args: ["usize", "i64"], result: "u64" }, ((a: unknown) => BigInt(a as number)) as never) as (
      a: number | bigint,
      b: number | bigint,
    ) => number;
    assert.equal(f(5, -1), 5);
    assert.equal(typeof f(5n, 0n), "number");
    assert.throws(() => f(-1, 0), RangeError);
    assert.throws(() => f(-1n, 0), RangeError);
    assert.throws(() => f(2 ** 53, 0), RangeError);
    assert.throws(() => f(0.5, 0), RangeError);
  });

  test("bigInt64Args: 64-bit arguments reach the function as bigints, checked the same way", () => {
    const seen: unknown[] = [];
    const f = wrapSymbol("f", { args: ["usize", "i64", "i32"], result: "i64" }, ((a: unknown, b: unknown, c: unknown) => {
      seen.push(a, b, c);
      return -3n;
    }) as never, true) as (a: number | bigint, b: number | bigint, c: number) => number;
    assert.equal(f(5, -1, 7), -3);
    assert.deepEqual(seen, [5n, -1n, 7]);
    assert.equal(f(2n, 3n, 0), -3);
    assert.deepEqual(seen.slice(3), [2n, 3n, 0]);
    assert.throws(() => f(-1, 0, 0), RangeError);
    assert.throws(() => f(0.5, 0, 0), RangeError);
    assert.throws(() => f(2 ** 53, 0, 0), RangeError);
  });

  test("bounds: a length past the end of its buffer throws NativeBoundsError before the call", () => {
    const f = wrapSymbol("recv", { args: ["i32", "buffer", "usize", "i32"], result: "i32", bounds: [[1, 2]] }, record as never) as (
      ...a: unknown[]
    ) => number;
    fc.assert(
      fc.property(fc.nat({ max: 64 }), fc.nat({ max: 128 }), fc.nat({ max: 16 }), (size, length, offset) => {
        seen.length = 0;
        const buffer = new Uint8Array(size + offset).subarray(offset); // byteLength is size, wherever the view starts
        if (length <= size) {
          f(3, buffer, length, 0);
          assert.equal(seen.length, 1);
        } else {
          assert.throws(() => f(3, buffer, length, 0), (e: unknown) => {
            assert.ok(e instanceof NativeBoundsError);
            assert.equal(e.code, "ERR_NATIVE_BOUNDS");
            assert.equal(e.requested, length);
            assert.equal(e.available, size);
            return true;
          });
          assert.equal(seen.length, 0, "C was not called");
        }
      }),
      { numRuns: 300 },
    );
    seen.length = 0;
    f(3, null, 10, 0); // NULL is C's business (some calls take NULL with a length to ask for one)
    assert.equal(seen.length, 1);
  });

  test("bounds: counts of structs are checked in bytes (unit), 64-bit lengths as bigints too", () => {
    for (const bigInt64Args of [false, true]) {
      seen.length = 0;
      const w = wrapSymbol("writev", { args: ["i32", "buffer", "i32"], result: "i32", bounds: [[1, 2, 16]] }, record as never, bigInt64Args) as (
        ...a: unknown[]
      ) => number;
      w(1, new Uint8Array(32), 2);
      assert.throws(() => w(1, new Uint8Array(47), 3), NativeBoundsError);
      const p = wrapSymbol("poll", { args: ["buffer", "u64", "i32"], result: "i32", bounds: [[0, 1, 8]] }, record as never, bigInt64Args) as (
        ...a: unknown[]
      ) => number;
      p(new Uint8Array(16), 2, 0);
      p(new Uint8Array(16), 2n, 0);
      assert.throws(() => p(new Uint8Array(16), 3, 0), NativeBoundsError);
      assert.throws(() => p(new Uint8Array(16), 3n, 0), NativeBoundsError);
      const r = wrapSymbol("read", { args: ["i32", "buffer", "usize"], result: "i32", bounds: [[1, 2]] }, record as never, bigInt64Args) as (
        ...a: unknown[]
      ) => number;
      r(0, new Uint8Array(8), 8n);
      assert.throws(() => r(0, new Uint8Array(8), 9n), NativeBoundsError);
      assert.throws(() => r(0, new Uint8Array(8), 9), NativeBoundsError);
      assert.equal(seen.length, 4);
    }
  });

  test("bounds: a rule that does not pair a buffer with an integer is refused when the symbol is bound", () => {
    assert.throws(() => wrapSymbol("f", { args: ["pointer", "i32"], result: "i32", bounds: [[0, 1]] }, record as never), TypeError);
    assert.throws(() => wrapSymbol("f", { args: ["buffer", "buffer"], result: "i32", bounds: [[0, 1]] }, record as never), TypeError);
    assert.throws(() => wrapSymbol("f", { args: ["buffer", "i32"], result: "i32", bounds: [[0, 1, 0]] }, record as never), TypeError);
  });

  test("bounds: every buffer-and-length symbol of libc, libssl, libcrypto and libz declares its rule, and every rule binds", () => {
    const tables: SymbolTable[] = [LIBC_SYMBOLS, LIBSSL_SYMBOLS, LIBCRYPTO_SYMBOLS, LIBZ_SYMBOLS];
    const expected = [
      "memcpy", "memmove", "read", "write", "readv", "writev", "pread", "bind", "connect", "send", "recv", "sendto",
      "recvfrom", "sendmmsg", "recvmmsg", "setsockopt", "poll", "epoll_wait", "kevent",
      "SSL_read", "SSL_write", "SSL_peek", "SSL_CTX_set_alpn_protos", "SSL_CTX_use_serverinfo_ex", "SSL_CTX_set_session_id_context",
      "SHA1", "SHA256", "EVP_DigestUpdate", "HMAC", "HMAC_Init_ex", "HMAC_Update", "RAND_bytes", "CRYPTO_memcmp",
      "OPENSSL_cleanse", "ERR_error_string_n", "BIO_write", "BIO_read", "X509_check_host",
      "deflateSetDictionary", "inflateSetDictionary", "crc32", "adler32",
    ];
    const declared = new Map<string, unknown>();
    for (const table of tables) {
      for (const [name, spec] of Object.entries(table)) {
        if (spec.bounds === undefined) continue;
        declared.set(name, spec.bounds);
        assert.equal(typeof wrapSymbol(name, spec, record as never), "function");
      }
    }
    for (const name of expected) assert.ok(declared.has(name), `${name} declares bounds`);
  });

  test("bounds: the struct counts of epoll_wait and kevent use this platform's struct size (arm64's epoll_event is 16 bytes, x86-64's 12)", () => {
    const unit = (name: string, rule: number) => (LIBC_SYMBOLS as SymbolTable)[name]!.bounds![rule]![2];
    if (LAYOUT.epoll_event.size > 0) assert.equal(unit("epoll_wait", 0), LAYOUT.epoll_event.size);
    if (LAYOUT.kevent.size > 0) {
      assert.equal(unit("kevent", 0), LAYOUT.kevent.size);
      assert.equal(unit("kevent", 1), LAYOUT.kevent.size);
    }
    for (const name of ["epoll_wait", "kevent"]) for (const rule of (LIBC_SYMBOLS as SymbolTable)[name]!.bounds!) assert.ok(rule[2]! >= 1);
  });

  test("bigIntOf: exact for any safe integer, cached or not", () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => bigIntOf(n) === BigInt(n)));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => bigIntOf(n) === BigInt(n)));
    for (const n of [0, 64, 4095, 4096, 262144, -1, 2 ** 40]) assert.equal(bigIntOf(n), BigInt(n));
  });
});
