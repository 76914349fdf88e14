// A light Response (light_response.ts, serve's default on Node) keeps the
// handler's own array until it is written; the runtime's Response copies it
// at construction. A response that waits on its HTTP/1.1 connection (behind
// a pipelined request answered later, or for the output to drain) is written
// after the application may have changed that array (a buffer it reuses):
// serve copies a waiting light response's bytes, so what goes out is what
// was answered.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import net from "node:net";
import { installLightResponse } from "../http/server/light_response.ts";
import { serve } from "../http/server/serve.ts";

/** Sends `requests` at once on one connection and resolves with everything read until the server closes it. */
function exchange(port: number, requests: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setEncoding("latin1");
    let text = "";
    socket.on("data", (d: string) => (text += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
    socket.write(requests);
  });
}

describe("serve over HTTP/1.1: a light response that waits", () => {
  test("behind a pipelined request answered later: bytes changed after answering go out as answered", async () => {
    const uninstall = installLightResponse();
    const shared = new Uint8Array(1000);
    let releaseSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => (releaseSlow = resolve));
    const server = serve({
      port: 0,
      http2: false,
      fetch: (request) => {
        if (request.url.endsWith("/slow")) return slowAnswered.then(() => new Response("slow"));
        shared.fill(65);
        const response = new Response(shared);
        // Answered (it waits behind /slow): the application reuses its buffer, then /slow is answered.
        queueMicrotask(() => {
          shared.fill(66);
          releaseSlow();
        });
        return response;
      },
    });
    try {
      const text = await exchange(server.addr.port, "GET /slow HTTP/1.1\r\nhost: a\r\n\r\nGET /bytes HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
      const responses = text.split("HTTP/1.1 ").slice(1);
      assert.equal(responses.length, 2);
      assert.match(responses[0]!, /slow$/);
      const body = responses[1]!.slice(responses[1]!.indexOf("\r\n\r\n") + 4);
      assert.equal(body, "A".repeat(1000));
    } finally {
      uninstall();
      await server.shutdown({ deadlineMs: 2000 });
    }
  });
});
