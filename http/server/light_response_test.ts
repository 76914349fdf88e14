// The light Response (light_response.ts), serve's default on Node: what its
// constructor accepts and refuses is what the runtime's accepts and refuses
// (same outcome, same error class), it behaves as a Response wherever it
// goes, and serve writes what it says (fields changed after construction
// included), an invalid one answered as a throwing handler is.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { installLightResponse, LIGHT_RESPONSE_DEFAULT, lightParts, nativeResponse, realResponseOf, statusOf } from "./light_response.ts";
import { serve } from "./serve.ts";

type Outcome = { error: string } | { status: number; statusText: string; headers: string[]; body: string };

/** What `new make(body, init)` gives: its error's class, or what it holds. */
async function outcome(make: new (body?: unknown, init?: unknown) => Response, body: unknown, init: unknown): Promise<Outcome> {
  let r: Response;
  try {
    r = new make(body, init);
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
  const headers = [...r.headers].map(([n, v]) => `${n}: ${v}`).sort();
  return { status: r.status, statusText: r.statusText, headers, body: await r.text() };
}

/** Both classes from the same arguments (fresh ones for each: a body may be used only once). */
async function same(args: () => [unknown, unknown], name: string): Promise<void> {
  const Native = nativeResponse() as unknown as new (body?: unknown, init?: unknown) => Response;
  const Light = globalThis.Response as unknown as new (body?: unknown, init?: unknown) => Response;
  assert.notEqual(Light, Native, "the light class is installed");
  const [b1, i1] = args();
  const [b2, i2] = args();
  assert.deepEqual(await outcome(Light, b1, i1), await outcome(Native, b2, i2), name);
}

let uninstall: () => void = () => {};

describe("light Response", () => {
  before(() => {
    uninstall = installLightResponse();
  });
  after(() => uninstall());

  test("statusOf reads what status reads: a light response's recorded status, a made one's, a runtime Response's, any object's own", () => {
    const Native = nativeResponse();
    const light = new Response("x", { status: 404 });
    assert.equal(statusOf(light), 404);
    const made = new Response("x", { status: 201 });
    realResponseOf(made); // the real one made: it answers from then on
    assert.equal(statusOf(made), 201);
    assert.equal(statusOf(made), made.status);
    // Refused by the light class (a status text it does not record): the runtime's response inside.
    const heavy = new Response(null, { status: 503, statusText: "Busy" });
    assert.equal(statusOf(heavy), 503);
    assert.equal(statusOf(new Native("x", { status: 202 })), 202);
    assert.equal(statusOf({ status: "a string" } as unknown as Response), "a string");
    fc.assert(fc.property(fc.integer({ min: 200, max: 599 }), (status) => {
      const body = status === 204 || status === 205 || status === 304 ? null : "b";
      return statusOf(new Response(body, { status })) === status && statusOf(new Native(body, { status })) === status;
    }), { numRuns: 60 });
  });

  test("the constructor accepts, converts and refuses as the runtime's own, with the same error class", async () => {
    const bytes = () => new Uint8Array([104, 105]);
    const locked = () => {
      const s = new ReadableStream();
      void s.getReader();
      return s;
    };
    const cases: Array<[string, () => [unknown, unknown]]> = [
      ["no arguments", () => [undefined, undefined]],
      ["a string", () => ["hé", undefined]],
      ["bytes, status and fields", () => [bytes(), { status: 201, headers: { "x-a": "1", "Content-Type": "a/b" } }]],
      ["pairs", () => ["x", { headers: [["x-a", "1"], ["x-a", "2"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]] }]],
      ["status 200.5 (converted)", () => ["x", { status: 200.5 }]],
      ["status '201' (converted)", () => ["x", { status: "201" }]],
      ["status 199", () => ["x", { status: 199 }]],
      ["status 600", () => ["x", { status: 600 }]],
      ["status NaN", () => ["x", { status: NaN }]],
      ["status null", () => ["x", { status: null }]],
      ["status 101", () => [null, { status: 101 }]],
      ["status 103", () => [null, { status: 103 }]],
      ["204 without a body", () => [null, { status: 204 }]],
      ["204 with an empty string", () => ["", { status: 204 }]],
      ["205 with a body", () => ["x", { status: 205 }]],
      ["304 with bytes", () => [bytes(), { status: 304 }]],
      ["statusText ok", () => ["x", { statusText: "Fine\tthanks é" }]],
      ["statusText with LF", () => ["x", { statusText: "a\nb" }]],
      ["statusText with DEL", () => ["x", { statusText: "a\x7fb" }]],
      ["statusText over U+00FF", () => ["x", { statusText: "€" }]],
      ["init a string", () => ["x", "abc"]],
      ["init a number", () => ["x", 5]],
      ["init a Headers", () => ["x", new Headers({ "x-a": "1" })]],
      ["init a function with a status", () => ["x", Object.assign(() => {}, { status: 202 })]],
      ["headers a Headers", () => ["x", { headers: new Headers({ "x-a": "1" }) }]],
      ["headers a Map (iterable)", () => ["x", { headers: new Map([["x-a", "1"]]) }]],
      ["headers a number", () => ["x", { headers: 5 }]],
      ["a header name with a space", () => ["x", { headers: { "a b": "1" } }]],
      ["an empty header name", () => ["x", { headers: [["", "1"]] }]],
      ["a value with CR LF", () => ["x", { headers: { a: "1\r\nInjected: 2" } }]],
      ["a value with NUL", () => ["x", { headers: { a: "1\x002" } }]],
      ["a value over U+00FF", () => ["x", { headers: { a: "€" } }]],
      ["a value with obs-text and spaces", () => ["x", { headers: { a: "  é \t" } }]],
      ["a number value", () => ["x", { headers: { a: 5 } }]],
      ["a pair of three", () => ["x", { headers: [["a", "1", "2"]] }]],
      ["a number body", () => [123, undefined]],
      ["an object body", () => [{}, undefined]],
      ["a symbol body", () => [Symbol("s"), undefined]],
      ["an ArrayBuffer body", () => [bytes().buffer, undefined]],
      ["a DataView body", () => [new DataView(bytes().buffer), undefined]],
      ["a Blob body", () => [new Blob(["blob"]), { headers: { "x-a": "1" } }]],
      ["URLSearchParams", () => [new URLSearchParams("a=1&b=2"), undefined]],
      ["a stream", () => [new ReadableStream({ start: (c) => (c.enqueue(bytes()), c.close()) }), undefined]],
      ["a locked stream", () => [locked(), undefined]],
    ];
    for (const [name, args] of cases) await same(args, name);
  });

  test("any status, status text, fields and simple body: the same outcome as the runtime's", async () => {
    const chars = (set: string[], max: number) => fc.array(fc.constantFrom(...set), { maxLength: max }).map((a) => a.join(""));
    const status = fc.oneof(fc.integer({ min: -2, max: 700 }), fc.constantFrom(204, 205, 304, 200.25, 65736));
    const statusText = fc.option(chars(["O", "K", " ", "\t", "\n", "\x7f", "é", "€", "\x00"], 4), { nil: undefined });
    const name = chars(["a", "X", "-", " ", ":", "é"], 4);
    const value = chars(["v", " ", "\t", "\r", "\n", "\x00", "é", "€"], 4);
    const fields = fc.array(fc.tuple(name, value), { maxLength: 3 });
    const body = fc.constantFrom<unknown>("x", "", null, undefined, "bytes");
    await fc.assert(fc.asyncProperty(status, statusText, fields, fc.boolean(), body, async (s, t, f, pairs, b) => {
      const args = (): [unknown, unknown] => {
        const init: Record<string, unknown> = { status: s, headers: pairs ? f.map(([n, v]) => [n, v]) : Object.fromEntries(f) };
        if (t !== undefined) init.statusText = t;
        return [b === "bytes" ? new Uint8Array([1, 2]) : b, init];
      };
      await same(args, JSON.stringify([s, t, f, pairs, b]));
    }), { numRuns: 300 });
  });

  test("Response.json: light, and the same outcome as the runtime's", async () => {
    assert.ok(lightParts(Response.json({ a: 1 })) !== undefined);
    const Native = nativeResponse() as unknown as { json(data: unknown, init?: unknown): Response };
    const Light = Response as unknown as { json(data: unknown, init?: unknown): Response };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[string, () => [unknown, unknown]]> = [
      ["an object", () => [{ a: [1, "é"] }, undefined]],
      ["a string", () => ["text", undefined]],
      ["null", () => [null, undefined]],
      ["status and fields", () => [{ a: 1 }, { status: 201, headers: { "x-a": "1" } }]],
      ["its own Content-Type", () => [{ a: 1 }, { headers: { "Content-Type": "application/vnd.x+json" } }]],
      ["its own Content-Type in pairs", () => [{ a: 1 }, { headers: [["content-type", "text/x-json"], ["x-a", "1"]] }]],
      ["a Headers", () => [{ a: 1 }, { headers: new Headers({ "x-a": "1" }) }]],
      ["status text", () => [{ a: 1 }, { statusText: "Made" }]],
      ["undefined", () => [undefined, undefined]],
      ["a function", () => [() => {}, undefined]],
      ["a BigInt", () => [1n, undefined]],
      ["a cycle", () => [cyclic, undefined]],
      ["status 204", () => [{ a: 1 }, { status: 204 }]],
      ["status 99", () => [{ a: 1 }, { status: 99 }]],
      ["a bad field", () => [{ a: 1 }, { headers: { "x-a": "1\n" } }]],
      ["init a number", () => [{ a: 1 }, 5]],
    ];
    const run = async (json: (data: unknown, init?: unknown) => Response, args: [unknown, unknown]): Promise<Outcome> => {
      let r: Response;
      try {
        r = json(args[0], args[1]);
      } catch (error) {
        return { error: (error as Error).constructor.name };
      }
      return { status: r.status, statusText: r.statusText, headers: [...r.headers].map(([n, v]) => `${n}: ${v}`).sort(), body: await r.text() };
    };
    for (const [name, args] of cases) {
      assert.deepEqual(await run((d, i) => Light.json(d, i), args()), await run((d, i) => Native.json(d, i), args()), name);
    }
  });

  test("instanceof, subclasses and the static methods", async () => {
    const light = new Response("x");
    assert.ok(lightParts(light) !== undefined, "a light one");
    const real = new (nativeResponse())("y");
    assert.ok(light instanceof Response && real instanceof Response);
    assert.ok(light instanceof nativeResponse());
    class Tagged extends Response {
      tag(): string {
        return "tagged";
      }
    }
    const t = new Tagged("sub", { status: 201, headers: { "x-a": "1" } });
    assert.ok(t instanceof Tagged && t instanceof Response);
    assert.equal(t.tag(), "tagged");
    assert.equal(t.status, 201);
    assert.equal(t.headers.get("x-a"), "1");
    assert.equal(await t.text(), "sub");
    assert.equal(light instanceof Tagged, false);
    assert.equal(real instanceof Tagged, false);
    assert.throws(() => new Tagged("x", { status: 99 }), RangeError);
    assert.throws(() => (Response as unknown as (b: string) => Response)("x"), TypeError);
    const json = Response.json({ a: 1 }, { status: 202 });
    assert.ok(json instanceof Response);
    assert.equal(Tagged.json({ a: 1 }) instanceof Tagged, false);
    assert.equal(json.status, 202);
    assert.deepEqual(await json.json(), { a: 1 });
    const redirect = Response.redirect("http://127.0.0.1/x", 307);
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.get("location"), "http://127.0.0.1/x");
    assert.equal(Response.error().type, "error");
    assert.equal(Object.prototype.toString.call(light), Object.prototype.toString.call(real));
  });

  test("status, statusText, ok, type, url, redirected and bodyUsed answer as the runtime's, before and after the real one is made", async () => {
    const make = (R: typeof Response) => new R("body", { status: 404, statusText: "Nope", headers: { "x-a": "1" } });
    const fields = (r: Response) => [r.status, r.statusText, r.ok, r.type, r.url, r.redirected, r.bodyUsed];
    const light = make(Response);
    const real = make(nativeResponse() as typeof Response);
    assert.deepEqual(fields(light), fields(real));
    assert.equal(lightParts(light), undefined, "a status text is written by the runtime's response");
    const plain = new Response("body");
    assert.deepEqual(fields(plain), fields(new (nativeResponse())("body")));
    assert.ok(lightParts(plain) !== undefined, "reading those made nothing real");
    assert.equal(await light.text(), await real.text());
    assert.deepEqual(fields(light), fields(real));
  });

  test("clone, body, the body methods and bodyUsed", async () => {
    const r = new Response("clone me", { headers: { "x-a": "1" } });
    const c = r.clone();
    assert.equal(await c.text(), "clone me");
    assert.equal(c.headers.get("x-a"), "1");
    assert.equal(r.bodyUsed, false);
    const reader = r.body!.getReader();
    let got = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
    }
    assert.equal(got, "clone me");
    assert.equal(r.bodyUsed, true);
    await assert.rejects(r.text(), TypeError);
    const bytes = new Response(new Uint8Array([1, 2, 3]));
    assert.deepEqual(new Uint8Array(await bytes.arrayBuffer()), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await new Response('{"a":[1]}').json(), { a: [1] });
    assert.equal(await (await new Response("blob").blob()).text(), "blob");
    assert.equal(new Response(null).body, null);
    // A method of the prototype applied to a real response works on it.
    assert.equal(await Response.prototype.text.call(new (nativeResponse())("real")), "real");
  });

  test("structuredClone refuses a light response, JSON shows nothing of it", () => {
    const r = new Response("secret", { headers: { "x-a": "1" } });
    assert.throws(() => structuredClone(r), (e: unknown) => (e as Error).name === "DataCloneError");
    assert.equal(JSON.stringify(r), "{}");
  });

  test("the runtime's response behind a light one: made once, used by what reads the response after", async () => {
    const r = new Response("made", { headers: { "x-a": "1" } });
    const real = realResponseOf(r);
    assert.notEqual(real, r);
    assert.equal(realResponseOf(r), real);
    assert.equal(lightParts(r), undefined);
    r.headers.set("x-b", "2");
    assert.equal(real.headers.get("x-b"), "2");
    assert.equal(await real.text(), "made");
    assert.equal(r.bodyUsed, true);
    const other = new (nativeResponse())("x");
    assert.equal(realResponseOf(other), other);
  });

  test("the runtime's own APIs take it (Node, where it is the default) or its real response (everywhere)", async () => {
    // A minimal WebAssembly module (magic and version).
    const wasm = () => new Response(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), { headers: { "content-type": "application/wasm" } });
    assert.ok(await WebAssembly.compileStreaming(realResponseOf(wasm())) instanceof WebAssembly.Module);
    if (LIGHT_RESPONSE_DEFAULT) assert.ok(await WebAssembly.compileStreaming(wasm()) instanceof WebAssembly.Module);
    // The runtime's own server (Deno.serve, Bun.serve: they refuse a light response, so it is off by default there).
    const g = globalThis as unknown as {
      Deno?: { serve(o: object, h: () => Response): { addr: { port: number }; shutdown(): Promise<void> } };
      Bun?: { serve(o: object): { port: number; stop(force: boolean): unknown } };
    };
    const answer = () => realResponseOf(new Response("from the runtime's server", { headers: { "x-a": "1" } }));
    let port = 0;
    let stop = async (): Promise<void> => {};
    if (g.Deno !== undefined) {
      const s = g.Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, answer);
      port = s.addr.port;
      stop = () => s.shutdown();
    } else if (g.Bun !== undefined) {
      const s = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: answer });
      port = s.port;
      stop = async () => void (await s.stop(true));
    }
    if (port !== 0) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(await r.text(), "from the runtime's server");
        assert.equal(r.headers.get("x-a"), "1");
      } finally {
        await stop();
      }
    }
  });
});

