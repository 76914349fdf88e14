import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FFIUnavailableError, NativeBoundsError, UseAfterCloseError } from "../core/errors.ts";
import { defineLibrary } from "./library.ts";
import { libc } from "./libc.ts";
import { cString, decodeCString, readCString, readPointer, writePointer, writeTimespec } from "./marshal.ts";
import { native } from "./native.ts";
import { NativeBuffer } from "./native_buffer.ts";
import { C, E, LAYOUT, errnoName } from "./platform.ts";
import type { Pointer } from "./types.ts";

function forceGc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(sync: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else throw new Error("run with --expose-gc (node) or --v8-flags=--expose-gc (deno)");
}

function loopbackAddress(port: number): Uint8Array {
  const a = new Uint8Array(LAYOUT.sockaddr_in.size);
  const v = new DataView(a.buffer);
  if (LAYOUT.sockaddrHasLen) v.setUint8(0, a.length);
  if (LAYOUT.sockaddrHasLen) v.setUint8(LAYOUT.sockaddr_in.family, C.AF_INET);
  else v.setUint16(LAYOUT.sockaddr_in.family, C.AF_INET, true);
  v.setUint16(LAYOUT.sockaddr_in.port, port, false);
  a.set([127, 0, 0, 1], LAYOUT.sockaddr_in.addr);
  return a;
}

/** A listening TCP socket on 127.0.0.1 with a kernel-chosen port. */
function listener(): { fd: number; port: number } {
  const c = libc();
  const fd = c.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  assert.ok(fd >= 0);
  assert.equal(c.bind(fd, loopbackAddress(0), LAYOUT.sockaddr_in.size), 0);
  assert.equal(c.listen(fd, 16), 0);
  const addr = new Uint8Array(LAYOUT.sockaddr_in.size);
  const len = new Uint32Array([addr.length]);
  assert.equal(c.getsockname(fd, addr, new Uint8Array(len.buffer)), 0);
  const port = new DataView(addr.buffer).getUint16(LAYOUT.sockaddr_in.port, false);
  return { fd, port };
}

/** A port with nothing listening: bind, read the port, close. */
function closedPort(): number {
  const { fd, port } = listener();
  libc().close(fd);
  return port;
}

describe("ffi: native backend", () => {
  test("reports its runtime and platform", () => {
    assert.ok(["deno", "bun", "node"].includes(native.runtime));
    assert.equal(native.os, "linux");
    assert.ok(native.arch === "x64" || native.arch === "arm64");
  });

  test("calls libc and returns numbers", () => {
    assert.equal(libc().abs(-42), 42);
    assert.equal(typeof libc().getpid(), "number");
    assert.ok(libc().getpid() > 0);
    assert.ok(libc().getppid() >= 0);
  });

  test("rejects fractional and out-of-range integers instead of truncating", () => {
    // close(1.5) must never close fd 1.
    assert.throws(() => libc().close(1.5), RangeError);
    assert.throws(() => libc().close(2 ** 31), RangeError);
    assert.throws(() => libc().close(Number.NaN), RangeError);
    assert.throws(() => libc().close("1" as unknown as number), TypeError);
    assert.throws(() => libc().usleep(-1), RangeError);
    assert.throws(() => libc().malloc(1.5), RangeError);
    assert.throws(() => libc().malloc(-1), RangeError);
    // -0 is an integer: passed as 0 (Deno alone would throw on it).
    assert.equal(libc().abs(-0), 0);
  });

  test("64-bit results come back as numbers", () => {
    const fd = libc().open(cString("/proc/self/stat"), C.O_RDONLY | C.O_CLOEXEC, 0);
    assert.ok(fd >= 0);
    const off = libc().lseek(fd, 3, C.SEEK_SET);
    assert.equal(off, 3);
    assert.equal(typeof off, "number");
    libc().close(fd);
  });

  test("errno is read right after a failing call", () => {
    assert.equal(libc().close(987654), -1);
    assert.equal(errnoName(native.errno()), "EBADF");
    assert.equal(libc().socket(12345, C.SOCK_STREAM, 0), -1);
    assert.equal(errnoName(native.errno()), "EAFNOSUPPORT");
  });
});

