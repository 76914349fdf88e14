// The WHATWG WebSocket's close event carries the connection's close code
// (RFC 6455 §7.1.5; the WebSockets Standard): the code of the Close frame
// the server sent (1005 when it had none), and 1006 (not clean, reason "")
// when none came, also when the client failed the connection itself. The
// close event said 1002, 1007 or 1009 for a server's protocol error,
// invalid UTF-8 or an oversized frame, where browsers and undici say 1006.
// On the wire nothing changes: the client still sends its Close with the
// RFC 6455 code (checked here), and connectWebSocket still reports it.
// And, as the standard says, a send() after close() is dropped but its
// bytes count in bufferedAmount (it stayed 0, then dropped to 0 at the end).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { WebSocket } from "../ws/websocket.ts";

const accept = (key: string): string => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");

function frame(op: number, payload: number[], fin = true): Buffer {
  return Buffer.from([(fin ? 0x80 : 0) | op, payload.length, ...payload]);
}

/** The payload of the first Close frame in `bytes` (client frames, masked), or null. */
function closePayload(bytes: Buffer): number[] | null {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const op = bytes[at]! & 0x0f;
    let len = bytes[at + 1]! & 0x7f;
    let p = at + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(p);
      p += 2;
    } else if (len === 127) return null;
    const key = bytes.subarray(p, p + 4);
    p += 4;
    if (p + len > bytes.length) return null;
    const payload = [...bytes.subarray(p, p + len)].map((b, i) => b ^ key[i % 4]!);
    if (op === 8) return payload;
    at = p + len;
  }
  return null;
}

let server: net.Server;
let port = 0;
let frames: Buffer[] = [];
let closeAfter = false;
let received: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));

before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    let head = "";
    let after = Buffer.alloc(0);
    let done = false;
    received = new Promise((resolve) => sock.on("close", () => resolve(after)));
    sock.on("data", (d: Buffer) => {
      if (done) {
        after = Buffer.concat([after, d]);
        return;
      }
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      done = true;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`);
      for (const f of frames) sock.write(f);
      if (closeAfter) sock.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// The raw server never ends the TCP connection after a Close exchange (nor
// answers the client's Close): the client then closes once its close timeout
// ran out, as after any Close the peer leaves unanswered. 200 ms instead of
// the default 5 s: the exchange itself is what these tests look at.
const CLOSE_TIMEOUT_MS = 200;

/** Opens a WHATWG WebSocket to the raw server sending `sent`; the events in order and the bytes the client sent after the handshake. */
async function run(sent: Buffer[], options: { maxPayload?: number; end?: boolean } = {}): Promise<{ events: string[]; close: { code: number; reason: string; wasClean: boolean }; wire: Buffer }> {
  frames = sent;
  closeAfter = options.end ?? false;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
    closeTimeoutMs: CLOSE_TIMEOUT_MS,
    ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
  });
  const events: string[] = [];
  ws.onopen = () => events.push("open");
  ws.onmessage = () => events.push("message");
  ws.onerror = () => events.push("error");
  const close = await new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
    ws.onclose = (e) => {
      events.push("close");
      const c = e as unknown as { code: number; reason: string; wasClean: boolean };
      resolve({ code: c.code, reason: c.reason, wasClean: c.wasClean });
    };
  });
  return { events, close, wire: await received };
}

const FAILED: Array<[string, Buffer[], number, { maxPayload?: number }]> = [
  ["a masked frame from the server", [Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x69, 0x6b])], 1002, {}],
  ["a reserved opcode", [frame(3, [0x68])], 1002, {}],
  ["a Close code 1005 on the wire", [frame(8, [0x03, 0xed])], 1002, {}],
  ["invalid UTF-8 in a text message", [frame(1, [0xc3, 0x28])], 1007, {}],
  ["invalid UTF-8 in a Close reason", [frame(8, [0x03, 0xe8, 0xff])], 1007, {}],
  ["a frame over maxPayload", [frame(2, [1, 2, 3, 4, 5, 6, 7, 8])], 1009, { maxPayload: 4 }],
];

describe("WHATWG WebSocket: the close event's code is the connection's close code", () => {
  for (const [name, sent, wireCode, options] of FAILED) {
    test(`${name}: error, then close 1006 not clean; the client's Close on the wire says ${wireCode}`, async () => {
      const r = await run(sent, options);
      assert.deepEqual(r.events, ["open", "error", "close"]);
      assert.deepEqual(r.close, { code: 1006, reason: "", wasClean: false });
      const payload = closePayload(r.wire);
      assert.ok(payload !== null, "the client sent no Close frame");
      assert.equal((payload[0]! << 8) | payload[1]!, wireCode);
    });
  }

  test("the server's Close 4001 with a reason: close 4001, the reason, clean", async () => {
    const r = await run([frame(8, [0x0f, 0xa1, 0x62, 0x79, 0x65])]);
    assert.deepEqual(r.events, ["open", "close"]);
    assert.deepEqual(r.close, { code: 4001, reason: "bye", wasClean: true });
  });

  test("the server's Close without a code: close 1005", async () => {
    const r = await run([frame(8, [])]);
    assert.deepEqual(r.close, { code: 1005, reason: "", wasClean: true });
  });

  test("send() after close() drops the data and counts its bytes in bufferedAmount, after the close event too", async () => {
    frames = [];
    closeAfter = false;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { closeTimeoutMs: CLOSE_TIMEOUT_MS });
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.close();
    const base = ws.bufferedAmount;
    ws.send("h\u00e9\u20ac\u{1f600}"); // 1 + 2 + 3 + 4 UTF-8 bytes
    ws.send(new Uint8Array(7));
    ws.send(new ArrayBuffer(5));
    ws.send(new Blob([new Uint8Array(3)]));
    assert.equal(ws.bufferedAmount - base, 10 + 7 + 5 + 3);
    await new Promise((resolve) => (ws.onclose = resolve));
    ws.send("xy");
    assert.equal(ws.bufferedAmount, 10 + 7 + 5 + 3 + 2);
    const wire = await received;
    assert.ok(!wire.includes(Buffer.from("xy")) && closePayload(wire) !== null, "only the Close went out");
  });

  test("the server goes without a Close: close 1006 not clean", async () => {
    const r = await run([frame(1, [0x68, 0x69])], { end: true });
    assert.deepEqual(r.events, ["open", "message", "close"]);
    assert.deepEqual(r.close, { code: 1006, reason: "", wasClean: false });
  });
});
