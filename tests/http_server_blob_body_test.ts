// serve() writes a Response made from a Blob (or a File) from the Blob
// itself over HTTP/1.1, with its Content-Length and type, and leaves the
// response's body unread, on every runtime: after the answer `bodyUsed` is
// false and `arrayBuffer()` still gives the Blob's bytes (Node and Deno keep the
// Blob where the server finds it; on Bun ffinet's Response subclass keeps
// it, ffi/bun_response_type.ts: before, Bun's responses went through their
// stream, which used the body up). A body someone touched is not sent from
// the kept Blob: a locked or used body fails the response (500), a clone
// answers with its own copy; HTTP/2 reads the body as before, with the same
// bytes. The same on every runtime but Node 24, whose undici keeps a
// response's state in private fields where the server cannot find the Blob
// (ffi/undici_response_body.ts): there the body goes through its stream,
// used up, and without a Content-Length when not all there at once. On Bun
// only a Blob without a name is read so (a File cannot be told from a
// Bun.file, which Bun reads off the loop): a File body is streamed, used.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type http2 from "node:http2";
import { serve, type Server } from "../http/server/mod.ts";
import { closeH2, connectH2, getH1, getH2, type Got } from "./h1_h2_get_helpers.ts";

const SMALL = "a,b\n1,2\n";
const LARGE = new Uint8Array(65536).map((_, i) => 32 + ((i * 7) % 90));
const G = globalThis as unknown as { Bun?: unknown; Deno?: unknown; process: { versions: { node: string } } };
/** Whether the server finds the Blob a response was made from (see the file's text). */
const KEPT = G.Bun !== undefined || G.Deno !== undefined || Number(G.process.versions.node.split(".")[0]) < 24;
/** The same for a File. */
const FILE_KEPT = KEPT && G.Bun === undefined;

describe("serve: a Blob body", () => {
  let server: Server;
  let session: http2.ClientHttp2Session;
  const held: Response[] = [];
  let clone: Response | undefined;

  async function handler(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/small" || path === "/large" || path === "/file") {
      const body = path === "/small"
        ? new Blob([SMALL], { type: "text/csv" })
        : path === "/large"
        ? new Blob([LARGE])
        : new File([SMALL], "a.csv", { type: "text/csv" });
      const r = new Response(body, { headers: { "x-a": "1" } });
      held.push(r);
      return r;
    }
    if (path === "/locked") {
      const r = new Response(new Blob(["secret"]));
      r.body!.getReader();
      return r;
    }
    if (path === "/used") {
      const r = new Response(new Blob(["secret"]));
      await r.text();
      return r;
    }
    if (path === "/original") {
      const r = new Response(new Blob(["original"]));
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

  interface Answer {
    status: number;
    bytes: Uint8Array;
    type: string | null;
    length: string | null;
    xa: string | null;
  }

  const answer = async (got: Promise<Got>): Promise<Answer> => {
    const { status, body, header } = await got;
    return { status, bytes: body, type: header("content-type"), length: header("content-length"), xa: header("x-a") };
  };
  const h1 = (path: string) => answer(getH1(server.addr.port, path));
  const h2 = (path: string) => answer(getH2(session, path));

  const text = (b: Uint8Array): string => new TextDecoder().decode(b);

  test("HTTP/1.1: sent from the Blob with its length and type, and the response's body is left unread", async () => {
    held.length = 0;
    const small = await h1("/small");
    const length = (n: number): string | null => KEPT ? String(n) : small.length;
    assert.deepEqual({ ...small, bytes: text(small.bytes) }, { status: 200, bytes: SMALL, type: "text/csv", length: length(SMALL.length), xa: "1" });
    const file = await h1("/file");
    assert.deepEqual({ ...file, bytes: text(file.bytes) }, { status: 200, bytes: SMALL, type: "text/csv", length: length(SMALL.length), xa: "1" });
    const large = await h1("/large");
    assert.equal(large.status, 200);
    if (KEPT) assert.equal(large.length, "65536");
    assert.equal(large.type, null);
    assert.deepEqual(large.bytes, LARGE);
    assert.equal(held.length, 3);
    const expected = [SMALL, SMALL, text(LARGE)];
    const kept = [KEPT, FILE_KEPT, KEPT];
    for (const [i, r] of held.entries()) {
      assert.equal(r.bodyUsed, !kept[i], `response ${i}`);
      if (kept[i]) assert.equal(text(new Uint8Array(await r.arrayBuffer())), expected[i]);
    }
  });

  test("HTTP/2: the same bytes, length and type", async () => {
    const small = await h2("/small");
    assert.deepEqual({ ...small, bytes: text(small.bytes) }, { status: 200, bytes: SMALL, type: "text/csv", length: KEPT ? String(SMALL.length) : small.length, xa: "1" });
    const large = await h2("/large");
    assert.equal(large.status, 200);
    assert.deepEqual(large.bytes, LARGE);
  });

  for (const [proto, get] of [["HTTP/1.1", h1], ["HTTP/2", h2]] as const) {
    test(`${proto}: a locked body fails the response`, async () => {
      assert.equal((await get("/locked")).status, 500);
    });

    test(`${proto}: a used body fails the response`, async () => {
      assert.equal((await get("/used")).status, 500);
    });

    test(`${proto}: a response and its clone each send the Blob's bytes`, async () => {
      const original = await get("/original");
      assert.equal(original.status, 200);
      assert.equal(text(original.bytes), "original");
      const copy = await get("/clone");
      assert.equal(copy.status, 200);
      assert.equal(text(copy.bytes), "original");
    });
  }
});
