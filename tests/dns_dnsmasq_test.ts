/**
 * The resolver against dnsmasq (a real DNS server) on 127.0.0.1 and a free
 * port with a test zone: A, AAAA, CNAME chains, MX, SRV, TXT, PTR,
 * NXDOMAIN, NODATA, names from dnsmasq's hosts file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DNSError } from "../core/errors.ts";
import { Resolver } from "../dns/resolver.ts";
import { type Dnsmasq, startDnsmasq } from "./dns_helpers.ts";

let server: Dnsmasq;
let resolver: Resolver;
before(async () => {
  server = await startDnsmasq({ ipv6: true });
  resolver = new Resolver({ servers: [server.address], hostsPath: null, search: [], timeoutMs: 2000, attempts: 2 });
});
after(async () => {
  await server?.close();
});

const data = (rs: { data: unknown }[]) => rs.map((r) => r.data);

describe("dns resolver against dnsmasq", () => {
  test("A, AAAA and lookup of both families", async () => {
    assert.deepEqual(data(await resolver.resolve("www.zone.test", "A")), [{ kind: "A", address: "10.0.0.1" }]);
    assert.deepEqual(data(await resolver.resolve("www.zone.test", "AAAA")), [{ kind: "AAAA", address: "fd00::1" }]);
    assert.deepEqual(await resolver.lookup("www.zone.test"), [{ address: "10.0.0.1", family: 4 }, { address: "fd00::1", family: 6 }]);
    const multi = (await resolver.lookup("multi.zone.test", { family: 4 })).map((a) => a.address).sort();
    assert.deepEqual(multi, ["10.0.0.3", "10.0.0.4"]);
  });
  test("a CNAME chain is followed to the address", async () => {
    const rs = await resolver.resolve("alias2.zone.test", "A");
    assert.deepEqual(data(rs), [{ kind: "A", address: "10.0.0.1" }]);
    assert.deepEqual(data(await resolver.resolve("alias.zone.test", "CNAME")), [{ kind: "CNAME", target: "www.zone.test" }]);
  });
  test("MX, SRV, TXT, PTR", async () => {
    assert.deepEqual(data(await resolver.resolve("zone.test", "MX")), [{ kind: "MX", preference: 10, exchange: "mail.zone.test" }]);
    assert.deepEqual(data(await resolver.resolve("_http._tcp.zone.test", "SRV")), [{ kind: "SRV", priority: 1, weight: 5, port: 80, target: "www.zone.test" }]);
    const txt = await resolver.resolve("txt.zone.test", "TXT");
    assert.ok(txt[0]!.data.kind === "TXT");
    assert.deepEqual(txt[0]!.data.strings.map((s) => new TextDecoder().decode(s)), ["hello world", "second"]);
    assert.deepEqual(await resolver.reverse("10.0.0.1"), ["www.zone.test"]);
  });
  test("NXDOMAIN and NODATA are typed errors", async () => {
    await assert.rejects(resolver.resolve("missing.zone.test", "A"), (e) => e instanceof DNSError && e.code === "ENOTFOUND");
    await assert.rejects(resolver.resolve("v4only.zone.test", "AAAA"), (e) => e instanceof DNSError && e.code === "ENODATA");
    assert.deepEqual(await resolver.lookup("v4only.zone.test"), [{ address: "10.0.0.9", family: 4 }]);
  });
  test("a server on [::1]: UDP over IPv6, answers matched on the IPv6 address", async () => {
    const v6 = new Resolver({ servers: [server.address6!], hostsPath: null, search: [], timeoutMs: 2000, attempts: 2, cache: false });
    assert.deepEqual(v6.servers, [{ host: "::1", port: server.port }]);
    assert.deepEqual(await v6.lookup("www.zone.test"), [{ address: "10.0.0.1", family: 4 }, { address: "fd00::1", family: 6 }]);
    assert.deepEqual(data(await v6.resolve("alias2.zone.test", "A")), [{ kind: "A", address: "10.0.0.1" }]);
    assert.deepEqual(await v6.reverse("10.0.0.1"), ["www.zone.test"]);
    await assert.rejects(v6.resolve("missing.zone.test", "A"), (e) => e instanceof DNSError && e.code === "ENOTFOUND");
    // Truncated over UDP, taken again over TCP to [::1].
    const big = await v6.resolve("big.zone.test", "TXT");
    assert.ok(big[0]!.data.kind === "TXT");
    assert.deepEqual(big[0]!.data.strings.map((x) => x.length), [250, 250, 250, 250, 250, 250]);
  });
});
