// The resolver's cache against a server that answers with more than the
// question (client red team follow-up; RFC 5452 §6/§9-style acceptance,
// RFC 2181 §5.4.1, RFC 2308 §5): records in the answer section are taken
// and cached only for the question name and the names its CNAME chain
// reaches in the same answer; other answer records, and every authority
// and additional record, never reach the address cache; a negative answer
// is cached only with an SOA (class IN) of the zone it is about (the name
// itself or an ancestor), for min(SOA TTL, MINIMUM) (top bit set: 0),
// capped at maxNegativeTtl. A raw node:dgram server answers with crafted
// messages; a ManualClock drives the cache's time.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { DNSError } from "../core/errors.ts";
import { ManualClock } from "../core/clock.ts";
import { DNSCache } from "../dns/cache.ts";
import type { ResourceRecord } from "../dns/records.ts";
import { Resolver } from "../dns/resolver.ts";
import { decodeMessage, type DNSMessage, encodeMessage, type MessageInit } from "../dns/wire.ts";
import { defaultLoop } from "../poll/loop.ts";

type Script = (q: DNSMessage) => Omit<MessageInit, "id" | "questions">;

interface Server {
  readonly address: string;
  /** Questions asked, as "name type". */
  readonly asked: string[];
}

const sockets: dgram.Socket[] = [];
before(() => new Promise<void>((resolve) => void defaultLoop().setTimeout(() => resolve(), 1)));
after(async () => {
  for (const s of sockets) await new Promise<void>((r) => s.close(() => r()));
});

async function startServer(script: Script): Promise<Server> {
  const udp = dgram.createSocket("udp4");
  sockets.push(udp);
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
  const asked: string[] = [];
  udp.on("message", (msg, rinfo) => {
    const q = decodeMessage(new Uint8Array(msg));
    asked.push(`${q.questions[0]!.name} ${q.questions[0]!.type}`);
    const init = script(q);
    const bytes = encodeMessage({ ...init, id: q.id, questions: q.questions, flags: { qr: true, rd: true, ra: true, ...init.flags } });
    udp.send(bytes, rinfo.port, rinfo.address);
  });
  return { address: `127.0.0.1:${(udp.address() as AddressInfo).port}`, asked };
}

const A = (name: string, address: string, ttl = 300): ResourceRecord => ({ name, type: 1, class: 1, ttl, data: { kind: "A", address } });
const CNAME = (name: string, target: string, ttl = 300): ResourceRecord => ({ name, type: 5, class: 1, ttl, data: { kind: "CNAME", target } });
const SOA = (name: string, ttl: number, minimum: number, cls = 1): ResourceRecord => ({
  name,
  type: 6,
  class: cls,
  ttl,
  data: { kind: "SOA", mname: "ns.zone", rname: "admin.zone", serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum },
});
const NXDOMAIN = 3;

function setup(server: Server, clock = new ManualClock(0)): { resolver: Resolver; cache: DNSCache; clock: ManualClock } {
  const cache = new DNSCache({ clock, maxNegativeTtl: 3600 });
  const resolver = new Resolver({ servers: [server.address], hostsPath: null, timeoutMs: 2000, attempts: 1, search: [], cache });
  return { resolver, cache, clock };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof DNSError, String(e));
    assert.equal(e.code, code, String(e));
    return true;
  });
}

describe("dns cache: what an answer may put in the cache", () => {
  test("answer records for other names (A, a CNAME not on the chain) are ignored and never cached", async () => {
    const server = await startServer(() => ({
      answers: [
        A("victim.test", "6.6.6.6"),
        CNAME("other.test", "victim.test"),
        A("ask.test", "10.0.0.1"),
        CNAME("ask.test.evil", "victim.test"),
      ],
    }));
    const { resolver, cache } = setup(server);
    const got = await resolver.resolve("ask.test", "A");
    assert.deepEqual(got.map((r) => r.data), [{ kind: "A", address: "10.0.0.1" }]);
    for (const [name, type] of [["victim.test", 1], ["other.test", 5], ["other.test", 1], ["ask.test.evil", 5], ["ask.test.evil", 1]] as const) {
      assert.equal(cache.get(name, type), undefined, `${name} ${type} cached`);
    }
    assert.equal(cache.get("ask.test", 1)?.kind, "records");
  });

  test("authority and additional records never populate the address cache", async () => {
    const server = await startServer(() => ({
      answers: [A("ask.test", "10.0.0.1")],
      authorities: [A("victim.test", "6.6.6.6"), { name: "test", type: 2, class: 1, ttl: 300, data: { kind: "NS", target: "victim.test" } }],
      additionals: [A("victim.test", "6.6.6.7"), A("ns.test", "6.6.6.8")],
    }));
    const { resolver, cache } = setup(server);
    await resolver.resolve("ask.test", "A");
    assert.equal(cache.get("victim.test", 1), undefined);
    assert.equal(cache.get("ns.test", 1), undefined);
    assert.equal(cache.get("test", 2), undefined);
  });

  test("a CNAME chain caches the names it reaches from the question; records beside it for other names are not", async () => {
    const server = await startServer(() => ({
      answers: [
        CNAME("start.test", "mid.test"),
        A("side.test", "6.6.6.6"),
        CNAME("mid.test", "end.test"),
        CNAME("side2.test", "end.test"),
        A("end.test", "10.0.0.2"),
      ],
    }));
    const { resolver, cache } = setup(server);
    const got = await resolver.resolve("start.test", "A");
    assert.deepEqual(got.map((r) => r.data), [{ kind: "A", address: "10.0.0.2" }]);
    for (const name of ["start.test", "mid.test", "end.test"]) assert.equal(cache.get(name, 1)?.kind, "records", name);
    assert.equal(cache.get("side.test", 1), undefined);
    assert.equal(cache.get("side2.test", 5), undefined);
    assert.equal(cache.get("side2.test", 1), undefined);
  });

  test("a CNAME of another class does not extend the chain", async () => {
    const server = await startServer(() => ({
      answers: [{ ...CNAME("start.test", "victim.test"), class: 3 }, A("victim.test", "6.6.6.6")],
    }));
    const { resolver, cache } = setup(server);
    await rejectsWith(resolver.resolve("start.test", "A"), "ENODATA");
    assert.equal(cache.get("victim.test", 1), undefined);
  });
});

