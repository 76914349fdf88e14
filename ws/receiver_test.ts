import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { WebSocketError } from "../core/errors.ts";
import { applyMask, frameHeader, Opcode } from "./frame.ts";
import { Receiver, type ReceiverOptions } from "./receiver.ts";
import { Sender } from "./sender.ts";

type Event = [string, ...unknown[]];

function receiver(role: "server" | "client", extra: Partial<ReceiverOptions> = {}): { rx: Receiver; events: Event[] } {
  const events: Event[] = [];
  const rx = new Receiver({
    role,
    handler: {
      onMessage: (data, binary) => events.push(["message", binary, Array.from(data)]),
      onPing: (data) => events.push(["ping", Array.from(data)]),
      onPong: (data) => events.push(["pong", Array.from(data)]),
      onClose: (code, reason) => events.push(["close", code, reason]),
    },
    ...extra,
  });
  return { rx, events };
}

/** A frame as a client sends it (masked) or a server (unmasked). */
function frame(opcode: number, payload: number[] | Uint8Array, opts: { fin?: boolean; rsv?: number; masked?: boolean; key?: number[] } = {}): Uint8Array {
  const data = Uint8Array.from(payload);
  const masked = opts.masked ?? true;
  const key = masked ? Uint8Array.from(opts.key ?? [0x37, 0xfa, 0x21, 0x3d]) : null;
  const head = frameHeader({ fin: opts.fin ?? true, rsv1: false, opcode, length: data.length, mask: key });
  head[0] = head[0]! | ((opts.rsv ?? 0) << 4);
  if (key) applyMask(data, key, 0);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

const text = (s: string): number[] => Array.from(new TextEncoder().encode(s));

function expectError(fn: () => void, code: string, closeCode: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebSocketError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.closeCode, closeCode);
    return true;
  });
}

describe("ws receiver: framing (RFC 6455 §5.2)", () => {
  test("RFC 6455 §5.7 examples", () => {
    const { rx, events } = receiver("client");
    rx.push(new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])); // unmasked "Hello"
    rx.push(new Uint8Array([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f])); // fragmented
    rx.push(new Uint8Array([0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])); // pong
    assert.deepEqual(events, [["message", false, text("Hello")], ["message", false, text("Hello")], ["pong", text("Hello")]]);
    const server = receiver("server");
    server.rx.push(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])); // masked "Hello"
    server.rx.push(new Uint8Array([0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])); // masked ping
    assert.deepEqual(server.events, [["message", false, text("Hello")], ["ping", text("Hello")]]);
  });

  test("7-bit, 16-bit and 64-bit lengths", () => {
    for (const n of [0, 125, 126, 65535, 65536, 70000]) {
      const { rx, events } = receiver("server");
      const payload = new Uint8Array(n).fill(0x42);
      rx.push(frame(Opcode.Binary, payload));
      assert.equal(events.length, 1);
      assert.equal((events[0]![2] as number[]).length, n);
    }
    const head = frameHeader({ fin: true, rsv1: false, opcode: 2, length: 70000, mask: null });
    assert.equal(head[1], 127);
  });

  test("masking rules per role", () => {
    expectError(() => receiver("server").rx.push(frame(Opcode.Text, text("x"), { masked: false })), "WS_ERR_EXPECTED_MASK", 1002);
    expectError(() => receiver("client").rx.push(frame(Opcode.Text, text("x"))), "WS_ERR_UNEXPECTED_MASK", 1002);
  });

  test("RSV bits need an extension; RSV1 only on the first frame of a compressed message", () => {
    expectError(() => receiver("server").rx.push(frame(Opcode.Text, text("x"), { rsv: 4 })), "WS_ERR_UNEXPECTED_RSV_1", 1002);
    for (const rsv of [1, 2, 3, 5, 7]) {
      expectError(() => receiver("server").rx.push(frame(Opcode.Text, text("x"), { rsv })), "WS_ERR_UNEXPECTED_RSV_2_3", 1002);
    }
    const withExt = { decompressor: { decompress: (p: Uint8Array) => [p] } };
    expectError(() => receiver("server", withExt).rx.push(frame(Opcode.Ping, [], { rsv: 4 })), "WS_ERR_UNEXPECTED_RSV_1", 1002);
    const r = receiver("server", withExt);
    r.rx.push(frame(Opcode.Text, text("a"), { rsv: 4, fin: false }));
    expectError(() => r.rx.push(frame(Opcode.Continuation, text("b"), { rsv: 4 })), "WS_ERR_UNEXPECTED_RSV_1", 1002);
  });

  test("reserved opcodes", () => {
    for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
      expectError(() => receiver("server").rx.push(frame(op, [])), "WS_ERR_INVALID_OPCODE", 1002);
    }
  });

  test("64-bit length with the top bit set", () => {
    const bytes = new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
    expectError(() => receiver("server").rx.push(bytes), "WS_ERR_INVALID_PAYLOAD_LENGTH", 1002);
  });
});

