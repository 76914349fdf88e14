// serve() over HTTP/1.1 and h2c: a request's life when the client leaves
// early, half-closes or resets, and when the server shuts down (server red
// team, seventh session). All held; kept as regressions:
// - a client that half-closes (shutdown(SHUT_WR)) after its request still
//   gets the whole response (request.signal does abort then: at a FIN the
//   server cannot tell a half-close from a client that left, as hyper, Go
//   and Node's servers see it);
// - request.signal aborts when the client closes or resets the connection
//   before the response, and never after the response was written (a
//   keep-alive connection closed later, an HTTP/2 connection closed after
//   its stream ended);
// - a client that resets in the middle of a large or streamed response
//   frees the connection and settles info.completed;
// - shutdown({ deadlineMs }): a request in flight that ends before the
//   deadline is answered (with Connection: close), one that does not is
//   cut at the deadline and its signal aborts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import http2 from "node:http2";
import { serve, type Server } from "../http/server/mod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await sleep(10);
}

/** A server whose /wait handler holds its answer until `release()`; it records aborts by path. */
function gatedServer(http2Enabled: boolean) {
  const aborted: string[] = [];
  const completed: string[] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const entered: string[] = [];
  const server: Server = serve({
    port: 0,
    ...(http2Enabled ? {} : { http2: false }),
    fetch: async (request, info) => {
      const path = new URL(request.url).pathname;
      request.signal.addEventListener("abort", () => void aborted.push(path));
      void info.completed.then(() => void completed.push(path));
      entered.push(path);
      if (path === "/wait") await gate;
      if (path === "/big") return new Response(new Uint8Array(16 << 20));
      if (path === "/stream") {
        return new Response(new ReadableStream({
          pull: async (c) => {
            await sleep(2);
            c.enqueue(new Uint8Array(64 * 1024));
          },
        }));
      }
      return new Response(`done ${path}`);
    },
  });
  return {
    server,
    aborted,
    completed,
    entered,
    release: () => {
      release();
      gate = new Promise<void>((r) => (release = r));
    },
  };
}

describe("serve over HTTP/1.1: the client leaves early", () => {
  test("a half-close after the request: the response still arrives whole", async () => {
    const g = gatedServer(false);
    try {
      const reply = await new Promise<string>((resolve) => {
        const sock = net.connect(g.server.addr.port, "127.0.0.1");
        let out = "";
        sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
        sock.on("error", () => {});
        sock.on("close", () => resolve(out));
        sock.end("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
        void waitFor(() => g.entered.length > 0).then(() => g.release());
      });
      assert.match(reply, /^HTTP\/1\.1 200 /);
      assert.match(reply, /done \/wait$/);
    } finally {
      await g.server.shutdown({ deadlineMs: 200 });
    }
  });

  test("request.signal aborts when the client closes or resets before the response, not after it", async () => {
    const g = gatedServer(false);
    try {
      for (const how of ["end", "reset"] as const) {
        const sock = net.connect(g.server.addr.port, "127.0.0.1");
        sock.on("error", () => {});
        sock.write("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
        await waitFor(() => g.entered.length > 0);
        if (how === "end") sock.destroy();
        else sock.resetAndDestroy();
        await waitFor(() => g.aborted.length > 0);
        assert.deepEqual(g.aborted, ["/wait"], how);
        g.aborted.length = 0;
        g.entered.length = 0;
        g.release();
      }
      // Answered, then the keep-alive connection closed: no abort.
      const sock = net.connect(g.server.addr.port, "127.0.0.1");
      sock.on("error", () => {});
      const got = new Promise<void>((r) => sock.once("data", () => r()));
      sock.write("GET /now HTTP/1.1\r\nHost: a\r\n\r\n");
      await got;
      await waitFor(() => g.completed.includes("/now"));
      sock.destroy();
      await waitFor(() => g.server.connections === 0);
      assert.deepEqual(g.aborted, []);
    } finally {
      await g.server.shutdown({ deadlineMs: 200 });
    }
  });

  test("a reset in the middle of a 16 MiB body or an endless stream frees the connection and settles info.completed", async () => {
    const g = gatedServer(false);
    try {
      for (const path of ["/big", "/stream"]) {
        const sock = net.connect(g.server.addr.port, "127.0.0.1");
        sock.on("error", () => {});
        let bytes = 0;
        sock.on("data", (d: Buffer) => {
          bytes += d.length;
          if (bytes > 256 * 1024) sock.resetAndDestroy();
        });
        sock.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
        await waitFor(() => g.completed.includes(path) && g.server.connections === 0);
        assert.ok(g.completed.includes(path), path);
        assert.equal(g.server.connections, 0, path);
      }
    } finally {
      await g.server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve over HTTP/2: the client leaves", () => {
  test("request.signal aborts when the connection goes before the response, not after the stream ended", async () => {
    const g = gatedServer(true);
    try {
      const a = http2.connect(`http://127.0.0.1:${g.server.addr.port}`);
      a.on("error", () => {});
      const s1 = a.request({ ":path": "/wait" });
      s1.on("error", () => {});
      await waitFor(() => g.entered.length > 0);
      a.destroy();
      await waitFor(() => g.aborted.length > 0);
      assert.deepEqual(g.aborted, ["/wait"]);
      g.release();
      g.aborted.length = 0;
      const b = http2.connect(`http://127.0.0.1:${g.server.addr.port}`);
      b.on("error", () => {});
      const s2 = b.request({ ":path": "/now" });
      s2.resume();
      await new Promise((r) => s2.on("close", r));
      await waitFor(() => g.completed.includes("/now"));
      b.destroy();
      await waitFor(() => g.server.connections === 0);
      assert.deepEqual(g.aborted, []);
    } finally {
      await g.server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("serve: shutdown with requests in flight", () => {
  test("HTTP/1.1: answered with Connection: close when the handler ends before the deadline; cut, its signal aborted, when it does not", async () => {
    const g = gatedServer(false);
    const ask = () => new Promise<string>((resolve) => {
      const sock = net.connect(g.server.addr.port, "127.0.0.1");
      let out = "";
      sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
      sock.on("error", () => {});
      sock.on("close", () => resolve(out));
      sock.write("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
    });
    const first = ask();
    await waitFor(() => g.entered.length === 1);
    const shutdown = g.server.shutdown({ deadlineMs: 20_000 });
    g.release();
    const reply = await first;
    await shutdown;
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /\r\nConnection: close\r\n/i);
    assert.deepEqual(g.aborted, []);

    const h = gatedServer(false);
    const held = new Promise<string>((resolve) => {
      const sock = net.connect(h.server.addr.port, "127.0.0.1");
      let out = "";
      sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
      sock.on("error", () => {});
      sock.on("close", () => resolve(out));
      sock.write("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
    });
    await waitFor(() => h.entered.length === 1);
    await h.server.shutdown({ deadlineMs: 200 });
    assert.equal(await held, "");
    await waitFor(() => h.aborted.length > 0);
    assert.deepEqual(h.aborted, ["/wait"]);
    h.release();
  });
});
