import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "./clock.ts";
import { UseAfterCloseError } from "./errors.ts";
import { type Timer, TimerHeap, type TimerState } from "./timer_heap.ts";

function setup(start = 0) {
  const clock = new ManualClock(start);
  const timers = new TimerHeap({ clock });
  const fired: string[] = [];
  const log = (name: string) => () => {
    fired.push(name);
  };
  return { clock, timers, fired, log };
}

describe("TimerHeap basics", () => {
  test("fires in deadline order, FIFO among equal deadlines", () => {
    const { clock, timers, fired, log } = setup();
    timers.once(30, log("c"));
    timers.once(10, log("a1"));
    timers.once(20, log("b"));
    timers.once(10, log("a2"));
    timers.once(0, log("z"));
    clock.advance(15);
    assert.equal(timers.runDue(), 3);
    assert.deepEqual(fired, ["z", "a1", "a2"]);
    clock.advance(100);
    timers.runDue();
    assert.deepEqual(fired, ["z", "a1", "a2", "b", "c"]);
    assert.equal(timers.size, 0);
    assert.equal(timers.nextDeadline(), undefined);
  });

  test("runDue(now) uses the time given, not the clock", () => {
    const { timers, fired, log } = setup();
    timers.once(50, log("a"));
    assert.equal(timers.runDue(49), 0);
    assert.equal(timers.runDue(50), 1);
    assert.deepEqual(fired, ["a"]);
  });

  test("cancel removes a timer; cancelling twice is a no-op", () => {
    const { clock, timers, fired, log } = setup();
    const a = timers.once(10, log("a"));
    timers.once(10, log("b"));
    assert.equal(a.cancel(), true);
    assert.equal(a.cancel(), false);
    assert.equal(a.state, "idle");
    clock.advance(10);
    timers.runDue();
    assert.deepEqual(fired, ["b"]);
  });

  test("reschedule moves a timer earlier or later and puts it after equal deadlines", () => {
    const { clock, timers, fired, log } = setup();
    const a = timers.once(10, log("a"));
    timers.once(20, log("b"));
    const c = timers.once(30, log("c"));
    a.reschedule(25);
    c.reschedule(5);
    assert.equal(timers.nextDeadline(), 5);
    clock.advance(20);
    timers.runDue();
    assert.deepEqual(fired, ["c", "b"]);
    // Same deadline as an older timer: the rescheduled one goes after it.
    const d = timers.once(10, log("d"));
    timers.once(10, log("e"));
    d.reschedule(10);
    clock.advance(10);
    timers.runDue();
    assert.deepEqual(fired, ["c", "b", "a", "e", "d"]);
  });

  test("reschedule revives an idle timer and unpauses a paused one", () => {
    const { clock, timers, fired, log } = setup();
    const a = timers.once(1, log("a"));
    clock.advance(1);
    timers.runDue();
    assert.equal(a.state, "idle");
    a.reschedule(5);
    assert.equal(a.state, "scheduled");
    a.pause();
    a.reschedule(2);
    assert.equal(a.state, "scheduled");
    assert.equal(a.remaining(), 2);
    clock.advance(2);
    timers.runDue();
    assert.deepEqual(fired, ["a", "a"]);
  });

  test("pause keeps the remaining time; resume restarts from it", () => {
    const { clock, timers, fired, log } = setup();
    const a = timers.once(100, log("a"));
    clock.advance(30);
    assert.equal(a.remaining(), 70);
    assert.equal(a.pause(), true);
    assert.equal(a.pause(), false);
    assert.equal(timers.size, 0);
    clock.advance(500);
    timers.runDue();
    assert.deepEqual(fired, []);
    assert.equal(a.remaining(), 70);
    assert.equal(a.resume(), true);
    assert.equal(a.resume(), false);
    assert.equal(a.deadline, 600);
    clock.advance(69);
    timers.runDue();
    assert.deepEqual(fired, []);
    clock.advance(1);
    timers.runDue();
    assert.deepEqual(fired, ["a"]);
    assert.equal(a.remaining(), 0);
  });

  test("repeating timers keep their phase and skip missed ticks", () => {
    const { clock, timers } = setup();
    const at: number[] = [];
    const t = timers.every(10, () => at.push(clock.now()));
    assert.equal(t.intervalMs, 10);
    clock.advance(10);
    timers.runDue();
    clock.advance(13); // 23: one tick due (20), next at 30
    timers.runDue();
    assert.equal(t.deadline, 30);
    clock.advance(45); // 68: fell behind by several ticks: one call, next at 78
    timers.runDue();
    assert.equal(t.deadline, 78);
    assert.deepEqual(at, [10, 23, 68]);
  });

  test("every() takes a first delay", () => {
    const { clock, timers, fired, log } = setup();
    const t = timers.every(100, log("t"), 0);
    timers.runDue();
    assert.deepEqual(fired, ["t"]);
    assert.equal(t.deadline, 100);
    clock.advance(100);
    timers.runDue();
    assert.deepEqual(fired, ["t", "t"]);
  });

  test("timeoutMs: -1 when empty, 0 when due, rounded up, clamped to a C int", () => {
    const { clock, timers } = setup();
    assert.equal(timers.timeoutMs(), -1);
    const t = timers.once(10.2, () => {});
    assert.equal(timers.timeoutMs(), 11);
    clock.advance(10.1);
    assert.equal(timers.timeoutMs(), 1);
    clock.advance(1);
    assert.equal(timers.timeoutMs(), 0);
    t.reschedule(1e12);
    assert.equal(timers.timeoutMs(), 0x7fffffff);
  });

  test("ref/unref decide hasRef for active timers only", () => {
    const { clock, timers } = setup();
    assert.equal(timers.hasRef(), false);
    const a = timers.once(10, () => {});
    assert.equal(timers.hasRef(), true);
    a.unref();
    assert.equal(a.hasRef(), false);
    assert.equal(timers.hasRef(), false);
    a.ref();
    a.pause();
    assert.equal(timers.hasRef(), false);
    a.resume();
    assert.equal(timers.hasRef(), true);
    const r = timers.every(5, () => {});
    clock.advance(10);
    timers.runDue();
    assert.equal(a.state, "idle");
    assert.equal(timers.hasRef(), true); // the repeating one
    r.cancel();
    assert.equal(timers.hasRef(), false);
  });

  test("bad arguments throw TypeError or RangeError", () => {
    const { timers } = setup();
    assert.throws(() => timers.once(-1, () => {}), RangeError);
    assert.throws(() => timers.once(Number.NaN, () => {}), RangeError);
    assert.throws(() => timers.once(Infinity, () => {}), RangeError);
    assert.throws(() => timers.once("1" as unknown as number, () => {}), TypeError);
    assert.throws(() => timers.once(1, null as unknown as () => void), TypeError);
    assert.throws(() => timers.every(0, () => {}), RangeError);
    assert.throws(() => timers.every(1, () => {}, -1), RangeError);
    const other = new TimerHeap();
    const foreign = other.once(1, () => {});
    assert.throws(() => timers.cancel(foreign), TypeError);
    assert.throws(() => timers.runDue(Number.NaN), TypeError);
    other.close();
  });

  test("runDue refuses an infinite now instead of parking repeating timers at Infinity", () => {
    const { timers, fired, log } = setup();
    timers.every(10, log("tick"));
    timers.once(1e9, log("far"));
    assert.throws(() => timers.runDue(Infinity), RangeError);
    assert.throws(() => timers.runDue(-Infinity), RangeError);
    assert.deepEqual(fired, []);
    assert.equal(timers.runDue(10), 1);
    assert.equal(timers.nextDeadline(), 20);
  });

  test("close cancels everything and refuses new timers", () => {
    const { clock, timers, fired, log } = setup();
    const a = timers.once(10, log("a"));
    const p = timers.once(10, log("p"));
    p.pause();
    timers.close();
    timers.close();
    assert.equal(timers.closed, true);
    assert.equal(a.state, "idle");
    assert.equal(timers.size, 0);
    assert.equal(timers.hasRef(), false);
    assert.throws(() => timers.once(1, () => {}), UseAfterCloseError);
    assert.throws(() => p.resume(), UseAfterCloseError);
    assert.throws(() => a.reschedule(1), UseAfterCloseError);
    assert.equal(p.cancel(), true);
    clock.advance(100);
    assert.equal(timers.runDue(), 0);
    assert.deepEqual(fired, []);
  });
});

