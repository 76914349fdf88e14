import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProxyError } from "../../core/errors.ts";
import { SOCKS5_REPLY_CODES, Socks5Handshake, type Socks5HandshakeOptions } from "./socks5.ts";

/** Splits `bytes` at the given cut points (sorted, deduplicated, inside). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) parts.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < bytes.length) parts.push(bytes.subarray(from));
  return parts;
}

interface Outcome {
  sent: number[][];
  tunnel: number[];
  error?: string;
  replyCode?: number | undefined;
  bound?: unknown;
}

/**
 * Runs a handshake against scripted replies, one per turn, each cut into
 * pieces at `cuts`. The last reply may carry tunnel bytes.
 */
function drive(options: Socks5HandshakeOptions, replies: readonly Uint8Array[], cuts: readonly number[] = []): Outcome {
  const h = new Socks5Handshake(options);
  const out: Outcome = { sent: [], tunnel: [] };
  try {
    for (const reply of replies) {
      const o = h.takeOutput();
      if (o !== null) out.sent.push([...o]);
      for (const piece of split(reply, cuts)) {
        if (h.done) {
          out.tunnel.push(...piece);
          continue;
        }
        let rest = piece;
        while (rest.length > 0 && !h.done) {
          const used = h.push(rest);
          assert.ok(used >= 1 && used <= rest.length);
          rest = rest.subarray(used);
          const o = h.takeOutput();
          if (o !== null) out.sent.push([...o]);
        }
        out.tunnel.push(...rest);
      }
    }
    const o = h.takeOutput();
    if (o !== null) out.sent.push([...o]);
    if (!h.done) h.end();
    out.bound = h.boundAddress;
  } catch (err) {
    assert.ok(err instanceof ProxyError, `not a ProxyError: ${String(err)}`);
    out.error = err.code;
    out.replyCode = err.replyCode;
    // A failed machine stays failed with the same error.
    assert.throws(() => h.push(new Uint8Array([5])), (e: unknown) => e === err);
  }
  return out;
}

const OK_V4 = [5, 0, 0, 1, 10, 0, 0, 7, 0x1f, 0x90];
const enc = (s: string) => new TextEncoder().encode(s);