describe("dns cache: negative answers (RFC 2308 §5)", () => {
  test("NXDOMAIN with the zone's SOA is cached for min(SOA TTL, MINIMUM), counted down", async () => {
    const server = await startServer(() => ({ flags: { rcode: NXDOMAIN }, authorities: [SOA("example.test", 120, 60)] }));
    const { resolver, cache, clock } = setup(server);
    await rejectsWith(resolver.resolve("gone.example.test", "A"), "ENOTFOUND");
    assert.deepEqual(cache.get("gone.example.test", 28), { kind: "nxdomain" });
    await rejectsWith(resolver.resolve("gone.example.test", "A"), "ENOTFOUND");
    assert.equal(server.asked.length, 1);
    clock.advance(59_000);
    assert.deepEqual(cache.get("gone.example.test", 1), { kind: "nxdomain" });
    clock.advance(1_000);
    assert.equal(cache.get("gone.example.test", 1), undefined);
  });

  test("an SOA whose owner is not the name or an ancestor (another zone, a child, a label-wise false suffix) is not cached", async () => {
    const owners = ["victim.test", "deeper.gone.example.test", "le.test", "e.test"];
    let i = 0;
    const server = await startServer(() => ({ flags: { rcode: NXDOMAIN }, authorities: [SOA(owners[i++ % owners.length]!, 3000, 3000)] }));
    const { resolver, cache } = setup(server);
    for (let k = 0; k < owners.length; k++) {
      await rejectsWith(resolver.resolve("gone.example.test", "A"), "ENOTFOUND");
      assert.equal(cache.get("gone.example.test", 1), undefined, String(owners[k]));
    }
    assert.equal(server.asked.length, owners.length);
  });

  test("NODATA: cached with the name's own SOA (a zone apex) or the root's, not with another zone's or a class other than IN", async () => {
    const soas: Record<string, ResourceRecord> = {
      "apex.test": SOA("apex.test", 100, 100),
      "rooted.test": SOA(".", 100, 100),
      "other.test": SOA("elsewhere.test", 100, 100),
      "chaos.test": SOA("chaos.test", 100, 100, 3),
    };
    const server = await startServer((q) => ({ authorities: [soas[q.questions[0]!.name]!] }));
    const { resolver, cache } = setup(server);
    for (const name of Object.keys(soas)) await rejectsWith(resolver.resolve(name, "A"), "ENODATA");
    assert.deepEqual(cache.get("apex.test", 1), { kind: "nodata" });
    assert.deepEqual(cache.get("rooted.test", 1), { kind: "nodata" });
    assert.equal(cache.get("other.test", 1), undefined);
    assert.equal(cache.get("chaos.test", 1), undefined);
  });

  test("the TTL is capped at maxNegativeTtl, and a TTL or MINIMUM with the top bit set counts as 0", async () => {
    const soas: Record<string, ResourceRecord> = {
      "long.test": SOA("long.test", 1_000_000, 1_000_000),
      "topttl.test": SOA("topttl.test", 0xffffffff, 300),
      "topmin.test": SOA("topmin.test", 300, 0x80000000),
    };
    const server = await startServer((q) => ({ flags: { rcode: NXDOMAIN }, authorities: [soas[q.questions[0]!.name]!] }));
    const { resolver, cache, clock } = setup(server);
    for (const name of Object.keys(soas)) await rejectsWith(resolver.resolve(name, "A"), "ENOTFOUND");
    assert.equal(cache.get("topttl.test", 1), undefined);
    assert.equal(cache.get("topmin.test", 1), undefined);
    clock.advance(3_599_000);
    assert.deepEqual(cache.get("long.test", 1), { kind: "nxdomain" });
    clock.advance(1_000);
    assert.equal(cache.get("long.test", 1), undefined);
  });

  test("NXDOMAIN at the end of a CNAME chain: the target's zone SOA caches NODATA for the pair asked; the question's zone SOA does not", async () => {
    const server = await startServer((q) => {
      const n = q.questions[0]!.name;
      return {
        flags: { rcode: NXDOMAIN },
        answers: [CNAME(n, "gone.target.zone")],
        authorities: [SOA(n === "good.test" ? "target.zone" : "test", 100, 100)],
      };
    });
    const { resolver, cache } = setup(server);
    await rejectsWith(resolver.resolve("good.test", "A"), "ENOTFOUND");
    await rejectsWith(resolver.resolve("bad.test", "A"), "ENOTFOUND");
    assert.deepEqual(cache.get("good.test", 1), { kind: "nodata" });
    assert.equal(cache.get("good.test", 28), undefined); // only the pair: the name itself exists
    assert.equal(cache.get("bad.test", 1), undefined);
    assert.equal(cache.get("gone.target.zone", 1), undefined);
  });
});
