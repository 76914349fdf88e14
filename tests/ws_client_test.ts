// ffinet's WebSocket client (connectWebSocket and the WHATWG WebSocket)
// against real servers: the npm `ws` server, the running runtime's own
// server (Deno.upgradeWebSocket, Bun.serve's websocket), Python's
// `websockets`, ffinet's server over wss with the test PKI and through a
// SOCKS5 proxy (microsocks), and a raw server that never answers pings.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { serve, type Server } from "../http/server/serve.ts";
import { listen } from "../poll/listener.ts";
import { acceptKey } from "../ws/handshake.ts";
import { connectWebSocket, type WebSocketConnection } from "../ws/client.ts";
import { WebSocket, type WebSocketCloseEvent } from "../ws/websocket.ts";
import { freePort, startMicrosocks } from "./proxy_helpers.ts";
import { testPKI } from "./tls_pki.ts";
import { npmWs, type NpmWebSocketServer, pythonWithWebsockets } from "./ws_peers.ts";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "node";

/** Echo checks every client test runs against a server. */
async function echoRoundTrip(ws: WebSocketConnection): Promise<void> {
  assert.equal(ws.sendJSON({ hello: ["world", 1] }), true);
  assert.deepEqual(await ws.recvJSON(), { hello: ["world", 1] });
  const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
  ws.send(bytes);
  const back = await ws.recv();
  assert.ok(back !== null && back.binary);
  assert.deepEqual(back.data, bytes);
  const rtt = await ws.ping();
  assert.ok(rtt >= 0);
}

describe("WebSocket client against the npm ws server", () => {
  let httpServer: http.Server;
  let wss: NpmWebSocketServer;
  let port: number;
  const headersSeen: string[] = [];
  before(async () => {
    httpServer = http.createServer();
    wss = new npmWs.WebSocketServer({
      server: httpServer,
      perMessageDeflate: true,
      handleProtocols: (protocols: Set<string>) => (protocols.has("v2") ? "v2" : false),
    });
    wss.on("connection", ((ws: { on(e: string, f: (...a: never[]) => void): void; send(d: unknown, o: { binary: boolean }): void; close(c: number, r: string): void }, req: http.IncomingMessage) => {
      headersSeen.push(String(req.headers["x-token"] ?? ""));
      ws.on("message", ((data: Uint8Array, binary: boolean) => {
        if (!binary && new TextDecoder().decode(data) === "bye") return ws.close(4002, "server says bye");
        ws.send(data, { binary });
      }) as never);
    }) as never);
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    port = (httpServer.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => {
    wss.close();
    httpServer.close(() => resolve());
    httpServer.closeAllConnections?.();
  }));

  test("connectWebSocket: headers, subprotocol, deflate, JSON, binary, ping RTT, close", async () => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, { protocols: ["v1", "v2"], headers: { "x-token": "t0k" } });
    assert.equal(ws.protocol, "v2");
    assert.match(ws.extensions, /^permessage-deflate/);
    assert.equal(headersSeen.at(-1), "t0k");
    await echoRoundTrip(ws);
    const info = await ws.close(1000, "done");
    assert.deepEqual(info, { code: 1000, reason: "done", wasClean: true });
    assert.equal(ws.readyState, "closed");
  });

  test("the server's close code and reason arrive; recv ends with null", async () => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    ws.send("bye");
    assert.equal(await ws.recv(), null);
    assert.deepEqual(await ws.closed, { code: 4002, reason: "server says bye", wasClean: true });
    await assert.rejects(ws.ping());
  });

  test("WHATWG WebSocket: events, binaryType, readyState, protocol, close(code, reason)", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ["v2"]);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.throws(() => ws.send("too early"), { name: "InvalidStateError" });
    await new Promise((resolve) => (ws.onopen = resolve));
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(ws.protocol, "v2");
    assert.match(ws.extensions, /permessage-deflate/);
    const messages: unknown[] = [];
    const got = new Promise<void>((resolve) => {
      ws.addEventListener("message", (e) => {
        const data = (e as MessageEvent).data;
        messages.push(data instanceof ArrayBuffer ? ["ab", ...new Uint8Array(data)] : data instanceof Blob ? "blob" : data);
        if (messages.length === 3) resolve();
      });
    });
    ws.send("text");
    ws.send(new Uint8Array([1, 2]));
    ws.binaryType = "arraybuffer";
    ws.send(new Uint8Array([3, 4]).buffer);
    await got;
    assert.deepEqual(messages[0], "text");
    // The second message may have arrived before binaryType changed.
    assert.ok(messages[1] === "blob" || JSON.stringify(messages[1]) === JSON.stringify(["ab", 1, 2]));
    assert.deepEqual(messages[2], ["ab", 3, 4]);
    assert.throws(() => ws.close(1001), { name: "InvalidAccessError" });
    const closed = new Promise<WebSocketCloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close(3001, "whatwg");
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const e = await closed;
    assert.deepEqual([e.code, e.reason, e.wasClean, ws.readyState], [3001, "whatwg", true, WebSocket.CLOSED]);
  });

  test("async iteration and a bounded receive queue", async () => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, { maxQueuedMessages: 4 });
    for (let i = 0; i < 50; i++) ws.send(`m${i}`);
    ws.send("bye");
    const seen: string[] = [];
    for await (const m of ws) seen.push(m.data as string);
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => `m${i}`));
    assert.equal((await ws.closed).code, 4002);
  });
});

