import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { DNSError, SocketTimeoutError, UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { connectTCPSync, listenTCPSync } from "../socket/connect.ts";
import { dnsTimeoutEnforced, pendingLookupCount, reapPendingLookups, resolveHost } from "../socket/resolve.ts";
import { dnsLookupTimeout, getDefaultTimeouts, resetDefaultTimeouts, setDefaultTimeouts } from "../socket/timeouts.ts";
import { runtimeCommand } from "./loop_helpers.ts";

// Only "localhost" (from /etc/hosts) and literals are resolved in this
// process: no query may leave the machine. Lookups that need a DNS server
// run in a child with private namespaces and a silent server on 127.0.0.1.

const proc = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process;

describe("DNS timeout: this process", () => {
  test("getaddrinfo_a is used wherever the C library has it", () => {
    const hasIt = native.os === "linux" && libc().getaddrinfo_a !== undefined;
    if (proc.env.FFINET_DNS_BLOCKING !== "1") assert.equal(dnsTimeoutEnforced(), hasIt);
    else assert.equal(dnsTimeoutEnforced(), false);
  });

  test("localhost resolves under a deadline and leaves nothing pending", () => {
    for (let i = 0; i < 20; i++) {
      const [first] = resolveHost("localhost", 8080, { timeoutMs: 5000, family: "ipv4" });
      assert.deepEqual(first, { family: "ipv4", host: "127.0.0.1", port: 8080 });
    }
    assert.equal(reapPendingLookups(), 0);
    assert.equal(pendingLookupCount(), 0);
  });

  test("the default DNS timeout applies, and 0 means the blocking call", () => {
    setDefaultTimeouts({ dnsMs: 3000 });
    try {
      assert.equal(resolveHost("localhost", 1)[0]?.host, "127.0.0.1");
      assert.equal(resolveHost("localhost", 1, { timeoutMs: 0 })[0]?.host, "127.0.0.1");
      assert.equal(resolveHost("localhost", 1, { timeoutMs: 0, requireTimeout: true })[0]?.host, "127.0.0.1");
    } finally {
      resetDefaultTimeouts();
    }
    assert.equal(getDefaultTimeouts().dnsMs, 5000);
  });

  test("connectTCPSync and listenTCPSync resolve localhost within the DNS timeout", () => {
    using server = listenTCPSync("localhost", 0);
    const port = (server.localAddress() as { port: number }).port;
    using client = connectTCPSync("localhost", port, 5000, { dnsTimeoutMs: 2000 });
    using peer = server.acceptTimeout(5000);
    assert.ok(peer !== null);
    assert.equal((client.remoteAddress() as { port: number }).port, port);
  });

  test("bad timeouts are rejected before any lookup", () => {
    assert.throws(() => resolveHost("localhost", 80, { timeoutMs: -1 }), RangeError);
    assert.throws(() => resolveHost("localhost", 80, { timeoutMs: 1.5 }), RangeError);
    assert.throws(() => resolveHost("localhost", 80, { timeoutMs: "1" as unknown as number }), TypeError);
    assert.throws(() => connectTCPSync("localhost", 80, 1000, { dnsTimeoutMs: -5 }), RangeError);
  });

  test("literals never wait on a lookup", () => {
    assert.deepEqual(resolveHost("::1", 443, { timeoutMs: 1 }), [{ family: "ipv6", host: "::1", port: 443 }]);
    assert.deepEqual(resolveHost("10.0.0.1", 53, { timeoutMs: 1 }), [{ family: "ipv4", host: "10.0.0.1", port: 53 }]);
  });

  test("dnsLookupTimeout takes the tighter limit, 0 meaning none", () => {
    assert.equal(dnsLookupTimeout(5000, 300), 300);
    assert.equal(dnsLookupTimeout(200, 3000), 200);
    assert.equal(dnsLookupTimeout(0, 300), 300);
    assert.equal(dnsLookupTimeout(5000, 0), 5000);
    assert.equal(dnsLookupTimeout(0, 0), 0);
    assert.throws(() => dnsLookupTimeout(-1, 0), RangeError);
  });
});

/** Whether this machine lets us run a child in private mount and network namespaces. */
function namespacesAvailable(): boolean {
  if (native.os !== "linux") return false;
  const probe = spawnSync("unshare", ["-m", "-n", "sh", "-c", "mount --bind /etc/hostname /etc/hostname && ip link set lo up"], {
    stdio: "ignore",
  });
  return probe.status === 0;
}

interface Report {
  [key: string]: unknown;
}

function runSilentChild(conf: string, mode: string, env: Record<string, string>): Promise<Report> {
  const script = fileURLToPath(new URL("dns_silent_fixture.ts", import.meta.url));
  const [cmd, argv] = runtimeCommand(script);
  // A private resolv.conf naming 127.0.0.1 only, in a network namespace
  // with loopback alone: no query can leave the machine.
  const shell = 'conf="$1"; shift; mount --bind "$conf" /etc/resolv.conf && ip link set lo up && exec "$@"';
  const child = spawn("unshare", ["-m", "-n", "sh", "-c", shell, "sh", conf, cmd, ...argv, mode], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...proc.env, NO_COLOR: "1", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
  child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code: number | null) => {
      clearTimeout(killer);
      const line = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`${mode} child exited ${code}\n${stdout}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(line) as Report);
    });
  });
}

const TIMEOUT = { ok: false, error: SocketTimeoutError.name, code: "ETIMEDOUT", syscall: "getaddrinfo_a" };

describe("DNS timeout: a server that never answers", () => {
  test("lookups time out with SocketTimeoutError, and the fallback is explicit", async () => {
    if (!namespacesAvailable()) {
      console.log("unshare -m -n with mount and ip is not available here: silent-server check not run");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "ffinet-dns-"));
    try {
      const conf = join(dir, "resolv.conf");
      // glibc waits 3 s for an answer, once: far beyond the 250 ms deadlines.
      writeFileSync(conf, "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n");
      const [enforced, blocking] = await Promise.all([
        runSilentChild(conf, "deadline", {}),
        runSilentChild(conf, "blocking", { FFINET_DNS_BLOCKING: "1" }),
      ]);
      if (enforced.enforced === true) {
        assert.deepEqual(enforced.resolve, TIMEOUT);
        // glibc was still running the lookup: kept alive, not freed.
        assert.equal(enforced.pendingAfterResolve, 1);
        assert.deepEqual(enforced.connectOption, TIMEOUT);
        assert.deepEqual(enforced.connectDefault, TIMEOUT);
        assert.deepEqual(enforced.listenDefault, TIMEOUT);
        assert.deepEqual(enforced.connectBudget, TIMEOUT);
        assert.deepEqual(enforced.burst, ["SocketTimeoutError/getaddrinfo_a"]);
        // glibc runs at most 20 lookups at once: the rest of the burst was
        // cancelled while queued and freed at once.
        const kept = enforced.pendingBeforeReap as number;
        assert.ok(kept >= 1 && kept <= 20, `pending: ${kept}`);
        assert.equal(enforced.pendingAfterReap, 0);
        assert.deepEqual(enforced.localhost, { ok: true });
        assert.ok((enforced.queries as number) >= 5, `queries seen: ${enforced.queries}`);
      } else {
        // No getaddrinfo_a here: the deadline child fell back as well.
        assert.equal(dnsTimeoutEnforced(), false);
      }
      assert.equal(blocking.enforced, false);
      assert.deepEqual(blocking.required, {
        ok: false,
        error: UnsupportedError.name,
        code: "ERR_UNSUPPORTED",
      });
      // The blocking call waited for glibc's own timeout and failed typed.
      const fallback = blocking.fallback as { error: string; code: string };
      assert.equal(fallback.error, DNSError.name);
      assert.equal(fallback.code, "EAI_AGAIN");
      assert.ok((blocking.queries as number) >= 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
