// A Hono app served by serve({ fetch: app.fetch }) on each runtime.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { serve } from "../http/server/mod.ts";

describe("serve with Hono", () => {
  test("routes, params, JSON bodies and 404", async () => {
    const app = new Hono();
    app.get("/", (c) => c.text("root"));
    app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), q: c.req.query("q") ?? null }));
    app.post("/echo", async (c) => c.json({ got: await c.req.json() }, 201));
    await using server = serve({ port: 0, fetch: app.fetch });
    const base = `http://127.0.0.1:${server.addr.port}`;
    assert.equal(await (await fetch(`${base}/`)).text(), "root");
    assert.deepEqual(await (await fetch(`${base}/users/42?q=x`)).json(), { id: "42", q: "x" });
    const posted = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: 1 }) });
    assert.equal(posted.status, 201);
    assert.deepEqual(await posted.json(), { got: { a: 1 } });
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
  });
});
