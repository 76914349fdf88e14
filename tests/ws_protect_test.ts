// serve's `protect` follows a connection that an HTTP/1.1 request switches to
// WebSocket: it stays counted for its address until the WebSocket ends
// (maxPerIp still refuses the next one; released exactly once however it
// ends: clean close either way, client reset, server terminate), the
// bandwidth limit still meters its frames, and the gauges (protection,
// server, WebSocket) count it. Clients are raw sockets bound to 127.0.0.x
// speaking RFC 6455 by hand, and the npm `ws` client (also over TLS).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MetricsRegistry } from "../core/metrics.ts";
import { toPrometheusText } from "../core/prometheus.ts";
import { SocketError } from "../core/errors.ts";
import { adopt, type Connection } from "../poll/mod.ts";
import { ListenProtection, protectionCollector } from "../pool/mod.ts";
import { Socket } from "../socket/socket.ts";
import { serverCollector } from "../http/server/metrics_handler.ts";
import { serve, type Server } from "../http/server/serve.ts";
import type { ServerWebSocket } from "../ws/server.ts";
import { WS_STATS } from "../ws/ws_stats.ts";
import { testPKI } from "./tls_pki.ts";
import { npmClosed, npmMessages, openNpmClient } from "./ws_peers.ts";

/** A raw connection from `source` (a loopback address) to 127.0.0.1:port. */
function connectFrom(source: string, port: number): Connection {
  const s = Socket.create("ipv4");
  try {
    s.bind(source, 0);
    s.connect("127.0.0.1", port);
  } catch (err) {
    s.close();
    throw err;
  }
  return adopt(s);
}

