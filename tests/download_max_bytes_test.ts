// download(url, path, { maxBytes }): the file's size is bounded, as curl's --max-filesize (opt-in). A file
// announced larger (Content-Length, a 206's range) is not started and the file is left as it was; one that
// turns out larger (chunked, no length) stops before the piece that would pass the limit, what was written
// stays (at most maxBytes). Both reject with ERR_HTTP_BODY_TOO_LARGE and let the body go (the pool's one
// connection serves the next request). Without maxBytes nothing changes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { download, fetch, Pool } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

/** 1 MiB: more than the socket buffers hold, so an unread body keeps the response in flight. */
const SIZE = 1 << 20;
const BODY = Buffer.alloc(SIZE, "x");
let server: RawHTTPServer;
let origin = "";
let dir = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-download-max-"));
  // Keep-alive. /chunked: BODY in 16 KiB chunks without a length; /range: honours `Range: bytes=N-`; else Content-Length.
  server = await listenRawHTTP((sock, request) => {
    const from = /\r\nrange: bytes=(\d+)-/i.exec(request);
    if (request.startsWith("GET /chunked ")) {
      sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let at = 0; at < SIZE; at += 16384) sock.write(`4000\r\n${BODY.subarray(at, at + 16384).toString("latin1")}\r\n`);
      sock.write("0\r\n\r\n");
    } else if (request.startsWith("GET /range ") && from !== null) {
      const n = Number(from[1]);
      sock.write(`HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${n}-${SIZE - 1}/${SIZE}\r\nContent-Length: ${SIZE - n}\r\n\r\n`);
      sock.write(BODY.subarray(n));
    } else {
      sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`);
      sock.write(BODY);
    }
  });
  origin = server.base;
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const tooLarge = (err: unknown) => (err as { code?: string }).code === "ERR_HTTP_BODY_TOO_LARGE";

async function withPool(run: (pool: Pool) => Promise<void>): Promise<void> {
  const pool = new Pool(origin, { connections: 1 });
  try {
    await run(pool);
    // The body was let go: the one connection serves the next request.
    const next = await fetch(`${origin}/next`, { dispatcher: pool, signal: AbortSignal.timeout(10_000) });
    assert.equal((await next.arrayBuffer()).byteLength, SIZE);
  } finally {
    await pool.destroy(new Error("test over"));
  }
}

describe("download maxBytes", () => {
  test("a Content-Length above maxBytes is not started: the file is left as it was", async () => {
    const path = join(dir, "announced");
    writeFileSync(path, "old content");
    await withPool(async (pool) => {
      await assert.rejects(download(`${origin}/f`, path, { resume: false, maxBytes: 1000, dispatcher: pool }), tooLarge);
    });
    assert.equal(readFileSync(path, "latin1"), "old content");
  });

  test("a body without length stops before the piece that would pass maxBytes; what was written stays (at most maxBytes)", async () => {
    const path = join(dir, "chunked");
    const max = 100_000;
    await withPool(async (pool) => {
      await assert.rejects(download(`${origin}/chunked`, path, { resume: false, maxBytes: max, dispatcher: pool }), tooLarge);
    });
    const size = statSync(path).size;
    assert.ok(size <= max, `${size} bytes written`);
    assert.ok(readFileSync(path).every((b) => b === 0x78));
  });

  test("resuming: the whole file counts (a 206 whose range ends above maxBytes is not started); a file already larger fails before any request", async () => {
    const path = join(dir, "resume");
    writeFileSync(path, BODY.subarray(0, 1000));
    await withPool(async (pool) => {
      await assert.rejects(download(`${origin}/range`, path, { maxBytes: SIZE - 1, dispatcher: pool }), tooLarge);
    });
    assert.equal(statSync(path).size, 1000);
    await assert.rejects(download(`${origin}/range`, path, { maxBytes: 999 }), tooLarge);
    const done = await download(`${origin}/range`, path, { maxBytes: SIZE });
    assert.deepEqual([done.status, done.bytes, done.resumedFrom], [206, SIZE, 1000]);
  });

  test("at or under maxBytes, and without it, the file is downloaded; a bad maxBytes is a RangeError", async () => {
    for (const maxBytes of [SIZE, undefined]) {
      const path = join(dir, `whole-${maxBytes}`);
      for (const route of ["/f", "/chunked"]) {
        const result = await download(`${origin}${route}`, path, { resume: false, ...(maxBytes === undefined ? {} : { maxBytes }) });
        assert.equal(result.bytes, SIZE);
        assert.equal(statSync(path).size, SIZE);
      }
    }
    for (const bad of [-1, Number.NaN, "10" as unknown as number]) {
      await assert.rejects(download(`${origin}/f`, join(dir, "bad"), { maxBytes: bad }), RangeError);
    }
  });
});
