// forEachResponseField reads a Response's fields from the runtime's own list where it can
// (Node's undici, Deno) and must give what iterating `response.headers` gives, up to order:
// lower-case names, each Set-Cookie apart, repeats of other names joined; on Bun with the
// Content-Type a string body implies, which Bun keeps out of `headers` (ffi/bun_response_type.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { forEachResponseField, NO_BODY, responseContentType, staticBody } from "./response_peek.ts";
import { installLightResponse, lightParts } from "./light_response.ts";

/**
 * Node 24's undici keeps a Response's state in private fields (no symbol-keyed property to look at): there
 * every body is read through its stream, so staticBody must answer undefined (Bun keeps none either, but
 * hands an in-memory body over by other means).
 */
const SOURCE_PRIVATE = !("Bun" in globalThis) && Object.getOwnPropertySymbols(new Response("x")).length === 0;

// First in the file (a process's first look decides the layout for good): the layout is found on a
// Response of the runtime's own class made for it, not on the first response given, which may be a
// light one or have a stream or Blob body.
describe("staticBody's first look", () => {
  test("a light response, a stream body and a Blob body seen first do not cost real responses their fast path", () => {
    const uninstall = installLightResponse();
    let light: Response;
    try {
      light = new Response("light", { headers: { "x-a": "1" } });
    } finally {
      uninstall();
    }
    assert.ok(lightParts(light) !== undefined);
    // A light response is looked at through the runtime's response it makes.
    const fromLight = staticBody(light);
    assert.ok(fromLight === undefined || text(fromLight) === "light", String(fromLight));
    assert.equal(staticBody(new Response(new ReadableStream())), undefined);
    const blob = staticBody(new Response(new Blob(["b"])));
    // Node and Deno hand the Blob over; Bun a copy of its bytes (ffi/bun_response_bytes.ts bunBlobBytes).
    assert.ok(blob === undefined || blob instanceof Blob || ("Bun" in globalThis && blob instanceof Uint8Array && text(blob) === "b"));
    const got = staticBody(new Response("hello"));
    if (SOURCE_PRIVATE) assert.equal(got, undefined);
    else assert.equal(text(got), "hello");
    if (!SOURCE_PRIVATE && !("Bun" in globalThis)) assert.equal(fromLight, "light", "Node 20-22 and Deno: the light response's source, from its real one");
    assert.deepEqual(viaPeek(light), viaHeaders(light));
    assert.ok(viaPeek(light).includes("x-a: 1"));
  });
});

function viaPeek(response: Response): string[] {
  const out: string[] = [];
  forEachResponseField(response, (name, value) => out.push(`${name}: ${value}`));
  return out.sort();
}

function viaHeaders(response: Response): string[] {
  const out: string[] = [];
  for (const [name, value] of response.headers) out.push(`${name}: ${value}`);
  // Bun: a string body's type, which its headers do not hold (Node's and Deno's do).
  const type = responseContentType(response);
  if (!response.headers.has("content-type") && type !== null) out.push(`content-type: ${type}`);
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

  test("any way of making a response, touched or not before it is written, gives what the Headers iterator gives (Deno keeps some Content-Types aside)", async () => {
    const bodies: Array<() => BodyInit | null> = [() => "hello", () => new Uint8Array([1, 2]), () => JSON.stringify({ a: 1 }), () => null];
    const types = ["text/plain", "text/plain;charset=UTF-8", "application/json", "text/html", "Application/JSON"];
    const inits: Array<(type: string) => ResponseInit | undefined> = [
      () => undefined,
      (type) => ({ headers: { "content-type": type } }),
      (type) => ({ headers: { "Content-Type": type } }),
      (type) => ({ headers: new Headers({ "content-type": type }) }),
      (type) => ({ headers: [["content-type", type]] }),
      (type) => ({ headers: { "content-type": type, "x-a": "1" } }),
      () => ({ headers: { "x-a": "1" } }),
      (type) => ({ status: 201, headers: { "content-type": type } }),
      (type) => ({ statusText: "Fine", headers: { "content-type": type } }),
    ];
    const touches: Array<(r: Response) => unknown> = [
      () => undefined,
      (r) => r.bodyUsed,
      (r) => r.body,
      (r) => r.headers.get("x-b"),
      (r) => r.headers.set("x-b", "2"),
      (r) => r.headers.append("content-type", "text/css"),
      (r) => r.text(),
      (r) => r.clone(),
      (r) => staticBody(r),
    ];
    const make: Array<() => Response> = [() => Response.json({ a: 1 }), () => Response.json([1], { headers: { "x-a": "1" } }), () => Response.json(2, { status: 200 })];
    for (const body of bodies) for (const type of types) for (const init of inits) make.push(() => new Response(body(), init(type)));
    for (const m of make) {
      for (const touch of touches) {
        const r = m();
        await touch(r);
        assert.deepEqual(viaPeek(r), viaHeaders(r), `${m} ${touch}`);
      }
    }
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
    // Node 20-22 and Deno: the string; Bun: its bytes (response.bytes(), settled at once); Node 24: nothing to look at.
    if (SOURCE_PRIVATE) assert.equal(body, undefined);
    else assert.ok(body === "hello" || (body instanceof Uint8Array && new TextDecoder().decode(body) === "hello"), String(body));
    const none = staticBody(new Response(null, { status: 204 }));
    assert.ok(none === NO_BODY || none === undefined);
  });
});

