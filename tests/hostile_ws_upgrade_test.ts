// serve({ websocket }) against a WebSocket handshake over HTTP/1.0: the
// session ignores an HTTP/1.0 Upgrade (RFC 9110 §7.8), so the request
// cannot be switched, yet its fields pass the handshake checks; Bun's
// `server.upgrade(request)` threw a TypeError out of the handler there (a
// 500 and an error logged per request) instead of returning false. It now
// returns false, and a handler that answers nothing gets a 400.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../http/server/mod.ts";
import { rawExchangeText } from "./raw_exchange.ts";

/** Writes `raw`, returns what the server sent until it closed (or 10 s passed). */
const exchange = rawExchangeText;

const HANDSHAKE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

describe("serve({ websocket }): a handshake over HTTP/1.0", () => {
  test("server.upgrade returns false (no throw); the handler's answer, or a 400, is sent", async () => {
    const outcomes: string[] = [];
    const s = serve({
      port: 0,
      http2: false,
      websocket: { message: () => {} },
      onError: (error) => {
        outcomes.push(`error: ${String(error)}`);
        return new Response("handler threw\n", { status: 500 });
      },
      fetch: (request) => {
        const switched = s.upgrade(request);
        outcomes.push(`upgrade ${switched}`);
        if (switched) return undefined;
        return new URL(request.url).pathname === "/silent" ? undefined : new Response("refused\n", { status: 426, headers: { upgrade: "websocket" } });
      },
    });
    try {
      const refused = await exchange(s.addr.port, `GET /ws HTTP/1.0\r\nHost: a\r\n${HANDSHAKE}\r\n`);
      assert.match(refused, /^HTTP\/1\.1 426 /);
      assert.match(refused, /refused\n$/);
      const silent = await exchange(s.addr.port, `GET /silent HTTP/1.0\r\nHost: a\r\n${HANDSHAKE}\r\n`);
      assert.match(silent, /^HTTP\/1\.1 400 /);
      const upgraded = await new Promise<string>((resolve) => {
        const sock = net.connect(s.addr.port, "127.0.0.1");
        let out = "";
        sock.on("data", (d: Buffer) => {
          out += d.toString("latin1");
          if (out.includes("\r\n\r\n")) {
            sock.destroy();
            resolve(out);
          }
        });
        sock.on("error", () => resolve(out));
        sock.write(`GET /ws HTTP/1.1\r\nHost: a\r\n${HANDSHAKE}\r\n`);
      });
      assert.match(upgraded, /^HTTP\/1\.1 101 /, "a handshake over HTTP/1.1 still switches");
      assert.deepEqual(outcomes, ["upgrade false", "upgrade false", "upgrade true"]);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });
});
