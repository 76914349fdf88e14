import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runChild } from "./loop_helpers.ts";

const proc = (globalThis as unknown as { process: { platform: string; arch: string } }).process;
const supported = proc.platform === "linux" && (proc.arch === "x64" || proc.arch === "arm64");

describe("io_uring refused (a seccomp filter, as container runtimes install)", () => {
  test("FFINET_IO=uring falls back to readiness: the probe says why, Ring.open throws EPERM, connections work", { skip: !supported }, async () => {
    const { code, stdout, stderr } = await runChild("uring_fixture_seccomp.ts", [], 60_000, { FFINET_IO: "uring", DENO_NO_UPDATE_CHECK: "1" });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const line = stdout.trim().split("\n").at(-1)!;
    const got = JSON.parse(line);
    assert.deepEqual(got, {
      io: "readiness",
      chosen: "readiness",
      available: false,
      reason: "io_uring_setup failed: EPERM",
      ringError: { name: "SocketError", code: "EPERM" },
      echoed: "ping",
    });
  });

  test("FFINET_IO unset (the default, io_uring on Linux 6.1+) falls back to readiness: the probe says why, connections work", { skip: !supported }, async () => {
    const { code, stdout, stderr } = await runChild("uring_fixture_seccomp.ts", [], 60_000, { FFINET_IO: "", DENO_NO_UPDATE_CHECK: "1" });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const got = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(got, {
      io: "readiness",
      chosen: "readiness",
      available: false,
      reason: "io_uring_setup failed: EPERM",
      ringError: { name: "SocketError", code: "EPERM" },
      echoed: "ping",
    });
    assert.doesNotMatch(stderr, /FFINET_IO/, "no warning: unset is not a wrong value");
  });

  test("a loop's ring refused after the probe passed (ENOMEM, as RLIMIT_MEMLOCK before 5.12): readiness, io \"uring\" asked or not", { skip: !supported }, async () => {
    const { code, stdout, stderr } = await runChild("uring_fixture_seccomp.ts", ["large"], 60_000, { FFINET_IO: "uring", DENO_NO_UPDATE_CHECK: "1" });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const got = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(got, {
      availableAtFirst: true,
      io: "readiness",
      chosen: "readiness",
      available: false,
      reason: "io_uring_setup failed: ENOMEM",
      ringError: { name: "SocketError", code: "ENOMEM" },
      echoed: "ping",
    });
  });
});
