// A response cloned before serve writes it (a cache's copy, a logger's) keeps its whole body on every runtime,
// whichever of the original and its clones is read or written first: the bytes serve takes out of one are not
// freed under another (Deno's clone shares its array), and a source another reader's stream handed over (Node's
// undici detaches it) is not sent as an empty body.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { concatBytes } from "../../core/bytes.ts";
import { type ResponseSink, writeResponse } from "./respond.ts";
import { staticBody } from "./response_peek.ts";

const CTX = { head: false, http10: false, close: false };

/** What writeResponse sends for `response`, head and body, as one array. */
async function written(response: Response): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const sink: ResponseSink = {
    send: (b) => (parts.push(b.slice()), true),
    sendPair: (head, body) => (parts.push(head.slice(), body.slice()), true),
    drained: () => Promise.resolve(),
    gone: false,
    corkBuffer: () => undefined,
  };
  await writeResponse(sink, response, CTX);
  return concatBytes(parts);
}

/** The body of a written response (after its head's blank line), checked against its Content-Length. */
function bodyOf(bytes: Uint8Array): Uint8Array {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) {
      const head = new TextDecoder().decode(bytes.subarray(0, i));
      const body = bytes.subarray(i + 1);
      const length = /\r\ncontent-length: (\d+)/i.exec(head);
      if (length !== null) assert.equal(Number(length[1]), body.length, head);
      return body;
    }
  }
  assert.fail("no end of head");
}

describe("writeResponse and clones of the response it writes", () => {
  for (const n of [100, 16384, 65536, 1 << 20]) {
    test(`a ${n}-byte body: written first, a clone made before reads and writes the same bytes after it`, async () => {
      const given = new Uint8Array(n).map((_, i) => i % 251);
      const original = new Response(given);
      const forCache = original.clone();
      const forLog = original.clone();
      assert.deepEqual(bodyOf(await written(original)), given);
      assert.deepEqual(new Uint8Array(await forLog.arrayBuffer()), given); // a logger, after the write
      assert.deepEqual(bodyOf(await written(forCache)), given); // served later from a cache
      assert.equal(given[n - 1], (n - 1) % 251, "the caller's array is untouched");
    });

    test(`a ${n}-byte body: a clone read first (a logging middleware), then the original and another clone written`, async () => {
      const given = new Uint8Array(n).map((_, i) => (i * 7) % 253);
      const original = new Response(given);
      const forLog = original.clone();
      const forCache = original.clone();
      assert.deepEqual(new Uint8Array(await forLog.arrayBuffer()), given);
      assert.deepEqual(bodyOf(await written(original)), given);
      assert.deepEqual(bodyOf(await written(forCache)), given);
    });

    test(`a ${n}-byte body: clones of a clone (a cache that hands out a clone of its clone per request) keep it after each is written`, async () => {
      const given = new Uint8Array(n).map((_, i) => (i * 3) % 241);
      const cached = new Response(given).clone();
      for (let i = 0; i < 3; i++) assert.deepEqual(bodyOf(await written(cached.clone())), given, `clone ${i}`);
      assert.deepEqual(bodyOf(await written(cached)), given, "the cached clone itself, last");
    });
  }

  test("a byte body nobody cloned: Deno's own copy is freed once written (Node and Bun: the bytes looked at are left as they are)", async () => {
    for (const n of [16384, 65536]) {
      const given = new Uint8Array(n).map((_, i) => i % 239);
      const response = new Response(given);
      // What the writer will take: on Deno the copy the Response constructor made (on Bun staticBody takes the body itself).
      const copy = "Deno" in globalThis ? staticBody(response) : undefined;
      assert.deepEqual(bodyOf(await written(response)), given);
      assert.equal(given.byteLength, n, "the caller's array is kept");
      if ("Deno" in globalThis && copy instanceof Uint8Array) {
        assert.notEqual(copy, given);
        assert.equal(copy.byteLength, 0, "the runtime's copy was freed (detached)");
        assert.equal(response.bodyUsed, true);
      }
    }
  });
});
