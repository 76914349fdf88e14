// The logger option of the resolver (dns/), listen and connect (poll/) and
// the protect gate, against real peers on 127.0.0.1: a scripted DNS server
// (node:dgram and node:net) that is silent, answers SERVFAIL, or truncates
// and answers over TCP; real listeners, refused and accepted connects, a
// Happy Eyeballs race to a name with an address nothing listens on.
// Records are collected by a Logger with a sink; without a logger nothing
// is written (and at INFO the resolver writes no per-query line).
import assert from "node:assert/strict";
import { bindTcpAndUdp } from "./dns_helpers.ts";
import dgram from "node:dgram";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { DNSError } from "../core/errors.ts";
import { Logger, type LogLevel, type LogRecord } from "../core/log.ts";
import type { ResourceRecord } from "../dns/records.ts";
import { Resolver } from "../dns/resolver.ts";
import { decodeMessage, type DNSMessage, encodeMessage, type MessageInit } from "../dns/wire.ts";
import { connect, defaultLoop, listen } from "../poll/mod.ts";
import { ListenProtection } from "../pool/mod.ts";

function recorder(level: LogLevel = "trace", fields?: Record<string, unknown>): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = new Logger({ level, sink: (_line, record) => records.push(record), ...(fields === undefined ? {} : { fields }) });
  return { logger, records };
}

const msgs = (records: readonly LogRecord[]): string[] => records.map((r) => `${r.level} ${r.msg}`);

function find(records: readonly LogRecord[], msg: string): LogRecord {
  const r = records.find((x) => x.msg === msg);
  assert.ok(r !== undefined, `no record "${msg}" in ${JSON.stringify(msgs(records))}`);
  return r;
}

/** Waits (bounded, no timing asserted) for `condition`. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ---- a scripted DNS server on UDP and TCP (one port) ----

type Script = (q: DNSMessage, via: "udp" | "tcp") => Uint8Array[];
interface DnsServer {
  readonly address: string;
  readonly queries: string[];
  close(): Promise<void>;
}
const servers: DnsServer[] = [];
// The loop's first parked wait starts its helper (slow on a loaded machine): once, before any timing.
before(() => new Promise<void>((resolve) => void defaultLoop().setTimeout(() => resolve(), 1)));
after(async () => {
  for (const s of servers) await s.close();
});

async function dnsServer(script: Script): Promise<DnsServer> {
  {
    const { tcp, udp, port } = await bindTcpAndUdp();
    const queries: string[] = [];
    udp.on("message", (msg, rinfo) => {
      const q = decodeMessage(new Uint8Array(msg));
      queries.push(`udp ${q.questions[0]!.name}`);
      for (const reply of script(q, "udp")) udp.send(reply, rinfo.port, rinfo.address);
    });
    tcp.on("connection", (sock) => {
      let buf = Buffer.alloc(0);
      sock.on("error", () => {});
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const q = decodeMessage(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        queries.push(`tcp ${q.questions[0]!.name}`);
        for (const reply of script(q, "tcp")) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([len, reply]));
        }
      });
    });
    const server: DnsServer = {
      address: `127.0.0.1:${port}`,
      queries,
      close: async () => {
        await new Promise<void>((r) => udp.close(() => r()));
        await new Promise<void>((r) => tcp.close(() => r()));
      },
    };
    servers.push(server);
    return server;
  }
}

function answer(q: DNSMessage, init: Omit<MessageInit, "id"> = {}): Uint8Array {
  return encodeMessage({ id: q.id, questions: q.questions, ...init, flags: { qr: true, rd: true, ra: true, ...init.flags } });
}
const A = (name: string, address: string): ResourceRecord => ({ name, type: 1, class: 1, ttl: 300, data: { kind: "A", address } });
const AAAA = (name: string, address: string): ResourceRecord => ({ name, type: 28, class: 1, ttl: 300, data: { kind: "AAAA", address } });

/** A zone: a.test A 10.0.0.1 (truncated over UDP when `truncate`), dual.test A 127.0.0.1 and AAAA ::1. */
function zone(truncate: boolean): Script {
  return (q, via) => {
    const { name, type } = q.questions[0]!;
    if (truncate && via === "udp") return [answer(q, { flags: { tc: true } })];
    if (name === "a.test" && type === 1) return [answer(q, { answers: [A(name, "10.0.0.1")] })];
    if (name === "dual.test" && type === 1) return [answer(q, { answers: [A(name, "127.0.0.1")] })];
    if (name === "dual.test" && type === 28) return [answer(q, { answers: [AAAA(name, "::1")] })];
    return [answer(q, { flags: { rcode: 3 } })];
  };
}

