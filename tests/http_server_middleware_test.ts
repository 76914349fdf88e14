// serve's middleware chain (order, short-circuit, a changed request, HTTP/1.1
// and HTTP/2), error pages (errorPages and serve's onError: nothing leaked)
// and response compression (br/gzip by Accept-Encoding q-values, skipped for
// small bodies, ranges, encoded responses, HEAD and images; Vary), with the
// runtime's fetch, node:http2 and curl --compressed as clients.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http2 from "node:http2";
import { gunzipSync, brotliDecompressSync } from "node:zlib";
import { compose, compression, errorPages, errorResponse, type Middleware, preferredEncoding, serve, type Server, withMiddleware } from "../http/server/mod.ts";
import { isBrotliAvailable } from "../http/content_coding.ts";

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "10", ...args], { encoding: "latin1" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl ${args.join(" ")}: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

async function withServer(options: Omit<Parameters<typeof serve>[0], "port">, fn: (base: string, server: Server) => Promise<void>): Promise<void> {
  const server = serve({ port: 0, ...options } as Parameters<typeof serve>[0]);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, server);
  } finally {
    await server.shutdown({ deadlineMs: 1000 });
  }
}

const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(200); // 9000 bytes, compressible

describe("middleware", () => {
  test("run in order: the first sees the request first and the response last; a changed request goes on", async () => {
    const order: string[] = [];
    const tag = (name: string): Middleware => async (request, next) => {
      order.push(`${name}>`);
      // (from the URL: `new Request(request, init)` on serve's lazy request throws on Node and Deno, see the report)
      const response = await next(name === "b" ? new Request(request.url, { method: request.method, headers: { "x-from-b": "1" } }) : undefined);
      order.push(`<${name}`);
      response.headers.append("x-chain", name);
      return response;
    };
    await withServer({
      middleware: [tag("a"), tag("b"), tag("c")],
      fetch: (request) => {
        order.push("handler");
        return new Response(`b says ${request.headers.get("x-from-b")}`);
      },
    }, async (base) => {
      const response = await fetch(`${base}/x`);
      assert.equal(await response.text(), "b says 1");
      assert.equal(response.headers.get("x-chain"), "c, b, a");
      assert.deepEqual(order, ["a>", "b>", "c>", "handler", "<c", "<b", "<a"]);
    });
  });

  test("a middleware may answer without calling next; compose nests; next twice rejects", async () => {
    let handled = 0;
    const guard: Middleware = (request, next) => new URL(request.url).pathname === "/private" ? new Response("no", { status: 403 }) : next();
    const twice: Middleware = async (request, next) => {
      if (new URL(request.url).pathname !== "/twice") return next();
      await next();
      return next();
    };
    await withServer({
      middleware: compose(errorPages(), compose(guard, twice)),
      fetch: () => (handled++, new Response("open")),
    }, async (base) => {
      const denied = await fetch(`${base}/private`);
      assert.equal(denied.status, 403);
      assert.equal(await denied.text(), "no");
      assert.equal(handled, 0);
      const ok = await fetch(`${base}/public`);
      assert.equal(await ok.text(), "open");
      const t = await fetch(`${base}/twice`);
      assert.equal(t.status, 500);
      assert.equal(await t.text(), "Internal Server Error");
    });
    // The rejection itself carries a stable code.
    const chain = compose(twice);
    await assert.rejects(Promise.resolve(chain(new Request("http://a.test/twice"), () => Promise.resolve(new Response("x")), undefined as never)), { name: "HTTPError", code: "ERR_MIDDLEWARE_NEXT_TWICE" });
  });

  test("the chain runs on HTTP/2 too (node:http2, prior knowledge), with the handler's info", async () => {
    const mw: Middleware = async (_request, next, info) => {
      const response = await next();
      response.headers.set("x-remote", info.remoteAddr.hostname);
      return response;
    };
    await withServer({ middleware: mw, fetch: () => new Response("over h2") }, async (base) => {
      const session = http2.connect(base);
      try {
        const { headers, body } = await new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const req = session.request({ ":path": "/" });
          let got: http2.IncomingHttpHeaders = {};
          let body = "";
          req.on("response", (h) => (got = h));
          req.setEncoding("utf8");
          req.on("data", (d: string) => (body += d));
          req.on("end", () => resolve({ headers: got, body }));
          req.on("error", reject);
          req.end();
        });
        assert.equal(headers[":status"], 200);
        assert.equal(headers["x-remote"], "127.0.0.1");
        assert.equal(body, "over h2");
      } finally {
        await new Promise<void>((resolve) => session.close(() => resolve()));
      }
    });
  });

  test("withMiddleware and compose refuse what is not a function", () => {
    assert.throws(() => compose(42 as unknown as Middleware), TypeError);
    assert.throws(() => withMiddleware([null as unknown as Middleware], () => new Response()), TypeError);
    assert.throws(() => serve({ port: 0, fetch: () => new Response(), middleware: ["x" as unknown as Middleware] }), TypeError);
  });
});

