// writeResponse's string and bytes bodies: the head's Content-Length and Connection lines and the body, whether
// the response is built in the writer's own buffer or appended to a session's cork buffer after others.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ResponseContext, type ResponseSink, writeResponse } from "./respond.ts";
import { OutBuffer } from "./out_buffer.ts";
import { installLightResponse } from "./light_response.ts";
import { staticBody } from "./response_peek.ts";

const decoder = new TextDecoder();

/** Writes `response` and returns what went out, with the bytes corked before it when `cork` is given. */
async function written(response: Response, ctx: ResponseContext, cork?: OutBuffer): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const sink: ResponseSink = {
    send: (b) => (parts.push(b.slice()), true),
    sendPair: (head, body) => (parts.push(head.slice(), body.slice()), true),
    drained: () => Promise.resolve(),
    gone: false,
    corkBuffer: () => cork,
  };
  // At once for a body held in memory (Bun reads an empty one through its stream).
  assert.equal(await writeResponse(sink, response, ctx), !ctx.close);
  if (cork !== undefined) parts.push(cork.view().slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a written response into its head's lines and its body bytes. */
function parse(bytes: Uint8Array): { lines: string[]; body: Uint8Array } {
  const text = decoder.decode(bytes); // heads are ASCII: the body is taken by byte offset below
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end > 0, text);
  const headBytes = new TextEncoder().encode(text.slice(0, end + 4)).length;
  return { lines: text.slice(0, end).split("\r\n"), body: bytes.subarray(headBytes) };
}

