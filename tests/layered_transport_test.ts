// A connection over another connection (tls/connection_transport.ts: TLS in
// a tunnel through an https:// proxy, TLS on the io_uring loop, TLS in TLS)
// ends as a connection over a descriptor does (reviewer, ninth session):
// - abort() (or a failure) aborts the connection underneath: it was closed
//   gracefully, so with a peer that does not read it stayed open for good,
//   flushing what it held (29 MiB here);
// - a write still queued when it ends rejects with SocketClosedError EPIPE
//   (was a plain Error "closed", with no code);
// - a graceful close() still delivers every byte first.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SocketClosedError } from "../core/errors.ts";
import { Connection } from "../poll/connection.ts";
import { connect, listen } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";
import { connectionTransport } from "../tls/connection_transport.ts";
import { startTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";
import tls from "node:tls";

/** A connection pair over TCP and a connection layered over the client end. */
async function layered() {
  const server = listen({ host: "127.0.0.1", port: 0 });
  const inner = await connect({ host: "127.0.0.1", port: server.port });
  const peer = (await server.accept())!;
  const outer = new Connection(defaultLoop(), inner.socket, undefined, {}, connectionTransport(inner));
  return {
    inner,
    peer,
    outer,
    async end(): Promise<void> {
      peer.abort();
      inner.abort();
      outer.abort();
      server.close();
      await Promise.all([peer.whenClosed, inner.whenClosed]);
    },
  };
}

const bounded = <T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

describe("a connection over another connection", () => {
  test("abort() with a peer that does not read: the connection underneath is aborted too, a queued write rejects with SocketClosedError EPIPE", async () => {
    const l = await layered();
    try {
      // Far past the high-water marks: the first write fills the connection underneath, the second waits in the layered one's queue.
      const first = l.outer.write(new Uint8Array(8 << 20)).then(() => undefined, (e: unknown) => e);
      const queued = l.outer.write(new Uint8Array(1 << 20)).then(() => undefined, (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      l.outer.abort();
      const error = await queued;
      assert.ok(error instanceof SocketClosedError, String(error));
      assert.equal(error.code, "EPIPE");
      await first;
      await bounded(l.inner.whenClosed, "the connection underneath to close");
      assert.equal(l.inner.closed, true);
    } finally {
      await l.end();
    }
  });

  test("backpressure: a write larger than every buffer stays pending while the peer does not read, and resolves once it has read", async () => {
    const l = await layered();
    try {
      const size = 48 << 20;
      let done = false;
      const writing = l.outer.write(new Uint8Array(size)).then(() => void (done = true));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(done, false, "the write resolved while its bytes could not have gone out");
      assert.ok(l.inner.bufferedAmount <= l.inner.highWaterMark, `${l.inner.bufferedAmount} bytes queued underneath, past its high-water mark`);
      let got = 0;
      while (got < size) {
        const chunk = await bounded(l.peer.read(), "the peer's read");
        if (chunk === null) break;
        got += chunk.length;
      }
      assert.equal(got, size);
      await bounded(writing, "the write");
    } finally {
      await l.end();
    }
  });

  test("close() delivers every byte, then closes the connection underneath", async () => {
    const l = await layered();
    try {
      const size = 4 << 20;
      const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
      void l.outer.write(bytes);
      const closing = l.outer.close();
      let got = 0;
      let ok = true;
      for (;;) {
        const chunk = await bounded(l.peer.read(), "the peer's read");
        if (chunk === null) break;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] !== ((got + i) & 0xff)) ok = false;
        got += chunk.length;
      }
      assert.equal(got, size);
      assert.ok(ok, "the bytes arrive in order");
      await bounded(closing, "close()");
      await bounded(l.inner.whenClosed, "the connection underneath to close");
    } finally {
      await l.end();
    }
  });

  test("TLS in memory-BIO mode over a connection (as over a tunnel or on io_uring): abort() with a peer that does not read aborts the connection underneath", async () => {
    const pki = testPKI();
    // A TLS server that completes the handshake and then never reads.
    const sockets: Array<{ destroy(): void }> = [];
    const server = tls.createServer({ cert: pki.chain, key: pki.key }, (s) => {
      s.on("error", () => {});
      s.pause();
    });
    // Every raw connection, handshaken or not, is destroyed at the end (server.close() waits for them).
    server.on("connection", (raw: { destroy(): void; on(e: string, f: () => void): void }) => {
      raw.on("error", () => {});
      sockets.push(raw);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const plain = await connect({ host: "127.0.0.1", port });
    try {
      const conn = await bounded(startTLS(plain, { host: "localhost", ca: pki.root, bio: true }), "the handshake", 30_000);
      const pending = conn.write(new Uint8Array(16 << 20)).then(() => undefined, (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      conn.abort();
      await pending;
      await bounded(plain.whenClosed, "the connection underneath to close");
      assert.equal(plain.closed, true);
    } finally {
      plain.abort();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
