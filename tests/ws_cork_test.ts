// The echoes of one read go out together: a raw client writes several
// frames in one write, so the server reads them at once, and what the
// handlers send while that read is processed is gathered and sent with one
// send after it (a client that pipelines gets its answers in one segment,
// not one system call each). Checked: order against auto-pongs and a Close
// sent mid-read, a message too large to gather, and a handler that also
// sends to another socket while one is gathered (the senders' shared
// buffer is copied out first).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../http/server/serve.ts";
import { connect } from "../poll/connect.ts";
import type { ServerWebSocket } from "../ws/server.ts";

const HANDSHAKE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array | string): Buffer {
  const bytes = typeof payload === "string" ? enc.encode(payload) : payload;
  const mask = [0x11, 0x22, 0x33, 0x44];
  const len = bytes.length;
  const head: number[] = [0x80 | opcode];
  if (len < 126) head.push(0x80 | len);
  else head.push(0x80 | 126, len >> 8, len & 255);
  return Buffer.concat([Buffer.from(head), Buffer.from(mask), Buffer.from(bytes.map((b, i) => b ^ mask[i & 3]!))]);
}

interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** A raw client after its 101: every data event's bytes, and the server frames parsed so far. */
interface Raw {
  sock: net.Socket;
  chunks: Buffer[];
  frames: Frame[];
  /** Resolves once `n` frames came. */
  until(n: number): Promise<void>;
}

function parse(buf: Buffer, out: Frame[]): Buffer {
  for (;;) {
    if (buf.length < 2) return buf;
    let len = buf[1]! & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) return buf;
      len = (buf[2]! << 8) | buf[3]!;
      at = 4;
    }
    if (buf.length < at + len) return buf;
    out.push({ opcode: buf[0]! & 0x0f, payload: new Uint8Array(buf.subarray(at, at + len)) });
    buf = buf.subarray(at + len);
  }
}

