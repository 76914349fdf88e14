// ffinet's WebSocket server (serve's `websocket` handlers with
// server.upgrade, and upgradeWebSocket) against real clients: the npm `ws`
// package, the running runtime's own WebSocket client, Python's
// `websockets`, and raw sockets for dead peers and peers that never read.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { serve, type Server } from "../http/server/serve.ts";
import { connect } from "../poll/connect.ts";
import { upgradeWebSocket } from "../ws/server.ts";
import type { ServerWebSocket } from "../ws/server.ts";
import { npmClosed, npmMessages, openNpmClient, pythonWithWebsockets } from "./ws_peers.ts";

const enc = new TextEncoder();

interface Closed {
  code: number;
  reason: string;
  data: unknown;
}

let server: Server;
let base: string;
const closes: Closed[] = [];
const closeWaiters: ((c: Closed) => void)[] = [];
function nextServerClose(): Promise<Closed> {
  const c = closes.shift();
  return c !== undefined ? Promise.resolve(c) : new Promise((resolve) => closeWaiters.push(resolve));
}
let bigSends: { sent: number; backpressured: number; maxBuffered: number } = { sent: 0, backpressured: 0, maxBuffered: 0 };
let drains = 0;

/** Raw client handshake bytes for `path` (no deflate). */
function rawUpgrade(path: string): Uint8Array {
  return enc.encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
}

