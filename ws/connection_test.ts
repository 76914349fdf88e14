import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketProtocol } from "./connection.ts";
import { Sender } from "./sender.ts";
import { UseAfterCloseError } from "../core/errors.ts";

function server(): { ws: WebSocketProtocol; log: unknown[] } {
  const log: unknown[] = [];
  const ws = new WebSocketProtocol({
    role: "server",
    handler: {
      onMessage: (d, binary) => log.push(["message", binary, new TextDecoder().decode(d)]),
      onPing: (d) => log.push(["ping", d.length]),
      onCloseFrame: (code, reason) => log.push(["close", code, reason]),
      onError: (err) => log.push(["error", err.code, err.closeCode]),
    },
  });
  return { ws, log };
}

const client = new Sender({ role: "client" });
const peer = new Sender({ role: "server" });

describe("ws protocol endpoint", () => {
  test("answers pings, echoes the close code, then asks to close the transport", () => {
    const { ws, log } = server();
    ws.push(client.ping("hi"));
    assert.deepEqual(ws.takeOutput(), [peer.pong("hi")]);
    ws.push(client.close(1001, "bye"));
    assert.deepEqual(ws.takeOutput(), [peer.close(1001)]);
    assert.equal(ws.closeState, "closed");
    assert.equal(ws.shouldCloseTransport, true);
    assert.ok(ws.closeHandshake.wasClean);
    assert.deepEqual(log, [["ping", 2], ["close", 1001, "bye"]]);
    assert.throws(() => ws.send("late"), UseAfterCloseError);
  });

  test("a close without code is answered without code", () => {
    const { ws } = server();
    ws.push(client.close());
    assert.deepEqual(ws.takeOutput(), [peer.close()]);
  });

  test("protocol errors fail the connection with the right code", () => {
    for (const [bytes, code] of [
      [new Uint8Array([0x83, 0x80, 1, 2, 3, 4]), 1002], // reserved opcode
      [client.message(new Uint8Array([0xff]), { binary: false })[0]!, 1007], // invalid UTF-8
    ] as const) {
      const { ws, log } = server();
      ws.push(bytes);
      assert.deepEqual(ws.takeOutput(), [peer.close(code)]);
      assert.equal(ws.error?.closeCode, code);
      assert.equal(ws.shouldCloseTransport, true);
      assert.equal((log[0] as unknown[])[2], code);
      ws.push(client.message("ignored")[0]!);
      assert.deepEqual(ws.takeOutput(), []);
    }
    const { ws } = new (class {
      ws = new WebSocketProtocol({ role: "server", maxMessageBytes: 3, handler: { onMessage() {} } });
    })();
    ws.push(client.message("toolong")[0]!);
    assert.deepEqual(ws.takeOutput(), [peer.close(1009)]);
  });

  test("we close first: the peer's answer completes the handshake", () => {
    const { ws, log } = server();
    ws.send("bye soon");
    ws.close(1000, "done");
    ws.close(1000); // second call: nothing
    assert.equal(ws.takeOutput().length, 2);
    assert.equal(ws.closeState, "closing");
    ws.push(client.close(1000));
    assert.deepEqual(ws.takeOutput(), []);
    assert.equal(ws.closeState, "closed");
    assert.ok(ws.closeHandshake.closedByUs && ws.shouldCloseTransport);
    assert.deepEqual(log, [["close", 1000, ""]]);
  });

  test("bufferedAmount counts queued bytes", () => {
    const { ws } = server();
    ws.send(new Uint8Array(1000));
    assert.equal(ws.bufferedAmount, 1004);
    ws.takeOutput();
    assert.equal(ws.bufferedAmount, 0);
  });
});
