import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SocketError, SocketTimeoutError } from "../core/errors.ts";
import type { Connection } from "./connection.ts";
import { adopt, connect, connectUnix, listen, type Listener, type ListenOptions, listenUnix } from "./listener.ts";
import { Loop } from "./loop.ts";
import { Socket } from "../socket/socket.ts";
import { withLoop } from "../tests/loop_helpers.ts";

/** Every test runs with readiness I/O and with io_uring (readiness where io_uring is refused). */
const IO_MODES = ["readiness", "uring"] as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(conn: Connection): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of conn) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}


/**
 * With `peer` paused: fills the kernel, then `client`'s queue past its
 * high-water mark, then empties the kernel behind the peer's back so the
 * next flush can send the whole queue. Returns the bytes sent and the bytes
 * already taken out.
 */
async function queuePastHighWater(client: Connection, peer: Connection): Promise<{ sent: number; got: number }> {
  const { C } = await import("../ffi/platform.ts");
  peer.pause();
  const chunk = new Uint8Array(64 * 1024).fill(7);
  let sent = 0;
  for (let i = 0; i < 4096; i++) {
    sent += chunk.length;
    if (!client.send(chunk)) break;
  }
  assert.ok(client.bufferedAmount >= client.highWaterMark, `queued ${client.bufferedAmount}`);
  const buf = new Uint8Array(1024 * 1024);
  let got = 0;
  for (let n = peer.socket.recv(buf, C.MSG_DONTWAIT); n !== null && n > 0; n = peer.socket.recv(buf, C.MSG_DONTWAIT)) got += n;
  return { sent, got };
}

interface Pair {
  loop: Loop;
  server: Listener;
  /** Our connecting side. */
  client: Connection;
  /** The server's side, from `accept()`. */
  peer: Connection;
}

/** Runs `body` with a handler-less listener on 127.0.0.1 and one accepted connection. */
function withPair(io: (typeof IO_MODES)[number], options: Omit<ListenOptions, "port">, body: (pair: Pair) => Promise<void>): Promise<void> {
  return withLoop(async (loop) => {
    const server = listen({ host: "127.0.0.1", port: 0, ...options, loop, io });
    try {
      const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io });
      const peer = (await server.accept())!;
      const client = await clientP;
      await body({ loop, server, client, peer });
    } finally {
      server.close();
    }
  });
}

