// A close reason without a close code is sent with 1000 (Normal Closure),
// never dropped: the WebSockets Standard's "close the WebSocket" ("if reason
// is non-empty but code is null, then set code to 1000"), as undici does.
// Before, close(undefined, reason) threw "a close reason needs a close code"
// from deep in the sender: the WHATWG WebSocket was left CLOSING with no
// Close sent and no close event, and connectWebSocket's and the server
// socket's close() threw a TypeError. No code and no reason still send an
// empty Close (the peer reports 1005); a reason over 123 bytes is still a
// SyntaxError before anything changes. Checked against npm ws on the other end.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve, type Server } from "../http/server/serve.ts";
import { connectWebSocket } from "../ws/client.ts";
import { WebSocket } from "../ws/websocket.ts";
import { npmClosed, npmWs, type NpmWebSocket, type NpmWebSocketServer, openNpmClient } from "./ws_peers.ts";

interface CloseSeen {
  code: number;
  reason: string;
}

describe("close(undefined, reason): the reason goes out with 1000", () => {
  let peer: NpmWebSocketServer;
  let peerPort = 0;
  const peerCloses: CloseSeen[] = [];
  const closeWaiters: ((c: CloseSeen) => void)[] = [];
  const nextPeerClose = (): Promise<CloseSeen> => {
    const c = peerCloses.shift();
    return c !== undefined ? Promise.resolve(c) : new Promise((r) => closeWaiters.push(r));
  };

  before(async () => {
    peer = new npmWs.WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => peer.on("listening", r as never));
    peerPort = peer.address().port;
    peer.on("connection", ((socket: NpmWebSocket) => {
      socket.on("close", ((code: number, reason: Uint8Array) => {
        const c = { code, reason: new TextDecoder().decode(reason) };
        const w = closeWaiters.shift();
        if (w !== undefined) w(c);
        else peerCloses.push(c);
      }) as never);
    }) as never);
  });
  after(() => new Promise<void>((r) => peer.close(() => r())));

  async function openWhatwg(): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${peerPort}/`);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    return ws;
  }

  function closeEvent(ws: WebSocket): Promise<CloseSeen & { wasClean: boolean }> {
    return new Promise((resolve) => {
      ws.onclose = (e) => {
        const c = e as unknown as { code: number; reason: string; wasClean: boolean };
        resolve({ code: c.code, reason: c.reason, wasClean: c.wasClean });
      };
    });
  }

  test("WHATWG WebSocket: close(undefined, \"bye\") sends 1000 \"bye\"; the close event says so, clean", async () => {
    const ws = await openWhatwg();
    const closed = closeEvent(ws);
    ws.close(undefined, "bye");
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.deepEqual(await nextPeerClose(), { code: 1000, reason: "bye" });
    assert.deepEqual(await closed, { code: 1000, reason: "bye", wasClean: true });
  });

  test("WHATWG WebSocket: close() and close(undefined, \"\") send an empty Close (the peer reports 1005)", async () => {
    for (const close of [(ws: WebSocket) => ws.close(), (ws: WebSocket) => ws.close(undefined, "")]) {
      const ws = await openWhatwg();
      const closed = closeEvent(ws);
      close(ws);
      assert.deepEqual(await nextPeerClose(), { code: 1005, reason: "" });
      assert.deepEqual(await closed, { code: 1005, reason: "", wasClean: true });
    }
  });

  test("WHATWG WebSocket: a reason over 123 bytes without a code is a SyntaxError, and the socket stays open", async () => {
    const ws = await openWhatwg();
    assert.throws(() => ws.close(undefined, "\u00e9".repeat(62)), (e: Error) => e instanceof DOMException && e.name === "SyntaxError");
    assert.equal(ws.readyState, WebSocket.OPEN);
    const closed = closeEvent(ws);
    ws.close(undefined, "\u00e9".repeat(61) + "x"); // 123 bytes: allowed
    assert.deepEqual(await nextPeerClose(), { code: 1000, reason: "\u00e9".repeat(61) + "x" });
    assert.equal((await closed).code, 1000);
  });

  test("connectWebSocket: close(undefined, \"bye\") sends 1000 \"bye\" and resolves with them", async () => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${peerPort}/`);
    assert.deepEqual(await ws.close(undefined, "bye"), { code: 1000, reason: "bye", wasClean: true });
    assert.deepEqual(await nextPeerClose(), { code: 1000, reason: "bye" });
  });

  test("connectWebSocket: close(undefined, 124 bytes) throws before anything is sent; the socket still closes after", async () => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${peerPort}/`);
    assert.throws(() => ws.close(undefined, "x".repeat(124)), RangeError);
    assert.deepEqual(await ws.close(4000, "after"), { code: 4000, reason: "after", wasClean: true });
    assert.deepEqual(await nextPeerClose(), { code: 4000, reason: "after" });
  });
});

describe("the server's socket: close(undefined, reason) sends 1000 and the reason", () => {
  let server: Server;
  before(() => {
    server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        message(ws, m) {
          if (m === "close with a reason") ws.close(undefined, "server bye");
          else ws.close();
        },
      },
    });
  });
  after(() => server.shutdown({ deadlineMs: 100 }));

  test("serve's socket: ws.close(undefined, \"server bye\") reaches npm ws as 1000 \"server bye\"; ws.close() as 1005", async () => {
    for (const [message, expected] of [["close with a reason", { code: 1000, reason: "server bye" }], ["close bare", { code: 1005, reason: "" }]] as const) {
      const client = await openNpmClient(`ws://127.0.0.1:${server.addr.port}/`);
      const closed = npmClosed(client);
      client.send(message);
      assert.deepEqual(await closed, expected);
    }
  });
});
