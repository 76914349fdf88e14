import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SocketError, SocketTimeoutError } from "../core/errors.ts";
import type { Connection } from "./connection.ts";
import { connect, listen, type Listener, type ListenOptions } from "./listener.ts";
import { Loop } from "./loop.ts";

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

/** Runs `body` with a fresh loop, closed and released afterwards. */
async function withLoop(body: (loop: Loop) => Promise<void>): Promise<void> {
  const loop = new Loop();
  try {
    await body(loop);
  } finally {
    loop.close();
    await loop.released();
  }
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
function withPair(io: (typeof IO_MODES)[number], options: ListenOptions, body: (pair: Pair) => Promise<void>): Promise<void> {
  return withLoop(async (loop) => {
    const server = listen({ host: "127.0.0.1", port: 0 }, undefined, { ...options, loop, io });
    try {
      const clientP = connect({ host: "127.0.0.1", port: server.port }, { loop, io });
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
      const server = listen({ host: "127.0.0.1", port: 0 }, {
        open: (c) => opened.push(c.remoteAddress.family),
        data: (c, d) => c.send(d),
      }, { loop, io });
      try {
        const client = await connect({ host: "127.0.0.1", port: server.port }, { loop, io });
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
        await assert.rejects(connect({ host: "127.0.0.1", port }, { loop, io }), { code: "ECONNREFUSED" });
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
      const server = listen({ path }, {
        timeout: (c, kind) => {
          timeouts.push(kind);
          c.abort();
        },
      }, { loop, io, idleTimeoutMs: 20 });
      try {
        const client = await connect({ path }, { loop, io });
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
        const { unlinkSync } = await import("node:fs");
        unlinkSync(path);
      }
    });

    test("connect honours AbortSignal and an already-aborted signal", () =>
      withLoop(async (loop) => {
        await assert.rejects(
          connect({ host: "127.0.0.1", port: 1 }, { loop, io, signal: AbortSignal.abort(new Error("early")) }),
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
      const { listenTCP } = await import("../socket/connect.ts");
      const { Socket } = await import("../socket/socket.ts");
      // Backlog 0 holds one connection; further SYNs are dropped, so our connect stays in progress.
      const full = listenTCP("127.0.0.1", 0, 0);
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
        const pending = connect({ host: "127.0.0.1", port }, { loop, io });
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