describe("ffi: sockets through libc", () => {
  test("blocking connect to a closed port fails with ECONNREFUSED", () => {
    const port = closedPort();
    const fd = libc().socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
    try {
      assert.equal(libc().connect(fd, loopbackAddress(port), LAYOUT.sockaddr_in.size), -1);
      assert.equal(native.errno(), E.ECONNREFUSED);
    } finally {
      libc().close(fd);
    }
  });

  test("non-blocking connect reports EINPROGRESS, then SO_ERROR tells the outcome", () => {
    const c = libc();
    const server = listener();
    const refusedPort = closedPort();
    const outcomes: string[] = [];
    for (const port of [server.port, refusedPort]) {
      const fd = c.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0);
      try {
        assert.equal(c.connect(fd, loopbackAddress(port), LAYOUT.sockaddr_in.size), -1);
        assert.equal(native.errno(), E.EINPROGRESS);
        const pfd = new Uint8Array(LAYOUT.pollfd.size);
        const pv = new DataView(pfd.buffer);
        pv.setInt32(LAYOUT.pollfd.fd, fd, true);
        pv.setInt16(LAYOUT.pollfd.events, C.POLLOUT, true);
        assert.equal(c.poll(pfd, 1, 5000), 1);
        const err = new Int32Array(1);
        const len = new Uint32Array([4]);
        assert.equal(
          c.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR, new Uint8Array(err.buffer), new Uint8Array(len.buffer)),
          0,
        );
        outcomes.push(err[0] === 0 ? "connected" : errnoName(err[0]!));
      } finally {
        c.close(fd);
      }
    }
    c.close(server.fd);
    assert.deepEqual(outcomes, ["connected", "ECONNREFUSED"]);
  });

  test("a socketpair carries bytes both ways", () => {
    const c = libc();
    const sv = new Int32Array(2);
    assert.equal(c.socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(sv.buffer)), 0);
    const msg = new TextEncoder().encode("ping");
    assert.equal(c.send(sv[0]!, msg, msg.length, C.MSG_NOSIGNAL), 4);
    const buf = new Uint8Array(16);
    assert.equal(c.recv(sv[1]!, buf, buf.length, 0), 4);
    assert.equal(new TextDecoder().decode(buf.subarray(0, 4)), "ping");
    c.close(sv[0]!);
    c.close(sv[1]!);
  });
});

