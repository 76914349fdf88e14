// The resolver against a hostile DNS server on raw node:dgram / node:net
// sockets (client red team, second round; dns_resolver_test covers a wrong
// id or question, another port, a compression loop and garbage over UDP):
// an answer from another address with the server's port is ignored; names
// with a 64-byte label, past 255 bytes or with a forward pointer are
// ignored and never cached; after TC=1 a TCP server that announces 65535
// bytes and stalls, trickles slower than the time limit, closes after the
// length, sends a 5-byte message or answers another id or question ends in
// a DNSError with its code; a CNAME loop and a 40-link chain end (ENODATA),
// 4000 records over TCP are taken whole.
import { after, before, describe, test } from "node:test";
import { bindTcpAndUdp } from "./dns_helpers.ts";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { DNSError } from "../core/errors.ts";
import { DNSCache } from "../dns/cache.ts";
import type { ResourceRecord } from "../dns/records.ts";
import { Resolver } from "../dns/resolver.ts";
import { decodeMessage, type DNSMessage, encodeMessage, type MessageInit } from "../dns/wire.ts";
import { defaultLoop } from "../poll/loop.ts";

type UdpReply = Uint8Array | { bytes: Uint8Array; from: dgram.Socket };
type UdpScript = (q: DNSMessage) => UdpReply[];
type TcpScript = (q: DNSMessage, sock: net.Socket) => void;

interface Server {
  readonly address: string;
  readonly port: number;
  readonly queries: string[];
  close(): Promise<void>;
}

const open: Server[] = [];
const sockets: dgram.Socket[] = [];
// One short park first (the loop's helper starts on its first parked wait), so the tests time DNS only.
before(() => new Promise<void>((resolve) => void defaultLoop().setTimeout(() => resolve(), 1)));
after(async () => {
  for (const s of open) await s.close();
  for (const s of sockets) await new Promise<void>((r) => s.close(() => r()));
});

/** A UDP and a TCP server on one port of 127.0.0.1. */
async function startServer(udpScript: UdpScript, tcpScript: TcpScript = () => {}): Promise<Server> {
  {
    const { tcp, udp, port } = await bindTcpAndUdp();
    const queries: string[] = [];
    udp.on("message", (msg, rinfo) => {
      const q = decodeMessage(new Uint8Array(msg));
      queries.push(`udp ${q.questions[0]!.name}`);
      for (const reply of udpScript(q)) {
        if (reply instanceof Uint8Array) udp.send(reply, rinfo.port, rinfo.address);
        else reply.from.send(reply.bytes, rinfo.port, rinfo.address);
      }
    });
    const conns = new Set<net.Socket>();
    tcp.on("connection", (sock) => {
      conns.add(sock);
      sock.on("close", () => conns.delete(sock));
      let buf = Buffer.alloc(0);
      let done = false;
      sock.on("error", () => {});
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (done || buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        done = true;
        const q = decodeMessage(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        queries.push(`tcp ${q.questions[0]!.name}`);
        tcpScript(q, sock);
      });
    });
    const server: Server = {
      address: `127.0.0.1:${port}`,
      port,
      queries,
      close: async () => {
        for (const c of conns) c.destroy();
        await new Promise<void>((r) => udp.close(() => r()));
        await new Promise<void>((r) => tcp.close(() => r()));
      },
    };
    open.push(server);
    return server;
  }
}

const A = (name: string, address: string, ttl = 300): ResourceRecord => ({ name, type: 1, class: 1, ttl, data: { kind: "A", address } });
const CNAME = (name: string, target: string): ResourceRecord => ({ name, type: 5, class: 1, ttl: 300, data: { kind: "CNAME", target } });

function answer(q: DNSMessage, init: Omit<MessageInit, "id"> = {}): Uint8Array {
  return encodeMessage({ id: q.id, questions: q.questions, ...init, flags: { qr: true, rd: true, ra: true, ...init.flags } });
}
const framed = (bytes: Uint8Array): Buffer => Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
const truncatedOverUdp: UdpScript = (q) => [answer(q, { flags: { tc: true } })];

function resolverFor(server: Server, extra: ConstructorParameters<typeof Resolver>[0] = {}): Resolver {
  return new Resolver({ servers: [server.address], hostsPath: null, timeoutMs: 1000, attempts: 1, search: [], ...extra });
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof DNSError, String(e));
    assert.equal(e.code, code, String(e));
    return true;
  });
}

/**
 * The header and question of `q`'s answer (one A record follows whose
 * owner is `owner`, raw name bytes), for names the encoder refuses to write.
 */
function rawAnswer(q: DNSMessage, owner: number[], address = [6, 6, 6, 6]): Uint8Array {
  const head = answer(q);
  const out = Uint8Array.from([...head, ...owner, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address]);
  out[7] = 1; // ANCOUNT
  return out;
}
const label = (n: number): number[] => [n, ...new Array<number>(n).fill(0x61)];

