// serveStatic's large files go by sendfile on plain HTTP/1.1 connections (and through the
// body stream over TLS): pipelined requests for them answered whole and in order, a range,
// Connection: close after the file, a client leaving mid-file, and the TLS fallback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type Server, serveStatic } from "../http/server/mod.ts";
import { testPKI } from "./tls_pki.ts";

const SIZE = 3 * 1024 * 1024 + 17;
const BIG = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) BIG[i] = (i * 13 + (i >> 9)) % 256;
const HUGE = 48 * 1024 * 1024;

let dir = "";
let plain: Server;
let secure: Server;
let ca = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-sendfile-"));
  writeFileSync(join(dir, "big.bin"), BIG);
  writeFileSync(join(dir, "huge.bin"), new Uint8Array(HUGE));
  plain = serve({ port: 0, fetch: serveStatic(dir) });
  const pki = testPKI();
  ca = pki.root;
  secure = serve({ port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: serveStatic(dir) });
});

after(async () => {
  await plain.shutdown({ deadlineMs: 2000 });
  await secure.shutdown({ deadlineMs: 2000 });
  rmSync(dir, { recursive: true, force: true });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sends `request` raw on one connection; everything that came back until the server closed (or `until` bytes). */
function exchange(port: number, request: string, until = Infinity): Promise<{ bytes: Uint8Array; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const parts: Uint8Array[] = [];
    let got = 0;
    sock.on("error", reject);
    sock.on("connect", () => sock.write(request));
    sock.on("data", (d: Uint8Array) => {
      parts.push(d);
      got += d.length;
      if (got >= until) {
        sock.destroy();
        resolve({ bytes: concat(parts), closed: false });
      }
    });
    sock.on("end", () => resolve({ bytes: concat(parts), closed: true }));
  });
}

const latin1 = (b: Uint8Array): string => new TextDecoder("latin1").decode(b);

/** Splits `bytes` into responses with a Content-Length each. */
function responses(bytes: Uint8Array): Array<{ head: string; body: Uint8Array }> {
  const out: Array<{ head: string; body: Uint8Array }> = [];
  let at = 0;
  while (at < bytes.length) {
    const text = latin1(bytes.subarray(at, Math.min(bytes.length, at + 4096)));
    const end = text.indexOf("\r\n\r\n");
    assert.ok(end > 0, "a head");
    const head = text.slice(0, end);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)![1]);
    const bodyAt = at + end + 4;
    out.push({ head, body: bytes.subarray(bodyAt, bodyAt + length) });
    at = bodyAt + length;
  }
  return out;
}

describe("serveStatic by sendfile", () => {
  test("pipelined: a whole large file, a range of it, then a small request, in order", async () => {
    const req = (path: string, extra = ""): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;
    const { bytes } = await exchange(plain.addr.port, req("/big.bin") + req("/big.bin", "Range: bytes=1000000-2500000\r\n") + req("/nothing", "Connection: close\r\n"));
    const [whole, range, missing] = responses(bytes);
    assert.match(whole!.head, /^HTTP\/1\.1 200 /);
    assert.equal(whole!.body.length, SIZE);
    assert.ok(Buffer.from(whole!.body).equals(BIG), "the whole file");
    assert.match(range!.head, /^HTTP\/1\.1 206 /);
    assert.ok(Buffer.from(range!.body).equals(BIG.subarray(1000000, 2500001)), "the range");
    assert.match(missing!.head, /^HTTP\/1\.1 404 /);
  });

  test("Connection: close after a large file: all of it, then the close", async () => {
    const { bytes, closed } = await exchange(plain.addr.port, "GET /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.ok(closed);
    const [only] = responses(bytes);
    assert.match(only!.head, /\r\nConnection: close/i);
    assert.ok(Buffer.from(only!.body).equals(BIG));
  });

  test("a client that leaves mid-file does not stop the server; the next one gets the file", async () => {
    for (let i = 0; i < 3; i++) await exchange(plain.addr.port, "GET /huge.bin HTTP/1.1\r\nHost: a\r\n\r\n", 256 * 1024);
    const r = await fetch(`http://127.0.0.1:${plain.addr.port}/big.bin`);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(BIG));
  });

  test("over TLS the file goes through its stream, whole", async () => {
    const body = await new Promise<Uint8Array>((resolve, reject) => {
      https.get(`https://localhost:${secure.addr.port}/big.bin`, { ca, agent: false }, (res) => {
        const parts: Uint8Array[] = [];
        res.on("data", (d: Uint8Array) => parts.push(d));
        res.on("end", () => resolve(concat(parts)));
        res.on("error", reject);
      }).on("error", reject);
    });
    assert.ok(Buffer.from(body).equals(BIG));
  });
});
