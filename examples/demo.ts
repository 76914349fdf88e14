/**
 * The main demo (`npm start`): shows the FFI layer working on the current
 * runtime with a socketpair round trip, a zlib round trip and a callback.
 * Later issues turn this into the HTTP/WebSocket demo server.
 *
 * Run it on each runtime:
 *   node --import tsx examples/demo.ts
 *   deno run --allow-ffi --allow-env examples/demo.ts
 *   bun examples/demo.ts
 */
import { Deflater, Inflater } from "../core/zlib.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C } from "../ffi/platform.ts";
import { check } from "../core/sys_error.ts";

const c = libc();
console.log(`ffinet on ${native.runtime} (${native.os}/${native.arch}), pid ${c.getpid()}`);

// A socketpair round trip through libc.
const sv = new Int32Array(2);
check(c.socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(sv.buffer)), "socketpair");
const message = new TextEncoder().encode("hello through the kernel");
check(c.send(sv[0]!, message, message.length, C.MSG_NOSIGNAL), "send");
const buf = new Uint8Array(64);
const n = check(c.recv(sv[1]!, buf, buf.length, 0), "recv");
console.log(`socketpair: fd ${sv[0]} -> fd ${sv[1]}: "${new TextDecoder().decode(buf.subarray(0, n))}"`);
c.close(sv[0]!);
c.close(sv[1]!);

// A gzip round trip through libz.
const text = new TextEncoder().encode("ffinet ".repeat(1000));
const deflater = new Deflater({ format: "gzip" });
const packed = deflater.push(text, "finish");
deflater.close();
const inflater = new Inflater({ format: "gzip" });
const unpacked = packed.flatMap((p) => inflater.push(p));
inflater.close();
const packedBytes = packed.reduce((s, p) => s + p.length, 0);
const unpackedBytes = unpacked.reduce((s, p) => s + p.length, 0);
console.log(`zlib: ${text.length} bytes -> ${packedBytes} gzip bytes -> ${unpackedBytes} bytes`);

// A C callback: qsort calls back into JavaScript.
const values = new Int32Array([5, 3, 9, 1, 7]);
const cmp = native.callback({ args: ["pointer", "pointer"], result: "i32" }, ((a: never, b: never) =>
  new Int32Array(native.view(a, 4))[0]! - new Int32Array(native.view(b, 4))[0]!) as never);
c.qsort(new Uint8Array(values.buffer), values.length, 4, cmp.pointer);
cmp.close();
console.log(`qsort with a JavaScript comparator: ${[...values].join(", ")}`);
