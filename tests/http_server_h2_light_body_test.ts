// A light Response's bytes (light_response.ts: not copied at construction,
// serve's default on Node) written over HTTP/2: what the peer's flow-control
// window does not take at once is queued as serve's own copy, as over
// HTTP/1.1 (tests/http_server_large_body_test.ts) and as the runtime's
// Response copies at construction. The queue held a view of the handler's
// array instead, so bytes the application changed after answering (a
// buffer it reuses) went out changed as the window opened.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import http2 from "node:http2";
import { installLightResponse } from "../http/server/light_response.ts";
import { serve } from "../http/server/serve.ts";

const BODY = 200_000;

describe("serve over HTTP/2: a light response's bytes", () => {
  test("bytes changed after answering, while the peer's window holds the rest back, arrive as answered", async () => {
    const uninstall = installLightResponse();
    const shared = new Uint8Array(BODY);
    const server = serve({
      port: 0,
      fetch: () => {
        shared.fill(65);
        return new Response(shared);
      },
    });
    // A 16 KiB stream window: most of the body waits in the server's queue until the client reads.
    const session = http2.connect(`http://127.0.0.1:${server.addr.port}`, { settings: { initialWindowSize: 16384 } });
    session.on("error", () => {});
    try {
      const body = await new Promise<Uint8Array>((resolve, reject) => {
        const request = session.request({ ":path": "/" });
        const parts: Uint8Array[] = [];
        request.pause();
        request.on("error", reject);
        request.on("response", (headers) => {
          assert.equal(headers[":status"], 200);
          // The server has answered: the application reuses its buffer now.
          shared.fill(66);
          request.on("data", (chunk: Uint8Array) => parts.push(chunk));
          request.resume();
        });
        request.on("end", () => {
          const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            all.set(p, at);
            at += p.length;
          }
          resolve(all);
        });
      });
      assert.equal(body.length, BODY);
      const changed = body.findIndex((b) => b !== 65);
      assert.equal(changed, -1, `byte ${changed} went out as changed after the answer`);
    } finally {
      session.close();
      uninstall();
      await server.shutdown({ deadlineMs: 2000 });
    }
  });
});
