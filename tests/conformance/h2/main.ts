/**
 * Command line: the HTTP/2 server conformance cases (cases.ts, numbered
 * after h2spec) against ffinet's `serve` on this runtime, over h2c by prior
 * knowledge and over TLS with ALPN h2; prints each failed case (every case
 * with --verbose; what the server sent with --trace) and ends with `h2 RUNTIME: N passed, M failed (h2c …, h2 …)`.
 *
 *   node --import tsx tests/conformance/h2/main.ts [--verbose] [--trace] [--transport=h2c|h2] [case-id-prefix ...]
 *
 * @module
 */
import { runConformance } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const trace = args.includes("--trace");
const transportArg = args.find((a) => a.startsWith("--transport="))?.slice(12);
const only = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
const results = await runConformance({
  only,
  ...(transportArg === "h2c" || transportArg === "h2" ? { transports: [transportArg] } : {}),
});
for (const r of results) {
  if (verbose || !r.passed) {
    console.log(`${r.transport.padEnd(3)} ${r.id.padEnd(16)} ${r.passed ? "passed" : "FAILED"} ${r.ms.toFixed(1).padStart(7)} ms  ${r.title}${r.passed ? "" : `\n      ${r.detail}`}`);
    if (trace) console.log(`      server: ${r.trace.join(" | ")}`);
  }
}
const count = (t: string, passed: boolean) => results.filter((r) => r.transport === t && r.passed === passed).length;
const passed = results.filter((r) => r.passed).length;
const failed = results.length - passed;
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`h2 ${RUNTIME}: ${passed} passed, ${failed} failed (h2c ${count("h2c", true)}/${count("h2c", true) + count("h2c", false)}, h2 over TLS ${count("h2", true)}/${count("h2", true) + count("h2", false)})`);
if (failed > 0 && typeof process !== "undefined") process.exitCode = 1;
if (typeof process !== "undefined") setTimeout(() => process.exit(), 100).unref?.();
