import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../core/clock.ts";
import { LimitError } from "../core/errors.ts";
import { readFileBytes } from "../ffi/read_file.ts";
import { DNSCache } from "./cache.ts";
import { loadHosts, parseHosts } from "./hosts.ts";
import { DEFAULT_RESOLV_CONF, loadResolvConf, parseResolvConf } from "./resolv_conf.ts";

const A = (name: string, address: string, ttl = 60) => ({ name, type: 1, class: 1, ttl, data: { kind: "A" as const, address } });

describe("dns/hosts", () => {
  test("addresses per name, names per address, comments, case, bad lines skipped", () => {
    const t = parseHosts("# c\n127.0.0.1\tlocalhost Local # x\n::1 localhost ip6-localhost\nnot-an-ip foo\n10.0.0.1 Box.Lan\n10.0.0.2 box.lan\nfe80::1%lo link\n");
    assert.deepEqual(t.byName.get("localhost"), ["127.0.0.1", "::1"]);
    assert.deepEqual(t.byName.get("box.lan"), ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(t.byName.get("local"), ["127.0.0.1"]);
    assert.deepEqual(t.byAddress.get("127.0.0.1"), ["localhost", "Local"]);
    assert.equal(t.byName.get("foo"), undefined);
    assert.deepEqual(t.byName.get("link"), ["fe80::1%lo"]);
    assert.equal(parseHosts("1.1.1.1 a b c d\n", 2).byName.size, 2);
  });
  test("repeats are kept once, in file order, however many entries share a name or an address", () => {
    const t = parseHosts("10.0.0.1 a A b\n10.0.0.2 a\n10.0.0.1 a b c\n::1 A\n");
    assert.deepEqual(t.byName.get("a"), ["10.0.0.1", "10.0.0.2", "::1"]);
    assert.deepEqual(t.byAddress.get("10.0.0.1"), ["a", "A", "b", "c"]);
    // One name with 20,000 addresses and one address with 20,000 names (a
    // membership scan per entry made this quadratic).
    let text = "10.9.9.9";
    for (let i = 0; i < 20_000; i++) text += ` n${i}`;
    text += "\n";
    for (let i = 0; i < 20_000; i++) text += `10.0.${i >> 8}.${i & 255} same\n`;
    const big = parseHosts(text + "10.0.0.0 same\n");
    assert.equal(big.byName.get("same")!.length, 20_000);
    assert.equal(big.byName.get("same")![19_999], "10.0.78.31");
    assert.equal(big.byAddress.get("10.9.9.9")!.length, 20_000);
    assert.equal(big.byAddress.get("10.9.9.9")![19_999], "n19999");
  });
  test("IPv6 addresses are kept in one form (RFC 5952): long, upper-case and zoned spellings of one address are one", () => {
    const t = parseHosts("0:0:0:0:0:0:0:1 six\n::0001 six other\nFE80:0::1%lo zoned\n2001:DB8::0:1 doc\n::ffff:192.0.2.1 mapped\n");
    assert.deepEqual(t.byName.get("six"), ["::1"]);
    assert.deepEqual(t.byAddress.get("::1"), ["six", "other"]);
    assert.deepEqual(t.byName.get("zoned"), ["fe80::1%lo"]);
    assert.deepEqual(t.byName.get("doc"), ["2001:db8::1"]);
    assert.deepEqual(t.byAddress.get("2001:db8::1"), ["doc"]);
    assert.equal(t.byName.get("mapped")!.length, 1);
  });
  test("the loader reads a file through libc and a missing file is empty", () => {
    assert.equal(loadHosts("/nonexistent/ffinet/hosts").byName.size, 0);
    assert.ok(loadHosts("package.json").byName.size === 0);
  });
});

describe("dns/resolv_conf", () => {
  test("nameserver, search/domain (last wins), options, comments, clamps", () => {
    const c = parseResolvConf(
      "# x\nnameserver 10.0.0.53\nnameserver ::1 # ok\nnameserver bogus\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n" +
        "domain one.test\nsearch A.test b.test ; trailing\noptions ndots:3 timeout:0 attempts:99 rotate edns0 unknown:1\n",
    );
    assert.deepEqual(c.servers, ["10.0.0.53", "::1", "1.1.1.1"]);
    assert.deepEqual(c.search, ["a.test", "b.test"]);
    assert.equal(c.ndots, 3);
    assert.equal(c.timeout, 1);
    assert.equal(c.attempts, 5);
    assert.equal(c.rotate, true);
    assert.equal(c.edns0, true);
    assert.deepEqual(parseResolvConf("search x.test\ndomain d.test\n").search, ["d.test"]);
    assert.deepEqual(parseResolvConf(""), DEFAULT_RESOLV_CONF);
    assert.deepEqual(parseResolvConf("search " + Array.from({ length: 9 }, (_, i) => `d${i}.test`).join(" ")).search.length, 6);
  });
  test("the loader: a missing file gives the defaults; too large is a LimitError", () => {
    assert.deepEqual(loadResolvConf("/nonexistent/ffinet/resolv.conf"), DEFAULT_RESOLV_CONF);
    assert.throws(() => readFileBytes("package-lock.json", 16), (e) => e instanceof LimitError && e.code === "ERR_FILE_TOO_LARGE");
    assert.equal(readFileBytes("package.json", 1 << 20)?.[0], 0x7b);
  });
});

describe("dns/cache", () => {
  test("positive entries count down and expire; TTL clamps; 0 TTL is not stored", () => {
    const clock = new ManualClock(0);
    const cache = new DNSCache({ clock, minTtl: 5, maxTtl: 100 });
    cache.setRecords("A.test.", 1, [A("a.test", "10.0.0.1", 1000)]);
    clock.advance(30_000);
    const hit = cache.get("a.test", 1);
    assert.ok(hit?.kind === "records");
    assert.equal(hit.records[0]!.ttl, 70);
    clock.advance(70_000);
    assert.equal(cache.get("a.test", 1), undefined);
    cache.setRecords("b.test", 1, [A("b.test", "10.0.0.2", 1)]);
    clock.advance(4_000);
    assert.equal(cache.get("b.test", 1)?.kind, "records");
    const noFloor = new DNSCache({ clock });
    noFloor.setRecords("z.test", 1, [A("z.test", "10.0.0.3", 0)]);
    assert.equal(noFloor.size, 0);
  });
  test("RFC 2181 §8: a TTL with the top bit set counts as 0, not as maxTtl (a hostile server's 0xFFFFFFFF is not kept a day)", () => {
    const cache = new DNSCache({ clock: new ManualClock(0) });
    cache.setRecords("top.test", 1, [A("top.test", "10.0.0.4", 0xffffffff)]);
    cache.setRecords("mixed.test", 1, [A("mixed.test", "10.0.0.5", 60), A("mixed.test", "10.0.0.6", 0x80000000)]);
    cache.setNxdomain("gone.test", 0x80000000);
    cache.setNodata("v4only.test", 28, 0xffffffff);
    assert.equal(cache.size, 0);
    cache.setRecords("max.test", 1, [A("max.test", "10.0.0.7", 0x7fffffff)]);
    const hit = cache.get("max.test", 1);
    assert.ok(hit?.kind === "records");
    assert.equal(hit.records[0]!.ttl, 86_400);
  });
  test("negative caching: NXDOMAIN per name (all types), NODATA per name and type, clamped", () => {
    const clock = new ManualClock(0);
    const cache = new DNSCache({ clock, maxNegativeTtl: 10 });
    cache.setNxdomain("gone.test", 3600);
    cache.setNodata("v4only.test", 28, 60);
    assert.deepEqual(cache.get("gone.test", 1), { kind: "nxdomain" });
    assert.deepEqual(cache.get("GONE.test", 28), { kind: "nxdomain" });
    assert.deepEqual(cache.get("v4only.test", 28), { kind: "nodata" });
    assert.equal(cache.get("v4only.test", 1), undefined);
    clock.advance(10_000);
    assert.equal(cache.get("gone.test", 1), undefined);
    cache.setNxdomain("again.test", 5);
    cache.setRecords("again.test", 1, [A("again.test", "10.0.0.9")]);
    assert.equal(cache.get("again.test", 1)?.kind, "records");
  });
  test("size bound evicts the least recently used; options are checked", () => {
    const cache = new DNSCache({ maxEntries: 2 });
    cache.setRecords("a", 1, [A("a", "10.0.0.1")]);
    cache.setRecords("b", 1, [A("b", "10.0.0.2")]);
    cache.get("a", 1);
    cache.setRecords("c", 1, [A("c", "10.0.0.3")]);
    assert.equal(cache.size, 2);
    assert.equal(cache.get("b", 1), undefined);
    assert.equal(cache.get("a", 1)?.kind, "records");
    assert.throws(() => new DNSCache({ maxEntrys: 1 } as never), TypeError);
    assert.throws(() => new DNSCache({ minTtl: 10, maxTtl: 5 }), RangeError);
  });
});