describe("WebSocket client against ffinet's server", () => {
  let server: Server;
  let tlsServer: Server;
  const pki = testPKI();
  before(() => {
    const websocket = {
      message: (ws: { send(m: string | Uint8Array): number }, m: string | Uint8Array) => void ws.send(m),
      perMessageDeflate: true,
      checkOrigin: (origin: string | null) => origin !== "http://evil.example",
    };
    server = serve({ port: 0, fetch: (r) => (server.upgrade(r) ? undefined : undefined), websocket });
    tlsServer = serve({ port: 0, http2: false, tls: { cert: pki.chain, key: pki.key }, fetch: (r) => (tlsServer.upgrade(r) ? undefined : new Response("no", { status: 400 })), websocket });
  });
  after(() => Promise.all([server.shutdown({ deadlineMs: 100 }), tlsServer.shutdown({ deadlineMs: 100 })]));

  test("wss: with the test PKI (verified), and an untrusted server fails", async () => {
    const ws = await connectWebSocket(`wss://localhost:${tlsServer.addr.port}/`, { tls: { ca: pki.root } });
    await echoRoundTrip(ws);
    assert.equal((await ws.close(1000)).code, 1000);
    await assert.rejects(connectWebSocket(`wss://localhost:${tlsServer.addr.port}/`));
  });

  test("through a SOCKS5 proxy (microsocks)", async () => {
    const socks = await startMicrosocks();
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, { proxy: `socks5://127.0.0.1:${socks.port}` });
      await echoRoundTrip(ws);
      assert.equal((await ws.close(1000)).code, 1000);
    } finally {
      await socks.close();
    }
  });

  test("a WHATWG WebSocket over wss", async () => {
    const ws = new WebSocket(`wss://localhost:${tlsServer.addr.port}/`, { tls: { ca: pki.root } });
    ws.binaryType = "arraybuffer";
    await new Promise((resolve) => (ws.onopen = resolve));
    const got = new Promise<MessageEvent>((resolve) => (ws.onmessage = resolve));
    ws.send("over tls");
    assert.equal((await got).data, "over tls");
    const closed = new Promise<WebSocketCloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close();
    assert.equal((await closed).code, 1005);
  });

  test("a refused handshake (403 for the Origin) fires error then close 1006", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`, { origin: "http://evil.example" });
    const events: string[] = [];
    ws.onerror = (e) => events.push(String((e as Event & { message?: string }).message));
    const e = await new Promise<WebSocketCloseEvent>((resolve) => (ws.onclose = resolve));
    assert.equal(events.length, 1);
    assert.match(events[0]!, /status 403/);
    assert.deepEqual([e.code, e.wasClean, ws.readyState], [1006, false, WebSocket.CLOSED]);
  });

  test("unknown options are a TypeError; bad URLs a SyntaxError", async () => {
    await assert.rejects(connectWebSocket("ws://127.0.0.1:1/", { bogus: 1 } as never), TypeError);
    // WHATWG WebSockets §3: the constructor throws a "SyntaxError" DOMException (connectWebSocket a SyntaxError).
    const syntaxError = (err: unknown) => err instanceof DOMException && err.name === "SyntaxError";
    assert.throws(() => new WebSocket("ftp://x/"), syntaxError);
    assert.throws(() => new WebSocket("ws://x/#frag"), syntaxError);
  });
});

describe("WebSocket client heartbeat", () => {
  test("a server that never answers pings is dropped (1006)", async () => {
    // A raw server: answers the handshake, then reads and ignores everything.
    const listener = listen({
      port: 0,
      handler: {
        data(conn, bytes) {
          const text = new TextDecoder().decode(bytes);
          const key = /sec-websocket-key: *(\S+)/i.exec(text)?.[1];
          if (key !== undefined) conn.send(new TextEncoder().encode(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`));
        },
      },
    });
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${listener.port}/`, { heartbeatMs: 25, perMessageDeflate: false });
      const info = await ws.closed;
      assert.deepEqual(info, { code: 1006, reason: "", wasClean: false });
    } finally {
      await listener.close();
    }
  });
});

describe("WebSocket client against the runtime's own server", () => {
  test(`Deno.serve + Deno.upgradeWebSocket`, { skip: runtime !== "deno" ? "Deno's server runs on Deno only (each runtime tests its own)" : false }, async () => {
    const Deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
    const ac = new AbortController();
    const port = await freePort();
    const srv = Deno.serve({ port, hostname: "127.0.0.1", signal: ac.signal, onListen() {} }, (request: Request) => {
      const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "chat" });
      socket.onmessage = (e: MessageEvent) => socket.send(e.data);
      return response;
    });
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, { protocols: ["chat"] });
      assert.equal(ws.protocol, "chat");
      await echoRoundTrip(ws);
      assert.equal((await ws.close(1000)).code, 1000);
    } finally {
      ac.abort();
      await srv.finished;
    }
  });

  test(`Bun.serve websocket`, { skip: runtime !== "bun" ? "Bun's server runs on Bun only (each runtime tests its own)" : false }, async () => {
    const Bun = (globalThis as unknown as { Bun: BunServe }).Bun;
    const srv = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request: Request, s: { upgrade(r: Request): boolean }) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
      websocket: { perMessageDeflate: true, message: (ws: { send(m: unknown): void }, m: unknown) => ws.send(m) },
    });
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${srv.port}/`);
      assert.match(ws.extensions, /permessage-deflate/);
      await echoRoundTrip(ws);
      assert.equal((await ws.close(1000)).code, 1000);
    } finally {
      srv.stop(true);
    }
  });

  test("Python websockets server", { skip: pythonWithWebsockets() === null ? "python3 websockets not installed (apt-get install python3-websockets)" : false }, async () => {
    const port = await freePort();
    const script = [
      "import asyncio, sys, websockets",
      "async def echo(ws, path=None):",
      "    async for m in ws: await ws.send(m)",
      "async def main():",
      "    async with websockets.serve(echo, '127.0.0.1', int(sys.argv[1])):",
      "        print('ready', flush=True)",
      "        await asyncio.Future()",
      "asyncio.run(main())",
    ].join("\n");
    const child = spawn(pythonWithWebsockets()!, ["-c", script, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`python exited ${code}`)));
      });
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
      await echoRoundTrip(ws);
      assert.equal((await ws.close(1000, "py")).code, 1000);
    } finally {
      child.kill();
    }
  });
});

interface DenoServe {
  serve(options: object, handler: (request: Request) => Response): { finished: Promise<void> };
  upgradeWebSocket(request: Request, options: object): { socket: { onmessage: ((e: MessageEvent) => void) | null; send(d: unknown): void }; response: Response };
}
interface BunServe {
  serve(options: object): { port: number; stop(force: boolean): void };
}
