/**
 * connect() by name: ffinet's Resolver (dnsmasq as the server) and Happy
 * Eyeballs v2 against real listeners on 127.0.0.1 and [::1]; the
 * blackholed races (an address whose SYN vanishes) run in a child inside
 * private user, mount and network namespaces (tests/happy_eyeballs_fixture.ts).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { ConnectAttemptsError, DNSError, SocketError, SocketTimeoutError } from "../core/errors.ts";
import { Resolver } from "../dns/resolver.ts";
import { native } from "../ffi/native.ts";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { type Listener, listen } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";
import { bindUDPSync } from "../socket/dgram.ts";
import { FamilyMemory } from "../socket/happy_eyeballs.ts";
import type { HappyEyeballsEvent } from "../socket/happy_eyeballs_connect.ts";
import { type Dnsmasq, startDnsmasq } from "./dns_helpers.ts";
import { descriptorsLeft, openDescriptors, runtimeCommand, untilParked } from "./loop_helpers.ts";

const proc = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process;
const echo = { data: (conn: Connection, bytes: Uint8Array) => void conn.write(bytes.slice()) };

/** Echo listeners on [::1] and 127.0.0.1 with one port. */
function listenBoth(): { v4: Listener; v6: Listener; port: number } {
  for (let tries = 0; ; tries++) {
    const v6 = listen({ host: "::1", port: 0, handler: echo });
    try {
      const v4 = listen({ host: "127.0.0.1", port: v6.port, handler: echo });
      return { v4, v6, port: v6.port };
    } catch (err) {
      v6.close();
      if (tries > 20) throw err;
    }
  }
}

function recorder(): { events: string[]; onEvent: (e: HappyEyeballsEvent) => void } {
  const events: string[] = [];
  return {
    events,
    onEvent: (e) => events.push(e.type === "answer" ? `answer ${e.family} ${e.addresses.join(",")}` : `${e.type} ${e.address}`),
  };
}

async function roundTrip(conn: Connection): Promise<void> {
  await conn.write(new Uint8Array([7, 8, 9]));
  assert.deepEqual([...await conn.readExactly(3)], [7, 8, 9]);
}

let dns: Dnsmasq;
let resolver: Resolver;
before(async () => {
  dns = await startDnsmasq();
  resolver = new Resolver({ servers: [dns.address], hostsPath: null, search: [], timeoutMs: 2000, attempts: 2, cache: false });
});
after(async () => {
  await dns?.close();
});

