// connectViaProxy (and connectViaProxySync) against hostile proxies, third
// round (hostile_client_proxy_test and hostile_client2_proxy_test cover wrong
// codes, authentication games and plain stalls):
// - replies written one byte per TCP segment (SOCKS5 with each address type,
//   SOCKS4, CONNECT) are the same tunnels as replies in one piece;
// - a complete reply then an immediate close is a tunnel that reads the end
//   of stream; a bound name of 255 bytes cut at 10 and closed is
//   ERR_PROXY_CLOSED; a 255-byte name followed by 1 MB is a tunnel whose
//   bytes start after the name;
// - HTTP/0.9-style answers (no status line), HTTP/2.0, bare LF, a 4-digit
//   status and a NUL in a field are ERR_PROXY_PROTOCOL; endless header
//   lines, even trickled, end at the field limit (ERR_PROXY_REPLY_TOO_LARGE),
//   and interim 1xx responses without end at PROXY_LIMITS.maxInterimResponses;
// - a proxy that stalls fails with a SocketTimeoutError whose message names
//   the phase it stalled in (the SOCKS5 method selection, authentication or
//   CONNECT reply, the SOCKS4 reply, the CONNECT response head), on the
//   loop and on the blocking path.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ProxyError, SocketTimeoutError } from "../core/errors.ts";
import { connectViaProxy, connectViaProxySync } from "../socket/proxy/mod.ts";
import { fakeProxy as fakeProxyOn } from "./proxy_helpers.ts";

type Reply = (s: net.Socket) => void;
const servers: net.Server[] = [];
const timers: Array<ReturnType<typeof setInterval>> = [];
const B = (a: number[]): Buffer => Buffer.from(a);
const fakeProxy = (reply: Reply): Promise<number> => fakeProxyOn(servers, reply);

after(() => {
  for (const t of timers) clearInterval(t);
  for (const s of servers) s.close();
});

/** Writes `bytes` one per TCP segment (a timer tick between them). */
function trickle(s: net.Socket, bytes: Buffer): void {
  s.setNoDelay(true);
  let i = 0;
  const t = setInterval(() => {
    if (s.destroyed || i >= bytes.length) {
      clearInterval(t);
      return;
    }
    s.write(bytes.subarray(i, ++i));
  }, 1);
  timers.push(t);
}

/** Writes `line` every tick until the client goes away. */
function forever(s: net.Socket, first: string, line: string): void {
  s.write(first);
  const t = setInterval(() => {
    if (s.destroyed) clearInterval(t);
    else s.write(line);
  }, 1);
  timers.push(t);
}

const socks5Then = (reply: (s: net.Socket) => void): Reply => (s) => {
  s.write(B([5, 0]));
  s.once("data", () => reply(s));
};

const tunnel = (...parts: Buffer[]): Buffer => Buffer.concat([...parts, Buffer.from("HI")]);

