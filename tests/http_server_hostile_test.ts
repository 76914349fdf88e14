// serve() over HTTP/1.1 against hostile clients on raw sockets: what one
// connection can make the server hold or do stays bounded.
// - a client that pipelines and never reads its responses: the server stops
//   reading (and calling the handler) instead of queueing responses without end;
// - slow handlers: at most MAX_PIPELINED_REQUESTS requests of a connection
//   are in the handler at once, the rest wait their turn and are answered in order;
// - a client that stops reading a response (slow read): the connection is
//   aborted once queued bytes wait writeTimeoutMs without the client taking
//   any; one that reads in bursts with shorter pauses is never cut;
// - a chunked body of 1-byte chunks reaches the handler as a few large
//   chunks (a stream queue of 100,000 tiny chunks drains in quadratic time on Node).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve, type Server } from "../http/server/mod.ts";
import { type H1Session, MAX_PIPELINED_REQUESTS, type SessionConfig, sessionHandler } from "../http/server/h1_session.ts";
import { listen } from "../poll/listener.ts";

let server: Server;
let port = 0;
let bigCalls = 0;
let gateCalls = 0;
const gates: Array<() => void> = [];
const BIG = "b".repeat(4096);

before(() => {
  server = serve({
    port: 0,
    http2: false,
    fetch: async (request) => {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/big":
          bigCalls++;
          return new Response(BIG);
        case "/gate": {
          gateCalls++;
          await new Promise<void>((r) => gates.push(r));
          return new Response(`gate ${url.searchParams.get("i")};`);
        }
        case "/chunks": {
          let chunks = 0;
          let bytes = 0;
          for await (const c of request.body!) {
            chunks++;
            bytes += c.byteLength;
          }
          return new Response(`${bytes} bytes in ${chunks} chunks`);
        }
        default:
          return new Response("?", { status: 404 });
      }
    },
  });
  port = server.addr.port;
});

after(async () => {
  await server.shutdown();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

/** Reads from `sock` until `count` occurrences of `marker` arrived (bounded by 60 s); returns the tail and how many. */
function countUntil(sock: net.Socket, marker: string, count: number): Promise<{ seen: number; tail: string }> {
  return new Promise((resolve) => {
    let seen = 0;
    let carry = "";
    const done = () => {
      clearTimeout(bound);
      sock.removeAllListeners("data");
      resolve({ seen, tail: carry });
    };
    const bound = setTimeout(done, 60_000);
    sock.on("data", (d: Buffer) => {
      const text = carry + d.toString("latin1");
      let at = text.indexOf(marker);
      let last = -1;
      while (at >= 0) {
        seen++;
        last = at;
        at = text.indexOf(marker, at + marker.length);
      }
      carry = text.slice(Math.max(last + 1, text.length - 200));
      if (seen >= count) done();
    });
    sock.on("close", done);
    sock.resume();
  });
}

describe("serve over HTTP/1.1: hostile clients", () => {
  test("a client that pipelines 20,000 requests and reads nothing: the server stops reading, then answers all in order once it reads", async () => {
    const total = 20_000;
    const sock = await connect();
    sock.pause();
    const requests = "GET /big HTTP/1.1\r\nHost: a\r\n\r\n".repeat(total - 1) + "GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    sock.write(requests);
    // Wait until the handler count settles (the server stopped reading) or everything was read.
    let last = -1;
    let still = 0;
    for (let i = 0; i < 600 && bigCalls < total && still < 10; i++) {
      await sleep(50);
      if (bigCalls === last) still++;
      else still = 0;
      last = bigCalls;
    }
    // The kernel's socket buffers hold a few thousand 4 KiB responses at most.
    assert.ok(bigCalls < total / 2, `the handler ran ${bigCalls} times for a client that reads nothing`);
    const { seen } = await countUntil(sock, "HTTP/1.1 200 OK", total);
    assert.equal(seen, total);
    assert.equal(bigCalls, total);
    sock.destroy();
  });

  test(`slow handlers: ${MAX_PIPELINED_REQUESTS} pipelined requests at a time are in the handler; 200 are answered in order`, async () => {
    const total = 200;
    const sock = await connect();
    let text = "";
    sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
    let requests = "";
    for (let i = 0; i < total; i++) requests += `GET /gate?i=${i} HTTP/1.1\r\nHost: a\r\n${i === total - 1 ? "Connection: close\r\n" : ""}\r\n`;
    sock.write(requests);
    for (let i = 0; i < 1000 && gateCalls < MAX_PIPELINED_REQUESTS; i++) await sleep(10);
    // All 200 arrived in one read; without the bound every handler would have run by now.
    assert.equal(gateCalls, MAX_PIPELINED_REQUESTS);
    const closed = new Promise((r) => sock.on("close", r));
    for (let i = 0; i < 1000 && gates.length > 0; i++) {
      while (gates.length > 0) gates.shift()!();
      await sleep(5);
    }
    await closed;
    assert.equal(gateCalls, total);
    const bodies = [...text.matchAll(/gate (\d+);/g)].map((m) => Number(m[1]));
    assert.deepEqual(bodies, Array.from({ length: total }, (_, i) => i));
  });

  test("a chunked body of 100,000 one-byte chunks reaches the handler whole, in a few large chunks", async () => {
    const n = 100_000;
    const sock = await connect();
    let text = "";
    sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
    const closed = new Promise((r) => sock.on("close", r));
    sock.write(`POST /chunks HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n${"1\r\nz\r\n".repeat(n)}0\r\n\r\n`);
    await closed;
    const m = /(\d+) bytes in (\d+) chunks/.exec(text);
    assert.ok(m, text.slice(0, 300));
    assert.equal(Number(m[1]), n);
    // One stream chunk per read of the socket at most, not one per HTTP chunk.
    assert.ok(Number(m[2]) < 1000, `${m[2]} chunks`);
  });
});

/** An HTTP/1.1 session server (h1_session's handler on a listener, the sweep run here) with a write stall timeout. */
function stallServer(writeTimeoutMs: number, body: Uint8Array<ArrayBuffer>) {
  const sessions = new Set<H1Session>();
  let opened = false;
  const config: SessionConfig = {
    fetch: () => new Response(body),
    onError: undefined,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    bodyTimeoutMs: 30_000,
    maxConnections: 100,
    maxRequestsPerConnection: Infinity,
    parser: { kind: "request" },
    authority: "127.0.0.1",
    origin: "http://",
    rejected: { maxConnections: 0, rateLimit: 0, protect: 0 },
    sessions,
    upgraded: new Set(),
    draining: false,
    unrefed: false,
    sessionOpened: () => void (opened = true),
    sessionClosed: () => {},
    report: () => {},
    writeTimeoutMs,
  };
  const listener = listen({ port: 0, host: "127.0.0.1", handler: sessionHandler(config) });
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const s of sessions) s.checkTimer(now);
  }, 25);
  return {
    port: listener.port,
    sessions,
    everOpened: () => opened,
    async close() {
      clearInterval(sweep);
      await listener.close();
    },
  };
}

