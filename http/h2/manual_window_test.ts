// autoWindowUpdate: false — the application credits what it consumes; the
// padding of DATA frames (and their Pad Length octet), which it never sees,
// is credited by the core, or padded DATA would use the windows up for good.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Flag, FrameType } from "./constants.ts";
import { frame, REQ, Script } from "./peer_test.ts";

function windowUpdates(s: Script): Map<number, number> {
  const sums = new Map<number, number>();
  for (const f of s.out()) {
    if (f.type !== FrameType.WINDOW_UPDATE) continue;
    const inc = new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0) & 0x7fffffff;
    sums.set(f.streamId, (sums.get(f.streamId) ?? 0) + inc);
  }
  return sums;
}

/** A DATA frame on stream 1 with `n` payload octets and 255 octets of padding. */
function padded(n: number): Uint8Array {
  const payload = new Uint8Array(1 + n + 255);
  payload[0] = 255;
  return frame(FrameType.DATA, Flag.PADDED, 1, payload);
}

test("padded DATA without autoWindowUpdate: the padding is credited without consume()", () => {
  const s = new Script("server", { autoWindowUpdate: false });
  s.send(s.headers(1, REQ, Flag.END_HEADERS));
  s.out();
  // 130 frames x 256 octets of padding: past half of both 65,535-octet windows.
  for (let i = 0; i < 130; i++) {
    const events = s.send(padded(20));
    assert.equal(events.length, 1);
  }
  const padding = 130 * 256;
  const first = windowUpdates(s);
  // Credited once half a window is used, and only padding: no payload was consumed.
  for (const id of [0, 1]) {
    const inc = first.get(id) ?? 0;
    assert.ok(inc >= 32768 && inc <= padding, `stream ${id}: ${inc} of ${padding} octets of padding credited`);
  }
});
