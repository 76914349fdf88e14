/**
 * ReconnectingConnection against a real server that is stopped and
 * restarted on the same port: backoff, the circuit breaker's transitions,
 * giving up, restart and close; and a manual clock driving the waits.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { CircuitBreaker, type CircuitState } from "../core/circuit_breaker.ts";
import { ManualClock } from "../core/clock.ts";
import { SocketError, UseAfterCloseError } from "../core/errors.ts";
import { backoffDelay } from "../core/retry.ts";
import { TimerHeap } from "../core/timer_heap.ts";
import type { Connection } from "../poll/connection.ts";
import { type Listener, listen } from "../poll/listener.ts";
import { type ReconnectEvent, ReconnectingConnection } from "../socket/reconnect.ts";

/** An echo server that can be stopped (its connections too) and started again on the same port. */
class EchoServer {
  #listener: Listener | null = null;
  readonly #conns = new Set<Connection>();
  port = 0;

  start(): this {
    this.#listener = listen({
      host: "127.0.0.1",
      port: this.port,
      handler: {
        open: (c) => void this.#conns.add(c),
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

describe("ReconnectingConnection against a server stopped and restarted", () => {
  test("reconnects through backoff, opens the circuit, probes half-open, and closes it when the server is back", async () => {
    const server = new EchoServer().start();
    const events: ReconnectEvent[] = [];
    const circuit: string[] = [];
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeoutMs: 60, onStateChange: (to: CircuitState, from: CircuitState) => circuit.push(`${from}->${to}`) });
    const reconnects: number[] = [];
    const link = new ReconnectingConnection({
      connect: { host: "127.0.0.1", port: server.port },
      initialDelayMs: 5,
      maxDelayMs: 20,
      maxAttempts: Infinity,
      breaker,
      onEvent: (e) => events.push(e),
      onReconnect: (_c, attempt) => reconnects.push(attempt),
    });
    try {
      const first = await link.ready();
      await echoes(first);
      assert.equal(link.state, "connected");
      server.stop();
      // The peer's end of stream: whoever reads it closes, and that starts the reconnection.
      assert.equal(await first.read().catch(() => null), null);
      await first.close();
      // Refused three times: the circuit opens; a probe later fails and opens it again.
      await until(() => circuit.filter((c) => c === "half-open->open").length >= 1, "a failed half-open probe");
      assert.equal(link.connection, null);
      await assert.rejects(link.ready({ signal: AbortSignal.abort(new Error("not now")) }), { message: "not now" });
      server.start();
      const second = await link.ready();
      await echoes(second);
      assert.notEqual(second, first);
      assert.equal(link.state, "connected");
      assert.equal(breaker.state, "closed");
      assert.equal(link.connects, 2);
      assert.equal(reconnects[0], 1);
      assert.ok(reconnects[1]! > 3, `the reconnect took ${reconnects[1]} attempts`);
      assert.deepEqual(circuit.slice(0, 3), ["closed->open", "open->half-open", "half-open->open"]);
      assert.equal(circuit.at(-1), "half-open->closed");
      const states = events.flatMap((e) => (e.type === "state" ? [e.to] : []));
      // The walk: connected, disconnected, connecting/backoff while refused, circuit-open, and connected again.
      assert.deepEqual(states.slice(0, 5), ["connecting", "connected", "disconnected", "connecting", "backoff"]);
      assert.ok(states.includes("circuit-open"));
      assert.equal(states.at(-1), "connected");
      const failures = events.filter((e) => e.type === "attemptFailed");
      assert.ok(failures.every((e) => e.type === "attemptFailed" && e.error instanceof SocketError && e.error.code === "ECONNREFUSED"));
      assert.ok(events.some((e) => e.type === "disconnected"));
    } finally {
      await link.close();
      server.stop();
    }
    assert.equal(link.state, "closed");
    await assert.rejects(link.ready(), UseAfterCloseError);
  });

  test("gives up after maxAttempts (ready rejects with the last error); restart() tries again", async () => {
    const server = new EchoServer().start();
    const port = server.port;
    server.stop();
    const events: string[] = [];
    const link = new ReconnectingConnection({
      connect: { host: "127.0.0.1", port },
      maxAttempts: 3,
      initialDelayMs: 1,
      breaker: false,
      onEvent: (e) => events.push(e.type === "state" ? e.to : e.type),
    });
    try {
      await assert.rejects(link.ready(), (e) => e instanceof SocketError && e.code === "ECONNREFUSED");
      assert.equal(link.state, "disconnected");
      assert.equal(events.filter((e) => e === "attempt").length, 3);
      assert.equal(events.at(-1), "gaveUp");
      await assert.rejects(link.ready(), SocketError);
      server.start();
      link.restart();
      await echoes(await link.ready());
    } finally {
      await link.close();
      server.stop();
    }
  });

  test("close() during backoff stops everything: no timer left, waiting ready() rejects", async () => {
    const clock = new ManualClock();
    const timers = new TimerHeap({ clock });
    const server = new EchoServer().start();
    const port = server.port;
    server.stop();
    const link = new ReconnectingConnection({ connect: { host: "127.0.0.1", port }, timers, breaker: false });
    const waiting = link.ready();
    await until(() => link.state === "backoff", "backoff");
    assert.equal(timers.size, 1);
    await link.close();
    assert.equal(timers.size, 0);
    await assert.rejects(waiting, UseAfterCloseError);
    assert.equal(link.state, "closed");
  });

  test("close() during a connect in flight aborts it: a SOCKS5 proxy that never answers sees the socket closed at once; a connect function gets the signal", async () => {
    // The proxy takes the connection and never answers the greeting: the attempt waits in its handshake.
    const sockets: net.Socket[] = [];
    const proxy = net.createServer((s) => {
      sockets.push(s);
      s.on("error", () => {});
      s.resume(); // reads (and drops) the greeting, so the end of stream is seen
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const proxyPort = (proxy.address() as net.AddressInfo).port;
      const own = new AbortController(); // the options' own signal stays in force beside close()'s
      const link = new ReconnectingConnection({
        connect: { host: "127.0.0.1", port: 9, proxy: `socks5://127.0.0.1:${proxyPort}`, timeoutMs: 60_000, signal: own.signal },
        breaker: false,
      });
      const waiting = link.ready();
      await until(() => sockets.length === 1, "the attempt reached the proxy");
      assert.equal(link.state, "connecting");
      const gone = new Promise<void>((resolve) => sockets[0]!.once("close", () => resolve()));
      await link.close();
      await assert.rejects(waiting, UseAfterCloseError);
      await gone; // without the abort: only at timeoutMs (60 s)
      assert.equal(link.state, "closed");
      assert.equal(sockets.length, 1);
      // The options' own signal also ends an attempt (and the connection goes on to back off).
      const second = new ReconnectingConnection({
        connect: { host: "127.0.0.1", port: 9, proxy: `socks5://127.0.0.1:${proxyPort}`, timeoutMs: 60_000, signal: own.signal },
        breaker: false,
        maxAttempts: 1,
      });
      await until(() => sockets.length === 2, "the second attempt reached the proxy");
      own.abort(new Error("own"));
      await assert.rejects(second.ready(), { message: "own" });
      await second.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    let seen: AbortSignal | undefined;
    const byFunction = new ReconnectingConnection({
      connect: (signal) => {
        seen = signal;
        return new Promise<Connection>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
      },
      breaker: false,
    });
    assert.equal(seen?.aborted, false);
    await byFunction.close();
    assert.equal(seen?.aborted, true);
  });

  test("a manual clock drives the waits: backoff delays by the rule, the circuit's reset timeout", async () => {
    const clock = new ManualClock();
    const timers = new TimerHeap({ clock });
    const server = new EchoServer().start();
    const port = server.port;
    server.stop();
    const events: ReconnectEvent[] = [];
    const half = () => 0.5;
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeoutMs: 5000, clock });
    const link = new ReconnectingConnection({ connect: { host: "127.0.0.1", port }, timers, breaker, random: half, maxAttempts: Infinity, onEvent: (e) => events.push(e) });
    const fired = (): number => timers.runDue();
    try {
      const failed = () => events.filter((e) => e.type === "attemptFailed").length;
      await until(() => failed() === 1 && link.state === "backoff", "first refusal");
      assert.equal(timers.nextDeadline(), clock.now() + backoffDelay(0, {}, half));
      clock.advance(backoffDelay(0, {}, half));
      fired();
      await until(() => failed() === 2 && link.state === "backoff", "second refusal");
      assert.equal(timers.nextDeadline(), clock.now() + backoffDelay(1, {}, half));
      clock.advance(backoffDelay(1, {}, half));
      fired();
      await until(() => failed() === 3 && link.state === "circuit-open", "the circuit opens");
      assert.equal(breaker.state, "open");
      assert.equal(timers.nextDeadline(), clock.now() + 5000);
      clock.advance(4999);
      fired();
      assert.equal(link.state, "circuit-open");
      server.start();
      clock.advance(1);
      fired();
      const conn = await link.ready();
      await echoes(conn);
      assert.equal(breaker.state, "closed");
    } finally {
      await link.close();
      server.stop();
    }
  });

  test("a health check whose probe stops being answered aborts the connection, which reconnects", async () => {
    let mute = false;
    const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => void (mute || c.send(d)) } });
    const events: string[] = [];
    const link = new ReconnectingConnection({
      connect: { host: "127.0.0.1", port: server.port },
      breaker: false,
      initialDelayMs: 1,
      healthCheck: {
        intervalMs: 20,
        timeoutMs: 100,
        probe: async (conn, signal) => {
          await conn.write(new Uint8Array([9]), { signal });
          await conn.readExactly(1, { signal });
        },
      },
      onEvent: (e) => events.push(e.type === "state" ? e.to : e.type),
    });
    try {
      const first = await link.ready();
      assert.equal(link.state, "connected");
      mute = true;
      await until(() => events.includes("healthCheckFailed"), "the probe times out");
      assert.equal(first.closed, true);
      mute = false;
      await until(() => link.connects === 2, "reconnected");
      const second = await link.ready();
      assert.notEqual(second, first);
      const after = events.slice(events.indexOf("healthCheckFailed"));
      assert.ok(after.indexOf("disconnected") > 0 && after.lastIndexOf("connected") > after.indexOf("disconnected"), after.join(" "));
    } finally {
      await link.close();
      server.close();
    }
  });

  test("options are checked", () => {
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, healthCheck: { intervalMs: 0, probe: () => {} } }), RangeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, healthCheck: { intervalMs: 10 } as never }), TypeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, healthCheck: { intervalMs: 10, probe: () => {}, every: 1 } as never }), TypeError);
    assert.throws(() => new ReconnectingConnection({ connect: 5 as never }), TypeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, maxAttempts: 0 }), RangeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, jitter: 3 }), RangeError);
    assert.throws(() => new ReconnectingConnection({ connect: { port: 1 }, retries: 1 } as never), TypeError);
  });
});
