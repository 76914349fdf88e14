/**
 * DNS benchmark: lookups per second of ffinet's Resolver against the
 * runtime's own resolver (Node: node:dns `Resolver.resolve4`, c-ares; Deno:
 * `Deno.resolveDns`; Bun: node:dns `Resolver.resolve4`), both asking the
 * same local dnsmasq (tests/dns_helpers.ts) for an A record.
 *
 * - uncached: a new name each lookup (`<n>.wild.zone.test`, which dnsmasq
 *   answers for any n), so no cache on either side can answer (Bun's
 *   dns.resolve4 caches), 8 lookups in flight; ffinet also with
 *   `cache: false`, every lookup a UDP exchange from a fresh socket (over
 *   io_uring where available, the default; again with `udpIo: "readiness"`,
 *   a socket per query watched by the loop); and
 *   again with `udpSocketReuse: 16` (a socket bound to a random port
 *   carries up to 16 queries, one at a time; c-ares keeps one port for
 *   all of them).
 * - cached: ffinet with its cache (a hit never leaves the process), one
 *   lookup at a time, against the runtime's resolver on the same name (its
 *   own caching, if any, applies).
 *
 * Reported as ops/s (higher is better), best of 3 alternating rounds.
 *
 * Run: node scripts/bench.mjs dns [--runtime=node]
 *
 * @module
 */
import dns from "node:dns";
import { finish, record, RUNTIME } from "./harness.ts";
import { Resolver } from "../dns/resolver.ts";
import { startDnsmasq } from "../tests/dns_helpers.ts";

const NAME = "www.zone.test";
let serial = 0;
const freshName = (): string => `n${serial++}.wild.zone.test`;
const ROUNDS = 3;
const server = await startDnsmasq();

interface DenoDns {
  resolveDns(name: string, type: "A", options: { nameServer: { ipAddr: string; port: number } }): Promise<string[]>;
}

function peer(): { name: string; resolve4: (name: string) => Promise<unknown> } {
  if (RUNTIME === "deno") {
    const D = (globalThis as unknown as { Deno: DenoDns }).Deno;
    return { name: "Deno.resolveDns", resolve4: (name) => D.resolveDns(name, "A", { nameServer: { ipAddr: "127.0.0.1", port: server.port } }) };
  }
  const r = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
  r.setServers([server.address]);
  return { name: RUNTIME === "bun" ? "bun dns.resolve4" : "node:dns resolve4", resolve4: (name) => r.resolve4(name) };
}

async function rate(fn: () => Promise<unknown>, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) await fn();
  }));
  return count / ((performance.now() - start) / 1000);
}

async function best(fn: () => Promise<unknown>, count: number, concurrency: number): Promise<number> {
  await rate(fn, Math.min(200, count), concurrency);
  let top = 0;
  for (let i = 0; i < ROUNDS; i++) top = Math.max(top, await rate(fn, count, concurrency));
  return top;
}

try {
  const p = peer();
  const uncached = new Resolver({ servers: [server.address], hostsPath: null, search: [], cache: false, timeoutMs: 2000, attempts: 2 });
  const cached = new Resolver({ servers: [server.address], hostsPath: null, search: [], timeoutMs: 2000, attempts: 2 });
  const pooled = new Resolver({ servers: [server.address], hostsPath: null, search: [], cache: false, timeoutMs: 2000, attempts: 2, udpSocketReuse: 16 });
  const readiness = new Resolver({ servers: [server.address], hostsPath: null, search: [], cache: false, timeoutMs: 2000, attempts: 2, udpIo: "readiness" });
  const oursFresh = () => uncached.resolve(freshName(), "A");
  const oursPooled = () => pooled.resolve(freshName(), "A");
  const oursReadiness = () => readiness.resolve(freshName(), "A");
  const oursSame = () => cached.resolve(NAME, "A");
  const peerFresh = () => p.resolve4(freshName());
  const peerSame = () => p.resolve4(NAME);
  let oursU = 0;
  let oursP = 0;
  let oursR = 0;
  let peerU = 0;
  let oursC = 0;
  let peerC = 0;
  for (let round = 0; round < ROUNDS; round++) {
    oursU = Math.max(oursU, await best(oursFresh, 2000, 8));
    oursP = Math.max(oursP, await best(oursPooled, 2000, 8));
    oursR = Math.max(oursR, await best(oursReadiness, 2000, 8));
    peerU = Math.max(peerU, await best(peerFresh, 2000, 8));
  }
  for (let round = 0; round < ROUNDS; round++) {
    oursC = Math.max(oursC, await best(oursSame, 50_000, 1));
    peerC = Math.max(peerC, await best(peerSame, 2000, 1));
  }
  record({ bench: "dns", case: "uncached lookups (8 in flight)", unit: "ops/s", ours: oursU, peer: peerU, peerName: p.name });
  record({ bench: "dns", case: "uncached, udpIo readiness (8 in flight)", unit: "ops/s", ours: oursR, peer: peerU, peerName: p.name });
  record({ bench: "dns", case: "uncached, udpSocketReuse 16 (8 in flight)", unit: "ops/s", ours: oursP, peer: peerU, peerName: p.name });
  pooled.releaseSockets();
  record({ bench: "dns", case: "cached lookups", unit: "ops/s", ours: oursC, peer: peerC, peerName: p.name });
  finish();
} finally {
  await server.close();
}