describe("TimerHeap callbacks that change timers", () => {
  test("a timer created or re-armed during a run fires in the next run", () => {
    const { clock, timers, fired, log } = setup();
    timers.once(0, (t) => {
      fired.push("a");
      timers.once(0, log("new"));
      t.reschedule(0);
    });
    assert.equal(timers.runDue(), 1);
    assert.deepEqual(fired, ["a"]);
    clock.advance(1);
    assert.equal(timers.runDue(), 2);
    assert.deepEqual(fired, ["a", "new", "a"]); // "new" was scheduled first
  });

  test("a due timer cancelled, paused or rescheduled by an earlier callback does not fire", () => {
    const { clock, timers, fired, log } = setup();
    let b: Timer | undefined;
    let c: Timer | undefined;
    let d: Timer | undefined;
    timers.once(1, () => {
      fired.push("a");
      b?.cancel();
      c?.pause();
      d?.reschedule(50);
    });
    b = timers.once(1, log("b"));
    c = timers.once(1, log("c"));
    d = timers.once(1, log("d"));
    timers.once(1, log("e"));
    clock.advance(1);
    assert.equal(timers.runDue(), 2);
    assert.deepEqual(fired, ["a", "e"]);
    assert.equal(c.state, "paused");
    assert.equal(c.remaining(), 0);
    assert.equal(d.deadline, 51);
  });

  test("a repeating timer can cancel itself from its callback", () => {
    const { clock, timers } = setup();
    let ticks = 0;
    const t = timers.every(5, (self) => {
      if (++ticks === 2) self.cancel();
    });
    for (let i = 0; i < 5; i++) {
      clock.advance(5);
      timers.runDue();
    }
    assert.equal(ticks, 2);
    assert.equal(t.state, "idle");
    assert.equal(timers.size, 0);
  });

  test("a throwing callback does not stop the run; its error is rethrown after", () => {
    const { clock, timers, fired, log } = setup();
    const boom = new Error("boom");
    timers.once(1, log("a"));
    timers.once(1, () => {
      throw boom;
    });
    const rep = timers.every(1, () => {
      throw new Error("repeating");
    });
    timers.once(1, log("c"));
    timers.once(5, log("later"));
    clock.advance(1);
    assert.throws(() => timers.runDue(), (err: unknown) => {
      assert.ok(err instanceof AggregateError);
      assert.equal(err.errors.length, 2);
      assert.equal(err.errors[0], boom);
      return true;
    });
    assert.deepEqual(fired, ["a", "c"]);
    assert.equal(rep.state, "scheduled"); // the repeating timer is not lost
    rep.cancel();
    clock.advance(10);
    timers.runDue();
    assert.deepEqual(fired, ["a", "c", "later"]);
  });

  test("one throwing callback is rethrown as is", () => {
    const { clock, timers } = setup();
    const boom = new Error("boom");
    timers.once(1, () => {
      throw boom;
    });
    clock.advance(1);
    assert.throws(() => timers.runDue(), (err: unknown) => err === boom);
    assert.equal(timers.runDue(), 0);
  });

  test("onError receives callback errors and the run goes on", () => {
    const clock = new ManualClock();
    const seen: unknown[] = [];
    const timers = new TimerHeap({ clock, onError: (err, t) => seen.push([err, t.state]) });
    const boom = new Error("boom");
    let after = false;
    timers.once(1, () => {
      throw boom;
    });
    timers.once(1, () => {
      after = true;
    });
    clock.advance(1);
    assert.equal(timers.runDue(), 2);
    assert.deepEqual(seen, [[boom, "idle"]]);
    assert.equal(after, true);
  });

  test("runDue nested in a callback does nothing", () => {
    const { clock, timers, fired, log } = setup();
    let nested = -1;
    timers.once(1, () => {
      nested = timers.runDue();
    });
    timers.once(1, log("b"));
    clock.advance(1);
    assert.equal(timers.runDue(), 2);
    assert.equal(nested, 0);
    assert.deepEqual(fired, ["b"]);
  });

  test("close from a callback stops the rest of the run", () => {
    const { clock, timers, fired, log } = setup();
    timers.once(1, () => timers.close());
    timers.once(1, log("b"));
    clock.advance(1);
    assert.equal(timers.runDue(), 1);
    assert.deepEqual(fired, []);
  });
});

