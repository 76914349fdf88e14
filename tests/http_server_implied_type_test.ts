// serve() sends the Content-Type the fetch standard's "extract a body" gives
// a Response's body when its fields set none: a string's
// text/plain;charset=UTF-8, URLSearchParams', a Blob's or File's type,
// FormData's multipart type with the boundary its bytes use; none for bytes,
// an ArrayBuffer or a stream. Over HTTP/1.1 and HTTP/2, through compression
// (which keeps the type), on every runtime. Bun keeps these types out of
// `response.headers` (ffi/bun_response_type.ts): before, ffinet on Bun sent
// none of them. Where the test runs on Deno or Bun, each is compared with
// what the runtime's own server sends for the same response (node:http
// cannot serve a Response); bytes and streams with the standard's (none)
// everywhere: Bun's own server sends application/octet-stream for them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type http2 from "node:http2";
import { gunzipSync } from "node:zlib";
import { compression, serve, type Server, withMiddleware } from "../http/server/mod.ts";
import { closeH2, connectH2, getH1, getH2, type Got as Answer } from "./h1_h2_get_helpers.ts";

const TEXT = "text/plain;charset=UTF-8";
const FORM = "application/x-www-form-urlencoded;charset=UTF-8";
const LARGE = "large text ".repeat(400);

const g = globalThis as unknown as {
  Bun?: { serve(o: { port: number; hostname: string; fetch: (r: Request) => Response }): { port: number; stop(force: boolean): void } };
  Deno?: { serve(o: { port: number; hostname: string; onListen(): void }, h: (r: Request) => Response): { addr: { port: number }; shutdown(): Promise<void> } };
};
const runtime = g.Bun !== undefined ? "bun" : g.Deno !== undefined ? "deno" : "node";

function form(): FormData {
  const f = new FormData();
  f.append("a", "1");
  f.append("file", new Blob(["zz"], { type: "text/x-z" }), "z.txt");
  return f;
}

/** Each body kind: the response, and the type the standard gives it (null: none). */
const KINDS: Record<string, [() => Response, string | null]> = {
  "/string": [() => new Response("héllo"), TEXT],
  "/string-fields": [() => new Response("x", { headers: { "x-a": "1" } }), TEXT],
  "/string-headers": [() => new Response("x", { headers: new Headers({ "x-a": "1" }) }), TEXT],
  "/string-status": [() => new Response("x", { status: 404, statusText: "Gone Away" }), TEXT],
  "/string-own-type": [() => new Response("x", { headers: { "content-type": "text/html" } }), "text/html"],
  "/string-clone": [() => new Response("x").clone(), TEXT],
  "/empty-string": [() => new Response(""), TEXT],
  "/bytes": [() => new Response(new Uint8Array([1, 2])), null],
  "/arraybuffer": [() => new Response(new ArrayBuffer(3)), null],
  "/stream": [() => new Response(new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new Uint8Array([65])), c.close()) })), null],
  "/blob": [() => new Response(new Blob(["x,y"], { type: "text/csv" })), "text/csv"],
  "/blob-untyped": [() => new Response(new Blob(["x"])), null],
  "/file": [() => new Response(new File([new Uint8Array(4)], "a.png", { type: "image/png" })), "image/png"],
  "/params": [() => new Response(new URLSearchParams("a=1&b=2")), FORM],
  "/form": [() => new Response(form()), "multipart/form-data"],
  "/blob-deleted": [() => {
    const r = new Response(new Blob(["x"], { type: "text/csv" }));
    r.headers.delete("content-type");
    return r;
  }, null],
  "/large": [() => new Response(LARGE), TEXT],
};

function handler(request: Request): Response {
  const kind = KINDS[new URL(request.url).pathname];
  return kind === undefined ? new Response("not found", { status: 404 }) : kind[0]();
}

/** A multipart type's boundary replaced, once checked against the body's first line. */
function normalized(type: string | null, body: Uint8Array): string | null {
  if (type === null) return null;
  const m = /^multipart\/form-data; boundary=(.+)$/i.exec(type);
  if (m === null) return type.toLowerCase();
  const first = new TextDecoder().decode(body.subarray(0, 200)).split("\r\n")[0];
  assert.equal(first, `--${m[1]}`, "the boundary is the one the body uses");
  assert.match(new TextDecoder().decode(body), /name="file"; filename="z.txt"\r\nContent-Type: text\/x-z\r\n\r\nzz\r\n/);
  return "multipart/form-data";
}

interface Got {
  type: string | null;
  encoding: string | null;
  body: Uint8Array;
}

async function got(answer: Promise<Answer>): Promise<Got> {
  const { header, body } = await answer;
  return { type: header("content-type"), encoding: header("content-encoding"), body };
}

