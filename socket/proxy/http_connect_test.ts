import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProxyError } from "../../core/errors.ts";
import { HttpConnectHandshake, type HttpConnectHandshakeOptions } from "./http_connect.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface Outcome {
  request: string;
  tunnel: string;
  status: number;
  error?: string;
  errorStatus?: number | undefined;
}

function drive(options: HttpConnectHandshakeOptions, reply: string | Uint8Array, sizes: readonly number[] = []): Outcome {
  const bytes = typeof reply === "string" ? enc(reply) : reply;
  const h = new HttpConnectHandshake(options);
  const out: Outcome = { request: dec(h.takeOutput()!), tunnel: "", status: 0 };
  const tunnel: number[] = [];
  try {
    let p = 0;
    let i = 0;
    while (p < bytes.length) {
      const size = i < sizes.length ? Math.max(1, sizes[i++]!) : bytes.length - p;
      const piece = bytes.subarray(p, p + size);
      p += piece.length;
      if (h.done) {
        tunnel.push(...piece);
        continue;
      }
      const used = h.push(piece);
      if (used < piece.length) {
        assert.ok(h.done);
        tunnel.push(...piece.subarray(used));
      }
    }
    if (!h.done) h.end();
    out.status = h.status;
  } catch (err) {
    assert.ok(err instanceof ProxyError, String(err));
    out.error = err.code;
    out.errorStatus = err.status;
    assert.throws(() => h.push(enc("x")), (e: unknown) => e === err);
  }
  out.tunnel = dec(new Uint8Array(tunnel));
  return out;
}

const T = { host: "example.com", port: 443 };

describe("HttpConnectHandshake", () => {
  test("the request: authority-form target, Host, Basic Proxy-Authorization, extra headers", () => {
    assert.equal(drive(T, "HTTP/1.1 200 OK\r\n\r\n").request, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    const r = drive({ host: "::1", port: 8443, username: "Aladdin", password: "open sesame", headers: { "User-Agent": "ffinet" } }, "HTTP/1.1 200 OK\r\n\r\n");
    assert.equal(
      r.request,
      "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\nUser-Agent: ffinet\r\n\r\n",
    );
  });

  test("2xx opens the tunnel; bytes after the header are the tunnel's first bytes", () => {
    const r = drive(T, "HTTP/1.0 200 Connection established\r\nProxy-Agent: x\r\n\r\nSSH-2.0-banner\r\n");
    assert.equal(r.error, undefined);
    assert.equal(r.status, 200);
    assert.equal(r.tunnel, "SSH-2.0-banner\r\n");
    // Content-Length on a 2xx CONNECT is ignored (RFC 9110 §9.3.6): it is tunnel data.
    assert.equal(drive(T, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").tunnel, "abcdef");
  });

  test("interim 1xx responses are skipped", () => {
    const r = drive(T, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nX");
    assert.equal(r.status, 200);
    assert.equal(r.tunnel, "X");
    // At most PROXY_LIMITS.maxInterimResponses of them.
    const eight = drive(T, "HTTP/1.1 100 Continue\r\n\r\n".repeat(8) + "HTTP/1.1 200 OK\r\n\r\nX");
    assert.equal(eight.status, 200);
    assert.equal(eight.tunnel, "X");
  });

  test("non-2xx is a ProxyError with the status; 407 has its own code", () => {
    const denied = drive(T, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 5\r\n\r\nnope!");
    assert.equal(denied.error, "ERR_PROXY_AUTH_REQUIRED");
    assert.equal(denied.errorStatus, 407);
    for (const status of [101, 301, 400, 403, 404, 500, 502, 503]) {
      const r = drive(T, `HTTP/1.1 ${status} X\r\n\r\n`);
      assert.equal(r.error, "ERR_PROXY_STATUS");
      assert.equal(r.errorStatus, status);
    }
  });

  test("garbage, oversized and truncated replies are typed", () => {
    assert.equal(drive(T, "SSH-2.0-OpenSSH\r\n").error, "ERR_PROXY_PROTOCOL");
    assert.equal(drive(T, "HTTP/1.1 2000 OK\r\n\r\n").error, "ERR_PROXY_PROTOCOL");
    assert.equal(drive(T, "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n").error, "ERR_PROXY_PROTOCOL");
    assert.equal(drive(T, "\x00\x01\x02\x03").error, "ERR_PROXY_PROTOCOL");
    assert.equal(drive(T, `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`).error, "ERR_PROXY_REPLY_TOO_LARGE");
    assert.equal(drive({ ...T, maxHeaderBytes: 100 }, `HTTP/1.1 200 OK\r\nX: ${"a".repeat(200)}\r\n\r\n`).error, "ERR_PROXY_REPLY_TOO_LARGE");
    let many = "HTTP/1.1 200 OK\r\n";
    for (let i = 0; i < 100; i++) many += `X-${i}: v\r\n`;
    assert.equal(drive(T, many + "\r\n").error, "ERR_PROXY_REPLY_TOO_LARGE");
    assert.equal(drive(T, `HTTP/1.1 200 ${"r".repeat(2000)}\r\n\r\n`).error, "ERR_PROXY_REPLY_TOO_LARGE");
    const full = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    for (let cut = 0; cut < full.length; cut++) assert.equal(drive(T, full.slice(0, cut)).error, "ERR_PROXY_CLOSED", `cut ${cut}`);
  });

  test("bad options never reach the wire", () => {
    assert.throws(() => new HttpConnectHandshake({ host: "a b", port: 1 }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a\r\nX: y", port: 1 }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "", port: 1 }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a", port: 0 }), RangeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a", port: 1, username: "a:b", password: "c" }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a", port: 1, username: "a", password: "c\r\n" }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a", port: 1, headers: { "Bad Name": "x" } }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a", port: 1, headers: { X: "a\r\nb" } }), TypeError);
    assert.throws(() => new HttpConnectHandshake({ host: "a", port: 1, headers: { Host: "b" } }), TypeError);
  });

  test("property: any split gives the same status, error and tunnel bytes", () => {
    const reply = fc.tuple(
      fc.constantFrom("HTTP/1.1 200 Connection established", "HTTP/1.0 200 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 403 Forbidden", "HTTP/1.1 407 Auth"),
      fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,10}$/), fc.stringMatching(/^[ -~]{0,20}$/).map((s) => s.trim())), { maxLength: 6 }),
      fc.boolean(),
      fc.uint8Array({ maxLength: 30 }),
    ).map(([line, fields, interim, tunnel]) => {
      let head = interim ? "HTTP/1.1 100 Continue\r\n\r\n" : "";
      head += line + "\r\n" + fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n";
      return new Uint8Array([...enc(head), ...tunnel]);
    });
    fc.assert(
      fc.property(reply, fc.array(fc.integer({ min: 1, max: 17 }), { maxLength: 40 }), (bytes, sizes) => {
        const whole = drive(T, bytes);
        assert.deepEqual(drive(T, bytes, sizes), whole);
        assert.deepEqual(drive(T, bytes, new Array(bytes.length).fill(1)), whole);
      }),
      { numRuns: 400 },
    );
  });
});
