// Our TLS client (tests/tls_fixture_client.ts, a child process of this
// runtime) against our TLS server in this process: the server's blocking
// accepts hold this thread, so the client cannot share it.
import assert from "node:assert/strict";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, type TLSContext, type TLSSocket } from "../tls/mod.ts";
import { startChild } from "./loop_helpers.ts";
import type { FixtureClientConfig } from "./tls_fixture_client.ts";

/** One line of the fixture client: a connection's facts, or its error. */
export interface ClientLine {
  readonly round: number;
  readonly reused?: boolean;
  readonly protocol?: string;
  readonly ocspStatus?: string | null;
  readonly text?: string;
  readonly peer?: {
    readonly subject: string; readonly issuer: string; readonly serialNumber: string; readonly dns: string[];
    readonly fingerprint256: string; readonly spkiSha256: string; readonly rawLength: number; readonly validTo: string;
  } | null;
  readonly error?: { readonly name: string; readonly code: string; readonly reason: string; readonly message: string };
}

/** What the server side saw of one connection (or the error its handshake ended with). */
export type ServerSide = { readonly tls: TLSSocket; readonly error?: undefined } | { readonly tls?: undefined; readonly error: unknown };

/**
 * Runs the fixture client for `servers.length` connections; connection i
 * is accepted with `servers[i]` after `before(i)` ran, `after(i, side)` sees
 * it before it says "pong" and closes. Returns the client's lines.
 */
export async function ourClientAgainst(
  servers: readonly TLSContext[],
  context: FixtureClientConfig["context"],
  options: { resume?: boolean; before?: (i: number) => void; after?: (i: number, side: ServerSide) => void } = {},
): Promise<ClientLine[]> {
  using listener = listenTCPSync("127.0.0.1", 0);
  const { port } = listener.localAddress() as { port: number };
  const config: FixtureClientConfig = { port, rounds: servers.length, context, resume: options.resume ?? true };
  const child = startChild("tls_fixture_client.ts", [JSON.stringify(config)], 60_000);
  for (const [i, ctx] of servers.entries()) {
    options.before?.(i);
    let tls: TLSSocket;
    try {
      // The first accept also waits for the child to start (seconds under load).
      tls = acceptTLS(listener, ctx, i === 0 ? 60_000 : 10_000);
    } catch (error) {
      options.after?.(i, { error }); // the client refused this server: its line says why
      continue;
    }
    try {
      options.after?.(i, { tls });
      try {
        tls.sendAll(new TextEncoder().encode("pong"));
      } catch {
        // a client that refused this server after the handshake (a pin, a staple) is gone: its line says why
      }
    } finally {
      tls.close();
    }
  }
  const result = await child.exited;
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n").map((line) => JSON.parse(line) as ClientLine);
}
