// The WebSocket client against a server whose permessage-deflate messages
// end inside a deflate block (client red team, third round): RFC 7692
// §7.2.1 has every message end between blocks (an empty stored block, whose
// last 4 bytes the sender drops and the receiver appends) or with a BFINAL
// block. A message cut inside a stored block took the appended 00 00 ff ff
// as its content, was handed over, and the server's next message went on
// filling that block; it is now 1007, no message. Legal shapes still read:
// BFINAL blocks, a message split over fragments, an empty message sent as
// 0x00 or as no bytes at all.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import zlib from "node:zlib";
import { createHash } from "node:crypto";
import { connectWebSocket } from "../ws/client.ts";

const accept = (key: string): string => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");

/** An unmasked frame; RSV1 (compressed) unless `rsv1` is false. */
function frame(op: number, payload: Uint8Array | number[], fin = true, rsv1 = true): Buffer {
  const p = Buffer.from(payload);
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op;
  if (p.length < 126) return Buffer.concat([Buffer.from([b0, p.length]), p]);
  return Buffer.concat([Buffer.from([b0, 126, p.length >> 8, p.length & 255]), p]);
}
/** A message compressed as RFC 7692 §7.2.1 says: a sync flush, its last 4 bytes dropped. */
const deflated = (text: string): Buffer => zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
const CLOSE = frame(8, [0x03, 0xe8], true, false);

let server: net.Server;
let port = 0;
let frames: Buffer[] = [];

before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    let head = "";
    let done = false;
    sock.on("data", (d: Buffer) => {
      if (done) return;
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      done = true;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
      sock.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
      );
      sock.end(Buffer.concat(frames));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Connects, reads every message until the end, and returns them with the close code. */
async function exchange(sent: Buffer[]): Promise<{ messages: Array<string | number[]>; code: number }> {
  frames = sent;
  const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
  const messages: Array<string | number[]> = [];
  for (;;) {
    const m = await ws.recv();
    if (m === null) break;
    messages.push(typeof m.data === "string" ? m.data : [...m.data]);
  }
  return { messages, code: (await ws.closed).code };
}

// A stored block (BFINAL 0, BTYPE 00) announcing `length` bytes, with `has` of them.
const cutStored = (length: number, has: number): number[] => [0x00, length & 255, length >> 8, ~length & 255, (~length >> 8) & 255, ...new Array<number>(has).fill(0x61)];

const CUT: Array<[string, number[]]> = [
  ["a stored block of 6 bytes with 1", cutStored(6, 1)],
  ["a stored block of 100 bytes with 3", cutStored(100, 3)],
  ["a stored block header without its length's last byte", [0x00, 0x05, 0x00, 0xfa]],
];

describe("WebSocket client: permessage-deflate messages that end inside a deflate block", () => {
  for (const [name, bytes] of CUT) {
    test(`binary, ${name}: 1007, no message (the next message is not read into the block)`, async () => {
      const r = await exchange([frame(2, bytes), frame(1, deflated("next")), CLOSE]);
      assert.deepEqual(r.messages, []);
      assert.equal(r.code, 1007);
    });
  }

  test("the same cut over two fragments: 1007, no message", async () => {
    const r = await exchange([frame(2, [0x00, 0x64, 0x00], false), frame(0, [0x9b, 0xff, 0x61], true, false), frame(1, deflated("next")), CLOSE]);
    assert.deepEqual(r.messages, []);
    assert.equal(r.code, 1007);
  });

  test("legal shapes still read: sync-flushed, BFINAL, over fragments, empty as 0x00 and as no bytes", async () => {
    const whole = deflated("hello");
    const r = await exchange([
      frame(1, deflated("one")),
      frame(1, zlib.deflateRawSync(Buffer.from("final"))), // a BFINAL block: the next message starts a new stream
      frame(1, deflated("two")),
      frame(1, whole.subarray(0, 2), false),
      frame(0, whole.subarray(2), true, false),
      frame(1, [0x00]),
      frame(2, []),
      frame(1, deflated("three")),
      CLOSE,
    ]);
    assert.deepEqual(r.messages, ["one", "final", "two", "hello", "", [], "three"]);
    assert.equal(r.code, 1000);
  });
});
