/**
 * Plays the HTTP/2 client conformance cases (cases.ts): a raw-frame server
 * (driver.ts) over h2c (every case; the client by prior knowledge) and over
 * TLS with ALPN h2 (the cases marked `tls`), and per case and client kind a
 * fresh ffinet `Client` (fetch, request), cases one after another.
 *
 * @module
 */
import { testPKI } from "../../tls_pki.ts";
import { type ClientKind, makeClient } from "../client_h1/driver.ts";
import { CASES, type H2ClientCase } from "./cases.ts";
import { H2ScriptServer } from "./driver.ts";

/** One case's outcome with one client kind on one transport. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly client: ClientKind;
  readonly transport: "h2c" | "tls";
  readonly passed: boolean;
  readonly detail: string;
  readonly ms: number;
}

/** Options of {@link runClientH2Conformance}. */
export interface RunOptions {
  /** Only cases whose id starts with one of these. */
  readonly only?: readonly string[];
  /** "h2c" (every case), "tls" (the sample), or both (default). */
  readonly transports?: readonly ("h2c" | "tls")[];
  /** The bound of one case (default 5000 ms: a passing case takes milliseconds, a loaded machine can stall for seconds). */
  readonly caseLimitMs?: number;
}

/** The client kinds played. */
export const H2_CLIENTS: readonly ClientKind[] = ["ffinet-fetch", "ffinet-request"];

async function runCase(k: H2ClientCase, kind: ClientKind, server: H2ScriptServer, limitMs: number): Promise<CaseResult> {
  const started = performance.now();
  const deadline = started + limitMs;
  server.start(k.settings ?? []);
  const options = server.tls ? { tls: { ca: testPKI().root } } : { http2: "prior-knowledge" as const };
  const client = await makeClient(kind, server.origin, limitMs, options);
  const transport = server.tls ? "tls" as const : "h2c" as const;
  try {
    await k.run({ client, server, deadline });
    return { id: k.id, title: k.title, client: kind, transport, passed: true, detail: "", ms: performance.now() - started };
  } catch (e) {
    return { id: k.id, title: k.title, client: kind, transport, passed: false, detail: e instanceof Error ? e.message : String(e), ms: performance.now() - started };
  } finally {
    await client.close().catch(() => {});
    server.dropAll();
  }
}

/** Starts the servers, runs the cases with each client kind, stops the servers. */
export async function runClientH2Conformance(options: RunOptions = {}): Promise<CaseResult[]> {
  const all = options.only === undefined || options.only.length === 0 ? CASES : CASES.filter((k) => options.only!.some((p) => k.id.startsWith(p)));
  const limitMs = options.caseLimitMs ?? 5000;
  const results: CaseResult[] = [];
  for (const transport of options.transports ?? ["h2c", "tls"]) {
    const server = await H2ScriptServer.listen(transport === "tls");
    try {
      const cases = transport === "tls" ? all.filter((k) => k.tls === true) : all;
      for (const kind of H2_CLIENTS) {
        for (const k of cases) results.push(await runCase(k, kind, server, limitMs));
      }
    } finally {
      await server.close();
    }
  }
  return results;
}
