/**
 * Command line: the HTTP/1.1 server conformance cases (cases.ts, named
 * after their RFC 9112 / RFC 9110 sections) against ffinet's `serve` on
 * this runtime, cleartext (every case) and over TLS (the sample); prints
 * each failed case (every case with --verbose; what the server sent with
 * --trace) and ends with `h1 RUNTIME: N passed, M failed (cleartext …, TLS …)`.
 *
 *   node --import tsx tests/conformance/h1/main.ts [--verbose] [--trace] [--transport=h1|tls] [case-id-prefix ...]
 *   node --import tsx tests/conformance/h1/main.ts --against=node:http   the same cases against node:http (cleartext)
 *
 * @module
 */
import { runConformance } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const trace = args.includes("--trace");
const transportArg = args.find((a) => a.startsWith("--transport="))?.slice(12);
const againstNode = args.includes("--against=node:http");
const only = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
const results = await runConformance({
  only,
  ...(againstNode ? { against: "node:http" as const } : {}),
  ...(transportArg === "h1" || transportArg === "tls" ? { transports: [transportArg] } : {}),
});
for (const r of results) {
  if (verbose || !r.passed) {
    console.log(`${r.transport.padEnd(3)} ${r.id.padEnd(14)} ${r.passed ? "passed" : "FAILED"} ${r.ms.toFixed(1).padStart(7)} ms  ${r.title}${r.passed ? "" : `\n      ${r.detail}`}`);
    if (trace) console.log(`      server: ${JSON.stringify(r.trace.join(""))}`);
  }
}
const count = (t: string, passed: boolean) => results.filter((r) => r.transport === t && r.passed === passed).length;
const passed = results.filter((r) => r.passed).length;
const failed = results.length - passed;
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`h1 ${RUNTIME}${againstNode ? " (node:http)" : ""}: ${passed} passed, ${failed} failed (cleartext ${count("h1", true)}/${count("h1", true) + count("h1", false)}, TLS ${count("tls", true)}/${count("tls", true) + count("tls", false)})`);
if (failed > 0 && typeof process !== "undefined") process.exitCode = 1;
if (typeof process !== "undefined") setTimeout(() => process.exit(), 100).unref?.();
