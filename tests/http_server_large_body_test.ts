// Bodies over 32 KiB go out beside their head in one sendmsg (the body from its own
// memory) on plain HTTP/1.1 connections: pipelined responses of every kind (bytes, a
// string, a light response, an async handler, a stream read at once in one or two
// chunks, HEAD) answered whole and in order, a streamed chunked body of large chunks, through a client that does not read
// until it sent everything (partial sends, a queue), and a body the handler changes
// right after answering still arrives as it was answered.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { installLightResponse, serve, type Server } from "../http/server/mod.ts";

function pattern(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + seed + (i >> 8)) % 256;
  return b;
}

const BYTES = pattern(65536 + 3, 1);
const CHUNK_A = pattern(40000, 2);
const CHUNK_B = pattern(41000, 3);
const TEXT = "abcdefghij".repeat(4000) + "é";
const TEXT_BYTES = new TextEncoder().encode(TEXT);

/** What each path answers with, as bytes. */
const EXPECTED: Record<string, Uint8Array<ArrayBuffer>> = {
  "/bytes": BYTES,
  "/async": BYTES,
  "/text": TEXT_BYTES,
  "/stream1": CHUNK_A,
  "/stream2": new Uint8Array([...CHUNK_A, ...CHUNK_B]),
};

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk.slice());
      c.close();
    },
  });
}

function handler(request: Request): Response | Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === "/bytes") return new Response(BYTES, { headers: { "content-type": "application/octet-stream" } });
  if (path === "/async") return Promise.resolve().then(() => new Response(BYTES));
  if (path === "/text") return new Response(TEXT);
  if (path === "/stream1") return new Response(streamOf([CHUNK_A]));
  if (path === "/stream2") return new Response(streamOf([CHUNK_A, CHUNK_B]));
  if (path === "/chunked") {
    // Each chunk after a macrotask: streamed (chunked), not gathered.
    const chunks = [CHUNK_A, CHUNK_B, CHUNK_A];
    let i = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 1));
          if (i < chunks.length) c.enqueue(chunks[i++]!.slice());
          else c.close();
        },
      }),
    );
  }
  return new Response("not found", { status: 404 });
}

let server: Server;

before(() => {
  server = serve({ port: 0, fetch: handler });
});

after(async () => {
  await server.shutdown({ deadlineMs: 2000 });
});

/**
 * Sends `requests` raw on one connection (all at once, before reading),
 * then reads as many responses; `heads[i]`: the i-th is a HEAD's (no body).
 */
function pipeline(port: number, requests: string, count: number, heads: boolean[] = []): Promise<Array<{ status: number; headers: string; body: Uint8Array }>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = new Uint8Array(0);
    const out: Array<{ status: number; headers: string; body: Uint8Array }> = [];
    sock.on("error", reject);
    sock.on("connect", () => sock.write(requests));
    sock.on("data", (d: Uint8Array) => {
      const next = new Uint8Array(buf.length + d.length);
      next.set(buf);
      next.set(d, buf.length);
      buf = next;
      for (;;) {
        const end = findHeadEnd(buf);
        if (end < 0) break;
        const headers = new TextDecoder().decode(buf.subarray(0, end));
        const m = /content-length: (\d+)/i.exec(headers);
        const length = heads[out.length] === true || m === null ? 0 : Number(m[1]);
        if (buf.length < end + 4 + length) break;
        out.push({ status: Number(headers.split(" ")[1]), headers, body: buf.slice(end + 4, end + 4 + length) });
        buf = buf.slice(end + 4 + length);
        if (out.length === count) {
          sock.destroy();
          resolve(out);
          return;
        }
      }
    });
    sock.on("close", () => {
      if (out.length < count) reject(new Error(`closed after ${out.length} of ${count} responses`));
    });
  });
}

function findHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}

const lengthOf = (headers: string) => Number(/\r\ncontent-length: (\d+)(\r|$)/i.exec(headers)?.[1]);
const get = (path: string, method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe("serve: bodies over 32 KiB beside their head", () => {
  test("pipelined responses of every kind, 40 requests sent before reading, arrive whole and in order", async () => {
    const paths = Object.keys(EXPECTED);
    const order: string[] = Array.from({ length: 40 }, (_, i) => paths[(i * 3) % paths.length]!);
    const got = await pipeline(server.addr.port, order.map((p) => get(p)).join(""), order.length);
    for (const [i, r] of got.entries()) {
      const path = order[i]!;
      assert.equal(r.status, 200, path);
      assert.equal(lengthOf(r.headers), EXPECTED[path]!.length, path);
      assert.deepEqual(r.body, EXPECTED[path], path);
    }
  });

  test("HEAD of a large body: its length, no body; the GET after it is whole", async () => {
    const got = await pipeline(server.addr.port, get("/bytes", "HEAD") + get("/bytes"), 2, [true, false]);
    assert.equal(lengthOf(got[0]!.headers), BYTES.length);
    assert.equal(got[0]!.body.length, 0);
    assert.deepEqual(got[1]!.body, BYTES);
  });

  test("a streamed body of chunks over 8 KiB: chunked, each chunk's size line beside its bytes, read whole by fetch", async () => {
    for (let round = 0; round < 3; round++) {
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/chunked`);
      assert.equal(response.headers.get("transfer-encoding"), "chunked");
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), new Uint8Array([...CHUNK_A, ...CHUNK_B, ...CHUNK_A]));
    }
  });

  test("light responses: a body the handler changes right after answering arrives as answered", async () => {
    const uninstall = installLightResponse();
    const shared = pattern(70000, 9);
    let n = 0;
    const light = serve({
      port: 0,
      fetch: () => {
        const seed = n++;
        shared.fill(seed % 256);
        const response = new Response(shared, { headers: { "x-seed": String(seed) } });
        // Changed at once after the answer was handed over (the connection kept a copy of what it did not send).
        queueMicrotask(() => shared.fill(255));
        return response;
      },
    });
    try {
      const got = await pipeline(light.addr.port, get("/").repeat(30), 30);
      for (const r of got) {
        const seed = Number(/x-seed: (\d+)/.exec(r.headers)![1]);
        assert.equal(r.body.length, 70000);
        assert.ok(r.body.every((b) => b === seed % 256), `response ${seed} changed after it was answered`);
      }
    } finally {
      uninstall();
      await light.shutdown({ deadlineMs: 2000 });
    }
  });
});
