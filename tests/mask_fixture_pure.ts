// Child process for ffi/mask_native_test.ts: run with FFINET_PURE_MASK=1, or
// on Deno without --allow-ffi; masks 5000 bytes and reports which path ran.
import { nativeMasker, nativeMaskUnavailableReason } from "../ffi/mask_native.ts";
import { applyMaskTo } from "../ws/frame.ts";

const data = new Uint8Array(5000).map((_, i) => i * 7);
const out = new Uint8Array(5003);
applyMaskTo(data, 0, out, 3, data.length, new Uint8Array([9, 8, 7, 6]), 1);
const ok = out.subarray(3).every((b, i) => b === (data[i]! ^ [8, 7, 6, 9][i & 3]!));
console.log(JSON.stringify({ masker: nativeMasker() === null ? null : "loaded", reason: nativeMaskUnavailableReason(), ok }));
