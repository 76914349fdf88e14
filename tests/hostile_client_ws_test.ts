// The WebSocket client (connectWebSocket) against a hostile server on a raw
// socket: a wrong 101 (bad Sec-WebSocket-Accept, an extension or
// subprotocol not offered) is an HTTPError ERR_WS_HANDSHAKE; after the
// handshake, masked frames, bad control frames, reserved bits and opcodes,
// a continuation without a start and a 2^63 length close with 1002,
// invalid UTF-8 (whole, split over fragments, in a close reason) with
// 1007, a length past maxPayload with 1009: never a message, a crash or a hang.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { HTTPError } from "../core/errors.ts";
import { connectWebSocket } from "../ws/client.ts";

const accept = (key: string): string => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");

function frame(op: number, payload: number[], fin = true, mask = false, rsv = 0): Buffer {
  const head = [(fin ? 0x80 : 0) | rsv | op, (mask ? 0x80 : 0) | payload.length];
  if (!mask) return Buffer.from([...head, ...payload]);
  const key = [1, 2, 3, 4];
  return Buffer.from([...head, ...key, ...payload.map((b, i) => b ^ key[i % 4]!)]);
}

const HANDSHAKES: Array<[string, (key: string) => string, RegExp]> = [
  ["a wrong Sec-WebSocket-Accept", () => "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n", /Sec-WebSocket-Accept/],
  ["no Sec-WebSocket-Accept", () => "", /Sec-WebSocket-Accept/],
  ["an extension not offered", (k) => `Sec-WebSocket-Accept: ${accept(k)}\r\nSec-WebSocket-Extensions: x-foo\r\n`, /extensions/],
  ["a subprotocol not offered", (k) => `Sec-WebSocket-Accept: ${accept(k)}\r\nSec-WebSocket-Protocol: chat\r\n`, /subprotocol/],
];

const FRAMES: Array<[string, Buffer[], number]> = [
  ["a masked frame", [frame(1, [0x68, 0x69], true, true)], 1002],
  ["a 126-byte ping", [Buffer.concat([Buffer.from([0x89, 126, 0, 126]), Buffer.alloc(126)])], 1002],
  ["a fragmented ping", [frame(9, [0x61], false)], 1002],
  ["a close code 1005 on the wire", [frame(8, [0x03, 0xed])], 1002],
  ["a one-byte close payload", [frame(8, [0x03])], 1002],
  ["RSV1 without an extension", [frame(1, [0x68], true, false, 0x40)], 1002],
  ["a reserved opcode", [frame(3, [0x68])], 1002],
  ["a continuation without a start", [frame(0, [0x68])], 1002],
  ["a length with the top bit set", [Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1])], 1002],
  ["invalid UTF-8 in a text message", [frame(1, [0xc3, 0x28])], 1007],
  ["invalid UTF-8 split over fragments", [frame(1, [0xe2, 0x82], false), frame(0, [0x28])], 1007],
  ["invalid UTF-8 in a close reason", [frame(8, [0x03, 0xe8, 0xff])], 1007],
  ["a length of 2^63-1", [Buffer.from([0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])], 1009],
];

let server: net.Server;
let port = 0;
let headers: (key: string) => string = (k) => `Sec-WebSocket-Accept: ${accept(k)}\r\n`;
let frames: Buffer[] = [];

before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    let buf = "";
    let done = false;
    sock.on("data", (d: Buffer) => {
      if (done) return;
      buf += d.toString("latin1");
      if (!buf.includes("\r\n\r\n")) return;
      done = true;
      const key = /sec-websocket-key: *(\S+)/i.exec(buf)![1]!;
      sock.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + headers(key) + "\r\n");
      for (const f of frames) sock.write(f);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("WebSocket client against a hostile server", () => {
  for (const [name, make, message] of HANDSHAKES) {
    test(`handshake: ${name}: ERR_WS_HANDSHAKE`, async () => {
      headers = make;
      frames = [];
      await assert.rejects(connectWebSocket(`ws://127.0.0.1:${port}/`), (err: unknown) => {
        assert.ok(err instanceof HTTPError, String(err));
        assert.equal(err.code, "ERR_WS_HANDSHAKE");
        assert.match(err.message, message);
        return true;
      });
    });
  }

  for (const [name, sent, code] of FRAMES) {
    test(`${name}: closed with ${code}, no message`, async () => {
      headers = (k) => `Sec-WebSocket-Accept: ${accept(k)}\r\n`;
      frames = sent;
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
      assert.equal(await ws.recv(), null);
      const closed = await ws.closed;
      assert.equal(closed.code, code);
    });
  }
});
