// connectViaProxy against proxies whose replies are wrong: a typed
// ProxyError with a stable code, never a tunnel, a crash or a hang.
// - HTTP CONNECT: 407 (with and without a challenge), 3xx, 101, garbage, a
//   3 MB field, 100,000 fields, a close inside the status line;
// - SOCKS5: wrong version in the method or CONNECT reply, no acceptable
//   method, a method not offered, a failure code, a bad address type, an
//   empty domain, a non-zero reserved byte, a reply cut short;
// - SOCKS4: wrong version, rejected, an undefined reply code, a close
//   inside the reply.
// Bytes after a 200 (or a SOCKS reply) are the tunnel's first bytes.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ProxyError } from "../core/errors.ts";
import { connectViaProxy } from "../socket/proxy/mod.ts";
import { fakeProxy as fakeProxyOn } from "./proxy_helpers.ts";

type Reply = (s: net.Socket) => void;
const servers: net.Server[] = [];
const B = (a: number[]): Buffer => Buffer.from(a);
const socks5 = (rep: Buffer): Reply => (s) => {
  s.write(B([5, 0]));
  s.once("data", () => s.write(rep));
};

/** A fake proxy (tests/proxy_helpers.ts) whose server this file closes. */
const fakeProxy = (reply: (socket: net.Socket) => void): Promise<number> => fakeProxyOn(servers, reply);

after(() => {
  for (const s of servers) s.close();
});

const REFUSED: Array<[string, string, Reply, string]> = [
  ["CONNECT: 407 with a challenge", "http", (s) => s.write("HTTP/1.1 407 Proxy Auth\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n"), "ERR_PROXY_AUTH_REQUIRED"],
  ["CONNECT: 407 without one", "http", (s) => s.write("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n"), "ERR_PROXY_AUTH_REQUIRED"],
  ["CONNECT: a redirect", "http", (s) => s.write("HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n"), "ERR_PROXY_STATUS"],
  ["CONNECT: 101", "http", (s) => s.write("HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n"), "ERR_PROXY_STATUS"],
  ["CONNECT: garbage", "http", (s) => s.end("garbage\r\n\r\n"), "ERR_PROXY_PROTOCOL"],
  ["CONNECT: a 3 MB field", "http", (s) => s.write("HTTP/1.1 200 OK\r\nX: " + "a".repeat(3_000_000) + "\r\n\r\n"), "ERR_PROXY_REPLY_TOO_LARGE"],
  ["CONNECT: 100,000 fields", "http", (s) => s.write("HTTP/1.1 200 OK\r\n" + "X: a\r\n".repeat(100_000) + "\r\n"), "ERR_PROXY_REPLY_TOO_LARGE"],
  ["CONNECT: a close inside the head", "http", (s) => s.end("HTTP/1.1 200 OK\r\n"), "ERR_PROXY_CLOSED"],
  ["SOCKS5: version 4 in the method reply", "socks5", (s) => s.write(B([4, 0])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5: no acceptable method", "socks5", (s) => s.write(B([5, 0xff])), "ERR_SOCKS5_NO_ACCEPTABLE_METHOD"],
  ["SOCKS5: a method not offered", "socks5", (s) => s.write(B([5, 2])), "ERR_SOCKS5_AUTH_REQUIRED"],
  ["SOCKS5: version 4 in the CONNECT reply", "socks5", socks5(B([4, 0, 0, 1, 127, 0, 0, 1, 0, 80])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5: connection refused", "socks5", socks5(B([5, 5, 0, 1, 127, 0, 0, 1, 0, 80])), "ERR_SOCKS5_CONNECTION_REFUSED"],
  ["SOCKS5: address type 9", "socks5", socks5(B([5, 0, 0, 9, 127, 0, 0, 1, 0, 80])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5: an empty bound domain", "socks5", socks5(B([5, 0, 0, 3, 0, 0, 80])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5: a reserved byte of 7", "socks5", socks5(B([5, 0, 7, 1, 127, 0, 0, 1, 0, 80])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5: a reply cut short", "socks5", (s) => {
    s.write(B([5, 0]));
    s.once("data", () => s.end(B([5, 0, 0, 1, 127])));
  }, "ERR_PROXY_CLOSED"],
  ["SOCKS4: version 4 in the reply", "socks4", (s) => s.write(B([4, 0x5a, 0, 80, 127, 0, 0, 1])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS4: rejected", "socks4", (s) => s.write(B([0, 0x5b, 0, 80, 127, 0, 0, 1])), "ERR_SOCKS4_REJECTED"],
  ["SOCKS4: reply code 0", "socks4", (s) => s.write(B([0, 0, 0, 80, 127, 0, 0, 1])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS4: a close inside the reply", "socks4", (s) => s.end(B([0, 0x5a])), "ERR_PROXY_CLOSED"],
];

describe("connectViaProxy: replies that refuse or break the protocol", () => {
  for (const [name, scheme, reply, code] of REFUSED) {
    test(`${name}: ${code}`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(connectViaProxy({ proxy: `${scheme}://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 }), (err: unknown) => {
        assert.ok(err instanceof ProxyError, String(err));
        assert.equal(err.code, code, String(err));
        return true;
      });
    });
  }
});

describe("connectViaProxy: bytes after the reply are the tunnel's", () => {
  const TUNNELS: Array<[string, string, Reply, string]> = [
    ["CONNECT 200 and bytes in the same write", "http", (s) => s.write("HTTP/1.1 200 OK\r\n\r\nEXTRA"), "EXTRA"],
    ["CONNECT 200 with a Content-Length (ignored, RFC 9110 9.3.6)", "http", (s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), "hello"],
    ["SOCKS5 with an IPv6 bound address", "socks5", socks5(Buffer.concat([B([5, 0, 0, 4]), Buffer.alloc(16), B([0, 80]), Buffer.from("EXTRA")])), "EXTRA"],
    ["SOCKS4", "socks4", (s) => s.write(B([0, 0x5a, 0, 80, 127, 0, 0, 1, 0x41, 0x42])), "AB"],
  ];
  for (const [name, scheme, reply, first] of TUNNELS) {
    test(name, async () => {
      const port = await fakeProxy(reply);
      const conn = await connectViaProxy({ proxy: `${scheme}://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 });
      try {
        const bytes = await conn.readExactly(first.length);
        assert.equal(new TextDecoder().decode(bytes), first);
      } finally {
        conn.close();
      }
    });
  }
});
