// An HTTP/1.1 client that half-closes (FIN right after a whole request), per RFC 9112 §9.6 and as nginx
// with proxy_ignore_client_abort: the response still goes out, and the connection closes after it (no fd
// outlives the exchange). A handler that never settles (it ignores its request's signal, aborted at the
// FIN) is cut by the server's timeouts: bodyTimeoutMs after the FIN, the connection gets a 503 and
// closes. Against raw node:net clients; the server's connection count must come back to 0.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { serve, type Server } from "../http/server/serve.ts";

const bounded = <T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

/** Sends `request`, half-closes, and resolves with everything read until the server's close. */
function halfClosed(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (text += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
    socket.on("end", () => socket.destroy());
    socket.on("connect", () => socket.end(request));
  });
}

/** Resolves once the server has no connection open (checked on each of its own closes, bounded). */
async function noConnections(server: Server): Promise<void> {
  for (let i = 0; i < 1000 && server.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.connections, 0, "a connection outlived its exchange");
}

describe("HTTP/1.1: a client that half-closes after its request", () => {
  test("a handler that answers after the FIN: the response goes out, then the connection closes", async () => {
    let aborted = false;
    const server = serve({
      port: 0,
      http2: false,
      fetch: async (request) => {
        await new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve(), { once: true }));
        aborted = true;
        return new Response("late answer");
      },
    });
    try {
      await server.ready;
      const text = await bounded(halfClosed(server.addr.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "the response and the close");
      assert.ok(text.startsWith("HTTP/1.1 200 "), text);
      assert.ok(text.endsWith("late answer"), text);
      assert.ok(aborted, "the request's signal aborted at the FIN");
      await noConnections(server);
    } finally {
      await server.shutdown();
    }
  });

  test("a handler that never settles is cut bodyTimeoutMs after the FIN: a 503, then the connection closes", async () => {
    const server = serve({
      port: 0,
      http2: false,
      bodyTimeoutMs: 300,
      fetch: () => new Promise<Response>(() => {}),
    });
    try {
      await server.ready;
      const text = await bounded(halfClosed(server.addr.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "the close");
      assert.ok(text.startsWith("HTTP/1.1 503 "), JSON.stringify(text));
      await noConnections(server);
    } finally {
      await server.shutdown({ deadlineMs: 100 });
    }
  });

  test("pipelined: every answered request's response goes out in order; one that never settles behind them is cut", async () => {
    const server = serve({
      port: 0,
      http2: false,
      bodyTimeoutMs: 300,
      fetch: (request) => (request.url.endsWith("/never") ? new Promise<Response>(() => {}) : new Response(new URL(request.url).pathname)),
    });
    try {
      await server.ready;
      const text = await bounded(halfClosed(server.addr.port, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n"), "the close");
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
      assert.deepEqual(statuses, ["200", "200", "503"], text);
      assert.ok(text.indexOf("/a") < text.indexOf("/b"), text);
      await noConnections(server);
    } finally {
      await server.shutdown({ deadlineMs: 100 });
    }
  });
});
