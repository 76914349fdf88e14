/**
 * Timer heap: schedule 10,000 one-shot timers with scattered deadlines,
 * cancel every third, then fire the rest with `runDue` in three steps,
 * against a sorted array with binary-search insertion, `splice` removal and
 * a front cursor ("sorted-array"). Reported per timer.
 *
 * @module
 */
import { compare, finish } from "./harness.ts";
import { ManualClock } from "../core/clock.ts";
import { type Timer, TimerHeap } from "../core/timer_heap.ts";

const N = 10_000;
const delays = new Float64Array(N);
let seed = 12345;
for (let i = 0; i < N; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  delays[i] = seed % 30_000;
}

interface Entry {
  deadline: number;
  seq: number;
  callback: () => void;
}

/** The peer: entries kept sorted by (deadline, seq). */
class SortedTimers {
  entries: Entry[] = [];
  seq = 0;
  #position(deadline: number, seq: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid] as Entry;
      if (e.deadline < deadline || (e.deadline === deadline && e.seq < seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  once(now: number, delay: number, callback: () => void): Entry {
    const e = { deadline: now + delay, seq: ++this.seq, callback };
    this.entries.splice(this.#position(e.deadline, e.seq), 0, e);
    return e;
  }
  cancel(e: Entry): void {
    const i = this.#position(e.deadline, e.seq);
    if (this.entries[i] === e) this.entries.splice(i, 1);
  }
  runDue(now: number): number {
    let k = 0;
    while (k < this.entries.length && (this.entries[k] as Entry).deadline <= now) k++;
    const due = this.entries.splice(0, k);
    for (const e of due) e.callback();
    return k;
  }
}

let fired = 0;
const callback = () => {
  fired++;
};

const clock = new ManualClock();
const heap = new TimerHeap({ clock });
const handles: Timer[] = new Array(N);
const sorted = new SortedTimers();
const entries: Entry[] = new Array(N);

await compare({ bench: "timer_heap", case: "schedule+cancel+runDue 10k" }, {
  ours: () => {
    for (let i = 0; i < N; i++) handles[i] = heap.once(delays[i] as number, callback);
    for (let i = 0; i < N; i += 3) (handles[i] as Timer).cancel();
    const now = clock.now();
    heap.runDue(now + 10_000);
    heap.runDue(now + 20_000);
    heap.runDue(now + 30_000);
    clock.advance(30_000);
    return fired;
  },
  peer: () => {
    const now = clock.now();
    for (let i = 0; i < N; i++) entries[i] = sorted.once(now, delays[i] as number, callback);
    for (let i = 0; i < N; i += 3) sorted.cancel(entries[i] as Entry);
    sorted.runDue(now + 10_000);
    sorted.runDue(now + 20_000);
    sorted.runDue(now + 30_000);
    clock.advance(30_000);
    return fired;
  },
  peerName: "sorted-array",
  unitsPerCall: N,
});

finish();
