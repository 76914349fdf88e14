import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LimitError, UseAfterCloseError } from "./errors.ts";
import { SocketBuf } from "./socket_buf.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (...b: number[]) => Uint8Array.from(b);

function contents(buf: SocketBuf): number[] {
  const out: number[] = [];
  for (const span of buf.readableSpans()) out.push(...span);
  return out;
}

/** A buffer whose data wraps: head at `head`, `data` readable. */
function wrapped(capacity: number, head: number, data: number[]): SocketBuf {
  const buf = new SocketBuf({ capacity, maxCapacity: capacity });
  buf.write(new Uint8Array(head));
  buf.consume(head - 1);
  buf.write(Uint8Array.from(data));
  buf.consume(1);
  return buf;
}

describe("SocketBuf", () => {
  test("write, read and peek across the wrap", () => {
    const buf = new SocketBuf({ capacity: 8, maxCapacity: 8 });
    buf.write(bytes(1, 2, 3, 4, 5, 6));
    const out = new Uint8Array(4);
    assert.equal(buf.read(out), 4);
    assert.deepEqual([...out], [1, 2, 3, 4]);
    buf.write(bytes(7, 8, 9, 10, 11, 12));
    assert.equal(buf.length, 8);
    assert.equal(buf.space, 0);
    assert.equal(buf.readableSpans().length, 2);
    const peeked = new Uint8Array(5);
    assert.equal(buf.peek(peeked, 2), 5);
    assert.deepEqual([...peeked], [7, 8, 9, 10, 11]);
    assert.equal(buf.at(7), 12);
    assert.equal(buf.at(8), undefined);
    assert.equal(buf.at(-1), undefined);
    const all = new Uint8Array(20);
    assert.equal(buf.read(all), 8);
    assert.deepEqual([...all.subarray(0, 8)], [5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(buf.read(all), 0);
  });

  test("large copies across the wrap", () => {
    const buf = new SocketBuf({ capacity: 1000, maxCapacity: 1000 });
    const a = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
    buf.write(a);
    buf.consume(600);
    const b = Uint8Array.from({ length: 800 }, (_, i) => (i * 7) & 0xff);
    buf.write(b);
    const out = new Uint8Array(900);
    assert.equal(buf.read(out), 900);
    assert.deepEqual(out, Uint8Array.from([...a.subarray(600), ...b]));
  });

  test("grows by doubling up to maxCapacity, then throws LimitError and writes nothing", () => {
    const buf = new SocketBuf({ capacity: 0, maxCapacity: 300 });
    assert.equal(buf.capacity, 0);
    buf.write(bytes(1));
    assert.equal(buf.capacity, 64);
    buf.write(new Uint8Array(100));
    assert.equal(buf.capacity, 128);
    buf.write(new Uint8Array(150));
    assert.equal(buf.capacity, 256);
    buf.write(new Uint8Array(40));
    assert.equal(buf.capacity, 300);
    assert.equal(buf.length, 291);
    assert.throws(() => buf.write(new Uint8Array(10)), (err: unknown) => {
      assert.ok(err instanceof LimitError);
      assert.equal(err.code, "ERR_LIMIT_BUFFER");
      assert.equal(err.limit, 300);
      return true;
    });
    assert.equal(buf.length, 291);
    assert.equal(buf.writeSome(new Uint8Array(10)), 9);
    assert.equal(buf.writeSome(new Uint8Array(10)), 0);
    assert.equal(buf.remainingCapacity, 0);
    assert.throws(() => buf.ensure(1), LimitError);
    buf.ensure(0);
  });

  test("growth keeps wrapped data in order", () => {
    const buf = wrapped(8, 6, [1, 2, 3, 4, 5, 6]);
    assert.equal(buf.readableSpans().length, 2);
    const big = new SocketBuf({ capacity: 8, maxCapacity: 64 });
    big.write(bytes(0, 0, 0, 0, 0, 0, 1, 2));
    big.consume(6);
    big.write(bytes(3, 4, 5, 6, 7, 8));
    big.write(bytes(9, 10));
    assert.equal(big.capacity, 64); // growth allocates at least 64 bytes
    assert.deepEqual(contents(big), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("find a byte or a sequence across the wrap", () => {
    const buf = wrapped(8, 5, [1, 2, 3, 13, 10, 6, 7]);
    assert.equal(buf.readableSpans().length, 2);
    assert.deepEqual(contents(buf), [1, 2, 3, 13, 10, 6, 7]);
    assert.equal(buf.find(10), 4);
    assert.equal(buf.find(7), 6);
    assert.equal(buf.find(9), -1);
    assert.equal(buf.find(bytes(13, 10)), 3);
    assert.equal(buf.find(bytes(3, 13, 10, 6)), 2);
    assert.equal(buf.find(bytes(1, 2, 3, 13, 10)), 0);
    assert.equal(buf.find(bytes(6, 7, 8)), -1);
    assert.equal(buf.find(bytes(1), 1), -1);
    assert.equal(buf.find(bytes()), 0);
    assert.equal(buf.find(bytes(), 7), 7);
    assert.equal(buf.find(bytes(), 8), -1);
    assert.equal(buf.find(7, 99), -1);
    assert.throws(() => buf.find(256), RangeError);
    assert.throws(() => buf.find(1, -1), RangeError);
  });

  test("find does not match stale bytes in the free space", () => {
    const buf = new SocketBuf({ capacity: 1024, maxCapacity: 1024 });
    buf.write(enc.encode("x".repeat(500) + "\n"));
    buf.consume(501);
    buf.write(enc.encode("abc"));
    assert.equal(buf.find(10), -1);
    assert.equal(buf.find(enc.encode("x")), -1);
  });

  test("readLine accepts LF and CRLF, waits for more, and enforces maxLength", () => {
    const buf = new SocketBuf({ capacity: 64, maxCapacity: 64 });
    buf.write(enc.encode("one\r\ntwo\nthr"));
    assert.equal(dec.decode(buf.readLine(10)!), "one");
    assert.equal(dec.decode(buf.readLine(10)!), "two");
    assert.equal(buf.readLine(10), null);
    buf.write(enc.encode("ee\r"));
    assert.equal(buf.readLine(5), null); // "three\r" may still end in "\r\n"
    buf.write(enc.encode("\n\n"));
    assert.equal(dec.decode(buf.readLine(5)!), "three");
    assert.equal(buf.readLine(5)!.length, 0);
    buf.write(enc.encode("123456"));
    assert.throws(() => buf.readLine(5), (err: unknown) => {
      assert.ok(err instanceof LimitError);
      assert.equal(err.code, "ERR_LIMIT_LINE");
      return true;
    });
    assert.equal(buf.length, 6); // nothing consumed
    buf.clear();
    buf.write(enc.encode("123456\n"));
    assert.throws(() => buf.readLine(5), LimitError);
    assert.equal(dec.decode(buf.readLine(6)!), "123456");
  });

  test("readLine throws when the buffer is full without a line end", () => {
    const buf = new SocketBuf({ capacity: 8, maxCapacity: 8 });
    buf.write(enc.encode("abcdefgh"));
    assert.throws(() => buf.readLine(), LimitError);
    buf.consume(1);
    assert.equal(buf.readLine(), null);
  });

  test("spans: recv-style write and send-style read without copies", () => {
    const buf = new SocketBuf({ capacity: 8, maxCapacity: 8 });
    buf.write(bytes(1, 2, 3, 4, 5));
    buf.consume(3);
    const ws = buf.writableSpans();
    assert.deepEqual(ws.map((s) => s.length), [3, 3]);
    (ws[0] as Uint8Array).set([6, 7, 8]);
    (ws[1] as Uint8Array).set([9]);
    buf.commitWrite(4);
    assert.deepEqual(contents(buf), [4, 5, 6, 7, 8, 9]);
    const r = buf.readableRanges();
    assert.deepEqual([...r], [3, 5, 0, 1]);
    const w = buf.writableRanges();
    assert.deepEqual([...w], [1, 2, 0, 0]);
    assert.throws(() => buf.commitWrite(3), RangeError);
    buf.consume(6);
    assert.equal(buf.readableSpans().length, 0);
    assert.throws(() => buf.consume(1), RangeError);
  });

  test("spans and their views are reused while the region stays put", () => {
    const buf = new SocketBuf({ capacity: 32, maxCapacity: 32 });
    const w1 = buf.writableSpans();
    const v1 = w1[0];
    (v1 as Uint8Array).set([1, 2, 3]);
    buf.commitWrite(3);
    buf.consume(3); // empty again: the head returns to 0
    const w2 = buf.writableSpans();
    assert.equal(w2, w1);
    assert.equal(w2[0], v1);
    buf.write(bytes(1));
    const r1 = buf.readableSpans()[0];
    assert.equal(buf.readableSpans()[0], r1);
  });

  test("writableSpans(minBytes) grows first", () => {
    const buf = new SocketBuf({ capacity: 4, maxCapacity: 100 });
    buf.write(bytes(1, 2, 3));
    const spans = buf.writableSpans(50);
    assert.ok(buf.capacity >= 53);
    assert.ok(spans.reduce((n, s) => n + s.length, 0) >= 50);
    assert.throws(() => buf.writableSpans(98), LimitError);
  });

  test("compact makes wrapped data contiguous", () => {
    const buf = wrapped(8, 6, [1, 2, 3, 4, 5, 6]);
    assert.equal(buf.readableSpans().length, 2);
    buf.compact();
    assert.equal(buf.readableSpans().length, 1);
    assert.deepEqual(contents(buf), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...buf.writableRanges()], [6, 2, 0, 0]);
    const plain = new SocketBuf({ capacity: 8, maxCapacity: 8 });
    plain.write(bytes(1, 2, 3, 4));
    plain.consume(2);
    plain.compact();
    assert.deepEqual([...plain.readableRanges()], [0, 2, 0, 0]);
    assert.deepEqual(contents(plain), [3, 4]);
  });

  test("secureClear zeroes the whole storage, close releases it", () => {
    const buf = wrapped(8, 6, [1, 2, 3, 4, 5, 6]);
    const storage = buf.storage;
    buf.secureClear();
    assert.equal(buf.length, 0);
    assert.ok(storage.every((b) => b === 0));
    buf.write(bytes(9, 9));
    const s2 = buf.storage;
    buf.close();
    buf.close();
    assert.equal(buf.closed, true);
    assert.ok(s2.every((b) => b === 0));
    assert.throws(() => buf.write(bytes(1)), UseAfterCloseError);
    assert.throws(() => buf.read(new Uint8Array(1)), UseAfterCloseError);
    assert.throws(() => buf.readableSpans(), UseAfterCloseError);
    assert.throws(() => buf.storage, UseAfterCloseError);
  });

  test("bad arguments throw TypeError or RangeError", () => {
    assert.throws(() => new SocketBuf({ maxCapacity: 0 }), RangeError);
    assert.throws(() => new SocketBuf({ maxCapacity: 1.5 }), RangeError);
    assert.throws(() => new SocketBuf({ capacity: 10, maxCapacity: 5 }), RangeError);
    assert.throws(() => new SocketBuf({ capacity: -1 }), RangeError);
    assert.throws(() => new SocketBuf({ capacity: "1" as unknown as number }), TypeError);
    const buf = new SocketBuf();
    assert.equal(buf.maxCapacity, 65536);
    assert.equal(buf.capacity, 4096);
    assert.throws(() => buf.write([1, 2] as unknown as Uint8Array), TypeError);
    assert.throws(() => buf.peek(new Uint8Array(1), 1), RangeError);
    assert.throws(() => buf.ensure(-1), RangeError);
    assert.throws(() => buf.readLine(-1), RangeError);
    assert.throws(() => buf.consume(0.5), RangeError);
  });
});

// ---------------------------------------------------------------------------
// Property: any interleaving of operations gives the bytes of a plain array.

type Op =
  | { op: "write"; data: number[] }
  | { op: "writeSome"; data: number[] }
  | { op: "read"; n: number }
  | { op: "peek"; n: number; offset: number }
  | { op: "consume"; n: number }
  | { op: "findByte"; byte: number; from: number }
  | { op: "findSeq"; seq: number[]; from: number }
  | { op: "findSlice"; start: number; len: number }
  | { op: "readLine"; max: number }
  | { op: "ensure"; n: number }
  | { op: "compact" }
  | { op: "spanWrite"; data: number[]; min: number }
  | { op: "spanRead"; n: number }
  | { op: "at"; i: number }
  | { op: "clear" }
  | { op: "secureClear" };

const byteArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(10), fc.constant(13), fc.nat({ max: 255 }));
const dataArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(byteArb, { maxLength: 12 }) },
  fc.array(byteArb, { minLength: 60, maxLength: 150 }),
);
// Mostly short reads, so the buffer rarely drains (a drained buffer resets its head
// to 0) and the data wraps often.
const small = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 4 }) }, fc.nat({ max: 160 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("write" as const), data: dataArb }) },
  fc.record({ op: fc.constant("writeSome" as const), data: dataArb }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant("read" as const), n: small }) },
  fc.record({ op: fc.constant("peek" as const), n: small, offset: small }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("consume" as const), n: small }) },
  fc.record({ op: fc.constant("findByte" as const), byte: byteArb, from: small }),
  fc.record({
    op: fc.constant("findSeq" as const),
    seq: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }),
    from: small,
  }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("findSlice" as const), start: small, len: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("readLine" as const), max: fc.nat({ max: 40 }) }) },
  fc.record({ op: fc.constant("ensure" as const), n: fc.nat({ max: 300 }) }),
  fc.record({ op: fc.constant("compact" as const) }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("spanWrite" as const), data: dataArb, min: fc.nat({ max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("spanRead" as const), n: small }) },
  fc.record({ op: fc.constant("at" as const), i: fc.integer({ min: -1, max: 100 }) }),
  fc.record({ op: fc.constant("clear" as const) }),
  fc.record({ op: fc.constant("secureClear" as const) }),
);

