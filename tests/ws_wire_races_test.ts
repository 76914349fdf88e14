// Close races and deflate bombs over real sockets:
// - both ends closing at once (each sends its Close before it sees the
//   other's): each side reports the code the other sent, cleanly, with
//   npm `ws` as the peer in either role;
// - a raw client sending one small compressed message that inflates far
//   past maxPayloadLength: the server closes with 1009 and its memory
//   stays bounded (the inflater stops at the limit: peak RSS growth,
//   VmHWM after a reset through /proc/self/clear_refs, far below the
//   bomb's size).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import zlib from "node:zlib";
import { serve } from "../http/server/serve.ts";
import { connectWebSocket } from "../ws/client.ts";
import { npmClosed, npmWs, openNpmClient, type NpmWebSocket } from "./ws_peers.ts";

const MiB = 1024 * 1024;
const enc = new TextEncoder();

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) * 1024;
}

/** `total` zero bytes, raw-deflated by node:zlib and ended as permessage-deflate wants (no final empty block tail). */
async function zerosDeflated(total: number): Promise<Uint8Array> {
  const deflater = zlib.createDeflateRaw({ level: 9 });
  const parts: Uint8Array[] = [];
  deflater.on("data", (d: Uint8Array) => parts.push(new Uint8Array(d)));
  const chunk = new Uint8Array(MiB);
  for (let i = 0; i < total / MiB; i++) {
    if (!deflater.write(chunk)) await new Promise((r) => deflater.once("drain", r));
  }
  await new Promise<void>((resolve) => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  deflater.close();
  // RFC 7692 §7.2.1: the sender drops the 00 00 ff ff of the final sync flush.
  return out.subarray(0, out.length - 4);
}

describe("WebSocket close races over the wire", () => {
  test("ffinet's server and an npm ws client close at once: each reports the other's code, cleanly", async () => {
    let serverClosed!: (c: { code: number; reason: string }) => void;
    const serverClose = new Promise<{ code: number; reason: string }>((r) => (serverClosed = r));
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        // The Close goes out before the client's Close (sent right after this message) is read.
        message: (ws) => ws.close(4001, "server"),
        close: (_ws, code, reason) => serverClosed({ code, reason }),
      },
    });
    const client = await openNpmClient(`ws://127.0.0.1:${server.addr.port}/`);
    const clientClose = npmClosed(client);
    client.send("close now");
    client.close(4002, "client");
    assert.deepEqual(await serverClose, { code: 4002, reason: "client" });
    assert.deepEqual(await clientClose, { code: 4001, reason: "server" });
  });

  test("ffinet's client and an npm ws server close at once: each reports the other's code, cleanly", async () => {
    const wss = new npmWs.WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.on("listening", r as never));
    let serverSide!: Promise<{ code: number; reason: string }>;
    wss.on("connection", ((ws: NpmWebSocket) => {
      serverSide = npmClosed(ws);
      ws.on("message", (() => ws.close(4001, "server")) as never);
    }) as never);
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${wss.address().port}/`);
      ws.send("close now");
      const closed = await ws.close(4002, "client");
      assert.deepEqual(closed, { code: 4001, reason: "server", wasClean: true });
      assert.deepEqual(await serverSide, { code: 4002, reason: "client" });
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  test("two ffinet ends close at once, with deflate: 1000 and 4000 cross, both clean", async () => {
    let serverClosed!: (c: { code: number; reason: string }) => void;
    const serverClose = new Promise<{ code: number; reason: string }>((r) => (serverClosed = r));
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        perMessageDeflate: true,
        message: (ws) => ws.close(1000, "bye from server"),
        close: (_ws, code, reason) => serverClosed({ code, reason }),
      },
    });
    const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    ws.send("close now");
    assert.deepEqual(await ws.close(4000, "bye from client"), { code: 1000, reason: "bye from server", wasClean: true });
    assert.deepEqual(await serverClose, { code: 4000, reason: "bye from client" });
  });
});

describe("a deflate bomb over the wire", () => {
  test("256 MiB of zeros in a ~256 KiB message: 1009, and the server's memory grows by a few MiB at most", async () => {
    const bomb = await zerosDeflated(256 * MiB);
    assert.ok(bomb.length < MiB, `compressed ${bomb.length}`);
    let serverClosed!: (code: number) => void;
    const serverClose = new Promise<number>((r) => (serverClosed = r));
    let messages = 0;
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        perMessageDeflate: true,
        maxPayloadLength: MiB,
        message: () => void messages++,
        close: (_ws, code) => serverClosed(code),
      },
    });
    // A raw client (node:net): the handshake offering permessage-deflate, then one masked, compressed binary frame.
    const socket = net.connect(server.addr.port, "127.0.0.1");
    socket.on("error", () => {}); // the server may reset the connection: it stops reading at the limit
    let got = new Uint8Array(0);
    let wake: (() => void) | undefined;
    let ended = false;
    socket.on("data", (chunk: Uint8Array) => {
      const joined = new Uint8Array(got.length + chunk.length);
      joined.set(got);
      joined.set(chunk, got.length);
      got = joined;
      wake?.();
    });
    socket.on("close", () => {
      ended = true;
      wake?.();
    });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 100_000 && !done() && !ended; i++) await new Promise<void>((r) => (wake = r));
    };
    socket.write(
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    );
    await until(() => new TextDecoder().decode(got).includes("\r\n\r\n"));
    const text = new TextDecoder().decode(got);
    const headEnd = text.indexOf("\r\n\r\n");
    const head = text.slice(0, headEnd);
    assert.match(head, /^HTTP\/1\.1 101/);
    assert.match(head, /sec-websocket-extensions: permessage-deflate/i);
    got = got.slice(headEnd + 4);
    const frame = new Uint8Array(14 + bomb.length);
    frame[0] = 0x80 | 0x40 | 0x2; // FIN, RSV1 (compressed), binary
    frame[1] = 0x80 | 127; // masked (key 0: the payload as is), 64-bit length
    new DataView(frame.buffer).setBigUint64(2, BigInt(bomb.length));
    frame.set(bomb, 14);
    writeFileSync("/proc/self/clear_refs", "5"); // VmHWM := VmRSS from here
    const base = status("VmRSS");
    socket.write(frame);
    // The server answers with a Close 1009 and closes.
    await until(() => got.length >= 4);
    const peak = status("VmHWM") - base;
    console.error(`peak RSS growth ${(peak / MiB).toFixed(1)} MiB`);
    assert.equal(got[0], 0x88, "a Close frame");
    assert.equal((got[2]! << 8) | got[3]!, 1009);
    assert.equal(await serverClose, 1009);
    assert.equal(messages, 0);
    // Without the early stop this would be ≥ 256 MiB.
    assert.ok(peak < 48 * MiB, `peak RSS growth ${(peak / MiB).toFixed(1)} MiB`);
    socket.destroy();
  });
});