function rawClient(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const raw: Raw = { sock, chunks: [], frames: [], until: () => Promise.resolve() };
    let waiter: { n: number; resolve: () => void } | undefined;
    raw.until = (n) => new Promise<void>((r) => {
      if (raw.frames.length >= n) return r();
      waiter = { n, resolve: r };
    });
    let buf: Buffer = Buffer.alloc(0);
    let upgraded = false;
    sock.on("error", reject);
    sock.on("data", (d: Buffer) => {
      if (upgraded) raw.chunks.push(d);
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!buf.subarray(0, end).toString("latin1").startsWith("HTTP/1.1 101 ")) return reject(new Error(buf.toString("latin1")));
        upgraded = true;
        buf = buf.subarray(end + 4);
        if (buf.length > 0) raw.chunks.push(Buffer.from(buf));
        resolve(raw);
      }
      buf = parse(buf, raw.frames);
      if (waiter !== undefined && raw.frames.length >= waiter.n) {
        const w = waiter;
        waiter = undefined;
        w.resolve();
      }
    });
    sock.on("connect", () => sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${HANDSHAKE}\r\n`));
  });
}

/** A server echoing every message (and running `also` first), with its open sockets in order. */
function echoServer(also?: (ws: ServerWebSocket<unknown>, message: string | Uint8Array, open: ServerWebSocket<unknown>[]) => void) {
  const open: ServerWebSocket<unknown>[] = [];
  const server = serve({
    host: "127.0.0.1",
    port: 0,
    fetch: (request) => (server.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open: (ws) => void open.push(ws),
      message: (ws, message) => {
        also?.(ws, message, open);
        if (ws.readyState === 1) ws.send(message);
      },
    },
  });
  return { server, open };
}

const texts = (frames: Frame[]) => frames.map((f) => `${f.opcode}:${dec.decode(f.payload)}`);

describe("WebSocket server: the echoes of one read are sent together", () => {
  test("five messages and a ping in one write: echoes and the pong in order, in one segment", async () => {
    const { server } = echoServer();
    await using _server = server;
    const raw = await rawClient(server.addr.port);
    raw.chunks.length = 0;
    raw.sock.write(Buffer.concat([frame(1, "m0"), frame(1, "m1"), frame(1, "m2"), frame(9, "p"), frame(1, "m3"), frame(2, "m4")]));
    await raw.until(6);
    assert.deepEqual(texts(raw.frames), ["1:m0", "1:m1", "1:m2", "10:p", "1:m3", "2:m4"]);
    // One send for the whole read: the client's first read after the write holds all of it.
    assert.equal(raw.chunks[0]!.length, 5 * 4 + 3);
    raw.sock.destroy();
  });

  test("the echoes of one read arrive as one TCP segment (the client's segments in, from TCP_INFO)", async () => {
    const { server } = echoServer();
    await using _server = server;
    const conn = await connect({ host: "127.0.0.1", port: server.addr.port });
    let got: Buffer = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    conn.setHandler({
      data: (_c, bytes) => {
        got = Buffer.concat([got, bytes]);
        wake?.();
      },
    });
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise<void>((r) => (wake = r));
    };
    conn.send(enc.encode(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.addr.port}\r\n${HANDSHAKE}\r\n`));
    await until(() => got.indexOf("\r\n\r\n") >= 0);
    got = got.subarray(got.indexOf("\r\n\r\n") + 4);
    const before = conn.socket.tcpInfo().segsIn;
    const words = ["a", "b", "c", "d", "e", "f", "g", "h"];
    conn.send(Buffer.concat(words.map((w) => frame(1, w))));
    await until(() => got.length >= words.length * 3);
    const segments = conn.socket.tcpInfo().segsIn - before;
    const frames: Frame[] = [];
    parse(got, frames);
    assert.deepEqual(texts(frames), words.map((w) => `1:${w}`));
    // One data segment, and at most a bare ACK of the burst before it (one send per echo: eight).
    assert.ok(segments <= 2, `${segments} segments for ${words.length} echoes`);
    await conn.close();
  });

  test("a Close sent in the middle of a read follows the echoes sent before it, and nothing after", async () => {
    const { server } = echoServer((ws, message) => {
      if (message === "stop") ws.close(4000, "enough");
    });
    await using _server = server;
    const raw = await rawClient(server.addr.port);
    raw.sock.write(Buffer.concat([frame(1, "a"), frame(1, "b"), frame(1, "stop"), frame(1, "c")]));
    await raw.until(3);
    await new Promise<void>((r) => raw.sock.once("close", () => r()).end(frame(8, new Uint8Array([0x03, 0xe8]))));
    assert.deepEqual(raw.frames.map((f) => f.opcode), [1, 1, 8]);
    assert.deepEqual(texts(raw.frames.slice(0, 2)), ["1:a", "1:b"]);
    assert.equal((raw.frames[2]!.payload[0]! << 8) | raw.frames[2]!.payload[1]!, 4000);
    assert.equal(dec.decode(raw.frames[2]!.payload.subarray(2)), "enough");
  });

  test("a message too large to gather goes after the gathered ones, every byte intact", async () => {
    const { server } = echoServer();
    await using _server = server;
    const raw = await rawClient(server.addr.port);
    const big = new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff);
    raw.sock.write(Buffer.concat([frame(1, "x"), frame(2, "y"), frame(2, big), frame(1, "z")]));
    await raw.until(4);
    assert.deepEqual(texts([raw.frames[0]!, raw.frames[1]!, raw.frames[3]!]), ["1:x", "2:y", "1:z"]);
    assert.equal(raw.frames[2]!.opcode, 2);
    assert.deepEqual(raw.frames[2]!.payload, big);
    raw.sock.destroy();
  });

  test("a handler that also sends to another socket while echoes are gathered: both get intact messages in order", async () => {
    // Every message from the first client is echoed and forwarded to the
    // second: the forward is framed in the senders' shared buffer, where
    // the first echo of the read waits to be sent.
    const { server } = echoServer((ws, message, open) => {
      if (ws === open[0] && open[1] !== undefined) open[1].send(`fwd ${String(message)}`);
    });
    await using _server = server;
    const first = await rawClient(server.addr.port);
    const second = await rawClient(server.addr.port);
    const words = ["one", "two", "three", "four", "five", "six"];
    first.sock.write(Buffer.concat(words.map((w) => frame(1, w))));
    await first.until(words.length);
    await second.until(words.length);
    assert.deepEqual(texts(first.frames), words.map((w) => `1:${w}`));
    assert.deepEqual(texts(second.frames), words.map((w) => `1:fwd ${w}`));
    first.sock.destroy();
    second.sock.destroy();
  });

  test("connections read in one dispatch, each forwarding to the next: every socket gets its echoes and the forwards in order", async () => {
    // Gathered echoes wait for the end of the loop's dispatch: the others'
    // handlers frame their messages in the shared buffer meanwhile, and
    // send to sockets that hold gathered echoes.
    const n = 5;
    const { server } = echoServer((ws, message, open) => {
      const i = open.indexOf(ws);
      if (open.length === n) open[(i + 1) % n]!.send(`fwd ${String(message)}`);
    });
    await using _server = server;
    const clients: Raw[] = [];
    for (let i = 0; i < n; i++) clients.push(await rawClient(server.addr.port));
    const words = (i: number) => [`c${i}a`, `c${i}b`, `c${i}c`];
    // Each client's frames in two writes, all written before the server runs.
    for (let i = 0; i < n; i++) {
      const [a, b, c] = words(i);
      clients[i]!.sock.write(frame(1, a!));
      clients[i]!.sock.write(Buffer.concat([frame(1, b!), frame(1, c!)]));
    }
    for (const c of clients) await c.until(6);
    for (let i = 0; i < n; i++) {
      const got = texts(clients[i]!.frames);
      assert.deepEqual(got.filter((t) => !t.includes("fwd")).map((t) => t.slice(2)), words(i));
      assert.deepEqual(got.filter((t) => t.includes("fwd")).map((t) => t.slice(6)), words((i + n - 1) % n));
    }
    for (const c of clients) c.sock.destroy();
  });

  test("gathered echoes of changing sizes over many reads: each read's echoes intact, the same size again included", async () => {
    // Two or three messages per read are gathered in the channel's own
    // buffer and sent as one view of it: the view is made again when the
    // size changes or the buffer grew, and a read of a size seen before
    // sends that read's bytes, not the last ones.
    const { server } = echoServer();
    await using _server = server;
    const raw = await rawClient(server.addr.port);
    const sizes = [[3, 4], [3, 4], [10, 20], [3, 4], [100, 150, 7], [3, 4], [1000, 3000], [3, 4], [10, 20]];
    let seen = 0;
    for (let r = 0; r < sizes.length; r++) {
      const words = sizes[r]!.map((n, j) => String.fromCharCode(97 + ((r + j) % 26)).repeat(n));
      raw.sock.write(Buffer.concat(words.map((w) => frame(1, w))));
      seen += words.length;
      await raw.until(seen);
      assert.deepEqual(texts(raw.frames.slice(seen - words.length)), words.map((w) => `1:${w}`), `read ${r}`);
    }
    raw.sock.destroy();
  });

  test("a message and the client's FIN in one write: its echo goes out before the server closes", async () => {
    const { server } = echoServer();
    await using _server = server;
    for (let round = 0; round < 5; round++) {
      const raw = await rawClient(server.addr.port);
      const closed = new Promise<void>((r) => raw.sock.once("close", () => r()));
      raw.sock.end(frame(1, `last ${round}`));
      await closed;
      assert.deepEqual(texts(raw.frames), [`1:last ${round}`]);
    }
  });
});
