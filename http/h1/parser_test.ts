import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HTTP1ParseError } from "../../core/errors.ts";
import { HTTP1Parser } from "./parser.ts";
import { recordMessages } from "./recorder.ts";
import { encodeRequestHead, encodeResponseHead } from "./serializer.ts";
import { encodeChunk, encodeLastChunk } from "./chunked.ts";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const req = (s: string, opts = {}) => recordMessages({ kind: "request", ...opts }, [bytes(s)]);
const res = (s: string, expect: string[] = [], opts = {}) =>
  recordMessages({ kind: "response", ...opts }, [bytes(s)], { expect });

describe("RFC 9112 §3 request line", () => {
  test("origin-form with query", () => {
    const r = req("GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.method, "GET");
    assert.equal(r.messages[0]!.target, "/where?q=now");
    assert.equal(r.messages[0]!.version, "HTTP/1.1");
  });
  test("absolute-form", () => {
    const r = req("GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.target, "http://www.example.org/pub/WWW/TheProject.html");
  });
  test("authority-form for CONNECT hands over the tunnel bytes", () => {
    const r = req("CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com\r\n\r\n\x16\x03\x01");
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.upgrade, true);
    assert.equal(r.upgraded, "\x16\x03\x01");
  });
  test("asterisk-form for OPTIONS", () => {
    assert.equal(req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").error, null);
  });
  test("extension methods are tokens", () => {
    const r = req("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(r.error?.code, "HPE_INVALID_URL"); // asterisk-form is for OPTIONS only
    assert.equal(req("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n").messages[0]!.method, "PURGE");
  });
  test("methods are case-sensitive", () => {
    assert.equal(req("get / HTTP/1.1\r\nHost: a\r\n\r\n").messages[0]!.method, "get");
  });
  test("HTTP/1.0 needs no Host and is not persistent by default", () => {
    const r = req("GET / HTTP/1.0\r\n\r\n");
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.keepAlive, false);
  });
  test("HTTP/1.0 keep-alive", () => {
    assert.equal(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").messages[0]!.keepAlive, true);
  });
  test("lenient target characters are off by default and work when asked", () => {
    const input = "GET /a|b{c} HTTP/1.1\r\nHost: a\r\n\r\n";
    assert.equal(req(input).error?.code, "HPE_INVALID_URL");
    assert.equal(req(input, { lenientTargetChars: true }).messages[0]!.target, "/a|b{c}");
  });
  test("IP literal in absolute-form and Host", () => {
    const r = req("GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    assert.equal(r.error, null);
  });
});

describe("RFC 9112 §2.2 message parsing", () => {
  test("empty lines before the request-line are ignored", () => {
    const r = req("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(r.error, null);
    assert.equal(r.messages.length, 1);
  });
  test("one empty line before a status line is tolerated, two are not", () => {
    const r = res("HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\r\nHTTP/1.1 204 No Content\r\n\r\n", ["GET", "GET"]);
    assert.equal(r.error, null);
    assert.deepEqual(r.messages.map((m) => [m.statusCode, m.body]), [[100, ""], [200, "hi"], [204, ""]]);
    const two = res("HTTP/1.1 204 No Content\r\n\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", ["GET", "GET"]);
    assert.equal(two.error?.code, "HPE_INVALID_VERSION");
    assert.equal(res("\nHTTP/1.1 204 No Content\r\n\r\n").error?.code, "HPE_INVALID_VERSION");
  });
  test("lenient LF for responses only", () => {
    assert.throws(() => new HTTP1Parser({ kind: "request", lenientLineEndings: true }), TypeError);
    const r = res("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", [], { lenientLineEndings: true });
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.body, "hi");
  });
});

describe("RFC 9112 §4 status line", () => {
  test("reason phrase", () => {
    const r = res("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert.equal(r.messages[0]!.statusCode, 404);
    assert.equal(r.messages[0]!.reason, "Not Found");
  });
  test("empty reason phrase, with or without the SP", () => {
    assert.equal(res("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").messages[0]!.reason, "");
    assert.equal(res("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").messages[0]!.reason, "");
  });
  test("codes 600-999 are accepted (RFC 9110 §15)", () => {
    assert.equal(res("HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n").messages[0]!.statusCode, 600);
  });
});

describe("RFC 9112 §5 field syntax", () => {
  test("OWS around values is removed, inner whitespace kept", () => {
    const r = req("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t a  b \t\r\nX-Empty:\r\n\r\n");
    assert.deepEqual(r.messages[0]!.headers, [["Host", "a"], ["X-A", "a  b"], ["X-Empty", ""]]);
  });
  test("obs-text in values is kept as Latin-1", () => {
    const r = req("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n");
    assert.equal(r.messages[0]!.headers[1]![1], "caf\xe9");
  });
  test("zero-copy access: nameIs, get, valueBytes, detach", () => {
    let detached: ReturnType<import("./fields.ts").MessageHead["detach"]> | null = null;
    const p = new HTTP1Parser({ kind: "request" }, {
      onHead(h) {
        assert.equal(h.nameIs(0, "host"), true);
        assert.equal(h.get("HOST"), "a");
        assert.deepEqual(h.getAll("x"), ["1", "2"]);
        assert.equal(h.get("x"), "1, 2");
        assert.deepEqual([...h.valueBytes(0)], [0x61]);
        assert.equal(h.toHeaderList().get("x"), "1, 2");
        detached = h.detach();
      },
    });
    const input = bytes("GET /path HTTP/1.1\r\nHost: a\r\nX: 1\r\nx: 2\r\n\r\n");
    p.push(input);
    input.fill(0);
    assert.equal(detached!.target, "/path");
    assert.equal(detached!.get("x"), "1, 2");
  });
});

describe("RFC 9112 §6 message body length", () => {
  test("Content-Length", () => {
    const r = req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    assert.equal(r.messages[0]!.body, "hello");
    assert.equal(r.messages[0]!.framing, "length");
  });
  test("identical Content-Length repeats and lists are accepted (RFC 9110 §8.6)", () => {
    assert.equal(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc").messages[0]!.body, "abc");
    assert.equal(
      req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc").messages[0]!.body,
      "abc",
    );
  });
  test("requests without framing have no body", () => {
    const r = req("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(r.messages.length, 2);
    assert.equal(r.messages[1]!.target, "/2");
  });
  test("responses without framing are read until close", () => {
    const r = res("HTTP/1.1 200 OK\r\n\r\nall of this");
    assert.equal(r.messages[0]!.framing, "until-close");
    assert.equal(r.messages[0]!.body, "all of this");
    assert.equal(r.messages[0]!.complete, true);
  });
  test("HEAD, 1xx, 204, 304 responses have no body", () => {
    const r = res(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" +
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
      ["HEAD", "GET", "GET"],
    );
    assert.equal(r.error, null);
    assert.deepEqual(r.messages.map((m) => [m.statusCode, m.framing, m.body]), [
      [100, "none", ""],
      [200, "none", ""],
      [204, "none", ""],
      [304, "none", ""],
    ]);
  });
  test("response Transfer-Encoding without final chunked is read until close", () => {
    const r = res("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz");
    assert.equal(r.messages[0]!.framing, "until-close");
    assert.equal(r.messages[0]!.body, "xyz");
  });
  test("101 Switching Protocols hands over the following bytes", () => {
    const r = res("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00");
    assert.equal(r.messages[0]!.upgrade, true);
    assert.equal(r.upgraded, "\x81\x00");
  });
  test("2xx to CONNECT starts a tunnel", () => {
    const r = res("HTTP/1.1 200 Connection established\r\n\r\ntunnel", ["CONNECT"]);
    assert.equal(r.upgraded, "tunnel");
  });
  test("Upgrade request: body first, then the bytes that follow", () => {
    const r = req(
      "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes",
    );
    assert.equal(r.messages[0]!.upgrade, true);
    assert.equal(r.upgraded, "frames");
  });
  test("Upgrade without the connection option is ignored (RFC 9110 §7.8)", () => {
    assert.equal(req("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").messages[0]!.upgrade, false);
  });
  test("a declined upgrade goes back to requests", () => {
    const seen: string[] = [];
    let rest = new Uint8Array(0);
    const p = new HTTP1Parser({ kind: "request" }, {
      onHead: (h) => seen.push(h.target),
      onUpgrade: (r) => (rest = r.slice()),
    });
    p.push(bytes("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
    p.declineUpgrade();
    p.push(rest);
    assert.deepEqual(seen, ["/a", "/b"]);
  });
  test("onBodySpan hands body bytes as spans instead of views", () => {
    const spans: string[] = [];
    const views: number[] = [];
    const p = new HTTP1Parser({ kind: "request" }, {
      onBodySpan: (b, s, e) => spans.push(String.fromCharCode(...b.subarray(s, e))),
      onBody: (d) => views.push(d.length),
    });
    p.push(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
    assert.deepEqual(spans, ["abc", "de"]);
    assert.deepEqual(views, []);
  });
  test("incomplete body at end of input", () => {
    assert.equal(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab").error?.code, "HPE_INVALID_EOF_STATE");
  });
});

describe("RFC 9112 §7.1 chunked transfer coding", () => {
  test("chunks with extensions and trailers", () => {
    const r = req(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
        '5;name=value;q="quoted \\" string"\r\nhello\r\n6 ; a = b\r\n world\r\n0\r\nX-Checksum: never\r\nX-T: 1\r\n\r\n',
    );
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.body, "hello world");
    assert.deepEqual(r.messages[0]!.trailers, [["X-Checksum", "never"], ["X-T", "1"]]);
  });
  test("upper-case hex and leading zeros", () => {
    const r = req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00A\r\n0123456789\r\n000\r\n\r\n");
    assert.equal(r.messages[0]!.body, "0123456789");
  });
  test("Transfer-Encoding is case-insensitive and empty list elements are ignored", () => {
    const r = req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , CHUNKED\r\n\r\n0\r\n\r\n");
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.framing, "chunked");
  });
});

describe("pipelining and offsets", () => {
  test("several messages in one buffer", () => {
    const one = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const r = req(one.repeat(16));
    assert.equal(r.messages.length, 16);
  });
  test("error offsets count from the first byte pushed", () => {
    const r = req("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n");
    assert.equal(r.error?.code, "HPE_INVALID_HEADER_VALUE");
    assert.equal(r.error?.offset, 27 + 28);
  });
  test("CRLF after the last message of a closing connection is ignored", () => {
    const r = req("POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx\r\n");
    assert.equal(r.error, null);
    assert.equal(r.messages[0]!.body, "x");
  });
  test("after an error the parser stays failed", () => {
    const p = new HTTP1Parser({ kind: "request" });
    assert.throws(() => p.push(bytes("BAD\x00")), HTTP1ParseError);
    assert.throws(() => p.push(bytes("GET / HTTP/1.1\r\n")), HTTP1ParseError);
  });
  test("a throwing callback fails the parser", () => {
    const p = new HTTP1Parser({ kind: "request" }, { onHead: () => { throw new Error("boom"); } });
    assert.throws(() => p.push(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")), /boom/);
    assert.throws(() => p.push(bytes("x")), HTTP1ParseError);
  });
});

// Generators for valid messages.
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const fieldValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
const reserved = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade"]);
const field = fc.tuple(token.filter((n) => !reserved.has(n.toLowerCase())), fieldValue);
const bodyText = fc.stringMatching(/^[\x00-\xff]{0,200}$/);
const path = fc.stringMatching(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@\/]{0,30}(\?[A-Za-z0-9=&]{0,10})?$/);

const requestMessage = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "PURGE"),
  target: path,
  fields: fc.array(field, { maxLength: 8 }),
  body: bodyText,
  chunks: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }),
  chunked: fc.boolean(),
  trailers: fc.array(field, { maxLength: 3 }),
});

type Gen = typeof requestMessage extends fc.Arbitrary<infer T> ? T : never;

function encode(m: Gen): Uint8Array {
  const headers: Array<[string, string]> = [["Host", "example.com"], ...m.fields];
  headers.push(m.chunked ? ["Transfer-Encoding", "chunked"] : ["Content-Length", String(m.body.length)]);
  const parts: Uint8Array[] = [encodeRequestHead({ method: m.method, target: m.target, headers })];
  const body = bytes(m.body);
  if (m.chunked) {
    let at = 0;
    for (const n of m.chunks) {
      parts.push(...encodeChunk(body.subarray(at, at + n)));
      at = Math.min(body.length, at + n);
    }
    parts.push(...encodeChunk(body.subarray(at)));
    parts.push(encodeLastChunk(m.trailers));
  } else {
    parts.push(body);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

describe("properties", () => {
  test("serialize then parse is the identity for generated requests", () => {
    fc.assert(
      fc.property(requestMessage, (m) => {
        const r = recordMessages({ kind: "request" }, [encode(m)]);
        assert.equal(r.error, null);
        const got = r.messages[0]!;
        assert.equal(got.method, m.method);
        assert.equal(got.target, m.target);
        assert.deepEqual(got.headers.slice(1, 1 + m.fields.length), m.fields);
        assert.equal(got.body, m.body);
        if (m.chunked) assert.deepEqual(got.trailers, m.trailers);
      }),
      { numRuns: 200 },
    );
  });

  test("any split of a pipelined batch gives the same record", () => {
    fc.assert(
      fc.property(fc.array(requestMessage, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (ms, cuts) => {
        const all = ms.map(encode);
        const data = new Uint8Array(all.reduce((n, a) => n + a.length, 0));
        let o = 0;
        for (const a of all) {
          data.set(a, o);
          o += a.length;
        }
        const whole = recordMessages({ kind: "request" }, [data]);
        const split = recordMessages({ kind: "request" }, splitAt(data, cuts));
        assert.deepEqual(split, whole);
        assert.equal(whole.messages.length, ms.length);
      }),
      { numRuns: 150 },
    );
  });

  test("any split of arbitrary bytes gives the same record or error", () => {
    const seeds = [
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (seed, edits, cuts) => {
          const data = bytes(seed);
          for (const [at, b] of edits) data[at % data.length] = b;
          const whole = recordMessages({ kind: "request" }, [data]);
          const split = recordMessages({ kind: "request" }, splitAt(data, cuts));
          assert.deepEqual(split, whole);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("responses: serialize then parse, split anywhere", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
        fc.array(field, { maxLength: 5 }),
        bodyText,
        fc.array(fc.nat(), { maxLength: 6 }),
        (status, fields, body, cuts) => {
          const head = encodeResponseHead({
            status,
            headers: [...fields, ["Content-Length", String(body.length)]],
          });
          const data = new Uint8Array(head.length + body.length);
          data.set(head);
          data.set(bytes(body), head.length);
          const r = recordMessages({ kind: "response" }, splitAt(data, cuts));
          assert.equal(r.error, null);
          assert.equal(r.messages[0]!.statusCode, status);
          assert.equal(r.messages[0]!.body, body);
          assert.deepEqual(r.messages[0]!.headers.slice(0, fields.length), fields);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("the Host value checked on a connection", () => {
  test("a value that repeats the last valid one is taken; any other is checked again, on the same parser", () => {
    // Each value is the same length as the valid one before it: only its bytes tell it apart.
    const cases: Array<[string, boolean]> = [
      ["a:1", true], ["a:1", true], ["a:x", false],
      ["b.c:80", true], ["b.c:80", true], ["b.1:80", false],
      ["127.0.0.1:8080", true], ["127.0.0.1:8080", true], ["127.0.0.1:99999", false],
      ["[::1]", true], ["[::1]", true], ["[::x]", false],
      ["h", true], ["h", true], ["h h", false], ["", true],
    ];
    let valid = new HTTP1Parser({ kind: "request" }, {});
    for (const [host, ok] of cases) {
      const request = bytes(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      if (ok) {
        valid.push(request);
        continue;
      }
      assert.throws(() => valid.push(request), (e: unknown) => e instanceof HTTP1ParseError && e.code === "HPE_INVALID_HOST", host);
      // a failed parser stays failed: the next values on a fresh one, which first sees the one before
      valid = new HTTP1Parser({ kind: "request" }, {});
    }
  });
});
