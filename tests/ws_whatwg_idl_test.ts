// The WHATWG WebSocket's event handler attributes and required arguments,
// as HTML and WebIDL define them (red team, twelfth pass). Before:
// `ws.onopen = "text"` kept the string (an EventHandler attribute turns a
// value that is not an object into null); a handler ran before every
// listener whatever the order they were added in (HTML adds the handler's
// listener when it is first set, in order with addEventListener's, and
// setting null removes it); `send()` with no argument sent the text
// "undefined" and `new WebSocket()` threw a SyntaxError (WebIDL: a
// TypeError for a missing required argument). The peer is npm `ws`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "../ws/websocket.ts";
import { npmWs, type NpmWebSocket } from "./ws_peers.ts";

/** An npm `ws` echo server for the test's body; always closed. */
async function withEcho(body: (url: string, received: string[]) => Promise<void>): Promise<void> {
  const wss = new npmWs.WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.on("listening", r as never));
  const received: string[] = [];
  wss.on("connection", ((peer: NpmWebSocket) => {
    peer.on("message", ((data: Uint8Array, binary: boolean) => {
      received.push(binary ? "binary" : new TextDecoder().decode(data));
      (peer as unknown as { send(data: Uint8Array, options: { binary: boolean }): void }).send(data, { binary });
    }) as never);
  }) as never);
  try {
    await body(`ws://127.0.0.1:${wss.address().port}/`, received);
  } finally {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
}

/** Sends `text` and resolves after the echo's message event has gone through every listener. */
function roundTrip(ws: WebSocket, text: string): Promise<void> {
  return new Promise((resolve) => {
    const last: EventListener = (event) => {
      if ((event as MessageEvent).data !== text) return;
      ws.removeEventListener("message", last);
      // Listeners added after this one still run in this dispatch: resolve after it.
      setTimeout(resolve, 0);
    };
    ws.addEventListener("message", last);
    ws.send(text);
  });
}

describe("WHATWG WebSocket: event handler attributes (HTML §8.1.8.1)", () => {
  test("a value that is not an object is null; an object is kept", () => {
    const ws = new WebSocket("ws://127.0.0.1:1/");
    ws.onerror = () => {};
    ws.onclose = () => {};
    const set = ws as unknown as Record<string, unknown>;
    for (const value of ["text", 5, true, undefined, Symbol("s")]) {
      set.onopen = () => {};
      set.onopen = value;
      assert.equal(ws.onopen, null, String(value));
    }
    const object = { handleEvent() {} };
    set.onmessage = object;
    assert.equal(set.onmessage, object);
    ws.close();
  });

  test("the handler runs in the order it was first set among the listeners, with the socket as this; null removes it, and a later one goes last", async () => {
    await withEcho(async (url) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await new Promise((r) => ws.addEventListener("open", r, { once: true }));
      const order: string[] = [];
      ws.addEventListener("message", () => order.push("L1"));
      ws.onmessage = () => order.push("first handler");
      ws.addEventListener("message", () => order.push("L2"));
      // Replacing the handler keeps its place.
      ws.onmessage = function (this: WebSocket) {
        order.push(this === ws ? "H" : "H with another this");
      };
      await roundTrip(ws, "a");
      assert.deepEqual(order, ["L1", "H", "L2"]);
      order.length = 0;
      ws.onmessage = null;
      await roundTrip(ws, "b");
      assert.deepEqual(order, ["L1", "L2"]);
      order.length = 0;
      ws.onmessage = () => order.push("H again");
      await roundTrip(ws, "c");
      assert.deepEqual(order, ["L1", "L2", "H again"]);
      order.length = 0;
      // A listener that stops the event's propagation stops the handler too
      // (both added after roundTrip's own listener, before the echo comes).
      const echoed = roundTrip(ws, "d");
      ws.addEventListener("message", (event) => event.stopImmediatePropagation(), { once: true });
      ws.onmessage = null;
      ws.onmessage = () => order.push("H after stop");
      await echoed;
      assert.deepEqual(order, ["L1", "L2"]);
      const closed = new Promise((r) => (ws.onclose = r));
      ws.close();
      await closed;
    });
  });
});

describe("WHATWG WebSocket: required arguments (WebIDL)", () => {
  test("send() without an argument is a TypeError and sends nothing", async () => {
    await withEcho(async (url, received) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await new Promise((r) => (ws.onopen = r));
      assert.throws(() => (ws.send as () => void)(), TypeError);
      await roundTrip(ws, "after");
      assert.deepEqual(received, ["after"]);
      const closed = new Promise((r) => (ws.onclose = r));
      ws.close();
      await closed;
    });
  });

  test("new WebSocket() without a URL is a TypeError", () => {
    const Ctor = WebSocket as unknown as new () => WebSocket;
    assert.throws(() => new Ctor(), (err: unknown) => err instanceof TypeError);
  });
});
