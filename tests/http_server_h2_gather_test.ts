// Large HTTP/2 response bodies go out without being copied into DATA frames
// (H2Connection.pullParts: on a plain socket, frame headers and slices of
// the bodies in one sendmsg; over TLS, joined into one buffer as before).
// What must hold whatever the path: every body arrives whole and as
// answered, when many streams answer in one read and share the
// connection's windows, when the client's window holds most of them back,
// and when the handler reuses one array for every answer (a light
// response's bytes are the handler's own: what waits must be serve's copy).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import http2 from "node:http2";
import { concatBytes } from "../core/bytes.ts";
import { installLightResponse } from "../http/server/light_response.ts";
import { type Server, serve } from "../http/server/serve.ts";
import { testPKI } from "./tls_pki.ts";

const BODY = 100_000;
const STREAMS = 24;

/** One array for every answer, filled with the request's own byte just before answering. */
const shared = new Uint8Array(BODY);

function handler(request: Request): Response {
  const url = new URL(request.url);
  const mark = Number(url.searchParams.get("m"));
  if (url.pathname === "/shared") {
    shared.fill(mark);
    return new Response(shared);
  }
  // A body of its own per response, in a view that does not start at its buffer's start.
  const own = new Uint8Array(BODY + 3).subarray(3).fill(mark);
  return new Response(own);
}

/** `STREAMS` requests on one session at once; resolves with each body by its mark. */
async function fetchAll(session: http2.ClientHttp2Session, path: string, pause: boolean): Promise<Map<number, Uint8Array>> {
  const bodies = new Map<number, Uint8Array>();
  const paused: http2.ClientHttp2Stream[] = [];
  await Promise.all(Array.from({ length: STREAMS }, (_, i) => {
    const mark = i + 1;
    return new Promise<void>((resolve, reject) => {
      const request = session.request({ ":path": `${path}?m=${mark}` });
      const parts: Uint8Array[] = [];
      request.on("error", reject);
      if (pause) {
        // Read nothing until the server has answered every stream (their windows stay shut meanwhile).
        request.pause();
        request.on("response", () => {
          paused.push(request);
          if (paused.length === STREAMS) for (const r of paused) r.resume();
        });
      }
      request.on("data", (chunk: Uint8Array) => parts.push(chunk));
      request.on("end", () => {
        bodies.set(mark, concatBytes(parts));
        resolve();
      });
    });
  }));
  return bodies;
}

function check(bodies: Map<number, Uint8Array>): void {
  assert.equal(bodies.size, STREAMS);
  for (const [mark, body] of bodies) {
    assert.equal(body.length, BODY, `stream ${mark}: ${body.length} bytes`);
    const wrong = body.findIndex((b) => b !== mark);
    assert.equal(wrong, -1, `stream ${mark}: byte ${wrong} is ${body[wrong]}`);
  }
}

describe("serve over HTTP/2: large bodies, many streams", () => {
  let uninstall: () => void;
  let plain: Server;
  let secure: Server;
  let ca = "";
  before(() => {
    uninstall = installLightResponse();
    const pki = testPKI();
    ca = pki.root;
    plain = serve({ port: 0, fetch: handler });
    secure = serve({ port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: handler });
  });
  after(async () => {
    uninstall();
    await plain.shutdown({ deadlineMs: 2000 });
    await secure.shutdown({ deadlineMs: 2000 });
  });

  const cases = [
    { name: "h2c, large windows", tls: false, settings: { initialWindowSize: 1 << 24 }, pause: false },
    { name: "h2c, the client's 16 KiB stream windows and default connection window, read late", tls: false, settings: { initialWindowSize: 16384 }, pause: true },
    { name: "TLS, large windows", tls: true, settings: { initialWindowSize: 1 << 24 }, pause: false },
    { name: "TLS, 16 KiB stream windows, read late", tls: true, settings: { initialWindowSize: 16384 }, pause: true },
  ];
  for (const c of cases) {
    for (const path of ["/shared", "/own"]) {
      test(`${c.name}: ${path === "/shared" ? "one array reused by every answer" : "an array per answer"}`, async () => {
        const url = c.tls ? `https://localhost:${secure.addr.port}` : `http://127.0.0.1:${plain.addr.port}`;
        const session = http2.connect(url, { ca, settings: c.settings });
        session.on("error", () => {});
        try {
          check(await fetchAll(session, path, c.pause));
        } finally {
          session.close();
        }
      });
    }
  }
});
