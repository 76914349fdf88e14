import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { libc } from "../../ffi/libc.ts";
import { C } from "../../ffi/platform.ts";
import { Loop, READABLE } from "../../poll/loop.ts";
import { type WorkerJoin, workerSide } from "./serve_workers.ts";

/** A join whose parent link records what the Worker side posts, and lets the test post to it. */
function recordingJoin(): { join: WorkerJoin; posted: unknown[]; send(message: unknown): void; next(): Promise<unknown> } {
  const posted: unknown[] = [];
  let listener: ((message: unknown) => void) | undefined;
  let waiter: ((message: unknown) => void) | undefined;
  const join: WorkerJoin = {
    port: 8080,
    taken: true,
    link: {
      data: undefined,
      postMessage(message) {
        posted.push(message);
        waiter?.(message);
      },
      onMessage(f) {
        listener = f;
      },
      unref() {},
    },
  };
  return {
    join,
    posted,
    send: (message) => listener!(message),
    next: () => new Promise((resolve) => (waiter = resolve)),
  };
}

describe("workerSide", () => {
  test("reports finished after a shutdown even when closing the loop throws, or the shutdown rejects, with the loop released", async () => {
    for (const failing of ["loop close", "shutdown"]) {
      const loop = new Loop();
      const fds = new Int32Array(2);
      assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0, new Uint8Array(fds.buffer)), 0);
      loop.watch(fds[0]!, READABLE, () => {});
      // Closed before its watcher: the loop's close() frees everything, then throws (EBADF).
      if (failing === "loop close") libc().close(fds[0]!);
      const r = recordingJoin();
      let shutdowns = 0;
      workerSide(r.join, async () => {
        shutdowns++;
        if (failing === "shutdown") throw new Error("the server's shutdown failed");
      }, loop);
      assert.deepEqual(r.posted, [{ listening: 8080 }]);
      const finished = r.next();
      r.send({ cmd: "shutdown", deadlineMs: 100 });
      assert.deepEqual(await finished, { finished: true }, failing);
      assert.equal(shutdowns, 1);
      assert.equal(loop.closed, true);
      await loop.released(); // already: finished is posted only after it
      if (failing !== "loop close") libc().close(fds[0]!);
      libc().close(fds[1]!);
    }
  });
});