describe("ffi: native memory", () => {
  test("a NativeBuffer keeps its address across forced GC", () => {
    const buf = NativeBuffer.alloc(4096);
    const before = native.address(buf.pointer);
    buf.bytes[0] = 7;
    const garbage: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) garbage.push(new Uint8Array(64 * 1024));
    garbage.length = 0;
    forceGc();
    forceGc();
    assert.equal(native.address(buf.pointer), before);
    assert.equal(buf.bytes[0], 7);
    // C sees the same memory that JavaScript wrote.
    const copy = new Uint8Array(4);
    libc().memcpy(copy, buf.pointer, 4);
    assert.deepEqual([...copy], [7, 0, 0, 0]);
    buf.free();
  });

  test("a freed NativeBuffer throws on use and frees once", () => {
    const buf = NativeBuffer.alloc(64);
    const bytes = buf.bytes;
    buf.free();
    buf.free();
    assert.equal(buf.freed, true);
    assert.throws(() => buf.bytes, UseAfterCloseError);
    assert.throws(() => buf.pointer, UseAfterCloseError);
    assert.throws(() => buf.view, UseAfterCloseError);
    // Where the engine can detach (Deno, Bun, Node >= 22) an old view goes empty.
    if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function") {
      assert.equal(bytes.length, 0);
    }
  });

  test("an abandoned NativeBuffer is never freed, not even by the collector once dropped (a kernel may still write it)", async () => {
    const size = 4096;
    let buf: NativeBuffer | undefined = NativeBuffer.alloc(size);
    const address = native.address(buf.pointer);
    // What a late writer (the kernel, another thread) puts there.
    const writer = new Uint8Array(native.view(buf.pointer, size));
    writer.fill(0x5a);
    buf.abandon();
    assert.equal(buf.freed, true);
    assert.throws(() => buf!.pointer, UseAfterCloseError);
    buf.free(); // no effect
    buf = undefined;
    // Let the safety net run, if it would: a collection, then its callbacks.
    for (let round = 0; round < 3; round++) {
      forceGc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Memory still owned by nobody in JavaScript is not handed out again.
    const others: NativeBuffer[] = [];
    try {
      for (let i = 0; i < 64; i++) {
        others.push(NativeBuffer.alloc(size));
        assert.notEqual(native.address(others.at(-1)!.pointer), address);
      }
      assert.ok(writer.every((b) => b === 0x5a), "the abandoned memory was reused");
    } finally {
      for (const other of others) other.free();
    }
  });

  test("NativeBuffer rejects bad sizes and bounds-checks pointerAt", () => {
    assert.throws(() => NativeBuffer.alloc(-1), RangeError);
    assert.throws(() => NativeBuffer.alloc(1.5), RangeError);
    using buf = NativeBuffer.from(new Uint8Array([1, 2, 3]));
    assert.equal(native.address(buf.pointerAt(2)) - native.address(buf.pointer), 2n);
    assert.throws(() => buf.pointerAt(4), RangeError);
  });

  test("C strings in and out, pointer-sized values", () => {
    assert.deepEqual([...cString("hi")], [104, 105, 0]);
    assert.throws(() => cString("a\0b"), TypeError);
    assert.equal(readCString(libc().strerror(E.ENOENT!)), "No such file or directory");
    assert.equal(readCString(null), "");
    assert.equal(decodeCString(new Uint8Array([0x68, 0x69, 0, 0x78])), "hi");
    using buf = NativeBuffer.from(cString("héllo"));
    assert.equal(readCString(buf.pointer), "héllo");
    assert.equal(readCString(buf.pointer, 2), "h\ufffd");
    const view = new DataView(new ArrayBuffer(16));
    writePointer(view, 8, buf.pointer);
    assert.equal(native.address(readPointer(view, 8)), native.address(buf.pointer));
    writePointer(view, 0, null);
    assert.equal(readPointer(view, 0), null);
  });

  test("timespecs from milliseconds (fractions round up)", () => {
    const view = new DataView(new ArrayBuffer(48));
    writeTimespec(view, 16, 1500.2);
    assert.equal(view.getBigInt64(16 + LAYOUT.timespec.sec, true), 1n);
    assert.equal(view.getBigInt64(16 + LAYOUT.timespec.nsec, true), 501_000_000n);
    writeTimespec(view, 0, -5);
    assert.equal(view.getBigInt64(LAYOUT.timespec.sec, true), 0n);
    assert.equal(view.getBigInt64(LAYOUT.timespec.nsec, true), 0n);
  });

  test("pointer arithmetic round-trips through addresses", () => {
    using buf = NativeBuffer.alloc(32);
    const p = buf.pointer;
    const q = native.offset(p, 16);
    assert.equal(native.address(q), native.address(p) + 16n);
    assert.equal(native.address(native.pointer(native.address(q))), native.address(q));
    assert.equal(native.pointer(0n), null);
    assert.equal(native.address(null), 0n);
  });
});