describe("the resolver's logger", () => {
  test("sent, timed out, failed over, SERVFAIL, truncated to TCP, answered; then a cache hit", async () => {
    const silent = await dnsServer(() => []);
    const servfail = await dnsServer((q) => [answer(q, { flags: { rcode: 2 } })]);
    const good = await dnsServer(zone(true));
    const { logger, records } = recorder("trace");
    const resolver = new Resolver({ servers: [silent.address, servfail.address, good.address], hostsPath: null, search: [], timeoutMs: 200, attempts: 1, logger });
    assert.deepEqual((await resolver.resolve("a.test", "A")).map((r) => r.data), [{ kind: "A", address: "10.0.0.1" }]);
    assert.deepEqual(msgs(records), [
      "debug dns: query sent",
      "warn dns: query timed out",
      "debug dns: failed over",
      "debug dns: query sent",
      "warn dns: server failed",
      "debug dns: failed over",
      "debug dns: query sent",
      "debug dns: truncated, asking over TCP",
      "debug dns: query sent",
      "debug dns: answered",
    ]);
    assert.deepEqual(good.queries, ["udp a.test", "tcp a.test"]);
    const sent = records.filter((r) => r.msg === "dns: query sent");
    assert.deepEqual(sent.map((r) => [r.fields.server, r.fields.transport, r.fields.type, r.fields.name]), [
      [silent.address, "udp", "A", "a.test"],
      [servfail.address, "udp", "A", "a.test"],
      [good.address, "udp", "A", "a.test"],
      [good.address, "tcp", "A", "a.test"],
    ]);
    assert.ok(sent.every((r) => typeof r.fields.id === "number"));
    assert.equal(find(records, "dns: query timed out").fields.timeoutMs, 200);
    const failed = find(records, "dns: server failed");
    assert.equal(failed.fields.rcode, 2);
    assert.equal((failed.fields.error as DNSError).code, "ESERVFAIL");
    assert.deepEqual([records[2]!.fields.from, records[2]!.fields.to], [silent.address, servfail.address]);
    const answered = find(records, "dns: answered");
    assert.deepEqual([answered.fields.server, answered.fields.answers, answered.fields.id], [good.address, 1, sent[3]!.fields.id]);
    records.length = 0;
    await resolver.resolve("a.test", "A");
    assert.deepEqual(msgs(records), ["trace dns: cache hit"]);
  });

  test("rounds retried, every server timing out, the query failing for good; a per-call logger carries the caller's ids", async () => {
    const silent = await dnsServer(() => []);
    const own = recorder("debug");
    const resolver = new Resolver({ servers: [silent.address], hostsPath: null, search: [], timeoutMs: 50, attempts: 2, cache: false, logger: own.logger });
    const call = recorder("debug", { requestId: "req-7" });
    await assert.rejects(resolver.resolve("late.test", "A", { logger: call.logger }), (e) => e instanceof DNSError && e.code === "ETIMEOUT");
    assert.deepEqual(own.records, [], "the call's logger, not the resolver's");
    assert.deepEqual(msgs(call.records), [
      "debug dns: query sent",
      "warn dns: query timed out",
      "debug dns: query retried",
      "debug dns: query sent",
      "warn dns: query timed out",
      "warn dns: query failed",
    ]);
    assert.ok(call.records.every((r) => r.fields.requestId === "req-7"));
    assert.deepEqual([find(call.records, "dns: query retried").fields.round, find(call.records, "dns: query retried").fields.rounds], [2, 2]);
    assert.equal((find(call.records, "dns: query failed").fields.error as DNSError).code, "ETIMEOUT");
  });

  test("at INFO a good query writes nothing; a logger that is no Logger is a TypeError", async () => {
    const good = await dnsServer(zone(false));
    const { logger, records } = recorder("info");
    const resolver = new Resolver({ servers: [good.address], hostsPath: null, search: [], timeoutMs: 500, attempts: 1, logger });
    for (let i = 0; i < 3; i++) await resolver.lookup("dual.test");
    assert.deepEqual(records, []);
    assert.throws(() => new Resolver({ logger: console as unknown as Logger }), TypeError);
    await assert.rejects(resolver.resolve("a.test", "A", { logger: {} as Logger }), TypeError);
  });
});

