/**
 * Command line: the WebSocket handshake and framing conformance cases
 * (RFC 6455, RFC 7692, RFC 8441; server_cases.ts, client_cases.ts,
 * h2_cases.ts) against ffinet on this runtime: its server (`serve`) driven
 * by raw sockets, its client answered by a raw-socket server, its server
 * over HTTP/2; prints each failed case (every case with --verbose; what
 * the peer sent with --trace) and ends with
 * `ws RUNTIME: N passed, M failed (server …, client …, h2 …)`.
 *
 *   node --import tsx tests/conformance/ws_handshake/main.ts [--verbose] [--trace] [--side=server|client|h2] [case-id-prefix ...]
 *   node --import tsx tests/conformance/ws_handshake/main.ts --against=ws   the server cases against the npm ws server
 *
 * @module
 */
import { runConformance } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const trace = args.includes("--trace");
const sideArg = args.find((a) => a.startsWith("--side="))?.slice(7);
const againstWs = args.includes("--against=ws");
const only = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
const results = await runConformance({
  only,
  ...(againstWs ? { against: "ws" as const } : {}),
  ...(sideArg === "server" || sideArg === "client" || sideArg === "h2" ? { sides: [sideArg] } : {}),
});
for (const r of results) {
  if (verbose || !r.passed) {
    console.log(`${r.side.padEnd(6)} ${r.id.padEnd(16)} ${r.passed ? "passed" : "FAILED"} ${r.ms.toFixed(1).padStart(7)} ms  ${r.title}${r.passed ? "" : `\n      ${r.detail}`}`);
    if (trace || !r.passed) console.log(`      peer: ${r.trace.slice(0, 2000)}`);
  }
}
const count = (side: string) => {
  const of = results.filter((r) => r.side === side);
  return `${side} ${of.filter((r) => r.passed).length}/${of.length}`;
};
const passed = results.filter((r) => r.passed).length;
const failed = results.length - passed;
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`ws ${RUNTIME}${againstWs ? " (npm ws server)" : ""}: ${passed} passed, ${failed} failed (${["server", "client", "h2"].map(count).join(", ")})`);
if (failed > 0 && typeof process !== "undefined") process.exitCode = 1;
if (typeof process !== "undefined") setTimeout(() => process.exit(), 100).unref?.();