describe("connect() by name (dnsmasq, both loopbacks)", () => {
  test("a name with AAAA and A: IPv6 is tried first and wins; traffic flows", async () => {
    const { v4, v6, port } = listenBoth();
    try {
      const memory = new FamilyMemory();
      const { events, onEvent } = recorder();
      const conn = await connect({ host: "loop.zone.test", port, resolver, happyEyeballs: { memory, onEvent }, timeoutMs: 5000 });
      try {
        assert.equal((conn.remoteAddress as { host: string }).host, "::1");
        await roundTrip(conn);
      } finally {
        await conn.close();
      }
      assert.equal(events.find((e) => e.startsWith("attempt")), "attempt ::1");
      assert.ok(events.includes("connected ::1"));
      assert.equal(memory.preferred("loop.zone.test"), 6);
    } finally {
      v4.close();
      v6.close();
    }
  });

  test("IPv6 refused: IPv4 wins at once (no delay after a failure), the family is remembered and goes first next time", async () => {
    const { v4, v6, port } = listenBoth();
    v6.close();
    try {
      const memory = new FamilyMemory();
      const first = recorder();
      const conn = await connect({ host: "loopalias.zone.test", port, resolver, happyEyeballs: { memory, onEvent: first.onEvent } });
      assert.equal((conn.remoteAddress as { host: string }).host, "127.0.0.1");
      await roundTrip(conn);
      await conn.close();
      const attempts = first.events.filter((e) => /^(attempt|attemptFailed|connected) /.test(e));
      assert.deepEqual(attempts, ["attempt ::1", "attemptFailed ::1", "attempt 127.0.0.1", "connected 127.0.0.1"]);
      assert.equal(memory.preferred("loopalias.zone.test"), 4);
      const second = recorder();
      const again = await connect({ host: "loopalias.zone.test", port, resolver, happyEyeballs: { memory, onEvent: second.onEvent } });
      await again.close();
      assert.equal(second.events.find((e) => e.startsWith("attempt")), "attempt 127.0.0.1");
    } finally {
      v4.close();
    }
  });

  test("an IPv4-only name, a missing name, nobody listening: typed outcomes, no descriptor left", async () => {
    const { v4, v6, port } = listenBoth();
    // What is made on first use and kept (the loop's helper thread, a Worker
    // with descriptors of its own on Node and Bun, started the first time the
    // loop goes idle; the resolver's io_uring ring) is made before counting.
    await (await connect({ host: "loop4.zone.test", port, resolver, happyEyeballs: { memory: false } })).close();
    await untilParked(defaultLoop());
    const before = await openDescriptors();
    try {
      const conn = await connect({ host: "loop4.zone.test", port, resolver, happyEyeballs: { memory: false } });
      assert.equal((conn.remoteAddress as { host: string }).host, "127.0.0.1");
      await conn.close();
      await assert.rejects(connect({ host: "missing.zone.test", port, resolver }), (e) => e instanceof DNSError && e.code === "ENOTFOUND");
    } finally {
      v4.close();
      v6.close();
    }
    await assert.rejects(
      connect({ host: "loop.zone.test", port, resolver, happyEyeballs: { memory: false } }),
      (e) => e instanceof SocketError && e.code === "ECONNREFUSED",
    );
    // A loser's close may land a loop turn after the winner settles: only a
    // descriptor that stays open (bounded wait) is left.
    assert.deepEqual(await descriptorsLeft(before), []);
  });

  test("every address refused: one ConnectAttemptsError (a SocketError, AggregateError-like) naming each address and its error", async () => {
    const { v4, v6, port } = listenBoth();
    v4.close();
    v6.close();
    const { events, onEvent } = recorder();
    const err = await connect({ host: "loop.zone.test", port, resolver, happyEyeballs: { memory: false, onEvent } }).then(
      () => assert.fail("connected to a closed port"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConnectAttemptsError, String(err));
    assert.ok(err instanceof SocketError);
    assert.equal(err.code, "ECONNREFUSED");
    assert.equal(err.address, `loop.zone.test:${port}`);
    assert.deepEqual(err.attempts.map((a) => [a.address, a.family]), [["::1", 6], ["127.0.0.1", 4]]);
    assert.equal(err.errors.length, 2);
    for (const e of err.errors) assert.ok(e instanceof SocketError && e.code === "ECONNREFUSED", String(e));
    assert.equal(err.cause, err.errors[1]);
    assert.match(err.message, /\[::1\]: ECONNREFUSED; 127\.0\.0\.1: ECONNREFUSED/);
    assert.deepEqual(events.filter((e) => e.startsWith("attemptFailed")), ["attemptFailed ::1", "attemptFailed 127.0.0.1"]);
  });

  test("signal and timeoutMs cover the resolution (a DNS server that never answers)", async () => {
    using silent = bindUDPSync("127.0.0.1", 0, { nonBlocking: true });
    const port = (silent.localAddress() as { port: number }).port;
    const mute = new Resolver({ servers: [`127.0.0.1:${port}`], hostsPath: null, search: [], timeoutMs: 30_000, attempts: 1, cache: false });
    await assert.rejects(connect({ host: "never.zone.test", port: 80, resolver: mute, timeoutMs: 50 }), SocketTimeoutError);
    const controller = new AbortController();
    const pending = connect({ host: "never.zone.test", port: 80, resolver: mute, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 20);
    await assert.rejects(pending, { message: "stop" });
    await assert.rejects(connect({ host: "never.zone.test", port: 80, resolver: mute, signal: AbortSignal.abort(new Error("early")) }), { message: "early" });
  });

  test("bad resolver and happyEyeballs options are typed errors before anything starts", async () => {
    await assert.rejects(connect({ host: "x.zone.test", port: 1, resolver: "glibc" as "system" }), TypeError);
    await assert.rejects(connect({ host: "127.0.0.1", port: 1, resolver: {} as Resolver }), TypeError);
    await assert.rejects(connect({ host: "x.zone.test", port: 1, happyEyeballs: { delay: 1 } as never }), TypeError);
    await assert.rejects(connect({ host: "x.zone.test", port: 1, happyEyeballs: { attemptDelayMs: -1 } }), RangeError);
    await assert.rejects(connect({ host: "x.zone.test", port: 1, happyEyeballs: { onEvent: 5 } as never }), TypeError);
    await assert.rejects(connect({ host: "10.1", port: 1, resolver }), TypeError);
  });
});

/** Whether this machine lets us make user, mount and network namespaces with a veth pair. */
function namespacesAvailable(): boolean {
  if (native.os !== "linux") return false;
  const probe = spawnSync("unshare", ["-rmn", "sh", "-c", "mount --bind /etc/hostname /etc/hostname && ip link set lo up && ip link add v0 type veth peer name v1"], {
    stdio: "ignore",
  });
  return probe.status === 0;
}

const SETUP = [
  'hosts="$1"; shift',
  "mount --bind \"$hosts\" /etc/hosts",
  "ip link set lo up",
  "ip link add v0 type veth peer name v1",
  "ip link set v0 up",
  "ip link set v1 up",
  "ip addr add 192.0.2.1/24 dev v0",
  "ip -6 addr add 2001:db8::1/64 dev v0 nodad",
  // Made-up link addresses: frames go out to v1, which drops them (not its address); no answer ever.
  "ip neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent",
  "ip -6 neigh add 2001:db8::2 lladdr 02:00:00:00:00:02 dev v0 nud permanent",
  'exec "$@"',
].join(" && ");

function runFixture(hostsFile: string): Promise<Record<string, unknown>> {
  const [cmd, argv] = runtimeCommand(fileURLToPath(new URL("happy_eyeballs_fixture.ts", import.meta.url)));
  const child = spawn("unshare", ["-rmn", "sh", "-c", SETUP, "sh", hostsFile, cmd, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...proc.env, NO_COLOR: "1" },
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
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`fixture exited ${code}\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

describe("Happy Eyeballs with a blackholed address (private network namespace)", () => {
  test("the blackholed family loses after the attempt delay, both ways; losers are closed; the whole race honours timeoutMs and signal", async () => {
    if (!namespacesAvailable()) {
      console.log("unshare -rmn with mount, ip and veth is not available here: blackhole races not run");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "ffinet-he-"));
    try {
      const hosts = join(dir, "hosts");
      writeFileSync(
        hosts,
        "127.0.0.1 localhost\n2001:db8::2 dead6.he.test\n127.0.0.1 dead6.he.test\n192.0.2.2 dead4.he.test\n::1 dead4.he.test\n" +
          "192.0.2.2 deadboth.he.test\n2001:db8::2 deadboth.he.test\n",
      );
      const r = await runFixture(hosts);
      type Race = { events: string[]; winner?: string; echoed?: boolean; error?: string; code?: string };
      const attempts = (race: Race) => race.events.filter((e) => !e.startsWith("answer"));
      // AAAA blackholed: the IPv6 attempt hangs, IPv4 starts after the delay and wins; the IPv6 attempt is abandoned.
      const v6 = r.v6Blackholed as Race;
      assert.equal(v6.winner, "127.0.0.1");
      assert.equal(v6.echoed, true);
      assert.deepEqual(attempts(v6), ["attempt 2001:db8::2", "attempt 127.0.0.1", "connected 127.0.0.1", "abandoned 2001:db8::2"]);
      assert.equal(r.rememberedAfterV6Race, 4);
      // A blackholed (IPv4 remembered, so tried first): IPv6 wins after the delay.
      const v4 = r.v4Blackholed as Race;
      assert.equal(v4.winner, "::1");
      assert.equal(v4.echoed, true);
      assert.deepEqual(attempts(v4), ["attempt 192.0.2.2", "attempt ::1", "connected ::1", "abandoned 192.0.2.2"]);
      assert.equal(r.rememberedAfterV4Race, 6);
      // getaddrinfo (resolver: "system") reads the same hosts file.
      const system = r.system as Race;
      assert.equal(system.winner, "127.0.0.1");
      assert.deepEqual(attempts(system), ["attempt 2001:db8::2", "attempt 127.0.0.1", "connected 127.0.0.1", "abandoned 2001:db8::2"]);
      // Both blackholed: timeoutMs and the signal end the race; every attempt is abandoned.
      const timedOut = r.timeout as Race;
      assert.deepEqual({ error: timedOut.error, code: timedOut.code }, { error: "SocketTimeoutError", code: "ETIMEDOUT" });
      assert.deepEqual(attempts(timedOut).filter((e) => e.startsWith("abandoned")).sort(), ["abandoned 192.0.2.2", "abandoned 2001:db8::2"]);
      const aborted = r.aborted as Race;
      assert.equal(aborted.error, "AbortError");
      assert.ok(attempts(aborted).includes("abandoned 2001:db8::2"));
      // No descriptor left behind by any race.
      assert.ok((r.fdsAfter as number) <= (r.fdsBefore as number), `descriptors: ${r.fdsBefore} before, ${r.fdsAfter} after; new: ${JSON.stringify(r.fdsNew)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
