// connectViaProxy against proxies that play games (client red team, second
// round; hostile_client_proxy_test covers wrong replies and codes):
// - SOCKS5 authentication: a method reply picking GSSAPI or a private
//   method never offered, a sub-negotiation reply with version 5, a refusal,
//   a reply cut short;
// - partial replies that then stall (CONNECT head, SOCKS5 method reply,
//   SOCKS5 reply with a 255-byte bound name, SOCKS4 reply, the SOCKS5
//   authentication reply) end at timeoutMs in SocketTimeoutError;
// - a 100 before the 200, an HTTP/1.0 200 and a 204 are tunnels (any 2xx
//   is, RFC 9110 §9.3.6); SOCKS4a's reply is SOCKS4's;
// - a TLS target behind a CONNECT 200 followed by bytes that are no TLS, or
//   by a cut record, is a TLSHandshakeError, never a connection.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ProxyError, SocketTimeoutError, TLSHandshakeError } from "../core/errors.ts";
import { connectViaProxy } from "../socket/proxy/mod.ts";
import { fakeProxy as fakeProxyOn } from "./proxy_helpers.ts";
import { testPKI } from "./tls_pki.ts";

type Reply = (s: net.Socket) => void;
const servers: net.Server[] = [];
const B = (a: number[]): Buffer => Buffer.from(a);
const fakeProxy = (reply: Reply): Promise<number> => fakeProxyOn(servers, reply);

after(() => {
  for (const s of servers) s.close();
});

/** A SOCKS5 proxy that asks for username/password and answers the sub-negotiation with `auth`. */
const userPass = (auth: (s: net.Socket) => void): Reply => (s) => {
  s.write(B([5, 2]));
  s.once("data", () => auth(s));
};

const REFUSED: Array<[string, string, Reply, string]> = [
  ["SOCKS5: GSSAPI picked, never offered", "socks5://", (s) => s.write(B([5, 1])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5 with credentials: a private method (0x80) picked", "socks5://u:p@", (s) => s.write(B([5, 0x80])), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5 authentication: version 5 in the sub-negotiation reply", "socks5://u:p@", userPass((s) => s.write(B([5, 0]))), "ERR_PROXY_PROTOCOL"],
  ["SOCKS5 authentication: refused", "socks5://u:p@", userPass((s) => s.write(B([1, 1]))), "ERR_SOCKS5_AUTH_FAILED"],
  ["SOCKS5 authentication: a reply cut short", "socks5://u:p@", userPass((s) => s.end(B([1]))), "ERR_PROXY_CLOSED"],
  ["SOCKS4a: a 100 kB reply of zeros", "socks4a://", (s) => s.write(Buffer.alloc(100_000)), "ERR_PROXY_PROTOCOL"],
];

describe("connectViaProxy: authentication games", () => {
  for (const [name, prefix, reply, code] of REFUSED) {
    test(`${name}: ${code}`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(connectViaProxy({ proxy: `${prefix}127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 }), (err: unknown) => {
        assert.ok(err instanceof ProxyError, String(err));
        assert.equal(err.code, code, String(err));
        return true;
      });
    });
  }
});

describe("connectViaProxy: a reply that starts and then stalls ends at timeoutMs", () => {
  const STALLS: Array<[string, string, Reply]> = [
    ["CONNECT: a status line, no end of head", "http://", (s) => s.write("HTTP/1.1 200 OK\r\n")],
    ["SOCKS5: one byte of the method reply", "socks5://", (s) => s.write(B([5]))],
    ["SOCKS5: authentication asked, never answered", "socks5://u:p@", userPass(() => {})],
    ["SOCKS5: a reply with a 255-byte bound name cut at 200", "socks5://", (s) => {
      s.write(B([5, 0]));
      s.once("data", () => s.write(Buffer.concat([B([5, 0, 0, 3, 255]), Buffer.alloc(200, 0x61)])));
    }],
    ["SOCKS4: half a reply", "socks4://", (s) => s.write(B([0, 0x5a, 0, 80]))],
  ];
  for (const [name, prefix, reply] of STALLS) {
    test(`${name}: SocketTimeoutError`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(connectViaProxy({ proxy: `${prefix}127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 300 }), (err: unknown) => {
        assert.ok(err instanceof SocketTimeoutError, String(err));
        return true;
      });
    });
  }
});

describe("connectViaProxy: CONNECT answers that are tunnels", () => {
  const TUNNELS: Array<[string, Reply]> = [
    ["a 100 Continue before the 200", (s) => s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nEXTRA")],
    ["an HTTP/1.0 200", (s) => s.write("HTTP/1.0 200 Connection established\r\n\r\nEXTRA")],
    ["a 204 (any 2xx switches, RFC 9110 §9.3.6)", (s) => s.write("HTTP/1.1 204 No Content\r\n\r\nEXTRA")],
  ];
  for (const [name, reply] of TUNNELS) {
    test(`${name}: the bytes after it are the tunnel's`, async () => {
      const port = await fakeProxy(reply);
      const conn = await connectViaProxy({ proxy: `http://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 });
      try {
        assert.equal(new TextDecoder().decode(await conn.readExactly(5)), "EXTRA");
      } finally {
        conn.close();
      }
    });
  }
});

describe("connectViaProxy with TLS to the target: bytes before the handshake", () => {
  const BEFORE: Array<[string, Reply, RegExp]> = [
    ["a CONNECT 200 then bytes that are no TLS", (s) => s.write("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 502 Bad Gateway\r\n\r\n"), /did not speak TLS/],
    ["a CONNECT 200 then a cut record and a close", (s) => s.end(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\n\r\n"), B([22, 3, 3, 0, 10, 2, 0, 0, 6])])), /unexpected eof/],
  ];
  for (const [name, reply, message] of BEFORE) {
    test(`${name}: TLSHandshakeError`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(
        connectViaProxy({ proxy: `http://127.0.0.1:${port}`, host: "127.0.0.1", port: 443, timeoutMs: 20_000, tls: { ca: testPKI().root, servername: "localhost" } }),
        (err: unknown) => {
          assert.ok(err instanceof TLSHandshakeError, String(err));
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});
