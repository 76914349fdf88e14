import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ManualClock } from "../core/clock.ts";
import {
  clampAttemptDelay,
  FamilyMemory,
  type HappyEyeballsAction,
  HappyEyeballsSchedule,
  interleaveAddresses,
  type IPFamily,
} from "./happy_eyeballs.ts";

describe("Happy Eyeballs schedule (RFC 8305)", () => {
  test("the Connection Attempt Delay is clamped to 10 ms - 2 s; bad values are typed errors", () => {
    assert.equal(clampAttemptDelay(0), 10);
    assert.equal(clampAttemptDelay(10), 10);
    assert.equal(clampAttemptDelay(100), 100);
    assert.equal(clampAttemptDelay(250), 250);
    assert.equal(clampAttemptDelay(2000), 2000);
    assert.equal(clampAttemptDelay(Infinity), 2000);
    assert.throws(() => clampAttemptDelay(-1), RangeError);
    assert.throws(() => clampAttemptDelay(NaN), RangeError);
    assert.throws(() => clampAttemptDelay("250" as unknown as number), TypeError);
    assert.throws(() => new HappyEyeballsSchedule({ resolutionDelayMs: -5 }), RangeError);
    assert.throws(() => new HappyEyeballsSchedule({ preferredFamily: 5 as IPFamily }), TypeError);
    assert.throws(() => new HappyEyeballsSchedule({ families: [] }), TypeError);
  });

  test("interleaving: preferred family first, then alternating, order kept within a family", () => {
    const a = (address: string, family: IPFamily) => ({ address, family });
    const list = [a("4a", 4), a("4b", 4), a("4c", 4), a("6a", 6), a("6b", 6)];
    assert.deepEqual(interleaveAddresses(list, 6).map((x) => x.address), ["6a", "4a", "6b", "4b", "4c"]);
    assert.deepEqual(interleaveAddresses(list, 4).map((x) => x.address), ["4a", "6a", "4b", "6b", "4c"]);
    assert.deepEqual(interleaveAddresses([], 6), []);
  });

  test("AAAA first: attempts start at once, alternate, and wait the attempt delay", () => {
    const plan = new HappyEyeballsSchedule();
    assert.deepEqual(plan.next(0), { kind: "idle" });
    plan.answer(6, ["2001:db8::1", "2001:db8::2"], 5);
    assert.deepEqual(plan.next(5), { kind: "connect", address: "2001:db8::1", family: 6 });
    assert.deepEqual(plan.next(5), { kind: "wait", untilMs: 255 });
    plan.answer(4, ["192.0.2.1"], 20);
    assert.deepEqual(plan.next(20), { kind: "wait", untilMs: 255 });
    assert.deepEqual(plan.next(255), { kind: "connect", address: "192.0.2.1", family: 4 });
    assert.deepEqual(plan.next(255), { kind: "wait", untilMs: 505 });
    assert.deepEqual(plan.next(505), { kind: "connect", address: "2001:db8::2", family: 6 });
    assert.deepEqual(plan.next(505), { kind: "idle" });
    plan.attemptFailed("2001:db8::1", 600);
    plan.attemptFailed("192.0.2.1", 600);
    assert.deepEqual(plan.next(600), { kind: "idle" });
    plan.attemptFailed("2001:db8::2", 601);
    assert.deepEqual(plan.next(601), { kind: "failed" });
    assert.equal(plan.attempts, 3);
  });

  test("A first: the Resolution Delay waits for AAAA, and AAAA inside it goes first", () => {
    const plan = new HappyEyeballsSchedule();
    plan.answer(4, ["192.0.2.1"], 100);
    assert.deepEqual(plan.next(100), { kind: "wait", untilMs: 150 });
    assert.deepEqual(plan.next(149), { kind: "wait", untilMs: 150 });
    plan.answer(6, ["2001:db8::1"], 149);
    assert.deepEqual(plan.next(149), { kind: "connect", address: "2001:db8::1", family: 6 });
  });

  test("A first and AAAA late: IPv4 starts after the Resolution Delay, IPv6 joins when it comes", () => {
    const plan = new HappyEyeballsSchedule({ attemptDelayMs: 100 });
    plan.answer(4, ["192.0.2.1", "192.0.2.2"], 0);
    assert.deepEqual(plan.next(50), { kind: "connect", address: "192.0.2.1", family: 4 });
    plan.answer(6, ["2001:db8::1"], 70);
    assert.deepEqual(plan.next(70), { kind: "wait", untilMs: 150 });
    assert.deepEqual(plan.next(150), { kind: "connect", address: "2001:db8::1", family: 6 });
    assert.deepEqual(plan.next(250), { kind: "connect", address: "192.0.2.2", family: 4 });
  });

  test("a failed attempt starts the next at once; an empty family is skipped", () => {
    const plan = new HappyEyeballsSchedule();
    plan.answer(6, [], 0);
    assert.deepEqual(plan.next(0), { kind: "idle" });
    plan.answer(4, ["192.0.2.1", "192.0.2.2"], 1);
    assert.deepEqual(plan.next(1), { kind: "connect", address: "192.0.2.1", family: 4 });
    plan.attemptFailed("192.0.2.1", 2);
    assert.deepEqual(plan.next(2), { kind: "connect", address: "192.0.2.2", family: 4 });
  });

  test("no address at all fails once both answers are in; a remembered family goes first", () => {
    const none = new HappyEyeballsSchedule();
    none.answer(4, [], 0);
    assert.deepEqual(none.next(0), { kind: "idle" });
    none.answer(6, [], 1);
    assert.deepEqual(none.next(1), { kind: "failed" });
    const v4 = new HappyEyeballsSchedule({ preferredFamily: 4 });
    v4.answer(4, ["192.0.2.1"], 0);
    assert.deepEqual(v4.next(0), { kind: "connect", address: "192.0.2.1", family: 4 });
  });

  test("property: each address tried once, never early, families alternate, failure only at the end", () => {
    const addressesOf = (family: IPFamily, n: number) => Array.from({ length: n }, (_, i) => family === 6 ? `2001:db8::${i + 1}` : `192.0.2.${i + 1}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom<IPFamily>(4, 6),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        (n6, n4, at6, at4, delay, preferred, steps, fails) => {
          const plan = new HappyEyeballsSchedule({ attemptDelayMs: delay, preferredFamily: preferred });
          const answers = [{ family: 6 as IPFamily, at: at6, list: addressesOf(6, n6) }, { family: 4 as IPFamily, at: at4, list: addressesOf(4, n4) }]
            .sort((a, b) => a.at - b.at);
          const tried: { address: string; family: IPFamily; at: number }[] = [];
          const inFlight: string[] = [];
          let now = 0;
          let failed = false;
          let answeredPreferredAt = Infinity;
          let answeredOtherAt = Infinity;
          const answeredAt: Record<IPFamily, number> = { 4: Infinity, 6: Infinity };
          for (let i = 0; i < 400 && !failed; i++) {
            while (answers.length > 0 && answers[0]!.at <= now) {
              const a = answers.shift()!;
              plan.answer(a.family, a.list, now);
              answeredAt[a.family] = now;
              if (a.family === preferred) answeredPreferredAt = now;
              else if (a.list.length > 0) answeredOtherAt = Math.min(answeredOtherAt, now);
            }
            for (let guard = 0; guard < 20; guard++) {
              const step: HappyEyeballsAction = plan.next(now);
              if (step.kind === "connect") {
                // Never before the Resolution Delay when only the other family has answered.
                if (answeredPreferredAt > now && answers.some((a) => a.family === preferred)) {
                  assert.ok(now >= answeredOtherAt + plan.resolutionDelayMs, `connected at ${now} before the resolution delay`);
                }
                // Spaced by the attempt delay while an earlier attempt is in flight.
                if (inFlight.length > 0) assert.ok(now >= tried.at(-1)!.at + plan.attemptDelayMs);
                tried.push({ address: step.address, family: step.family, at: now });
                inFlight.push(step.address);
                continue;
              }
              if (step.kind === "failed") {
                assert.equal(inFlight.length, 0);
                assert.equal(answers.length, 0);
                failed = true;
              }
              break;
            }
            now += steps[i % steps.length]!;
            if (inFlight.length > 0 && fails[i % fails.length]) plan.attemptFailed(inFlight.shift()!, now);
          }
          const names = tried.map((t) => t.address);
          assert.equal(new Set(names).size, names.length, "an address was tried twice");
          if (failed) assert.equal(names.length, n6 + n4, "failed before every address was tried");
          // Alternation: two attempts of one family in a row only when the other had nothing untried.
          for (let i = 1; i < tried.length; i++) {
            if (tried[i]!.family !== tried[i - 1]!.family) continue;
            const otherFamily = tried[i]!.family === 6 ? 4 : 6;
            const triedOther = tried.slice(0, i).filter((t) => t.family === otherFamily).length;
            const knownOther = otherFamily === 6 ? n6 : n4;
            const otherArrived = answeredAt[otherFamily] <= tried[i]!.at;
            assert.ok(!otherArrived || triedOther >= knownOther, `family ${tried[i]!.family} twice while ${otherFamily} had addresses`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("FamilyMemory", () => {
  test("remembers per host until the TTL, case-insensitively, bounded", () => {
    const clock = new ManualClock();
    const memory = new FamilyMemory({ ttlMs: 1000, maxEntries: 2, clock });
    memory.remember("A.example", 4);
    assert.equal(memory.preferred("a.example"), 4);
    clock.advance(999);
    assert.equal(memory.preferred("a.example"), 4);
    clock.advance(1);
    assert.equal(memory.preferred("a.example"), undefined);
    memory.remember("x", 6);
    memory.remember("y", 4);
    memory.remember("z", 4);
    assert.equal(memory.size, 2);
    assert.equal(memory.preferred("x"), undefined);
    assert.equal(memory.preferred("z"), 4);
    memory.clear();
    assert.equal(memory.size, 0);
    assert.throws(() => new FamilyMemory({ maxEntries: 0 }), RangeError);
    assert.throws(() => new FamilyMemory({ ttlMs: -1 }), RangeError);
  });
});
