import assert from "node:assert/strict";
import { kill, pid } from "node:process";
import { describe, test } from "node:test";
import { native } from "./native.ts";

// The runtime seams of the Native interface: what poll/yield.ts and
// poll/signals.ts use instead of testing for Deno or process themselves.

/** Resolves after `ms` on a referenced timer (keeps the test alive). */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("Native runtime seams", () => {
  test("yieldToRuntime runs the callback after pending microtasks", async () => {
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      native.yieldToRuntime(() => {
        order.push("yield");
        resolve();
      });
      queueMicrotask(() => order.push("microtask"));
    });
    assert.deepEqual(order, ["microtask", "yield"]);
  });

  test("unrefTimeout fires, and its cancel function stops it", async () => {
    let cancelledFired = false;
    const cancel = native.unrefTimeout(() => (cancelledFired = true), 1);
    cancel();
    const keepAlive = setTimeout(() => {}, 10_000);
    try {
      await new Promise<void>((resolve) => native.unrefTimeout(resolve, 5));
    } finally {
      clearTimeout(keepAlive);
    }
    // The cancelled 1 ms timer was due before the 5 ms one that fired.
    assert.equal(cancelledFired, false);
  });

  test("add/removeSignalListener deliver a signal on the main thread and stop", async () => {
    const seen: string[] = [];
    let resolveSeen!: () => void;
    const delivered = new Promise<void>((resolve) => (resolveSeen = resolve));
    const listener = () => {
      seen.push("SIGUSR2");
      resolveSeen();
    };
    native.addSignalListener("SIGUSR2", listener);
    try {
      kill(pid, "SIGUSR2");
      const keepAlive = setTimeout(() => {}, 10_000);
      await delivered.finally(() => clearTimeout(keepAlive));
    } finally {
      native.removeSignalListener("SIGUSR2", listener);
    }
    assert.deepEqual(seen, ["SIGUSR2"]);
  });

  test("env reads an unset variable as undefined", () => {
    assert.equal(native.env("FFINET_SURELY_NOT_SET_BY_ANYONE"), undefined);
  });
});
