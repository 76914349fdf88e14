/**
 * Command line: the Autobahn cases over loopback sockets on this runtime
 * (over_sockets.ts), both roles; ends with
 * `autobahn RUNTIME over sockets: N OK, …` (server role last).
 *
 *   node --import tsx tests/conformance/autobahn/wire_main.ts [--verbose] [--max-count=N] [--role=server|client|both] [case-id-prefix ...]
 *
 * @module
 */
import { startWirePeer } from "./over_sockets.ts";
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
  const peer = await startWirePeer(role);
  let outcome;
  try {
    // Each case is reported as it ends: a run stopped early still tells what it did.
    outcome = runAll({
      ...peer.options,
      ...(maxArg !== undefined ? { maxCount: Number(maxArg.slice(12)) } : {}),
      ...(only.length > 0 ? { only } : {}),
    }, (r) => {
      if (verbose || r.verdict === "FAILED") console.log(`${role} ${r.id.padEnd(8)} ${r.verdict.padEnd(13)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.detail}`);
    });
  } finally {
    await peer.close();
  }
  const t = outcome.totals;
  const counts = `${t.OK} OK, ${t["NON-STRICT"]} NON-STRICT, ${t.INFORMATIONAL} INFORMATIONAL, ${t.FAILED} FAILED, ${t["NOT RUN"]} NOT RUN`;
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(role === "server" ? `autobahn ${RUNTIME} over sockets: ${counts}` : `autobahn ${RUNTIME} over sockets (client role): ${counts}`);
  if (t.FAILED > 0) failed = true;
}
if (failed && typeof process !== "undefined") process.exitCode = 1;
