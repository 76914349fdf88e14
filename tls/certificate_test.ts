import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { TLSError } from "../core/errors.ts";
import { parseCertificate } from "./certificate.ts";

// A minimal hand-built DER certificate (not signed validly: the parser only reads structure).
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = new Uint8Array(content.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of content) { body.set(c, at); at += c.length; }
  const len = body.length < 128 ? [body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Uint8Array.from([tag, ...len, ...body]);
}
const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => new TextEncoder().encode(s);
const CN = bytes(0x55, 0x04, 0x03);
const name = (cn: string) => tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, CN), tlv(0x0c, ascii(cn)))));
const SAN_OID = bytes(0x55, 0x1d, 0x11);

function sampleCertificate(): Uint8Array {
  const alg = tlv(0x30, tlv(0x06, bytes(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02)));
  const sans = tlv(0x30, tlv(0x82, ascii("localhost")), tlv(0x87, bytes(127, 0, 0, 1)), tlv(0x87, bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)));
  const ext = tlv(0xa3, tlv(0x30, tlv(0x30, tlv(0x06, SAN_OID), tlv(0x04, sans))));
  const tbs = tlv(0x30,
    tlv(0xa0, tlv(0x02, bytes(2))),
    tlv(0x02, bytes(0x00, 0x9a, 0x01)),
    alg,
    name("issuer ca"),
    tlv(0x30, tlv(0x17, ascii("240101000000Z")), tlv(0x18, ascii("20991231235959Z"))),
    name("localhost"),
    tlv(0x30, alg, tlv(0x03, bytes(0, 4, 1, 2))),
    ext,
  );
  return tlv(0x30, tbs, alg, tlv(0x03, bytes(0, 1)));
}

describe("tls/certificate", () => {
  test("reads subject, issuer, SANs, serial, validity, fingerprints", () => {
    const c = parseCertificate(sampleCertificate());
    assert.equal(c.subject, "CN=localhost");
    assert.equal(c.issuer, "CN=issuer ca");
    assert.equal(c.commonName, "localhost");
    assert.deepEqual(c.subjectAltNames, { dns: ["localhost"], ip: ["127.0.0.1", "::1"], email: [], uri: [] });
    assert.equal(c.serialNumber, "9A01");
    assert.equal(c.validFrom.toISOString(), "2024-01-01T00:00:00.000Z");
    assert.equal(c.validTo.toISOString(), "2099-12-31T23:59:59.000Z");
    assert.match(c.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(c.spkiSha256.length, 44);
  });

  test("any truncation or random bytes is a TLSError, never another exception", () => {
    const der = sampleCertificate();
    for (let n = 0; n < der.length; n++) {
      assert.throws(() => parseCertificate(der.subarray(0, n)), TLSError);
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      try {
        parseCertificate(junk);
      } catch (err) {
        assert.ok(err instanceof TLSError, String(err));
      }
    }));
  });
});
