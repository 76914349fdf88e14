/**
 * ReconnectingConnection with a shared HostHealth (pool/health.ts) against
 * a real server stopped and restarted on the same port: the failures of
 * one connection open the host's circuit, a second connection then skips
 * its attempts (no connect is made), one half-open probe goes through once
 * the server is back and closes the circuit for both. A manual clock
 * drives every wait (no timed assertions).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { SocketError } from "../core/errors.ts";
import { backoffDelay } from "../core/retry.ts";
import { TimerHeap } from "../core/timer_heap.ts";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { type Listener, listen } from "../poll/listener.ts";
import { HostHealth } from "../pool/health.ts";
import { type ReconnectEvent, ReconnectingConnection } from "../socket/reconnect.ts";

/** An echo server that can be stopped (its connections too) and started again on the same port. */
class EchoServer {
  #listener: Listener | null = null;
  readonly #conns = new Set<Connection>();
  accepted = 0;
  port = 0;

  start(): this {
    this.#listener = listen({
      host: "127.0.0.1",
      port: this.port,
      handler: {
        open: (c) => {
          this.accepted++;
          this.#conns.add(c);
        },
        data: (c, d) => c.send(d),
        close: (c) => void this.#conns.delete(c),
      },
    });
    this.port = this.#listener.port;
    return this;
  }

  stop(): void {
    this.#listener?.close();
    this.#listener = null;
    for (const c of this.#conns) c.abort();
    this.#conns.clear();
  }
}

