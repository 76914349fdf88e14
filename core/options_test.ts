import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkOptions, optionKeys } from "./options.ts";

describe("checkOptions", () => {
  const keys = optionKeys(["host", "port"], ["signal"]);

  test("known keys and undefined pass", () => {
    checkOptions({ host: "::1", port: 1, signal: undefined }, keys, "connect");
    checkOptions(undefined, keys, "connect");
    checkOptions({}, keys, "connect");
  });

  test("an unknown key is a TypeError naming the call and the key", () => {
    assert.throws(() => checkOptions({ host: "::1", prot: 1 }, keys, "connect"), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /^connect: unknown option "prot"/);
      return true;
    });
    assert.throws(() => checkOptions({ timeout: undefined }, keys, "connect"), TypeError);
  });

  test("non-objects are refused", () => {
    for (const bad of [null, 1, "x", [], true]) {
      assert.throws(() => checkOptions(bad, keys, "listen"), /listen: options must be an object/);
    }
  });

  test("inherited keys are not the caller's options", () => {
    const proto = { bogus: 1 };
    checkOptions(Object.create(proto), keys, "connect");
  });
});
