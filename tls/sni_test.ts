import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { matchServername } from "./sni.ts";

describe("tls/sni", () => {
  const names = ["example.com", "*.example.com", "Other.Test"];
  test("exact names first, case-insensitive, a trailing dot ignored", () => {
    assert.equal(matchServername("example.com", names), "example.com");
    assert.equal(matchServername("EXAMPLE.com.", names), "example.com");
    assert.equal(matchServername("other.test", names), "Other.Test");
  });
  test("a wildcard covers exactly one label", () => {
    assert.equal(matchServername("www.example.com", names), "*.example.com");
    assert.equal(matchServername("a.b.example.com", names), undefined);
    assert.equal(matchServername("example.org", names), undefined);
    assert.equal(matchServername("", names), undefined);
    assert.equal(matchServername(".example.com", names), undefined);
  });
});