// ---------------------------------------------------------------------------
// Model-based property test: a plain array of timers, sorted at each run.

type Action =
  | { kind: "none" }
  | { kind: "cancel"; target: number }
  | { kind: "reschedule"; target: number; delay: number }
  | { kind: "pause"; target: number }
  | { kind: "resume"; target: number }
  | { kind: "once"; delay: number }
  | { kind: "throw" };

interface ModelTimer {
  deadline: number;
  seq: number;
  interval: number; // -1 for once
  state: TimerState;
  remaining: number;
  action: Action;
}

class Model {
  timers: ModelTimer[] = [];
  seq = 0;
  fired: number[] = [];
  readonly clock: ManualClock;
  constructor(clock: ManualClock) {
    this.clock = clock;
  }
  add(delay: number, interval: number, action: Action): void {
    this.timers.push({
      deadline: this.clock.now() + delay,
      seq: ++this.seq,
      interval,
      state: "scheduled",
      remaining: 0,
      action,
    });
  }
  cancel(i: number): boolean {
    const t = this.timers[i];
    if (!t || t.state === "idle") return false;
    t.state = "idle";
    return true;
  }
  reschedule(i: number, delay: number): void {
    const t = this.timers[i];
    if (!t) return;
    t.deadline = this.clock.now() + delay;
    t.seq = ++this.seq;
    t.state = "scheduled";
  }
  pause(i: number): boolean {
    const t = this.timers[i];
    if (!t || (t.state !== "scheduled" && t.state !== "due")) return false;
    t.remaining = Math.max(0, t.deadline - this.clock.now());
    t.state = "paused";
    return true;
  }
  resume(i: number): boolean {
    const t = this.timers[i];
    if (!t || t.state !== "paused") return false;
    t.deadline = this.clock.now() + t.remaining;
    t.seq = ++this.seq;
    t.state = "scheduled";
    return true;
  }
  remaining(i: number): number {
    const t = this.timers[i] as ModelTimer;
    if (t.state === "paused") return t.remaining;
    if (t.state === "idle") return 0;
    return Math.max(0, t.deadline - this.clock.now());
  }
  runDue(now: number): number {
    const due = this.timers
      .map((t, i) => ({ t, i }))
      .filter(({ t }) => t.state === "scheduled" && t.deadline <= now)
      .sort((a, b) => a.t.deadline - b.t.deadline || a.t.seq - b.t.seq);
    for (const { t } of due) t.state = "due";
    let errors = 0;
    for (const { t, i } of due) {
      if (t.state !== "due") continue;
      if (t.interval > 0) {
        let next = t.deadline + t.interval;
        if (next <= now) next = now + t.interval;
        t.deadline = next;
        t.seq = ++this.seq;
        t.state = "scheduled";
      } else t.state = "idle";
      this.fired.push(i);
      errors += this.act(t.action);
    }
    return errors;
  }
  act(a: Action): number {
    switch (a.kind) {
      case "cancel":
        this.cancel(a.target);
        return 0;
      case "reschedule":
        this.reschedule(a.target, a.delay);
        return 0;
      case "pause":
        this.pause(a.target);
        return 0;
      case "resume":
        this.resume(a.target);
        return 0;
      case "once":
        this.add(a.delay, -1, { kind: "none" });
        return 0;
      case "throw":
        return 1;
      default:
        return 0;
    }
  }
  nextDeadline(): number | undefined {
    let best: ModelTimer | undefined;
    for (const t of this.timers) {
      if (t.state !== "scheduled") continue;
      if (!best || t.deadline < best.deadline) best = t;
    }
    return best?.deadline;
  }
}

