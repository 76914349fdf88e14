// serve({ websocket }) and upgradeWebSocket against hostile or departing
// clients on raw sockets (server red team, seventh session). Found and fixed:
// - shutdown({ deadlineMs }) left open WebSockets alone until the deadline
//   and then aborted them: the client saw no Close frame and the server's
//   close handler got 1006. The server now sends Close 1001 Going Away
//   (RFC 6455 §7.4.1) when the shutdown starts, over HTTP/1.1 and over
//   HTTP/2 tunnels; a client that answers is closed cleanly at once, one
//   that does not is cut at the deadline.
// - server.upgrade turned any TypeError of the switch into a 400; only the
//   precondition it stands for (a request its session will not switch:
//   HTTP/1.0, RFC 9110 §7.8) is now a refusal, asked of the session
//   (canSwitchProtocols).
// Checked and sound: a fragmented message never finished past
// maxPayloadLength is closed with 1009; a ping flood from a client that
// reads nothing is cut once the pongs pass the buffer limit.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve, type Server } from "../http/server/mod.ts";
import { canSwitchProtocols } from "../http/server/h1_session.ts";
import { upgradeWebSocket } from "../ws/server.ts";
import { connectWebSocket } from "../ws/client.ts";

const HANDSHAKE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const mask = [0x11, 0x22, 0x33, 0x44];
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 255);
  else head.push(0x80 | 127, 0, 0, 0, 0, (len >>> 24) & 255, (len >> 16) & 255, (len >> 8) & 255, len & 255);
  return Buffer.concat([Buffer.from(head), Buffer.from(mask), Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!))]);
}

/** A raw WebSocket client: the frames the server sent after its 101, and whether it answers a Close. */
interface RawClient {
  sock: net.Socket;
  /** The server's Close frame (code, reason), once it came. */
  close: Promise<{ code: number; reason: string }>;
  ended: Promise<void>;
}

function rawClient(port: number, answerClose: boolean): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let gotClose!: (c: { code: number; reason: string }) => void;
    const close = new Promise<{ code: number; reason: string }>((r) => (gotClose = r));
    const ended = new Promise<void>((r) => sock.on("close", () => r()));
    sock.on("error", () => {});
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!buf.subarray(0, end).toString("latin1").startsWith("HTTP/1.1 101 ")) return reject(new Error(buf.toString("latin1")));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve({ sock, close, ended });
      }
      // Server frames are unmasked; small ones only here.
      while (buf.length >= 2 && buf.length >= 2 + (buf[1]! & 0x7f)) {
        const len = buf[1]! & 0x7f;
        const opcode = buf[0]! & 0x0f;
        const payload = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (opcode === 8) {
          gotClose({ code: payload.readUInt16BE(0), reason: payload.subarray(2).toString("utf8") });
          if (answerClose) sock.write(frame(8, payload));
        }
      }
    });
    sock.write(`GET /ws HTTP/1.1\r\nHost: a\r\n${HANDSHAKE}\r\n`);
  });
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await sleep(10);
}

describe("serve: WebSockets when the server shuts down", () => {
  test("server.upgrade (Bun's shape): the client gets Close 1001, answers, and the server's close handler sees 1001", async () => {
    const codes: number[] = [];
    const s: Server = serve({
      port: 0,
      http2: false,
      websocket: { message: () => {}, close: (_ws, code) => void codes.push(code) },
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    });
    const client = await rawClient(s.addr.port, true);
    const shutdown = s.shutdown({ deadlineMs: 20_000 });
    assert.deepEqual(await client.close, { code: 1001, reason: "server shutting down" });
    await shutdown;
    await client.ended;
    assert.deepEqual(codes, [1001]);
  });

  test("upgradeWebSocket (Deno's shape): the same, the socket's close event has code 1001 and wasClean", async () => {
    const events: Array<[number, boolean]> = [];
    const s = serve({
      port: 0,
      http2: false,
      fetch: (request, info) => {
        const { socket, response } = upgradeWebSocket(request, { info });
        socket.onclose = (e) => void events.push([e.code, e.wasClean]);
        return response;
      },
    });
    const client = await rawClient(s.addr.port, true);
    const shutdown = s.shutdown({ deadlineMs: 20_000 });
    assert.equal((await client.close).code, 1001);
    await shutdown;
    await waitFor(() => events.length > 0);
    assert.deepEqual(events, [[1001, true]]);
  });

  test("over HTTP/2 (RFC 8441 extended CONNECT on h2c): the client gets Close 1001 too, the handler sees 1001", async () => {
    const codes: number[] = [];
    const s: Server = serve({
      port: 0,
      websocket: { message: () => {}, close: (_ws, code) => void codes.push(code) },
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    });
    const ws = await connectWebSocket(`ws://127.0.0.1:${s.addr.port}/`, { http2: true });
    ws.send("hello"); // the socket is open on the server's side once this arrives
    await waitFor(() => s.connections > 0);
    const shutdown = s.shutdown({ deadlineMs: 20_000 });
    const closed = await ws.closed;
    assert.equal(closed.code, 1001);
    assert.equal(closed.wasClean, true);
    await shutdown;
    await waitFor(() => codes.length > 0);
    assert.deepEqual(codes, [1001]);
  });

  test("a client that never answers the Close is cut at the deadline (1006 to the handler)", async () => {
    const codes: number[] = [];
    const s: Server = serve({
      port: 0,
      http2: false,
      websocket: { message: () => {}, close: (_ws, code) => void codes.push(code), closeTimeoutMs: 60_000 },
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    });
    const client = await rawClient(s.addr.port, false);
    await s.shutdown({ deadlineMs: 300 });
    assert.equal((await client.close).code, 1001);
    await client.ended;
    assert.equal(s.connections, 0);
    assert.deepEqual(codes, [1006]);
  });
});

