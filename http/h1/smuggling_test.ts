// The smuggling table: hostile inputs, each with the exact error code the
// parser must raise, whole and split byte by byte.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PROHIBITED_TRAILER_FIELDS } from "../core/trailer_fields.ts";
import { recordMessages } from "./recorder.ts";
import type { HTTP1ParserOptions } from "./parser.ts";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const H = "Host: a\r\n";
const post = (headers: string, body = ""): string => `POST / HTTP/1.1\r\n${H}${headers}\r\n${body}`;
const chunkedPost = (body: string): string => post("Transfer-Encoding: chunked\r\n", body);

type Row = [name: string, input: string, code: string, options?: Partial<HTTP1ParserOptions>];

const REQUESTS: Row[] = [
  // RFC 9112 §6.1 / §6.3: Content-Length and Transfer-Encoding together.
  ["CL then TE", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), "HPE_UNEXPECTED_CONTENT_LENGTH"],
  ["TE then CL", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), "HPE_UNEXPECTED_CONTENT_LENGTH"],
  ["CL then TE in HTTP/1.0", "POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "HPE_UNEXPECTED_CONTENT_LENGTH"],
  ["CL, TE: identity", post("Content-Length: 5\r\nTransfer-Encoding: identity\r\n"), "HPE_UNEXPECTED_CONTENT_LENGTH"],
  // RFC 9110 §8.6: malformed or conflicting Content-Length.
  ["CL repeated with different values", post("Content-Length: 5\r\nContent-Length: 6\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL list of different values", post("Content-Length: 5, 6\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL with plus sign", post("Content-Length: +5\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL negative", post("Content-Length: -1\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL with inner space", post("Content-Length: 1 0\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL overflow", post("Content-Length: 99999999999999999999\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL hexadecimal", post("Content-Length: 0x5\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL empty", post("Content-Length: \r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL empty list element", post("Content-Length: 5,\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL exponent", post("Content-Length: 1e3\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL fraction", post("Content-Length: 5.0\r\n"), "HPE_INVALID_CONTENT_LENGTH"],
  ["CL quoted", post('Content-Length: "5"\r\n'), "HPE_INVALID_CONTENT_LENGTH"],
  // RFC 9112 §6.1, §7: request Transfer-Encoding must end in exactly one chunked.
  ["TE chunked then gzip", post("Transfer-Encoding: chunked, gzip\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE gzip only", post("Transfer-Encoding: gzip\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE chunked twice in a list", post("Transfer-Encoding: chunked, chunked\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE chunked on two lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE chunked then gzip on two lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE unknown coding", post("Transfer-Encoding: xchunked\r\n"), "HPE_UNKNOWN_TRANSFER_CODING"],
  ["TE unknown then chunked", post("Transfer-Encoding: foo, chunked\r\n"), "HPE_UNKNOWN_TRANSFER_CODING"],
  ["TE identity (removed coding)", post("Transfer-Encoding: identity\r\n"), "HPE_UNKNOWN_TRANSFER_CODING"],
  ["TE with parameter", post("Transfer-Encoding: chunked;q=1\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE empty", post("Transfer-Encoding: \r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE only commas", post("Transfer-Encoding: , ,\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE quoted", post('Transfer-Encoding: "chunked"\r\n'), "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE in HTTP/1.0 request", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HPE_INVALID_TRANSFER_ENCODING"],
  ["TE with vertical tab", post("Transfer-Encoding: chunked\x0b\r\n"), "HPE_INVALID_HEADER_VALUE"],
  ["TE with form feed", post("Transfer-Encoding:\x0cchunked\r\n"), "HPE_INVALID_HEADER_VALUE"],
  // RFC 9112 §5.1: no whitespace between field name and colon.
  ["space before colon", post("Transfer-Encoding : chunked\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  ["tab before colon", post("Transfer-Encoding\t: chunked\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  ["space before colon in Content-Length", post("Content-Length : 5\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  // RFC 9112 §5.2, §2.2: obs-fold and whitespace after the start line.
  ["whitespace-preceded first field line", "POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n", "HPE_OBS_FOLD"],
  ["obs-fold with SP", post("X-A: 1\r\n continued\r\n"), "HPE_OBS_FOLD"],
  ["obs-fold with HTAB", post("X-A: 1\r\n\tcontinued\r\n"), "HPE_OBS_FOLD"],
  ["obs-fold of Transfer-Encoding", post("Transfer-Encoding:\r\n chunked\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
  // RFC 9112 §2.2: bare LF and bare CR.
  ["bare LF after a field", "POST / HTTP/1.1\r\nHost: a\nContent-Length: 0\r\n\r\n", "HPE_CR_EXPECTED"],
  ["bare LF after the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", "HPE_CR_EXPECTED"],
  ["bare LF ending the header section", "GET / HTTP/1.1\r\nHost: a\r\n\n", "HPE_CR_EXPECTED"],
  ["bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_CR_EXPECTED"],
  ["bare CR inside a value", post("X-A: 1\r2\r\n"), "HPE_LF_EXPECTED"],
  ["bare CR after the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", "HPE_LF_EXPECTED"],
  ["CR CR LF", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", "HPE_LF_EXPECTED"],
  ["bare CR ending the header section", "GET / HTTP/1.1\r\nHost: a\r\n\rX", "HPE_LF_EXPECTED"],
  // RFC 9110 §5.5: NUL and controls in fields.
  ["NUL in a value", post("X-A: a\x00b\r\n"), "HPE_INVALID_HEADER_VALUE"],
  ["DEL in a value", post("X-A: a\x7fb\r\n"), "HPE_INVALID_HEADER_VALUE"],
  ["NUL in a name", post("X-\x00A: 1\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  ["non-ASCII in a name", post("X-\xc3\xa9: 1\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  ["parenthesis in a name", post("X(A): 1\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  ["field line without colon", post("NoColon\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  ["empty field name", post(": value\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  // RFC 9112 §3: the request line.
  ["invalid method character", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_METHOD"],
  ["empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_METHOD"],
  ["tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_METHOD"],
  ["two spaces before target", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["lower-case HTTP name", "GET / http/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_VERSION"],
  ["HTTP/2.0 in a request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "HPE_UNSUPPORTED_VERSION"],
  ["HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", "HPE_UNSUPPORTED_VERSION"],
  ["HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", "HPE_INVALID_VERSION"],
  ["HTTP/0.9 request line", "GET /\r\n\r\n", "HPE_INVALID_VERSION"],
  ["space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "HPE_INVALID_VERSION"],
  ["space inside target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_VERSION"],
  ["< in target", "GET /<script> HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["NUL in target", "GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["bad percent-encoding", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["truncated percent-encoding", "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["CONNECT with origin-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["userinfo in an absolute-form target", "GET http://user:pw@a/ HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  ["http URI without host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", "HPE_INVALID_URL"],
  // RFC 9112 §3.2: Host.
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", "HPE_MISSING_HOST"],
  ["two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "HPE_DUPLICATE_HOST"],
  ["two Host lines in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", "HPE_DUPLICATE_HOST"],
  ["Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "HPE_INVALID_HOST"],
  ["Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "HPE_INVALID_HOST"],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "HPE_INVALID_HOST"],
  ["Host unterminated IP literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "HPE_INVALID_HOST"],
  ["Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", "HPE_INVALID_HOST"],
  // RFC 9112 §7.1: chunked framing.
  ["chunk size not hex", chunkedPost("g\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["chunk size overflow", chunkedPost("fffffffffffffffffff\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["chunk size negative", chunkedPost("-1\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["chunk size with 0x", chunkedPost("0x5\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["chunk size with trailing space", chunkedPost("5 \r\nhello\r\n0\r\n\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["chunk size with leading space", chunkedPost(" 5\r\nhello\r\n0\r\n\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["empty chunk-size line", chunkedPost("\r\n"), "HPE_INVALID_CHUNK_SIZE"],
  ["chunk data longer than its size", chunkedPost("3\r\nabcd\r\n0\r\n\r\n"), "HPE_INVALID_CHUNK_DATA"],
  ["chunk data followed by bare LF", chunkedPost("3\r\nabc\n0\r\n\r\n"), "HPE_INVALID_CHUNK_DATA"],
  ["chunk data followed by CR only", chunkedPost("3\r\nabc\r0\r\n\r\n"), "HPE_INVALID_CHUNK_DATA"],
  ["bare LF after chunk size", chunkedPost("3\nabc\r\n0\r\n\r\n"), "HPE_CR_EXPECTED"],
  ["bare CR after chunk size", chunkedPost("3\rabc\r\n0\r\n\r\n"), "HPE_LF_EXPECTED"],
  ["empty chunk extension", chunkedPost("3;\r\nabc\r\n0\r\n\r\n"), "HPE_INVALID_CHUNK_EXTENSION"],
  ["control in quoted extension", chunkedPost('3;a="\x01"\r\nabc\r\n0\r\n\r\n'), "HPE_INVALID_CHUNK_EXTENSION"],
  ["unterminated quoted extension", chunkedPost('3;a="x\r\nabc\r\n0\r\n\r\n'), "HPE_INVALID_CHUNK_EXTENSION"],
  ["extension without value", chunkedPost("3;a=\r\nabc\r\n0\r\n\r\n"), "HPE_INVALID_CHUNK_EXTENSION"],
  ["whitespace after extension name", chunkedPost("3;a \r\nabc\r\n0\r\n\r\n"), "HPE_INVALID_CHUNK_EXTENSION"],
  ["chunk extension too long", chunkedPost(`3;a=${"b".repeat(5000)}\r\nabc\r\n0\r\n\r\n`), "HPE_CHUNK_EXTENSIONS_TOO_LARGE"],
  ["obs-fold in trailers", chunkedPost("0\r\nX-T: 1\r\n 2\r\n\r\n"), "HPE_OBS_FOLD"],
  ["bare LF in trailers", chunkedPost("0\r\nX-T: 1\n\r\n"), "HPE_CR_EXPECTED"],
  ["space before colon in trailers", chunkedPost("0\r\nX-T : 1\r\n\r\n"), "HPE_INVALID_HEADER_TOKEN"],
  // Pipelining: a smuggled second request is checked like the first.
  ["second pipelined request with CL and TE", `GET / HTTP/1.1\r\n${H}\r\n${post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n")}`, "HPE_UNEXPECTED_CONTENT_LENGTH"],
  ["request after Connection: close", `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, "HPE_CLOSED_CONNECTION"],
  ["request after an HTTP/1.0 request", `GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n`, "HPE_CLOSED_CONNECTION"],
  ["body shorter than Content-Length at end of input", post("Content-Length: 10\r\n", "abc"), "HPE_INVALID_EOF_STATE"],
  // Limits (RFC 9112 §3, RFC 9110 §15.5.14, RFC 6585 §5).
  ["request-target too long", `GET /${"a".repeat(9000)} HTTP/1.1\r\n${H}\r\n`, "HPE_URI_TOO_LONG"],
  ["too many header fields", `GET / HTTP/1.1\r\n${H}${"X: 1\r\n".repeat(101)}\r\n`, "HPE_TOO_MANY_HEADERS"],
  ["field line too large", `GET / HTTP/1.1\r\n${H}X: ${"v".repeat(17000)}\r\n\r\n`, "HPE_FIELD_TOO_LARGE"],
  ["header section too large", `GET / HTTP/1.1\r\n${H}${`X: ${"v".repeat(9000)}\r\n`.repeat(8)}\r\n`, "HPE_HEADERS_TOO_LARGE"],
  ["Content-Length above the body limit", post("Content-Length: 100\r\n"), "HPE_BODY_TOO_LARGE", { maxBodyBytes: 10 }],
  ["chunked body above the body limit", chunkedPost("a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n"), "HPE_BODY_TOO_LARGE", { maxBodyBytes: 10 }],
  ["trailers too large", chunkedPost(`0\r\nX: ${"t".repeat(200)}\r\n\r\n`), "HPE_TRAILERS_TOO_LARGE", { maxTrailerBytes: 100 }],
  // RFC 9110 §6.5.1: framing, routing, auth and content fields in trailers.
  ["Content-Length in trailers", chunkedPost("0\r\nContent-Length: 5\r\n\r\n"), "HPE_PROHIBITED_TRAILER"],
  ["Transfer-Encoding in trailers", chunkedPost("0\r\nTransfer-Encoding: chunked\r\n\r\n"), "HPE_PROHIBITED_TRAILER"],
  ["Host in trailers", chunkedPost("0\r\nX-Ok: 1\r\nHOST: evil\r\n\r\n"), "HPE_PROHIBITED_TRAILER"],
  ["Authorization in trailers", chunkedPost("0\r\nauthorization: Basic YTpi\r\n\r\n"), "HPE_PROHIBITED_TRAILER"],
  ["Content-Type in trailers", chunkedPost("0\r\nContent-Type: text/html\r\n\r\n"), "HPE_PROHIBITED_TRAILER"],
  // RFC 9112 §6.1: codings other than chunked are not undone here.
  ["TE gzip, chunked (not implemented)", post("Transfer-Encoding: gzip, chunked\r\n"), "HPE_UNSUPPORTED_TRANSFER_CODING"],
  ["TE deflate then chunked on two lines", post("Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n"), "HPE_UNSUPPORTED_TRANSFER_CODING"],
  ["TE chunked then gzip on two lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), "HPE_INVALID_TRANSFER_ENCODING"],
];

const RESPONSES: Row[] = [
  ["response CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "HPE_UNEXPECTED_CONTENT_LENGTH"],
  ["response CL values differ", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "HPE_INVALID_CONTENT_LENGTH"],
  ["four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "HPE_INVALID_STATUS"],
  ["status below 100", "HTTP/1.1 099 Low\r\n\r\n", "HPE_INVALID_STATUS"],
  ["two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "HPE_INVALID_STATUS"],
  ["NUL in reason", "HTTP/1.1 200 O\x00K\r\n\r\n", "HPE_INVALID_REASON"],
  ["bare LF after status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "HPE_CR_EXPECTED"],
  ["HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n", "HPE_INVALID_VERSION"],
  ["response chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "HPE_INVALID_TRANSFER_ENCODING"],
  ["response obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "HPE_OBS_FOLD"],
  ["response Content-Length in trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 9\r\n\r\n", "HPE_PROHIBITED_TRAILER"],
];

function check(kind: "request" | "response", [name, input, code, options]: Row): void {
  test(`${kind}: ${name} → ${code}`, () => {
    const data = bytes(input);
    const opts = { kind, ...options } as HTTP1ParserOptions;
    const whole = recordMessages(opts, [data]);
    assert.equal(whole.error?.code, code, `whole input: got ${JSON.stringify(whole.error)}`);
    const split = recordMessages(opts, Array.from(data, (_, i) => data.subarray(i, i + 1)));
    assert.deepEqual(split.error, whole.error, "byte-by-byte split gives the same error and offset");
  });
}

describe("RFC 9110 §6.5.1 prohibited trailer fields", () => {
  const input = bytes(chunkedPost("3\r\nabc\r\n0\r\nX-Sum: 1\r\nContent-Length: 9\r\nSet-Cookie: a=b\r\nX-Tail: 2\r\n\r\n"));
  test("prohibitedTrailers: \"drop\" leaves them out of onTrailers and counts them, whole or split", () => {
    for (const chunks of [[input], Array.from(input, (_, i) => input.subarray(i, i + 1))]) {
      const r = recordMessages({ kind: "request", prohibitedTrailers: "drop" }, chunks);
      assert.equal(r.error, null);
      assert.equal(r.messages[0]!.body, "abc");
      assert.deepEqual(r.messages[0]!.trailers, [["X-Sum", "1"], ["X-Tail", "2"]]);
    }
  });
  test("the default rejects; a bad policy is a TypeError", () => {
    assert.equal(recordMessages({ kind: "request" }, [input]).error?.code, "HPE_PROHIBITED_TRAILER");
    assert.throws(() => recordMessages({ kind: "request", prohibitedTrailers: "keep" as "drop" }, [input]), TypeError);
  });
  test("property: any prohibited name, in any case, split anywhere, is refused", () => {
    const names = [...PROHIBITED_TRAILER_FIELDS].filter((n) => !n.startsWith(":"));
    fc.assert(fc.property(
      fc.constantFrom(...names),
      fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
      fc.integer({ min: 1, max: 200 }),
      (name, upper, cut) => {
        const cased = Array.from(name, (c, i) => (upper[i % upper.length] ? c.toUpperCase() : c)).join("");
        const data = bytes(chunkedPost(`0\r\nX-A: 1\r\n${cased}: v\r\n\r\n`));
        const at = Math.min(cut, data.length - 1);
        const r = recordMessages({ kind: "request" }, [data.subarray(0, at), data.subarray(at)]);
        assert.equal(r.error?.code, "HPE_PROHIBITED_TRAILER", cased);
      },
    ), { numRuns: 300 });
  });
  test("droppedTrailerFields counts over the parser's life", async () => {
    const { HTTP1Parser } = await import("./parser.ts");
    const p = new HTTP1Parser({ kind: "request", prohibitedTrailers: "drop" }, {});
    p.push(input);
    p.push(input);
    assert.equal(p.droppedTrailerFields, 4);
  });
});

describe("RFC 9112 §6.3 rule 4: a response whose final coding is not chunked is read until close", () => {
  for (const te of ["chunked, gzip", "gzip", "chunked\r\nTransfer-Encoding: deflate"]) {
    test(`Transfer-Encoding: ${te.replace("\r\n", " / ")}`, () => {
      const raw = bytes(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
      const r = recordMessages({ kind: "response" }, [raw]);
      assert.equal(r.error, null);
      assert.equal(r.messages[0]!.framing, "until-close");
      assert.equal(r.messages[0]!.body, "5\r\nhello\r\n0\r\n\r\n");
    });
  }
});

describe("smuggling table (RFC 9112 §2.2, §3, §5, §6, §7; RFC 9110 §5.5, §8.6)", () => {
  test("has at least 60 hostile inputs", () => {
    assert.ok(REQUESTS.length + RESPONSES.length >= 60);
  });
  for (const row of REQUESTS) check("request", row);
  for (const row of RESPONSES) check("response", row);
});
