// A gzip response body padded with zero bytes after its member (some
// servers and tools pad gzip output to a block size) is read by fetch as
// Node's gunzip (undici's fetch) and urllib3 read it: the padding and
// anything after it are ignored. It failed whole with
// ERR_ZLIB_DATA ("incorrect header check"). Bytes that are not padding
// after the member still fail, both framed by Content-Length and chunked,
// and the connection is reused after a padded body.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { Agent, fetch } from "../http/client/mod.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

const TEXT = "a gzip body with padding after it\n";
const MEMBER = gzipSync(Buffer.from(TEXT));

function answer(body: Uint8Array, chunked: boolean): Buffer {
  const head = `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n${chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`}\r\n\r\n`;
  if (!chunked) return Buffer.concat([Buffer.from(head), body]);
  // The member and its padding in separate chunks: the padding arrives in a later push.
  const parts = [body.subarray(0, MEMBER.length), body.subarray(MEMBER.length)].filter((p) => p.length > 0);
  return Buffer.concat([Buffer.from(head), ...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from("\r\n")]), Buffer.from("0\r\n\r\n")]);
}

const BODIES: Record<string, Uint8Array> = {
  "/pad": Buffer.concat([MEMBER, Buffer.alloc(512 - (MEMBER.length % 512))]),
  "/pad-then-junk": Buffer.concat([MEMBER, Buffer.alloc(3), Buffer.from("not gzip")]),
  "/junk": Buffer.concat([MEMBER, Buffer.from("xyz")]),
};

let server: RawHTTPServer;
before(async () => {
  server = await listenRawHTTP((sock, head) => {
    const path = head.split(" ")[1] ?? "/";
    const chunked = path.endsWith("?chunked");
    sock.write(answer(BODIES[path.replace("?chunked", "")] ?? MEMBER, chunked));
  });
});
after(() => server.close());

describe("HTTP client: gzip bodies with zero padding after the member", () => {
  for (const framing of ["", "?chunked"]) {
    const how = framing === "" ? "Content-Length" : "chunked";
    test(`fetch reads a padded body (${how}), padding followed by junk too, and reuse the connection`, async () => {
      const agent = new Agent();
      try {
        const before = server.connections;
        for (const path of ["/pad", "/pad-then-junk"]) {
          const f = await fetch(`${server.base}${path}${framing}`, { dispatcher: agent });
          assert.equal(await f.text(), TEXT);
        }
        assert.equal(server.connections - before, 1);
      } finally {
        await agent.close();
      }
    });
    test(`bytes that are not padding after the member still fail (${how})`, async () => {
      const agent = new Agent();
      try {
        const f = await fetch(`${server.base}/junk${framing}`, { dispatcher: agent });
        await assert.rejects(f.text(), (e: unknown) => (e as { code?: string }).code === "ERR_ZLIB_DATA" || (e as { cause?: { code?: string } }).cause?.code === "ERR_ZLIB_DATA");
      } finally {
        await agent.close();
      }
    });
  }
});
