// download(url, path) failing after the response arrived (reviewer, ninth
// session): the file cannot be opened, onProgress throws, the signal aborts
// in the middle. Each rejects with its error and lets the response body go:
// left unread, the body held its pooled connection busy for good, so a pool
// of one connection hung every later request.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { download, fetch, Pool } from "../http/client/mod.ts";

/** 4 MiB: far more than the socket buffers and the body's queue hold, so an unread body keeps the response in flight. */
const BODY = "x".repeat(4 << 20);
let server: net.Server;
let origin = "";
let dir = "";
const sockets = new Set<net.Socket>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-download-errors-"));
  // Keep-alive: answers every request on a connection with BODY.
  server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let head = "";
    sock.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      for (let end = head.indexOf("\r\n\r\n"); end >= 0; end = head.indexOf("\r\n\r\n")) {
        head = head.slice(end + 4);
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

after(async () => {
  for (const sock of sockets) sock.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
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
