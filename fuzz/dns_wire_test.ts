import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DNSError } from "../core/errors.ts";
import type { ResourceRecord } from "../dns/records.ts";
import { decodeMessage, encodeMessage } from "../dns/wire.ts";
import { fuzz, seeds } from "./dns_wire.ts";

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join("."));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((p) => p.map((x) => x.toString(16)).join(":"));

function rr<T extends ResourceRecord["data"]>(type: number, data: fc.Arbitrary<T>): fc.Arbitrary<ResourceRecord> {
  return fc.record({ name, type: fc.constant(type), class: fc.constant(1), ttl: u32, data }).map((r) => structuredClone(r) as ResourceRecord);
}

const record: fc.Arbitrary<ResourceRecord> = fc.oneof(
  rr(1, ipv4.map((address) => ({ kind: "A" as const, address }))),
  rr(5, name.map((target) => ({ kind: "CNAME" as const, target }))),
  rr(12, name.map((target) => ({ kind: "PTR" as const, target }))),
  rr(15, fc.record({ kind: fc.constant("MX" as const), preference: u16, exchange: name })),
  rr(16, fc.record({ kind: fc.constant("TXT" as const), strings: fc.array(bytes(255), { minLength: 1, maxLength: 4 }) })),
  rr(33, fc.record({ kind: fc.constant("SRV" as const), priority: u16, weight: u16, port: u16, target: name })),
  rr(6, fc.record({ kind: fc.constant("SOA" as const), mname: name, rname: name, serial: u32, refresh: u32, retry: u32, expire: u32, minimum: u32 })),
  rr(257, fc.record({ kind: fc.constant("CAA" as const), flags: fc.nat(255), tag: fc.stringMatching(/^[a-z]{1,15}$/), value: bytes(40) })),
  rr(64, fc.record({
    kind: fc.constant("SVCB" as const),
    priority: u16,
    target: name,
    params: fc.uniqueArray(fc.record({ key: u16, value: bytes(20) }), { selector: (p) => p.key, maxLength: 4 }).map((ps) => ps.sort((a, b) => a.key - b.key)),
  })),
  rr(999, bytes(30).map((rdata) => ({ kind: "unknown" as const, rdata }))),
);

// AAAA text is normalised on decode (compressed form): compare through a second round.
const aaaa = rr(28, ipv6.map((address) => ({ kind: "AAAA" as const, address })));

test("fuzz/dns_wire: encode then decode is the identity for generated records", () => {
  fc.assert(
    fc.property(u16, fc.boolean(), fc.array(record, { maxLength: 8 }), fc.array(record, { maxLength: 3 }), (id, compress, answers, authorities) => {
      const m = decodeMessage(encodeMessage({ id, flags: { qr: true, rd: true }, questions: [{ name: "q.test", type: 1, class: 1 }], answers, authorities, compress }));
      assert.equal(m.id, id);
      assert.deepEqual(m.answers, answers);
      assert.deepEqual(m.authorities, authorities);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(aaaa, (r) => {
      const once = decodeMessage(encodeMessage({ id: 1, answers: [r] })).answers;
      assert.deepEqual(decodeMessage(encodeMessage({ id: 1, answers: once })).answers, once);
    }),
    { numRuns: 200 },
  );
});

test("fuzz/dns_wire: every prefix, and mutations, of valid messages give a DNSError or a message", () => {
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), (answers, muts) => {
      const full = encodeMessage({ id: 7, questions: [{ name: "q.test", type: 1, class: 1 }], answers, edns: {} });
      for (let cut = 0; cut < full.length; cut++) {
        assert.throws(() => decodeMessage(full.subarray(0, cut)), (e) => e instanceof DNSError);
      }
      const d = full.slice();
      for (const [i, v] of muts) d[i % d.length] = v;
      fuzz(d);
    }),
    { numRuns: 200 },
  );
});

test("fuzz/dns_wire: random bytes and mutated seeds", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (d) => fuzz(d)), { numRuns: 3000 });
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, muts) => {
      const d = seed.slice();
      for (const [i, v] of muts) d[i % d.length] = v;
      fuzz(d);
    }),
    { numRuns: 3000 },
  );
});
