import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { bufferedResponse } from "./buffered_response.ts";
import { staticBody } from "../server/response_peek.ts";
import { serve } from "../server/mod.ts";

const enc = new TextEncoder();
const make = (text: string) =>
  bufferedResponse(enc.encode(text) as Uint8Array<ArrayBuffer>, { status: 201, statusText: "Made", headers: [["content-type", "application/json"], ["x-a", "1"]] });

async function readStream(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  assert.ok(stream);
  const parts: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

describe("bufferedResponse", () => {
  test("serve writes its bytes directly while unread (no private runtime state needed); not once read or streamed", async () => {
    const bytes = new TextEncoder().encode("hello");
    const r = bufferedResponse(bytes, { status: 200 });
    assert.deepEqual(staticBody(r), bytes);
    await r.text();
    assert.equal(staticBody(r), undefined);
    const streamed = bufferedResponse(new TextEncoder().encode("x"), { status: 200 });
    void streamed.body; // the runtime's Response is made: the bytes are its now
    assert.equal((streamed as unknown as Record<symbol, unknown>)[Symbol.for("ffinet.bufferedBytes")], undefined);
    const server = serve({ port: 0, http2: false, fetch: () => bufferedResponse(new TextEncoder().encode("from a buffered response"), { status: 201, headers: { "x-a": "1" } }) });
    try {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("x-a"), "1");
      assert.equal(await res.text(), "from a buffered response");
    } finally {
      await server.shutdown({ deadlineMs: 200 });
    }
  });

  test("is the runtime's Response: status, statusText, headers", () => {
    const r = make("{}");
    assert.ok(r instanceof Response);
    assert.equal(r.status, 201);
    assert.equal(r.ok, true);
    assert.equal(r.statusText, "Made");
    assert.equal(r.headers.get("x-a"), "1");
    assert.equal(r.bodyUsed, false);
  });

  test("each body method reads once; a second read rejects with a TypeError", async () => {
    const readers: Array<[string, (r: Response) => Promise<unknown>, unknown]> = [
      ["text", (r) => r.text(), '{"a":[1,2]}'],
      ["json", (r) => r.json(), { a: [1, 2] }],
      ["arrayBuffer", async (r) => Buffer.from(await r.arrayBuffer()).toString(), '{"a":[1,2]}'],
      ["blob", async (r) => {
        const b = await r.blob();
        // Bun's own Blob adds ";charset=utf-8" to a JSON type.
        return [b.type.startsWith("application/json"), await b.text()];
      }, [true, '{"a":[1,2]}']],
      ["body", (r) => readStream(r.body), '{"a":[1,2]}'],
    ];
    for (const [name, read, expected] of readers) {
      const r = make('{"a":[1,2]}');
      assert.deepEqual(await read(r), expected, name);
      assert.equal(r.bodyUsed, true, name);
      await assert.rejects(r.text(), TypeError, name);
      await assert.rejects(r.arrayBuffer(), TypeError, name);
    }
  });

  test("bad JSON rejects with a SyntaxError", async () => {
    await assert.rejects(make("{nope").json(), SyntaxError);
  });

  test("clone before use: both read the same bytes; after use it throws", async () => {
    const r = make("hello");
    const c = r.clone();
    assert.ok(c instanceof Response);
    assert.equal(c.status, 201);
    assert.equal(c.headers.get("x-a"), "1");
    const [a, b] = await Promise.all([r.arrayBuffer(), c.arrayBuffer()]);
    assert.notEqual(a, b);
    new Uint8Array(a)[0] = 0x4a;
    assert.equal(Buffer.from(b).toString(), "hello");
    assert.throws(() => r.clone(), TypeError);
  });

  test("the body stream, once asked for, is what the methods read", async () => {
    const r = make("streamed");
    assert.ok(r.body instanceof ReadableStream);
    assert.equal(r.bodyUsed, false);
    assert.equal(await r.text(), "streamed");
    assert.equal(r.bodyUsed, true);
    await assert.rejects(r.text(), TypeError);
  });

  test("property: any bytes come back unchanged through any reader", async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.constantFrom("arrayBuffer", "blob", "body", "clone"), async (bytes, how) => {
      const r = bufferedResponse(bytes.slice() as Uint8Array<ArrayBuffer>, { status: 200 });
      let got: Uint8Array;
      if (how === "arrayBuffer") got = new Uint8Array(await r.arrayBuffer());
      else if (how === "blob") got = new Uint8Array(await (await r.blob()).arrayBuffer());
      else if (how === "clone") got = new Uint8Array(await r.clone().arrayBuffer());
      else {
        const parts: Uint8Array[] = [];
        for await (const chunk of r.body! as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
        got = new Uint8Array(Buffer.concat(parts));
      }
      assert.deepEqual([...got], [...bytes]);
    }), { numRuns: 60 });
  });
});
