/**
 * Command line: the HTTP/1.1 client conformance cases (cases.ts, named
 * after their RFC 9112 / RFC 9110 sections) against ffinet's `fetch` and
 * `request` on this runtime; prints each failed case (every case with
 * --verbose; the requests the server read with --trace) and ends with
 * `client-h1 RUNTIME: N passed, M failed (fetch …, request …)`.
 *
 *   node --import tsx tests/conformance/client_h1/main.ts [--verbose] [--trace] [case-id-prefix ...]
 *   node --import tsx tests/conformance/client_h1/main.ts --against=undici   the same cases against undici's fetch and request
 *
 * @module
 */
import { runClientConformance } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const trace = args.includes("--trace");
const againstUndici = args.includes("--against=undici");
const only = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
const results = await runClientConformance({
  only,
  ...(againstUndici ? { clients: ["undici-fetch", "undici-request"] as const } : {}),
});
for (const r of results) {
  if (verbose || !r.passed) {
    console.log(`${r.client.padEnd(14)} ${r.id.padEnd(14)} ${r.passed ? "passed" : "FAILED"} ${r.ms.toFixed(1).padStart(7)} ms  ${r.title}${r.passed ? "" : `\n      ${r.detail}`}`);
    if (trace) console.log(`      server read: ${JSON.stringify(r.log)}`);
  }
}
const kinds = [...new Set(results.map((r) => r.client))];
const per = kinds.map((k) => {
  const mine = results.filter((r) => r.client === k);
  return `${k.replace(/^(ffinet|undici)-/, "")} ${mine.filter((r) => r.passed).length}/${mine.length}`;
});
const passed = results.filter((r) => r.passed).length;
const failed = results.length - passed;
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`client-h1 ${RUNTIME}${againstUndici ? " (undici)" : ""}: ${passed} passed, ${failed} failed (${per.join(", ")})`);
if (failed > 0 && typeof process !== "undefined") process.exitCode = 1;
if (typeof process !== "undefined") setTimeout(() => process.exit(), 100).unref?.();
