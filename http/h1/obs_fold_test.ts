// The response parser's `unfoldObsFold` (RFC 9112 §5.2: a user agent MUST
// replace each obs-fold with SP and read the message): a folded field is
// joined to the one before it, wherever the reads split it; a fold of a
// framing field, a fold in trailers and a fold with no field before it
// still fail; requests refuse the option.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HTTP1ParseError } from "../../core/errors.ts";
import { HTTP1Parser } from "./parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Parses `text` as one response fed in pieces cut at `cuts`; the head's fields and the body. */
function parse(text: string, cuts: readonly number[] = []): { fields: Array<[string, string]>; body: string } {
  let fields: Array<[string, string]> = [];
  let body = "";
  const p = new HTTP1Parser({ kind: "response", unfoldObsFold: true }, {
    onHead: (h) => void (fields = h.entries()),
    onBody: (d) => void (body += dec.decode(d)),
  });
  const bytes = enc.encode(text);
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= at || cut >= bytes.length) continue;
    p.push(bytes.slice(at, cut));
    at = cut;
  }
  p.push(bytes.slice(at));
  return { fields, body };
}

function code(text: string): string {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof HTTP1ParseError, String(e));
    return e.code;
  }
  return "";
}

const FOLDED = "HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\n\tthree \r\nX-B: b\r\nContent-Length: 2\r\n\r\nok";

describe("HTTP/1.1 response parser: obs-fold joined (unfoldObsFold)", () => {
  test("a folded value is one field, each fold read as SP; the fields after it and the body are intact", () => {
    const { fields, body } = parse(FOLDED);
    assert.equal(fields.length, 3);
    assert.equal(fields[0]![0].toLowerCase(), "x-a");
    assert.match(fields[0]![1], /^one +two +\tthree$/);
    assert.deepEqual(fields[1], ["X-B", "b"]);
    assert.equal(body, "ok");
  });

  test("the same wherever the reads split the message", () => {
    const whole = parse(FOLDED);
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: FOLDED.length - 1 }), { maxLength: 6 }), (cuts) => {
      assert.deepEqual(parse(FOLDED, cuts), whole);
    }), { numRuns: 300 });
  });

  test("a fold of Content-Length, Transfer-Encoding, Connection or Upgrade still fails", () => {
    for (const name of ["Content-Length: 2", "Transfer-Encoding: chunked", "Connection: close", "Upgrade: x"]) {
      assert.equal(code(`HTTP/1.1 200 OK\r\n${name}\r\n 2\r\n\r\nok`), "HPE_OBS_FOLD", name);
    }
  });

  test("a fold with no field before it, or in trailers, still fails", () => {
    assert.equal(code("HTTP/1.1 200 OK\r\n x\r\nContent-Length: 0\r\n\r\n"), "HPE_OBS_FOLD");
    assert.equal(code("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\r\n b\r\n\r\n"), "HPE_OBS_FOLD");
  });

  test("without the option a fold fails, and a request parser refuses the option", () => {
    const p = new HTTP1Parser({ kind: "response" });
    assert.throws(() => p.push(enc.encode(FOLDED)), (e: unknown) => e instanceof HTTP1ParseError && e.code === "HPE_OBS_FOLD");
    assert.throws(() => new HTTP1Parser({ kind: "request", unfoldObsFold: true }), TypeError);
  });
});
