/**
 * Child process of tests/dns_timeout_test.ts, run inside private mount and
 * network namespaces whose /etc/resolv.conf names 127.0.0.1 as the only
 * server. It binds UDP 127.0.0.1:53 and never answers, then resolves a
 * name that is not in /etc/hosts, so every lookup waits on the silent
 * server. Prints one JSON line with what each call did.
 *
 * Mode "deadline": the timeouts are enforced (getaddrinfo_a). Mode
 * "blocking": run with FFINET_DNS_BLOCKING=1, the explicit fallback.
 *
 * @example
 * ```ts
 * // unshare -m -n … node --import tsx tests/dns_silent_fixture.ts deadline
 * ```
 *
 * @module
 */
import { NetError } from "../core/errors.ts";
import { connectTCPSync, listenTCPSync } from "../socket/connect.ts";
import { bindUDPSync } from "../socket/dgram.ts";
import { dnsTimeoutEnforced, pendingLookupCount, reapPendingLookups, resolveHost } from "../socket/resolve.ts";
import { setDefaultTimeouts } from "../socket/timeouts.ts";

/** A name under a reserved TLD (RFC 6761), absent from /etc/hosts. */
const NAME = "ffinet-silent.test";

/** What one call ended with. */
interface Outcome {
  readonly ok: boolean;
  readonly error?: string;
  readonly code?: string;
  readonly syscall?: string;
}

function outcome(fn: () => unknown): Outcome {
  try {
    const value = fn();
    if (value !== null && typeof value === "object" && Symbol.dispose in value) {
      (value as Disposable)[Symbol.dispose]();
    }
    return { ok: true };
  } catch (err) {
    if (err instanceof NetError) {
      const syscall = (err as { syscall?: unknown }).syscall;
      return {
        ok: false,
        error: err.constructor.name,
        code: err.code,
        ...(typeof syscall === "string" ? { syscall } : {}),
      };
    }
    return { ok: false, error: err instanceof Error ? err.constructor.name : String(err) };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const mode = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);
using server = bindUDPSync("127.0.0.1", 53, { nonBlocking: true });
const report: Record<string, unknown> = { mode, enforced: dnsTimeoutEnforced() };

if (mode === "deadline") {
  report.resolve = outcome(() => resolveHost(NAME, 80, { timeoutMs: 250 }));
  report.pendingAfterResolve = pendingLookupCount();
  report.connectOption = outcome(() => connectTCPSync(NAME, 80, 10_000, { dnsTimeoutMs: 250 }));
  setDefaultTimeouts({ dnsMs: 250 });
  report.connectDefault = outcome(() => connectTCPSync(NAME, 80, 10_000));
  report.listenDefault = outcome(() => listenTCPSync(NAME, 0));
  setDefaultTimeouts({ dnsMs: 0 });
  report.connectBudget = outcome(() => connectTCPSync(NAME, 80, 250));
  // A burst beyond glibc's 20 lookup threads: the queued requests are
  // cancelled and freed at once, the running ones kept.
  const burst = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const r = outcome(() => resolveHost(`n${i}.${NAME}`, 80, { timeoutMs: 1 }));
    burst.add(`${r.error}/${r.syscall}`);
  }
  report.burst = [...burst];
  report.pendingBeforeReap = pendingLookupCount();
  // glibc gives up after resolv.conf's timeout; the next calls reap.
  for (let i = 0; i < 300 && reapPendingLookups() > 0; i++) await sleep(50);
  report.pendingAfterReap = pendingLookupCount();
  report.localhost = outcome(() => resolveHost("localhost", 80, { timeoutMs: 2000 }));
} else {
  report.required = outcome(() => resolveHost(NAME, 80, { timeoutMs: 250, requireTimeout: true }));
  report.fallback = outcome(() => resolveHost(NAME, 80, { timeoutMs: 250 }));
}

// The queries reached the silent server: the resolver really waited on it.
let queries = 0;
const buffer = new Uint8Array(1500);
while (server.recv(buffer) !== null) queries++;
report.queries = queries;
console.log(JSON.stringify(report));
