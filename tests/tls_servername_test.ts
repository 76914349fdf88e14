// The name a client verifies and sends as SNI (host or servername) is
// checked once, by checkServername, for TLS (connectTLS, connect({ tls }),
// tlsConnector, startTLS), DTLS (connectDTLS, startDTLS, DTLSSocket) and
// TLSSocket: a space, a NUL or another control character, an empty name,
// an empty label, a label over 63 bytes (its A-label for a Unicode one)
// or more than 255 bytes is a TypeError with code
// ERR_TLS_INVALID_SERVERNAME before any byte is sent (it used to go out as
// SNI, or a NUL said "host must be a string"); a Unicode name passes when
// it has an A-label; an IP literal keeps going without SNI.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Connection } from "../poll/connection.ts";
import { connect } from "../poll/connect.ts";
import { Dgram } from "../socket/dgram.ts";
import { Socket } from "../socket/socket.ts";
import { connectTLS, listenTLS, tlsConnector, tlsInfo } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { connectDTLSSync, DTLSSocket } from "../tls/dtls.ts";
import { connectDTLS, startDTLS } from "../tls/dtls_async.ts";
import { DTLSContext } from "../tls/dtls_context.ts";
import { checkServername, INVALID_SERVERNAME, peerName } from "../tls/ssl_setup.ts";
import * as tlsModule from "../tls/mod.ts";
import { TLSSocket } from "../tls/tls_socket.ts";
import { tlsTestBed } from "./tls_helpers.ts";

const { cert: CERT, key: KEY, ca: CA, closers } = tlsTestBed();

const BAD = ["a b", "a\0b", "\0", "", " ", "host\r\nx", "tab\there", "del\x7f", ".", "a..b", "..", "a:443", "a/b", "a@b", "x".repeat(256), `${"a".repeat(63)}.`.repeat(4) + "abcd", "bü cher.example", "bücher\0.example",
  "x".repeat(64), `${"a".repeat(64)}.example`, `example.${"b".repeat(64)}.`, `ü${"a".repeat(60)}.example` /* A-label xn--…: 66 bytes */];
const GOOD = ["localhost", "localhost.", "example.com", "EXAMPLE.com", "_svc.example", "a-b.example", "x".repeat(63), `${"a".repeat(63)}.`.repeat(3) + "a".repeat(63), `ü${"a".repeat(50)}.example`, "bücher.example", "127.0.0.1", "::1", "[::1]"];

// The code is public (tls/mod.ts) as the stable value callers compare with.
assert.equal(tlsModule.INVALID_SERVERNAME, "ERR_TLS_INVALID_SERVERNAME");
const invalid = (e: unknown): boolean => e instanceof TypeError && (e as { code?: string }).code === INVALID_SERVERNAME;

describe("checkServername", () => {
  test("refuses control characters, spaces, empty names and labels, labels over 63 bytes, non-name characters and more than 255 bytes", () => {
    for (const name of BAD) assert.throws(() => checkServername(name, "test"), invalid, JSON.stringify(name));
    for (const value of [undefined, null, 5, {}]) assert.throws(() => checkServername(value, "test"), invalid);
  });

  test("passes names, Unicode names with an A-label and IP literals (brackets removed)", () => {
    for (const name of GOOD) assert.equal(checkServername(name, "test"), name === "[::1]" ? "::1" : name);
    assert.equal(peerName("bücher.example"), "xn--bcher-kva.example");
  });

  test("a name of labels of 1–63 letters passes up to 255 bytes; one label of 64 or more refuses it (property)", () => {
    const label = (min: number, max: number) => fc.string({ unit: fc.constantFrom(..."abcxyz019-_"), minLength: min, maxLength: max });
    fc.assert(fc.property(fc.array(label(1, 63), { minLength: 1, maxLength: 6 }), label(64, 100), fc.nat(6), (labels, long, at) => {
      const name = labels.join(".");
      if (name.length <= 255) assert.equal(checkServername(name, "test"), name);
      const withLong = [...labels.slice(0, at), long, ...labels.slice(at)].join(".");
      assert.throws(() => checkServername(withLong, "test"), invalid);
    }));
  });

  test("any string with a control character or a space is refused (property)", () => {
    fc.assert(fc.property(fc.string(), fc.integer({ min: 0, max: 0x20 }), fc.string(), (a, code, b) => {
      assert.throws(() => checkServername(a + String.fromCharCode(code) + b, "test"), invalid);
    }));
  });
});

describe("every client checks its name before sending a byte", () => {
  test("connectTLS, connect({ tls }), tlsConnector and startTLS", async () => {
    // Port 9 on loopback: nothing is connected when the name is refused first.
    for (const servername of ["a b", "a\0b", "", `${"a".repeat(64)}.example`]) {
      await assert.rejects(connectTLS({ host: "127.0.0.1", port: 9, servername }), invalid);
      await assert.rejects(connect({ host: "127.0.0.1", port: 9, tls: { servername } }), invalid);
      assert.throws(() => tlsConnector({ servername }), invalid);
    }
    await assert.rejects(connectTLS({ host: "a b", port: 9 }), invalid);
  });

  test("TLSSocket and DTLS", async () => {
    const ctx = new TLSContext({ rejectUnauthorized: false });
    closers.push(() => ctx.close());
    for (const host of ["a b", "a\0b"]) {
      const socket = Socket.create("ipv4");
      assert.throws(() => TLSSocket.client(socket, ctx, { host }), invalid);
      socket.close();
    }
    const dctx = new DTLSContext({ role: "client", rejectUnauthorized: false });
    closers.push(() => dctx.close());
    for (const servername of ["a b", "a\0b", ""]) {
      assert.throws(() => connectDTLSSync({ host: "127.0.0.1", port: 9, servername, rejectUnauthorized: false }), invalid);
      await assert.rejects(async () => await connectDTLS({ host: "127.0.0.1", port: 9, servername, rejectUnauthorized: false }), invalid);
      await assert.rejects(startDTLS(Dgram.create("ipv4"), { servername, rejectUnauthorized: false }), invalid);
    }
    assert.throws(() => DTLSSocket.client(Dgram.create("ipv4"), dctx, { host: "a b" }), invalid);
  });

  test("real handshakes: a checked name, a Unicode name sent as its A-label, an IP literal without SNI", async () => {
    const server = listenTLS({ host: "127.0.0.1", port: 0, cert: CERT, key: KEY, handler: { data: (c: Connection, d: Uint8Array) => void c.send(d) } });
    closers.push(() => server.close());
    const a = await connectTLS({ host: "127.0.0.1", port: server.port, servername: "localhost.", ca: CA });
    assert.equal(tlsInfo(a)?.protocol !== undefined, true);
    await a.close();
    // Not verified (the certificate names neither): the handshake runs with the name accepted.
    for (const servername of ["bücher.example", "127.0.0.1"]) {
      const c = await connectTLS({ host: "127.0.0.1", port: server.port, servername, rejectUnauthorized: false });
      assert.ok(tlsInfo(c) !== null);
      await c.close();
    }
  });
});
