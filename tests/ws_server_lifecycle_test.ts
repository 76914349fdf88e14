// serve({ websocket }) and upgradeWebSocket: the heartbeat and the upgrade
// calls, against raw node:net clients (WebSocket red team, tenth session).
// Found and fixed:
// - the heartbeat counted only whole frames as a sign of life: a client
//   sending one long frame slowly (its pong can only follow the frame,
//   RFC 6455 §5.4) was dropped as dead (1006) while its bytes kept coming.
//   Any byte received now counts.
// - a second upgrade of one request (upgradeWebSocket twice, or after
//   server.upgrade) answered with a second 101 that replaced the first:
//   the socket of the response the handler returned never opened. The
//   second upgradeWebSocket throws a TypeError, a second server.upgrade
//   returns false.
// - the 101 echoed the request's whole Upgrade list ("h2c, websocket"):
//   RFC 9110 §7.8 has it name the protocol switched to, and clients (npm
//   ws, browsers) want exactly "websocket". info.upgrade takes the
//   protocol (UpgradeOptions.protocol); the WebSocket upgrade gives
//   websocket (conformance case 6455/4.2.1/20 checks the wire).
// - ws.send() that took the output past maxBufferedBytes returned -1
//   ("queued, wait for drain") although the message was dropped with the
//   connection (1008): it returns 0, as Bun's does for a dropped message.
// - a websocket handler (message, ping, drain, close) that threw escaped
//   into the loop (an uncaught exception: the process ends on Node) and
//   left the connection a zombie: the receiver stopped mid-read, every
//   later read threw again, and a Close from the client went unanswered.
//   The connection is now failed with Close 1011 (RFC 6455 §7.4.1), the
//   close handler gets 1011, and the error goes to serve's logger (or
//   stderr), as a failed request's does.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../http/server/serve.ts";
import { upgradeWebSocket } from "../ws/server.ts";
import { Logger } from "../core/log.ts";

const HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const MASK = [0x37, 0xfa, 0x21, 0x3d];

/** A masked client frame header for a payload of `length` bytes (any size). */
function header(b0: number, length: number): Buffer {
  if (length < 126) return Buffer.from([b0, 0x80 | length, ...MASK]);
  if (length < 65536) return Buffer.from([b0, 0x80 | 126, length >> 8, length & 255, ...MASK]);
  const h = Buffer.alloc(14);
  h[0] = b0;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  Buffer.from(MASK).copy(h, 10);
  return h;
}

/** `payload` masked as the bytes at `offset` of a frame's payload. */
function masked(payload: Uint8Array, offset: number): Buffer {
  return Buffer.from(payload.map((b, i) => b ^ MASK[(offset + i) & 3]!));
}

/** A raw client that upgrades and collects what the server sends after its 101. */
function rawClient(port: number): Promise<{ sock: net.Socket; status: string; frames: () => Buffer; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let status = "";
    const ended = new Promise<void>((r) => sock.on("close", () => r()));
    sock.on("error", () => {});
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (status !== "") return;
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      status = buf.subarray(0, buf.indexOf("\r\n")).toString("latin1");
      buf = buf.subarray(end + 4);
      resolve({ sock, status, frames: () => buf, ended });
    });
    sock.on("close", () => reject(new Error(`closed before the response head: ${buf.toString("latin1")}`)));
    sock.write(HANDSHAKE);
  });
}

/** The server's Close frame (small, unmasked), once it came. */
async function serverClose(client: { frames: () => Buffer; ended: Promise<void> }): Promise<{ code: number; reason: string }> {
  await client.ended;
  const f = client.frames();
  const at = f.indexOf(0x88);
  assert.ok(at >= 0, `no Close frame in ${f.toString("hex")}`);
  const len = f[at + 1]! & 0x7f;
  const payload = f.subarray(at + 2, at + 2 + len);
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString("utf8") };
}

