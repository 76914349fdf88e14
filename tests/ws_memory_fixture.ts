// Child for ws_receiver_memory_test.ts: runs one scenario in a fresh
// process and prints the peak RSS growth (VmHWM after resetting it through
// /proc/self/clear_refs, minus VmRSS at the reset), so a transient peak
// inside one push counts and nothing freed earlier hides it.
import { readFileSync, writeFileSync } from "node:fs";
import { Deflater } from "../core/zlib.ts";
import { PerMessageDeflate } from "../ws/deflate.ts";
import { Receiver } from "../ws/receiver.ts";

const MiB = 1024 * 1024;
const LIMIT = 64 * MiB;
const CHUNK = 256 * 1024;

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) * 1024;
}

/** Unmasked (server to client) frame header. */
function header(opcode: number, fin: boolean, length: number, rsv1 = false): Uint8Array {
  const h = new Uint8Array(10);
  h[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  h[1] = 127;
  new DataView(h.buffer).setUint32(2, Math.floor(length / 2 ** 32));
  new DataView(h.buffer).setUint32(6, length >>> 0);
  return h;
}

const scenario = process.argv[2];
let received = 0;
let error = "";
const handler = {
  onMessage: (data: Uint8Array) => (received = data.length),
  onPing() {},
  onPong() {},
  onClose() {},
};

// Inputs are made before the measurement starts.
const frames: [Uint8Array, Uint8Array[]][] = [];
let decompressor: PerMessageDeflate | null = null;
const block = new Uint8Array(CHUNK).fill(7);
const payload = (size: number): Uint8Array[] => Array.from({ length: Math.ceil(size / CHUNK) }, (_, i) => block.subarray(0, Math.min(CHUNK, size - i * CHUNK)));
if (scenario === "single") {
  frames.push([header(2, true, LIMIT), payload(LIMIT)]);
} else if (scenario === "fragments" || scenario === "uneven") {
  const sizes = scenario === "fragments" ? Array<number>(64).fill(MiB) : [MiB / 2, 40 * MiB, 23 * MiB, MiB / 2];
  sizes.forEach((size, i) => frames.push([header(i === 0 ? 2 : 0, i === sizes.length - 1, size), payload(size)]));
} else if (scenario === "bomb") {
  // 256 MiB of zeros as one raw deflate stream, made 1 MiB at a time.
  const def = new Deflater({ format: "raw" });
  const parts: Uint8Array[] = [];
  const zeros = new Uint8Array(MiB);
  for (let i = 0; i < 256; i++) parts.push(...def.push(zeros, i === 255 ? "sync" : "none"));
  def.close();
  const size = parts.reduce((n, p) => n + p.length, 0);
  frames.push([header(2, true, size, true), parts]);
  const accepted = PerMessageDeflate.acceptOffer(PerMessageDeflate.offer(), {});
  decompressor = PerMessageDeflate.fromResponse(accepted!.responseHeader, {});
} else {
  throw new Error(`unknown scenario ${scenario}`);
}

const rx = new Receiver({ role: "client", handler, decompressor, maxMessageBytes: LIMIT, maxFrameBytes: LIMIT, maxBufferedBytes: LIMIT });
writeFileSync("/proc/self/clear_refs", "5");
const base = status("VmRSS");
try {
  for (const [head, chunks] of frames) {
    rx.push(head);
    for (const c of chunks) rx.push(c);
  }
} catch (err) {
  error = String(err);
}
const peak = status("VmHWM") - base;
decompressor?.close();
console.log(JSON.stringify({ peak, received, error }));
