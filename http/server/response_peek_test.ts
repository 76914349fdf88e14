// forEachResponseField reads a Response's fields from the runtime's own list where it can
// (Node's undici, Deno) and must give what iterating `response.headers` gives, up to order:
// lower-case names, each Set-Cookie apart, repeats of other names joined.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { forEachResponseField, NO_BODY, staticBody } from "./response_peek.ts";

function viaPeek(response: Response): string[] {
  const out: string[] = [];
  forEachResponseField(response, (name, value) => out.push(`${name}: ${value}`));
  return out.sort();
}

function viaHeaders(response: Response): string[] {
  const out: string[] = [];
  for (const [name, value] of response.headers) out.push(`${name}: ${value}`);
  return out.sort();
}

describe("forEachResponseField", () => {
  test("names lower-cased, Set-Cookie apart, repeats joined as Headers joins them", () => {
    const r = new Response("x", { headers: { "Content-Type": "text/plain", "X-A": "1", "Set-Cookie": "a=1" } });
    r.headers.append("set-cookie", "b=2");
    assert.deepEqual(viaPeek(r), ["content-type: text/plain", "set-cookie: a=1", "set-cookie: b=2", "x-a: 1"]);
    r.headers.append("X-a", "2");
    assert.deepEqual(viaPeek(r), viaHeaders(r));
    assert.ok(viaPeek(r).includes("x-a: 1, 2"));
  });

  test("a lone Content-Type of a string or JSON body is seen (Deno keeps it outside its field list)", () => {
    for (const body of ["x", JSON.stringify({ a: 1 }), null]) {
      const r = new Response(body, { headers: { "content-type": "application/json" } });
      assert.deepEqual(viaPeek(r), ["content-type: application/json"]);
    }
    assert.deepEqual(viaPeek(new Response("x")), viaHeaders(new Response("x")));
    assert.deepEqual(viaPeek(new Response(null, { status: 204 })), []);
  });

  test("any field list gives what the Headers iterator gives", () => {
    const name = fc.constantFrom("X-One", "x-one", "X-Two", "Set-Cookie", "set-cookie", "Cache-Control", "ETag");
    const value = fc.stringMatching(/^[a-z0-9=;, ]{0,12}$/);
    fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (fields) => {
      const r = new Response(null, { status: 204 });
      for (const [n, v] of fields) r.headers.append(n, v);
      assert.deepEqual(viaPeek(r), viaHeaders(r));
    }), { numRuns: 200 });
  });

  test("a Response made from a string keeps its body's source for the writer", () => {
    const body = staticBody(new Response("hello"));
    // Node and Deno: the string; Bun keeps it out of reach (undefined: read through the stream).
    assert.ok(body === "hello" || body === undefined);
    const none = staticBody(new Response(null, { status: 204 }));
    assert.ok(none === NO_BODY || none === undefined);
  });
});
