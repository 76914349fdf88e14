/**
 * Our TLS client in a child process, so a test can run our own server
 * (whose blocking calls hold its thread) against it: `rounds` connections
 * to 127.0.0.1:`port`, each offering the session the previous one ended
 * with, each reading until the server closes. Prints one JSON line per
 * connection: reused, protocol, the OCSP status, the server's certificate,
 * what it read, or the typed error it ended with.
 *
 * @example
 * ```ts
 * // node --import tsx tests/tls_fixture_client.ts '{"port":8443,"rounds":2,"ca":"/tmp/root.pem"}'
 * ```
 *
 * @module
 */
import { NetError, TLSVerifyError } from "../core/errors.ts";
import { connectTLSSync, TLSContext, type TLSContextOptions } from "../tls/mod.ts";

/** The fixture's argument (JSON). */
export interface FixtureClientConfig {
  readonly port: number;
  readonly rounds: number;
  /** Name checked and sent as SNI (default "localhost"). */
  readonly host?: string;
  /** Client context options; `ca`, `cert`, `key` are file paths here. */
  readonly context: Omit<TLSContextOptions, "role">;
  /** Offer the previous connection's session (default true). */
  readonly resume?: boolean;
  /** Print one summary line at the end instead of a line per connection (the soak). */
  readonly summary?: boolean;
}

const config = JSON.parse((globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1)!) as FixtureClientConfig;
const decoder = new TextDecoder();
const { readFileSync } = await import("node:fs");
const options: Record<string, unknown> = { ...config.context };
for (const key of ["ca", "cert", "key"]) if (typeof options[key] === "string") options[key] = readFileSync(options[key] as string, "utf8");
const ctx = new TLSContext({ ...(options as TLSContextOptions), role: "client" });
let session: Uint8Array | undefined;
const totals = { rounds: config.rounds, reused: 0, errors: 0, firstError: "" };
const report = (line: Record<string, unknown>) => {
  if (config.summary !== true) console.log(JSON.stringify(line));
  else if (line.error !== undefined) {
    totals.errors++;
    totals.firstError ||= JSON.stringify(line.error);
  } else if (line.reused === true) totals.reused++;
};
for (let round = 0; round < config.rounds; round++) {
  try {
    const tls = connectTLSSync({
      host: config.host ?? "localhost",
      port: config.port,
      context: ctx,
      timeoutMs: 10_000,
      ioTimeoutMs: 10_000,
      ...(session !== undefined && config.resume !== false ? { session } : {}),
    });
    try {
      const reused = tls.isSessionReused();
      const cert = tls.peerCertificate();
      // A resumed TLS 1.2 session stays the one to offer; TLS 1.3 sends a fresh ticket.
      session = tls.session(5000) ?? session;
      let text = "";
      const buf = new Uint8Array(256);
      for (let n; (n = tls.recv(buf)) > 0;) text += decoder.decode(buf.subarray(0, n));
      report({
        round, reused, protocol: tls.protocol, ocspStatus: tls.ocspStatus, text,
        peer: cert === null ? null : {
          subject: cert.subject, issuer: cert.issuer, serialNumber: cert.serialNumber, dns: cert.subjectAltNames.dns,
          fingerprint256: cert.fingerprint256, spkiSha256: cert.spkiSha256, rawLength: cert.raw.length,
          validTo: cert.validTo.toISOString(),
        },
      });
    } finally {
      tls.close();
    }
  } catch (err) {
    session = undefined;
    const e = err as Error;
    report({
      round,
      error: { name: e.name, code: err instanceof NetError ? err.code : "", reason: err instanceof TLSVerifyError ? err.reason : "", message: e.message },
    });
  }
}
ctx.close();
if (config.summary === true) console.log(JSON.stringify(totals));
