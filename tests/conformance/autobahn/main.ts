/**
 * Command line: runs the Autobahn cases in memory on this runtime and ends
 * with `autobahn RUNTIME: N OK, N NON-STRICT, N INFORMATIONAL, N FAILED, N NOT RUN`.
 *
 *   node --import tsx tests/conformance/autobahn/main.ts [--verbose] [--max-count=N] [case-id-prefix ...]
 *
 * @module
 */
import { runAll } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const maxArg = args.find((a) => a.startsWith("--max-count="));
const only = args.filter((a) => !a.startsWith("--"));

const started = performance.now();
const { results, totals } = runAll({
  ...(maxArg !== undefined ? { maxCount: Number(maxArg.slice(12)) } : {}),
  ...(only.length > 0 ? { only } : {}),
});
const byCategory = new Map<string, { n: number; ms: number }>();
for (const r of results) {
  const cat = r.id.split(".")[0]!;
  const entry = byCategory.get(cat) ?? { n: 0, ms: 0 };
  entry.n++;
  entry.ms += r.ms;
  byCategory.set(cat, entry);
  if (verbose || r.verdict === "FAILED") console.log(`${r.id.padEnd(8)} ${r.verdict.padEnd(13)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.detail}`);
}
for (const [cat, e] of byCategory) console.log(`category ${cat.padEnd(3)} ${String(e.n).padStart(4)} cases ${e.ms.toFixed(0).padStart(7)} ms`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(
  `autobahn ${RUNTIME}: ${totals.OK} OK, ${totals["NON-STRICT"]} NON-STRICT, ${totals.INFORMATIONAL} INFORMATIONAL, ` +
    `${totals.FAILED} FAILED, ${totals["NOT RUN"]} NOT RUN`,
);
if (totals.FAILED > 0 && typeof process !== "undefined") process.exitCode = 1;
