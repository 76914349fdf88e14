/**
 * Plays the HTTP/1.1 client conformance cases (cases.ts): one scripted
 * raw-socket server (driver.ts) for the run, and per case and client kind
 * a fresh client of that kind (ffinet's `fetch` and `request` over one
 * `Client`; undici's for the comparison run), cases one after another.
 *
 * @module
 */
import { CASES, type ClientCase } from "./cases.ts";
import { type ClientKind, makeClient, ScriptedServer } from "./driver.ts";

/** One case's outcome with one client kind. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly client: ClientKind;
  readonly passed: boolean;
  /** What came instead, for a failure. */
  readonly detail: string;
  readonly ms: number;
  /** The requests the server read (`N:METHOD /path`). */
  readonly log: readonly string[];
}

/** Options of {@link runClientConformance}. */
export interface RunOptions {
  /** Only cases whose id starts with one of these. */
  readonly only?: readonly string[];
  /** The clients to play (default ffinet's fetch and request). */
  readonly clients?: readonly ClientKind[];
  /** The bound of one request's wait (default 2000 ms). */
  readonly caseLimitMs?: number;
}

/** The client kinds of ffinet. */
export const FFINET_CLIENTS: readonly ClientKind[] = ["ffinet-fetch", "ffinet-request"];

async function runCase(k: ClientCase, kind: ClientKind, server: ScriptedServer, limitMs: number): Promise<CaseResult> {
  const started = performance.now();
  // The case as a whole: a few requests, each bounded by limitMs.
  const deadline = started + limitMs * 4;
  server.start(k.script, deadline);
  const client = await makeClient(kind, `http://127.0.0.1:${server.port}`, limitMs);
  try {
    await k.run({ client, server, deadline });
    if (server.errors.length > 0) throw new Error(`the server script failed: ${server.errors.join("; ")}`);
    return { id: k.id, title: k.title, client: kind, passed: true, detail: "", ms: performance.now() - started, log: [...server.log] };
  } catch (e) {
    return { id: k.id, title: k.title, client: kind, passed: false, detail: e instanceof Error ? e.message : String(e), ms: performance.now() - started, log: [...server.log] };
  } finally {
    await client.close().catch(() => {});
    server.dropAll();
  }
}

/** Starts the server, runs the cases with each client kind, stops the server. */
export async function runClientConformance(options: RunOptions = {}): Promise<CaseResult[]> {
  const cases = options.only === undefined || options.only.length === 0 ? CASES : CASES.filter((k) => options.only!.some((p) => k.id.startsWith(p)));
  const kinds = options.clients ?? FFINET_CLIENTS;
  const limitMs = options.caseLimitMs ?? 2000;
  const server = await ScriptedServer.listen();
  const results: CaseResult[] = [];
  try {
    for (const kind of kinds) {
      for (const k of cases) results.push(await runCase(k, kind, server, limitMs));
    }
  } finally {
    await server.close();
  }
  return results;
}
