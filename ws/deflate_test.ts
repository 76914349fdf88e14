import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { UseAfterCloseError, WebSocketError } from "../core/errors.ts";
import { PerMessageDeflate } from "./deflate.ts";
import { WebSocketProtocol } from "./connection.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

function pair(offer: Parameters<typeof PerMessageDeflate.offer>[0] = {}, server: Parameters<typeof PerMessageDeflate.acceptOffer>[1] = {}) {
  const s = PerMessageDeflate.acceptOffer(PerMessageDeflate.offer(offer), server);
  assert.ok(s);
  const c = PerMessageDeflate.fromResponse(s.responseHeader, offer);
  return { s, c };
}

function inflateAll(p: PerMessageDeflate, data: Uint8Array, max = 1 << 30): Uint8Array {
  return new Uint8Array(Buffer.concat(p.decompress(data, true, max)));
}

describe("permessage-deflate: negotiation (RFC 7692 §7.1)", () => {
  test("offers", () => {
    assert.equal(PerMessageDeflate.offer(), "permessage-deflate; client_max_window_bits");
    assert.equal(
      PerMessageDeflate.offer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }),
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
    );
    assert.throws(() => PerMessageDeflate.offer({ serverMaxWindowBits: 7 }), RangeError);
  });

  test("server acceptance", () => {
    const cases: [string, object, string | undefined][] = [
      ["permessage-deflate", {}, "permessage-deflate"],
      ["permessage-deflate; client_max_window_bits", {}, "permessage-deflate"],
      ["permessage-deflate; client_max_window_bits", { clientMaxWindowBits: 10 }, "permessage-deflate; client_max_window_bits=10"],
      ["permessage-deflate; client_max_window_bits=12", {}, "permessage-deflate; client_max_window_bits=12"],
      ["permessage-deflate; client_max_window_bits=12", { clientMaxWindowBits: 14 }, "permessage-deflate; client_max_window_bits=12"],
      ["permessage-deflate", { clientMaxWindowBits: 10 }, undefined], // cannot impose on a client that did not offer
      ["permessage-deflate; server_max_window_bits=8", {}, "permessage-deflate; server_max_window_bits=8"],
      ["permessage-deflate", { serverMaxWindowBits: 11 }, "permessage-deflate; server_max_window_bits=11"],
      ["permessage-deflate; server_no_context_takeover", {}, "permessage-deflate; server_no_context_takeover"],
      ["permessage-deflate", { clientNoContextTakeover: true }, "permessage-deflate; client_no_context_takeover"],
      ["permessage-deflate; server_max_window_bits=16", {}, undefined],
      ["permessage-deflate; server_max_window_bits", {}, undefined],
      ["permessage-deflate; server_max_window_bits=010", {}, undefined],
      ["permessage-deflate; foo=1", {}, undefined],
      ["permessage-deflate; server_no_context_takeover=1", {}, undefined],
      ['permessage-deflate; server_max_window_bits="10"', {}, "permessage-deflate; server_max_window_bits=10"],
      ["x-webkit-deflate-frame, permessage-deflate; foo, permessage-deflate; server_max_window_bits=9", {}, "permessage-deflate; server_max_window_bits=9"],
      // A parameter twice: that offer is declined (RFC 7692 §7), not the handshake failed; a later offer may be taken.
      ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", {}, undefined],
      ["permessage-deflate; client_max_window_bits; client_max_window_bits, permessage-deflate", {}, "permessage-deflate"],
    ];
    for (const [header, options, expected] of cases) {
      const pmd = PerMessageDeflate.acceptOffer(header, options);
      assert.equal(pmd?.responseHeader, expected, header);
      pmd?.close();
    }
    assert.throws(() => PerMessageDeflate.acceptOffer("permessage-deflate;", {}));
  });

  test("client checks the response", () => {
    assert.throws(() => PerMessageDeflate.fromResponse("permessage-deflate; client_max_window_bits", {}));
    assert.throws(() => PerMessageDeflate.fromResponse("permessage-deflate, permessage-deflate", {}));
    assert.throws(() => PerMessageDeflate.fromResponse("x-other", {}));
    assert.throws(() => PerMessageDeflate.fromResponse("permessage-deflate", { serverNoContextTakeover: true }));
    assert.throws(() => PerMessageDeflate.fromResponse("permessage-deflate; server_max_window_bits=12", { serverMaxWindowBits: 10 }));
    const p = PerMessageDeflate.fromResponse("permessage-deflate; client_max_window_bits=9; client_no_context_takeover", {});
    assert.deepEqual(p.params, { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 9 });
    p.close();
  });
});