describe("listen and connect log through their logger", () => {
  test("connect: a refused connect at WARN with the address tried; a connection at DEBUG; listen: listening and closed", async () => {
    const gone = listen({ host: "127.0.0.1", port: 0 });
    const closedPort = gone.port;
    gone.close();
    const { logger, records } = recorder("debug");
    await assert.rejects(connect({ host: "127.0.0.1", port: closedPort, logger }), (e: Error & { code?: string }) => e.code === "ECONNREFUSED");
    const failed = find(records, "connect: failed");
    assert.equal(failed.level, "warn");
    assert.equal(failed.fields.address, `127.0.0.1:${closedPort}`);
    assert.equal((failed.fields.error as { code?: string }).code, "ECONNREFUSED");

    const server = recorder("debug");
    const listener = listen({ host: "127.0.0.1", port: 0, logger: server.logger, handler: { data: (c, d) => void c.send(d) } });
    assert.deepEqual(msgs(server.records), ["debug listen: listening"]);
    assert.equal(server.records[0]!.fields.address, `127.0.0.1:${listener.port}`);
    records.length = 0;
    const conn = await connect({ host: "127.0.0.1", port: listener.port, logger });
    const made = find(records, "connect: connected");
    assert.equal(made.level, "debug");
    assert.equal(made.fields.address, `127.0.0.1:${listener.port}`);
    assert.equal(made.fields.local, `127.0.0.1:${conn.localAddress.family === "unix" ? "" : conn.localAddress.port}`);
    await conn.close();
    listener.close();
    assert.deepEqual(msgs(server.records), ["debug listen: listening", "debug listen: closed"]);
    assert.equal(server.records[1]!.fields.accepted, 1);
    await assert.rejects(connect({ port: 1, logger: {} as Logger }), TypeError);
    assert.throws(() => listen({ port: 0, logger: {} as Logger }), TypeError);
  });

  test("Happy Eyeballs to a name: the resolver's queries and each attempt at DEBUG, with the caller's ids; the refused ::1 attempt names its address", async () => {
    const dns = await dnsServer(zone(false));
    const resolver = new Resolver({ servers: [dns.address], hostsPath: null, search: [], timeoutMs: 500, attempts: 1 });
    const listener = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => void c.send(d) } }); // IPv4 only: the ::1 attempt is refused
    try {
      const { logger, records } = recorder("debug", { requestId: "he-1" });
      const conn = await connect({ host: "dual.test", port: listener.port, resolver, logger, happyEyeballs: { memory: false, resolutionDelayMs: 10_000 } }); // both answers, then ::1 first
      assert.equal(conn.remoteAddress.family, "ipv4");
      await conn.close();
      assert.ok(records.every((r) => r.fields.requestId === "he-1"));
      const dnsSent = records.filter((r) => r.msg === "dns: query sent").map((r) => r.fields.type).sort();
      assert.deepEqual(dnsSent, ["A", "AAAA"]);
      const attempts = records.filter((r) => r.msg === "connect: attempt").map((r) => r.fields.address);
      assert.deepEqual(attempts, ["::1", "127.0.0.1"]);
      const refused = find(records, "connect: attempt failed");
      assert.equal(refused.fields.address, "::1");
      assert.equal(refused.fields.port, listener.port);
      assert.equal((refused.fields.error as { code?: string }).code, "ECONNREFUSED");
      assert.equal(find(records, "connect: attempt won").fields.address, "127.0.0.1");
      assert.equal(find(records, "connect: connected").fields.address, `dual.test:${listener.port}`);
      assert.ok(records.every((r) => r.level === "debug"), JSON.stringify(msgs(records)));
    } finally {
      listener.close();
    }
  });

  test("listen with protect: refusals at DEBUG with the address and the reason, through the listener's logger", async () => {
    const { logger, records } = recorder("debug");
    const protect = new ListenProtection({ maxPerIp: 1 });
    const listener = listen({ host: "127.0.0.1", port: 0, logger, protect, handler: { data: (c, d) => void c.send(d) } });
    const held = await connect({ port: listener.port });
    try {
      await held.write(new Uint8Array([1]));
      assert.ok(await held.read());
      const second = await connect({ port: listener.port }).catch(() => null);
      await until(() => protect.stats().refusedPerIp === 1, "the refusal");
      second?.abort();
      const refused = find(records, "protect: connection refused");
      assert.equal(refused.level, "debug");
      assert.deepEqual([refused.fields.ip, refused.fields.reason], ["127.0.0.1", "perIp"]);
    } finally {
      held.abort();
      listener.close();
    }
    assert.ok(!records.some((r) => r.level !== "debug"), JSON.stringify(msgs(records)));
  });

  test("a protection with a logger of its own writes its refusals there", async () => {
    const listenerLog = recorder("debug");
    const own = recorder("debug");
    const protect = new ListenProtection({ ratePerIp: { perSecond: 0.001, burst: 1 }, logger: own.logger });
    const listener = listen({ host: "127.0.0.1", port: 0, logger: listenerLog.logger, protect, handler: { data: (c, d) => void c.send(d) } });
    try {
      const first = await connect({ port: listener.port });
      await first.write(new Uint8Array([1]));
      assert.ok(await first.read());
      first.abort();
      const second = await connect({ port: listener.port }).catch(() => null);
      await until(() => protect.stats().refusedRate === 1, "the refusal");
      second?.abort();
      assert.deepEqual(own.records.map((r) => [r.msg, r.fields.reason]), [["protect: connection refused", "rate"]]);
      assert.ok(!listenerLog.records.some((r) => r.msg.startsWith("protect:")));
      assert.throws(() => new ListenProtection({ logger: {} as Logger }), TypeError);
    } finally {
      listener.close();
    }
  });
});