describe("HTTP/1.1 sessions: the write stall timeout", () => {
  const body = new Uint8Array(32 << 20).fill(0x61); // more than the kernel's socket buffers hold

  test("a client that reads nothing of a 32 MiB response is cut off", async () => {
    const server = stallServer(300, body);
    try {
      const sock = net.connect(server.port, "127.0.0.1");
      sock.on("error", () => {});
      sock.pause();
      sock.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      // A paused socket does not see the reset (and Bun's never reports it): the server letting go is what counts.
      for (let i = 0; i < 30_000 / 50 && (server.sessions.size > 0 || !server.everOpened()); i++) await sleep(50);
      assert.equal(server.sessions.size, 0, "the server kept a connection whose client reads nothing");
      sock.destroy();
    } finally {
      await server.close();
    }
  });

  test("a client that reads in bursts with pauses shorter than the timeout gets all of it", async () => {
    // The pauses (20 ms) stay far below the timeout (5 s): on a loaded
    // machine a paused client's timer can fire a second or more late, and
    // that is not the stall the timeout is for.
    const server = stallServer(5000, body);
    try {
      const sock = net.connect(server.port, "127.0.0.1");
      let bytes = 0;
      sock.on("data", (d: Buffer) => {
        bytes += d.length;
        sock.pause();
        setTimeout(() => sock.resume(), 20);
      });
      const ended = new Promise<void>((resolve, reject) => {
        sock.on("error", reject);
        sock.on("close", () => resolve());
      });
      sock.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      await ended;
      assert.ok(bytes > body.length, `${bytes} bytes`);
    } finally {
      await server.close();
    }
  });
});

describe("serve({ writeTimeoutMs })", () => {
  test("serve cuts off a client that reads nothing of a large response; the option is validated", async () => {
    const body = new Uint8Array(32 << 20).fill(0x62);
    const s = serve({ port: 0, http2: false, writeTimeoutMs: 300, fetch: () => new Response(body) });
    try {
      const sock = net.connect(s.addr.port, "127.0.0.1");
      sock.on("error", () => {});
      sock.pause();
      sock.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      let seen = false;
      for (let i = 0; i < 30_000 / 50; i++) {
        if (s.connections > 0) seen = true;
        else if (seen) break;
        await sleep(50);
      }
      assert.ok(seen, "the connection never opened");
      assert.equal(s.connections, 0, "serve kept a connection whose client reads nothing");
      sock.destroy();
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
    assert.throws(() => serve({ port: 0, writeTimeoutMs: -1, fetch: () => new Response("x") }), RangeError);
  });
});