describe("serve writes light responses as they stand when written", () => {
  before(() => {
    uninstall = installLightResponse();
  });
  after(() => uninstall());

  test("fields set through headers after construction are sent; changes to the init's object after it are not (as with the runtime's)", async () => {
    await using server = serve({
      port: 0,
      lightResponse: true,
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/headers") {
          const r = new Response("late", { headers: { "x-a": "1" } });
          r.headers.set("x-late", "yes");
          r.headers.append("set-cookie", "a=1");
          return r;
        }
        const fields: Record<string, string> = { "x-a": "1" };
        const pairs: Array<[string, string]> = [["x-p", "1"]];
        const r = new Response(path, { status: 201, headers: path === "/object" ? fields : pairs });
        fields["x-added"] = "later";
        fields["x-a"] = "1\r\nInjected: 1";
        pairs[0]![1] = "1\r\nInjected: 1";
        pairs.push(["x-added", "later"]);
        assert.ok(lightParts(r) !== undefined, "still light");
        return r;
      },
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const a = await fetch(`${base}/headers`);
    assert.equal(await a.text(), "late");
    assert.equal(a.headers.get("x-a"), "1");
    assert.equal(a.headers.get("x-late"), "yes");
    assert.equal(a.headers.get("set-cookie"), "a=1");
    for (const [path, name] of [["/object", "x-a"], ["/pairs", "x-p"]]) {
      const b = await fetch(`${base}${path}`);
      assert.equal(b.status, 201);
      assert.equal(await b.text(), path);
      assert.equal(b.headers.get(name!), "1");
      assert.equal(b.headers.get("x-added"), null);
      assert.equal(b.headers.get("injected"), null);
    }
  });

  test("a refused construction in the handler is a throwing handler (onError)", async () => {
    const errors: string[] = [];
    await using server = serve({
      port: 0,
      lightResponse: true,
      fetch: () => new Response("x", { status: 204 }),
      onError: (e) => (errors.push((e as Error).name), new Response("no", { status: 500 })),
    });
    const r = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    // The runtime's rule: Node and Deno refuse a body with 204 (TypeError); Bun takes it, and 204 goes out bodiless.
    assert.ok(r.status === 500 ? errors[0] === "TypeError" : r.status === 204, `${r.status} ${errors.join()}`);
    await r.text();
  });
});

