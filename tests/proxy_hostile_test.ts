// connectViaProxy against proxies that accept and never finish their reply:
// without a timeoutMs of the caller's, the default connect timeout ends the
// handshake with a SocketTimeoutError (it waited for ever, and a process with
// nothing else to do exited in the middle of the await).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { SocketTimeoutError } from "../core/errors.ts";
import { connectViaProxy } from "../socket/proxy/mod.ts";
import { getDefaultTimeouts, setDefaultTimeouts } from "../socket/timeouts.ts";
import { fakeProxy as fakeProxyOn } from "./proxy_helpers.ts";

const servers: net.Server[] = [];
let saved: ReturnType<typeof getDefaultTimeouts>;

/** A fake proxy (tests/proxy_helpers.ts) whose server this file closes. */
const fakeProxy = (reply: (socket: net.Socket) => void): Promise<number> => fakeProxyOn(servers, reply);

before(() => {
  saved = getDefaultTimeouts();
  setDefaultTimeouts({ connectMs: 300 });
});

after(() => {
  setDefaultTimeouts(saved);
  for (const s of servers) s.close();
});

describe("connectViaProxy: a proxy that stalls", () => {
  const stalls: Array<[string, string, (s: net.Socket) => void]> = [
    ["HTTP CONNECT: a status line, then nothing", "http", (s) => s.write("HTTP/1.1 200 OK\r\n")],
    // Fewer than PROXY_LIMITS.maxInterimResponses (more is ERR_PROXY_REPLY_TOO_LARGE: tests/hostile_proxy3_test.ts).
    ["HTTP CONNECT: a few interim responses, never a final one", "http", (s) => s.write("HTTP/1.1 103 Early Hints\r\n\r\n".repeat(5))],
    ["HTTP CONNECT: silence", "http", () => {}],
    ["SOCKS5: silence after the greeting", "socks5", () => {}],
    ["SOCKS5: a method reply, then half a CONNECT reply", "socks5", (s) => {
      s.write(Buffer.from([5, 0]));
      s.once("data", () => s.write(Buffer.from([5, 0, 0])));
    }],
    ["SOCKS4: half a reply", "socks4", (s) => s.write(Buffer.from([0, 0x5a, 0]))],
  ];
  for (const [name, scheme, reply] of stalls) {
    test(`${name}: SocketTimeoutError at the default connect timeout`, async () => {
      const port = await fakeProxy(reply);
      await assert.rejects(connectViaProxy({ proxy: `${scheme}://127.0.0.1:${port}`, host: "127.0.0.1", port: 9 }), (err: unknown) => {
        assert.ok(err instanceof SocketTimeoutError, String(err));
        assert.match((err as Error).message, /timed out after 300 ms/);
        return true;
      });
    });
  }

  test("an explicit timeoutMs still wins over the default", async () => {
    const port = await fakeProxy(() => {});
    await assert.rejects(connectViaProxy({ proxy: `http://127.0.0.1:${port}`, host: "127.0.0.1", port: 9, timeoutMs: 150 }), /timed out after 150 ms/);
  });
});