describe("error pages", () => {
  test("errorPages: a throw is a plain 500 that says nothing of it; a status on the error is kept; onError decides", async () => {
    const secret = "/home/someone/app/secret.ts";
    await withServer({
      middleware: errorPages({
        onError: (error, request) => {
          if (new URL(request.url).pathname === "/custom") return new Response(`custom for ${request.method}`, { status: 503 });
          if (new URL(request.url).pathname === "/hook-throws") throw new Error("hook failed " + secret);
          throw error;
        },
      }),
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/gone") throw Object.assign(new Error(`gone: ${secret}`), { status: 410 });
        return Promise.reject(new Error(`failed at ${secret}`));
      },
    }, async (base) => {
      for (const [path, status, text] of [["/boom", 500, "Internal Server Error"], ["/gone", 410, "Gone"], ["/hook-throws", 500, "Internal Server Error"], ["/custom", 503, "custom for GET"]] as const) {
        const response = await fetch(`${base}${path}`);
        const body = await response.text();
        assert.equal(response.status, status, path);
        assert.equal(body, text, path);
        assert.ok(!body.includes("secret") && !body.includes("    at "), path);
      }
    });
  });

  test("serve's onError(err, request) is called with the request; without it the default leaks nothing", async () => {
    const seen: string[] = [];
    await withServer({
      onError: (error, request) => {
        seen.push(`${(error as Error).message} ${new URL(request.url).pathname}`);
        return errorResponse(502);
      },
      fetch: () => {
        throw new Error("bad /etc/passwd");
      },
    }, async (base) => {
      const response = await fetch(`${base}/p`);
      assert.equal(response.status, 502);
      assert.equal(await response.text(), "Bad Gateway");
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.deepEqual(seen, ["bad /etc/passwd /p"]);
    });
    const quiet = console.error;
    console.error = () => {};
    try {
      await withServer({ fetch: () => Promise.reject(new Error("at /srv/secret/file.ts:12")) }, async (base) => {
        const { stdout } = await curl(["-i", `${base}/`]);
        assert.match(stdout, /^HTTP\/1\.1 500 /);
        assert.ok(!stdout.includes("secret") && !stdout.includes("file.ts"), stdout);
      });
    } finally {
      console.error = quiet;
    }
  });
});