describe("dns resolver against a hostile server", () => {
  test("an answer from another address with the server's port is ignored; the server's own is taken", async () => {
    let liar: dgram.Socket | undefined;
    const server = await startServer((q) => [
      { bytes: answer(q, { answers: [A(q.questions[0]!.name, "6.6.6.6")] }), from: liar! },
      answer(q, { answers: [A(q.questions[0]!.name, "10.0.0.1")] }),
    ]);
    liar = dgram.createSocket("udp4");
    sockets.push(liar);
    await new Promise<void>((r) => liar!.bind(server.port, "127.0.0.2", r));
    const cache = new DNSCache();
    const r = resolverFor(server, { cache });
    assert.deepEqual((await r.resolve("a.test", "A")).map((x) => x.data), [{ kind: "A", address: "10.0.0.1" }]);
    assert.equal(cache.size, 1);
  });

  const BAD_NAMES: Array<[string, (q: DNSMessage) => Uint8Array]> = [
    ["a 64-byte label", (q) => rawAnswer(q, [...label(64), 0])],
    ["a name past 255 bytes", (q) => rawAnswer(q, [...label(63), ...label(63), ...label(63), ...label(63), 0])],
    ["a pointer forward", (q) => rawAnswer(q, [0xc0, 0xff])],
    ["a pointer past the message", (q) => rawAnswer(q, [0xff, 0xff])],
    ["a pointer to itself", (q) => {
      const bytes = rawAnswer(q, [0xc0, 0]);
      const at = answer(q).length;
      bytes[at + 1] = at;
      return bytes;
    }],
  ];
  for (const [name, make] of BAD_NAMES) {
    test(`an answer with ${name} is ignored and never cached; the good one after it is taken`, async () => {
      const server = await startServer((q) => [make(q), answer(q, { answers: [A(q.questions[0]!.name, "10.0.0.1")] })]);
      const cache = new DNSCache();
      const r = resolverFor(server, { cache });
      assert.deepEqual((await r.resolve("a.test", "A")).map((x) => x.data), [{ kind: "A", address: "10.0.0.1" }]);
      assert.equal(cache.size, 1);
    });
  }

  const TCP: Array<[string, TcpScript, string]> = [
    ["announces 65535 bytes and stalls", (_q, s) => void s.write(Buffer.from([0xff, 0xff, 1, 2, 3])), "ETIMEOUT"],
    ["trickles a byte at a time, slower than the time limit", (q, s) => {
      const bytes = framed(answer(q, { answers: [A(q.questions[0]!.name, "10.0.0.1")] }));
      let i = 0;
      const timer = setInterval(() => {
        if (i >= bytes.length || s.destroyed) return clearInterval(timer);
        s.write(bytes.subarray(i, ++i));
      }, 100);
      s.on("close", () => clearInterval(timer));
    }, "ETIMEOUT"],
    ["closes after the length", (_q, s) => void s.end(Buffer.from([0, 40])), "ECONNREFUSED"],
    ["sends a 5-byte message", (_q, s) => void s.write(Buffer.from([0, 5, 1, 2, 3, 4, 5])), "EBADRESP"],
    ["answers another id", (q, s) => void s.write(framed(encodeMessage({ id: (q.id + 1) & 0xffff, questions: q.questions, flags: { qr: true }, answers: [A(q.questions[0]!.name, "6.6.6.6")] }))), "EBADRESP"],
    ["answers another question", (q, s) => void s.write(framed(encodeMessage({ id: q.id, questions: [{ name: "evil.test", type: 1, class: 1 }], flags: { qr: true }, answers: [A("evil.test", "6.6.6.6")] }))), "EBADRESP"],
    ["answers garbage", (q, s) => void s.write(framed(Uint8Array.from([q.id >> 8, q.id & 0xff, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 9, 9, 9]))), "EBADRESP"],
  ];
  for (const [name, script, code] of TCP) {
    test(`TC=1, then a TCP server that ${name}: ${code}, nothing cached`, async () => {
      const server = await startServer(truncatedOverUdp, script);
      const cache = new DNSCache();
      await rejectsWith(resolverFor(server, { cache }).resolve("a.test", "A"), code);
      assert.deepEqual(server.queries, ["udp a.test", "tcp a.test"]);
      assert.equal(cache.size, 0);
    });
  }

  test("4000 A records over TCP (a 64 kB answer) are taken whole", async () => {
    const many = Array.from({ length: 4000 }, (_, i) => A("big.test", `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
    // Encoded once (the encoder is not what is tested); each answer takes the query's id.
    const whole = encodeMessage({ id: 0, questions: [{ name: "big.test", type: 1, class: 1 }], flags: { qr: true }, answers: many });
    const server = await startServer(truncatedOverUdp, (q, s) => {
      const bytes = whole.slice();
      bytes[0] = q.id >> 8;
      bytes[1] = q.id & 0xff;
      s.write(framed(bytes));
    });
    const got = await resolverFor(server, { timeoutMs: 5000 }).resolve("big.test", "A");
    assert.equal(got.length, 4000);
  });

  test("a CNAME loop (a → b → a) and a 40-link chain without an end are ENODATA, not a hang", async () => {
    const server = await startServer((q) => {
      const n = q.questions[0]!.name;
      if (n === "loop.test") return [answer(q, { answers: [CNAME("loop.test", "b.test"), CNAME("b.test", "loop.test")] })];
      const chain = Array.from({ length: 40 }, (_, i) => CNAME(i === 0 ? n : `c${i}.test`, `c${i + 1}.test`));
      return [answer(q, { answers: chain })];
    });
    const cache = new DNSCache();
    const r = resolverFor(server, { cache });
    await rejectsWith(r.resolve("loop.test", "A"), "ENODATA");
    await rejectsWith(r.resolve("long.test", "A"), "ENODATA");
    // No SOA: nothing negative is cached (RFC 2308 §5), so each is asked again.
    await rejectsWith(r.resolve("loop.test", "A"), "ENODATA");
    assert.equal(server.queries.length, 3);
  });
});
