// getJSON and postJSON against a server whose JSON answer never ends: the
// body is read up to maxBytes (default 64 MiB, decoded) and then refused
// with ERR_HTTP_BODY_TOO_LARGE and the rest not read, instead of being
// gathered without bound as response.text() does (before: memory grew
// until the process died).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { NetError } from "../core/errors.ts";
import { Agent, getJSON, postJSON } from "../http/client/mod.ts";

let server: net.Server;
let port = 0;
let closes = 0;
let onClose: () => void = () => {};
const agent = new Agent();

/** A chunked JSON array that goes on until the client goes (64 KiB a chunk), or a short one for /short. */
before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.on("close", () => {
      closes++;
      onClose();
    });
    let head = "";
    sock.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const path = head.split(" ", 2)[1];
      head = "";
      if (path === "/short") {
        sock.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"a":[1]}');
        return;
      }
      sock.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n");
      const piece = "1,".repeat(32 * 1024);
      const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
      const more = (): void => {
        while (!sock.destroyed) if (!sock.write(chunk)) return void sock.once("drain", more);
      };
      more();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await agent.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function tooLarge(err: unknown): boolean {
  assert.ok(err instanceof NetError, String(err));
  assert.equal(err.code, "ERR_HTTP_BODY_TOO_LARGE");
  return true;
}

/** Resolves once the server saw `n` more closes than `from`. */
function closesReach(from: number, n: number): Promise<void> {
  if (closes - from >= n) return Promise.resolve();
  return new Promise((resolve) => {
    onClose = () => {
      if (closes - from < n) return;
      onClose = () => {};
      resolve();
    };
  });
}

describe("getJSON/postJSON: a JSON answer without end", () => {
  test("maxBytes 1 MiB: ERR_HTTP_BODY_TOO_LARGE, the connection is closed", async () => {
    const from = closes;
    await assert.rejects(getJSON(`http://127.0.0.1:${port}/`, { dispatcher: agent, maxBytes: 1 << 20 }), tooLarge);
    await closesReach(from, 1);
    await assert.rejects(postJSON(`http://127.0.0.1:${port}/`, { x: 1 }, { dispatcher: agent, maxBytes: 1 << 20 }), tooLarge);
    await closesReach(from, 2);
  });

  test("the default bound (64 MiB) ends it too", async () => {
    await assert.rejects(getJSON(`http://127.0.0.1:${port}/`, { dispatcher: agent }), tooLarge);
  });

  test("a body within the bound parses; a bad maxBytes is a RangeError", async () => {
    assert.deepEqual(await getJSON(`http://127.0.0.1:${port}/short`, { dispatcher: agent, maxBytes: 9 }), { a: [1] });
    await assert.rejects(getJSON(`http://127.0.0.1:${port}/short`, { dispatcher: agent, maxBytes: 8 }), tooLarge);
    await assert.rejects(getJSON(`http://127.0.0.1:${port}/short`, { dispatcher: agent, maxBytes: -1 }), RangeError);
  });
});
