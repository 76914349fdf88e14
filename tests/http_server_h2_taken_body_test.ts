// A byte body the HTTP/2 writer takes out of a runtime Response (Bun's
// bytes(), Deno's own copy: response_peek.ts staticBody) is released once
// the connection has copied it into its outbound bytes (on Bun freed at
// once, on Deno the body marked used, as over HTTP/1.1), and only then:
// with a small flow-control window most of it waits in the stream's queue,
// which holds the taken array itself. Bytes a caller holds are never
// released: a light response built from the very array an earlier look
// took (Deno's bytes() gives the response's own copy back) keeps its bytes,
// as http/server/respond_test.ts checks over HTTP/1.1.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import http2 from "node:http2";
import { concatBytes } from "../core/bytes.ts";
import { installLightResponse } from "../http/server/light_response.ts";
import { staticBody } from "../http/server/response_peek.ts";
import { serve } from "../http/server/serve.ts";

const N = 65536;

/** GETs `/` over h2c with a stream window of `window`, reading slowly; resolves with the body. */
async function fetchBody(port: number, window: number): Promise<Uint8Array> {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: window } });
  session.on("error", () => {});
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const request = session.request({ ":path": "/" });
      const parts: Uint8Array[] = [];
      request.on("error", reject);
      request.on("response", (headers) => assert.equal(headers[":status"], 200));
      request.on("data", (chunk: Uint8Array) => parts.push(new Uint8Array(chunk)));
      request.on("end", () => resolve(concatBytes(parts)));
    });
  } finally {
    session.close();
  }
}

function pattern(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(n).map((_, i) => i % 251);
}

function assertPattern(body: Uint8Array, n: number, what: string): void {
  assert.equal(body.length, n, what);
  for (let i = 0; i < n; i++) if (body[i] !== i % 251) assert.fail(`${what}: byte ${i} is ${body[i]}`);
}

describe("serve over HTTP/2: a body taken out of a response", () => {
  for (const window of [16384, 1 << 20]) {
    test(`a runtime response's bytes arrive whole, queued behind a ${window}-byte window, and the body is left used where the runtime's server leaves it so`, async () => {
      const answered: Response[] = [];
      const clones: Response[] = [];
      const server = serve({
        port: 0,
        fetch: () => {
          const response = new Response(pattern(N));
          // A cache's or a logger's clone, made before the answer: it keeps its body.
          clones.push(response.clone());
          answered.push(response);
          return response;
        },
      });
      try {
        for (let round = 0; round < 3; round++) {
          assertPattern(await fetchBody(server.addr.port, window), N, `round ${round}`);
        }
      } finally {
        await server.shutdown({ deadlineMs: 2000 });
      }
      for (const clone of clones) assertPattern(new Uint8Array(await clone.arrayBuffer()), N, "the clone");
      for (const response of answered) {
        // Deno and Bun: used, as Deno.serve and Bun.serve leave it; Node's undici looks at its source without taking it.
        if ("Deno" in globalThis || "Bun" in globalThis) assert.equal(response.bodyUsed, true);
      }
    });
  }

  test("bytes a caller holds are never freed: a light response made from the very array a runtime response's body was taken as", async () => {
    const held: Uint8Array[] = [];
    const uninstall = installLightResponse();
    let server: ReturnType<typeof serve> | undefined;
    try {
      server = serve({
        port: 0,
        fetch: () => {
          const looked = new Response(new Uint8Array(N).fill(7));
          // What the writer took out of a response: on Deno the response's own copy, which bytes() then hands back as it is.
          const bytes = staticBody(looked);
          const body = bytes instanceof Uint8Array ? bytes : new Uint8Array(N).fill(7);
          held.push(body);
          return new Response(body as Uint8Array<ArrayBuffer>);
        },
      });
      for (const window of [16384, 1 << 20]) {
        const got = await fetchBody(server.addr.port, window);
        assert.equal(got.length, N);
        assert.equal(got.findIndex((b) => b !== 7), -1);
      }
    } finally {
      uninstall();
      await server?.shutdown({ deadlineMs: 2000 });
    }
    for (const body of held) {
      assert.equal(body.byteLength, N, "the caller's array is not detached");
      assert.equal(body[N - 1], 7);
    }
  });
});