type Op =
  | { op: "once"; delay: number; action: Action }
  | { op: "every"; interval: number; first: number; action: Action }
  | { op: "cancel"; target: number }
  | { op: "reschedule"; target: number; delay: number }
  | { op: "pause"; target: number }
  | { op: "resume"; target: number }
  | { op: "advance"; ms: number };

const delayArb = fc.integer({ min: 0, max: 50 });
const targetArb = fc.nat({ max: 40 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: "none" } as const) },
  fc.record({ kind: fc.constant("cancel" as const), target: targetArb }),
  fc.record({ kind: fc.constant("reschedule" as const), target: targetArb, delay: delayArb }),
  fc.record({ kind: fc.constant("pause" as const), target: targetArb }),
  fc.record({ kind: fc.constant("resume" as const), target: targetArb }),
  fc.record({ kind: fc.constant("once" as const), delay: delayArb }),
  fc.record({ kind: fc.constant("throw" as const) }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("once" as const), delay: delayArb, action: actionArb }) },
  fc.record({
    op: fc.constant("every" as const),
    interval: fc.integer({ min: 1, max: 30 }),
    first: delayArb,
    action: actionArb,
  }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cancel" as const), target: targetArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("reschedule" as const), target: targetArb, delay: delayArb }) },
  fc.record({ op: fc.constant("pause" as const), target: targetArb }),
  fc.record({ op: fc.constant("resume" as const), target: targetArb }),
  { weight: 4, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40 }) }) },
);

