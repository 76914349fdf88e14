// The WebSocket client's upgrade against a hostile server on a raw socket
// (client red team, second round; hostile_client_ws_test covers a wrong
// accept key, an extension or subprotocol not offered and bad frames): a
// 101 without Upgrade, with another Upgrade or without Connection, a 101 in
// HTTP/1.0, two accept fields, a 200, a 100 before the 101, a frame before
// the status line, a 3 MB head, permessage-deflate answered twice or with
// parameters we did not offer are each HTTPError ERR_WS_HANDSHAKE; frames
// in the same segment as the 101 (also after a Content-Length or
// Transfer-Encoding the 101 carries, which mean nothing there) are the first
// messages; a close right after the 101 ends the connection with 1006.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { HTTPError } from "../core/errors.ts";
import { connectWebSocket } from "../ws/client.ts";

const accept = (key: string): string => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
const text = (t: string): Buffer => Buffer.concat([Buffer.from([0x81, t.length]), Buffer.from(t)]);
const ok101 = (k: string, extra = ""): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}Sec-WebSocket-Accept: ${accept(k)}\r\n\r\n`;

type Respond = (key: string, sock: net.Socket) => void;
let server: net.Server;
let port = 0;
let respond: Respond = () => {};

before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    let head = "";
    let done = false;
    sock.on("data", (d: Buffer) => {
      // After the head: the client's Close (a masked frame, 0x88) is
      // answered with one, as a peer would, so a test's ws.closed comes at
      // once rather than after the client's close timeout (5 s).
      if (done) {
        if (d[0] === 0x88) sock.end(Buffer.from([0x88, 0x00]));
        return;
      }
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      done = true;
      respond(/sec-websocket-key: *(\S+)/i.exec(head)![1]!, sock);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const REFUSED: Array<[string, Respond, RegExp]> = [
  ["a 101 without Upgrade", (k, s) => s.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(k)}\r\n\r\n`), /Upgrade/],
  ["a 101 to h2c", (k, s) => s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(k)}\r\n\r\n`), /Upgrade/],
  ["a 101 without Connection", (k, s) => s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${accept(k)}\r\n\r\n`), /Connection/],
  ["a 101 in HTTP/1.0", (k, s) => s.write(ok101(k).replace("HTTP/1.1", "HTTP/1.0")), /HTTP\/1\.0/],
  ["two Sec-WebSocket-Accept fields", (k, s) => s.write(ok101(k, `Sec-WebSocket-Accept: ${accept(k)}\r\n`)), /Sec-WebSocket-Accept/],
  ["a 200 with the upgrade fields", (k, s) => s.end(ok101(k, "Content-Length: 0\r\n").replace("101 Switching Protocols", "200 OK")), /status 200/],
  ["a 100 before the 101", (k, s) => s.write("HTTP/1.1 100 Continue\r\n\r\n" + ok101(k)), /status 100/],
  ["a frame before the status line", (k, s) => s.write(Buffer.concat([text("early"), Buffer.from(ok101(k))])), /status line/],
  ["a 3 MB head", (_k, s) => s.write(`HTTP/1.1 101 Switching Protocols\r\nX: ${"a".repeat(3_000_000)}\r\n\r\n`), /head over/],
  ["permessage-deflate twice", (k, s) => s.write(ok101(k, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n")), /extensions/],
  ["permessage-deflate with an unknown parameter", (k, s) => s.write(ok101(k, "Sec-WebSocket-Extensions: permessage-deflate; foo=1\r\n")), /permessage-deflate/],
  ["permessage-deflate with client_max_window_bits=20", (k, s) => s.write(ok101(k, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=20\r\n")), /permessage-deflate/],
  ["a close before the head ends", (_k, s) => s.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"), /closed/],
];

describe("WebSocket client: hostile upgrade answers", () => {
  // permessage-deflate is offered by default.
  for (const [name, r, message] of REFUSED) {
    test(`${name}: ERR_WS_HANDSHAKE`, async () => {
      respond = r;
      await assert.rejects(connectWebSocket(`ws://127.0.0.1:${port}/`), (err: unknown) => {
        assert.ok(err instanceof HTTPError, String(err));
        assert.equal(err.code, "ERR_WS_HANDSHAKE");
        assert.match(err.message, message);
        return true;
      });
    });
  }

  const FIRST: Array<[string, Respond]> = [
    ["in the same segment as the 101", (k, s) => s.write(Buffer.concat([Buffer.from(ok101(k)), text("first")]))],
    ["after a 101 with a Content-Length", (k, s) => s.write(Buffer.concat([Buffer.from(ok101(k, "Content-Length: 7\r\n")), text("first")]))],
    ["after a 101 with Transfer-Encoding: chunked", (k, s) => s.write(Buffer.concat([Buffer.from(ok101(k, "Transfer-Encoding: chunked\r\n")), text("first")]))],
  ];
  for (const [name, r] of FIRST) {
    test(`a frame ${name} is the first message`, async () => {
      respond = r;
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
      const m = await ws.recv();
      assert.equal(m?.data, "first");
      ws.close();
      await ws.closed;
    });
  }

  test("a close right after the 101: no message, closed with 1006 (not clean)", async () => {
    respond = (k, s) => s.end(ok101(k));
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
    assert.equal(await ws.recv(), null);
    const closed = await ws.closed;
    assert.equal(closed.code, 1006);
    assert.equal(closed.wasClean, false);
  });
});
