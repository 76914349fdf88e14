// "localhost" in any letter case is the name connecting takes as 127.0.0.1 without a lookup
// (names compare without regard to case, RFC 4343): "LOCALHOST" went through the resolver and
// Happy Eyeballs (which tried ::1 first) while "localhost" connected to 127.0.0.1.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Resolver } from "../dns/resolver.ts";
import { connect } from "../poll/connect.ts";
import { listen } from "../poll/listener.ts";
import { isLocalhost } from "../socket/address.ts";
import { isHostName } from "../socket/happy_eyeballs_connect.ts";

/** A resolver that counts its lookups. */
function countingResolver(): { resolver: Resolver; asked: () => number } {
  const resolver = new Resolver();
  let asked = 0;
  const lookup = resolver.lookup.bind(resolver) as (...args: unknown[]) => unknown;
  (resolver as unknown as { lookup: (...args: unknown[]) => unknown }).lookup = (...args) => {
    asked++;
    return lookup(...args);
  };
  return { resolver, asked: () => asked };
}

describe("localhost in any letter case", () => {
  test("isLocalhost and isHostName: every case of 'localhost', nothing else", () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }), (upper) => {
      const name = [..."localhost"].map((ch, i) => upper[i] ? ch.toUpperCase() : ch).join("");
      assert.equal(isLocalhost(name), true);
      assert.equal(isHostName(name), false);
    }));
    for (const other of ["localhost.", "localhost.example", "xlocalhost", "localhos", "", "127.0.0.1"]) {
      assert.equal(isLocalhost(other), false, other);
    }
    assert.equal(isHostName("localhost.example"), true);
  });

  test("connect({ host: 'LocalHost' }) reaches 127.0.0.1 without asking the resolver", async () => {
    const listener = listen({ host: "127.0.0.1", port: 0, handler: { data: () => {} } });
    const { resolver, asked } = countingResolver();
    try {
      const connection = await connect({ host: "LocalHost", port: listener.port, resolver });
      try {
        const remote = connection.remoteAddress;
        assert.equal(remote.family, "ipv4");
        assert.equal((remote as { host: string }).host, "127.0.0.1");
        assert.equal(asked(), 0);
      } finally {
        connection.abort();
      }
    } finally {
      listener.close();
    }
  });
});
