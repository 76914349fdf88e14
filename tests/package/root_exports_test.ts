/**
 * The root module is the whole public surface: every export of every layer
 * (socket/, poll/, http/, ws/ and the core modules it names) is also a root
 * export with the same value, except the one name two layers share, which
 * the root gives to HTTP/2 and exports the WebSocket one under its own name.
 * The FFI layer stays a subpath of its own (ffinet/ffi).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as root from "../../mod.ts";
import * as http from "../../http/mod.ts";
import * as poll from "../../poll/mod.ts";
import * as socket from "../../socket/mod.ts";
import * as ws from "../../ws/mod.ts";
import * as tls from "../../tls/mod.ts";
import * as dns from "../../dns/mod.ts";
import * as ffi from "../../ffi/mod.ts";
import * as pool from "../../pool/mod.ts";

const rootExports = root as Record<string, unknown>;

/** Names a layer exports that the root does not, or exports as something else. */
function missingFrom(layer: Record<string, unknown>, except: readonly string[] = []): string[] {
  return Object.keys(layer).filter((name) => !except.includes(name) && rootExports[name] !== layer[name]);
}

describe("root module", () => {
  test("re-exports every blocking socket export", () => {
    assert.deepEqual(missingFrom(socket), []);
  });

  test("re-exports every poll export: the loop, async connections, listeners, UDP", () => {
    assert.deepEqual(missingFrom(poll), []);
    for (const name of ["Loop", "connect", "listen", "Listener", "Connection"]) {
      assert.equal(typeof rootExports[name], "function", name);
    }
  });

  test("re-exports every http export", () => {
    assert.deepEqual(missingFrom(http), []);
  });

  test("re-exports every ws export; its writeFrameHeader as writeWebSocketFrameHeader", () => {
    assert.deepEqual(missingFrom(ws, ["writeFrameHeader"]), []);
    assert.equal(rootExports["writeWebSocketFrameHeader"], ws.writeFrameHeader);
    assert.equal(rootExports["writeFrameHeader"], http.writeFrameHeader);
  });

  test("re-exports every tls export", () => {
    assert.deepEqual(missingFrom(tls), []);
    for (const name of ["TLSContext", "TLSSocket", "connectTLSSync", "acceptTLS"]) {
      assert.equal(typeof rootExports[name], "function", name);
    }
  });

  test("re-exports every dns export", () => {
    assert.deepEqual(missingFrom(dns), []);
    for (const name of ["Resolver", "DNSCache", "decodeMessage", "encodeQuery", "lookupHost"]) {
      assert.equal(typeof rootExports[name], "function", name);
    }
  });

  test("re-exports every pool export", () => {
    assert.deepEqual(missingFrom(pool), []);
    for (const name of ["ConnectionPool", "ListenProtection", "SynGuard", "HostHealth"]) {
      assert.equal(typeof rootExports[name], "function", name);
    }
  });

  test("has blocking and async connect/listen side by side under names that tell them apart", () => {
    for (const name of ["connectTCPSync", "listenTCPSync", "connectUnixSync", "listenUnixSync", "bindUDPSync"]) {
      assert.equal(typeof rootExports[name], "function", name);
      assert.equal(rootExports[name], (socket as Record<string, unknown>)[name], name);
    }
    const pollExports = poll as Record<string, unknown>;
    for (const name of ["connect", "listen", "connectUnix", "listenUnix", "bindUDP"]) {
      assert.equal(typeof rootExports[name], "function", name);
      assert.equal(rootExports[name], pollExports[name], name);
    }
  });

  test("leaves the FFI layer to its subpath", () => {
    for (const name of ["libc", "native", "defineLibrary"]) {
      assert.ok(name in ffi, `ffinet/ffi exports ${name}`);
      assert.equal(rootExports[name], undefined, `the root does not export ${name}`);
    }
  });
});