describe("ws receiver: control frames and fragmentation (§5.4, §5.5)", () => {
  test("control frames: at most 125 bytes, never fragmented", () => {
    expectError(() => receiver("server").rx.push(frame(Opcode.Ping, new Uint8Array(126))), "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002);
    expectError(() => receiver("server").rx.push(frame(Opcode.Ping, [], { fin: false })), "WS_ERR_EXPECTED_FIN", 1002);
    const { rx, events } = receiver("server");
    rx.push(frame(Opcode.Ping, new Uint8Array(125)));
    assert.equal(events.length, 1);
  });

  test("control frames interleaved in a fragmented message", () => {
    const { rx, events } = receiver("server");
    rx.push(frame(Opcode.Text, text("frag1"), { fin: false }));
    rx.push(frame(Opcode.Ping, text("p")));
    rx.push(frame(Opcode.Continuation, text("frag2"), { fin: false }));
    rx.push(frame(Opcode.Pong, text("q")));
    rx.push(frame(Opcode.Continuation, text("frag3")));
    assert.deepEqual(events, [["ping", text("p")], ["pong", text("q")], ["message", false, text("frag1frag2frag3")]]);
  });

  test("continuation rules", () => {
    expectError(() => receiver("server").rx.push(frame(Opcode.Continuation, text("x"))), "WS_ERR_UNEXPECTED_CONTINUATION", 1002);
    const { rx } = receiver("server");
    rx.push(frame(Opcode.Text, text("a"), { fin: false }));
    expectError(() => rx.push(frame(Opcode.Binary, text("b"))), "WS_ERR_EXPECTED_CONTINUATION", 1002);
  });

  test("a message in thousands of small fragments", () => {
    const tx = new Sender({ role: "client" });
    const data = new Uint8Array(5000).map((_, i) => i & 0xff);
    const { rx, events } = receiver("server");
    for (const f of tx.message(data, { fragmentSize: 3 })) rx.push(f);
    rx.push(tx.message("after")[0]!);
    assert.deepEqual(events, [["message", true, Array.from(data)], ["message", false, text("after")]]);
  });

  test("empty fragments and empty messages", () => {
    const { rx, events } = receiver("server");
    rx.push(frame(Opcode.Text, [], { fin: false }));
    rx.push(frame(Opcode.Continuation, [], { fin: false }));
    rx.push(frame(Opcode.Continuation, []));
    rx.push(frame(Opcode.Binary, []));
    assert.deepEqual(events, [["message", false, []], ["message", true, []]]);
  });
});

describe("ws receiver: close payloads (§5.5.1, §7.4)", () => {
  test("empty, valid codes with reasons", () => {
    for (const [payload, code, reason] of [[[], 1005, ""], [[0x03, 0xe8], 1000, ""], [[0x0f, 0xa0, ...text("ok")], 4000, "ok"]] as const) {
      const { rx, events } = receiver("server");
      rx.push(frame(Opcode.Close, [...payload]));
      assert.deepEqual(events, [["close", code, reason]]);
      rx.push(frame(Opcode.Text, text("ignored after close")));
      assert.equal(events.length, 1);
      assert.equal(rx.closed, true);
    }
  });

  test("one-byte payloads, invalid codes, invalid UTF-8 reasons", () => {
    expectError(() => receiver("server").rx.push(frame(Opcode.Close, [3])), "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      expectError(() => receiver("server").rx.push(frame(Opcode.Close, [code >> 8, code & 255])), "WS_ERR_INVALID_CLOSE_CODE", 1002);
    }
    expectError(() => receiver("server").rx.push(frame(Opcode.Close, [3, 232, 0xed, 0xa0, 0x80])), "WS_ERR_INVALID_UTF8", 1007);
  });
});

describe("ws receiver: UTF-8 and limits", () => {
  test("invalid UTF-8 fails fast, inside a frame and across fragments", () => {
    // Invalid at byte 12 of a 21-byte frame fed in three pieces: fails on the second.
    const f = frame(Opcode.Text, [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90, 0x80, 0x80, ...text("edited")]);
    const { rx } = receiver("server");
    rx.push(f.slice(0, 6 + 12));
    expectError(() => rx.push(f.slice(18, 19)), "WS_ERR_INVALID_UTF8", 1007);
    const r2 = receiver("server");
    r2.rx.push(frame(Opcode.Text, [0xce, 0xba], { fin: false }));
    expectError(() => r2.rx.push(frame(Opcode.Continuation, [0xed, 0xa0], { fin: false })), "WS_ERR_INVALID_UTF8", 1007);
    expectError(() => receiver("server").rx.push(frame(Opcode.Text, [0xe2, 0x82])), "WS_ERR_INVALID_UTF8", 1007);
    // A code point split across fragments is fine.
    const r3 = receiver("server");
    r3.rx.push(frame(Opcode.Text, [0xe2], { fin: false }));
    r3.rx.push(frame(Opcode.Continuation, [0x82], { fin: false }));
    r3.rx.push(frame(Opcode.Continuation, [0xac]));
    assert.deepEqual(r3.events, [["message", false, [0xe2, 0x82, 0xac]]]);
  });

  test("frame, message and buffer limits end in 1009", () => {
    expectError(() => receiver("server", { maxFrameBytes: 10 }).rx.push(frame(Opcode.Binary, new Uint8Array(11))), "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", 1009);
    const r = receiver("server", { maxMessageBytes: 10 });
    r.rx.push(frame(Opcode.Binary, new Uint8Array(6), { fin: false }));
    expectError(() => r.rx.push(frame(Opcode.Continuation, new Uint8Array(6))), "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009);
    const b = receiver("server", { maxBufferedBytes: 4 });
    expectError(() => b.rx.push(frame(Opcode.Binary, new Uint8Array(5))), "WS_ERR_BUFFER_LIMIT", 1009);
    // The header alone is enough to refuse (fail fast, before the payload arrives).
    const huge = new Uint8Array([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
    expectError(() => receiver("server").rx.push(huge), "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", 1009);
  });

  test("a frame header past maxBufferedBytes is refused before its buffer is made", () => {
    // 8 MiB announced against a 1 MiB buffer limit: nothing may be reserved for it.
    const head = frameHeader({ fin: false, rsv1: false, opcode: Opcode.Binary, length: 8 * 1024 * 1024, mask: Uint8Array.of(1, 2, 3, 4) });
    const r = receiver("server", { maxBufferedBytes: 1024 * 1024 });
    expectError(() => r.rx.push(head), "WS_ERR_BUFFER_LIMIT", 1009);
    // Within the limit the header is fine and the message arrives.
    const ok = receiver("server", { maxBufferedBytes: 200 * 1024 });
    ok.rx.push(frame(Opcode.Binary, new Uint8Array(100 * 1024), { fin: false }));
    ok.rx.push(frame(Opcode.Continuation, new Uint8Array(100 * 1024)));
    assert.equal(ok.events.length, 1);
    assert.equal((ok.events[0]![2] as number[]).length, 200 * 1024);
  });

  test("a failed receiver refuses more input", () => {
    const { rx } = receiver("server");
    assert.throws(() => rx.push(frame(7, [])));
    assert.equal(rx.failed, true);
    assert.throws(() => rx.push(frame(Opcode.Text, [])), /closed/);
  });
});

describe("ws receiver: properties", () => {
  const message = fc.record({
    binary: fc.boolean(),
    data: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 100 }).map((s) => new TextEncoder().encode(s))),
    fragment: fc.integer({ min: 0, max: 64 }),
    ping: fc.boolean(),
  }).map((m) => (m.binary ? m : { ...m, data: new TextEncoder().encode(new TextDecoder().decode(m.data)) }));

  test("a message in more pieces than are held as views (40 one-byte frames, borrowed), then whole ones: each its own bytes", () => {
    const { rx, events } = receiver("server");
    const reused = new Uint8Array(64);
    const pushBorrowed = (bytes: Uint8Array) => {
      reused.set(bytes);
      rx.push(reused.subarray(0, bytes.length), true);
      reused.fill(0xee);
    };
    const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
    for (let i = 0; i < letters.length; i++) {
      pushBorrowed(frame(i === 0 ? Opcode.Text : Opcode.Continuation, text(letters[i]!), { fin: i === letters.length - 1 }));
    }
    pushBorrowed(frame(Opcode.Binary, [1, 2, 3]));
    pushBorrowed(frame(Opcode.Text, text("x"), { fin: false }));
    pushBorrowed(frame(Opcode.Continuation, text("y")));
    assert.deepEqual(events, [["message", false, text(letters)], ["message", true, [1, 2, 3]], ["message", false, text("xy")]]);
    assert.equal(rx.bufferedBytes, 0);
  });

  test("decode(encode(messages)) is identity, under any chunk split, also when every chunk is borrowed and overwritten after its push", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.constantFrom("client" as const, "server" as const), fc.boolean(), (messages, cuts, senderRole, borrowed) => {
        const tx = new Sender({ role: senderRole });
        const wire: Uint8Array[] = [];
        const expected: Event[] = [];
        for (const m of messages) {
          if (m.ping) {
            wire.push(tx.ping(new Uint8Array([1, 2])));
            expected.push(["ping", [1, 2]]);
          }
          wire.push(...tx.message(m.data, { binary: m.binary, fragmentSize: m.fragment }));
          expected.push(["message", m.binary, Array.from(m.data)]);
        }
        const all = new Uint8Array(wire.reduce((n, w) => n + w.length, 0));
        let at = 0;
        for (const w of wire) {
          all.set(w, at);
          at += w.length;
        }
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const { rx, events } = receiver(senderRole === "client" ? "server" : "client");
        let prev = 0;
        // Borrowed: one read buffer, reused for every chunk (as a connection's).
        const reused = new Uint8Array(all.length);
        for (const p of [...points, all.length]) {
          if (borrowed) {
            reused.set(all.subarray(prev, p));
            rx.push(reused.subarray(0, p - prev), true);
            reused.fill(0xaa);
          } else {
            rx.push(all.slice(prev, p));
          }
          prev = p;
        }
        assert.deepEqual(events, expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("ws receiver: UTF-8 fails at the earliest impossible prefix (properties)", () => {
  // The oracle: every prefix of the UTF-8 encoding of every Unicode scalar
  // value (RFC 3629 arithmetic, not the validator's byte-range table), keyed
  // by its bytes; `true` marks a whole encoding.
  const prefixes = new Map<number, boolean>();
  const key = (bytes: number[]): number => bytes.reduce((k, b) => k * 256 + b, bytes.length);
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const enc = cp < 0x80
      ? [cp]
      : cp < 0x800
      ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
      : cp < 0x10000
      ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
      : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    for (let len = 1; len <= enc.length; len++) {
      const k = key(enc.slice(0, len));
      if (len === enc.length) prefixes.set(k, true);
      else if (!prefixes.has(k)) prefixes.set(k, false);
    }
  }
  /** The index of the first byte after which `bytes` can no longer begin valid UTF-8 (its length if none), and whether it ends between code points. */
  function oracle(bytes: Uint8Array): { bad: number; complete: boolean } {
    let open: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      open.push(bytes[i]!);
      const whole = prefixes.get(key(open));
      if (whole === undefined) return { bad: i, complete: false };
      if (whole) open = [];
    }
    return { bad: bytes.length, complete: open.length === 0 };
  }

  const validText = fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => new TextEncoder().encode(s));
  // Valid text with a few bytes replaced or inserted (near-valid: lead bytes,
  // continuation bytes, overlong and surrogate starts are likely).
  const nearText = fc.tuple(
    validText,
    fc.array(
      fc.record({
        at: fc.nat(),
        insert: fc.boolean(),
        byte: fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0xc0, 0xc1, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0x80, 0x9f, 0xa0, 0xbf)),
      }),
      { minLength: 0, maxLength: 3 },
    ),
  ).map(([bytes, edits]) => {
    const out = Array.from(bytes);
    for (const e of edits) {
      const at = e.at % (out.length + 1);
      if (e.insert || at === out.length) out.splice(at, 0, e.byte);
      else out[at] = e.byte;
    }
    return Uint8Array.from(out);
  });

  /**
   * Sends `payload` as one text message in frames cut at `frameCuts`, the
   * wire bytes pushed in chunks cut at `pushCuts`; returns the index of the
   * push that threw (or -1), the message delivered, and for each push the
   * payload bytes it carried.
   */
  function play(payload: Uint8Array, frameCuts: number[], pushCuts: number[], role: "server" | "client", borrowed: boolean) {
    const bounds = [...new Set(frameCuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b).filter((c) => c > 0 && c < payload.length);
    const pieces: Uint8Array[] = [];
    let from = 0;
    for (const c of [...bounds, payload.length]) {
      pieces.push(payload.subarray(from, c));
      from = c;
    }
    // Per wire byte: the payload index it carries, or -1 for header bytes.
    const wire: number[] = [];
    const payloadIndex: number[] = [];
    let offset = 0;
    pieces.forEach((piece, i) => {
      const f = frame(i === 0 ? Opcode.Text : Opcode.Continuation, piece, { fin: i === pieces.length - 1, masked: role === "server" });
      const head = f.length - piece.length;
      for (let j = 0; j < f.length; j++) {
        wire.push(f[j]!);
        payloadIndex.push(j < head ? -1 : offset + j - head);
      }
      offset += piece.length;
    });
    const points = [...new Set(pushCuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b).filter((c) => c > 0);
    const { rx, events } = receiver(role);
    const all = Uint8Array.from(wire);
    const chunks: [number, number][] = [];
    let prev = 0;
    for (const p of [...points, wire.length]) {
      if (p > prev) chunks.push([prev, p]);
      prev = p;
    }
    let threw = -1;
    for (let i = 0; i < chunks.length; i++) {
      const [a, b] = chunks[i]!;
      try {
        if (borrowed) {
          const reused = all.slice(a, b);
          rx.push(reused, true);
          reused.fill(0xaa);
        } else rx.push(all.slice(a, b));
      } catch (err) {
        assert.ok(err instanceof WebSocketError, String(err));
        assert.equal(err.code, "WS_ERR_INVALID_UTF8");
        assert.equal(err.closeCode, 1007);
        threw = i;
        break;
      }
    }
    /** The push holding wire byte `w`. */
    const pushOf = (w: number): number => chunks.findIndex(([a, b]) => a <= w && w < b);
    return { threw, events, pushOfPayload: (k: number) => pushOf(payloadIndex.indexOf(k)), lastPush: pushOf(wire.length - 1) };
  }

  const splits = fc.array(fc.nat(), { maxLength: 8 });
  const role = fc.constantFrom("server" as const, "client" as const);

  test("oracle sanity: the cases of Autobahn 6.4 fail at their first impossible byte", () => {
    assert.deepEqual(oracle(Uint8Array.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90, 0x80])), { bad: 12, complete: false });
    assert.deepEqual(oracle(Uint8Array.from([0xed, 0x9f, 0xbf, 0xed, 0xa0])), { bad: 4, complete: false });
    assert.deepEqual(oracle(Uint8Array.from([0xe2, 0x82])), { bad: 2, complete: false });
    assert.deepEqual(oracle(Uint8Array.from([0xf0, 0x8f])), { bad: 1, complete: false });
    assert.deepEqual(oracle(Uint8Array.from([0xc1])), { bad: 0, complete: false });
  });

  test("any split of a valid text message, in any frames and pushes, is delivered whole", () => {
    fc.assert(
      fc.property(validText, splits, splits, role, fc.boolean(), (payload, frameCuts, pushCuts, r, borrowed) => {
        const { threw, events } = play(payload, frameCuts, pushCuts, r, borrowed);
        assert.equal(threw, -1);
        assert.deepEqual(events, [["message", false, Array.from(payload)]]);
      }),
      { numRuns: 400 },
    );
  });

  test("invalid text fails (1007) in the push that brings the first impossible byte, mid-frame or not; a cut-off code point at the message's end", () => {
    fc.assert(
      fc.property(nearText, splits, splits, role, fc.boolean(), (payload, frameCuts, pushCuts, r, borrowed) => {
        const { bad, complete } = oracle(payload);
        const { threw, events, pushOfPayload, lastPush } = play(payload, frameCuts, pushCuts, r, borrowed);
        if (bad < payload.length) {
          assert.equal(threw, pushOfPayload(bad), `bad byte at ${bad} of ${payload.length}`);
          assert.deepEqual(events, []);
        } else if (!complete) {
          assert.equal(threw, lastPush);
          assert.deepEqual(events, []);
        } else {
          assert.equal(threw, -1);
          assert.deepEqual(events, [["message", false, Array.from(payload)]]);
        }
      }),
      { numRuns: 600 },
    );
  });
});

describe("ws receiver: payload views of a reused read buffer", () => {
  test("one borrowed chunk object pushed again and again with new frames of the same size: every message, ping and pong has its own bytes; unborrowed messages keep theirs", () => {
    const kept: Uint8Array[] = [];
    const events: Event[] = [];
    const rx = new Receiver({
      role: "server",
      handler: {
        onMessage: (data, binary) => {
          events.push(["message", binary, Array.from(data)]);
          kept.push(data);
        },
        onPing: (data) => void events.push(["ping", Array.from(data)]),
        onPong: (data) => void events.push(["pong", Array.from(data)]),
        onClose: () => {},
      },
    });
    // The connection hands the same view for reads of the same length.
    const read = new Uint8Array(256);
    const views = new Map<number, Uint8Array>();
    const expected: Event[] = [];
    for (let i = 0; i < 60; i++) {
      const opcode = i % 5 === 3 ? Opcode.Ping : i % 5 === 4 ? Opcode.Pong : i % 2 === 0 ? Opcode.Text : Opcode.Binary;
      const length = [8, 7, 8, 0, 8, 125, 7][i % 7]! + (opcode < 8 && i % 11 === 0 ? 126 : 0); // 16-bit lengths too
      const payload = Array.from({ length }, (_, j) => 0x61 + ((i + j) % 26));
      const f = frame(opcode, payload, { key: [i, 2 * i, 3 * i, 255 - i] });
      let chunk = views.get(f.length);
      if (chunk === undefined) views.set(f.length, chunk = read.subarray(0, f.length));
      chunk.set(f);
      rx.push(chunk, true);
      read.fill(0xee); // the buffer is reused after the push
      expected.push(opcode === Opcode.Ping ? ["ping", payload] : opcode === Opcode.Pong ? ["pong", payload] : ["message", opcode === Opcode.Binary, payload]);
    }
    assert.deepEqual(events, expected);
    // Not borrowed: the receiver owns each chunk and the messages stay as they came.
    kept.length = 0;
    const owned = [frame(Opcode.Binary, [1, 2, 3]), frame(Opcode.Binary, [4, 5, 6])];
    for (const f of owned) rx.push(f);
    assert.deepEqual(kept.map((d) => Array.from(d)), [[1, 2, 3], [4, 5, 6]]);
  });
});
