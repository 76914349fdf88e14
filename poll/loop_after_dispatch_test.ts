// Loop.afterDispatch: a callback given while the loop dispatches runs once
// every ready descriptor of that wait was handed to its watcher, before the
// next wait; outside a dispatch nothing is taken. A throw goes to onError
// and the callbacks after it still run.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { Loop, READABLE } from "./loop.ts";

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

const backends = libc().epoll_create1 !== undefined ? (["epoll", "poll"] as const) : (["poll"] as const);

for (const backend of backends) {
  describe(`Loop.afterDispatch on ${backend}`, () => {
    test("takes nothing outside a dispatch", () => {
      const loop = new Loop({ backend });
      try {
        let ran = false;
        assert.equal(loop.afterDispatch(() => (ran = true)), false);
        loop.timers.once(0, () => {
          assert.equal(loop.afterDispatch(() => (ran = true)), false, "a timer is not a dispatch");
        });
        loop.run();
        assert.equal(ran, false);
      } finally {
        loop.close();
      }
    });

    test("runs after every ready descriptor of the wait, in order; a throw goes to onError", () => {
      const errors: unknown[] = [];
      const loop = new Loop({ backend, onError: (err) => void errors.push(err) });
      const pairs = [socketPair(), socketPair(), socketPair()];
      const order: string[] = [];
      const scratch = new Uint8Array(16);
      try {
        // All three readable before the loop waits: one wait reports them all.
        for (const [, w] of pairs) assert.equal(libc().write(w, new Uint8Array([1]), 1), 1);
        const watchers = pairs.map(([r], i) =>
          loop.watch(r, READABLE, () => {
            assert.equal(libc().read(r, scratch, scratch.length), 1);
            order.push(`read ${i}`);
            assert.equal(
              loop.afterDispatch(() => {
                order.push(`after ${i}`);
                if (i === 1) throw new Error("after 1 throws");
              }),
              true,
            );
          })
        );
        loop.timers.once(0, () => {
          order.push("timer");
          for (const w of watchers) w.close();
        });
        loop.run();
        const reads = order.slice(0, 3).sort();
        assert.deepEqual(reads, ["read 0", "read 1", "read 2"], `every read before any after-dispatch callback: ${order.join(", ")}`);
        // The callbacks run in the order they were given, the one after the throw too.
        const afters = order.slice(3, 6);
        assert.deepEqual(afters, order.slice(0, 3).map((r) => r.replace("read", "after")));
        assert.equal(order[6], "timer", "timers run after the callbacks");
        assert.equal(errors.length, 1);
        assert.match(String((errors[0] as Error).message), /after 1 throws/);
      } finally {
        loop.close();
        for (const [r, w] of pairs) {
          libc().close(r);
          libc().close(w);
        }
      }
    });
  });
}
