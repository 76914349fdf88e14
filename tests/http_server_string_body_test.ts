// serve() writes a Response made from a string as it is and leaves the
// response's body unread, on every runtime, over HTTP/1.1 and HTTP/2: after
// the answer, `bodyUsed` is false and `text()` still gives the string (Node
// and Deno keep the source where the server finds it; on Bun ffinet's
// Response subclass keeps the string, ffi/bun_response_type.ts: before, the
// server took it with `bytes()`, which used the body up, and `text()`
// afterwards threw). A body someone touched is not sent from the kept
// string: a locked or used body fails the response (500), the rest of a
// partly read one is what is sent (here nothing), a clone answers with its
// own copy; the same on every runtime.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type http2 from "node:http2";
import { serve, type Server } from "../http/server/mod.ts";
import { closeH2, connectH2, getH1, getH2 } from "./h1_h2_get_helpers.ts";

const TEXT = "héllo wörld, ".repeat(3);

describe("serve: a string body", () => {
  let server: Server;
  let session: http2.ClientHttp2Session;
  const held: Response[] = [];
  let clone: Response | undefined;

  async function handler(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/held") {
      const r = new Response(TEXT, { headers: { "x-a": "1" } });
      held.push(r);
      return r;
    }
    if (path === "/locked") {
      const r = new Response("secret");
      r.body!.getReader();
      return r;
    }
    if (path === "/partly") {
      const r = new Response("secret");
      const reader = r.body!.getReader();
      await reader.read();
      reader.releaseLock();
      return r;
    }
    if (path === "/used") {
      const r = new Response("secret");
      await r.text();
      return r;
    }
    if (path === "/original") {
      const r = new Response("original");
      clone = r.clone();
      return r;
    }
    if (path === "/clone") return clone!;
    return new Response("not found", { status: 404 });
  }

  before(async () => {
    server = serve({ port: 0, host: "127.0.0.1", fetch: handler });
    session = await connectH2(server.addr.port);
  });

  after(async () => {
    await closeH2(session);
    await server.shutdown({ deadlineMs: 2000 });
  });

  const answer = async (got: Promise<{ status: number; body: Uint8Array }>) => {
    const { status, body } = await got;
    return { status, text: new TextDecoder().decode(body) };
  };
  const h1 = (path: string) => answer(getH1(server.addr.port, path));
  const h2 = (path: string) => answer(getH2(session, path));

  for (const [proto, get] of [["HTTP/1.1", h1], ["HTTP/2", h2]] as const) {
    test(`${proto}: sent as made, and the response's body is left unread`, async () => {
      held.length = 0;
      assert.deepEqual(await get("/held"), { status: 200, text: TEXT });
      assert.deepEqual(await get("/held"), { status: 200, text: TEXT });
      assert.equal(held.length, 2);
      for (const r of held) {
        assert.equal(r.bodyUsed, false);
        assert.equal(await r.text(), TEXT);
      }
    });

    test(`${proto}: a locked body fails the response`, async () => {
      assert.equal((await get("/locked")).status, 500);
    });

    test(`${proto}: a used body fails the response`, async () => {
      assert.equal((await get("/used")).status, 500);
    });

    test(`${proto}: a partly read body sends what is left`, async () => {
      assert.deepEqual(await get("/partly"), { status: 200, text: "" });
    });

    test(`${proto}: a response and its clone each send the string`, async () => {
      assert.deepEqual(await get("/original"), { status: 200, text: "original" });
      assert.deepEqual(await get("/clone"), { status: 200, text: "original" });
    });
  }
});
