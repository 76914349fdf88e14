import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DeadlineQueue } from "./deadline_queue.ts";

describe("dns/deadline_queue", () => {
  test("deadlines expire in the order added; cancelled ones never fire; the queue empties", async () => {
    const queue = new DeadlineQueue(5);
    const fired: number[] = [];
    let allDone!: () => void;
    const done = new Promise<void>((r) => (allDone = r));
    const entries = Array.from({ length: 6 }, (_, i) => queue.add({
      expire: () => {
        fired.push(i);
        if (i === 5) allDone();
      },
    }));
    queue.cancel(entries[1]!);
    queue.cancel(entries[3]!);
    queue.cancel(entries[3]!); // twice: nothing more
    assert.equal(queue.live, 4);
    await done;
    assert.deepEqual(fired, [0, 2, 4, 5]);
    assert.equal(queue.live, 0);
    queue.cancel(entries[0]!); // expired already: nothing
    assert.equal(queue.live, 0);
  });

  test("cancelling every deadline clears the timer; added again, they fire; a callback may add and cancel", async () => {
    const queue = new DeadlineQueue(1);
    const a = queue.add({ expire: () => assert.fail("cancelled") });
    queue.cancel(a);
    assert.equal(queue.live, 0);
    const order: string[] = [];
    let later!: ReturnType<DeadlineQueue["add"]>;
    await new Promise<void>((resolve) => {
      queue.add({
        expire: () => {
          order.push("first");
          queue.cancel(later);
          queue.add({
            expire: () => {
              order.push("added while firing");
              resolve();
            },
          });
        },
      });
      later = queue.add({ expire: () => void order.push("later") });
    });
    assert.deepEqual(order, ["first", "added while firing"]);
    assert.equal(queue.live, 0);
  });

  test("a bad duration is a RangeError", () => {
    assert.throws(() => new DeadlineQueue(-1), RangeError);
    assert.throws(() => new DeadlineQueue(Number.NaN), RangeError);
  });
});