describe("WebSocket server heartbeat: any byte proves the peer alive", () => {
  test("a client sending one long frame slowly, answering no ping, is not dropped; its message arrives whole", async () => {
    let got!: (m: Uint8Array) => void;
    const message = new Promise<Uint8Array>((resolve) => (got = resolve));
    const closes: number[] = [];
    let pings = 0;
    const s = serve({
      port: 0,
      fetch: (r) => (s.upgrade(r) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        // Long enough that a loaded machine's stalls (the client trickles from this process) stay shorter.
        heartbeatMs: 150,
        message: (_ws, m) => got(m as Uint8Array),
        close: (_ws, code) => void closes.push(code),
      },
    });
    try {
      const client = await rawClient(s.addr.port);
      assert.match(client.status, /^HTTP\/1\.1 101 /);
      // One binary frame whose bytes trickle in (a small piece every few ms)
      // until the server has pinged 4 times, that is over 3 whole heartbeat
      // intervals; then the rest at once. Only the bytes themselves can keep
      // the client alive: it answers no ping.
      const payload = new Uint8Array(256 * 1024).map((_, i) => i % 251);
      client.sock.write(header(0x82, payload.length));
      const pingsNow = (): number => {
        const f = client.frames();
        let n = 0;
        for (let i = 0; i + 1 < f.length; i++) if (f[i] === 0x89 && f[i + 1] === 0) n++;
        return n;
      };
      const piece = 64;
      let at = 0;
      while (pingsNow() < 4 && closes.length === 0 && at + piece < payload.length) {
        client.sock.write(masked(payload.subarray(at, at + piece), at));
        at += piece;
        await new Promise((r) => setTimeout(r, 3));
      }
      client.sock.write(masked(payload.subarray(at), at));
      pings = pingsNow();
      assert.deepEqual(closes, [], "dropped while its bytes kept coming");
      assert.deepEqual(await message, payload);
      assert.ok(pings >= 4, `the server pinged ${pings} times`);
      client.sock.destroy();
      await client.ended;
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });
});

describe("upgrading one request twice", () => {
  test("server.upgrade twice: true, then false; one 101, and the socket opens once", async () => {
    const results: boolean[] = [];
    let opens = 0;
    const s = serve({
      port: 0,
      fetch: (r) => {
        results.push(s.upgrade(r), s.upgrade(r));
        return undefined;
      },
      websocket: { open: () => void opens++, message() {} },
    });
    try {
      const client = await rawClient(s.addr.port);
      assert.match(client.status, /^HTTP\/1\.1 101 /);
      assert.deepEqual(results, [true, false]);
      client.sock.end(Buffer.concat([header(0x88, 2), masked(new Uint8Array([0x03, 0xe8]), 0)]));
      assert.equal((await serverClose(client)).code, 1000);
      assert.equal(opens, 1);
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });

  test("upgradeWebSocket twice: the second throws a TypeError, and the socket of the response returned opens", async () => {
    let second: unknown;
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const s = serve({
      port: 0,
      fetch: (r, info) => {
        const first = upgradeWebSocket(r, { info });
        try {
          upgradeWebSocket(r, { info });
        } catch (err) {
          second = err;
        }
        first.socket.onopen = () => {
          first.socket.close(4001, "first");
          opened();
        };
        return first.response;
      },
    });
    try {
      const client = await rawClient(s.addr.port);
      assert.ok(second instanceof TypeError, `the second call: ${String(second)}`);
      assert.match(client.status, /^HTTP\/1\.1 101 /);
      await open;
      const closing = serverClose(client);
      // Answer the Close so the server ends the connection.
      const wait = setInterval(() => {
        if (client.frames().includes(0x88)) {
          clearInterval(wait);
          client.sock.end(Buffer.concat([header(0x88, 2), masked(new Uint8Array([0x0f, 0xa1]), 0)]));
        }
      }, 5);
      assert.deepEqual(await closing, { code: 4001, reason: "first" });
      clearInterval(wait);
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });

  test("upgradeWebSocket after server.upgrade throws; the server.upgrade socket is the one that opens", async () => {
    let thrown: unknown;
    let opens = 0;
    const s = serve({
      port: 0,
      fetch: (r) => {
        assert.equal(s.upgrade(r), true);
        try {
          upgradeWebSocket(r);
        } catch (err) {
          thrown = err;
        }
        return undefined;
      },
      websocket: {
        open: (ws) => {
          opens++;
          ws.close(4002, "bun");
        },
        message() {},
      },
    });
    try {
      const client = await rawClient(s.addr.port);
      assert.ok(thrown instanceof TypeError);
      const closing = serverClose(client);
      const wait = setInterval(() => {
        if (client.frames().includes(0x88)) {
          clearInterval(wait);
          client.sock.end(Buffer.concat([header(0x88, 2), masked(new Uint8Array([0x0f, 0xa2]), 0)]));
        }
      }, 5);
      assert.deepEqual(await closing, { code: 4002, reason: "bun" });
      clearInterval(wait);
      assert.equal(opens, 1);
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });

  test("upgradeWebSocket's socket closed before its 101 is written: it opens, then sends Close with that code", async () => {
    const s = serve({
      port: 0,
      fetch: (r, info) => {
        const { socket, response } = upgradeWebSocket(r, { info });
        socket.close(4003, "early");
        assert.equal(socket.readyState, 2);
        return response;
      },
    });
    try {
      const client = await rawClient(s.addr.port);
      assert.match(client.status, /^HTTP\/1\.1 101 /);
      const closing = serverClose(client);
      const wait = setInterval(() => {
        if (client.frames().includes(0x88)) {
          clearInterval(wait);
          client.sock.end(Buffer.concat([header(0x88, 2), masked(new Uint8Array([0x0f, 0xa3]), 0)]));
        }
      }, 5);
      assert.deepEqual(await closing, { code: 4003, reason: "early" });
      clearInterval(wait);
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });
});

describe("a websocket handler that throws", () => {
  for (const which of ["message", "ping"] as const) {
    test(`${which}: the connection is failed with Close 1011, the server goes on, the error is logged`, async () => {
      const logged: string[] = [];
      const closes: number[] = [];
      let thrown = 0;
      const s = serve({
        port: 0,
        logger: new Logger({ level: "error", sink: (line) => void logged.push(line) }),
        fetch: (r) => (s.upgrade(r) ? undefined : new Response("no", { status: 400 })),
        websocket: {
          message: (ws, m) => {
            if (which === "message" && m === "boom") {
              thrown++;
              throw new Error("handler boom");
            }
            ws.send(m);
          },
          ping: () => {
            if (which === "ping") {
              thrown++;
              throw new Error("handler boom");
            }
          },
          close: (_ws, code) => void closes.push(code),
        },
      });
      try {
        const client = await rawClient(s.addr.port);
        // The throwing frame, then more in the same write: nothing after it is handled.
        const trigger = which === "message"
          ? Buffer.concat([header(0x81, 4), masked(new TextEncoder().encode("boom"), 0)])
          : Buffer.concat([header(0x89, 1), masked(new Uint8Array([1]), 0)]);
        client.sock.write(Buffer.concat([trigger, header(0x81, 2), masked(new TextEncoder().encode("hi"), 0)]));
        const wait = setInterval(() => {
          if (client.frames().includes(0x88)) {
            clearInterval(wait);
            client.sock.end(Buffer.concat([header(0x88, 2), masked(new Uint8Array([0x03, 0xf3]), 0)]));
          }
        }, 5);
        const close = await serverClose(client);
        clearInterval(wait);
        assert.equal(close.code, 1011);
        assert.equal(thrown, 1);
        assert.equal(client.frames().indexOf(0x81), -1, "no echo after the throw");
        while (closes.length === 0) await new Promise((r) => setTimeout(r, 5));
        assert.deepEqual(closes, [1011]);
        assert.equal(logged.length, 1);
        assert.match(logged[0]!, /handler boom/);
        // The server still serves.
        const again = await rawClient(s.addr.port);
        again.sock.write(Buffer.concat([header(0x81, 2), masked(new TextEncoder().encode("ok"), 0)]));
        while (!again.frames().includes(0x81)) await new Promise((r) => setTimeout(r, 5));
        again.sock.destroy();
      } finally {
        await s.shutdown({ deadlineMs: 100 });
      }
    });
  }

  test("close: the error is logged, the server goes on", async () => {
    const logged: string[] = [];
    let closed = 0;
    const s = serve({
      port: 0,
      logger: new Logger({ level: "error", sink: (line) => void logged.push(line) }),
      fetch: (r) => (s.upgrade(r) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        message() {},
        close: () => {
          closed++;
          throw new Error("close boom");
        },
      },
    });
    try {
      const client = await rawClient(s.addr.port);
      client.sock.destroy();
      while (logged.length === 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(closed, 1);
      assert.match(logged[0]!, /close boom/);
      const again = await rawClient(s.addr.port);
      assert.match(again.status, /^HTTP\/1\.1 101 /);
      again.sock.destroy();
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });
});

describe("info.upgrade's protocol (the 101's Upgrade)", () => {
  test("a protocol that is not a list of tokens is a TypeError; a valid one is the 101's Upgrade", async () => {
    const errors: unknown[] = [];
    const s = serve({
      port: 0,
      fetch: (_r, info) => {
        for (const protocol of ["web socket", "websocket\r\nX-Evil: 1", "", "a,,b"]) {
          try {
            info.upgrade!({ open: () => {}, protocol });
          } catch (err) {
            errors.push(err);
          }
        }
        return info.upgrade!({ protocol: "echo/2", open: (conn) => void conn.close() });
      },
    });
    try {
      const sock = net.connect(s.addr.port, "127.0.0.1");
      let got = "";
      sock.on("data", (d: Buffer) => (got += d.toString("latin1")));
      const closed = new Promise<void>((r) => sock.on("close", () => r()));
      sock.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c, echo/2\r\n\r\n");
      await closed;
      assert.equal(errors.length, 4);
      for (const err of errors) assert.ok(err instanceof TypeError);
      assert.match(got, /^HTTP\/1\.1 101 /);
      assert.deepEqual(got.split("\r\n").filter((l) => /^upgrade:/i.test(l)), ["Upgrade: echo/2"]);
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });
});

describe("ServerWebSocket.send's return value", () => {
  test("to a client that reads nothing: the length while below the high-water mark, -1 past it, 0 for the send that drops the client (1008)", async () => {
    const results: number[] = [];
    let after = -1;
    let closeCode!: (code: number) => void;
    const closed = new Promise<number>((resolve) => (closeCode = resolve));
    const s = serve({
      port: 0,
      fetch: (r) => (s.upgrade(r) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        maxBufferedBytes: 1 << 20,
        open: (ws) => {
          const big = new Uint8Array(256 * 1024);
          // The kernel takes some MiB at most; the loop is bounded all the same.
          for (let i = 0; i < 10_000 && ws.readyState === 1; i++) results.push(ws.send(big));
          after = ws.send(big);
        },
        message() {},
        close: (_ws, code) => closeCode(code),
      },
    });
    try {
      const sock = net.connect(s.addr.port, "127.0.0.1");
      sock.on("error", () => {});
      sock.pause(); // reads nothing
      sock.write(HANDSHAKE);
      assert.equal(await closed, 1008);
      assert.equal(results.at(-1), 0, `the last sends returned ${results.slice(-3).join(", ")}`);
      assert.ok(results.slice(0, -1).every((r) => r === 256 * 1024 || r === -1), "before: the length or -1");
      assert.ok(results.includes(-1), "backpressure came before the drop");
      assert.equal(after, 0, "a send once closed returns 0");
      sock.destroy();
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });
});
