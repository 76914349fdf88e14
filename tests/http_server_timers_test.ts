// serve's timeouts count from when they are armed, not from an older clock
// reading of the same synchronous run (core/clock.ts turnMs): a handler that
// blocked the thread for longer than the keep-alive timeout (after
// something earlier in its run read the turn's clock: a rate limit, request
// metrics) had the HTTP/1.1 keep-alive wait, and the HTTP/2 idle timeout,
// end as soon as its response went out. No timing is asserted: the check
// runs on the server's own loop at a point measured from a fresh clock
// reading taken as the response leaves, half the timeout before it may end.
// The HTTP/1.1 body idle timeout likewise starts when the head's read was
// handled (after a handler called from it), and each read of body bytes
// starts it again.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import http2 from "node:http2";
import net from "node:net";
import { turnMs } from "../core/clock.ts";
import { defaultLoop } from "../poll/loop.ts";
import { serve, type Server } from "../http/server/serve.ts";

const KEEP_ALIVE_MS = 1000;

/** Blocks the thread (not spinning) for `ms`. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A server whose `/block` handler reads the turn's clock, blocks past the keep-alive timeout, then answers at once. */
function blockingServer(state: { respondedAt: number }, http2Enabled: boolean): Server {
  return serve({
    port: 0,
    keepAliveTimeoutMs: KEEP_ALIVE_MS,
    ...(http2Enabled ? {} : { http2: false }),
    fetch: (request) => {
      if (request.url.endsWith("/block")) {
        turnMs(); // something earlier in this synchronous run read the turn's clock
        block(KEEP_ALIVE_MS + 300);
        state.respondedAt = performance.now();
      }
      return new Response("ok");
    },
  });
}

/** Resolves on the server's loop at `at` (a performance.now() reading), or at once when past. */
function atServerTime(at: number): Promise<void> {
  return new Promise((resolve) => defaultLoop().timers.once(Math.max(0, at - performance.now()), () => resolve()));
}

/** A raw HTTP/1.1 client: `get(path)` sends a request and resolves with its response once complete. */
function rawClient(port: number): { get(path: string): Promise<string>; closed: () => boolean; destroy(): void } {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("latin1");
  let text = "";
  let isClosed = false;
  let waiting: { need: number; resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  let answered = 0;
  const check = () => {
    if (waiting === undefined) return;
    const bodies = text.split("\r\n\r\nok").length - 1;
    if (bodies >= waiting.need) {
      const w = waiting;
      waiting = undefined;
      w.resolve(text);
    } else if (isClosed) {
      const w = waiting;
      waiting = undefined;
      w.reject(new Error(`the server closed the connection after ${bodies} responses`));
    }
  };
  socket.on("data", (d: string) => {
    text += d;
    check();
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    isClosed = true;
    check();
  });
  return {
    get(path) {
      answered++;
      return new Promise((resolve, reject) => {
        waiting = { need: answered, resolve, reject };
        socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
        check();
      });
    },
    closed: () => isClosed,
    destroy: () => socket.destroy(),
  };
}

/** Waits (bounded, no timing asserted) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A raw socket that collects what the server sends. */
function rawSocket(port: number): { socket: net.Socket; text: () => string; closed: () => boolean } {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("latin1");
  let text = "";
  let closed = false;
  socket.on("data", (d: string) => (text += d));
  socket.on("error", () => {});
  socket.on("close", () => (closed = true));
  return { socket, text: () => text, closed: () => closed };
}

describe("serve: timeouts count from when they are armed", () => {
  test("HTTP/1.1: a handler that blocked past keepAliveTimeoutMs leaves the keep-alive wait after its response whole", async () => {
    const state = { respondedAt: 0 };
    const server = blockingServer(state, false);
    const client = rawClient(server.addr.port);
    try {
      await client.get("/warm"); // a kept-alive connection: the next request starts from the keep-alive wait
      await client.get("/block");
      await atServerTime(state.respondedAt + KEEP_ALIVE_MS / 2);
      assert.equal(server.connections, 1, "the connection was closed before its keep-alive timeout");
      assert.equal(client.closed(), false);
      assert.match(await client.get("/again"), /ok$/);
    } finally {
      client.destroy();
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("HTTP/1.1: a handler that blocked past bodyTimeoutMs as the head arrived still gets the body sent after it", async () => {
    let entered = false;
    const server = serve({
      port: 0,
      http2: false,
      bodyTimeoutMs: KEEP_ALIVE_MS,
      fetch: (request) => {
        turnMs();
        block(KEEP_ALIVE_MS + 300);
        entered = true;
        return request.text().then((text) => new Response(`got ${text}`));
      },
    });
    const client = rawSocket(server.addr.port);
    try {
      client.socket.write("POST /upload HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\n");
      await until(() => entered, "the handler");
      // The body timeout starts when the head's read was handled, after the handler: the body is on time.
      client.socket.write("hello");
      await until(() => client.text().endsWith("got hello") || client.closed(), "the response");
      assert.match(client.text(), /^HTTP\/1\.1 200 /);
    } finally {
      client.socket.destroy();
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("HTTP/1.1: a body that keeps coming is never cut by bodyTimeoutMs; one that stops gets 408", async () => {
    // A gap 20 times shorter than the timeout: a loaded machine may stall
    // the test's writes for a while without the server seeing a pause.
    const BODY_MS = 3000;
    const BODY = "abcdefghijklmnopqrstuvwx";
    const server = serve({
      port: 0,
      http2: false,
      bodyTimeoutMs: BODY_MS,
      fetch: async (request) => new Response(`got ${await request.text()}`),
    });
    const trickle = rawSocket(server.addr.port);
    const stalled = rawSocket(server.addr.port);
    try {
      trickle.socket.write(`POST /a HTTP/1.1\r\nhost: a\r\ncontent-length: ${BODY.length}\r\n\r\n`);
      stalled.socket.write("POST /b HTTP/1.1\r\nhost: a\r\ncontent-length: 6\r\n\r\nabc");
      // One byte every BODY_MS / 20: longer than the timeout in all, never that long between two.
      for (const byte of BODY) {
        await new Promise((r) => setTimeout(r, BODY_MS / 20));
        trickle.socket.write(byte);
      }
      await until(() => trickle.text().endsWith(`got ${BODY}`) || trickle.closed(), "the trickled body's response");
      assert.match(trickle.text(), /^HTTP\/1\.1 200 /);
      await until(() => stalled.closed(), "the stalled body's connection to close");
      assert.match(stalled.text(), /^HTTP\/1\.1 408 /);
    } finally {
      trickle.socket.destroy();
      stalled.socket.destroy();
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("HTTP/2: a handler that blocked past the idle timeout leaves the idle wait after its response whole", async () => {
    const state = { respondedAt: 0 };
    const server = blockingServer(state, true);
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
    session.on("error", () => {});
    let goaway = false;
    session.on("goaway", () => (goaway = true));
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": path });
        let body = "";
        req.setEncoding("latin1");
        req.on("data", (d: string) => (body += d));
        req.on("end", () => resolve(body));
        req.on("error", reject);
        req.end();
      });
    try {
      assert.equal(await get("/warm"), "ok");
      assert.equal(await get("/block"), "ok");
      await atServerTime(state.respondedAt + KEEP_ALIVE_MS / 2);
      assert.equal(server.connections, 1, "the connection was closed before its idle timeout");
      assert.equal(goaway, false, "GOAWAY before the idle timeout");
      assert.equal(await get("/again"), "ok");
    } finally {
      session.destroy();
      await server.shutdown({ deadlineMs: 1000 });
    }
  });
});
