// Request bodies of bytes are the bytes at the call: a caller that changes
// or detaches (transfers) its buffer right after fetch() or request()
// returns must not change what goes on the wire (fetch's "extract a body"
// copies a BufferSource). The body is sent later: after the connection is
// made, after a 100-continue (bodies of 1 MiB and more), or as HTTP/2 flow
// control lets it. Before the fix: a detached 2 MiB body hung until the
// caller's timeout (its Content-Length sent, none of its bytes), a smaller
// one failed with the runtime's TypeError, a changed one sent the changes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { fetch } from "../http/client/fetch.ts";
import { Pool } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

function body(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}

/** Detaches `bytes`' buffer, as a transfer to a worker would. */
function detach(bytes: Uint8Array): void {
  structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] });
  assert.equal(bytes.length, 0);
}

/** The server answers `<byte count> <sha256>` of what it got. */
function answer(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
  const hash = createHash("sha256");
  let n = 0;
  req.on("data", (d: Uint8Array) => {
    n += d.length;
    hash.update(d);
  });
  req.on("end", () => res.end(`${n} ${hash.digest("hex")}`));
}

describe("request bodies of bytes are copied at the call (HTTP/1.1)", () => {
  let server: http.Server;
  let base = "";
  before(async () => {
    server = http.createServer(answer);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const size of [1000, 100_000, 2 * 1024 * 1024]) {
    test(`fetch, ${size} bytes: changed after the call, then detached after the call`, async () => {
      const changed = body(size, 1);
      const want = sha(changed);
      const p1 = fetch(`${base}/`, { method: "POST", body: changed });
      changed.fill(0xee);
      assert.equal(await (await p1).text(), `${size} ${want}`);

      const moved = body(size, 2);
      const want2 = sha(moved);
      const p2 = fetch(`${base}/`, { method: "POST", body: moved, signal: AbortSignal.timeout(20_000) });
      detach(moved);
      assert.equal(await (await p2).text(), `${size} ${want2}`);
    });
  }

  test("request(), an ArrayBuffer and a DataView over part of one, each detached after the call", async () => {
    const whole = body(300_000, 3);
    const want = sha(whole);
    const buf = whole.slice().buffer;
    const p1 = request(`${base}/`, { method: "POST", body: buf });
    structuredClone(buf, { transfer: [buf] });
    assert.equal(await (await p1).body.text(), `300000 ${want}`);

    const big = body(400_000, 4);
    const part = big.subarray(50_000, 350_000);
    const wantPart = sha(part);
    const view = new DataView(big.buffer, 50_000, 300_000);
    const p2 = request(`${base}/`, { method: "POST", body: view });
    detach(big);
    assert.equal(await (await p2).body.text(), `300000 ${wantPart}`);
  });

  test("a buffer detached before the call is an empty body, as WebIDL reads it", async () => {
    const gone = body(5000, 5);
    detach(gone);
    const r = await fetch(`${base}/`, { method: "POST", body: gone });
    assert.equal(await r.text(), `0 ${sha(new Uint8Array(0))}`);
  });
});

describe("request bodies of bytes are copied at the call (HTTP/2, waiting for flow control)", () => {
  let server: http2.Http2Server;
  let base = "";
  let pool: Pool;
  before(async () => {
    // A 16 KiB stream window: the rest of the body waits for WINDOW_UPDATEs, after the call returned.
    server = http2.createServer({ settings: { initialWindowSize: 16_384 } }, answer);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = new Pool(base, { http2: "prior-knowledge" });
  });
  after(async () => {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test("fetch and request(), 500,000 bytes detached after the call: the peer gets the bytes of the call", async () => {
    const a = body(500_000, 6);
    const wantA = sha(a);
    const p1 = fetch(`${base}/`, { method: "POST", body: a, dispatcher: pool });
    detach(a);
    assert.equal(await (await p1).text(), `500000 ${wantA}`);

    const b = body(500_000, 7);
    const wantB = sha(b);
    const p2 = request(`${base}/`, { method: "POST", body: b, dispatcher: pool });
    b.fill(0);
    detach(b);
    assert.equal(await (await p2).body.text(), `500000 ${wantB}`);
    assert.equal(pool.protocol, "h2");
  });
});
