/**
 * Command line: the HTTP/2 client conformance cases (cases.ts, named after
 * their RFC 9113 / RFC 7541 sections) against ffinet's `fetch` and
 * `request` on this runtime, over h2c by prior knowledge (every case) and
 * TLS with ALPN h2 (the sample); prints each failed case (every case with
 * --verbose) and ends with `client-h2 RUNTIME: N passed, M failed (h2c …, TLS …)`.
 *
 *   node --import tsx tests/conformance/client_h2/main.ts [--verbose] [--transport=h2c|tls] [case-id-prefix ...]
 *
 * @module
 */
import { runClientH2Conformance } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const transportArg = args.find((a) => a.startsWith("--transport="))?.slice(12);
const only = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
const results = await runClientH2Conformance({
  only,
  ...(transportArg === "h2c" || transportArg === "tls" ? { transports: [transportArg] } : {}),
});
for (const r of results) {
  if (verbose || !r.passed) {
    console.log(`${r.transport.padEnd(3)} ${r.client.padEnd(14)} ${r.id.padEnd(14)} ${r.passed ? "passed" : "FAILED"} ${r.ms.toFixed(1).padStart(7)} ms  ${r.title}${r.passed ? "" : `\n      ${r.detail}`}`);
  }
}
const count = (t: string, passed: boolean) => results.filter((r) => r.transport === t && r.passed === passed).length;
const passed = results.filter((r) => r.passed).length;
const failed = results.length - passed;
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`client-h2 ${RUNTIME}: ${passed} passed, ${failed} failed (h2c ${count("h2c", true)}/${count("h2c", true) + count("h2c", false)}, TLS ${count("tls", true)}/${count("tls", true) + count("tls", false)})`);
if (failed > 0 && typeof process !== "undefined") process.exitCode = 1;
if (typeof process !== "undefined") setTimeout(() => process.exit(), 100).unref?.();
