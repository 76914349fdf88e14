// WebSocket over HTTP/2 (RFC 8441): ffinet's server and client against
// each other (h2c by prior knowledge, and h2 by ALPN over TLS, with
// permessage-deflate and messages larger than a stream window), and
// against node:http2 as the peer both ways (its server announces
// SETTINGS_ENABLE_CONNECT_PROTOCOL, its client sends :protocol; the
// WebSocket frames on its side are written and parsed here by hand). A
// reset stream is an abnormal close (1006). A client asking for HTTP/2
// falls back to HTTP/1.1's Upgrade against servers without it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { serve, type Server } from "../http/server/serve.ts";
import { connectWebSocket } from "../ws/client.ts";
import { upgradeWebSocket } from "../ws/server.ts";
import { WebSocket } from "../ws/websocket.ts";
import { npmWs, type NpmWebSocketServer } from "./ws_peers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One WebSocket frame; `mask` true as a client sends (a fixed key: the peer unmasks whatever it is). */
function frame(opcode: number, payload: Uint8Array, mask: boolean): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + (mask ? 4 : 0) + n);
  out[0] = 0x80 | opcode;
  out[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (head === 4) new DataView(out.buffer).setUint16(2, n);
  if (head === 10) new DataView(out.buffer).setBigUint64(2, BigInt(n));
  const key = [0x12, 0x34, 0x56, 0x78];
  let o = head;
  if (mask) for (const k of key) out[o++] = k;
  for (let i = 0; i < n; i++) out[o + i] = mask ? payload[i]! ^ key[i & 3]! : payload[i]!;
  return out;
}

function closePayload(code: number, reason = ""): Uint8Array {
  const r = enc.encode(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** Parses whole frames (masked or not) from a growing buffer. */
class FrameReader {
  #buf = new Uint8Array(0);
  #frames: Frame[] = [];
  #waiters: ((f: Frame) => void)[] = [];

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf);
    joined.set(chunk, this.#buf.length);
    this.#buf = joined;
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      let n = b[1]! & 0x7f;
      let o = 2;
      if (n === 126) {
        if (b.length < 4) return;
        n = (b[2]! << 8) | b[3]!;
        o = 4;
      } else if (n === 127) {
        if (b.length < 10) return;
        n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(2));
        o = 10;
      }
      const masked = (b[1]! & 0x80) !== 0;
      const key = masked ? b.slice(o, o + 4) : undefined;
      if (masked) o += 4;
      if (b.length < o + n) return;
      const payload = b.slice(o, o + n);
      if (key !== undefined) for (let i = 0; i < n; i++) payload[i]! ^= key[i & 3]!;
      this.#buf = b.slice(o + n);
      const f = { opcode: b[0]! & 0x0f, payload };
      const w = this.#waiters.shift();
      if (w !== undefined) w(f);
      else this.#frames.push(f);
    }
  }

  next(): Promise<Frame> {
    const f = this.#frames.shift();
    return f !== undefined ? Promise.resolve(f) : new Promise((r) => this.#waiters.push(r));
  }
}

interface ServerEvent {
  kind: "open" | "close";
  method: string;
  code?: number;
}

