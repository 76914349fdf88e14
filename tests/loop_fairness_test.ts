import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFile } from "node:fs/promises";
import { createServer, connect, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { libc } from "../ffi/libc.ts";
import { Loop, MAX_SOON_TURNS, READABLE } from "../poll/loop.ts";
import { yieldSoon } from "../poll/yield.ts";
import { socketPair } from "./loop_helpers.ts";

/**
 * Events after which the busy watcher gives up, once {@link GIVE_UP_MS} has
 * also passed: everything below must have happened long before. Both are
 * needed: a count alone is ~1 s of busy ticks, which a loaded machine's
 * thread pool (the file read below) can outlast without anything being
 * wrong; time alone would not bound a loop that never yields.
 */
const MAX_EVENTS = 200_000;
const GIVE_UP_MS = 20_000;

/**
 * A loop kept busy on every tick: a level-triggered watch on a socket with
 * a byte that is never read. Resolves `stopped` once `stop()` is called or
 * once {@link gaveUp} (both bounds passed).
 */
function busyLoop(onEvent: () => void = () => {}) {
  const loop = new Loop();
  const [a, b] = socketPair();
  libc().write(b, new Uint8Array([1]), 1);
  let resolveStopped!: (gaveUp: boolean) => void;
  const stopped = new Promise<boolean>((r) => (resolveStopped = r));
  const started = performance.now();
  const gaveUp = (): boolean => loop.stats.events >= MAX_EVENTS && performance.now() - started >= GIVE_UP_MS;
  const watcher = loop.watch(a, READABLE, () => {
    onEvent();
    if (gaveUp()) stop(true);
  });
  let done = false;
  function stop(gaveUp = false): void {
    if (done) return;
    done = true;
    watcher.close();
    resolveStopped(gaveUp);
  }
  async function close(): Promise<void> {
    stop();
    loop.close();
    await loop.released();
    libc().close(a);
    libc().close(b);
  }
  return { loop, stopped, stop, close, gaveUp };
}

describe("Loop fairness while every tick is busy", () => {
  test("the runtime's immediates run at least every MAX_SOON_TURNS + 1 ticks; ticks skip the runtime's loop only where yieldSoon exists", async () => {
    const busy = busyLoop();
    try {
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        const each = (): void => {
          seen.push(busy.loop.stats.ticks);
          if (seen.length === 200 || busy.gaveUp()) resolve();
          else setImmediate(each);
        };
        setImmediate(each);
      });
      assert.equal(seen.length, 200, JSON.stringify(busy.loop.stats));
      let widest = 0;
      for (let i = 1; i < seen.length; i++) widest = Math.max(widest, seen[i]! - seen[i - 1]!);
      assert.ok(widest <= MAX_SOON_TURNS + 1, `${widest} ticks between two immediates: ${JSON.stringify(busy.loop.stats)}`);
      if (yieldSoon === undefined) assert.equal(busy.loop.stats.soonTicks, 0);
      else assert.ok(busy.loop.stats.soonTicks > 0, JSON.stringify(busy.loop.stats));
    } finally {
      await busy.close();
    }
  });

  test("runtime timers, file reads and a node:net round trip in the same process complete while the loop stays busy", async () => {
    const busy = busyLoop();
    const server = createServer((s) => s.on("data", (d) => s.write(d)));
    try {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as AddressInfo).port;
      const work = (async () => {
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
        const text = await readFile(fileURLToPath(import.meta.url), "utf8");
        assert.ok(text.includes("loop fairness"));
        const echoed = await new Promise<string>((resolve, reject) => {
          const c = connect(port, "127.0.0.1", () => c.write("ping"));
          c.setEncoding("latin1");
          let got = "";
          c.on("data", (d: string) => {
            got += d;
            if (got.length >= 4) {
              c.destroy();
              resolve(got);
            }
          });
          c.on("error", reject);
        });
        assert.equal(echoed, "ping");
      })();
      const first = await Promise.race([work.then(() => "work" as const), busy.stopped.then(() => "gave up" as const)]);
      assert.equal(first, "work", `the runtime's work did not finish in ${MAX_EVENTS} busy events and ${GIVE_UP_MS} ms: ${JSON.stringify(busy.loop.stats)}`);
      assert.ok(busy.loop.stats.events > 0);
    } finally {
      await busy.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test("a tick begins only after the promise jobs its previous tick started have all run", async () => {
    let chainsStarted = 0;
    let chainsDone = 0;
    let overlapped = 0;
    const busy = busyLoop(() => {
      if (chainsDone !== chainsStarted) overlapped++;
      chainsStarted++;
      void (async () => {
        for (let i = 0; i < 50; i++) await null;
        chainsDone++;
      })();
      if (chainsStarted === 2000) busy.stop();
    });
    try {
      assert.equal(await busy.stopped, false);
      assert.equal(overlapped, 0, JSON.stringify(busy.loop.stats));
      if (yieldSoon !== undefined) assert.ok(busy.loop.stats.soonTicks > 0, JSON.stringify(busy.loop.stats));
    } finally {
      await busy.close();
    }
  });
});