describe("ffi: callbacks and helper threads", () => {
  test("qsort calls a JavaScript comparator", () => {
    const values = new Int32Array([42, -7, 19, 0, 1000, 3, -7]);
    const readInt = (p: Pointer) => new Int32Array(native.view(p, 4))[0]!;
    let calls = 0;
    const cmp = native.callback(
      { args: ["pointer", "pointer"], result: "i32" },
      ((a: Pointer, b: Pointer) => {
        calls++;
        return readInt(a) - readInt(b);
      }) as never,
    );
    try {
      libc().qsort(new Uint8Array(values.buffer), values.length, 4, cmp.pointer);
    } finally {
      cmp.close();
      cmp.close();
    }
    assert.ok(calls > 0);
    assert.deepEqual([...values], [-7, -7, 0, 3, 19, 42, 1000]);
  });

  test("a length past the end of a JavaScript buffer throws NativeBoundsError and never reaches C", () => {
    const c = libc();
    const fds = new Int32Array(2);
    assert.equal(c.pipe(new Uint8Array(fds.buffer)), 0);
    try {
      const [r, w] = [fds[0]!, fds[1]!];
      const small = new Uint8Array(64).subarray(60); // 4 bytes inside a larger ArrayBuffer
      assert.throws(() => c.write(w, small, 5), NativeBoundsError);
      assert.equal(c.write(w, small.fill(7), 4), 4);
      assert.throws(() => c.read(r, small, 5), NativeBoundsError); // read would have written a byte past the view
      assert.equal(c.read(r, small, 4), 4);
      assert.throws(() => c.writev(w, new Uint8Array(LAYOUT.iovec.size), 2), NativeBoundsError);
      assert.throws(() => c.poll(new Uint8Array(LAYOUT.pollfd.size), 2, 0), NativeBoundsError);
    } finally {
      c.close(fds[0]!);
      c.close(fds[1]!);
    }
  });

  test("an off-thread poll returns while runtime timers keep firing", async () => {
    const c = libc();
    const fds = new Int32Array(2);
    assert.equal(c.pipe(new Uint8Array(fds.buffer)), 0);
    const pollfd = NativeBuffer.alloc(LAYOUT.pollfd.size);
    pollfd.view.setInt32(LAYOUT.pollfd.fd, fds[0]!, true);
    pollfd.view.setInt16(LAYOUT.pollfd.events, C.POLLIN, true);
    const wait = native.offThread(libc.path(), "poll", libc.definition.symbols.poll);
    assert.equal(wait.canUnref, native.runtime !== "deno");
    // A worker-based helper reports ready only from its first message (never
    // synchronously); Deno's nonblocking calls are ready at once.
    assert.equal(wait.ready, native.runtime === "deno");
    try {
      // The parked wait may last up to 10 s; the timer chain ends it early.
      const parked = wait.call(pollfd.pointer, 1, 10_000);
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          ticks++;
          if (ticks === 5) {
            c.write(fds[1]!, new Uint8Array([1]), 1);
            resolve();
          } else setTimeout(tick, 10);
        };
        setTimeout(tick, 10);
      });
      const r = await parked;
      assert.equal(wait.ready, true); // it ran a call, so it booted
      assert.equal(ticks, 5);
      assert.equal(r.result, 1);
      assert.equal(pollfd.view.getInt16(LAYOUT.pollfd.revents, true) & C.POLLIN, C.POLLIN);
      // A failing call reports errno from the helper thread where it can.
      const bad = await wait.call(null, 1, 0);
      assert.equal(bad.result, -1);
      if (native.runtime !== "deno") assert.equal(errnoName(bad.errno), "EFAULT");
    } finally {
      wait.close();
      pollfd.free();
      c.close(fds[0]!);
      c.close(fds[1]!);
    }
  });
});

describe("ffi: library loading", () => {
  test("a missing library gives FFIUnavailableError with a hint", () => {
    const missing = defineLibrary({
      name: "libmissing",
      env: "FFINET_TEST_LIBMISSING",
      candidates: { "*": ["libffinet-does-not-exist.so.9"], linux: ["libffinet-does-not-exist.so.9"] },
      hint: "install libmissing",
      symbols: { nothing: { args: [], result: "void" } },
    });
    assert.equal(missing.loaded, false);
    assert.throws(() => missing(), (err: unknown) => {
      assert.ok(err instanceof FFIUnavailableError);
      assert.equal(err.code, "ERR_FFI_UNAVAILABLE");
      assert.match(err.message, /install libmissing/);
      assert.match(err.message, /FFINET_TEST_LIBMISSING/);
      return true;
    });
  });

  test("the environment variable overrides the search", () => {
    const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process!.env;
    env.FFINET_TEST_LIBOVERRIDE = "/nonexistent/libz.so.1";
    try {
      const lib = defineLibrary({
        name: "liboverride",
        env: "FFINET_TEST_LIBOVERRIDE",
        candidates: { "*": ["libz.so.1"], linux: ["libz.so.1"] },
        hint: "x",
        symbols: { zlibVersion: { args: [], result: "pointer" } },
      });
      assert.throws(() => lib(), /tried \/nonexistent\/libz\.so\.1/);
    } finally {
      delete env.FFINET_TEST_LIBOVERRIDE;
    }
  });

  test("optional symbols that a library lacks resolve to undefined", () => {
    const lib = defineLibrary({
      name: "libc-optional",
      env: "FFINET_TEST_LIBC_OPTIONAL",
      candidates: { "*": ["libc.so.6"], linux: ["libc.so.6"] },
      hint: "x",
      symbols: {
        getpid: { args: [], result: "i32" },
        ffinet_no_such_symbol: { args: [], result: "i32", optional: true },
      },
    });
    assert.equal(lib().ffinet_no_such_symbol, undefined);
    assert.equal(lib().getpid(), libc().getpid());
    assert.equal(lib.path(), "libc.so.6");
  });
});