describe("connectViaProxy: replies one byte per segment are the same tunnels", () => {
  const CASES: Array<[string, string, Reply]> = [
    ["SOCKS5, IPv4 bound address", "socks5", socks5Then((s) => trickle(s, tunnel(B([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]))))],
    ["SOCKS5, bound name", "socks5", socks5Then((s) => trickle(s, tunnel(B([5, 0, 0, 3, 3, 97, 98, 99, 0, 80]))))],
    ["SOCKS5, IPv6 bound address", "socks5", socks5Then((s) => trickle(s, tunnel(B([5, 0, 0, 4]), Buffer.alloc(16), B([0, 80]))))],
    ["SOCKS5, the method reply too", "socks5", (s) => {
      trickle(s, B([5, 0]));
      s.on("data", (d: Buffer) => {
        if (d[0] === 5 && d[1] === 1) trickle(s, tunnel(B([5, 0, 0, 1, 127, 0, 0, 1, 0, 80])));
      });
    }],
    ["SOCKS4", "socks4", (s) => trickle(s, tunnel(B([0, 0x5a, 0, 80, 127, 0, 0, 1])))],
    ["HTTP CONNECT", "http", (s) => trickle(s, tunnel(Buffer.from("HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n")))],
  ];
  for (const [name, scheme, reply] of CASES) {
    test(name, async () => {
      const port = await fakeProxy(reply);
      const conn = await connectViaProxy({ proxy: `${scheme}://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 });
      try {
        assert.equal(new TextDecoder().decode(await conn.readExactly(2)), "HI");
      } finally {
        await conn.close();
      }
    });
  }
});

describe("connectViaProxy: a reply and then a close", () => {
  test("SOCKS5: a whole reply then a close is a tunnel that reads the end of stream", async () => {
    const port = await fakeProxy(socks5Then((s) => s.end(B([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]))));
    const conn = await connectViaProxy({ proxy: `socks5://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 });
    try {
      assert.equal(await conn.read(), null);
    } finally {
      await conn.close();
    }
  });

  test("SOCKS5: a 255-byte bound name cut at 10 bytes and closed is ERR_PROXY_CLOSED", async () => {
    const port = await fakeProxy(socks5Then((s) => s.end(Buffer.concat([B([5, 0, 0, 3, 255]), Buffer.alloc(10, 0x61)]))));
    await assert.rejects(connectViaProxy({ proxy: `socks5://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 }), (err: unknown) => {
      assert.ok(err instanceof ProxyError && err.code === "ERR_PROXY_CLOSED", String(err));
      assert.match(err.message, /CONNECT reply/);
      return true;
    });
  });

  test("SOCKS5: a 255-byte bound name and 1 MB after it: the tunnel starts after the name and port", async () => {
    const name = Buffer.alloc(255, 0x61);
    const port = await fakeProxy(socks5Then((s) => s.write(Buffer.concat([B([5, 0, 0, 3, 255]), name, B([0, 80]), Buffer.alloc(1 << 20, 0x62)]))));
    const conn = await connectViaProxy({ proxy: `socks5://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 });
    try {
      const first = await conn.readExactly(4);
      assert.deepEqual([...first], [0x62, 0x62, 0x62, 0x62]);
    } finally {
      conn.abort();
    }
  });
});

describe("connectViaProxy: CONNECT answers that are not HTTP/1.x heads", () => {
  const CASES: Array<[string, Reply, string]> = [
    ["an HTTP/0.9-style body and a close", (s) => s.end("<html>hello</html>"), "ERR_PROXY_PROTOCOL"],
    ["200 KB without a line end", (s) => s.write(Buffer.alloc(200_000, 0x61)), "ERR_PROXY_PROTOCOL"],
    ["HTTP/2.0 200", (s) => s.write("HTTP/2.0 200 OK\r\n\r\nHI"), "ERR_PROXY_PROTOCOL"],
    ["a 4-digit status", (s) => s.write("HTTP/1.1 2000 OK\r\n\r\nHI"), "ERR_PROXY_PROTOCOL"],
    ["a NUL in a field value", (s) => s.write("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\nHI"), "ERR_PROXY_PROTOCOL"],
    ["bare LF line ends", (s) => s.write("HTTP/1.1 200 OK\nX: y\n\nHI"), "ERR_PROXY_PROTOCOL"],
    ["header lines without end, one per tick", (s) => forever(s, "HTTP/1.1 200 OK\r\n", "X: y\r\n"), "ERR_PROXY_REPLY_TOO_LARGE"],
    ["one header line growing without end", (s) => forever(s, "HTTP/1.1 200 OK\r\nX: ", "a".repeat(512)), "ERR_PROXY_REPLY_TOO_LARGE"],
    ["interim 100 Continue responses without end, one per tick", (s) => forever(s, "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n"), "ERR_PROXY_REPLY_TOO_LARGE"],
    ["nine interim 1xx at once, then a 200", (s) => s.write("HTTP/1.1 103 Early Hints\r\n\r\n".repeat(9) + "HTTP/1.1 200 OK\r\n\r\nHI"), "ERR_PROXY_REPLY_TOO_LARGE"],
  ];
  for (const [name, reply, code] of CASES) {
    test(`${name}: ${code}`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(connectViaProxy({ proxy: `http://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 20_000 }), (err: unknown) => {
        assert.ok(err instanceof ProxyError, String(err));
        assert.equal(err.code, code, String(err));
        return true;
      });
    });
  }
});

describe("a proxy that stalls: the timeout names the phase", () => {
  const userPass = (auth: Reply): Reply => (s) => {
    s.write(B([5, 2]));
    s.once("data", () => auth(s));
  };
  const STALLS: Array<[string, string, Reply, RegExp]> = [
    ["SOCKS5, nothing at all", "socks5://", () => {}, /waiting for the SOCKS5 method selection/],
    ["SOCKS5, authentication never answered", "socks5://u:p@", userPass(() => {}), /waiting for the SOCKS5 authentication/],
    ["SOCKS5, half a CONNECT reply", "socks5://", socks5Then((s) => s.write(B([5, 0, 0]))), /waiting for the SOCKS5 CONNECT reply/],
    ["SOCKS4, half a reply", "socks4://", (s) => s.write(B([0, 0x5a, 0])), /waiting for the SOCKS4 reply/],
    ["CONNECT, a status line only", "http://", (s) => s.write("HTTP/1.1 200 OK\r\n"), /waiting for the CONNECT response head/],
  ];
  for (const [name, prefix, reply, phase] of STALLS) {
    test(`${name}: on the loop`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(connectViaProxy({ proxy: `${prefix}127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 300 }), (err: unknown) => {
        assert.ok(err instanceof SocketTimeoutError, String(err));
        assert.equal(err.code, "ETIMEDOUT");
        assert.equal(err.syscall, "proxy");
        assert.match(err.message, phase);
        return true;
      });
    });
  }
  // The blocking path waits in poll(2): the fake proxy must run in another
  // process or thread, so only what needs no answer is tried here.
  test("SOCKS5 and CONNECT that never answer: blocking", async () => {
    for (const [prefix, phase] of [["socks5://", /SOCKS5 method selection/], ["http://", /CONNECT response head/]] as const) {
      const port = await fakeProxy(() => {});
      // fakeProxy answers after the first bytes; with the server in this
      // process the blocking call holds the thread, so the server sees
      // nothing until it gives up: exactly a proxy that never answers.
      assert.throws(() => connectViaProxySync({ proxy: `${prefix}127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 300 }), (err: unknown) => {
        assert.ok(err instanceof SocketTimeoutError, String(err));
        assert.match(err.message, phase);
        return true;
      });
    }
  });
});