describe("WebSocket server", () => {
  before(() => {
    server = serve({
      port: 0,
      fetch: (request, info) => {
        const path = new URL(request.url).pathname;
        if (path === "/deno") {
          const { socket, response } = upgradeWebSocket(request, { info, protocols: ["chat"] });
          socket.binaryType = "arraybuffer";
          socket.onmessage = (e) => socket.send(e.data as string | ArrayBuffer);
          return response;
        }
        if (path === "/plain") return new Response("plain");
        // A refused upgrade with no response of the handler's own gets the refusal (400, 403, 426).
        server.upgrade(request, { data: { path }, headers: { "x-hello": "1" } });
        return undefined;
      },
      websocket: {
        protocols: ["chat", "superchat"],
        perMessageDeflate: { serverNoContextTakeover: true },
        checkOrigin: (origin) => origin !== "http://evil.example",
        maxPayloadLength: 64 * 1024,
        heartbeatMs: 0,
        maxBufferedBytes: 1024 * 1024,
        open(ws) {
          const data = ws.data as { path: string };
          if (data.path === "/room") ws.subscribe("room");
          if (data.path === "/flood") {
            // Never-reading peer: send 32 KiB messages until the socket is dropped (bounded).
            const chunk = new Uint8Array(32 * 1024);
            for (let i = 0; i < 2000 && ws.readyState === 1; i++) {
              const r = ws.send(chunk);
              if (r > 0) bigSends.sent++;
              if (r === -1) bigSends.backpressured++;
              bigSends.maxBuffered = Math.max(bigSends.maxBuffered, ws.getBufferedAmount());
            }
          }
          if (data.path === "/burst") {
            // Send until the output passes its high-water mark (bounded); drain reports the count.
            const chunk = new Uint8Array(32 * 1024);
            let sent = 0;
            for (let i = 0; i < 2000; i++) {
              sent++;
              if (ws.send(chunk) === -1) break;
            }
            (ws.data as { sent?: number }).sent = sent;
          }
        },
        message(ws, message) {
          const data = ws.data as { path: string };
          if (data.path === "/room") {
            if (message === "publish-all") server.publish("room", "from server");
            else ws.publish("room", message);
            return;
          }
          if (message === "close-me") return ws.close(4001, "asked");
          if (message === "topics") {
            ws.subscribe("a");
            ws.subscribe("b");
            ws.unsubscribe("a");
            ws.send(JSON.stringify({ subs: ws.subscriptions, a: ws.isSubscribed("a"), b: ws.isSubscribed("b"), protocol: ws.protocol, ext: ws.extensions }));
            return;
          }
          ws.send(message);
        },
        drain(ws) {
          drains++;
          const data = ws.data as { path: string; sent?: number };
          if (data.path === "/burst") ws.send(`drained:${data.sent}`);
        },
        close(ws: ServerWebSocket<unknown>, code, reason) {
          const c = { code, reason, data: ws.data };
          const w = closeWaiters.shift();
          if (w) w(c);
          else closes.push(c);
        },
      },
    });
    base = `ws://127.0.0.1:${server.addr.port}`;
  });
  after(() => server.shutdown({ deadlineMs: 100 }));

  test("npm ws client: text and binary echo, subprotocol, deflate, extra 101 fields", async () => {
    const ws = await openNpmClient(`${base}/echo`, ["superchat", "chat"]);
    assert.equal(ws.protocol, "chat");
    assert.match(ws.extensions, /permessage-deflate/);
    const next = npmMessages(ws);
    ws.send("héllo");
    assert.deepEqual(await next(), { data: "héllo", binary: false });
    const big = new Uint8Array(40_000).map((_, i) => i * 7);
    ws.send(big);
    assert.deepEqual(await next(), { data: big, binary: true });
    ws.send("topics");
    const info = JSON.parse((await next()).data as string);
    assert.deepEqual(info, { subs: ["b"], a: false, b: true, protocol: "chat", ext: "permessage-deflate; server_no_context_takeover" });
    const closed = npmClosed(ws);
    ws.close(1000, "done");
    assert.deepEqual(await closed, { code: 1000, reason: "" });
    const s = await nextServerClose();
    assert.equal(s.code, 1000);
    assert.equal(s.reason, "done");
    assert.deepEqual(s.data, { path: "/echo" });
  });

  test("server-initiated close reaches the client with its code and reason", async () => {
    const ws = await openNpmClient(`${base}/echo`);
    const closed = npmClosed(ws);
    ws.send("close-me");
    assert.deepEqual(await closed, { code: 4001, reason: "asked" });
    assert.equal((await nextServerClose()).code, 4001);
  });

  test("a message over maxPayloadLength closes with 1009", async () => {
    const ws = await openNpmClient(`${base}/echo`, [], { perMessageDeflate: false });
    const closed = npmClosed(ws);
    ws.send(new Uint8Array(64 * 1024 + 1));
    assert.equal((await closed).code, 1009);
    assert.equal((await nextServerClose()).code, 1009);
  });

  test("a refused Origin gets 403; a plain request passes through", async () => {
    await assert.rejects(openNpmClient(`${base}/echo`, [], { origin: "http://evil.example" }), /403/);
    const ok = await openNpmClient(`${base}/echo`, [], { origin: "http://good.example" });
    const closed = npmClosed(ok);
    ok.close(1000);
    await closed;
    await nextServerClose();
    assert.equal(await (await fetch(`http://127.0.0.1:${server.addr.port}/plain`)).text(), "plain");
  });

  test("publish/subscribe: ws.publish skips the publisher, server.publish reaches all", async () => {
    const a = await openNpmClient(`${base}/room`);
    const b = await openNpmClient(`${base}/room`);
    const c = await openNpmClient(`${base}/room`);
    const [na, nb, nc] = [npmMessages(a), npmMessages(b), npmMessages(c)];
    // Subscriptions happen in open; a round trip through the room makes sure all three joined.
    assert.equal(server.subscriberCount("room"), 3);
    a.send("from a");
    assert.deepEqual(await nb(), { data: "from a", binary: false });
    assert.deepEqual(await nc(), { data: "from a", binary: false });
    b.send("publish-all");
    for (const next of [na, nb, nc]) assert.deepEqual(await next(), { data: "from server", binary: false });
    for (const ws of [a, b, c]) ws.close(1000);
    for (let i = 0; i < 3; i++) await nextServerClose();
    assert.equal(server.subscriberCount("room"), 0);
  });

  test("Deno's shape: upgradeWebSocket(request, { info }) echoes over a WHATWG socket", async () => {
    const ws = await openNpmClient(`${base}/deno`, ["chat"]);
    assert.equal(ws.protocol, "chat");
    const next = npmMessages(ws);
    ws.send("deno text");
    assert.deepEqual(await next(), { data: "deno text", binary: false });
    ws.send(new Uint8Array([9, 8, 7]));
    assert.deepEqual(await next(), { data: new Uint8Array([9, 8, 7]), binary: true });
    const closed = npmClosed(ws);
    ws.close(3000, "x");
    assert.equal((await closed).code, 3000);
  });

  test("a client that never reads: output bounded by maxBufferedBytes, then 1008", async () => {
    bigSends = { sent: 0, backpressured: 0, maxBuffered: 0 };
    const conn = await connect({ host: "127.0.0.1", port: server.addr.port });
    conn.pause(); // never read: the kernel buffers fill, then ours
    await conn.write(rawUpgrade("/flood"));
    const s = await nextServerClose();
    assert.equal(s.code, 1008);
    assert.ok(bigSends.backpressured > 0, "send reported backpressure");
    assert.ok(bigSends.maxBuffered <= 1024 * 1024 + 64 * 1024, `buffered ${bigSends.maxBuffered}`);
    conn.abort();
  });

  test("send reports backpressure (-1), and drain fires once the reader caught up", async () => {
    const before = drains;
    const ws = await openNpmClient(`${base}/burst`, [], { perMessageDeflate: false });
    const next = npmMessages(ws);
    let binary = 0;
    let last: string | Uint8Array = "";
    for (let i = 0; i < 3000; i++) {
      const m = await next();
      if (!m.binary) {
        last = m.data;
        break;
      }
      binary++;
    }
    // The burst was sent until send() returned -1; drain then announced how many went out.
    assert.equal(last, `drained:${binary}`);
    assert.ok(binary > 1);
    assert.equal(drains, before + 1);
    const closed = npmClosed(ws);
    ws.close(1000);
    await closed;
    await nextServerClose();
  });

  test("the runtime's own WebSocket client", { skip: typeof globalThis.WebSocket !== "function" ? "this runtime has no global WebSocket" : false }, async () => {
    const ws = new globalThis.WebSocket(`${base}/echo`, ["chat"]);
    ws.binaryType = "arraybuffer";
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    assert.equal(ws.protocol, "chat");
    const got: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        got.push(typeof e.data === "string" ? e.data : Array.from(new Uint8Array(e.data as ArrayBuffer)));
        if (got.length === 2) resolve();
      };
    });
    ws.send("native");
    ws.send(new Uint8Array([1, 2, 3]));
    await done;
    assert.deepEqual(got, ["native", [1, 2, 3]]);
    const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
    ws.close(1000);
    assert.equal(await closed, 1000);
    assert.equal((await nextServerClose()).code, 1000);
  });

  test("Python websockets client", { skip: pythonWithWebsockets() === null ? "python3 websockets not installed (apt-get install python3-websockets)" : false }, async () => {
    const script = [
      "import asyncio, sys, websockets",
      "async def main():",
      "    async with websockets.connect(sys.argv[1], subprotocols=['chat']) as ws:",
      "        await ws.send('from python')",
      "        print(await ws.recv())",
      "        await ws.send(bytes([1,2,250]))",
      "        print(list(await ws.recv()))",
      "        print(ws.subprotocol)",
      "asyncio.run(main())",
    ].join("\n");
    const child = spawn(pythonWithWebsockets()!, ["-c", script, `${base}/echo`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0);
    assert.deepEqual(out.trim().split("\n"), ["from python", "[1, 2, 250]", "chat"]);
    assert.equal((await nextServerClose()).code, 1000);
  });
});