describe("TimerHeap against a model", () => {
  test("any sequence of operations fires the same timers in the same order", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80, size: "max" }), (ops) => {
        const clock = new ManualClock(1000);
        const model = new Model(clock);
        const timers = new TimerHeap({ clock });
        const handles: Timer[] = [];
        const fired: number[] = [];
        const handleOf = (i: number) => handles[i];
        const act = (a: Action): void => {
          switch (a.kind) {
            case "cancel":
              handleOf(a.target)?.cancel();
              break;
            case "reschedule":
              handleOf(a.target)?.reschedule(a.delay);
              break;
            case "pause":
              handleOf(a.target)?.pause();
              break;
            case "resume":
              handleOf(a.target)?.resume();
              break;
            case "once":
              add(timers.once(a.delay, () => {}) as Timer);
              break;
            case "throw":
              throw new Error("callback failure");
          }
        };
        const add = (t: Timer): void => {
          const i = handles.length;
          handles.push(t);
          t._callback = () => {
            fired.push(i);
            act(actions[i] as Action);
          };
        };
        const actions: Action[] = [];
        for (const op of ops) {
          switch (op.op) {
            case "once":
              actions[handles.length] = op.action;
              add(timers.once(op.delay, () => {}));
              model.add(op.delay, -1, op.action);
              break;
            case "every":
              actions[handles.length] = op.action;
              add(timers.every(op.interval, () => {}, op.first));
              model.add(op.first, op.interval, op.action);
              break;
            case "cancel":
              assert.equal(handleOf(op.target)?.cancel() ?? false, model.cancel(op.target));
              break;
            case "reschedule":
              handleOf(op.target)?.reschedule(op.delay);
              model.reschedule(op.target, op.delay);
              break;
            case "pause":
              assert.equal(handleOf(op.target)?.pause() ?? false, model.pause(op.target));
              break;
            case "resume":
              assert.equal(handleOf(op.target)?.resume() ?? false, model.resume(op.target));
              break;
            case "advance": {
              clock.advance(op.ms);
              const errors = model.runDue(clock.now());
              let thrown = 0;
              try {
                timers.runDue();
              } catch (err) {
                thrown = err instanceof AggregateError ? err.errors.length : 1;
              }
              assert.equal(thrown, errors);
              break;
            }
          }
          // Timers created by callbacks have no action of their own.
          for (let i = actions.length; i < handles.length; i++) actions[i] = { kind: "none" };
          assert.deepEqual(fired, model.fired);
          assert.equal(handles.length, model.timers.length);
          assert.equal(timers.nextDeadline(), model.nextDeadline());
          let scheduled = 0;
          let refed = false;
          handles.forEach((h, i) => {
            const m = model.timers[i] as ModelTimer;
            assert.equal(h.state, m.state);
            assert.equal(h.remaining(), model.remaining(i));
            if (m.state === "scheduled") {
              scheduled++;
              refed = true;
              assert.equal(h.deadline, m.deadline);
            }
          });
          assert.equal(timers.size, scheduled);
          assert.equal(timers.hasRef(), refed);
        }
      }),
      { numRuns: 300 },
    );
  });
});