for (const io of IO_MODES) {
  describe(`async connections (${io})`, () => {
    test("handler echo server and Promise client", async () => {
      const loop = new Loop();
      const opened: string[] = [];
      const server = listen({ host: "127.0.0.1", port: 0, handler: {
        open: (c) => opened.push(c.remoteAddress.family),
        data: (c, d) => c.send(d),
      }, loop, io });
      try {
        const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
        await client.write(enc.encode("hello"));
        let got = "";
        while (got.length < 5) got += dec.decode(await client.read() ?? new Uint8Array(0));
        assert.equal(got, "hello");
        assert.deepEqual(opened, ["ipv4"]);
        await client.close();
        assert.equal(client.closed, true);
      } finally {
        server.close();
        loop.close();
        await loop.released();
      }
    });

    test("accept() without a handler, end() half-close, async iteration", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await client.write(enc.encode("request"));
        await client.end();
        assert.equal(dec.decode(await readAll(peer)), "request");
        // The other direction still works after the client's FIN.
        await peer.write(enc.encode("response"));
        await peer.close();
        assert.equal(dec.decode(await readAll(client)), "response");
        await client.close();
      }));

    test("after our end(), the peer's last bytes and FIN wait in the buffer until read", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await client.end();
        const last = new Uint8Array(3000).map((_, i) => i * 13);
        await peer.write(last);
        await peer.close();
        // Let the loop take the data and the FIN before anyone reads.
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(await readAll(client), last);
        await client.whenClosed;
        assert.equal(client.closed, true);
      }));

    test("a full hang-up while reading is paused still delivers the bytes in the kernel", () =>
      withPair(io, {}, async ({ client, peer }) => {
        peer.pause();
        await peer.end(); // our FIN: with the client's, both directions are shut (HANGUP)
        const sent = new Uint8Array(32 * 1024).map((_, i) => i * 7);
        await client.write(sent);
        await client.end();
        assert.equal((await readAll(client)).length, 0);
        await client.close();
        // Let the loop see the hang-up while paused.
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(peer.closed, false);
        peer.resume();
        const got = await readAll(peer);
        assert.equal(got.length, sent.length);
        assert.deepEqual(got, sent);
        await peer.whenClosed;
        assert.equal(peer.closed, true);
      }));

    test("abort() resets the peer; connect to a closed port is refused", () =>
      withPair(io, {}, async ({ loop, server, client, peer }) => {
        client.abort();
        await assert.rejects(peer.read(), (err: unknown) => err instanceof SocketError && err.code === "ECONNRESET");
        const port = server.port;
        server.close();
        await assert.rejects(connect({ host: "127.0.0.1", port, loop, io }), { code: "ECONNREFUSED" });
      }));

    test("read() honours AbortSignal and readTimeoutMs", () =>
      withPair(io, { readTimeoutMs: 30 }, async ({ client, peer }) => {
        const ac = new AbortController();
        const pending = client.read({ signal: ac.signal });
        ac.abort(new Error("stop"));
        await assert.rejects(pending, /stop/);
        await assert.rejects(peer.read(), SocketTimeoutError);
        // Both stay usable.
        await client.write(enc.encode("x"));
        assert.equal(dec.decode((await peer.read())!), "x");
        await client.close();
        await peer.close();
      }));

    test("Unix-domain listener and idle timeout via handler", async () => {
      const loop = new Loop();
      const path = `/tmp/ffinet-conn-${Math.random().toString(36).slice(2)}.sock`;
      const timeouts: string[] = [];
      const server = listenUnix({ path, handler: {
        timeout: (c, kind) => {
          timeouts.push(kind);
          c.abort();
        },
      }, loop, io, idleTimeoutMs: 20 });
      try {
        const client = await connectUnix({ path, loop, io });
        assert.equal(await client.read(), null);
        assert.deepEqual(timeouts, ["idle"]);
      } catch (err) {
        // A reset instead of a clean end is fine too.
        assert.ok(err instanceof SocketError, String(err));
        assert.deepEqual(timeouts, ["idle"]);
      } finally {
        server.close();
        loop.close();
        await loop.released();
        // The listener removes the socket file it made when it closes.
        const { existsSync } = await import("node:fs");
        assert.equal(existsSync(path), false);
      }
    });

    test("setHandler() inside data: the next bytes go to the new handler", () =>
      withLoop(async (loop) => {
        const total = 1024 * 1024;
        let oldCalls = 0;
        let oldBytes = 0;
        let newBytes = 0;
        let done!: () => void;
        const all = new Promise<void>((r) => (done = r));
        const server = listen({ host: "127.0.0.1", port: 0, handler: {
          open: (c) => {
            // Let the whole megabyte wait in the kernel, so one readiness
            // event has several full reads to make.
            c.socket.options.receiveBufferSize = 4 * total;
            c.pause();
            setTimeout(() => c.resume(), 100);
          },
          data: (c, d) => {
            oldCalls++;
            oldBytes += d.length;
            if (oldBytes + newBytes === total) done();
            c.setHandler({
              data: (_c, more) => {
                newBytes += more.length;
                if (oldBytes + newBytes === total) done();
              },
            });
          },
        }, loop, io });
        try {
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
          await client.write(new Uint8Array(total).fill(5));
          await all;
          assert.equal(oldCalls, 1);
          assert.ok(newBytes > 0);
          await client.close();
        } finally {
          server.close();
        }
      }));

    test("connect honours AbortSignal and an already-aborted signal", () =>
      withLoop(async (loop) => {
        await assert.rejects(
          connect({ host: "127.0.0.1", port: 1, loop, io, signal: AbortSignal.abort(new Error("early")) }),
          /early/,
        );
      }));
  });
}

