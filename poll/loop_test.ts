import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { turnMs } from "../core/clock.ts";
import { UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { defaultLoop, Loop, READABLE } from "./loop.ts";

/**
 * Waits until the loop's wait is parked on its helper thread: the first park
 * waits for the helper to boot (a Node worker loading koffi), and the loop
 * polls on a short timer meanwhile. Bounded: throws after ~10 s.
 */
async function untilParked(loop: Loop): Promise<void> {
  for (let i = 0; !loop.parked; i++) {
    if (i >= 2000) throw new Error(`the loop never parked: ${JSON.stringify(loop.stats)}`);
    await sleep(5);
  }
}

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const backends = libc().epoll_create1 !== undefined ? (["epoll", "poll"] as const) : (["poll"] as const);

for (const backend of backends) {
  describe(`Loop on ${backend}`, () => {
    test("dispatches a readable fd after parking, while runtime timers fire", async () => {
      const loop = new Loop({ backend });
      const [a, b] = socketPair();
      try {
        const got: number[] = [];
        const scratch = new Uint8Array(16);
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        loop.watch(a, READABLE, () => {
          const n = libc().read(a, scratch, 16);
          for (let i = 0; i < n; i++) got.push(scratch[i]!);
          if (got.length === 3) resolve();
        });
        let ticks = 0;
        await new Promise<void>((r) => {
          const tick = () => (++ticks === 5 ? r() : setTimeout(tick, 5));
          setTimeout(tick, 5);
        });
        await untilParked(loop);
        libc().write(b, new Uint8Array([1, 2, 3]), 3);
        await done;
        assert.deepEqual(got, [1, 2, 3]);
        assert.ok(loop.stats.parks >= 1);
      } finally {
        loop.close();
        await loop.released();
        libc().close(a);
        libc().close(b);
      }
    });

    test("a wait that fills the event buffer is followed by another poll in the same tick", async () => {
      const loop = new Loop({ backend, maxEvents: 4, hotPolls: 4 });
      const pairs = Array.from({ length: 10 }, () => socketPair());
      try {
        const scratch = new Uint8Array(16);
        let reads = 0;
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        for (const [a, b] of pairs) {
          libc().write(b, new Uint8Array([1]), 1);
          loop.watch(a, READABLE, () => {
            libc().read(a, scratch, 16);
            if (++reads === pairs.length) resolve();
          });
        }
        await done;
        // 10 ready fds, 4 per wait: 4 + 4 + 2 in one tick.
        assert.ok(loop.stats.polls > loop.stats.ticks, JSON.stringify(loop.stats));
        assert.equal(loop.stats.events, 10);
      } finally {
        loop.close();
        await loop.released();
        for (const [a, b] of pairs) {
          libc().close(a);
          libc().close(b);
        }
      }
    });

    test("after a busy tick the loop lingers in a short blocking wait, then parks; lingerMs 0 parks at once", async () => {
      for (const lingerMs of [1, 0]) {
        const loop = new Loop({ backend, lingerMs });
        const [a, b] = socketPair();
        try {
          const scratch = new Uint8Array(16);
          let reads = 0;
          loop.watch(a, READABLE, () => {
            libc().read(a, scratch, 16);
            reads++;
          });
          await untilParked(loop);
          libc().write(b, new Uint8Array([1]), 1);
          while (reads === 0 || !loop.parked) await sleep(5);
          assert.equal(reads, 1);
          // The tick after the read waited up to lingerMs for more before parking.
          assert.equal(loop.stats.lingers, lingerMs > 0 ? 1 : 0, JSON.stringify(loop.stats));
          assert.ok(loop.stats.parks >= 2, JSON.stringify(loop.stats));
        } finally {
          loop.close();
          await loop.released();
          libc().close(a);
          libc().close(b);
        }
      }
    });

    test("a park that follows a linger which found nothing and brings events soon keeps lingering on (quickParkMs)", async () => {
      assert.throws(() => new Loop({ backend, quickParkMs: -1 }), RangeError);
      const loop = new Loop({ backend, lingerMs: 1, quickParkMs: 1000 });
      const [a, b] = socketPair();
      try {
        const scratch = new Uint8Array(16);
        let reads = 0;
        loop.watch(a, READABLE, () => {
          libc().read(a, scratch, 16);
          reads++;
        });
        await untilParked(loop);
        for (let round = 1; round <= 5; round++) {
          libc().write(b, new Uint8Array([round]), 1);
          while (reads < round || !loop.parked) await sleep(1);
        }
        // Each read came to a parked wait soon after the last linger found
        // nothing, so every tick after a read lingered again (no pause).
        assert.equal(loop.stats.lingers, 5, JSON.stringify(loop.stats));
      } finally {
        loop.close();
        await loop.released();
        libc().close(a);
        libc().close(b);
      }
    });

    test("an earlier timer wakes a parked wait; timers fire in order", async () => {
      const loop = new Loop({ backend });
      try {
        const fired: string[] = [];
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        loop.timers.once(5000, () => fired.push("late"));
        await untilParked(loop);
        loop.timers.once(30, () => {
          fired.push("b");
          resolve();
        });
        loop.timers.once(10, () => fired.push("a"));
        await done;
        assert.deepEqual(fired, ["a", "b"]);
        assert.ok(loop.stats.wakes >= 1);
      } finally {
        loop.close();
        await loop.released();
      }
    });

    test("a watcher added while parked is seen", async () => {
      const loop = new Loop({ backend });
      const [a, b] = socketPair();
      const [c, d] = socketPair();
      try {
        loop.watch(a, READABLE, () => {});
        await untilParked(loop);
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        loop.watch(c, READABLE, () => {
          libc().read(c, new Uint8Array(4), 4);
          resolve();
        });
        await sleep(5);
        libc().write(d, new Uint8Array([9]), 1);
        await done;
      } finally {
        loop.close();
        await loop.released();
        for (const fd of [a, b, c, d]) libc().close(fd);
      }
    });

    test("closeForFdClose then close: the fd is unregistered and its number serves a new watch", async () => {
      const loop = new Loop({ backend });
      const [a, b] = socketPair();
      let c = -1;
      let d = -1;
      try {
        let stale = 0;
        const w = loop.watch(a, READABLE, () => stale++);
        w.closeForFdClose();
        assert.equal(w.closed, true);
        assert.equal(loop.size, 0);
        libc().close(a);
        libc().write(b, new Uint8Array([1]), 1);
        [c, d] = socketPair();
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        loop.watch(c, READABLE, () => {
          libc().read(c, new Uint8Array(4), 4);
          resolve();
        });
        libc().write(d, new Uint8Array([2]), 1);
        await done;
        assert.equal(stale, 0);
        assert.equal(loop.size, 1);
      } finally {
        loop.close();
        await loop.released();
        for (const fd of [b, c, d]) if (fd >= 0) libc().close(fd);
      }
    });

    test("repeating timers, pause and cancel on the loop", async () => {
      const loop = new Loop({ backend });
      try {
        let count = 0;
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        loop.setInterval((t) => {
          if (++count === 3) {
            t.cancel();
            resolve();
          }
        }, 5);
        const paused = loop.setTimeout(() => assert.fail("paused timer fired"), 10);
        paused.pause();
        await done;
        assert.equal(count, 3);
        assert.equal(paused.state, "paused");
        paused.cancel();
      } finally {
        loop.close();
        await loop.released();
      }
    });

    test("run() blocks until nothing is referenced, then the async mode resumes", () => {
      const loop = new Loop({ backend });
      const [a, b] = socketPair();
      try {
        const order: string[] = [];
        libc().write(b, new Uint8Array([1]), 1);
        const w = loop.watch(a, READABLE, () => {
          libc().read(a, new Uint8Array(4), 4);
          order.push("read");
          w.close();
        });
        loop.setTimeout(() => order.push("timer"), 10);
        loop.run();
        assert.deepEqual(order, ["read", "timer"]);
        // stop() ends run() even with referenced handles.
        const keep = loop.setInterval(() => loop.stop(), 1);
        loop.run();
        keep.cancel();
      } finally {
        loop.close();
        libc().close(a);
        libc().close(b);
      }
    });

    test("turnMs moves on in a blocking run(): each wait starts a new reading (no microtask checkpoint there)", () => {
      const loop = new Loop({ backend });
      try {
        const readings: number[] = [];
        // The second timer is armed by the first: armed together, a run
        // delayed past 40 ms (a loaded machine) fires both in one turn.
        loop.setTimeout(() => {
          readings.push(turnMs());
          loop.setTimeout(() => readings.push(turnMs()), 40);
        }, 1);
        loop.run();
        assert.equal(readings.length, 2);
        assert.ok(readings[1]! - readings[0]! >= 30, `turnMs stood still: ${readings.join(", ")}`);
      } finally {
        loop.close();
      }
    });

    test("errors thrown by callbacks go to onError and the loop goes on", async () => {
      const errors: unknown[] = [];
      const loop = new Loop({ backend, onError: (e) => errors.push(e) });
      try {
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        loop.setTimeout(() => {
          throw new Error("boom");
        }, 1);
        loop.setTimeout(() => resolve(), 5);
        await done;
        assert.equal(errors.length, 1);
      } finally {
        loop.close();
        await loop.released();
      }
    });
  });
}

describe("Loop lifecycle", () => {
  test("close() while parked frees every native resource", async () => {
    const { readdirSync } = await import("node:fs");
    const count = () => readdirSync("/proc/self/fd").length;
    // Warm up helper threads so their own descriptors are counted.
    const warm = new Loop();
    warm.setTimeout(() => {}, 1);
    await sleep(20);
    warm.close();
    await warm.released();
    await sleep(20);
    const before = count();
    const loop = new Loop();
    const [a, b] = socketPair();
    let closedByLoop = false;
    const w = loop.watch(a, READABLE, () => {});
    w.onLoopClose = () => {
      closedByLoop = true;
    };
    await untilParked(loop);
    loop.close();
    await loop.released();
    assert.equal(closedByLoop, true);
    assert.equal(w.closed, true);
    libc().close(a);
    libc().close(b);
    await sleep(50);
    assert.ok(count() <= before, `fds before ${before}, after ${count()}`);
    assert.throws(() => loop.watch(a, READABLE, () => {}), UseAfterCloseError);
  });

  test("a watch made by an onLoopClose callback is refused, so nothing outlives close()", async () => {
    const loop = new Loop();
    const [a, b] = socketPair();
    const [c, d] = socketPair();
    let refused: unknown;
    loop.watch(a, READABLE, () => {}).onLoopClose = () => {
      // A close callback reconnecting: the loop is going away under it.
      try {
        loop.watch(c, READABLE, () => {});
      } catch (err) {
        refused = err;
      }
    };
    loop.close();
    await loop.released();
    assert.ok(refused instanceof UseAfterCloseError, `got ${String(refused)}`);
    assert.equal(loop.size, 0);
    assert.equal(loop.hasRef(), false);
    for (const fd of [a, b, c, d]) libc().close(fd);
  });

  test("close() finishes even when a watched fd was closed first or onError throws, and says so after", async () => {
    for (const cause of ["closed fd", "throwing onError"] as const) {
      const loop = new Loop({
        onError: (err) => {
          throw new Error("onError failed", { cause: err });
        },
      });
      const [a, b] = socketPair();
      const [c, d] = socketPair();
      loop.watch(a, READABLE, () => {});
      const w = loop.watch(c, READABLE, () => {});
      if (cause === "closed fd") libc().close(a); // epoll: EBADF when the watcher is removed
      else {
        w.onLoopClose = () => {
          throw new Error("owner failed");
        };
      }
      let thrown: unknown;
      try {
        loop.close();
      } catch (err) {
        thrown = err;
      }
      if (cause === "throwing onError") assert.equal((thrown as Error).message, "onError failed", String(thrown));
      else if (loop.backendName === "epoll") assert.ok(thrown !== undefined, "EBADF is reported");
      assert.equal(loop.closed, true);
      assert.equal(loop.size, 0);
      await loop.released();
      assert.throws(() => loop.watch(d, READABLE, () => {}), UseAfterCloseError);
      if (cause !== "closed fd") libc().close(a);
      for (const fd of [b, c, d]) libc().close(fd);
    }
  });

  test("the default loop is shared and replaced after close", async () => {
    const loop = defaultLoop();
    assert.equal(defaultLoop(), loop);
    loop.close();
    await loop.released();
    const next = defaultLoop();
    assert.notEqual(next, loop);
    next.close();
    await next.released();
  });
});
