/**
 * Plays the WebSocket conformance cases in this process, a fresh
 * connection per case, cases one after another:
 *
 * - the server cases (server_cases.ts) against ffinet's `serve` with a
 *   `websocket` handler set (echo, subprotocols `chat.v2` and `chat`,
 *   permessage-deflate, an Origin hook refusing `http://evil.example`);
 *   with `against: "ws"` the same cases against the npm `ws` server set up
 *   the same way, to show the checks bite;
 * - the client cases (client_cases.ts): a raw-socket server answering
 *   ffinet's WebSocket client with crafted responses and frames;
 * - the RFC 8441 cases (h2_cases.ts): raw HTTP/2 frames against `serve`
 *   over h2c, with and without a `websocket` option.
 *
 * @module
 */
import type { Server } from "../../../http/server/mod.ts";
import { serve } from "../../../http/server/serve.ts";
import { npmWs } from "../../ws_peers.ts";
import { CLIENT_CASES } from "./client_cases.ts";
import { Conn } from "./driver.ts";
import { closeH2Peers, H2_CASES } from "./h2_cases.ts";
import { EVIL_ORIGIN, SERVER_CASES, SERVER_PROTOCOLS } from "./server_cases.ts";
import { ClientHarness } from "./client_harness.ts";

/** One case's outcome. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  /** Which suite: our server, our client, or our server over HTTP/2. */
  readonly side: "server" | "client" | "h2";
  readonly passed: boolean;
  /** What came instead, for a failure. */
  readonly detail: string;
  readonly ms: number;
  /** What the peer sent, for failure details. */
  readonly trace: string;
}

/** Options of {@link runConformance}. */
export interface RunOptions {
  /** Only cases whose id starts with one of these. */
  readonly only?: readonly string[];
  /** Which sides (default all three; `against: "ws"` runs the server side only). */
  readonly sides?: readonly ("server" | "client" | "h2")[];
  /** The bound of one case's waits (default 3000 ms). */
  readonly caseLimitMs?: number;
  /** The server under test: ffinet's serve (default) or the npm ws server. */
  readonly against?: "ffinet" | "ws";
}

/** The server under test, started. */
interface Running {
  readonly port: number;
  stop(): Promise<void>;
}

function startFfinet(): Running {
  const server: Server = serve({
    port: 0,
    host: "127.0.0.1",
    // The refusals are serve's own: a handler that returns nothing when the upgrade is refused gets them.
    fetch: (request) => (server.upgrade(request) ? undefined : undefined),
    websocket: {
      protocols: SERVER_PROTOCOLS,
      perMessageDeflate: true,
      checkOrigin: (origin) => origin !== EVIL_ORIGIN,
      maxPayloadLength: 1 << 20,
      closeTimeoutMs: 2000,
      message: (ws, message) => void ws.send(message),
    },
  });
  return { port: server.addr.port, stop: () => server.shutdown({ deadlineMs: 500 }) };
}

async function startNpmWs(): Promise<Running> {
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const wss = new npmWs.WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: true,
    handleProtocols: (offered: Set<string>) => SERVER_PROTOCOLS.find((p) => offered.has(p)) ?? false,
    verifyClient: (info: { origin?: string }, cb: (ok: boolean, code?: number) => void) => cb(info.origin !== EVIL_ORIGIN, 403),
  }, () => ready());
  wss.on("connection", ((ws: { on(e: string, f: (d: Uint8Array, binary: boolean) => void): void; send(d: Uint8Array, o: { binary: boolean }): void }) => {
    ws.on("message", (data, binary) => ws.send(data, { binary }));
    ws.on("error", () => {}); // a protocol error: ws closes with its code; the case judges that
  }) as never);
  await listening;
  return {
    port: wss.address().port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

function only<T extends { id: string }>(cases: readonly T[], prefixes: readonly string[] | undefined): readonly T[] {
  return prefixes === undefined || prefixes.length === 0 ? cases : cases.filter((k) => prefixes.some((p) => k.id.startsWith(p)));
}

async function timed(id: string, title: string, side: CaseResult["side"], body: (trace: (t: () => string) => void) => Promise<void>): Promise<CaseResult> {
  const started = performance.now();
  let traceOf: () => string = () => "";
  try {
    await body((t) => (traceOf = t));
    return { id, title, side, passed: true, detail: "", ms: performance.now() - started, trace: traceOf() };
  } catch (e) {
    return { id, title, side, passed: false, detail: e instanceof Error ? e.message : String(e), ms: performance.now() - started, trace: traceOf() };
  }
}

/** Starts the peers, runs the cases, stops the peers. */
export async function runConformance(options: RunOptions = {}): Promise<CaseResult[]> {
  const against = options.against ?? "ffinet";
  const sides = against === "ws" ? ["server" as const] : options.sides ?? ["server", "client", "h2"];
  const limitMs = options.caseLimitMs ?? 3000;
  const results: CaseResult[] = [];
  if (sides.includes("server")) {
    const server = against === "ws" ? await startNpmWs() : startFfinet();
    try {
      for (const k of only(SERVER_CASES, options.only)) {
        const conns: Conn[] = [];
        results.push(
          await timed(k.id, k.title, "server", async (trace) => {
            trace(() => conns.map((c) => c.trace()).join(" || "));
            const deadline = performance.now() + limitMs;
            try {
              await k.run({
                port: server.port,
                deadline,
                connect: async () => {
                  const c = await Conn.connect(server.port, deadline);
                  conns.push(c);
                  return c;
                },
              });
            } finally {
              for (const c of conns) c.close();
            }
          }),
        );
      }
    } finally {
      await server.stop();
    }
  }
  if (sides.includes("client")) {
    const harness = await ClientHarness.start();
    try {
      for (const k of only(CLIENT_CASES, options.only)) {
        results.push(
          await timed(k.id, k.title, "client", async (trace) => {
            const x = harness.context(performance.now() + limitMs);
            trace(() => x.trace());
            try {
              await k.run(x);
            } finally {
              await x.cleanup();
            }
          }),
        );
      }
    } finally {
      await harness.stop();
    }
  }
  if (sides.includes("h2")) {
    const h2 = only(H2_CASES, options.only);
    if (h2.length > 0) {
      const withWs = startFfinet();
      const plain = serve({ port: 0, host: "127.0.0.1", fetch: () => new Response("plain") });
      try {
        for (const k of h2) {
          results.push(
            await timed(k.id, k.title, "h2", async (trace) => {
              try {
                await k.run({ port: k.server === "plain" ? plain.addr.port : withWs.port, deadline: performance.now() + limitMs, trace });
              } finally {
                closeH2Peers();
              }
            }),
          );
        }
      } finally {
        await withWs.stop();
        await plain.shutdown({ deadlineMs: 500 });
      }
    }
  }
  return results;
}
