import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixtureJson } from "./io_fixture_helpers.ts";

const proc = (globalThis as unknown as { process: { platform: string; arch: string } }).process;
const supported = proc.platform === "linux" && (proc.arch === "x64" || proc.arch === "arm64");

/** What the seccomp fixture prints when io_uring_setup is refused with EPERM: readiness, and why. */
const REFUSED_EPERM = {
  io: "readiness",
  chosen: "readiness",
  available: false,
  reason: "io_uring_setup failed: EPERM",
  ringError: { name: "SocketError", code: "EPERM" },
  echoed: "ping",
};

describe("io_uring refused (a seccomp filter, as container runtimes install)", () => {
  test("FFINET_IO=uring falls back to readiness: the probe says why, Ring.open throws EPERM, connections work", { skip: !supported }, async () => {
    const { got } = await fixtureJson("uring_fixture_seccomp.ts", [], "uring");
    assert.deepEqual(got, REFUSED_EPERM);
  });

  test("FFINET_IO unset (the default, io_uring on Linux 6.1+) falls back to readiness: the probe says why, connections work", { skip: !supported }, async () => {
    const { got, stderr } = await fixtureJson("uring_fixture_seccomp.ts", [], "");
    assert.deepEqual(got, REFUSED_EPERM);
    assert.doesNotMatch(stderr, /FFINET_IO/, "no warning: unset is not a wrong value");
  });

  test("a loop's ring refused after the probe passed (ENOMEM, as RLIMIT_MEMLOCK before 5.12): readiness, io \"uring\" asked or not", { skip: !supported }, async () => {
    const { got } = await fixtureJson("uring_fixture_seccomp.ts", ["large"], "uring");
    assert.deepEqual(got, {
      availableAtFirst: true,
      ...REFUSED_EPERM,
      reason: "io_uring_setup failed: ENOMEM",
      ringError: { name: "SocketError", code: "ENOMEM" },
    });
  });
});
