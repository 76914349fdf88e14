/**
 * WebSocket frame hot paths, ffinet against the npm `ws` Receiver and
 * Sender (`ws/lib/receiver.js`, `ws/lib/sender.js`) in the same run:
 *
 * - parse+unmask: one masked binary client frame fed to a server-side
 *   receiver, message delivered (both unmask in place, no UTF-8 check);
 * - mask+serialize: one binary frame masked with a fresh key into a new
 *   buffer, header included (ws: `Sender.frame` with `readOnly: true`, which
 *   merges header and masked copy into one buffer, as we do).
 *
 * for 16 B, 1 KiB and 64 KiB payloads. ws's optional native `bufferutil`
 * is not installed here (nor may we add it), so ws masks with its
 * JavaScript fallback; the "with bufferutil" comparison is not measured.
 * The ws receiver is driven through `_write`, skipping the Writable stream
 * machinery, to give it its cheapest path.
 *
 * @module
 */
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { compare, finish } from "./harness.ts";
import { Receiver } from "../ws/receiver.ts";
import { Sender } from "../ws/sender.ts";

const require = createRequire(import.meta.url);
interface WsReceiver {
  on(event: "message", fn: (data: Buffer, isBinary: boolean) => void): void;
  on(event: "error", fn: (err: Error) => void): void;
  _write(chunk: Buffer, encoding: string, cb: (err?: Error) => void): void;
}
// The files themselves, by path: ws's package exports do not list them,
// and Bun swaps the "ws" package for its own (which has no Receiver).
const wsLib = (file: string): string => fileURLToPath(new URL(`../node_modules/ws/lib/${file}`, import.meta.url));
const ws = {
  Receiver: require(wsLib("receiver.js")) as new (options: { isServer: boolean; maxPayload: number }) => WsReceiver,
  Sender: require(wsLib("sender.js")) as {
    frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[];
  },
};
const WsReceiver = ws.Receiver;
const WsSender = ws.Sender;
let bufferutil = "absent";
try {
  createRequire(wsLib("buffer-util.js")).resolve("bufferutil");
  bufferutil = "present";
} catch { /* not installed */ }
console.log(`ws bufferutil: ${bufferutil}`);

let received = 0;
const ours = new Receiver({
  role: "server",
  maxFrameBytes: 1 << 24,
  handler: { onMessage: (d) => void (received += d.length), onPing() {}, onPong() {}, onClose() {} },
});
const peer = new WsReceiver({ isServer: true, maxPayload: 1 << 24 });
peer.on("message", (d) => void (received += d.length));
peer.on("error", (err) => {
  throw err;
});
const noop = (): void => {};

const client = new Sender({ role: "client" });

for (const [label, size] of [["16 B", 16], ["1 KiB", 1024], ["64 KiB", 65536]] as const) {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31) & 0xff;
  const frame = client.frame(0x2, payload, true, false);
  const oursFrame = frame.slice();
  const peerFrame = Buffer.from(frame);

  await compare({ bench: "ws_frames", case: `parse+unmask ${label}` }, {
    ours: () => ours.push(oursFrame),
    peer: () => peer._write(peerFrame, "buffer", noop),
    peerName: "ws Receiver",
    unit: "MB/s",
    unitsPerCall: size,
  });

  const peerPayload = Buffer.from(payload);
  const options = { fin: true, mask: true, opcode: 2, readOnly: true, rsv1: false };
  await compare({ bench: "ws_frames", case: `mask+serialize ${label}` }, {
    ours: () => client.frame(0x2, payload, true, false),
    peer: () => WsSender.frame(peerPayload, options),
    peerName: "ws Sender",
    unit: "MB/s",
    unitsPerCall: size,
  });
}
if (received === 0) throw new Error("nothing was received");
finish();
