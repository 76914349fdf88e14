// The HTTP/1.1 client and a 417 to its `Expect: 100-continue` (red team,
// twelfth pass). The client adds the expectation by itself to bodies of
// 1 MiB and more, and a server that does not do expectations (some
// servers and proxies answer 417) made such an upload fail with a 417 the
// caller never asked for. RFC 9110 §10.1.1: a client that receives a 417
// to a 100-continue expectation SHOULD repeat the request without it (curl
// does). Now the 417, received before any body byte went, is read and
// dropped and the request goes once more without `Expect`, its body (a
// stream too: it was never read) sent whole. A second 417 is the answer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { Agent, fetch, request } from "../http/client/mod.ts";

interface Seen {
  expect: boolean;
  length: number;
  sha: string;
}

let server: net.Server;
let base = "";
const sockets = new Set<net.Socket>();
const seen: Seen[] = [];
/** What the server answers a request without Expect: 200 (with the body's hash) or a 417 as well. */
let refuseAll = false;
/** The body the server puts in its 417. */
let refusalBody = "";

before(async () => {
  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let want = -1;
    let expect = false;
    socket.on("data", (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        if (want < 0) {
          const end = buffer.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = buffer.subarray(0, end).toString("latin1");
          buffer = buffer.subarray(end + 4);
          want = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
          expect = /\r\nexpect: *100-continue/i.test(head);
          if (expect) {
            seen.push({ expect: true, length: 0, sha: "" });
            socket.write(`HTTP/1.1 417 Expectation Failed\r\nContent-Length: ${refusalBody.length}\r\n\r\n${refusalBody}`);
            // The client sends no body after the 417 (and closes this connection).
            want = -1;
            return;
          }
        }
        if (buffer.length < want) return;
        const body = buffer.subarray(0, want);
        buffer = buffer.subarray(want);
        want = -1;
        const sha = createHash("sha256").update(body).digest("hex");
        seen.push({ expect: false, length: body.length, sha });
        socket.write(refuseAll ? "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n" : `HTTP/1.1 200 OK\r\nContent-Length: ${sha.length}\r\n\r\n${sha}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const big = new Uint8Array(2 * 1024 * 1024).map((_, i) => i * 7);
const bigSha = createHash("sha256").update(big).digest("hex");

function reset(): Agent {
  seen.length = 0;
  refuseAll = false;
  refusalBody = "";
  return new Agent();
}

describe("HTTP/1.1 client: a 417 to Expect: 100-continue (RFC 9110 §10.1.1)", () => {
  test("fetch: a 2 MiB body (Expect added by the client) goes again without Expect and is answered", async () => {
    const agent = reset();
    try {
      const response = await fetch(`${base}/up`, { method: "POST", body: big, dispatcher: agent });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), bigSha);
      assert.deepEqual(seen, [{ expect: true, length: 0, sha: "" }, { expect: false, length: big.length, sha: bigSha }]);
    } finally {
      await agent.close();
    }
  });

  test("request: expectContinue asked for; the 417's own body is dropped, never handed over", async () => {
    const agent = reset();
    refusalBody = "not here";
    try {
      const response = await request(`${base}/up`, { method: "PUT", body: "small", expectContinue: true, dispatcher: agent });
      assert.equal(response.statusCode, 200);
      assert.equal(await response.body.text(), createHash("sha256").update("small").digest("hex"));
      assert.deepEqual(seen.map((s) => [s.expect, s.length]), [[true, 0], [false, 5]]);
    } finally {
      await agent.close();
    }
  });

  test("a stream body (never read before the 417) is sent whole the second time", async () => {
    const agent = reset();
    try {
      const pieces = [big.subarray(0, 1 << 20), big.subarray(1 << 20)];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const piece = pieces.shift();
          if (piece === undefined) controller.close();
          else controller.enqueue(piece);
        },
      });
      const response = await request(`${base}/up`, {
        method: "POST",
        body: stream,
        headers: { "content-length": String(big.length) },
        expectContinue: true,
        dispatcher: agent,
      });
      assert.equal(response.statusCode, 200);
      assert.equal(await response.body.text(), bigSha);
      assert.deepEqual(seen.map((s) => [s.expect, s.length]), [[true, 0], [false, big.length]]);
    } finally {
      await agent.close();
    }
  });

  test("a server that answers 417 again: that second 417 is the answer (one retry, no loop)", async () => {
    const agent = reset();
    refuseAll = true;
    try {
      const response = await request(`${base}/up`, { method: "POST", body: "x", expectContinue: true, dispatcher: agent });
      assert.equal(response.statusCode, 417);
      await response.body.text();
      assert.deepEqual(seen.map((s) => s.expect), [true, false]);
    } finally {
      await agent.close();
    }
  });

  test("a request without Expect that gets a 417 is not sent again", async () => {
    const agent = reset();
    refuseAll = true;
    try {
      const response = await request(`${base}/up`, { method: "POST", body: "x", expectContinue: false, dispatcher: agent });
      assert.equal(response.statusCode, 417);
      await response.body.text();
      assert.deepEqual(seen.map((s) => s.expect), [false]);
    } finally {
      await agent.close();
    }
  });
});
