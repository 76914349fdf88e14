// The lazy Request a handler of serve gets is accepted wherever a real Request is:
// new Request(request), new Request(request, init), fetch(request) forwarding, clone(),
// Request.prototype methods, and Hono's proxy helper; on each runtime, with real clients.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { proxy } from "hono/proxy";
import { serve } from "../http/server/mod.ts";

/** What the upstream echo answers: the request as it arrived. */
interface Echo {
  method: string;
  path: string;
  a: string | null;
  b: string | null;
  body: string;
}

async function echo(request: Request): Promise<Response> {
  const echoed: Echo = {
    method: request.method,
    path: new URL(request.url).pathname,
    a: request.headers.get("x-a"),
    b: request.headers.get("x-b"),
    body: await request.text(),
  };
  return Response.json(echoed);
}

describe("serve's lazy Request where a real Request is expected", () => {
  test("new Request(request) and new Request(request, init) keep method, URL, headers and body", async () => {
    await using server = serve({
      port: 0,
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/copy") return echo(new Request(request));
        if (path === "/init") return echo(new Request(request, { headers: { "x-b": "2" } }));
        if (path === "/method") return echo(new Request(request, { method: "PUT" }));
        if (path === "/clone") {
          const copy = request.clone();
          const first = await copy.text();
          const again = await echo(request);
          const seen = (await again.json()) as Echo;
          return Response.json({ ...seen, body: `${first}|${seen.body}` });
        }
        if (path === "/proto") return new Response(await Request.prototype.text.call(request));
        return new Response("no route", { status: 404 });
      },
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const ask = async (path: string, init: RequestInit = {}): Promise<Echo> => {
      const response = await fetch(`${base}${path}`, { ...init, headers: { "x-a": "1" } });
      assert.equal(response.status, 200);
      return (await response.json()) as Echo;
    };
    assert.deepEqual(await ask("/copy"), { method: "GET", path: "/copy", a: "1", b: null, body: "" });
    assert.deepEqual(await ask("/copy", { method: "POST", body: "posted" }), { method: "POST", path: "/copy", a: "1", b: null, body: "posted" });
    // init.headers replaces the request's headers (Fetch standard); Bun reads a Request not its own as an
    // init-like object, whose method a second argument without one resets to GET (request.ts says so)
    const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
    assert.deepEqual(await ask("/init", { method: "POST", body: "with init" }), { method: isBun ? "GET" : "POST", path: "/init", a: null, b: "2", body: "with init" });
    assert.deepEqual(await ask("/method", { method: "POST", body: "moved" }), { method: "PUT", path: "/method", a: "1", b: null, body: "moved" });
    assert.deepEqual(await ask("/clone", { method: "POST", body: "twice" }), { method: "POST", path: "/clone", a: "1", b: null, body: "twice|twice" });
    // Bun's native methods take only its own Request as `this`: the other runtimes take the lazy one.
    if (!isBun) {
      const proto = await fetch(`${base}/proto`, { method: "POST", body: "by prototype" });
      assert.equal(await proto.text(), "by prototype");
    }
  });

  test("fetch(request) and fetch(new Request(url, request)) forward a request with its body", async () => {
    await using upstream = serve({ port: 0, fetch: echo });
    const upstreamBase = `http://127.0.0.1:${upstream.addr.port}`;
    await using front = serve({
      port: 0,
      fetch: (request) => {
        const url = new URL(request.url);
        if (request.headers.get("x-b") === "hop") return echo(request); // the second hop of /self
        if (url.pathname === "/self") return fetch(request, { headers: { "x-a": request.headers.get("x-a") ?? "", "x-b": "hop" } });
        return fetch(new Request(`${upstreamBase}${url.pathname}`, request));
      },
    });
    const base = `http://127.0.0.1:${front.addr.port}`;
    const forwarded = await fetch(`${base}/up`, { method: "POST", headers: { "x-a": "1" }, body: "to upstream" });
    assert.deepEqual(await forwarded.json(), { method: "POST", path: "/up", a: "1", b: null, body: "to upstream" });
    const self = await fetch(`${base}/self`, { method: "POST", headers: { "x-a": "1" }, body: "to myself" });
    assert.deepEqual(await self.json(), { method: "POST", path: "/self", a: "1", b: "hop", body: "to myself" });
  });

  test("Hono's proxy helper forwards c.req.raw", async () => {
    await using upstream = serve({ port: 0, fetch: echo });
    const app = new Hono();
    app.all("/p/:name", (c) => proxy(`http://127.0.0.1:${upstream.addr.port}/${c.req.param("name")}`, c.req.raw));
    app.post("/copy", (c) => echo(new Request(c.req.raw, { method: c.req.method, headers: { "x-b": "from hono" } })));
    await using server = serve({ port: 0, fetch: app.fetch });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const proxied = await fetch(`${base}/p/thing`, { method: "POST", headers: { "x-a": "1" }, body: "through hono" });
    assert.deepEqual(await proxied.json(), { method: "POST", path: "/thing", a: "1", b: null, body: "through hono" });
    const copied = await fetch(`${base}/copy`, { method: "POST", body: "copied in hono" });
    assert.deepEqual(await copied.json(), { method: "POST", path: "/copy", a: null, b: "from hono", body: "copied in hono" });
  });
});
