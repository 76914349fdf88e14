// download(url, path) failing after the response arrived (reviewer, ninth
// session): the file cannot be opened, onProgress throws, the signal aborts
// in the middle. Each rejects with its error and lets the response body go:
// left unread, the body held its pooled connection busy for good, so a pool
// of one connection hung every later request.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { download, fetch, Pool } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

/** 4 MiB: far more than the socket buffers and the body's queue hold, so an unread body keeps the response in flight. */
const BODY = "x".repeat(4 << 20);
let server: RawHTTPServer;
let origin = "";
let dir = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-download-errors-"));
  // Keep-alive: answers every request on a connection with BODY.
  server = await listenRawHTTP((sock) => void sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`));
  origin = server.base;
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("download failing after the response arrived lets its body go", () => {
  const cases: Array<[string, () => { path: string; options: Parameters<typeof download>[2] }, (err: unknown) => boolean]> = [
    [
      "the file cannot be opened (a missing directory)",
      () => ({ path: join(dir, "missing", "f"), options: { resume: false } }),
      (err) => (err as { code?: string }).code === "ENOENT",
    ],
    [
      "onProgress throws",
      () => ({ path: join(dir, "progress"), options: { resume: false, onProgress: () => { throw new Error("progress failed"); } } }),
      (err) => err instanceof Error && err.message === "progress failed",
    ],
    [
      "the signal aborts in the middle",
      () => {
        const ac = new AbortController();
        return { path: join(dir, "aborted"), options: { resume: false, signal: ac.signal, onProgress: () => ac.abort(new Error("stop")) } };
      },
      (err) => err instanceof Error && err.message === "stop",
    ],
  ];
  for (const [name, make, expected] of cases) {
    test(`${name}: rejects, and the pool's one connection serves the next request`, async () => {
      const pool = new Pool(origin, { connections: 1 });
      try {
        const { path, options } = make();
        await assert.rejects(download(`${origin}/f`, path, { ...options, dispatcher: pool }), expected);
        const next = await fetch(`${origin}/g`, { dispatcher: pool, signal: AbortSignal.timeout(10_000) });
        assert.equal((await next.arrayBuffer()).byteLength, BODY.length);
      } finally {
        await pool.destroy(new Error("test over"));
      }
    });
  }
});
