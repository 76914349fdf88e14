/**
 * WebSocket frame hot paths, ffinet against the npm `ws` Receiver and
 * Sender (`ws/lib/receiver.js`, `ws/lib/sender.js`) in the same run, ws
 * both with its optional native `bufferutil` (masking in C++ from 48 bytes,
 * unmasking from 32) and without it (`WS_NO_BUFFER_UTIL=1`: its JavaScript
 * loops); the two copies of ws are loaded side by side from a cleared
 * require cache. Ours masks with JavaScript word loops and, for longer
 * payloads, WebAssembly SIMD (`ws/mask_wasm.ts`): no native code, so every
 * payload is copied into the module's memory and back.
 *
 * - parse+unmask: one masked binary client frame fed to a server-side
 *   receiver, message delivered (both unmask in place, no UTF-8 check);
 * - mask+serialize: one binary frame masked with a fresh key into a new
 *   buffer, header included (ws: `Sender.frame` with `readOnly: true`, which
 *   merges header and masked copy into one buffer, as we do; ours:
 *   `Sender.frame`, which cuts small frames from a shared slab);
 * - mask+serialize into a buffer: ours writing the frame into a reused
 *   buffer with `Sender.frameInto` (no allocation: what a connection does
 *   with its outbound buffer); ws has no such API, so its row is the same
 *   allocating `Sender.frame`.
 *
 * for 16 B, 1 KiB and 64 KiB payloads; and, for 64 KiB, the floor of any
 * allocating sender (a new buffer and a plain copy of the payload, no
 * masking) against ws+bufferutil's mask+serialize. The ws receiver is
 * driven through `_write`, skipping the Writable stream machinery, to give
 * it its cheapest path.
 *
 * @module
 */
import process from "node:process";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { compare, finish } from "./harness.ts";
import { wasmReadBuffer } from "../core/mask_wasm.ts";
import { Receiver } from "../ws/receiver.ts";
import { Sender } from "../ws/sender.ts";

const require = createRequire(import.meta.url);
interface WsReceiver {
  on(event: "message", fn: (data: Buffer, isBinary: boolean) => void): void;
  on(event: "error", fn: (err: Error) => void): void;
  _write(chunk: Buffer, encoding: string, cb: (err?: Error) => void): void;
}
interface WsLib {
  Receiver: new (options: { isServer: boolean; maxPayload: number }) => WsReceiver;
  Sender: {
    frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[];
  };
  bufferutil: boolean;
}
// The files themselves, by path: ws's package exports do not list them,
// and Bun swaps the "ws" package for its own (which has no Receiver).
const wsLib = (file: string): string => fileURLToPath(new URL(`../node_modules/ws/lib/${file}`, import.meta.url));

/** A fresh copy of ws's receiver and sender, with or without bufferutil. */
function loadWs(withBufferutil: boolean): WsLib {
  for (const f of ["buffer-util.js", "sender.js", "receiver.js", "permessage-deflate.js"]) delete require.cache[wsLib(f)];
  if (withBufferutil) delete process.env.WS_NO_BUFFER_UTIL;
  else process.env.WS_NO_BUFFER_UTIL = "1";
  const mask = (require(wsLib("buffer-util.js")) as { mask: () => void }).mask;
  return {
    Receiver: require(wsLib("receiver.js")) as WsLib["Receiver"],
    Sender: require(wsLib("sender.js")) as WsLib["Sender"],
    bufferutil: mask.toString().includes("bufferUtil"),
  };
}
const plain = loadWs(false);
const native = loadWs(true);
delete process.env.WS_NO_BUFFER_UTIL;
console.log(`ws bufferutil: ${native.bufferutil ? "loaded" : "absent"} (second copy: ${plain.bufferutil ? "loaded" : "off"})`);
const peers = native.bufferutil ? [["ws", plain], ["ws+bufferutil", native]] as const : [["ws", plain]] as const;

let received = 0;
const ours = new Receiver({
  role: "server",
  maxFrameBytes: 1 << 24,
  handler: { onMessage: (d) => void (received += d.length), onPing() {}, onPong() {}, onClose() {} },
});
const noop = (): void => {};

const client = new Sender({ role: "client" });
const scratch = new Uint8Array(client.frameSize(65536));

for (const [label, size] of [["16 B", 16], ["1 KiB", 1024], ["64 KiB", 65536]] as const) {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31) & 0xff;
  const frame = client.frame(0x2, payload, true, false);
  const oursFrame = frame.slice();
  // The same frame where a connection receives it: the read buffer that
  // lives in the masking module's memory (core/mask_wasm.ts), unmasked in
  // place there with no copy.
  const readBuffer = wasmReadBuffer();
  const oursInReadBuffer = readBuffer === null ? oursFrame : readBuffer.subarray(0, frame.length);
  oursInReadBuffer.set(frame);
  const peerFrame = Buffer.from(frame);
  const peerPayload = Buffer.from(payload);
  const options = { fin: true, mask: true, opcode: 2, readOnly: true, rsv1: false };

  for (const [peerName, ws] of peers) {
    const peer = new ws.Receiver({ isServer: true, maxPayload: 1 << 24 });
    peer.on("message", (d) => void (received += d.length));
    peer.on("error", (err) => {
      throw err;
    });
    await compare({ bench: "ws_frames", case: `parse+unmask ${label}` }, {
      ours: () => ours.push(oursFrame),
      peer: () => peer._write(peerFrame, "buffer", noop),
      peerName: `${peerName} Receiver`,
      unit: "MB/s",
      unitsPerCall: size,
    });
    await compare({ bench: "ws_frames", case: `parse+unmask from the read buffer ${label}` }, {
      ours: () => ours.push(oursInReadBuffer),
      peer: () => peer._write(peerFrame, "buffer", noop),
      peerName: `${peerName} Receiver`,
      unit: "MB/s",
      unitsPerCall: size,
    });
    await compare({ bench: "ws_frames", case: `mask+serialize ${label}` }, {
      ours: () => client.frame(0x2, payload, true, false),
      peer: () => ws.Sender.frame(peerPayload, options),
      peerName: `${peerName} Sender`,
      unit: "MB/s",
      unitsPerCall: size,
    });
    await compare({ bench: "ws_frames", case: `mask+serialize into buffer ${label}` }, {
      ours: () => client.frameInto(scratch, 0, 0x2, payload, true, false),
      peer: () => ws.Sender.frame(peerPayload, options),
      peerName: `${peerName} Sender`,
      unit: "MB/s",
      unitsPerCall: size,
    });
  }
  if (size === 65536 && native.bufferutil) {
    // The floor of any allocating sender: a new buffer and one plain copy
    // of the payload into it, no masking and no header. Its ratio is the
    // best that allocating mask+serialize can show against ws+bufferutil.
    // The copy lands 16-byte aligned, as our sender places payloads: Bun
    // copies into a whole new Uint8Array at offset 14 five times slower.
    const total = client.frameSize(size);
    const pad = (16 - ((total - size) & 15)) & 15;
    await compare({ bench: "ws_frames", case: `floor: new buffer + plain copy ${label}` }, {
      ours: () => new Uint8Array(new ArrayBuffer(pad + total), pad, total).set(payload, total - size),
      peer: () => native.Sender.frame(peerPayload, options),
      peerName: "ws+bufferutil Sender",
      unit: "MB/s",
      unitsPerCall: size,
    });
  }
}
if (received === 0) throw new Error("nothing was received");
finish();