for (const io of IO_MODES) {
  describe(`connection streams (${io})`, () => {
    test("a ReadableStream piped into a WritableStream copies bytes and the FIN", async () => {
      const { connectionReadable, connectionWritable } = await import("./connection_streams.ts");
      await withPair(io, {}, async ({ client, peer }) => {
        // The peer echoes through the stream adapters.
        const piping = connectionReadable(peer).pipeTo(connectionWritable(peer));
        const writer = connectionWritable(client).getWriter();
        const payload = new Uint8Array(200_000).map((_, i) => i & 0xff);
        const echoed = readAll(client);
        await writer.write(payload);
        await writer.close();
        await piping;
        const got = await echoed;
        assert.equal(got.length, payload.length);
        assert.deepEqual(got, payload);
        await client.close();
        await peer.close();
      });
    });
  });
}

for (const io of IO_MODES) {
  describe(`pending connect (${io})`, () => {
    test("a connect still in progress when the loop closes rejects with ECANCELED", async () => {
      const { listenTCPSync } = await import("../socket/connect.ts");
      const { Socket } = await import("../socket/socket.ts");
      // Backlog 0 holds one connection; further SYNs are dropped, so our connect stays in progress.
      const full = listenTCPSync("127.0.0.1", 0, 0);
      const local = full.localAddress();
      assert.ok("port" in local);
      const port = local.port;
      const fillers = [0, 1].map(() => {
        const s = Socket.create("ipv4", "stream");
        s.options.nonBlocking = true;
        s.connectNonBlocking("127.0.0.1", port);
        return s;
      });
      const loop = new Loop();
      try {
        const pending = connect({ host: "127.0.0.1", port, loop, io });
        loop.close();
        await assert.rejects(pending, (err: unknown) => err instanceof SocketError && err.code === "ECANCELED");
        await loop.released();
      } finally {
        loop.close();
        for (const s of fillers) s.close();
        full.close();
      }
    });
  });
}

