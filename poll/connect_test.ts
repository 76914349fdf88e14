import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { SocketError, SocketTimeoutError } from "../core/errors.ts";
import { E } from "../ffi/platform.ts";
import { listenTCPSync, listenUnixSync } from "../socket/connect.ts";
import { Socket } from "../socket/socket.ts";
import { withLoop } from "../tests/loop_helpers.ts";
import {
  ADOPT_OPTION_KEYS,
  adopt,
  CONNECT_OPTION_KEYS,
  CONNECT_UNIX_OPTION_KEYS,
  connect,
  connectUnix,
} from "./connect.ts";
import { LISTEN_OPTION_KEYS, LISTEN_UNIX_OPTION_KEYS, listen, listenUnix } from "./listener.ts";

const IO_MODES = ["readiness", "uring"] as const;

/** A port nobody listens on (bound, then closed). */
function closedPort(): number {
  const s = listenTCPSync("127.0.0.1", 0);
  const address = s.localAddress();
  s.close();
  assert.ok(address.family !== "unix");
  return address.port;
}

/** A listener with a full backlog (0 holds one connection; two fillers): a connect to it stays in progress. */
function fullListener(): { port: number; close(): void } {
  const full = listenTCPSync("127.0.0.1", 0, 0);
  const address = full.localAddress();
  assert.ok(address.family !== "unix");
  const fillers = [0, 1].map(() => {
    const s = Socket.create("ipv4", "stream");
    s.options.nonBlocking = true;
    s.connectNonBlocking("127.0.0.1", address.port);
    return s;
  });
  return {
    port: address.port,
    close() {
      for (const s of fillers) s.close();
      full.close();
    },
  };
}

const unknownKey = (where: string, key: string) => (err: unknown) =>
  err instanceof TypeError && err.message.startsWith(`${where}: unknown option "${key}"`);

describe("one options object", () => {
  test("the key sets are the types' keys", () => {
    const connection = ["highWaterMark", "readBufferBytes", "idleTimeoutMs", "readTimeoutMs", "writeTimeoutMs"];
    for (const key of connection) {
      for (const keys of [ADOPT_OPTION_KEYS, CONNECT_OPTION_KEYS, CONNECT_UNIX_OPTION_KEYS, LISTEN_OPTION_KEYS, LISTEN_UNIX_OPTION_KEYS]) {
        assert.ok(keys.has(key), key);
      }
    }
    const own = (keys: ReadonlySet<string>) => [...keys].filter((key) => !connection.includes(key) && key !== "copy").sort();
    assert.deepEqual(own(ADOPT_OPTION_KEYS), ["handler", "io", "loop"]);
    assert.deepEqual(own(CONNECT_OPTION_KEYS), ["handler", "happyEyeballs", "host", "io", "logger", "loop", "noDelay", "port", "proxy", "resolver", "signal", "timeoutMs", "tls"]);
    assert.deepEqual(own(CONNECT_UNIX_OPTION_KEYS), ["handler", "io", "logger", "loop", "path", "signal", "timeoutMs"]);
    assert.deepEqual(own(LISTEN_OPTION_KEYS), ["backlog", "handler", "host", "io", "logger", "loop", "maxPending", "noDelay", "onError", "port", "protect", "reusePort", "tls"]);
    assert.deepEqual(own(LISTEN_UNIX_OPTION_KEYS), ["backlog", "handler", "io", "logger", "loop", "maxPending", "onError", "path"]);
  });

  test("an unknown key is a TypeError naming the call and the key", () =>
    withLoop(async (loop) => {
      assert.throws(() => listen({ port: 0, loop, hander: {} } as never), unknownKey("listen", "hander"));
      assert.throws(() => listen({ port: 0, loop, path: "/tmp/x" } as never), unknownKey("listen", "path"));
      assert.throws(() => listenUnix({ path: "@ffinet-never", loop, port: 0 } as never), unknownKey("listenUnix", "port"));
      await assert.rejects(connect({ port: 1, loop, timeout: 5 } as never), unknownKey("connect", "timeout"));
      await assert.rejects(connectUnix({ path: "@ffinet-never", loop, noDelay: true } as never), unknownKey("connectUnix", "noDelay"));
      const [a, b] = Socket.pair("stream");
      try {
        assert.throws(() => adopt(a, { loop, signal: AbortSignal.abort() } as never), unknownKey("adopt", "signal"));
      } finally {
        a.close();
        b.close();
      }
    }));

  test("the old forms (handler and options as more arguments) are a TypeError, not ignored", () =>
    withLoop(async (loop) => {
      const handler = { data: () => {} };
      const listenOld = listen as unknown as (...args: unknown[]) => unknown;
      assert.throws(() => listenOld({ port: 0 }, handler, { loop }), /listen: takes one options object/);
      const connectOld = connect as unknown as (...args: unknown[]) => Promise<unknown>;
      await assert.rejects(connectOld({ port: 1 }, { loop }), /connect: takes one options object/);
      const [a, b] = Socket.pair("stream");
      try {
        const adoptOld = adopt as unknown as (...args: unknown[]) => unknown;
        assert.throws(() => adoptOld(a, handler, { loop }), /adopt: takes the socket and one options object/);
      } finally {
        a.close();
        b.close();
      }
      assert.throws(() => (listen as unknown as () => unknown)(), /listen: an options object is required/);
    }));

  test("connection options every connection would refuse are refused before a socket exists", () =>
    withLoop(async (loop) => {
      assert.throws(() => listen({ port: 0, loop, highWaterMark: 0 }), RangeError);
      await assert.rejects(connect({ port: 1, loop, readTimeoutMs: -1 }), RangeError);
      const copy = "yes" as unknown as boolean;
      assert.throws(() => listen({ port: 0, loop, copy }), TypeError);
      await assert.rejects(connect({ port: 1, loop, copy }), TypeError);
    }));
});