describe("compression", () => {
  test("preferredEncoding: q-values, *, x-gzip, q=0, the server's order on a tie", () => {
    assert.equal(preferredEncoding("gzip, deflate, br", ["br", "gzip"]), "br");
    assert.equal(preferredEncoding("gzip;q=1, br;q=0.5", ["br", "gzip"]), "gzip");
    assert.equal(preferredEncoding("br;q=0, *", ["br", "gzip"]), "gzip");
    assert.equal(preferredEncoding("x-gzip", ["br", "gzip"]), "gzip");
    assert.equal(preferredEncoding("identity", ["br", "gzip"]), undefined);
    assert.equal(preferredEncoding("*;q=0", ["br", "gzip"]), undefined);
    assert.equal(preferredEncoding("gzip;q=2", ["gzip"]), undefined); // a malformed q is not acceptance
    assert.equal(preferredEncoding("GZIP ; Q=0.3", ["gzip"]), "gzip");
  });

  const app = (request: Request): Response => {
    const path = new URL(request.url).pathname;
    if (path === "/small") return new Response("tiny body", { headers: { "content-type": "text/plain" } });
    if (path === "/png") return new Response(new Uint8Array(4096), { headers: { "content-type": "image/png" } });
    if (path === "/encoded") return new Response(new Uint8Array(4096), { headers: { "content-type": "text/plain", "content-encoding": "gzip" } });
    if (path === "/range") return new Response(TEXT.slice(0, 2000), { status: 206, headers: { "content-type": "text/plain", "content-range": `bytes 0-1999/${TEXT.length}` } });
    if (path === "/json") return Response.json({ text: TEXT }, { headers: { etag: '"v1"' } });
    if (path === "/stream") {
      let i = 0;
      return new Response(new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 1));
          if (i++ < 20) c.enqueue(new TextEncoder().encode(TEXT.slice(0, 500)));
          else c.close();
        },
      }), { headers: { "content-type": "text/html" } });
    }
    return new Response(TEXT, { headers: { "content-type": "text/plain; charset=utf-8" } });
  };

  test("gzip and br by Accept-Encoding, round trip through the runtime's zlib; Vary; ETag made weak", async () => {
    await withServer({ middleware: compression(), fetch: app }, async (base) => {
      const codings = isBrotliAvailable() ? ["gzip", "br"] : ["gzip"];
      for (const coding of codings) {
        for (const path of ["/text", "/json", "/stream"]) {
          // node's zlib decodes here (fetch would decode silently): raw bytes through curl.
          const { stdout } = await curl(["-D", "-", "-o", "-", "-H", `accept-encoding: ${coding}`, `${base}${path}`]);
          const split = stdout.indexOf("\r\n\r\n");
          const head = stdout.slice(0, split + 2);
          const raw = new Uint8Array(Buffer.from(stdout.slice(split + 4), "latin1"));
          assert.match(head, new RegExp(`\r\ncontent-encoding: ${coding}\r\n`, "i"), `${coding} ${path}`);
          assert.match(head, /\r\nvary: Accept-Encoding\r\n/i);
          const plain = new TextDecoder().decode(coding === "gzip" ? gunzipSync(raw) : brotliDecompressSync(raw));
          const expected = path === "/json" ? JSON.stringify({ text: TEXT }) : path === "/stream" ? TEXT.slice(0, 500).repeat(20) : TEXT;
          assert.equal(plain, expected, `${coding} ${path}`);
          assert.ok(raw.length < expected.length / 4, `${coding} ${path}: ${raw.length} bytes`);
          if (path === "/json") assert.match(head, /\r\netag: W\/"v1"\r\n/i);
          if (path === "/text") assert.match(head, /\r\ncontent-length: \d+\r\n/i); // all there at once: a known length
          if (path === "/stream") assert.match(head, /\r\ntransfer-encoding: chunked\r\n/i);
        }
      }
    });
  });

  test("curl --compressed and the runtime's fetch decode what they asked for", async () => {
    await withServer({ middleware: [compression({ encodings: ["gzip"] })], fetch: app }, async (base) => {
      const { stdout } = await curl(["--compressed", `${base}/text`]);
      assert.equal(stdout, TEXT);
      const response = await fetch(`${base}/json`, { headers: { "accept-encoding": "gzip" } });
      assert.equal((await response.json() as { text: string }).text, TEXT);
    });
  });

  test("left alone: small bodies, images, already encoded, 206, no Accept-Encoding, identity only (HEAD is encoded like its GET: tests/hostile_server3_test.ts)", async () => {
    await withServer({ middleware: compression(), fetch: app }, async (base) => {
      const cases: Array<[string, string[]]> = [
        ["/small", ["-H", "accept-encoding: gzip, br"]],
        ["/png", ["-H", "accept-encoding: gzip, br"]],
        ["/encoded", ["-H", "accept-encoding: gzip, br"]],
        ["/range", ["-H", "accept-encoding: gzip, br"]],
        ["/text", []],
        ["/text", ["-H", "accept-encoding: identity"]],
      ];
      for (const [path, args] of cases) {
        const { stdout } = await curl(["-D", "-", "-o", "/dev/null", ...args, `${base}${path}`]);
        const encoding = /\r\ncontent-encoding: (\S+)\r\n/i.exec(stdout)?.[1];
        assert.equal(encoding, path === "/encoded" ? "gzip" : undefined, `${path} ${args.join(" ")}: ${stdout}`);
        if (path === "/small" || path === "/text") assert.match(stdout, /\r\nvary: Accept-Encoding\r\n/i, `${path} ${args.join(" ")}`);
      }
      const small = await curl(["-H", "accept-encoding: gzip", `${base}/small`]);
      assert.equal(small.stdout, "tiny body");
    });
  });

  test("options are checked", () => {
    assert.throws(() => compression({ level: 3 } as never), TypeError);
    assert.throws(() => compression({ encodings: ["zstd" as "br"] }), TypeError);
    assert.throws(() => compression({ threshold: -1 }), RangeError);
  });
});
