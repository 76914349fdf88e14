import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CircuitOpenError } from "../core/circuit_breaker.ts";
import { ManualClock } from "../core/clock.ts";
import { HostHealth } from "./health.ts";

describe("HostHealth", () => {
  test("one circuit per origin: closed -> open -> half-open probe -> closed, or open again", async () => {
    const clock = new ManualClock();
    const changes: string[] = [];
    const health = new HostHealth({ failureThreshold: 2, resetTimeoutMs: 1000, clock, onStateChange: (o, to, from) => changes.push(`${o} ${from}->${to}`) });
    health.recordFailure("a:1");
    assert.equal(health.state("a:1"), "closed");
    health.recordFailure("a:1");
    assert.equal(health.allow("a:1"), false);
    assert.equal(health.allow("b:2"), true);
    await assert.rejects(health.run("a:1", () => 1), (e: unknown) => e instanceof CircuitOpenError && e.code === "ERR_CIRCUIT_OPEN");
    clock.advance(1000);
    assert.equal(health.allow("a:1"), true); // the probe
    assert.equal(health.allow("a:1"), false); // one at a time
    health.recordFailure("a:1");
    assert.equal(health.state("a:1"), "open");
    clock.advance(1000);
    assert.equal(await health.run("a:1", async () => "ok"), "ok");
    assert.equal(health.state("a:1"), "closed");
    assert.deepEqual(changes, ["a:1 closed->open", "a:1 open->half-open", "a:1 half-open->open", "a:1 open->half-open", "a:1 half-open->closed"]);
    assert.equal(health.origin("a:1").totalFailures, 3);
  });

  test("seed defaults, the LRU bound and option checks", () => {
    const health = new HostHealth({ maxHosts: 2 });
    for (let i = 0; i < 4; i++) health.recordFailure("x:1");
    assert.equal(health.state("x:1"), "closed");
    health.recordFailure("x:1");
    assert.equal(health.state("x:1"), "open");
    assert.ok(health.origin("x:1").retryAfterMs > 29_000);
    health.allow("y:1");
    health.allow("z:1");
    assert.equal(health.size, 2);
    assert.equal(health.state("x:1"), "closed"); // forgotten: least recently used
    assert.throws(() => new HostHealth({ maxHosts: 0 }), RangeError);
    assert.throws(() => new HostHealth({ failureThreshold: 0 }), RangeError);
    assert.throws(() => new HostHealth({ bogus: true } as never), TypeError);
    assert.throws(() => health.allow(""), TypeError);
  });
});