/** The body's text when staticBody gave a string or bytes. */
function text(body: ReturnType<typeof staticBody>): string | undefined {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return undefined;
}

describe("staticBody", () => {
  test("bytes, JSON and UTF-8 bodies held in memory are given whole, with any status text and fields", () => {
    const bytes = new Uint8Array(70000).map((_, i) => i % 251);
    const got = staticBody(new Response(bytes, { status: 201, statusText: "Made", headers: { "x-a": "x".repeat(300) } }));
    if (SOURCE_PRIVATE) {
      // Node 24: read through the stream, every one.
      assert.equal(got, undefined);
      for (const r of [Response.json({ a: 1 }), new Response("héllo €")]) assert.equal(staticBody(r), undefined);
      return;
    }
    assert.ok(got instanceof Uint8Array);
    assert.deepEqual(got, bytes);
    assert.equal(text(staticBody(Response.json({ a: 1 }))), '{"a":1}');
    assert.equal(text(staticBody(new Response("héllo €"))), "héllo €");
    assert.equal(text(staticBody(new Response("with fields", { status: 201, headers: { "content-type": "text/html", "x-a": "1" } }))), "with fields");
  });

  test("a streaming body is never read: undefined, the stream not pulled, the body unused", () => {
    // statusText outside ASCII too: were it counted as its UTF-8 bytes, it would look like a body held in memory on Bun.
    for (const statusText of ["", "OK", "Ünïcødé ÿ", "x".repeat(200)]) {
      let pulls = 0;
      const stream = new ReadableStream<Uint8Array>({ pull: () => void pulls++ }, { highWaterMark: 0 });
      const response = new Response(stream, { statusText, headers: { "x-a": "1", "set-cookie": "a=b" } });
      assert.equal(staticBody(response), undefined, statusText);
      assert.equal(pulls, 0);
      assert.equal(response.bodyUsed, false);
      assert.equal(stream.locked, false);
    }
  });

  test("a stream with bytes already queued, a tee, a clone of a streaming response, a Blob: never read, the body unused", async () => {
    const chunk = new Uint8Array(100).fill(7);
    const open = () => new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(chunk) });
    const closed = () => new ReadableStream<Uint8Array>({
      start: (c) => {
        c.enqueue(chunk);
        c.close();
      },
    });
    const [teed] = closed().tee();
    const cloned = new Response(open()).clone();
    const cases: Array<[string, Response]> = [
      ["queued, open", new Response(open())],
      ["queued, closed", new Response(closed(), { statusText: "OK" })],
      ["a tee", new Response(teed)],
      ["a clone", cloned],
      ["a Blob", new Response(new Blob([chunk]))],
    ];
    for (const [name, response] of cases) {
      const got = staticBody(response);
      // A Blob is handed over as it is where the runtime keeps it (Node, Deno), on Bun a copy of
      // its bytes read through a response of its own; the response's body is not read either way.
      const blobCopy = "Bun" in globalThis && got instanceof Uint8Array && got.length === 100 && got[99] === 7;
      assert.ok(got === undefined || (name === "a Blob" && (got instanceof Blob || blobCopy)), name);
      assert.equal(response.bodyUsed, false, name);
    }
    // The closed one still reads whole through its stream.
    const later = cases[1]![1];
    assert.equal(staticBody(later), undefined);
    assert.equal((await later.arrayBuffer()).byteLength, 100);
  });

  test("a used body, or one whose stream was taken, is left to the caller", async () => {
    const used = new Response("hello");
    await used.text();
    assert.equal(staticBody(used), undefined);
    const locked = new Response("hello");
    const reader = locked.body!.getReader();
    assert.equal(staticBody(locked), undefined);
    assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
    // A stream made but not read: the body is the stream's now (Node and Deno leave it; Bun's bytes() take it whole).
    const made = new Response("hello");
    void made.body;
    const got = staticBody(made);
    assert.ok(got === undefined || got === "hello" || (got instanceof Uint8Array && text(got) === "hello"));
  });
});