describe("permessage-deflate: data", () => {
  test("after close(), compress and decompress throw UseAfterCloseError instead of making new zlib streams", () => {
    const { s, c } = pair();
    const packed = c.compress(new TextEncoder().encode("hello"));
    s.close();
    c.close();
    c.close(); // idempotent
    assert.throws(() => c.compress(new Uint8Array([1, 2, 3])), UseAfterCloseError);
    assert.throws(() => s.decompress(packed, true, 1e6), UseAfterCloseError);
  });

  test("RFC 7692 §7.2.3.1 example: 'Hello' compressed", () => {
    const { s, c } = pair();
    const packed = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert.equal(new TextDecoder().decode(inflateAll(s, packed)), "Hello");
    // Context takeover: the second "Hello" refers back to the first (§7.2.3.2).
    assert.equal(new TextDecoder().decode(inflateAll(s, new Uint8Array([0xf2, 0x00, 0x11, 0x00, 0x00]))), "Hello");
    s.close();
    c.close();
  });

  test("RFC 7692 §7.2.3.3: a message ending its stream with a BFINAL block and 0x00 (as uWebSockets sends); what follows the final block is ignored, and the next message starts a new stream", () => {
    const { s } = pair();
    const rfcExample = new Uint8Array([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);
    assert.equal(new TextDecoder().decode(inflateAll(s, rfcExample)), "Hello");
    assert.equal(new TextDecoder().decode(inflateAll(s, rfcExample)), "Hello");
    // A final block ending exactly at the end of the message, and one in the first of two pieces (a fragmented message).
    const ended = new Uint8Array(zlib.deflateRawSync(enc("fragmented")));
    assert.equal(new TextDecoder().decode(inflateAll(s, ended)), "fragmented");
    const parts = s.decompress(ended, false, 1e6).concat(s.decompress(new Uint8Array([0x00]), true, 1e6));
    assert.equal(new TextDecoder().decode(Buffer.concat(parts)), "fragmented");
    // Larger than the one-call path, with context takeover going on after it.
    const big = enc("abc".repeat(5000));
    const bigEnded = new Uint8Array([...zlib.deflateRawSync(big, { level: 0 }), 0x00]);
    assert.deepEqual(inflateAll(s, bigEnded), big);
    const { s: s2, c: c2 } = pair();
    for (const text of ["one", "two two", "one"]) assert.equal(new TextDecoder().decode(inflateAll(s2, c2.compress(enc(text)))), text);
    for (const p of [s, s2, c2]) p.close();
  });

  test("RFC 7692 §7.2.3.3: what follows a final block in a message is a new deflate stream, so garbage there is still 1007, in one piece, in fragments and past the one-call size", () => {
    const { s } = pair();
    const hello = new Uint8Array([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // the RFC's final block without its 0x00
    const is1007 = (e: WebSocketError) => e instanceof WebSocketError && e.closeCode === 1007;
    for (const garbage of [[0xff], [0xff, 0xff, 0xff, 0xff, 0xff], [0x06]]) {
      assert.throws(() => s.decompress(new Uint8Array([...hello, ...garbage]), true, 1e6), is1007);
      const { s: f } = pair();
      f.decompress(hello, false, 1e6);
      assert.throws(() => f.decompress(new Uint8Array(garbage), true, 1e6), is1007);
      f.close();
      const { s: g } = pair();
      const big = new Uint8Array([...zlib.deflateRawSync(enc("abc".repeat(5000)), { level: 0 }), ...garbage]);
      assert.throws(() => g.decompress(big, true, 1e6), is1007);
      g.close();
    }
    // A second whole stream after the first one's final block is inflated, not dropped.
    const { s: t } = pair();
    const two = new Uint8Array([...hello, ...zlib.deflateRawSync(enc(" world"))]);
    assert.equal(new TextDecoder().decode(inflateAll(t, two)), "Hello world");
    assert.equal(new TextDecoder().decode(inflateAll(t, new Uint8Array([...hello, 0x00]))), "Hello");
    for (const p of [s, t]) p.close();
  });

  test("sharedDecompressor: whole messages of several connections go through one stream; a fragmented one keeps its own, with whole messages of another connection in between", () => {
    const opts = { clientNoContextTakeover: true, sharedDecompressor: true };
    const a = pair(opts, opts);
    const b = pair(opts, opts);
    const text = (p: PerMessageDeflate, data: Uint8Array, fin = true) => new TextDecoder().decode(Buffer.concat(p.decompress(data, fin, 1e6)));
    const big = "fragmented ".repeat(300);
    const packed = a.c.compress(enc(big));
    const half = packed.length >> 1;
    assert.equal(text(a.s, a.c.compress(enc("from a"))), "from a");
    const first = text(a.s, packed.subarray(0, half), false);
    assert.equal(text(b.s, b.c.compress(enc("from b"))), "from b");
    assert.equal(first + text(a.s, packed.subarray(half)), big);
    assert.equal(text(b.s, b.c.compress(enc("from b"))), "from b");
    // A corrupt message leaves the shared stream clean for the next one.
    assert.throws(() => b.s.decompress(new Uint8Array([0xff, 0xff, 0xff]), true, 1e6), (e: WebSocketError) => e.closeCode === 1007);
    assert.equal(text(a.s, a.c.compress(enc("still fine"))), "still fine");
    for (const p of [a.s, a.c, b.s, b.c]) p.close();
  });

  test("round trips with context takeover, and cross-checks with node:zlib", () => {
    const { s, c } = pair();
    const texts = ["hello hello hello", "hello again hello again", "", "x".repeat(100000)];
    for (const t of texts) {
      const packed = s.compress(enc(t));
      assert.equal(new TextDecoder().decode(inflateAll(c, packed)), t);
      // Each message compressed by node:zlib (fresh context) must inflate in our stream.
      const byNode = zlib.deflateRawSync(enc(t), SYNC);
      const stripped = byNode.subarray(0, byNode.length - 4);
      assert.equal(new TextDecoder().decode(inflateAll(s, stripped)), t);
    }
    // Our first message, inflated independently by node:zlib.
    const fresh = pair();
    const packed = fresh.s.compress(enc("independent check"));
    const out = zlib.inflateRawSync(Buffer.concat([packed, Buffer.from([0, 0, 0xff, 0xff])]), SYNC);
    assert.equal(out.toString(), "independent check");
    fresh.s.close();
    fresh.c.close();
    s.close();
    c.close();
  });

  test("context takeover makes repeated messages smaller; no_context_takeover does not", () => {
    const msg = enc("The quick brown fox jumps over the lazy dog. ".repeat(20));
    const take = pair();
    const first = take.s.compress(msg).length;
    const second = take.s.compress(msg).length;
    assert.ok(second < first / 2, `${second} vs ${first}`);
    const none = pair({ serverNoContextTakeover: true });
    assert.equal(none.s.params.serverNoContextTakeover, true);
    const a = none.s.compress(msg);
    const b = none.s.compress(msg);
    assert.deepEqual(a, b);
    // Each message now stands alone: node:zlib inflates the second one by itself.
    assert.deepEqual(new Uint8Array(zlib.inflateRawSync(Buffer.concat([b, Buffer.from([0, 0, 0xff, 0xff])]), SYNC)), msg);
    for (const p of [take, none]) {
      p.s.close();
      p.c.close();
    }
  });

  test("window bits: 8 is used as 9 and a 9-bit window inflates it", () => {
    const { s, c } = pair({ serverMaxWindowBits: 8 });
    assert.equal(s.params.serverMaxWindowBits, 8);
    const data = new Uint8Array(50000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251 > 200 ? 65 : (i % 300) & 0x3f;
    for (let k = 0; k < 3; k++) assert.deepEqual(inflateAll(c, s.compress(data)), data);
    s.close();
    c.close();
  });

  test("a decompression bomb ends in 1009; corrupt data in 1007", () => {
    const { s, c } = pair();
    const bomb = s.compress(new Uint8Array(10_000_000));
    assert.ok(bomb.length < 20000);
    assert.throws(() => c.decompress(bomb, true, 1_000_000), (e: unknown) => e instanceof WebSocketError && e.closeCode === 1009);
    const d = pair();
    assert.throws(() => d.c.decompress(new Uint8Array([0xff, 0xff, 0xff]), true, 1000), (e: unknown) => e instanceof WebSocketError && e.closeCode === 1007);
    for (const p of [d]) {
      p.s.close();
      p.c.close();
    }
    s.close();
    c.close();
  });

  test("through the protocol: compressed messages above the threshold, RSV1 set, fragmented", () => {
    const { s, c } = pair();
    const got: string[] = [];
    const server = new WebSocketProtocol({ role: "server", deflate: s, handler: { onMessage: (d) => got.push(new TextDecoder().decode(d)) } });
    const client = new WebSocketProtocol({ role: "client", deflate: c, compressionThreshold: 10, autoFragmentSize: 7, handler: { onMessage() {} } });
    client.send("short");
    client.send("a longer message, a longer message, a longer message");
    const frames = client.takeOutput();
    assert.equal(frames[0]![0]! & 0x40, 0); // below threshold: not compressed
    assert.equal(frames[1]![0]! & 0x40, 0x40); // compressed, RSV1 on the first frame only
    assert.equal(frames[2]![0]! & 0x40, 0);
    for (const f of frames) server.push(f);
    assert.deepEqual(got, ["short", "a longer message, a longer message, a longer message"]);
    server.transportClosed();
    client.transportClosed();
  });

  test("property: any data round-trips over several messages", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }), fc.boolean(), fc.integer({ min: 8, max: 15 }), (msgs, noTakeover, bits) => {
        const { s, c } = pair({ clientNoContextTakeover: noTakeover, clientMaxWindowBits: bits });
        for (const m of msgs) assert.deepEqual(inflateAll(s, c.compress(m)), m);
        s.close();
        c.close();
      }),
      { numRuns: 60 },
    );
  });
});