describe("serve({ lightResponse })", () => {
  test("installs the light class on the first serve that wants it and leaves it after shutdown; false keeps the runtime's; anything else is a TypeError", async () => {
    const Native = nativeResponse();
    const restore = () => Object.defineProperty(globalThis, "Response", { value: Native, writable: true, configurable: true });
    restore();
    try {
      assert.throws(() => serve({ port: 0, fetch: () => new Response("x"), lightResponse: "yes" as unknown as boolean }), TypeError);
      assert.throws(() => serve({ port: 0, fetch: () => new Response("x"), lightResponse: 1 as unknown as boolean }), /lightResponse/);
      assert.equal(globalThis.Response, Native);
      {
        await using off = serve({ port: 0, fetch: () => new Response("off"), lightResponse: false });
        assert.equal(globalThis.Response, Native);
        assert.equal(await (await fetch(`http://127.0.0.1:${off.addr.port}/`)).text(), "off");
      }
      {
        await using byDefault = serve({ port: 0, fetch: () => new Response("default") });
        assert.equal(globalThis.Response !== Native, LIGHT_RESPONSE_DEFAULT);
        assert.equal(await (await fetch(`http://127.0.0.1:${byDefault.addr.port}/`)).text(), "default");
      }
      restore();
      let Held: typeof Response | undefined;
      {
        await using on = serve({ port: 0, fetch: () => new Response("on"), lightResponse: true });
        Held = globalThis.Response;
        assert.notEqual(Held, Native);
        assert.equal(await (await fetch(`http://127.0.0.1:${on.addr.port}/`)).text(), "on");
        await using second = serve({ port: 0, fetch: () => new Response("second"), lightResponse: true });
        assert.equal(globalThis.Response, Held, "installed once");
        assert.equal(await (await fetch(`http://127.0.0.1:${second.addr.port}/`)).text(), "second");
      }
      assert.equal(globalThis.Response, Held, "still installed after shutdown");
      assert.ok(lightParts(new Held("x")) !== undefined);
    } finally {
      restore();
    }
  });
});
