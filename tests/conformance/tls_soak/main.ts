/**
 * Command line: the 10,000-handshake TLS soak on this runtime (see
 * tests/tls_soak.ts): our client against `openssl s_server` and our server
 * against our client (a child process), each 5,000 full then 5,000 resumed
 * handshakes with one shared context. Fails when a phase leaves more than
 * FD_SLACK more descriptors open (a leak per handshake would be thousands; a
 * runtime may open one or two of its own during a long run, and the line
 * names what they point at), resumes the wrong number of sessions, or grows
 * RSS by more than 64 MiB. Ends with
 * `tls-soak RUNTIME: N handshakes (N resumed), fds flat, RSS +X MiB: ok|FAILED`.
 *
 *   node --import tsx tests/conformance/tls_soak/main.ts [--per-phase=5000]
 *
 * @module
 */
import process from "node:process";
import { describePhase, type SoakPhase, soakClient, soakServer } from "../../tls_soak.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const arg = process.argv.slice(2).find((a) => a.startsWith("--per-phase="));
const perPhase = arg === undefined ? 5000 : Number(arg.slice(12));
if (!Number.isInteger(perPhase) || perPhase < 1) {
  console.error(`--per-phase must be a positive integer, got ${arg}`);
  process.exit(2);
}

/** Descriptors a runtime may open for itself during a phase (Deno has been seen opening 2). */
const FD_SLACK = 4;
const problems: string[] = [];
const phases: SoakPhase[] = [];
const check = (p: SoakPhase, expectReused: number) => {
  console.log(describePhase(p));
  phases.push(p);
  if (p.reused !== expectReused) problems.push(`${p.label}: ${p.reused} resumed, expected ${expectReused}`);
  if (p.fdsAfter - p.fdsBefore > FD_SLACK) problems.push(`${p.label}: fds ${p.fdsBefore} → ${p.fdsAfter}`);
  if (p.rssAfter - p.rssBefore > 64 * 1048576) problems.push(`${p.label}: RSS grew ${((p.rssAfter - p.rssBefore) / 1048576).toFixed(1)} MiB`);
};
try {
  const [clientFull, clientResumed] = await soakClient(perPhase, perPhase);
  check(clientFull!, 0);
  check(clientResumed!, perPhase);
  const [serverFull, serverResumed] = await soakServer(perPhase, perPhase);
  check(serverFull!, 0);
  check(serverResumed!, perPhase);
} catch (err) {
  problems.push(`error: ${(err as Error).stack ?? String(err)}`);
}
for (const p of problems) console.log(`problem: ${p}`);
const total = phases.reduce((n, p) => n + p.handshakes, 0);
const reused = phases.reduce((n, p) => n + p.reused, 0);
const growth = phases.reduce((n, p) => n + (p.rssAfter - p.rssBefore), 0) / 1048576;
console.log(`tls-soak ${RUNTIME}: ${total} handshakes (${reused} resumed), fds ${problems.some((p) => p.includes("fds")) ? "GREW" : phases.every((p) => p.fdsAfter === p.fdsBefore) ? "flat" : `within ${FD_SLACK}`}, RSS ${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MiB: ${problems.length === 0 ? "ok" : "FAILED"}`);
process.exit(problems.length === 0 ? 0 : 1);