describe("WebSocket server heartbeat", () => {
  test("a peer that never answers pings is dropped (1006)", async () => {
    let closed!: (c: { code: number }) => void;
    const gone = new Promise<{ code: number }>((resolve) => (closed = resolve));
    let pings = 0;
    const s = serve({
      port: 0,
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
      websocket: { heartbeatMs: 30, message() {}, close: (_ws, code) => closed({ code }) },
    });
    try {
      const conn = await connect({ host: "127.0.0.1", port: s.addr.port });
      await conn.write(rawUpgrade("/"));
      // Read (and count) pings but never answer them.
      const reading = (async () => {
        for (let i = 0; i < 1000; i++) {
          const chunk = await conn.read().catch(() => null);
          if (chunk === null) return;
          for (let j = 0; j < chunk.length - 1; j++) if (chunk[j] === 0x89 && chunk[j + 1] === 0) pings++;
        }
      })();
      assert.equal((await gone).code, 1006);
      await reading;
      assert.ok(pings >= 1, "the server pinged");
      conn.abort();
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });

  test("a peer that answers pings stays (npm ws answers automatically)", async () => {
    let pongs = 0;
    let opened!: () => void;
    const pongsSeen = new Promise<void>((resolve) => (opened = resolve));
    const s = serve({
      port: 0,
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        // Long enough that a loaded machine answers every ping in time.
        heartbeatMs: 300,
        message() {},
        pong: () => {
          if (++pongs === 3) opened();
        },
      },
    });
    try {
      const ws = await openNpmClient(`ws://127.0.0.1:${s.addr.port}/`);
      const closed = npmClosed(ws);
      // Dropped before three pongs: fail with the close code rather than wait forever.
      await Promise.race([
        pongsSeen,
        closed.then(({ code }) => assert.fail(`closed with ${code} after ${pongs} pongs`)),
      ]);
      assert.equal(ws.readyState, 1);
      ws.close(1000);
      assert.equal((await closed).code, 1000);
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });
});
