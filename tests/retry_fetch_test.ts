// retry() around fetch with the default policy: fetch reports its failures
// as WHATWG fetch does (TypeError "fetch failed", a body's "terminated",
// each with the typed error as its cause), and isRetryable judges them by
// that cause: a refused connection is retried, a certificate that does not
// verify is not.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { retry } from "../core/retry.ts";
import { SocketError } from "../core/errors.ts";
import { fetch } from "../http/client/mod.ts";

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("retry around fetch", () => {
  test("a refused connection (TypeError \"fetch failed\" caused by ECONNREFUSED) is retried by the default policy", async () => {
    const port = await closedPort();
    let calls = 0;
    await assert.rejects(
      retry(() => {
        calls++;
        return fetch(`http://127.0.0.1:${port}/`);
      }, { attempts: 3, initialDelayMs: 1, maxDelayMs: 1, jitter: 0 }),
      (err: unknown) => err instanceof TypeError && err.message === "fetch failed" && err.cause instanceof SocketError && err.cause.code === "ECONNREFUSED",
    );
    assert.equal(calls, 3);
  });

  test("a body cut by a reset mid-stream (TypeError \"terminated\" caused by ECONNRESET) is retried; the second try reads it whole", async () => {
    let served = 0;
    let cut: net.Socket | undefined;
    const server = net.createServer((sock) => {
      sock.on("error", () => {});
      sock.once("data", () => {
        served++;
        if (served === 1) {
          sock.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"); // 3 of 10 bytes; reset once the client has the head
          cut = sock;
        } else sock.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const errors: unknown[] = [];
      const text = await retry(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        cut?.resetAndDestroy();
        cut = undefined;
        return await response.text();
      }, { attempts: 2, initialDelayMs: 1, maxDelayMs: 1, jitter: 0, onRetry: (err) => void errors.push(err) });
      assert.equal(text, "0123456789");
      assert.equal(errors.length, 1);
      const first = errors[0];
      assert.ok(first instanceof TypeError && first.message === "terminated" && first.cause instanceof SocketError, String(first));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
