// The WHATWG WebSocket's send() converts its argument as WebIDL does: a
// Blob, an ArrayBuffer or a view is sent as bytes, anything else as its
// string (browsers and undici send the text "123" for send(123)). A number
// was taken as a length (send(123) sent 123 zero bytes), null, undefined
// and plain objects as empty binary messages, and after close() a number
// made bufferedAmount NaN. The peer is npm `ws`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "../ws/websocket.ts";
import { npmWs, type NpmWebSocket } from "./ws_peers.ts";

describe("WHATWG WebSocket: send()'s argument as WebIDL converts it", () => {
  test("numbers, booleans, null, undefined and objects go as text; bytes as binary; a Symbol is a TypeError; after close() their UTF-8 length counts in bufferedAmount", async () => {
    const wss = new npmWs.WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    await new Promise<void>((r) => wss.on("listening", r as never));
    const got: { text: string; binary: boolean }[] = [];
    const want = 7;
    const all = new Promise<void>((resolve) => {
      wss.on("connection", ((peer: NpmWebSocket) => {
        peer.on("message", ((data: Uint8Array, binary: boolean) => {
          got.push({ text: binary ? [...data].join(",") : new TextDecoder().decode(data), binary });
          if (got.length === want) resolve();
        }) as never);
      }) as never);
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}/`, { perMessageDeflate: false });
      await new Promise((r) => (ws.onopen = r));
      const send = ws.send.bind(ws) as (data: unknown) => void;
      send(123);
      send(true);
      send(null);
      send(undefined);
      send({ toString: () => "an object" });
      send(new Uint8Array([1, 2]));
      send(new Uint16Array([0x0403]).buffer);
      assert.throws(() => send(Symbol("s")), TypeError);
      await all;
      assert.deepEqual(got, [
        { text: "123", binary: false },
        { text: "true", binary: false },
        { text: "null", binary: false },
        { text: "undefined", binary: false },
        { text: "an object", binary: false },
        { text: "1,2", binary: true },
        { text: "3,4", binary: true },
      ]);
      ws.close();
      const base = ws.bufferedAmount;
      send(12345);
      send(null);
      assert.equal(ws.bufferedAmount - base, 5 + 4);
      await new Promise((r) => (ws.onclose = r));
      // Every message before close() reached the peer, so once the
      // connection is gone only the dropped sends count (base may have held
      // the Close frame itself, still in flight over io_uring).
      assert.equal(ws.bufferedAmount, 9);
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
