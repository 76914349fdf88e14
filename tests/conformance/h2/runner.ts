/**
 * Plays the conformance cases (cases.ts) against ffinet's real `serve` in
 * this process: one server for h2c by prior knowledge and one for TLS with
 * ALPN `h2` (the test PKI of tests/tls_pki.ts), a fresh connection per
 * case, cases one after another.
 *
 * @module
 */
import { isH2Info, serve, type Server, type ServeHandlerInfo } from "../../../http/server/mod.ts";
import { testPKI } from "../../tls_pki.ts";
import { BIG_LENGTH, BODY, type H2Case } from "./cases.ts";
import { CASES } from "./all_cases.ts";
import { Peer, type Target } from "./peer.ts";

/** One case's outcome on one transport. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly transport: "h2c" | "h2";
  readonly passed: boolean;
  /** What came instead, for a failure. */
  readonly detail: string;
  readonly ms: number;
  /** What the server sent (see Peer.seen). */
  readonly trace: readonly string[];
}

/** Options of {@link runConformance}. */
export interface RunOptions {
  /** Only cases whose id starts with one of these. */
  readonly only?: readonly string[];
  /** "h2c", "h2" (TLS) or both (default). */
  readonly transports?: readonly ("h2c" | "h2")[];
  /** The bound of one case's waits (default 3000 ms): a silent server fails the case instead of hanging the run. */
  readonly caseLimitMs?: number;
}

/** The handler of the servers under test: 200 with {@link BODY}, request bodies read to the end (see cases.ts for /hold and /big). */
async function handler(request: Request, info: ServeHandlerInfo): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === "/push") {
    const pushed = isH2Info(info) && info.push("/pushed.txt");
    return new Response(pushed ? "pushed" : "not pushed");
  }
  if (path === "/hold") {
    await new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve(), { once: true }));
    return new Response(null, { status: 204 });
  }
  if (path === "/big") return new Response(new Uint8Array(BIG_LENGTH).fill(0x62));
  if (path === "/conn-fields") {
    return new Response("hello", { headers: { connection: "close", "keep-alive": "timeout=5", "transfer-encoding": "chunked", upgrade: "h2c", "proxy-connection": "x", te: "trailers", "x-kept": "1" } });
  }
  if (path === "/cl-short") return new Response("0123456789", { headers: { "content-length": "5" } });
  if (path === "/cl-long") return new Response("0123", { headers: { "content-length": "50" } });
  if (path === "/len") return new Response(String(request.body === null ? 0 : (await request.arrayBuffer()).byteLength));
  if (request.body !== null) {
    try {
      await request.arrayBuffer();
    } catch {
      // A malformed body (e.g. a content-length the DATA frames miss): the stream is already reset.
    }
  }
  return new Response(BODY, { headers: { "content-type": "text/plain" } });
}

/** Runs one case on a fresh connection. */
export async function runCase(k: H2Case, target: Target, transport: "h2c" | "h2", limitMs: number): Promise<CaseResult> {
  const started = performance.now();
  let peer: Peer | undefined;
  try {
    peer = await Peer.connect(target);
    await k.run({ p: peer, deadline: started + limitMs });
    return { id: k.id, title: k.title, transport, passed: true, detail: "", ms: performance.now() - started, trace: peer.seen };
  } catch (e) {
    return { id: k.id, title: k.title, transport, passed: false, detail: e instanceof Error ? e.message : String(e), ms: performance.now() - started, trace: peer?.seen ?? [] };
  } finally {
    peer?.close();
  }
}

/** Starts the servers, runs the cases on each transport, stops the servers. */
export async function runConformance(options: RunOptions = {}): Promise<CaseResult[]> {
  const cases = options.only === undefined || options.only.length === 0 ? CASES : CASES.filter((k) => options.only!.some((p) => k.id.startsWith(p)));
  const transports = options.transports ?? ["h2c", "h2"];
  const limitMs = options.caseLimitMs ?? 3000;
  const results: CaseResult[] = [];
  for (const transport of transports) {
    let server: Server;
    let target: Target;
    if (transport === "h2c") {
      server = serve({ port: 0, host: "127.0.0.1", fetch: handler, onError: () => new Response("error", { status: 500 }) });
      target = { port: server.addr.port };
    } else {
      const pki = testPKI();
      server = serve({ port: 0, host: "127.0.0.1", tls: { cert: pki.chain, key: pki.key }, fetch: handler, onError: () => new Response("error", { status: 500 }) });
      target = { port: server.addr.port, ca: pki.root };
    }
    try {
      for (const k of cases) results.push(await runCase(k, target, transport, limitMs));
    } finally {
      await server.shutdown({ deadlineMs: 500 });
    }
  }
  return results;
}