describe("writeResponse string and bytes bodies", () => {
  test("Content-Length is the body's UTF-8 byte count, the Connection line as asked, the body whole; alone or after corked bytes", async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "grapheme", maxLength: 80 }),
      fc.string({ minLength: 60, maxLength: 70 }),
      fc.uint8Array({ maxLength: 200 }),
    );
    const ctx = fc.record({ head: fc.boolean(), http10: fc.boolean(), close: fc.boolean() });
    await fc.assert(fc.asyncProperty(body, ctx, fc.option(fc.string({ maxLength: 40 })), fc.boolean(), async (b, c, before, light) => {
      const cork = before === null ? undefined : new OutBuffer(16);
      const prefix = before === null ? new Uint8Array(0) : new TextEncoder().encode(before);
      cork?.bytes(prefix);
      // The light Response (serve's default on Node) is written from its recorded parts, by the same code.
      const uninstall = light ? installLightResponse() : () => {};
      let response: Response;
      try {
        response = new Response(b, { headers: { "content-type": "text/plain" } });
      } finally {
        uninstall();
      }
      const out = await written(response, { ...c }, cork);
      assert.deepEqual(out.subarray(0, prefix.length), prefix);
      const { lines, body: got } = parse(out.subarray(prefix.length));
      const expected = typeof b === "string" ? new TextEncoder().encode(b) : b;
      assert.equal(lines[0], "HTTP/1.1 200 OK");
      assert.ok(lines.includes(`Content-Length: ${expected.length}`), lines.join("|"));
      assert.equal(lines.includes("Connection: close"), c.close);
      assert.equal(lines.includes("Connection: keep-alive"), !c.close && c.http10);
      assert.deepEqual(got, c.head ? new Uint8Array(0) : expected);
    }), { numRuns: 300 });
  });

  test("a large bytes body goes beside its head with its length", async () => {
    for (const n of [9, 10, 99, 100, 32768, 32769, 65536, 1_000_000]) {
      const bytes = new Uint8Array(n).map((_, i) => i % 251);
      const { lines, body } = parse(await written(new Response(bytes), { head: false, http10: false, close: false }));
      assert.ok(lines.includes(`Content-Length: ${n}`), `${n}: ${lines.join("|")}`);
      assert.deepEqual(body, bytes);
    }
  });

  test("a bytes body is left used once written where the runtime's own server leaves it so (Deno, Bun): the caller's array kept, a second write fails, never an empty body", async () => {
    for (const n of [100, 65536]) {
      const given = new Uint8Array(n).map((_, i) => i % 251);
      const response = new Response(given);
      const { body } = parse(await written(response, { head: false, http10: false, close: false }));
      assert.deepEqual(body, given);
      assert.equal(given.length, n, "the array given to the Response is the caller's still");
      assert.equal(given[n - 1], (n - 1) % 251);
      // Deno and Bun: used, as Deno.serve and Bun.serve leave it (the copy the runtime made is freed at once when large).
      if ("Deno" in globalThis || "Bun" in globalThis) assert.equal(response.bodyUsed, true, `${n}`);
      if (response.bodyUsed) {
        await assert.rejects(async () => await written(response, { head: false, http10: false, close: false }), TypeError);
        await assert.rejects(() => response.arrayBuffer(), TypeError);
      } else {
        // Node's undici (20-22): the body's source is looked at, not taken; the same bytes again.
        assert.deepEqual(parse(await written(response, { head: false, http10: false, close: false })).body, given);
      }
    }
  });

  test("bytes a caller holds are never freed: a light response made from the very array a runtime response's body was taken as (Deno's bytes() gives it back)", async () => {
    const n = 65536;
    const looked = new Response(new Uint8Array(n).fill(7));
    // What the writer (or the HTTP/2 writer) took out of a response: on Deno the response's own copy, which bytes() then hands to the caller as it is.
    const held = staticBody(looked);
    if (!(held instanceof Uint8Array)) {
      assert.equal(held, undefined, "Node 24 keeps nothing to look at: nothing is taken");
      return;
    }
    const uninstall = installLightResponse();
    let light: Response;
    try {
      light = new Response(held as Uint8Array<ArrayBuffer>);
    } finally {
      uninstall();
    }
    const { body } = parse(await written(light, { head: false, http10: false, close: false }));
    assert.equal(body.length, n);
    assert.equal(held.byteLength, n, "the caller's array is not detached");
    assert.equal(held[n - 1], 7);
  });

  test("a light response's field values go out as the runtime's Headers leaves them: SP and HTAB stripped at the ends, NBSP kept (String.prototype.trim strips it too), VT and FF refused alike (control characters)", async () => {
    const chars = (set: string[], max: number) => fc.array(fc.constantFrom(...set), { maxLength: max }).map((a) => a.join(""));
    // Values the light constructor takes (no CR, LF, NUL, nothing over U+00FF), whitespace of both kinds at either end.
    const value = chars(["v", " ", "\t", "\x0b", "\x0c", "\u00a0", "\u00e9"], 5);
    const fields = fc.uniqueArray(fc.tuple(fc.constantFrom("x-a", "x-b", "X-C", "content-type"), value), { selector: ([n]) => n.toLowerCase(), maxLength: 4 });
    /** The head's field lines as bytes (latin1), sorted, without Date (a second may turn between the two). */
    const fieldLines = (bytes: Uint8Array): string[] => {
      const text = String.fromCharCode(...bytes);
      return text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n").slice(1).map((l) => l.toLowerCase().startsWith("date:") ? "" : l.replace(/^[^:]+/, (n) => n.toLowerCase())).filter((l) => l !== "").sort();
    };
    // No body: what is compared is the fields given (a string body's default Content-Type is the runtime's own business).
    const body = null;
    await fc.assert(fc.asyncProperty(fields, fc.boolean(), async (f, pairs) => {
      const init = (): ResponseInit => ({ headers: pairs ? f.map(([n, v]) => [n, v]) : Object.fromEntries(f) });
      const ctx = (): ResponseContext => ({ head: false, http10: false, close: false });
      // A control character other than HTAB (VT, FF here) is no field-value octet (RFC 9110 §5.5): a TypeError on both paths.
      const lines = async (response: Response): Promise<string[] | "TypeError"> => {
        try {
          return fieldLines(await written(response, ctx()));
        } catch (err) {
          assert.ok(err instanceof TypeError, String(err));
          return "TypeError";
        }
      };
      const runtime = await lines(new Response(body, init()));
      const uninstall = installLightResponse();
      let light: Response;
      try {
        light = new Response(body, init());
      } finally {
        uninstall();
      }
      assert.deepEqual(await lines(light), runtime, JSON.stringify(f));
      assert.equal(runtime === "TypeError", f.some(([, v]) => /[\x0b\x0c]/.test(v)), JSON.stringify(f));
    }), { numRuns: 300 });
  });
});
