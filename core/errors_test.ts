import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FFIUnavailableError,
  HPACKError,
  HTTP1ParseError,
  HTTP2Error,
  HTTP2StreamError,
  isRetryable,
  LimitError,
  NetError,
  SocketClosedError,
  SocketError,
  SocketTimeoutError,
  TLSHandshakeError,
  TLSVerifyError,
  UnsupportedError,
  WebSocketError,
} from "./errors.ts";

describe("core/errors", () => {
  test("every error carries a stable code, errno, syscall and cause", () => {
    const cause = new Error("inner");
    const err = new SocketError("ECONNREFUSED", "connect failed", {
      errno: 111,
      syscall: "connect",
      address: "127.0.0.1:1",
      cause,
    });
    assert.equal(err.code, "ECONNREFUSED");
    assert.equal(err.errno, 111);
    assert.equal(err.syscall, "connect");
    assert.equal(err.address, "127.0.0.1:1");
    assert.equal(err.cause, cause);
    assert.equal(err.name, "SocketError");
    assert.ok(err instanceof Error);
    assert.ok(err instanceof NetError);
  });

  test("instanceof follows the class tree", () => {
    const closed = new SocketClosedError("EPIPE", "gone");
    assert.ok(closed instanceof SocketClosedError);
    assert.ok(closed instanceof SocketError);
    assert.ok(closed instanceof NetError);
    assert.ok(!(closed instanceof SocketTimeoutError));
    assert.ok(new TLSVerifyError("ERR_TLS_VERIFY", "x") instanceof TLSHandshakeError);
    const stream = new HTTP2StreamError("REFUSED_STREAM", "x", 7, 3);
    assert.ok(stream instanceof HTTP2Error);
    assert.equal(stream.streamId, 3);
    assert.equal(stream.http2Code, 7);
    assert.ok(!(new Error("plain") instanceof NetError));
    assert.ok(!((null as unknown) instanceof NetError));
  });

  test("instanceof works across two copies of the library (Symbol.for brand)", () => {
    // A second copy of the library makes its own classes but the same brands.
    class OtherNetError extends Error {
      [key: symbol]: unknown;
      constructor() {
        super("from another copy");
        Object.defineProperty(this, Symbol.for("ffinet.error.brands"), {
          value: ["ffinet.SocketClosedError", "ffinet.SocketError", "ffinet.NetError"],
        });
      }
    }
    const foreign = new OtherNetError();
    assert.ok(foreign instanceof SocketClosedError);
    assert.ok(foreign instanceof SocketError);
    assert.ok(foreign instanceof NetError);
    assert.ok(!(foreign instanceof HPACKError));
  });

  test("protocol errors carry their protocol codes", () => {
    assert.equal(new HPACKError("ERR_HPACK", "x").http2Code, 9);
    assert.equal(new WebSocketError("WS_ERR", "x", 1009).closeCode, 1009);
    assert.equal(new HTTP1ParseError("HPE_X", "x", 17).offset, 17);
    assert.equal(new LimitError("ERR_LIMIT", "x", 10).limit, 10);
    assert.equal(new UnsupportedError("splice", "Linux only").code, "ERR_UNSUPPORTED");
    assert.match(new FFIUnavailableError("libz", "install it").message, /libz is unavailable: install it/);
  });

  test("isRetryable classifies transient failures", () => {
    assert.equal(isRetryable(new SocketError("ECONNREFUSED", "x")), true);
    assert.equal(isRetryable(new SocketClosedError("ECONNRESET", "x")), true);
    assert.equal(isRetryable(new SocketTimeoutError("x")), true);
    assert.equal(isRetryable(new HTTP2StreamError("REFUSED_STREAM", "x", 7, 1)), true);
    assert.equal(isRetryable(new HTTP2StreamError("CANCEL", "x", 8, 1)), false);
    assert.equal(isRetryable(new SocketError("EACCES", "x")), false);
    assert.equal(isRetryable(new HTTP1ParseError("HPE_INVALID_METHOD", "x", 0)), false);
    assert.equal(isRetryable(new TLSVerifyError("ERR_TLS_VERIFY", "x")), false);
    assert.equal(isRetryable(new TypeError("x")), false);
    assert.equal(isRetryable("ECONNRESET"), false);
  });

  test("isRetryable judges fetch's TypeErrors (\"fetch failed\", a body's \"terminated\") by their typed cause", () => {
    assert.equal(isRetryable(new TypeError("fetch failed", { cause: new SocketError("ECONNREFUSED", "x") })), true);
    assert.equal(isRetryable(new TypeError("terminated", { cause: new SocketClosedError("ECONNRESET", "x") })), true);
    assert.equal(isRetryable(new TypeError("fetch failed", { cause: new TLSVerifyError("ERR_TLS_VERIFY", "x") })), false);
    assert.equal(isRetryable(new TypeError("terminated", { cause: new HTTP1ParseError("HPE_INVALID_CHUNK_SIZE", "x", 0) })), false);
    assert.equal(isRetryable(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") })), false);
    assert.equal(isRetryable(new TypeError("fetch failed", { cause: new DOMException("aborted", "AbortError") })), false);
  });
});
