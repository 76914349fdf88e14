/**
 * DNS benchmark: lookups per second of ffinet's Resolver against the
 * runtime's own resolver (Node: node:dns `Resolver.resolve4`, c-ares; Deno:
 * `Deno.resolveDns`; Bun: node:dns `Resolver.resolve4`), both asking the
 * same local dnsmasq (tests/dns_helpers.ts) for an A record.
 *
 * - uncached: ffinet with `cache: false` (every lookup is a UDP exchange
 *   from a fresh socket), 8 lookups in flight, against the runtime's
 *   resolver doing the same.
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
const ROUNDS = 3;
const server = await startDnsmasq();

interface DenoDns {
  resolveDns(name: string, type: "A", options: { nameServer: { ipAddr: string; port: number } }): Promise<string[]>;
}

function peer(): { name: string; resolve4: () => Promise<unknown> } {
  if (RUNTIME === "deno") {
    const D = (globalThis as unknown as { Deno: DenoDns }).Deno;
    return { name: "Deno.resolveDns", resolve4: () => D.resolveDns(NAME, "A", { nameServer: { ipAddr: "127.0.0.1", port: server.port } }) };
  }
  const r = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
  r.setServers([server.address]);
  return { name: RUNTIME === "bun" ? "bun dns.resolve4" : "node:dns resolve4", resolve4: () => r.resolve4(NAME) };
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
  const ours = (r: Resolver) => () => r.resolve(NAME, "A");
  let oursU = 0;
  let peerU = 0;
  let oursC = 0;
  let peerC = 0;
  for (let round = 0; round < ROUNDS; round++) {
    oursU = Math.max(oursU, await best(ours(uncached), 2000, 8));
    peerU = Math.max(peerU, await best(p.resolve4, 2000, 8));
  }
  for (let round = 0; round < ROUNDS; round++) {
    oursC = Math.max(oursC, await best(ours(cached), 50_000, 1));
    peerC = Math.max(peerC, await best(p.resolve4, 2000, 1));
  }
  record({ bench: "dns", case: "uncached lookups (8 in flight)", unit: "ops/s", ours: oursU, peer: peerU, peerName: p.name });
  record({ bench: "dns", case: "cached lookups", unit: "ops/s", ours: oursC, peer: peerC, peerName: p.name });
  finish();
} finally {
  await server.close();
}
