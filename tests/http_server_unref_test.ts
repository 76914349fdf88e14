// Server.unref(): the listener and the open connections stop keeping the
// process alive (a child process on each runtime exits by itself).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runChild } from "./loop_helpers.ts";

describe("serve unref", () => {
  test("an unref'd server with an open connection lets the process exit", async () => {
    const { code, stdout, stderr } = await runChild("http_server_fixture_unref.ts");
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout.trim()), { connections: 1 });
  });
});