describe("Socks5Handshake", () => {
  test("no authentication, IPv4 target: greeting, request, reply, bound address", () => {
    const r = drive({ host: "192.0.2.1", port: 443 }, [new Uint8Array([5, 0]), new Uint8Array(OK_V4)]);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.sent, [[5, 1, 0], [5, 1, 0, 1, 192, 0, 2, 1, 1, 187]]);
    assert.deepEqual(r.bound, { host: "10.0.0.7", port: 8080 });
  });

  test("IPv6 and domain targets are encoded as such", () => {
    const v6 = drive({ host: "2001:db8::1", port: 80 }, [new Uint8Array([5, 0]), new Uint8Array(OK_V4)]);
    assert.deepEqual(v6.sent[1], [5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80]);
    const name = drive({ host: "example.com", port: 80 }, [new Uint8Array([5, 0]), new Uint8Array(OK_V4)]);
    assert.deepEqual(name.sent[1], [5, 1, 0, 3, 11, ...enc("example.com"), 0, 80]);
  });

  test("username/password (RFC 1929) is offered and sent when the proxy picks it", () => {
    const r = drive({ host: "10.0.0.1", port: 22, username: "alice", password: "pä" }, [
      new Uint8Array([5, 2]),
      new Uint8Array([1, 0]),
      new Uint8Array(OK_V4),
    ]);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.sent[0], [5, 2, 0, 2]);
    assert.deepEqual(r.sent[1], [1, 5, ...enc("alice"), 3, ...enc("pä")]);
    // The proxy may also pick "none" although credentials were offered.
    const none = drive({ host: "10.0.0.1", port: 22, username: "a", password: "b" }, [new Uint8Array([5, 0]), new Uint8Array(OK_V4)]);
    assert.equal(none.error, undefined);
  });

  test("IPv6 and domain bound addresses are read whole; tunnel bytes after the reply are left", () => {
    const v6reply = [5, 0, 0, 4, ...new Array(15).fill(0), 1, 0, 81];
    const r = drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 0]), new Uint8Array([...v6reply, 9, 8, 7])]);
    assert.deepEqual(r.bound, { host: "::1", port: 81 });
    assert.deepEqual(r.tunnel, [9, 8, 7]);
    const named = drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 0]), new Uint8Array([5, 0, 0, 3, 3, ...enc("abc"), 0, 82, 42])]);
    assert.deepEqual(named.bound, { host: "abc", port: 82 });
    assert.deepEqual(named.tunnel, [42]);
  });

  test("every reply code is a ProxyError with a stable code and the reply code", () => {
    for (let rep = 1; rep <= 255; rep++) {
      const r = drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 0]), new Uint8Array([5, rep, 0, 1, 0, 0, 0, 0, 0, 0])]);
      assert.equal(r.error, SOCKS5_REPLY_CODES[rep] ?? "ERR_SOCKS5_UNKNOWN_REPLY");
      assert.equal(r.replyCode, rep);
    }
    assert.equal(SOCKS5_REPLY_CODES[5], "ERR_SOCKS5_CONNECTION_REFUSED");
    // A refusal is reported as soon as the code arrives (some proxies close right after).
    const short = drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 0]), new Uint8Array([5, 2])]);
    assert.equal(short.error, "ERR_SOCKS5_NOT_ALLOWED");
  });

  test("method and authentication refusals", () => {
    assert.equal(drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 0xff])]).error, "ERR_SOCKS5_NO_ACCEPTABLE_METHOD");
    assert.equal(drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 2])]).error, "ERR_SOCKS5_AUTH_REQUIRED");
    const bad = drive({ host: "10.0.0.1", port: 1, username: "u", password: "p" }, [new Uint8Array([5, 2]), new Uint8Array([1, 1])]);
    assert.equal(bad.error, "ERR_SOCKS5_AUTH_FAILED");
    assert.equal(bad.replyCode, 1);
  });

  test("garbage is ERR_PROXY_PROTOCOL", () => {
    const t = { host: "10.0.0.1", port: 1 };
    const creds = { ...t, username: "u", password: "p" };
    for (
      const [options, replies] of [
        [t, [[4, 0]]], // wrong version
        [t, [[5, 1]]], // GSSAPI, not offered
        [creds, [[5, 2], [5, 0]]], // auth reply version
        [t, [[5, 0], [4, 0, 0, 1, 0, 0, 0, 0, 0, 0]]], // reply version
        [t, [[5, 0], [5, 0, 1, 1, 0, 0, 0, 0, 0, 0]]], // reserved byte
        [t, [[5, 0], [5, 0, 0, 9]]], // address type
        [t, [[5, 0], [5, 0, 0, 3, 0]]], // empty domain
      ] as const
    ) {
      const r = drive(options, replies.map((x) => new Uint8Array(x)));
      assert.equal(r.error, "ERR_PROXY_PROTOCOL", JSON.stringify(replies));
    }
  });

  test("a proxy that closes mid-handshake is ERR_PROXY_CLOSED at every point", () => {
    const full = [...OK_V4];
    for (let cut = 0; cut < full.length; cut++) {
      const r = drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5, 0]), new Uint8Array(full.slice(0, cut))]);
      assert.equal(r.error, "ERR_PROXY_CLOSED", `cut at ${cut}`);
    }
    assert.equal(drive({ host: "10.0.0.1", port: 1 }, [new Uint8Array([5])]).error, "ERR_PROXY_CLOSED");
  });

  test("bad options are TypeError/RangeError before any byte", () => {
    assert.throws(() => new Socks5Handshake({ host: "a", port: 0 }), RangeError);
    assert.throws(() => new Socks5Handshake({ host: "a", port: 65536 }), RangeError);
    assert.throws(() => new Socks5Handshake({ host: "x".repeat(256), port: 1 }), RangeError);
    assert.throws(() => new Socks5Handshake({ host: "", port: 1 }), RangeError);
    assert.throws(() => new Socks5Handshake({ host: "a\0b", port: 1 }), RangeError);
    assert.throws(() => new Socks5Handshake({ host: "a", port: 1, username: "u" }), TypeError);
    assert.throws(() => new Socks5Handshake({ host: "a", port: 1, username: "u".repeat(256), password: "p" }), RangeError);
    assert.throws(() => new Socks5Handshake({ host: "a", port: 1, username: "", password: "p" }), RangeError);
  });

  test("property: any split of the replies gives the same outcome", () => {
    const bound = fc.oneof(
      fc.tuple(fc.constant(1), fc.uint8Array({ minLength: 4, maxLength: 4 })),
      fc.tuple(fc.constant(4), fc.uint8Array({ minLength: 16, maxLength: 16 })),
      fc.tuple(fc.constant(3), fc.stringMatching(/^[a-z]{1,20}$/).map((s) => enc(s))),
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        bound,
        fc.integer({ min: 0, max: 65535 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.array(fc.nat(80), { maxLength: 12 }),
        (auth, [atyp, addr], bport, tunnel, cuts) => {
          const options: Socks5HandshakeOptions = auth ? { host: "h.example", port: 8, username: "u", password: "p" } : { host: "h.example", port: 8 };
          const addrField = atyp === 3 ? [addr.length, ...addr] : [...addr];
          const reply = new Uint8Array([5, 0, 0, atyp, ...addrField, bport >> 8, bport & 0xff, ...tunnel]);
          const replies = auth ? [new Uint8Array([5, 2]), new Uint8Array([1, 0]), reply] : [new Uint8Array([5, 0]), reply];
          const whole = drive(options, replies);
          const pieces = drive(options, replies, cuts);
          const bytewise = drive(options, replies, Array.from({ length: 80 }, (_, i) => i));
          assert.equal(whole.error, undefined);
          assert.deepEqual(pieces, whole);
          assert.deepEqual(bytewise, whole);
          assert.deepEqual(whole.tunnel, [...tunnel]);
          assert.equal((whole.bound as { port: number }).port, bport);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("property: random replies end in a ProxyError or a tunnel, never anything else", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(30), { maxLength: 6 }), (replies, cuts) => {
        const r = drive({ host: "example.com", port: 80, username: "u", password: "p" }, replies, cuts);
        assert.ok(r.error === undefined || r.error.startsWith("ERR_"));
      }),
      { numRuns: 1000 },
    );
  });
});