/** Waits (bounded) until `predicate` holds, polling on the runtime's timers. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never happened: ${what}`);
}

async function echoes(conn: Connection): Promise<void> {
  await conn.write(new Uint8Array([4, 2]));
  assert.deepEqual([...await conn.readExactly(2)], [4, 2]);
}

describe("ReconnectingConnection with a shared HostHealth", () => {
  test("one connection's failures open the host's circuit; another skips its attempts; one probe closes it for both", async () => {
    const clock = new ManualClock();
    const timers = new TimerHeap({ clock });
    const transitions: string[] = [];
    const health = new HostHealth({ failureThreshold: 2, resetTimeoutMs: 1000, clock, onStateChange: (origin, to, from) => transitions.push(`${origin} ${from}->${to}`) });
    const server = new EchoServer().start();
    const key = `127.0.0.1:${server.port}`;
    const half = () => 0.5;
    const eventsA: ReconnectEvent[] = [];
    const eventsB: ReconnectEvent[] = [];
    const common = { connect: { host: "127.0.0.1", port: server.port }, timers, health, breaker: false as const, maxAttempts: Infinity, random: half };
    const a = new ReconnectingConnection({ ...common, onEvent: (e) => eventsA.push(e) });
    let b: ReconnectingConnection | undefined;
    /** The state, read afresh (not narrowed by earlier assertions). */
    const stateOf = (link: ReconnectingConnection): string => link.state;
    const attempts = (events: ReconnectEvent[]) => events.filter((e) => e.type === "attempt").length;
    const failures = (events: ReconnectEvent[]) => events.filter((e) => e.type === "attemptFailed").length;
    try {
      assert.equal(a.healthKey, key);
      const first = await a.ready();
      await echoes(first);
      assert.equal(health.origin(key).successes, 1);
      server.stop();
      assert.equal(await first.read().catch(() => null), null);
      await first.close();
      // Refused: one failure on the host, then a backoff step.
      await until(() => failures(eventsA) === 1 && a.state === "backoff", "the first refusal");
      assert.equal(health.origin(key).failures, 1);
      clock.advance(backoffDelay(0, {}, half));
      timers.runDue();
      // The second refusal opens the host's circuit: A waits for its probe time.
      await until(() => failures(eventsA) === 2 && a.state === "circuit-open", "the host's circuit opens");
      assert.equal(health.state(key), "open");
      assert.deepEqual(transitions, [`${key} closed->open`]);
      const failed = eventsA.filter((e) => e.type === "attemptFailed");
      assert.ok(failed.every((e) => e.type === "attemptFailed" && e.error instanceof SocketError && e.error.code === "ECONNREFUSED"));
      // B, new, shares the open circuit: it makes no attempt at all.
      b = new ReconnectingConnection({ ...common, onEvent: (e) => eventsB.push(e) });
      assert.equal(b.state, "circuit-open");
      assert.equal(attempts(eventsB), 0);
      assert.equal(timers.nextDeadline(), clock.now() + 1000);
      clock.advance(999);
      timers.runDue();
      assert.equal(a.state, "circuit-open");
      assert.equal(b.state, "circuit-open");
      assert.equal(attempts(eventsA), 3, "the first connect and two refused attempts");
      assert.equal(attempts(eventsB), 0);
      // The server is back on the same port; at the probe time exactly one of them probes.
      server.start();
      clock.advance(1);
      timers.runDue();
      assert.equal(attempts(eventsA) - 3 + attempts(eventsB), 1, "one half-open probe");
      await until(() => a.state === "connected" || b!.state === "connected", "the probe connects");
      assert.equal(health.state(key), "closed");
      assert.deepEqual(transitions, [`${key} closed->open`, `${key} open->half-open`, `${key} half-open->closed`]);
      // The other one waits a backoff step (the probe slot was taken), then connects through the closed circuit.
      for (let i = 0; i < 5 && (stateOf(a) !== "connected" || stateOf(b) !== "connected"); i++) {
        clock.advance(backoffDelay(0, {}, half));
        timers.runDue();
        await until(() => a.state !== "connecting" && b!.state !== "connecting", "the attempt ends");
      }
      assert.equal(a.state, "connected");
      assert.equal(b.state, "connected");
      await echoes(await a.ready());
      await echoes(await b.ready());
      assert.equal(server.accepted, 3);
      assert.equal(health.origin(key).totalFailures, 2);
      assert.equal(health.origin(key).successes, 3);
    } finally {
      await a.close();
      await b?.close();
      server.stop();
    }
  });

  test("a healthKey of your own (needed with a connect function); a probe still running at close() gives its slot back", async () => {
    const clock = new ManualClock();
    const timers = new TimerHeap({ clock });
    const health = new HostHealth({ failureThreshold: 1, resetTimeoutMs: 50, clock });
    const server = new EchoServer().start();
    const port = server.port;
    server.stop();
    // The attempts: the first is refused by the stopped server; the probe waits for a go from the test.
    let calls = 0;
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const open = async (): Promise<Connection> => {
      calls++;
      if (calls > 1) await gate;
      return connect({ host: "127.0.0.1", port });
    };
    const link = new ReconnectingConnection({ connect: open, healthKey: "echo", timers, health, breaker: false, maxAttempts: Infinity });
    try {
      assert.equal(link.healthKey, "echo");
      await until(() => link.state === "circuit-open", "one refusal opens the circuit");
      assert.equal(health.state("echo"), "open");
      clock.advance(50);
      timers.runDue();
      assert.equal(link.state, "connecting");
      assert.equal(calls, 2);
      assert.equal(health.allow("echo"), false, "the probe slot is taken");
      await link.close();
      server.start();
      go();
      // The probe connects after close(): the connection is closed and the slot given back, no outcome recorded.
      await until(() => server.accepted === 1, "the late probe reached the server");
      await until(() => health.allow("echo"), "the slot is free again");
      assert.equal(health.state("echo"), "half-open");
      assert.equal(health.origin("echo").successes, 0);
    } finally {
      await link.close();
      server.stop();
    }
  });

  test("options are checked", () => {
    const health = new HostHealth();
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, health: {} as never }), TypeError);
    assert.throws(() => new ReconnectingConnection({ connect: () => Promise.reject(new Error("x")), health }), TypeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, health, healthKey: "" }), TypeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, health, healthKey: 5 as never }), TypeError);
  });
});
