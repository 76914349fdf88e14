import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { WriteQueue } from "./write_queue.ts";

/** Detaches `buffer` as the server frees a sent body (transfer where there is one, else a transferring structuredClone: Node 20). */
function detach(buffer: ArrayBufferLike): void {
  const transfer = (buffer as { transfer?: (n?: number) => ArrayBuffer }).transfer;
  if (typeof transfer === "function") transfer.call(buffer, 0);
  else structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

describe("WriteQueue", () => {
  test("matches a model under any mix of pushes, partial consumes and failures (recycled chunks never leak data or callbacks)", () => {
    type Step = { op: "push"; size: number; cb: boolean } | { op: "consume"; fraction: number } | { op: "fail" };
    const step = fc.oneof(
      fc.record({ op: fc.constant("push" as const), size: fc.nat(40), cb: fc.boolean() }),
      fc.record({ op: fc.constant("consume" as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ op: fc.constant("fail" as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps: Step[]) => {
        // Two queues share the chunk pool, as connections do.
        const queues = [new WriteQueue(), new WriteQueue()];
        const models = [[] as { bytes: number[]; id: number }[], [] as { bytes: number[]; id: number }[]];
        const settled: string[] = [];
        const expected: string[] = [];
        let next = 0;
        steps.forEach((s, i) => {
          const q = i % 2;
          const queue = queues[q]!;
          const model = models[q]!;
          if (s.op === "push") {
            const id = next++;
            const bytes = Array.from({ length: s.size }, (_, k) => (id * 7 + k) & 0xff);
            queue.push(new Uint8Array(bytes), s.cb ? (err) => settled.push(`${id}:${err ? "fail" : "ok"}`) : undefined);
            model.push({ bytes, id: s.cb ? id : -1 });
          } else if (s.op === "consume") {
            const total = model.reduce((a, c) => a + c.bytes.length, 0);
            const n = Math.floor(total * s.fraction);
            // What the queue would hand the kernel next.
            const out = new Uint8Array(n);
            assert.equal(queue.copyTo(out), n);
            assert.deepEqual([...out], model.flatMap((c) => c.bytes).slice(0, n));
            queue.consume(n);
            let left = n;
            while (model.length > 0 && left >= model[0]!.bytes.length) {
              const c = model.shift()!;
              left -= c.bytes.length;
              if (c.id >= 0) expected.push(`${c.id}:ok`);
              if (left === 0 && model.length > 0 && model[0]!.bytes.length > 0) break;
            }
            if (left > 0) model[0]!.bytes = model[0]!.bytes.slice(left);
          } else {
            queue.fail(new Error("gone"));
            for (const c of model.splice(0)) if (c.id >= 0) expected.push(`${c.id}:fail`);
          }
          assert.equal(queue.bytes, model.reduce((a, c) => a + c.bytes.length, 0));
          assert.equal(queue.empty, model.length === 0);
          const head = queue.head();
          assert.deepEqual(head === undefined ? undefined : [...head], model[0]?.bytes);
        });
        assert.deepEqual(settled, expected);
      }),
      { numRuns: 300 },
    );
  });

  test("a callback that fails the queue and queues again: the new bytes are not charged with the old ones", () => {
    const q = new WriteQueue();
    const results: string[] = [];
    q.push(new Uint8Array(4), () => {
      results.push("a");
      q.fail(new Error("reset"));
      q.push(new Uint8Array([1, 2, 3, 4, 5, 6]), (err) => results.push(err ? "c failed" : "c"));
    });
    q.push(new Uint8Array(6), (err) => results.push(err ? "b failed" : "b"));
    q.consume(10);
    assert.deepEqual(results, ["a", "b failed"]);
    assert.equal(q.bytes, 6);
    assert.deepEqual([...q.head()!], [1, 2, 3, 4, 5, 6]);
  });

  test("a callback that queues more while being settled gets a fresh entry", () => {
    const q = new WriteQueue();
    const order: string[] = [];
    q.push(new Uint8Array(2), () => {
      order.push("first");
      q.push(new Uint8Array([9, 9, 9]), () => order.push("second"));
    });
    q.consume(2);
    assert.deepEqual(order, ["first"]);
    assert.deepEqual([...q.head()!], [9, 9, 9]);
    q.consume(3);
    assert.deepEqual(order, ["first", "second"]);
    assert.equal(q.empty, true);
  });
  test("a chunk copied out and then detached by its owner still counts its bytes: the next chunk is not charged for them", () => {
    // io_uring queues a caller's view whose bytes it copied into a send
    // buffer at once; the server then frees (detaches) a taken body. Before,
    // the detached chunk counted as empty and its bytes were taken off the
    // next chunk, which then lost them on the wire.
    const q = new WriteQueue();
    const body = new Uint8Array(4096).fill(7);
    const settled: string[] = [];
    q.push(body, () => settled.push("body"));
    const sendBuffer = new Uint8Array(8192);
    assert.equal(q.copyTo(sendBuffer), 4096);
    detach(body.buffer);
    assert.equal(body.length, 0, "detached");
    const next = Uint8Array.from([1, 2, 3, 4, 5]);
    q.push(next, () => settled.push("next"));
    assert.equal(q.bytes, 4096 + 5);
    q.consume(4096); // the send buffer's bytes went
    assert.deepEqual(settled, ["body"]);
    assert.equal(q.bytes, 5);
    assert.deepEqual([...q.head()!], [1, 2, 3, 4, 5], "the next chunk is whole");
    q.consume(5);
    assert.deepEqual(settled, ["body", "next"]);
    assert.equal(q.empty, true);
  });
});
