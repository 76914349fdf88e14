import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { C, LAYOUT } from "../ffi/platform.ts";
import { formatIPv4, formatIPv6 } from "./address.ts";
import {
  decodeSockaddr,
  encodeIPv4,
  encodeSockaddr,
  encodeUnix,
  SockaddrBuffer,
  sockaddrFamily,
  sockaddrPort,
  zoneToScopeId,
} from "./sockaddr.ts";

describe("sockaddr", () => {
  test("sockaddr_in bytes follow the layout", () => {
    const out = new Uint8Array(LAYOUT.sockaddr_in.size);
    const len = encodeIPv4(out, new Uint8Array([127, 0, 0, 1]), 0x1234);
    assert.equal(len, LAYOUT.sockaddr_in.size);
    assert.equal(sockaddrFamily(out), C.AF_INET);
    assert.equal(sockaddrPort(out), 0x1234);
    assert.equal(out[LAYOUT.sockaddr_in.port], 0x12); // network order
    assert.deepEqual([...out.subarray(LAYOUT.sockaddr_in.addr, LAYOUT.sockaddr_in.addr + 4)], [127, 0, 0, 1]);
  });

  test("IPv4 and IPv6 round trips (property)", () => {
    const buf = new SockaddrBuffer();
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 65535 }), (b, port) => {
      const addr = { family: "ipv4", host: formatIPv4(b), port } as const;
      const len = encodeSockaddr(addr, buf.bytes);
      assert.deepEqual(decodeSockaddr(buf.bytes, len), addr);
    }), { numRuns: 200 });
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 0xfffff }), (b, port, flowInfo) => {
      const addr = { family: "ipv6", host: formatIPv6(b), port, flowInfo, scopeId: 0 } as const;
      const len = encodeSockaddr(addr, buf.bytes);
      assert.equal(len, LAYOUT.sockaddr_in6.size);
      assert.deepEqual(decodeSockaddr(buf.bytes, len), addr);
    }), { numRuns: 200 });
  });

  test("IPv6 zones resolve to scope ids and back", () => {
    const lo = zoneToScopeId("lo");
    assert.ok(lo > 0);
    const buf = new SockaddrBuffer();
    const len = encodeSockaddr({ family: "ipv6", host: "fe80::1%lo", port: 1 }, buf.bytes);
    const back = decodeSockaddr(buf.bytes, len);
    assert.equal(back.family === "ipv6" && back.scopeId, lo);
    assert.equal(back.family === "ipv6" && back.host, "fe80::1%lo");
    encodeSockaddr({ family: "ipv6", host: "fe80::1%7", port: 1 }, buf.bytes);
    assert.equal(new DataView(buf.bytes.buffer).getUint32(LAYOUT.sockaddr_in6.scopeId, true), 7);
    assert.throws(() => zoneToScopeId("nosuchif0"), TypeError);
  });

  test("Unix paths, abstract names and unnamed sockets", () => {
    const buf = new SockaddrBuffer();
    const path = "/tmp/ffinet.sock";
    let len = encodeUnix(buf.bytes, path);
    assert.equal(len, LAYOUT.sockaddr_un.path + path.length + 1);
    assert.deepEqual(decodeSockaddr(buf.bytes, len), { family: "unix", path });
    len = encodeUnix(buf.bytes, "@ffinet-abstract");
    assert.equal(buf.bytes[LAYOUT.sockaddr_un.path], 0);
    assert.equal(len, LAYOUT.sockaddr_un.path + 1 + "ffinet-abstract".length);
    assert.deepEqual(decodeSockaddr(buf.bytes, len), { family: "unix", path: "@ffinet-abstract" });
    assert.deepEqual(decodeSockaddr(buf.bytes, LAYOUT.sockaddr_un.path), { family: "unix", path: "" });
  });

  test("bad input names the value", () => {
    const buf = new SockaddrBuffer();
    assert.throws(() => encodeUnix(buf.bytes, "/tmp/" + "x".repeat(200)), RangeError);
    assert.throws(() => encodeUnix(buf.bytes, "/tmp/a\0b"), TypeError);
    assert.throws(() => encodeSockaddr({ family: "ipv4", host: "1.2.3", port: 1 }, buf.bytes), /"1\.2\.3"/);
    assert.throws(() => encodeSockaddr({ family: "ipv4", host: "1.2.3.4", port: 70000 }, buf.bytes), RangeError);
    assert.throws(() => encodeIPv4(new Uint8Array(4), new Uint8Array(4), 1), RangeError);
    assert.throws(() => decodeSockaddr(new Uint8Array(16).fill(0xff), 16), TypeError);
  });
});
