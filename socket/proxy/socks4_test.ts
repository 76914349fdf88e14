import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProxyError } from "../../core/errors.ts";
import { SOCKS4_REPLY_CODES, Socks4Handshake, type Socks4HandshakeOptions } from "./socks4.ts";

interface Outcome {
  sent: number[];
  tunnel: number[];
  error?: string;
  replyCode?: number | undefined;
}

/** Feeds `reply` in pieces of the given sizes (the rest in one piece). */
function drive(options: Socks4HandshakeOptions, reply: Uint8Array, sizes: readonly number[] = []): Outcome {
  const h = new Socks4Handshake(options);
  const out: Outcome = { sent: [...h.takeOutput()!], tunnel: [] };
  try {
    let p = 0;
    let i = 0;
    while (p < reply.length) {
      const size = i < sizes.length ? Math.max(1, sizes[i++]!) : reply.length - p;
      const piece = reply.subarray(p, p + size);
      p += piece.length;
      if (h.done) {
        out.tunnel.push(...piece);
        continue;
      }
      const used = h.push(piece);
      if (used < piece.length) {
        assert.ok(h.done);
        out.tunnel.push(...piece.subarray(used));
      }
    }
    if (!h.done) h.end();
  } catch (err) {
    assert.ok(err instanceof ProxyError, String(err));
    out.error = err.code;
    out.replyCode = err.replyCode;
  }
  return out;
}

const GRANTED = [0, 90, 0, 0, 0, 0, 0, 0];

describe("Socks4Handshake", () => {
  test("SOCKS4: IPv4 target and user id", () => {
    const r = drive({ host: "10.1.2.3", port: 8080, userId: "bob" }, new Uint8Array(GRANTED));
    assert.deepEqual(r.sent, [4, 1, 0x1f, 0x90, 10, 1, 2, 3, 98, 111, 98, 0]);
    assert.equal(r.error, undefined);
  });

  test("SOCKS4 needs an IPv4 literal; SOCKS4a sends the name after 0.0.0.1", () => {
    assert.throws(() => new Socks4Handshake({ host: "example.com", port: 80 }), TypeError);
    assert.throws(() => new Socks4Handshake({ host: "::1", port: 80 }), TypeError);
    const r = drive({ host: "example.com", port: 80, remoteResolve: true }, new Uint8Array(GRANTED));
    assert.deepEqual(r.sent, [4, 1, 0, 80, 0, 0, 0, 1, 0, ...new TextEncoder().encode("example.com"), 0]);
    // SOCKS4a with an IPv4 literal sends the address as SOCKS4 does.
    assert.deepEqual(drive({ host: "10.0.0.1", port: 80, remoteResolve: true }, new Uint8Array(GRANTED)).sent, [4, 1, 0, 80, 10, 0, 0, 1, 0]);
  });

  test("refusals 91-93 have stable codes; other codes and versions are garbage", () => {
    for (const cd of [91, 92, 93]) {
      const r = drive({ host: "10.0.0.1", port: 1 }, new Uint8Array([0, cd, 0, 0, 0, 0, 0, 0]));
      assert.equal(r.error, SOCKS4_REPLY_CODES[cd]);
      assert.equal(r.replyCode, cd);
    }
    assert.equal(drive({ host: "10.0.0.1", port: 1 }, new Uint8Array([0, 91])).error, "ERR_SOCKS4_REJECTED");
    assert.equal(drive({ host: "10.0.0.1", port: 1 }, new Uint8Array([0, 94, 0, 0, 0, 0, 0, 0])).error, "ERR_PROXY_PROTOCOL");
    assert.equal(drive({ host: "10.0.0.1", port: 1 }, new Uint8Array([5, 0])).error, "ERR_PROXY_PROTOCOL");
  });

  test("closing mid-reply is ERR_PROXY_CLOSED", () => {
    for (let cut = 0; cut < 8; cut++) {
      assert.equal(drive({ host: "10.0.0.1", port: 1 }, new Uint8Array(GRANTED.slice(0, cut))).error, "ERR_PROXY_CLOSED");
    }
  });

  test("bad options", () => {
    assert.throws(() => new Socks4Handshake({ host: "10.0.0.1", port: 0 }), RangeError);
    assert.throws(() => new Socks4Handshake({ host: "10.0.0.1", port: 1, userId: "a\0" }), RangeError);
    assert.throws(() => new Socks4Handshake({ host: "x".repeat(256), port: 1, remoteResolve: true }), RangeError);
  });

  test("property: any split gives the same outcome and leaves the tunnel bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 10 }), (tunnel, sizes) => {
        const reply = new Uint8Array([...GRANTED, ...tunnel]);
        const whole = drive({ host: "a.b", port: 9, remoteResolve: true }, reply);
        assert.deepEqual(drive({ host: "a.b", port: 9, remoteResolve: true }, reply, sizes), whole);
        assert.deepEqual(drive({ host: "a.b", port: 9, remoteResolve: true }, reply, new Array(30).fill(1)), whole);
        assert.deepEqual(whole.tunnel, [...tunnel]);
      }),
      { numRuns: 500 },
    );
  });
});
