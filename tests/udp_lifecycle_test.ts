import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runChild } from "./loop_helpers.ts";

describe("async UDP and process lifetime", () => {
  test("closed sockets leave nothing that keeps the process alive", async () => {
    const { code, stdout, stderr } = await runChild("udp_fixture_exit.ts", ["closed"], 20_000, { DENO_NO_UPDATE_CHECK: "1" });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), "echo");
  });

  test("an unreferenced socket with a recv() waiting lets the process exit", async () => {
    const { code, stdout, stderr } = await runChild("udp_fixture_exit.ts", ["unref"], 20_000, { DENO_NO_UPDATE_CHECK: "1" });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), "started false");
  });
});
