/**
 * Command line: the HTTP/2 server conformance cases (cases.ts, numbered
 * after h2spec) against ffinet's `serve` on this runtime, over h2c by prior
 * knowledge and over TLS with ALPN h2; prints each failed case (every case
 * with --verbose; what the server sent with --trace) and ends with `h2 RUNTIME: N passed, M failed (h2c …, h2 …)`.
 *
 *   node --import tsx tests/conformance/h2/main.ts [--verbose] [--trace] [--transport=h2c|h2] [case-id-prefix ...]
 *   node --import tsx tests/conformance/h2/main.ts --port=8080   h2spec's cases against a server already on 127.0.0.1:8080 (h2c)
 *
 * @module
 */
import { H2SPEC_CASES } from "./cases.ts";
import { type CaseResult, runCase, runConformance } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const trace = args.includes("--trace");
const transportArg = args.find((a) => a.startsWith("--transport="))?.slice(12);
const portArg = args.find((a) => a.startsWith("--port="))?.slice(7);
const only = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
let results: CaseResult[];
if (portArg !== undefined) {
  // Another server already listening on 127.0.0.1:PORT (h2c by prior knowledge; GET / must answer 200 with a body):
  // h2spec's cases only, the extra ones need this suite's handler.
  results = [];
  for (const k of H2SPEC_CASES) {
    if (only.length === 0 || only.some((p) => k.id.startsWith(p))) results.push(await runCase(k, { port: Number(portArg) }, "h2c", 3000));
  }
} else {
  results = await runConformance({
    only,
    ...(transportArg === "h2c" || transportArg === "h2" ? { transports: [transportArg] } : {}),
  });
}
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