/** Waits (bounded, no timing asserted) for the server side to catch up. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A client frame (masked, FIN set). */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  const mask = [0x12, 0x34, 0x56, 0x78];
  out.set(mask, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** A WebSocket client over a raw connection: the handshake, then frames by hand. */
class RawWebSocket {
  readonly conn: Connection;
  #buffer = new Uint8Array(0);

  constructor(conn: Connection) {
    this.conn = conn;
  }

  /** Sends the upgrade request; resolves with the 101 head, or null when the server refused the connection. */
  async open(requestId: string): Promise<string | null> {
    try {
      await this.conn.write(encoder.encode(
        "GET /ws HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
          `sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\nx-request-id: ${requestId}\r\n\r\n`,
      ));
      for (let i = 0; i < 100; i++) {
        const text = decoder.decode(this.#buffer);
        const end = text.indexOf("\r\n\r\n");
        if (end >= 0) {
          this.#buffer = this.#buffer.subarray(end + 4);
          return text.slice(0, end);
        }
        if (!(await this.#more())) return null;
      }
      throw new Error("no response head");
    } catch (err) {
      if (err instanceof SocketError && (err.code === "ECONNRESET" || err.code === "EPIPE")) return null;
      throw err;
    }
  }

  async #more(): Promise<boolean> {
    const chunk = await this.conn.read();
    if (chunk === null) return false;
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  send(text: string | Uint8Array): Promise<void> {
    return this.conn.write(typeof text === "string" ? frame(1, encoder.encode(text)) : frame(2, text));
  }

  sendClose(code: number): Promise<void> {
    return this.conn.write(frame(8, new Uint8Array([code >> 8, code & 0xff])));
  }

  /** The next server frame (unmasked), or null at the end. */
  async next(): Promise<{ opcode: number; payload: Uint8Array } | null> {
    for (;;) {
      const b = this.#buffer;
      if (b.length >= 2) {
        let len = b[1]! & 0x7f;
        let at = 2;
        if (len === 126 && b.length >= 4) {
          len = (b[2]! << 8) | b[3]!;
          at = 4;
        } else if (len === 127 && b.length >= 10) {
          len = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(2));
          at = 10;
        }
        if (len < 126 || at > 2) {
          if (b.length >= at + len) {
            this.#buffer = b.subarray(at + len);
            return { opcode: b[0]! & 0x0f, payload: b.slice(at, at + len) };
          }
        }
      }
      if (!(await this.#more())) return null;
    }
  }
}

/** An echo server with WebSockets at /ws (others get "ok"), `protect` given. */
function wsServer(protect: ListenProtection, sockets: ServerWebSocket<unknown>[] = []): Server {
  const server: Server = serve({
    port: 0,
    host: "127.0.0.1",
    protect,
    websocket: {
      open: (ws) => void sockets.push(ws),
      message: (ws, m) => void ws.send(m),
    },
    fetch: (request) => new URL(request.url).pathname === "/ws" && server.upgrade(request) ? undefined : new Response("ok"),
  });
  return server;
}

const pki = testPKI();

/** Sends one GET on `conn`; the response text, or null when refused with a close. */
async function rawGet(conn: Connection): Promise<string | null> {
  try {
    await conn.write(encoder.encode("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    let text = "";
    for (let i = 0; i < 100; i++) {
      const chunk = await conn.read();
      if (chunk === null) return text === "" ? null : text;
      text += decoder.decode(chunk);
      if (/\r\n\r\nok$/.test(text)) return text;
    }
    return text;
  } catch (err) {
    if (err instanceof SocketError && (err.code === "ECONNRESET" || err.code === "EPIPE")) return null;
    throw err;
  }
}

describe("serve({ protect }) follows a connection upgraded to WebSocket", () => {
  test("maxPerIp holds while the WebSocket is open; each way it ends releases the slot exactly once", async () => {
    const protect = new ListenProtection({ maxPerIp: 2 });
    const sockets: ServerWebSocket<unknown>[] = [];
    const server = wsServer(protect, sockets);
    const port = server.addr.port;
    try {
      // One plain keep-alive connection holds a slot throughout: a double release would free it too.
      const plain = connectFrom("127.0.0.2", port);
      assert.match((await rawGet(plain)) ?? "", /^HTTP\/1\.1 200/);
      const ends = ["client close", "server close", "client reset", "server terminate"] as const;
      for (const [i, end] of ends.entries()) {
        const ws = new RawWebSocket(connectFrom("127.0.0.2", port));
        assert.match((await ws.open(`r${i}`)) ?? "", /^HTTP\/1\.1 101/, end);
        await ws.send(`hello ${i}`);
        const echo = await ws.next();
        assert.equal(decoder.decode(echo?.payload), `hello ${i}`);
        assert.equal(protect.connections("127.0.0.2"), 2, end);
        assert.equal(protect.stats().open, 2);
        assert.equal(server.connections, 2);
        // The third from this address is refused at accept, during the WebSocket too.
        const third = connectFrom("127.0.0.2", port);
        try {
          assert.equal(await rawGet(third), null, end);
        } finally {
          third.abort();
        }
        assert.equal(protect.stats().refusedPerIp, i + 1);
        const serverSide = sockets[i]!;
        if (end === "client close") {
          await ws.sendClose(1000);
          assert.equal((await ws.next())?.opcode, 8);
          assert.equal(await ws.next(), null);
          await ws.conn.close();
        } else if (end === "server close") {
          serverSide.close(1001, "bye");
          assert.equal((await ws.next())?.opcode, 8);
          await ws.sendClose(1001);
          assert.equal(await ws.next(), null);
          await ws.conn.close();
        } else if (end === "client reset") {
          ws.conn.abort(); // SO_LINGER 0: a reset
        } else {
          serverSide.terminate();
          assert.equal(await ws.next().catch(() => null), null);
          ws.conn.abort();
        }
        await until(() => protect.connections("127.0.0.2") === 1 && server.connections === 1, `the release after a ${end}`);
        assert.equal(protect.stats().open, 1, end);
      }
      // The plain connection still counts, and its slot is still its own.
      assert.match((await rawGet(plain)) ?? "", /^HTTP\/1\.1 200/);
      assert.equal(protect.connections("127.0.0.2"), 1);
      plain.abort();
      await until(() => protect.connections("127.0.0.2") === 0, "the plain connection's release");
      assert.equal(protect.stats().open, 0);
      assert.equal(protect.stats().admitted, 5);
    } finally {
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("npm ws clients: the one over maxPerIp fails, another address is served, the slot frees on close", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    const server = wsServer(protect);
    const url = `ws://127.0.0.1:${server.addr.port}/ws`;
    try {
      const first = await openNpmClient(url);
      first.send("one");
      assert.deepEqual(await npmMessages(first)(), { data: "one", binary: false });
      assert.equal(protect.connections("127.0.0.1"), 1);
      await assert.rejects(openNpmClient(url));
      assert.equal(protect.stats().refusedPerIp, 1);
      // Another address (a raw client from 127.0.0.3) is served meanwhile.
      const other = new RawWebSocket(connectFrom("127.0.0.3", server.addr.port));
      assert.match((await other.open("o")) ?? "", /^HTTP\/1\.1 101/);
      other.conn.abort();
      const closed = npmClosed(first);
      first.close(1000);
      assert.equal((await closed).code, 1000);
      await until(() => protect.connections("127.0.0.1") === 0, "the release of 127.0.0.1");
      const again = await openNpmClient(url);
      again.send("two");
      assert.deepEqual(await npmMessages(again)(), { data: "two", binary: false });
      const closedAgain = npmClosed(again);
      again.terminate();
      await closedAgain;
      await until(() => protect.stats().open === 0, "every release");
      assert.equal(protect.stats().admitted, 3);
    } finally {
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("the bandwidth limit meters the WebSocket's frames; the gauges count it", async () => {
    // 16 KiB/s with a 4 KiB burst: the upgrade request fits the burst; a 24 KiB message does not.
    const protect = new ListenProtection({ bandwidth: { bytesPerSecond: 16_384, burst: 4096 } });
    const server = wsServer(protect);
    const registry = new MetricsRegistry();
    registry.collect(protectionCollector({ ws: protect }));
    registry.collect(serverCollector({ ws: server }));
    const openBefore = WS_STATS.server.open;
    try {
      const ws = new RawWebSocket(connectFrom("127.0.0.4", server.addr.port));
      assert.match((await ws.open("bw")) ?? "", /^HTTP\/1\.1 101/);
      assert.equal(protect.stats().bandwidthPauses, 0);
      const text = toPrometheusText(registry.snapshot());
      assert.match(text, /^listen_connections_open\{listener="ws"\} 1$/m);
      assert.match(text, /^http_server_connections\{server="ws"\} 1$/m);
      await until(() => WS_STATS.server.open === openBefore + 1, "the server's WebSocket count");
      const big = new Uint8Array(24 * 1024).map((_, i) => i & 0xff);
      await ws.send(big);
      const echo = await ws.next();
      assert.equal(echo?.opcode, 2);
      assert.deepEqual(echo?.payload, big);
      assert.ok(protect.stats().bandwidthPauses >= 1, `paused ${protect.stats().bandwidthPauses} times`);
      await ws.sendClose(1000);
      assert.equal((await ws.next())?.opcode, 8);
      await ws.conn.close();
      await until(() => protect.stats().open === 0 && server.connections === 0, "the close");
      assert.match(toPrometheusText(registry.snapshot()), /^listen_connections_open\{listener="ws"\} 0$/m);
    } finally {
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("over TLS (wss): maxPerIp and the bandwidth limit hold after the upgrade; the slot frees on close", async () => {
    const protect = new ListenProtection({ maxPerIp: 1, bandwidth: { bytesPerSecond: 16_384, burst: 4096 } });
    const server: Server = serve({
      port: 0,
      host: "127.0.0.1",
      tls: { cert: pki.chain, key: pki.key },
      protect,
      websocket: { message: (ws, m) => void ws.send(m) },
      fetch: (request) => server.upgrade(request) ? undefined : new Response("ok"),
    });
    const url = `wss://127.0.0.1:${server.addr.port}/ws`;
    const tls = { ca: pki.root, servername: "localhost" };
    try {
      const ws = await openNpmClient(url, [], tls);
      assert.equal(protect.connections("127.0.0.1"), 1);
      await assert.rejects(openNpmClient(url, [], tls));
      assert.equal(protect.stats().refusedPerIp, 1);
      const pausesBefore = protect.stats().bandwidthPauses;
      const big = new Uint8Array(24 * 1024).map((_, i) => (i * 7) & 0xff);
      ws.send(big);
      const echo = await npmMessages(ws)();
      assert.equal(echo.binary, true);
      assert.deepEqual(echo.data, big);
      assert.ok(protect.stats().bandwidthPauses > pausesBefore, `paused ${protect.stats().bandwidthPauses - pausesBefore} times after the upgrade`);
      const closed = npmClosed(ws);
      ws.close(1000);
      assert.equal((await closed).code, 1000);
      await until(() => protect.stats().open === 0 && protect.connections("127.0.0.1") === 0, "the release");
      assert.equal(protect.stats().admitted, 1);
    } finally {
      await server.shutdown({ deadlineMs: 1000 });
    }
  });
});
