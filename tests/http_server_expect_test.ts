// serve() over HTTP/1.1 with `Expect: 100-continue`: a raw client waits for
// `100 Continue`, then sends the body (Content-Length or chunked) in one
// write or in several writes a timer tick apart. With a 100-continue body
// each chunk paused the connection and a pull with desiredSize 0 did not
// resume it, so a body in several reads hung (on every runtime; on Bun
// also with curl's chunked upload).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve, type Server } from "../http/server/mod.ts";

const ITERATIONS = 40;
let server: Server;
let port = 0;

before(() => {
  server = serve({ port: 0, fetch: async (request) => new Response(`got ${(await request.text()).length}`) });
  port = server.addr.port;
});

after(async () => {
  await server.shutdown({ deadlineMs: 1000 });
});

/** One exchange: the head, the 100, the body parts; the response text (bounded by 5 s). */
function exchange(framing: "length" | "chunked", parts: string[], split: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let text = "";
    let sentBody = false;
    const bound = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within 5 s (${framing}, ${split ? "split" : "one write"}): ${JSON.stringify(text)}`));
    }, 5000);
    const body = framing === "chunked" ? parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).concat(["0\r\n\r\n"]) : parts;
    const total = parts.reduce((n, p) => n + p.length, 0);
    sock.on("error", (err) => {
      clearTimeout(bound);
      reject(err);
    });
    sock.on("data", async (d: Buffer) => {
      text += d.toString("latin1");
      if (!sentBody && text.includes("HTTP/1.1 100 Continue\r\n\r\n")) {
        sentBody = true;
        if (!split) sock.write(body.join(""));
        else {
          for (const b of body) {
            if (sock.destroyed) return;
            sock.write(b);
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      }
      if (text.endsWith(`got ${total}`)) {
        clearTimeout(bound);
        sock.destroy();
        resolve(text);
      }
    });
    sock.on("connect", () => {
      const framingField = framing === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${total}`;
      sock.write(`POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n${framingField}\r\n\r\n`);
    });
  });
}

describe("serve: Expect: 100-continue", () => {
  for (const framing of ["length", "chunked"] as const) {
    for (const split of [false, true]) {
      test(`${framing} body in ${split ? "several writes" : "one write"}, ${ITERATIONS} times`, async () => {
        const parts = ["hello", " wide", " world", "!".repeat(300)];
        for (let i = 0; i < ITERATIONS; i++) {
          const text = await exchange(framing, parts, split);
          assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
          assert.ok(text.endsWith("got 316"), text);
        }
      });
    }
  }
});
