/**
 * Command line: runs the Autobahn cases in memory on this runtime and ends
 * with `autobahn RUNTIME: N OK, N NON-STRICT, N INFORMATIONAL, N FAILED, N NOT RUN`.
 *
 *   node --import tsx tests/conformance/autobahn/main.ts [--verbose] [--max-count=N] [--role=server|client|both] [case-id-prefix ...]
 *
 * With both roles (the default), the client-role summary comes first and
 * the last line is the server role's (the fuzzer as client, as the case
 * data is written).
 *
 * @module
 */
import { runAll } from "./runner.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const verbose = args.includes("--verbose");
const maxArg = args.find((a) => a.startsWith("--max-count="));
const only = args.filter((a) => !a.startsWith("--"));

const roleArg = args.find((a) => a.startsWith("--role="))?.slice(7) ?? "both";
const roles = (roleArg === "both" ? ["client", "server"] : [roleArg]) as ("client" | "server")[];
let failed = false;
for (const role of roles) {
  const started = performance.now();
  const { results, totals } = runAll({
    role,
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
    if (verbose || r.verdict === "FAILED") console.log(`${role} ${r.id.padEnd(8)} ${r.verdict.padEnd(13)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.detail}`);
  }
  console.log(`-- our ${role}, the fuzzer as ${role === "server" ? "client" : "server"}`);
  for (const [cat, e] of byCategory) console.log(`category ${cat.padEnd(3)} ${String(e.n).padStart(4)} cases ${e.ms.toFixed(0).padStart(7)} ms`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const counts = `${totals.OK} OK, ${totals["NON-STRICT"]} NON-STRICT, ${totals.INFORMATIONAL} INFORMATIONAL, ` +
    `${totals.FAILED} FAILED, ${totals["NOT RUN"]} NOT RUN`;
  console.log(role === "server" ? `autobahn ${RUNTIME}: ${counts}` : `autobahn ${RUNTIME} (client role): ${counts}`);
  if (totals.FAILED > 0) failed = true;
}
if (failed && typeof process !== "undefined") process.exitCode = 1;
