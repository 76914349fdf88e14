import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "../core/clock.ts";
import { LimitError, PoolError } from "../core/errors.ts";
import { ConnectionPool, type PoolMember } from "./pool.ts";

/** The pool's own member shape, in memory: closing resolves whenClosed. */
class Member implements PoolMember {
  closed = false;
  aborted = false;
  #resolve!: (e: Error | undefined) => void;
  readonly whenClosed: Promise<Error | undefined> = new Promise((r) => (this.#resolve = r));
  close(): void {
    this.closed = true;
    this.#resolve(undefined);
  }
  abort(error?: Error): void {
    this.aborted = this.closed = true;
    this.#resolve(error);
  }
}

const code = (c: string) => (e: unknown) => e instanceof PoolError && e.code === c;

describe("ConnectionPool", () => {
  test("add, lookup by connection and key, get/release reuse, find/filter/forEach/count", () => {
    const clock = new ManualClock();
    const pool = new ConnectionPool<Member>({ maxConnections: 3, cleanupIntervalMs: 0, clock });
    const [a, b, c, d] = [new Member(), new Member(), new Member(), new Member()];
    pool.add(a, "h:1");
    pool.add(b, "h:1");
    pool.add(c, "h:2");
    assert.throws(() => pool.add(d), code("ERR_POOL_FULL"));
    assert.throws(() => pool.add(a), code("ERR_POOL_DUPLICATE"));
    assert.equal(pool.entry(a)?.key, "h:1");
    assert.deepEqual(pool.byKey("h:1"), [a, b]);
    assert.equal(pool.count("h:1"), 2);
    assert.equal(pool.get("h:1"), undefined); // none idle
    pool.release(b);
    assert.equal(pool.idle, 1);
    assert.equal(pool.get("h:1"), b);
    assert.equal(pool.entry(b)?.uses, 2);
    assert.equal(pool.find((e) => e.key === "h:2"), c);
    assert.deepEqual(pool.filter((e) => e.uses === 1), [a, c]);
    let n = 0;
    pool.forEach(() => n++);
    assert.equal(n, 3);
    assert.equal(pool.remove(c), true);
    assert.equal(pool.remove(c), false);
    assert.equal(c.closed, false); // remove does not close
    const s = pool.stats();
    assert.equal(s.added, 3);
    assert.equal(s.reused, 1);
    assert.equal(s.removed, 1);
    assert.equal(s.reuseRate, 0.25);
    pool.resetStats();
    assert.equal(pool.stats().added, 0);
  });

  test("the per-connection buffer is bounded", () => {
    const pool = new ConnectionPool<Member>({ bufferBytes: 16, cleanupIntervalMs: 0 });
    const e = pool.add(new Member());
    e.buffer.write(new Uint8Array(16));
    assert.throws(() => e.buffer.write(new Uint8Array(1)), LimitError);
  });

  test("a member that closes leaves the pool by itself", async () => {
    const pool = new ConnectionPool<Member>({ cleanupIntervalMs: 0 });
    const m = new Member();
    pool.add(m);
    m.abort(new Error("reset"));
    await m.whenClosed;
    await Promise.resolve();
    assert.equal(pool.size, 0);
  });

  test("validate, checkConnection, idle cleanup with onIdle, resize", () => {
    const clock = new ManualClock();
    let valid = true;
    const idled: Member[] = [];
    const pool = new ConnectionPool<Member>({
      idleTimeoutMs: 1000, cleanupIntervalMs: 0, clock, validate: () => valid, onIdle: (m) => idled.push(m),
    });
    const [a, b, c] = [new Member(), new Member(), new Member()];
    pool.add(a, "k");
    pool.add(b, "k");
    pool.add(c, "k");
    assert.equal(pool.checkConnection(a), "healthy");
    pool.release(a);
    pool.release(b);
    clock.advance(1000);
    assert.equal(pool.checkConnection(a), "stale");
    valid = false;
    assert.equal(pool.checkConnection(c), "error");
    valid = true;
    assert.equal(pool.cleanupIdle(), 2);
    assert.deepEqual(idled, [a, b]);
    assert.equal(a.closed && b.closed, true);
    assert.equal(pool.checkConnection(a), "disconnected");
    const s = pool.stats();
    assert.equal(s.idleCleanups, 2);
    assert.equal(s.healthChecks, 4);
    assert.equal(s.healthFailures, 3);
    // get() closes what validate refuses
    const d = new Member();
    pool.add(d, "v");
    pool.release(d);
    valid = false;
    assert.equal(pool.get("v"), undefined);
    assert.equal(d.closed, true);
    // resize closes idle ones only
    valid = true;
    const e = new Member();
    pool.add(e, "r");
    pool.release(e);
    assert.equal(pool.resize(1), 1);
    assert.equal(e.closed, true);
    assert.equal(pool.size, 1);
    assert.throws(() => pool.resize(0), RangeError);
    assert.throws(() => new ConnectionPool({ nope: 1 } as never), TypeError);
  });

  test("an onIdle that throws does not stop the idle cleanup: every idle connection closes and the cleanup returns", () => {
    const clock = new ManualClock();
    let calls = 0;
    const pool = new ConnectionPool<Member>({
      idleTimeoutMs: 1000, cleanupIntervalMs: 0, clock, onIdle: () => {
        calls++;
        throw new Error("onIdle failed");
      },
    });
    const members = [new Member(), new Member(), new Member()];
    for (const m of members) pool.release(pool.add(m, "k").connection);
    clock.advance(1000);
    assert.equal(pool.cleanupIdle(), 3);
    assert.equal(calls, 3);
    assert.ok(members.every((m) => m.closed));
    assert.equal(pool.size, 0);
    assert.equal(pool.stats().idleCleanups, 3);
  });

  test("drain: idle ones close, active ones finish on release, then stopped; nothing new admitted", async () => {
    const phases: string[] = [];
    const pool = new ConnectionPool<Member>({ cleanupIntervalMs: 0, onDrain: (p) => phases.push(p) });
    const [a, b] = [new Member(), new Member()];
    pool.add(a);
    pool.add(b);
    pool.release(a);
    const done = pool.drain(60_000);
    assert.equal(pool.state, "draining");
    assert.equal(a.closed, true);
    assert.ok(pool.drainRemainingMs() > 0);
    assert.throws(() => pool.add(new Member()), code("ERR_POOL_DRAINING"));
    pool.release(b); // finished its work: closed, not reused
    assert.deepEqual(await done, { forced: 0 });
    assert.equal(b.closed && !b.aborted, true);
    assert.equal(pool.state, "stopped");
    assert.deepEqual(phases, ["draining", "stopped"]);
    assert.equal(pool.drainRemainingMs(), 0);
  });

  test("drainForce aborts what is left", async () => {
    const pool = new ConnectionPool<Member>({ cleanupIntervalMs: 0 });
    const a = new Member();
    pool.add(a);
    const done = pool.drain(60_000);
    assert.equal(pool.drainForce(), 1);
    assert.deepEqual(await done, { forced: 1 });
    assert.equal(a.aborted, true);
  });

  test("property: counters and sizes agree with a model under any sequence of operations", () => {
    const op = fc.record({ kind: fc.constantFrom("add", "release", "get", "remove", "close", "advance", "cleanup"), i: fc.nat(5), key: fc.constantFrom("a", "b") });
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const clock = new ManualClock();
      const pool = new ConnectionPool<Member>({ maxConnections: 4, idleTimeoutMs: 100, cleanupIntervalMs: 0, clock });
      const members = Array.from({ length: 6 }, () => new Member());
      for (const o of ops) {
        const m = members[o.i]!;
        if (o.kind === "add") {
          if (!m.closed && !pool.has(m) && !pool.full) pool.add(m, o.key);
        } else if (o.kind === "release") pool.release(m);
        else if (o.kind === "get") pool.get(o.key);
        else if (o.kind === "remove") pool.remove(m);
        else if (o.kind === "close") {
          if (pool.has(m)) {
            pool.remove(m);
            m.close();
          }
        } else if (o.kind === "advance") clock.advance(60);
        else pool.cleanupIdle();
        const s = pool.stats();
        assert.equal(s.active + s.idle, pool.size);
        assert.ok(pool.size <= 4);
        assert.equal(s.added - s.removed, pool.size);
        assert.equal(pool.count("a") + pool.count("b"), pool.size);
        assert.equal(pool.filter((e) => !e.active).length, pool.idle);
        for (const mm of members) if (pool.has(mm)) assert.equal(mm.closed, false);
      }
    }));
  });
});