describe("WebSocket over HTTP/2 (RFC 8441)", () => {
  const pki = testPKI();
  let server: Server;
  let tlsServer: Server;
  const events: ServerEvent[] = [];
  const eventWaiters: ((e: ServerEvent) => void)[] = [];
  const nextEvent = (): Promise<ServerEvent> => {
    const e = events.shift();
    return e !== undefined ? Promise.resolve(e) : new Promise((r) => eventWaiters.push(r));
  };
  const push = (e: ServerEvent) => {
    const w = eventWaiters.shift();
    if (w !== undefined) w(e);
    else events.push(e);
  };

  before(() => {
    const websocket = {
      protocols: ["chat"],
      perMessageDeflate: true,
      open: (ws: { data: unknown }) => push({ kind: "open", method: (ws.data as { method: string }).method }),
      message: (ws: { send(m: string | Uint8Array): number }, m: string | Uint8Array) => void ws.send(m),
      close: (ws: { data: unknown }, code: number) => push({ kind: "close", method: (ws.data as { method: string }).method, code }),
    };
    const fetch = (s: () => Server) => (request: Request) => s().upgrade(request, { data: { method: request.method } }) ? undefined : new Response("no", { status: 400 });
    server = serve({ host: "127.0.0.1", port: 0, fetch: fetch(() => server), websocket });
    tlsServer = serve({ host: "127.0.0.1", port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: fetch(() => tlsServer), websocket });
  });
  after(() => Promise.all([server.shutdown({ deadlineMs: 100 }), tlsServer.shutdown({ deadlineMs: 100 })]));

  test("ffinet's client and server over h2c: deflate, messages larger than a stream window, a clean close on both ends", async () => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/chat?room=1`, { http2: true, protocols: ["chat"] });
    assert.deepEqual(await nextEvent(), { kind: "open", method: "CONNECT" });
    assert.equal(ws.protocol, "chat");
    assert.match(ws.extensions, /^permessage-deflate/);
    ws.send("hello");
    assert.deepEqual(await ws.recv(), { data: "hello", binary: false });
    // 1 MiB of noise does not compress: sixteen stream windows each way.
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    for (let i = 0; i < 3; i++) ws.send(big);
    for (let i = 0; i < 3; i++) assert.deepEqual((await ws.recv())?.data, big);
    const closed = await ws.close(4000, "done");
    assert.deepEqual(closed, { code: 4000, reason: "", wasClean: true });
    assert.deepEqual(await nextEvent(), { kind: "close", method: "CONNECT", code: 4000 });
  });

  test("ffinet's WHATWG client and server over h2 by ALPN (wss)", async () => {
    const ws = new WebSocket(`wss://localhost:${tlsServer.addr.port}/`, { http2: true, tls: { ca: pki.root } });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = (e) => reject((e as unknown as { error: Error }).error);
    });
    assert.deepEqual(await nextEvent(), { kind: "open", method: "CONNECT" });
    const message = new Promise<MessageEvent>((r) => (ws.onmessage = r));
    ws.send("over h2");
    assert.equal((await message).data, "over h2");
    const closed = new Promise<{ code: number; wasClean: boolean }>((r) => (ws.onclose = r));
    ws.close(1000);
    const c = await closed;
    assert.equal(c.code, 1000);
    assert.equal(c.wasClean, true);
    assert.deepEqual(await nextEvent(), { kind: "close", method: "CONNECT", code: 1000 });
  });

  test("node:http2's client against ffinet's server: SETTINGS_ENABLE_CONNECT_PROTOCOL, extended CONNECT, echo, close; then a reset is 1006", async () => {
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    try {
      const settings = await new Promise<http2.Settings>((r) => session.once("remoteSettings", r));
      assert.equal(settings.enableConnectProtocol, true);
      const open = (path: string) => {
        const stream = session.request({
          ":method": "CONNECT",
          ":protocol": "websocket",
          ":scheme": "http",
          ":path": path,
          ":authority": `127.0.0.1:${server.addr.port}`,
          "sec-websocket-version": "13",
          "sec-websocket-protocol": "chat",
        }, { endStream: false });
        const reader = new FrameReader();
        stream.on("data", (chunk: Uint8Array) => reader.push(new Uint8Array(chunk)));
        const response = new Promise<http2.IncomingHttpHeaders>((r) => stream.once("response", r));
        return { stream, reader, response };
      };
      const a = open("/a");
      const head = await a.response;
      assert.equal(head[":status"], 200);
      assert.equal(head["sec-websocket-protocol"], "chat");
      assert.equal(head["sec-websocket-extensions"], undefined);
      assert.deepEqual(await nextEvent(), { kind: "open", method: "CONNECT" });
      a.stream.write(frame(1, enc.encode("hi from node"), true));
      const echo = await a.reader.next();
      assert.equal(echo.opcode, 1);
      assert.equal(dec.decode(echo.payload), "hi from node");
      const ended = new Promise<void>((r) => a.stream.once("end", r));
      a.stream.write(frame(8, closePayload(1000, "bye"), true));
      const close = await a.reader.next();
      assert.equal(close.opcode, 8);
      assert.equal((close.payload[0]! << 8) | close.payload[1]!, 1000);
      await ended; // the server ends its side after the closing handshake
      a.stream.end();
      assert.deepEqual(await nextEvent(), { kind: "close", method: "CONNECT", code: 1000 });

      const b = open("/b");
      assert.equal((await b.response)[":status"], 200);
      assert.deepEqual(await nextEvent(), { kind: "open", method: "CONNECT" });
      b.stream.on("error", () => {}); // our own reset, reported back to us
      b.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      assert.deepEqual(await nextEvent(), { kind: "close", method: "CONNECT", code: 1006 });
    } finally {
      session.destroy();
    }
  });

  test("RFC 9110 §7.8: :protocol is an upgrade token, compared case-insensitively (WebSocket, WEBSOCKET become WebSockets)", async () => {
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    try {
      await new Promise((r) => session.once("remoteSettings", r));
      for (const protocol of ["WebSocket", "WEBSOCKET"]) {
        const stream = session.request({
          ":method": "CONNECT",
          ":protocol": protocol,
          ":scheme": "http",
          ":path": "/case",
          ":authority": `127.0.0.1:${server.addr.port}`,
          "sec-websocket-version": "13",
        }, { endStream: false });
        const reader = new FrameReader();
        stream.on("data", (chunk: Uint8Array) => reader.push(new Uint8Array(chunk)));
        const head = await new Promise<http2.IncomingHttpHeaders>((r) => stream.once("response", r));
        assert.equal(head[":status"], 200, protocol);
        assert.deepEqual(await nextEvent(), { kind: "open", method: "CONNECT" });
        stream.write(frame(8, closePayload(1000), true));
        const close = await reader.next();
        assert.equal(close.opcode, 8);
        stream.end();
        assert.deepEqual(await nextEvent(), { kind: "close", method: "CONNECT", code: 1000 });
      }
    } finally {
      session.destroy();
    }
  });

  test("ffinet's client against node:http2's server: extended CONNECT with a subprotocol, echo, close", async () => {
    const h2server = http2.createServer({ settings: { enableConnectProtocol: true } });
    const seen: http2.IncomingHttpHeaders[] = [];
    h2server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      seen.push(headers);
      stream.respond({ ":status": 200, "sec-websocket-protocol": "chat" });
      const reader = new FrameReader();
      stream.on("data", (chunk: Uint8Array) => reader.push(new Uint8Array(chunk)));
      void (async () => {
        for (;;) {
          const f = await reader.next();
          if (f.opcode === 8) {
            stream.end(frame(8, f.payload.subarray(0, 2), false)); // echo the code, end our side
            return;
          }
          if (f.opcode === 1 && dec.decode(f.payload) === "reset me") {
            stream.close(http2.constants.NGHTTP2_CANCEL);
            return;
          }
          stream.write(frame(f.opcode, f.payload, false));
        }
      })();
    });
    await new Promise<void>((r) => h2server.listen(0, "127.0.0.1", r));
    const port = (h2server.address() as { port: number }).port;
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/node?x=y`, { http2: true, protocols: ["chat", "other"], perMessageDeflate: false, headers: { "x-test": "1" } });
      assert.equal(seen[0]?.[":method"], "CONNECT");
      assert.equal(seen[0]?.[":protocol"], "websocket");
      assert.equal(seen[0]?.[":path"], "/node?x=y");
      assert.equal(seen[0]?.["sec-websocket-version"], "13");
      assert.equal(seen[0]?.["sec-websocket-protocol"], "chat, other");
      assert.equal(seen[0]?.["x-test"], "1");
      assert.equal(ws.protocol, "chat");
      ws.send("ping?");
      assert.deepEqual(await ws.recv(), { data: "ping?", binary: false });
      ws.send(new Uint8Array(200_000).fill(9)); // past the 64 KiB stream window
      assert.equal(((await ws.recv())?.data as Uint8Array).length, 200_000);
      assert.deepEqual(await ws.close(1000), { code: 1000, reason: "", wasClean: true });
      // A subprotocol we did not offer fails the handshake.
      await assert.rejects(connectWebSocket(`ws://127.0.0.1:${port}/`, { http2: true }), (err: Error & { code?: string }) => err.code === "ERR_WS_HANDSHAKE");
      // RST_STREAM from the server: an abnormal close.
      const again = await connectWebSocket(`ws://127.0.0.1:${port}/again`, { http2: true, protocols: ["chat"], perMessageDeflate: false });
      again.send("reset me");
      assert.deepEqual(await again.closed, { code: 1006, reason: "", wasClean: false });
      assert.equal(await again.recv(), null);
    } finally {
      await new Promise<void>((r) => h2server.close(() => r()));
    }
  });

  test("backpressure on a stream: the server's sends wait for the client's window (send -1, then drain), a paused client holds it, nothing is lost", async () => {
    const piece = new Uint8Array(64 * 1024);
    let refused = 0;
    let drained!: () => void;
    const drain = new Promise<void>((r) => (drained = r));
    await using h2 = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => h2.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        open: (ws) => {
          for (let i = 0; i < 40; i++) {
            piece[0] = i;
            if (ws.send(piece) === -1) refused++;
          }
        },
        drain: () => drained(),
      },
    });
    // At most 2 messages queued: past that the client stops crediting the stream.
    const ws = await connectWebSocket(`ws://127.0.0.1:${h2.addr.port}/`, { http2: true, perMessageDeflate: false, maxQueuedMessages: 2 });
    for (let i = 0; i < 40; i++) {
      const m = await ws.recv();
      assert.equal((m?.data as Uint8Array).length, piece.length);
      assert.equal((m?.data as Uint8Array)[0], i);
    }
    assert.ok(refused > 0, "the 64 KiB stream window held the server back");
    await drain;
    assert.equal((await ws.close(1000)).code, 1000);
  });

  test("Deno's upgradeWebSocket over HTTP/2 (a server with a websocket option announces the setting)", async () => {
    await using h2 = serve({
      host: "127.0.0.1",
      port: 0,
      websocket: {},
      fetch: (request) => {
        const { socket, response } = upgradeWebSocket(request, { protocol: "chat" });
        socket.onmessage = (e) => socket.send(`echo ${String(e.data)}`);
        return response;
      },
    });
    const ws = await connectWebSocket(`ws://127.0.0.1:${h2.addr.port}/deno`, { http2: true, protocols: ["chat"] });
    assert.equal(ws.protocol, "chat");
    ws.send("over CONNECT");
    assert.deepEqual(await ws.recv(), { data: "echo over CONNECT", binary: false });
    assert.equal((await ws.close(1000)).code, 1000);
  });

  test("http2: true falls back to HTTP/1.1's Upgrade against servers without RFC 8441 (npm ws; serve with http2: false)", async () => {
    const wss: NpmWebSocketServer = new npmWs.WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.on("listening", r as never));
    wss.on("connection", ((c: { on(e: string, f: (d: Uint8Array, b: boolean) => void): void; send(d: Uint8Array, o: { binary: boolean }): void }) => {
      c.on("message", (d, binary) => c.send(d, { binary }));
    }) as never);
    const h1 = serve({ host: "127.0.0.1", port: 0, http2: false, fetch: (r) => h1.upgrade(r, { data: { method: r.method } }) ? undefined : new Response("no", { status: 400 }), websocket: { message: (ws, m) => void ws.send(m) } });
    try {
      for (const port of [wss.address().port, h1.addr.port]) {
        const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`, { http2: true });
        ws.send("fallback");
        assert.deepEqual(await ws.recv(), { data: "fallback", binary: false });
        assert.equal((await ws.close(1000)).code, 1000);
      }
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
      await h1.shutdown({ deadlineMs: 100 });
    }
  });
  test("several WebSockets to one origin share one HTTP/2 connection (h2c and wss): concurrent dials wait for the first, a refused stream and a closed WebSocket leave the others alone", async () => {
    const handler = {
      message: (ws: { send(m: string | Uint8Array): number }, m: string | Uint8Array) => void ws.send(m),
    };
    const fetch = (s: () => Server) => (request: Request) =>
      new URL(request.url).pathname !== "/no" && s().upgrade(request) ? undefined : new Response("no", { status: 403 });
    const plain: Server = serve({ host: "127.0.0.1", port: 0, fetch: fetch(() => plain), websocket: handler });
    const secure: Server = serve({ host: "127.0.0.1", port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: fetch(() => secure), websocket: handler });
    try {
      // Six at once over h2c: one connection, six streams.
      const url = `ws://127.0.0.1:${plain.addr.port}`;
      const sockets = await Promise.all(Array.from({ length: 6 }, (_, i) => connectWebSocket(`${url}/s${i}`, { http2: true })));
      assert.equal(plain.connections, 1);
      await Promise.all(sockets.map(async (ws, i) => {
        ws.send(`hello ${i}`);
        assert.deepEqual(await ws.recv(), { data: `hello ${i}`, binary: false });
      }));
      // A refused stream on the shared connection fails that dial only.
      await assert.rejects(connectWebSocket(`${url}/no`, { http2: true }), (err: Error & { code?: string }) => err.code === "ERR_WS_HANDSHAKE");
      assert.deepEqual(await sockets[0]!.close(1000), { code: 1000, reason: "", wasClean: true });
      const later = await connectWebSocket(`${url}/later`, { http2: true });
      assert.equal(plain.connections, 1);
      for (const ws of [...sockets.slice(1), later]) {
        ws.send(new Uint8Array([1, 2, 3]));
        assert.deepEqual(await ws.recv(), { data: new Uint8Array([1, 2, 3]), binary: true });
      }
      for (const ws of [...sockets.slice(1), later]) assert.equal((await ws.close(1000)).code, 1000);

      // wss: the same tls object shares (WHATWG and promise clients alike); another one does not.
      const tls = { ca: pki.root };
      const wurl = `wss://localhost:${secure.addr.port}/`;
      const whatwg = new WebSocket(wurl, { http2: true, tls });
      const [a, b, other] = await Promise.all([
        connectWebSocket(wurl, { http2: true, tls }),
        connectWebSocket(wurl, { http2: true, tls }),
        connectWebSocket(wurl, { http2: true, tls: { ca: pki.root } }),
        new Promise((resolve, reject) => {
          whatwg.onopen = resolve;
          whatwg.onerror = (e) => reject((e as unknown as { error: Error }).error);
        }),
      ]);
      assert.equal(secure.connections, 2);
      const echoed = new Promise<MessageEvent>((r) => (whatwg.onmessage = r));
      whatwg.send("whatwg");
      assert.equal((await echoed).data, "whatwg");
      for (const ws of [a!, b!, other!]) {
        ws.send("tls");
        assert.deepEqual(await ws.recv(), { data: "tls", binary: false });
      }
      const closed = new Promise<{ code: number }>((r) => (whatwg.onclose = r));
      whatwg.close(1000);
      assert.equal((await closed).code, 1000);
      for (const ws of [a!, b!, other!]) assert.equal((await ws.close(1000)).code, 1000);
    } finally {
      await Promise.all([plain.shutdown({ deadlineMs: 100 }), secure.shutdown({ deadlineMs: 100 })]);
    }
  });

  test("node:http2's server takes several extended CONNECT streams from ffinet's client on one session", async () => {
    const h2server = http2.createServer({ settings: { enableConnectProtocol: true } });
    let sessions = 0;
    h2server.on("session", () => sessions++);
    h2server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      if (headers[":path"] === "/no") {
        stream.respond({ ":status": 404 }, { endStream: true });
        return;
      }
      stream.respond({ ":status": 200 });
      const reader = new FrameReader();
      stream.on("data", (chunk: Uint8Array) => reader.push(new Uint8Array(chunk)));
      stream.on("error", () => {});
      void (async () => {
        for (;;) {
          const f = await reader.next();
          if (f.opcode === 8) {
            stream.end(frame(8, f.payload.subarray(0, 2), false));
            return;
          }
          stream.write(frame(f.opcode, f.payload, false));
        }
      })();
    });
    await new Promise<void>((r) => h2server.listen(0, "127.0.0.1", r));
    const port = (h2server.address() as { port: number }).port;
    try {
      const url = `ws://127.0.0.1:${port}`;
      const sockets = await Promise.all(Array.from({ length: 4 }, (_, i) => connectWebSocket(`${url}/n${i}`, { http2: true, perMessageDeflate: false })));
      await assert.rejects(connectWebSocket(`${url}/no`, { http2: true, perMessageDeflate: false }), (err: Error & { code?: string }) => err.code === "ERR_WS_HANDSHAKE");
      assert.equal(sessions, 1);
      await Promise.all(sockets.map(async (ws, i) => {
        ws.send(`node ${i}`);
        assert.deepEqual(await ws.recv(), { data: `node ${i}`, binary: false });
      }));
      for (const ws of sockets) assert.deepEqual(await ws.close(1000), { code: 1000, reason: "", wasClean: true });
    } finally {
      await new Promise<void>((r) => h2server.close(() => r()));
    }
  });
});
