// The WHATWG WebSocket's `bufferedamountlow` event: a send past the
// high-water mark to a peer (npm `ws`) that has stopped reading, then the
// event once the peer reads again and the queue falls back below the mark.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SOCKET_LIMITS } from "../core/limits.ts";
import { WebSocket } from "../ws/websocket.ts";
import { npmWs, type NpmWebSocket } from "./ws_peers.ts";

const BIG = 16 * 1024 * 1024;

describe("WebSocket bufferedamountlow", () => {
  test("fires once the queued output falls back below the high-water mark", async () => {
    const got: NpmWebSocket[] = [];
    let onConnection!: () => void;
    const connected = new Promise<void>((r) => (onConnection = r));
    const wss = new npmWs.WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    await new Promise<void>((r) => wss.on("listening", r as never));
    let received!: Promise<number>;
    wss.on("connection", ((ws: NpmWebSocket) => {
      ws.pause(); // stop reading: our output stays queued
      got.push(ws);
      received = new Promise((done) => ws.on("message", ((data: Uint8Array) => done(data.length)) as never));
      onConnection();
    }) as never);
    try {
      const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}/`, { perMessageDeflate: false, maxBufferedBytes: 4 * BIG });
      await new Promise((r) => (client.onopen = r));
      await connected;
      let handlerCalls = 0;
      let listenerCalls = 0;
      let bufferedAtEvent = -1;
      const low = new Promise<void>((resolve) => {
        client.onbufferedamountlow = () => {
          handlerCalls++;
          bufferedAtEvent = client.bufferedAmount;
        };
        client.addEventListener("bufferedamountlow", () => {
          listenerCalls++;
          resolve();
        });
      });
      client.send(new Uint8Array(BIG));
      // The kernel takes a few MiB at most: the rest stays queued with us.
      assert.ok(client.bufferedAmount > SOCKET_LIMITS.writeHighWaterMark, `bufferedAmount ${client.bufferedAmount}`);
      assert.equal(handlerCalls, 0);
      (got[0] as unknown as { resume(): void }).resume();
      await low;
      assert.equal(handlerCalls, 1);
      assert.equal(listenerCalls, 1);
      assert.ok(bufferedAtEvent < SOCKET_LIMITS.writeHighWaterMark, `bufferedAmount at the event ${bufferedAtEvent}`);
      assert.equal(await received, BIG);
      const closed = new Promise<{ code: number }>((r) => (client.onclose = (e) => r(e)));
      client.close(1000, "done");
      assert.equal((await closed).code, 1000);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
