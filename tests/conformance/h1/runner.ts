/**
 * Plays the HTTP/1.1 conformance cases (cases.ts) against ffinet's real
 * `serve` in this process: one cleartext server for every case, one over
 * TLS (the test PKI of tests/tls_pki.ts, ALPN http/1.1) for the cases marked
 * `tls`; a fresh connection per case, cases one after another. With
 * `against: "node:http"` the same cases run against the runtime's
 * `node:http` server with the same routes (to show the checks bite).
 *
 * @module
 */
import http from "node:http";
import { serve, type Server } from "../../../http/server/mod.ts";
import { testPKI } from "../../tls_pki.ts";
import { CASES, type H1Case } from "./cases.ts";
import { Client, type Target } from "./driver.ts";

/** One case's outcome on one transport. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly transport: "h1" | "tls";
  readonly passed: boolean;
  /** What came instead, for a failure. */
  readonly detail: string;
  readonly ms: number;
  /** What the server sent. */
  readonly trace: readonly string[];
}

/** Options of {@link runConformance}. */
export interface RunOptions {
  /** Only cases whose id starts with one of these. */
  readonly only?: readonly string[];
  /** "h1" (cleartext, every case), "tls" (the sample), or both (default). */
  readonly transports?: readonly ("h1" | "tls")[];
  /** The bound of one case's waits (default 3000 ms). */
  readonly caseLimitMs?: number;
  /** The server under test: ffinet's serve (default) or node:http (cleartext only). */
  readonly against?: "serve" | "node:http";
}

/** The body of `/stream`, in pieces of unknown total length. */
const STREAM_PIECES = ["ab", "cd", "ef"];

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function handlerFor(handled: string[]): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    handled.push(`${request.method} ${path}`);
    switch (path) {
      case "/echo":
        return new Response(request.body === null ? new Uint8Array(0) : new Uint8Array(await request.arrayBuffer()));
      case "/len":
        return new Response(String(request.body === null ? 0 : (await request.arrayBuffer()).byteLength));
      case "/method":
        return new Response(request.method);
      case "/url":
        return new Response(request.url);
      case "/field":
        return new Response(request.headers.get(url.searchParams.get("name") ?? "") ?? "");
      case "/ignore":
        return new Response("ignored");
      case "/204":
        return new Response(null, { status: 204, headers: { "content-length": "0" } });
      case "/304":
        return new Response(null, { status: 304, headers: { etag: '"v1"' } });
      case "/404":
        return new Response("none", { status: 404 });
      case "/reason":
        return new Response("fine", { status: 299, statusText: "Fine" });
      case "/slow":
        await wait(30);
        return new Response("slow");
      case "/stream": {
        let i = 0;
        const enc = new TextEncoder();
        return new Response(new ReadableStream<Uint8Array>({
          pull(controller) {
            if (i < STREAM_PIECES.length) controller.enqueue(enc.encode(STREAM_PIECES[i++]));
            else controller.close();
          },
        }));
      }
      default:
        if (request.body !== null) await request.arrayBuffer();
        return new Response("hello");
    }
  };
}

/** The same routes on node:http (the comparison run). */
function nodeHttpServer(handled: string[]): http.Server {
  return http.createServer((req, res) => {
    // node:http passes on targets a URL cannot parse (`http://[::1/x`): the path is then the target as sent.
    const url = URL.canParse(req.url ?? "/", "http://x") ? new URL(req.url ?? "/", "http://x") : undefined;
    const path = req.url === "*" ? "/" : url?.pathname ?? req.url ?? "";
    handled.push(`${req.method} ${path}`);
    const chunks: Buffer[] = [];
    const read = () => new Promise<Buffer>((resolve) => {
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });
    void (async () => {
      switch (path) {
        case "/echo":
          return void res.end(await read());
        case "/len":
          return void res.end(String((await read()).length));
        case "/method":
          return void res.end(req.method);
        case "/url":
          return void res.end(`http://${req.headers.host}${req.url}`);
        case "/field": {
          const v = req.headers[(url?.searchParams.get("name") ?? "").toLowerCase()];
          return void res.end(Array.isArray(v) ? v.join(", ") : v ?? "");
        }
        case "/ignore":
          return void res.end("ignored");
        case "/204":
          res.writeHead(204, { "content-length": "0" });
          return void res.end();
        case "/304":
          res.writeHead(304, { etag: '"v1"' });
          return void res.end();
        case "/404":
          res.writeHead(404);
          return void res.end("none");
        case "/reason":
          res.writeHead(299, "Fine");
          return void res.end("fine");
        case "/slow":
          await wait(30);
          return void res.end("slow");
        case "/stream":
          for (const p of STREAM_PIECES) res.write(p);
          return void res.end();
        default:
          await read();
          return void res.end("hello");
      }
    })();
  });
}

/** Runs one case on a fresh connection. */
export async function runCase(k: H1Case, target: Target, transport: "h1" | "tls", limitMs: number, handled: string[]): Promise<CaseResult> {
  const started = performance.now();
  const deadline = started + limitMs;
  let c: Client | undefined;
  const others: Client[] = [];
  handled.length = 0;
  try {
    c = await Client.connect(target, deadline);
    await k.run({
      c,
      deadline,
      handled: () => handled,
      target,
      connect: async () => {
        const o = await Client.connect(target, deadline);
        others.push(o);
        return o;
      },
    });
    return { id: k.id, title: k.title, transport, passed: true, detail: "", ms: performance.now() - started, trace: c.seen };
  } catch (e) {
    return { id: k.id, title: k.title, transport, passed: false, detail: e instanceof Error ? e.message : String(e), ms: performance.now() - started, trace: c?.seen ?? [] };
  } finally {
    c?.close();
    for (const o of others) o.close();
  }
}

/** Starts the servers, runs the cases on each transport, stops the servers. */
export async function runConformance(options: RunOptions = {}): Promise<CaseResult[]> {
  const all = options.only === undefined || options.only.length === 0 ? CASES : CASES.filter((k) => options.only!.some((p) => k.id.startsWith(p)));
  const against = options.against ?? "serve";
  const transports = against === "node:http" ? ["h1" as const] : options.transports ?? ["h1", "tls"];
  const limitMs = options.caseLimitMs ?? 3000;
  const results: CaseResult[] = [];
  const handled: string[] = [];
  for (const transport of transports) {
    const cases = transport === "tls" ? all.filter((k) => k.tls === true) : all;
    if (against === "node:http") {
      const server = nodeHttpServer(handled);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      try {
        for (const k of cases) results.push(await runCase(k, { port }, transport, limitMs, handled));
      } finally {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      continue;
    }
    let server: Server;
    let target: Target;
    const fetch = handlerFor(handled);
    const onError = () => new Response("error", { status: 500 });
    if (transport === "h1") {
      server = serve({ port: 0, host: "127.0.0.1", fetch, onError });
      target = { port: server.addr.port };
    } else {
      const pki = testPKI();
      server = serve({ port: 0, host: "127.0.0.1", tls: { cert: pki.chain, key: pki.key }, fetch, onError });
      target = { port: server.addr.port, ca: pki.root };
    }
    try {
      for (const k of cases) results.push(await runCase(k, target, transport, limitMs, handled));
    } finally {
      await server.shutdown({ deadlineMs: 500 });
    }
  }
  return results;
}
