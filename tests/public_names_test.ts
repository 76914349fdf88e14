import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as poll from "../poll/mod.ts";
import * as socket from "../socket/mod.ts";

// The root module re-exports socket/ (blocking) and poll/ (async) side by
// side: a name in both would be dropped from `export *` (an ambiguous star
// export), so blocking helpers carry a `Sync` suffix.
describe("blocking and async names are told apart", () => {
  test("socket/ and poll/ export no name in common", () => {
    const shared = Object.keys(socket).filter((name) => Object.hasOwn(poll, name));
    assert.deepEqual(shared, []);
  });

  test("the blocking helpers end in Sync; the async ones are poll's", () => {
    for (const name of ["connectTCPSync", "listenTCPSync", "connectUnixSync", "listenUnixSync", "socketPair"]) {
      assert.equal(typeof (socket as Record<string, unknown>)[name], "function", name);
    }
    for (const name of ["connectTCP", "listenTCP", "connectUnix", "listenUnix"]) {
      assert.equal(Object.hasOwn(socket, name), false, `socket/ still exports ${name}`);
    }
    for (const name of ["connect", "listen", "connectUnix", "listenUnix", "adopt"]) {
      assert.equal(typeof (poll as Record<string, unknown>)[name], "function", name);
    }
  });
});