/** Rejects with "timed out" when `promise` has not settled after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

for (const io of IO_MODES) {
  describe(`failures settle everything (${io})`, () => {
    test("a Unix peer that hangs up while our read buffer is full fails the queued write", async () => {
      // Polling, never parked: the next wait sees the room and the hang-up at once.
      const loop = new Loop({ spinsBeforePark: 1_000_000 });
      try {
        const [ours, peer] = Socket.pair("stream", { nonBlocking: true });
        const client = adopt(ours, { loop, io, readBufferBytes: 1024 });
        try {
          // More than the client buffers: its read buffer fills and reading stops.
          peer.send(new Uint8Array(8192));
          // Much more than the socket holds: the rest stays queued.
          const writing = client.write(new Uint8Array(8 * 1024 * 1024));
          writing.catch(() => {});
          await new Promise((r) => setTimeout(r, 50));
          // The peer takes what the kernel holds and closes with nothing unread
          // (so no ECONNRESET): the client sees a bare hang-up.
          const sink = new Uint8Array(256 * 1024);
          while (peer.recv(sink) !== null);
          peer.close();
          await assert.rejects(within(writing, 2000), (err: unknown) => err instanceof SocketError && err.code === "EPIPE");
          await within(client.whenClosed, 2000);
          assert.equal(client.closed, true);
        } finally {
          client.abort();
          if (!peer.closed) peer.close();
        }
      } finally {
        loop.close();
        await loop.released();
      }
    });

    test("a connect aborted at once does not touch the next socket (same fd number)", () =>
      withLoop(async (loop) => {
        const a = listen({ host: "127.0.0.1", port: 0, loop, io });
        const b = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const ac = new AbortController();
          const first = connect({ host: "127.0.0.1", port: a.port, loop, io, signal: ac.signal });
          first.catch(() => {});
          ac.abort(new Error("changed my mind"));
          const second = connect({ host: "127.0.0.1", port: b.port, loop, io });
          await assert.rejects(first, /changed my mind/);
          const conn = await within(second, 2000);
          const remote = conn.remoteAddress;
          assert.ok("port" in remote && remote.port === b.port, `connected to ${JSON.stringify(remote)}`);
          await conn.close();
        } finally {
          a.close();
          b.close();
        }
      }));

    test("detach() in open leaves the bytes that came with the connection in the socket", () =>
      withLoop(async (loop) => {
        const { connectTCPSync } = await import("../socket/connect.ts");
        let handOff!: (socket: Socket) => void;
        const detached = new Promise<Socket>((resolve) => (handOff = resolve));
        const server = listen({ host: "127.0.0.1", port: 0, handler: { open: (c) => handOff(c.detach()) }, loop, io });
        const client = connectTCPSync("127.0.0.1", server.port, 2000);
        let socket: Socket | undefined;
        try {
          // Sent before the loop accepts: waiting in the socket when `open` runs.
          client.send(enc.encode("hello"));
          socket = await within(detached, 2000);
          // Give a stray receive time to take the bytes.
          await new Promise((r) => setTimeout(r, 30));
          socket.options.nonBlocking = true;
          const buf = new Uint8Array(16);
          const n = socket.recv(buf);
          assert.equal(n === null ? "nothing" : dec.decode(buf.subarray(0, n)), "hello");
        } finally {
          socket?.close();
          client.close();
          server.close();
        }
      }));

    test("loop.close() from inside a data callback", async () => {
      const errors: unknown[] = [];
      const loop = new Loop({ onError: (error) => errors.push(error) });
      let calls = 0;
      const server = listen({ host: "127.0.0.1", port: 0, handler: {
        data: () => {
          calls++;
          loop.close();
        },
      }, loop, io });
      try {
        const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
        await client.write(enc.encode("bye"));
        await within(loop.released(), 2000);
        assert.equal(calls, 1);
        assert.deepEqual(errors, []);
        assert.equal(client.closed, true);
      } finally {
        loop.close();
      }
    });

    test("options a connection refuses leave no descriptor behind (connect, listen)", async () => {
      const { readdirSync } = await import("node:fs");
      const openFds = () => readdirSync("/proc/self/fd").length;
      const errors: unknown[] = [];
      const loop = new Loop({ onError: (error) => errors.push(error) });
      const good = listen({ host: "127.0.0.1", port: 0, loop, io });
      try {
        // Make the lazily made descriptors (ring, eventfd, helper) first.
        const warm = connect({ host: "127.0.0.1", port: good.port, loop, io });
        (await good.accept())!.abort();
        (await warm).abort();
        // The helper thread's own descriptors come when it has booted (the
        // loop parks only then): wait for that, bounded, before counting.
        for (let i = 0; i < 500 && !loop.parked; i++) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 20));
        const before = openFds();
        for (let i = 0; i < 3; i++) {
          await assert.rejects(connect({ host: "127.0.0.1", port: good.port, loop, io, highWaterMark: 0 }), RangeError);
        }
        assert.equal(good.pending, 0);
        // A listener refuses them before it has a socket, rather than
        // accepting connections it could only drop.
        for (let i = 0; i < 3; i++) {
          assert.throws(() => listen({ host: "127.0.0.1", port: 0, handler: {}, loop, io, highWaterMark: 0 }), RangeError);
          assert.throws(() => listen({ host: "127.0.0.1", port: 0, loop, io, idleTimeoutMs: -1 }), RangeError);
        }
        await new Promise((r) => setTimeout(r, 20));
        // A leak is a rise; earlier tests' loops (rings, helper threads) may
        // still be letting their descriptors go meanwhile (CI on Node 24: 38 -> 33).
        const after = openFds();
        assert.ok(after <= before, `descriptors ${before} -> ${after}`);
        assert.deepEqual(errors, []);
        // A closed loop: the socket goes at once.
        const closedLoop = new Loop();
        closedLoop.close();
        const refused = connect({ host: "127.0.0.1", port: good.port, loop: closedLoop, io });
        assert.ok(openFds() <= after, "a connect on a closed loop kept a descriptor");
        await assert.rejects(refused);
      } finally {
        good.close();
        loop.close();
        await loop.released();
      }
    });

    test("writeTimeoutMs counts from when output was queued, not from the last write long ago", () =>
      withPair(io, {}, async ({ loop, server, peer }) => {
        const { libc } = await import("../ffi/libc.ts");
        const { C } = await import("../ffi/platform.ts");
        const writeTimeoutMs = 300;
        const client = await connect({ host: "127.0.0.1", port: server.port, loop, io, writeTimeoutMs });
        const other = (await server.accept())!;
        other.pause(); // takes nothing: the kernel buffers fill
        try {
          // Fill the kernel's buffers behind the connection's back (its queue
          // stays empty) until they take no more.
          client.socket.options.sendBufferSize = 4096;
          other.socket.options.receiveBufferSize = 4096;
          const chunk = new Uint8Array(64 * 1024);
          for (let quiet = 0; quiet < 3;) {
            let took = 0;
            while (libc().send(client.fd, chunk, chunk.length, C.MSG_DONTWAIT) > 0) took++;
            quiet = took === 0 ? quiet + 1 : 0;
            await new Promise((r) => setTimeout(r, 20));
          }
          // Quiet for one and a half periods, then output that cannot go out.
          await new Promise((r) => setTimeout(r, writeTimeoutMs * 1.5));
          const started = performance.now();
          await assert.rejects(client.write(enc.encode("late")), SocketTimeoutError);
          const waited = performance.now() - started;
          assert.ok(waited >= writeTimeoutMs * 0.9, `timed out after ${waited.toFixed(0)} ms`);
        } finally {
          client.abort();
          other.abort();
          peer.abort();
        }
      }));

    test("end() called again from a drain that end()'s own flush runs gives the same promise and one FIN", () =>
      withPair(io, {}, async ({ client, peer }) => {
        let inner: Promise<void> | undefined;
        client.setHandler({ drain: (c) => void (inner = c.end()) });
        const { sent, got } = await queuePastHighWater(client, peer);
        const outer = client.end();
        if (io === "readiness") assert.ok(inner !== undefined, "the drain ran inside end()");
        peer.resume();
        const rest = await readAll(peer);
        await outer;
        if (inner !== undefined) assert.equal(inner, outer);
        assert.equal(got + rest.length, sent);
        assert.ok(rest.every((b) => b === 7));
      }));

    test("a drain callback that throws inside end()'s flush makes end() reject, not throw", () =>
      withPair(io, {}, async ({ client, peer }) => {
        let drained = false;
        client.setHandler({
          drain: () => {
            drained = true;
            throw new Error("drain failed");
          },
        });
        await queuePastHighWater(client, peer);
        let outer: Promise<void> | undefined;
        assert.doesNotThrow(() => void (outer = client.end()));
        if (io === "readiness") {
          assert.equal(drained, true, "the drain ran inside end()");
          await assert.rejects(outer!, /drain failed/);
        }
        peer.resume();
        client.abort();
        await outer?.catch(() => {});
      }));

    test("a connect that completes as the loop closes leaves nothing open", async () => {
      const errors: unknown[] = [];
      const loop = new Loop({ onError: (error) => errors.push(error) });
      // The accept and the connect complete in one turn: `open` closes the loop first.
      const server = listen({ host: "127.0.0.1", port: 0, handler: { open: () => loop.close() }, loop, io });
      const outcome = await connect({ host: "127.0.0.1", port: server.port, loop, io }).then((c) => c, (e: unknown) => e);
      await loop.released();
      await new Promise((r) => setTimeout(r, 20));
      if (outcome instanceof Error) assert.equal((outcome as SocketError).code, "ECANCELED", String(outcome));
      else assert.equal((outcome as Connection).closed, true);
      assert.deepEqual(errors, []);
    });

    test("close() from inside the error callback still closes with that error", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const seen: (Error | undefined)[] = [];
          const clientP = connect({
            host: "127.0.0.1",
            port: server.port,
            loop,
            io,
            handler: {
              error: (c) => void c.close(),
              close: (_c, error) => seen.push(error),
            },
          });
          const peer = (await server.accept())!;
          const client = await clientP;
          peer.abort();
          const error = await within(client.whenClosed, 2000);
          assert.ok(error instanceof SocketError && error.code === "ECONNRESET", String(error));
          assert.deepEqual(seen, [error]);
        } finally {
          server.close();
        }
      }));
  });
}
