import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DNSError } from "../core/errors.ts";
import { seeds } from "../fuzz/dns_wire.ts";
import { canonicalName, decodeName, encodeName, labelsToName, nameLabels } from "./name.ts";
import { RR_TYPE, svcParams, typeNumber } from "./records.ts";
import { decodeMessage, EDNS_UDP_PAYLOAD, encodeMessage, encodeQuery, RCODE } from "./wire.ts";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DNSError, `not a DNSError: ${String(e)}`);
    return e.code;
  }
  assert.fail("no error");
}

describe("dns/name", () => {
  test("text to wire and back, escapes, root, case", () => {
    assert.deepEqual(Array.from(encodeName("a.bc")), [1, 0x61, 2, 0x62, 0x63, 0]);
    assert.deepEqual(Array.from(encodeName(".")), [0]);
    assert.equal(decodeName(encodeName("a\\.b.c"), 0).name, "a\\.b.c");
    assert.equal(decodeName(encodeName("\\000\\255x"), 0).name, "\\000\\255x");
    assert.equal(canonicalName("WWW.Example.COM."), "www.example.com");
    assert.equal(nameLabels("example.com.").length, 2);
  });
  test("the plain-name fast paths of canonicalName and encodeName agree with the label walk, errors included", () => {
    const outcome = (fn: () => unknown): unknown => {
      try {
        return fn();
      } catch (e) {
        assert.ok(e instanceof DNSError, `not a DNSError: ${String(e)}`);
        return e.code;
      }
    };
    const slowEncode = (name: string): Uint8Array => {
      const labels = nameLabels(name);
      return Uint8Array.from([...labels.flatMap((l) => [l.length, ...l]), 0]);
    };
    const slowCanonical = (name: string): string => labelsToName(nameLabels(name)).replace(/[A-Z]/g, (c) => c.toLowerCase());
    const label = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,64}$/),
      fc.string({ maxLength: 6 }),
      fc.constantFrom("\\.", "\\065", "a\\ b", "*", "\u00e9", "x y"),
    );
    const name = fc.tuple(fc.array(label, { maxLength: 130 }), fc.boolean()).map(([ls, dot]) => ls.join(".") + (dot ? "." : ""));
    fc.assert(
      fc.property(name, (n) => {
        assert.deepEqual(outcome(() => canonicalName(n)), outcome(() => slowCanonical(n)));
        assert.deepEqual(outcome(() => encodeName(n)), outcome(() => slowEncode(n)));
      }),
      { numRuns: 2000 },
    );
    for (const n of [Array(127).fill("a").join("."), Array(127).fill("a").join(".") + ".", "a".repeat(63) + ".B", "a".repeat(64)]) {
      assert.deepEqual(outcome(() => canonicalName(n)), outcome(() => slowCanonical(n)));
      assert.deepEqual(outcome(() => encodeName(n)), outcome(() => slowEncode(n)));
    }
  });
  test("over-long labels and names, empty labels", () => {
    assert.equal(code(() => encodeName("a".repeat(64) + ".com")), "ERR_DNS_LABEL_TOO_LONG");
    assert.equal(code(() => encodeName(Array(128).fill("a").join("."))), "ERR_DNS_NAME_TOO_LONG");
    assert.doesNotThrow(() => encodeName(Array(127).fill("a").join(".")));
    assert.equal(code(() => encodeName("a..b")), "ERR_DNS_NAME_INVALID");
    assert.equal(code(() => encodeName("é.\u{1F600}")), "ERR_DNS_NAME_INVALID");
  });
  test("compression pointers: loop, self, forward, out of bounds, label types", () => {
    // b at 0 then a pointer at 2 back to 0: loops
    assert.equal(code(() => decodeName(new Uint8Array([1, 0x62, 0xc0, 0]), 0)), "ERR_DNS_NAME_LOOP");
    assert.equal(code(() => decodeName(new Uint8Array([0xc0, 0]), 0)), "ERR_DNS_NAME_LOOP");
    assert.equal(code(() => decodeName(new Uint8Array([0xc0, 2, 0]), 0)), "ERR_DNS_POINTER_FORWARD");
    assert.equal(code(() => decodeName(new Uint8Array([0xc0, 9]), 0)), "ERR_DNS_POINTER_OUT_OF_BOUNDS");
    assert.equal(code(() => decodeName(new Uint8Array([0x40, 0]), 0)), "ERR_DNS_LABEL_TYPE");
    assert.equal(code(() => decodeName(new Uint8Array([3, 0x61]), 0)), "ERR_DNS_TRUNCATED");
    // A chain of backward pointers whose labels add up past 255 bytes.
    const parts: number[] = [60, ...Array(60).fill(0x61), 0];
    let prev = 0;
    for (let i = 0; i < 4; i++) {
      const here = parts.length;
      parts.push(60, ...Array(60).fill(0x61), 0xc0, prev);
      prev = here;
    }
    assert.ok(prev < 256);
    assert.equal(code(() => decodeName(Uint8Array.from(parts), prev)), "ERR_DNS_NAME_TOO_LONG");
    // good compression: "www" + pointer to "example.com" at 0
    const msg = Uint8Array.from([...encodeName("example.com"), 3, 0x77, 0x77, 0x77, 0xc0, 0]);
    assert.deepEqual(decodeName(msg, 13), { name: "www.example.com", end: msg.length });
  });
});

