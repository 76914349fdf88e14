// serve({ lightResponse: true }) sends the Content-Type the fetch standard's
// "extract a body" gives a light response's body (a string's) and one made
// real (a Headers init, a Blob, URLSearchParams, FormData), over HTTP/1.1
// and HTTP/2, on every runtime: the light class makes the runtime's own
// responses, which on Bun keep these types out of `headers`
// (ffi/bun_response_type.ts). See http_server_implied_type_test.ts for the
// runtime's own class.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type http2 from "node:http2";
import { installLightResponse, serve, type Server } from "../http/server/mod.ts";
import { closeH2, connectH2, getH2 } from "./h1_h2_get_helpers.ts";

const TEXT = "text/plain;charset=utf-8";

const KINDS: Record<string, [() => Response, string | null]> = {
  "/string": [() => new Response("héllo"), TEXT],
  "/string-pairs": [() => new Response("x", { headers: [["x-a", "1"]] }), TEXT],
  "/string-headers": [() => new Response("x", { headers: new Headers({ "x-a": "1" }) }), TEXT],
  "/string-status-text": [() => new Response("x", { statusText: "Fine" }), TEXT],
  "/string-real": [() => {
    const r = new Response("x");
    void r.headers.get("x-a"); // made real
    return r;
  }, TEXT],
  "/bytes": [() => new Response(new Uint8Array([1])), null],
  "/blob": [() => new Response(new Blob(["x"], { type: "text/csv" })), "text/csv"],
  "/params": [() => new Response(new URLSearchParams("a=1")), "application/x-www-form-urlencoded;charset=utf-8"],
  "/form": [() => {
    const f = new FormData();
    f.append("a", "1");
    return new Response(f);
  }, "multipart/form-data"],
};

function handler(request: Request): Response {
  const kind = KINDS[new URL(request.url).pathname];
  return kind === undefined ? new Response("not found", { status: 404 }) : kind[0]();
}

function normalized(type: string | null, body: string): string | null {
  if (type === null) return null;
  const m = /^multipart\/form-data; boundary=(.+)$/i.exec(type);
  if (m === null) return type.toLowerCase();
  assert.equal(body.split("\r\n")[0], `--${m[1]}`, "the boundary is the one the body uses");
  return "multipart/form-data";
}

describe("serve({ lightResponse: true }): the Content-Type a body implies", () => {
  let server: Server;
  let session: http2.ClientHttp2Session;
  let uninstall: () => void = () => {};

  before(async () => {
    // Installed here and put back after: the class is process-wide (Bun runs test files in one process).
    uninstall = installLightResponse();
    server = serve({ port: 0, host: "127.0.0.1", fetch: handler, lightResponse: true });
    session = await connectH2(server.addr.port);
  });

  after(async () => {
    await closeH2(session);
    await server.shutdown({ deadlineMs: 2000 });
    uninstall();
  });

  for (const [path, [, want]] of Object.entries(KINDS)) {
    test(`${path}: ${want ?? "no Content-Type"} over HTTP/1.1 and HTTP/2`, async () => {
      const r = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
      assert.equal(normalized(r.headers.get("content-type"), await r.text()), want, "HTTP/1.1");
      const two = await getH2(session, path);
      assert.equal(normalized(two.header("content-type"), new TextDecoder().decode(two.body)), want, "HTTP/2");
    });
  }
});