for (const io of IO_MODES) {
  describe(`connect and connectUnix (${io})`, () => {
    test("connect({ host, port, signal }) honours the signal: aborted before, and while the connect is in progress", () =>
      withLoop(async (loop) => {
        const early = new Error("early");
        await assert.rejects(connect({ host: "127.0.0.1", port: closedPort(), signal: AbortSignal.abort(early), loop, io }), (err) => err === early);
        const full = fullListener();
        try {
          const controller = new AbortController();
          const pending = connect({ host: "127.0.0.1", port: full.port, signal: controller.signal, loop, io });
          const late = new Error("late");
          setTimeout(() => controller.abort(late), 20);
          await assert.rejects(pending, (err) => err === late);
        } finally {
          full.close();
        }
      }));

    test("a bad timeoutMs is a RangeError before a socket exists (no watcher, no reference left on the loop)", () =>
      withLoop(async (loop) => {
        const full = fullListener();
        try {
          for (const timeoutMs of [-1, Number.NaN, Infinity]) {
            const size = loop.size;
            const ref = loop.hasRef();
            await assert.rejects(connect({ host: "127.0.0.1", port: full.port, timeoutMs, loop, io }), RangeError);
            await assert.rejects(connectUnix({ path: "@ffinet-connect-bad-timeout", timeoutMs, loop, io }), RangeError);
            assert.equal(loop.size, size);
            assert.equal(loop.hasRef(), ref);
          }
        } finally {
          full.close();
        }
      }));

    test("a refused connect names the operation and the address, code and errno kept", () =>
      withLoop(async (loop) => {
        const port = closedPort();
        await assert.rejects(connect({ host: "127.0.0.1", port, loop, io }), (err: unknown) => {
          assert.ok(err instanceof SocketError);
          assert.equal(err.message, `connect failed: ECONNREFUSED (127.0.0.1:${port})`);
          assert.equal(err.code, "ECONNREFUSED");
          assert.equal(err.errno, E.ECONNREFUSED);
          assert.equal(err.address, `127.0.0.1:${port}`);
          return true;
        });
      }));

    test("a connect that runs out of time names the operation and the address", () =>
      withLoop(async (loop) => {
        const full = fullListener();
        try {
          await assert.rejects(connect({ host: "127.0.0.1", port: full.port, timeoutMs: 30, loop, io }), (err: unknown) => {
            assert.ok(err instanceof SocketTimeoutError);
            assert.equal(err.message, `connect timed out after 30 ms (127.0.0.1:${full.port})`);
            assert.equal(err.code, "ETIMEDOUT");
            return true;
          });
        } finally {
          full.close();
        }
      }));

    test("connectUnix to a missing path names the operation and the path", () =>
      withLoop(async (loop) => {
        const path = join(tmpdir(), `ffinet-missing-${process.pid}-${io}.sock`);
        await assert.rejects(connectUnix({ path, loop, io }), (err: unknown) => {
          assert.ok(err instanceof SocketError);
          assert.equal(err.message, `connect failed: ENOENT (${path})`);
          assert.equal(err.code, "ENOENT");
          return true;
        });
      }));

    test("connectUnix to a full backlog waits, as a blocking connect would: connects once there is room, or aborts", () =>
      withLoop(async (loop) => {
        const path = `@ffinet-connect-full-${process.pid}-${io}`;
        const server = listenUnixSync(path, 0); // holds one connection
        const filler = Socket.create("unix", "stream", { nonBlocking: true });
        try {
          filler.connectNonBlocking(path);
          const controller = new AbortController();
          const aborted = connectUnix({ path, loop, io, signal: controller.signal });
          const waiting = connectUnix({ path, loop, io, timeoutMs: 10_000 });
          let settled = false;
          void waiting.then(() => (settled = true), () => (settled = true));
          await new Promise((resolve) => setTimeout(resolve, 30));
          assert.equal(settled, false, "the connect waits for room instead of failing with EAGAIN");
          const reason = new Error("gave up");
          controller.abort(reason);
          await assert.rejects(aborted, (err) => err === reason);
          server.accept()!.close(); // room for one more
          const client = await waiting;
          assert.equal(client.closed, false);
          client.abort();
        } finally {
          filler.close();
          server.close();
        }
      }));

    test("listenUnix and connectUnix carry bytes both ways (handler and promise modes)", () =>
      withLoop(async (loop) => {
        const path = `@ffinet-connect-test-${process.pid}-${io}`;
        const server = listenUnix({ path, loop, io, handler: { data: (conn, bytes) => void conn.send(bytes) } });
        try {
          assert.equal(server.port, 0);
          assert.deepEqual(server.address, { family: "unix", path });
          const client = await connectUnix({ path, loop, io, timeoutMs: 2000 });
          await client.write(new Uint8Array([7, 8, 9]));
          assert.deepEqual(await client.read(), new Uint8Array([7, 8, 9]));
          await client.close();
        } finally {
          server.close();
        }
      }));

    test("connect({ handler }) runs open before it resolves; adopt({ handler }) at once", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const opened: string[] = [];
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io, handler: { open: () => void opened.push("connect") } });
          assert.deepEqual(opened, ["connect"]);
          const peer = (await server.accept())!;
          await peer.close();
          await client.close();
          const [a, b] = Socket.pair("stream");
          const adopted = adopt(a, { loop, io, handler: { open: () => void opened.push("adopt") } });
          assert.deepEqual(opened, ["connect", "adopt"]);
          adopted.abort();
          b.close();
        } finally {
          server.close();
        }
      }));

    test("a handler's open that throws: connect rejects and adopt throws with its error, the connection closed (not left open with nobody holding it)", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const boom = new Error("open failed");
          const closed: string[] = [];
          const handler = (name: string) => ({
            open: () => {
              throw boom;
            },
            close: () => void closed.push(name),
          });
          await assert.rejects(connect({ host: "127.0.0.1", port: server.port, loop, io, handler: handler("connect") }), (err) => err === boom);
          assert.deepEqual(closed, ["connect"]);
          const [a, b] = Socket.pair("stream");
          assert.throws(() => adopt(a, { loop, io, handler: handler("adopt") }), (err) => err === boom);
          assert.deepEqual(closed, ["connect", "adopt"]);
          assert.equal(a.closed, true);
          b.close();
        } finally {
          server.close();
        }
      }));
  });
}