describe("serve: which requests server.upgrade can switch", () => {
  test("canSwitchProtocols: an HTTP/1.1 handshake yes; HTTP/1.0, no Upgrade field, or CONNECT no; HTTP/1.0 is a 400 refusal", async () => {
    const verdicts: string[] = [];
    const s: Server = serve({
      port: 0,
      http2: false,
      websocket: { message: () => {} },
      fetch: (request, info) => {
        verdicts.push(`${request.method} ${canSwitchProtocols(info)}`);
        if (new URL(request.url).pathname === "/ws") return s.upgrade(request) ? undefined : undefined;
        return new Response("plain");
      },
    });
    try {
      const replies: string[] = [];
      for (const raw of [
        `GET /ws HTTP/1.0\r\nHost: a\r\n${HANDSHAKE}\r\n`,
        "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      ]) {
        replies.push(await new Promise<string>((resolve) => {
          const sock = net.connect(s.addr.port, "127.0.0.1");
          let out = "";
          sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
          sock.on("error", () => {});
          sock.on("close", () => resolve(out));
          sock.write(raw);
          setTimeout(() => sock.destroy(), 5000);
        }));
      }
      assert.match(replies[0]!, /^HTTP\/1\.1 400 /);
      assert.match(replies[0]!, /needs HTTP\/1\.1/);
      const client = await rawClient(s.addr.port, true);
      client.sock.destroy();
      assert.deepEqual(verdicts, ["GET false", "GET false", "CONNECT false", "GET true"]);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve({ websocket }): hostile frames", () => {
  test("a fragmented message never finished, past maxPayloadLength: Close 1009", async () => {
    const codes: number[] = [];
    const s: Server = serve({
      port: 0,
      http2: false,
      websocket: { message: () => {}, close: (_ws, code) => void codes.push(code), maxPayloadLength: 1 << 20 },
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    });
    try {
      const client = await rawClient(s.addr.port, false);
      client.sock.write(frame(1, new TextEncoder().encode("start"), false));
      const part = frame(0, new Uint8Array(60_000).fill(0x61), false);
      for (let i = 0; i < 40 && !client.sock.destroyed; i++) client.sock.write(part);
      assert.equal((await client.close).code, 1009);
      await client.ended;
      await waitFor(() => codes.length > 0);
      assert.deepEqual(codes, [1009]);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("a ping flood from a client that reads nothing is cut once the pongs pass the buffer limit", async () => {
    const s: Server = serve({
      port: 0,
      http2: false,
      websocket: { message: () => {}, maxBufferedBytes: 256 * 1024 },
      fetch: (request) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    });
    try {
      const client = await rawClient(s.addr.port, false);
      client.sock.pause();
      const pings = Buffer.concat(Array.from({ length: 5000 }, () => frame(9, new Uint8Array(125))));
      for (let i = 0; i < 40 && !client.sock.destroyed; i++) {
        client.sock.write(pings);
        await sleep(20);
      }
      await waitFor(() => s.connections === 0);
      assert.equal(s.connections, 0, "the server kept a connection whose pongs nobody reads");
      client.sock.destroy();
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });
});