const h1 = (port: number, path: string, init?: RequestInit): Promise<Got> => got(getH1(port, path, init));
const h2 = (session: http2.ClientHttp2Session, path: string, extra: http2.OutgoingHttpHeaders = {}): Promise<Got> => got(getH2(session, path, extra));

/**
 * One HTTP/2 session for one test's requests, closed after them: a session
 * opened once for the file sat idle while the other tests ran, and at high
 * load the server's idle timeout had closed it before its turn.
 */
async function withSession<T>(port: number, use: (session: http2.ClientHttp2Session) => Promise<T>): Promise<T> {
  const session = await connectH2(port);
  try {
    return await use(session);
  } finally {
    await closeH2(session);
  }
}

/** The runtime's own server where it has one that serves a Response (Deno, Bun): its port and stop. */
function nativeServer(): { port: number; stop(): Promise<void> } | undefined {
  if (g.Bun !== undefined) {
    const s = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler });
    return { port: s.port, stop: async () => s.stop(true) };
  }
  if (g.Deno !== undefined) {
    const s = g.Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
    return { port: s.addr.port, stop: () => s.shutdown() };
  }
  return undefined;
}

describe("serve: the Content-Type a body implies", () => {
  let server: Server;
  let compressed: Server;
  let native: ReturnType<typeof nativeServer>;

  before(async () => {
    server = serve({ port: 0, host: "127.0.0.1", fetch: handler });
    compressed = serve({ port: 0, host: "127.0.0.1", fetch: withMiddleware(compression({ threshold: 1 }), handler) });
    native = nativeServer();
  });

  after(async () => {
    await server.shutdown({ deadlineMs: 2000 });
    await compressed.shutdown({ deadlineMs: 2000 });
    await native?.stop();
  });

  for (const [path, [, expected]] of Object.entries(KINDS)) {
    test(`${path}: HTTP/1.1 and HTTP/2 send ${expected ?? "no Content-Type"}`, async () => {
      const want = expected === null ? null : expected.toLowerCase();
      const one = await h1(server.addr.port, path);
      assert.equal(normalized(one.type, one.body), want, "HTTP/1.1");
      const two = await withSession(server.addr.port, (session) => h2(session, path));
      assert.equal(normalized(two.type, two.body), want, "HTTP/2");
      const head = await h1(server.addr.port, path, { method: "HEAD" });
      assert.equal(head.type === null ? null : head.type.replace(/boundary=.*$/, "").replace(/; $/, "").toLowerCase(), want, "HEAD");
    });

    // The runtime's own server agrees where the standard gives a type (Bun's sends none for an empty string: it takes it for no body).
    if (runtime !== "node" && expected !== null && path !== "/empty-string") {
      test(`${path}: as the runtime's own server sends it`, async () => {
        const mine = await h1(server.addr.port, path);
        const theirs = await h1(native!.port, path);
        assert.equal(normalized(mine.type, mine.body), normalized(theirs.type, theirs.body));
      });
    }
  }

  test("a string body's type deleted from its headers: not sent on Node and Deno; Bun cannot delete it (its headers never held it) and sends it, as its own server does", async () => {
    const app = serve({
      port: 0,
      host: "127.0.0.1",
      fetch: () => {
        const r = new Response("x", { headers: new Headers() });
        r.headers.delete("content-type");
        return r;
      },
    });
    try {
      const got = await h1(app.addr.port, "/");
      assert.equal(got.type, runtime === "bun" ? TEXT : null);
    } finally {
      await app.shutdown({ deadlineMs: 2000 });
    }
  });

  for (const path of ["/large", "/string", "/blob", "/params"]) {
    test(`${path} through compression keeps its type, over HTTP/1.1 and HTTP/2`, async () => {
      const want = KINDS[path]![1]!.toLowerCase();
      const one = await h1(compressed.addr.port, path, { headers: { "accept-encoding": "gzip" } });
      assert.equal(one.type?.toLowerCase(), want, "HTTP/1.1");
      const [two, head] = await withSession(compressed.addr.port, async (session) => [
        await h2(session, path, { "accept-encoding": "gzip" }),
        await h2(session, path, { "accept-encoding": "gzip", ":method": "HEAD" }),
      ]);
      assert.equal(two.type?.toLowerCase(), want, "HTTP/2");
      // Text is compressed (the type decides: on Bun a string's was not seen before).
      if (path !== "/params") {
        assert.equal(two.encoding, "gzip");
        const text = new TextDecoder().decode(gunzipSync(two.body));
        if (path === "/large") assert.equal(text, LARGE);
      }
      assert.equal(head.type?.toLowerCase(), want, "HEAD");
    });
  }
});