describe("dns/wire", () => {
  test("a query: header, question, OPT with a 1232-byte payload", () => {
    const q = encodeQuery({ id: 0xbeef, name: "Example.COM", type: "MX" });
    assert.deepEqual(Array.from(q.subarray(0, 12)), [0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    const m = decodeMessage(q);
    assert.equal(m.id, 0xbeef);
    assert.equal(m.flags.rd, true);
    assert.equal(m.flags.qr, false);
    assert.deepEqual(m.questions, [{ name: "Example.COM", type: 15, class: 1 }]);
    assert.deepEqual(m.edns, { udpPayloadSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, options: [] });
    assert.equal(decodeMessage(encodeQuery({ id: 1, name: "a", type: 1, edns: false })).edns, null);
  });
  test("hand-built answers decode: A, MX, TXT via compression; SOA in NXDOMAIN", () => {
    const a = decodeMessage(seeds[1]!);
    assert.equal(a.flags.qr && a.flags.ra && a.flags.rd, true);
    assert.deepEqual(a.answers.map((r) => r.data), [
      { kind: "A", address: "93.184.216.34" },
      { kind: "MX", preference: 10, exchange: "mail.example.com" },
      { kind: "TXT", strings: [new TextEncoder().encode("hello")] },
    ]);
    assert.equal(a.answers[0]!.ttl, 300);
    assert.equal(code(() => decodeMessage(seeds[2]!)), "ERR_DNS_NAME_LOOP");
    const nx = decodeMessage(seeds[3]!);
    assert.equal(nx.rcode, RCODE.NXDOMAIN);
    assert.deepEqual(nx.authorities[0]!.data, {
      kind: "SOA", mname: "ns.test", rname: "host.test", serial: 1, refresh: 3600, retry: 600, expire: 604800, minimum: 60,
    });
  });
  test("every type round-trips, unknown types stay raw, SVCB params parse", () => {
    const answers = [
      { name: "x.test", type: 1, class: 1, ttl: 1, data: { kind: "A", address: "10.1.2.3" } },
      { name: "x.test", type: 28, class: 1, ttl: 2, data: { kind: "AAAA", address: "2001:db8::1" } },
      { name: "x.test", type: 5, class: 1, ttl: 3, data: { kind: "CNAME", target: "y.test" } },
      { name: "test", type: 2, class: 1, ttl: 4, data: { kind: "NS", target: "ns.test" } },
      { name: "1.0.0.127.in-addr.arpa", type: 12, class: 1, ttl: 5, data: { kind: "PTR", target: "localhost" } },
      { name: "x.test", type: 15, class: 1, ttl: 6, data: { kind: "MX", preference: 5, exchange: "mx.test" } },
      { name: "x.test", type: 16, class: 1, ttl: 7, data: { kind: "TXT", strings: [new Uint8Array(255).fill(0x41), new Uint8Array(0)] } },
      { name: "_h._tcp.x.test", type: 33, class: 1, ttl: 8, data: { kind: "SRV", priority: 1, weight: 2, port: 443, target: "x.test" } },
      { name: "x.test", type: 257, class: 1, ttl: 9, data: { kind: "CAA", flags: 128, tag: "issue", value: new TextEncoder().encode("ca.test") } },
      {
        name: "x.test", type: 65, class: 1, ttl: 10,
        data: { kind: "HTTPS", priority: 1, target: ".", params: [{ key: 1, value: Uint8Array.from([2, 0x68, 0x33, 2, 0x68, 0x32]) }, { key: 4, value: Uint8Array.from([1, 2, 3, 4]) }] },
      },
      { name: "x.test", type: 99, class: 1, ttl: 11, data: { kind: "unknown", rdata: Uint8Array.from([9, 8, 7]) } },
    ] as const;
    const bytes = encodeMessage({ id: 9, flags: { qr: true, aa: true }, questions: [{ name: "x.test", type: 255, class: 1 }], answers, edns: { udpPayloadSize: 4096, options: [{ code: 10, data: new Uint8Array(8) }] } });
    const m = decodeMessage(bytes);
    assert.deepEqual(m.answers, answers);
    assert.equal(m.edns?.udpPayloadSize, 4096);
    assert.deepEqual(m.edns?.options, [{ code: 10, data: new Uint8Array(8) }]);
    const https = m.answers[9]!.data;
    assert.ok(https.kind === "HTTPS");
    assert.deepEqual(svcParams(https.params), { alpn: ["h3", "h2"], ipv4hint: ["1.2.3.4"] });
    assert.equal(typeNumber("https"), RR_TYPE.HTTPS);
  });
  test("encodeQuery writes the bytes encodeMessage would", () => {
    const label = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
    const name = fc.oneof(fc.array(label, { minLength: 1, maxLength: 6 }).map((l) => l.join(".")), fc.constantFrom(".", "a\\.b.test", "x.test."));
    fc.assert(
      fc.property(fc.nat(0xffff), name, fc.nat(0xffff), fc.boolean(), fc.constantFrom(true, false, 4096), (id, n, type, rd, edns) => {
        const fast = encodeQuery({ id, name: n, type, rd, edns });
        const reference = encodeMessage({
          id,
          flags: { rd },
          questions: [{ name: n, type, class: 1 }],
          edns: edns === false ? null : { udpPayloadSize: edns === true ? EDNS_UDP_PAYLOAD : edns },
          compress: false,
        });
        assert.deepEqual(fast, reference);
      }),
    );
  });
  test("bad input is a DNSError with a stable code", () => {
    assert.equal(code(() => decodeMessage(new Uint8Array(11))), "ERR_DNS_TRUNCATED");
    assert.equal(code(() => decodeMessage(new Uint8Array(65536))), "ERR_DNS_MESSAGE_TOO_LONG");
    const q = encodeQuery({ id: 1, name: "a.test", type: 1 });
    assert.equal(code(() => decodeMessage(Uint8Array.from([...q, 0]))), "ERR_DNS_TRAILING_BYTES");
    const many = q.slice();
    many[4] = 0xff;
    assert.equal(code(() => decodeMessage(many)), "ERR_DNS_TOO_MANY_RECORDS");
    const aBad = encodeMessage({ id: 1, answers: [{ name: "a", type: 99, class: 1, ttl: 0, data: { kind: "unknown", rdata: new Uint8Array(5) } }] });
    aBad[12 + 3 + 1] = 1; // type 99 -> 1: A with 5 bytes
    assert.equal(code(() => decodeMessage(aBad)), "ERR_DNS_BAD_RDATA");
    assert.equal(code(() => encodeMessage({ id: 1, answers: [{ name: "a", type: 1, class: 1, ttl: 0, data: { kind: "A", address: "::1" } }] })), "ERR_DNS_BAD_RDATA");
    const huge = Array.from({ length: 300 }, () => new Uint8Array(255));
    assert.equal(code(() => encodeMessage({ id: 1, answers: [{ name: "a", type: 16, class: 1, ttl: 0, data: { kind: "TXT", strings: huge } }] })), "ERR_DNS_MESSAGE_TOO_LONG");
  });
});