function modelFind(model: number[], seq: number[], from: number): number {
  for (let i = from; i + seq.length <= model.length; i++) {
    if (seq.every((b, k) => model[i + k] === b)) return i;
  }
  return -1;
}

/** The readLine rules, stated on the plain array. */
function modelReadLine(model: number[], max: number, maxCapacity: number): number[] | null | "limit" {
  const lf = model.indexOf(10);
  if (lf < 0) {
    const pending = model.length > 0 && model[model.length - 1] === 13 ? model.length - 1 : model.length;
    if (pending > max || model.length === maxCapacity) return "limit";
    return null;
  }
  const end = lf > 0 && model[lf - 1] === 13 ? lf - 1 : lf;
  if (end > max) return "limit";
  const line = model.slice(0, end);
  model.splice(0, lf + 1);
  return line;
}

function isLimit(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (err instanceof LimitError) return true;
    throw err;
  }
}

describe("SocketBuf against an array model", () => {
  test("any interleaving of operations gives the same bytes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.oneof(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 300 })),
        fc.array(opArb, { maxLength: 60, size: "max" }),
        (capacity0, max, ops) => {
          const capacity = Math.min(capacity0, max);
          const buf = new SocketBuf({ capacity, maxCapacity: max });
          let model: number[] = [];
          for (const op of ops) {
            switch (op.op) {
              case "write": {
                const fits = model.length + op.data.length <= max;
                assert.equal(isLimit(() => buf.write(Uint8Array.from(op.data))), !fits);
                if (fits) model.push(...op.data);
                break;
              }
              case "writeSome": {
                const n = Math.min(op.data.length, max - model.length);
                assert.equal(buf.writeSome(Uint8Array.from(op.data)), n);
                model.push(...op.data.slice(0, n));
                break;
              }
              case "read": {
                const dst = new Uint8Array(op.n);
                const n = buf.read(dst);
                assert.deepEqual([...dst.subarray(0, n)], model.splice(0, op.n));
                break;
              }
              case "peek": {
                const offset = Math.min(op.offset, model.length);
                const dst = new Uint8Array(op.n);
                const n = buf.peek(dst, offset);
                assert.deepEqual([...dst.subarray(0, n)], model.slice(offset, offset + op.n));
                break;
              }
              case "consume": {
                const n = Math.min(op.n, model.length);
                buf.consume(n);
                model.splice(0, n);
                break;
              }
              case "findByte":
                assert.equal(buf.find(op.byte, op.from), modelFind(model, [op.byte], op.from));
                break;
              case "findSeq": {
                const expected = op.seq.length === 0
                  ? (op.from <= model.length ? op.from : -1)
                  : modelFind(model, op.seq, op.from);
                assert.equal(buf.find(Uint8Array.from(op.seq), op.from), expected);
                break;
              }
              case "findSlice": {
                // A slice of the buffered bytes: a match is certain, often across the wrap.
                if (model.length === 0) break;
                const start = op.start % model.length;
                const seq = model.slice(start, start + op.len);
                const found = buf.find(Uint8Array.from(seq));
                assert.equal(found, modelFind(model, seq, 0));
                assert.ok(found >= 0 && found <= start);
                break;
              }
              case "readLine": {
                const expected = modelReadLine(model, op.max, max);
                if (expected === "limit") assert.ok(isLimit(() => buf.readLine(op.max)));
                else {
                  const line = buf.readLine(op.max);
                  assert.deepEqual(line === null ? null : [...line], expected);
                }
                break;
              }
              case "ensure": {
                const fits = model.length + op.n <= max;
                assert.equal(isLimit(() => buf.ensure(op.n)), !fits);
                if (fits) assert.ok(buf.space >= op.n);
                break;
              }
              case "compact":
                buf.compact();
                assert.ok(buf.readableSpans().length <= 1);
                assert.ok(buf.writableSpans().length <= 1);
                break;
              case "spanWrite": {
                const min = Math.min(op.min, max - model.length);
                const spans = buf.writableSpans(min);
                assert.ok(spans.reduce((n, s) => n + s.length, 0) >= min);
                let k = 0;
                for (const span of spans) {
                  const n = Math.min(span.length, op.data.length - k);
                  span.set(op.data.slice(k, k + n));
                  k += n;
                }
                buf.commitWrite(k);
                model.push(...op.data.slice(0, k));
                break;
              }
              case "spanRead": {
                const n = Math.min(op.n, model.length);
                const got: number[] = [];
                for (const span of buf.readableSpans()) got.push(...span);
                assert.deepEqual(got.slice(0, n), model.slice(0, n));
                buf.consume(n);
                model.splice(0, n);
                break;
              }
              case "at":
                assert.equal(buf.at(op.i), op.i >= 0 ? model[op.i] : undefined);
                break;
              case "clear":
                buf.clear();
                model = [];
                break;
              case "secureClear":
                buf.secureClear();
                assert.ok(buf.storage.every((b) => b === 0));
                model = [];
                break;
            }
            assert.equal(buf.length, model.length);
            assert.deepEqual(contents(buf), model);
            assert.ok(buf.capacity <= max);
            const storage = buf.storage;
            const r = buf.readableRanges();
            const fromRanges = [
              ...storage.subarray(r[0], (r[0] as number) + (r[1] as number)),
              ...storage.subarray(r[2], (r[2] as number) + (r[3] as number)),
            ];
            assert.deepEqual(fromRanges, model);
            const w = buf.writableRanges();
            assert.equal((w[1] as number) + (w[3] as number), buf.space);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
