// DNS answers with bytes after their last record (a server or middlebox
// that pads its datagrams or leaves junk at the end) are read as glibc,
// c-ares and Go's resolver read them: the counted records are the answer,
// the rest is ignored. The resolver threw ERR_DNS_TRAILING_BYTES inside
// and ignored every such datagram, so the lookup failed (EBADRESP) or
// waited out its timeout; over TCP it failed at once. decodeMessage keeps
// refusing trailing bytes unless asked to ignore them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { bindTcpAndUdp, type TcpUdpPair } from "./dns_helpers.ts";
import { DNSError } from "../core/errors.ts";
import { Resolver } from "../dns/resolver.ts";
import { decodeMessage, type DNSMessage, encodeMessage } from "../dns/wire.ts";
import { defaultLoop } from "../poll/loop.ts";

let pair: TcpUdpPair;
/** What follows each answer: set per test. */
let tail = new Uint8Array(0);
/** Answer over UDP with TC set (the resolver then asks over TCP). */
let truncate = false;

function answer(q: DNSMessage, tc: boolean): Uint8Array {
  const name = q.questions[0]!.name;
  const records = q.questions[0]!.type === 28
    ? [{ name, type: 28, class: 1, ttl: 60, data: { kind: "AAAA" as const, address: "2001:db8::7" } }]
    : [{ name, type: 1, class: 1, ttl: 60, data: { kind: "A" as const, address: "10.1.2.3" } }];
  const m = encodeMessage({ id: q.id, questions: q.questions, answers: tc ? [] : records, flags: { qr: true, rd: true, ra: true, tc } });
  return Buffer.concat([m, tail]);
}

before(async () => {
  // One short park first (the loop's helper starts on its first parked wait).
  await new Promise<void>((resolve) => void defaultLoop().setTimeout(() => resolve(), 1));
  pair = await bindTcpAndUdp();
  pair.udp.on("message", (msg, rinfo) => {
    pair.udp.send(answer(decodeMessage(new Uint8Array(msg)), truncate), rinfo.port, rinfo.address);
  });
  pair.tcp.on("connection", (sock) => {
    sock.on("error", () => {});
    let buf = Buffer.alloc(0);
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const reply = answer(decodeMessage(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)))), false);
      sock.end(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
    });
  });
});

after(async () => {
  await new Promise<void>((r) => pair.udp.close(() => r()));
  await new Promise<void>((r) => pair.tcp.close(() => r()));
});

const TAILS: Array<[string, number[]]> = [
  ["4 zero bytes", [0, 0, 0, 0]],
  ["one byte of junk", [0x41]],
  ["a half record", [0xc0, 0x0c, 0, 1, 0, 1, 0]],
];

describe("dns resolver: answers with bytes after the last record", () => {
  for (const [name, bytes] of TAILS) {
    for (const over of ["UDP", "TCP"] as const) {
      test(`${name} after the records, over ${over}: the records are the answer`, async () => {
        tail = Uint8Array.from(bytes);
        truncate = over === "TCP";
        const r = new Resolver({ servers: [`127.0.0.1:${pair.port}`], hostsPath: null, timeoutMs: 2000, attempts: 1, search: [], cache: false });
        assert.deepEqual((await r.resolve("pad.test", "A")).map((x) => x.data), [{ kind: "A", address: "10.1.2.3" }]);
        assert.deepEqual((await r.lookup("pad.test", { family: 6 })).map((x) => x.address), ["2001:db8::7"]);
      });
    }
  }

  test("decodeMessage refuses trailing bytes unless told to ignore them", () => {
    const m = encodeMessage({ id: 9, flags: { qr: true }, questions: [{ name: "a.test", type: 1, class: 1 }] });
    const padded = Uint8Array.from([...m, 0, 0]);
    assert.throws(() => decodeMessage(padded), (e: unknown) => e instanceof DNSError && e.code === "ERR_DNS_TRAILING_BYTES");
    assert.throws(() => decodeMessage(padded, { trailingBytes: "error" }), (e: unknown) => e instanceof DNSError && e.code === "ERR_DNS_TRAILING_BYTES");
    const read = decodeMessage(padded, { trailingBytes: "ignore" });
    assert.equal(read.id, 9);
    assert.equal(read.questions[0]!.name, "a.test");
    // Ignoring trailing bytes never excuses a record cut short.
    assert.throws(() => decodeMessage(m.subarray(0, m.length - 1), { trailingBytes: "ignore" }), (e: unknown) => e instanceof DNSError && e.code === "ERR_DNS_TRUNCATED");
  });
});
