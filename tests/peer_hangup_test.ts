// A connection that stopped reading at the end of stream closes when the
// peer then hangs up (a reset), over readiness I/O and io_uring alike.
// Readiness I/O reports a hang-up whatever the interest; over io_uring no
// receive is armed after the end of stream or while paused, so nothing saw
// it: a listenTLS server connection whose client sent close_notify and then
// a reset (closing with bytes unread) stayed open for good and kept the
// loop alive (tests/hostile_tls_client_test never exited under
// FFINET_IO=uring), and so did a plain one after a FIN and a reset. A TLS
// layer over an io_uring connection paused it, so the hang-up is the
// layer's to settle (Connection._layerHangUp).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connect } from "../poll/connect.ts";
import { listen } from "../poll/listener.ts";
import { asyncBackends } from "../poll/uring/probe.ts";
import { readTcpInfo } from "../socket/tcp_info.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const linux = (globalThis as unknown as { process: { platform: string } }).process.platform === "linux";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A server handler in read mode (no `data`): what it saw, and its close. */
function watcher(): { handler: { open(c: Connection): void; end(c: Connection): void; close(c: Connection, e: Error | undefined): void }; opened: Promise<Connection>; ended: Promise<void>; closed: Promise<Error | undefined> } {
  let opened!: (c: Connection) => void;
  let ended!: () => void;
  let closed!: (e: Error | undefined) => void;
  return {
    handler: { open: (c) => opened(c), end: () => ended(), close: (_c, e) => closed(e) },
    opened: new Promise((resolve) => (opened = resolve)),
    ended: new Promise((resolve) => (ended = resolve)),
    closed: new Promise((resolve) => (closed = resolve)),
  };
}

/** `promise`, or a failure saying `what` after a bound (a connection that never closes would hang the file). */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), 20_000)));
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

for (const io of ["readiness", "uring"] as const) {
  const skip = !linux || (io === "uring" && !asyncBackends().io_uring);
  describe(`a connection that stopped reading closes when the peer hangs up (${io})`, { skip }, () => {
    test("plain TCP: the peer's FIN, then its reset", async () => {
      const w = watcher();
      const server = listen({ host: "127.0.0.1", port: 0, io, handler: w.handler });
      try {
        const client = await connect({ host: "127.0.0.1", port: server.port, io });
        await w.opened;
        await client.end();
        await within(w.ended, "the server never saw the FIN");
        client.abort(); // a reset after the FIN
        assert.equal(await within(w.closed, "the server connection stayed open after the reset"), undefined);
      } finally {
        server.close();
      }
    });

    test("TLS: the client's close_notify and FIN, then its reset", async () => {
      const pki = testPKI();
      const w = watcher();
      const server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, io, handler: w.handler });
      try {
        const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, ca: pki.root, io });
        await w.opened;
        await client.end();
        await within(w.ended, "the server never saw the close_notify");
        client.abort();
        assert.equal(await within(w.closed, "the server connection stayed open after the reset"), undefined);
      } finally {
        server.close();
      }
    });

    test("TLS: the client closes with bytes unread (close_notify, then a reset instead of a FIN); the server never reads", async () => {
      const pki = testPKI();
      let closed!: (e: Error | undefined) => void;
      const whenClosed = new Promise<Error | undefined>((resolve) => (closed = resolve));
      const payload = new Uint8Array(64 * 1024);
      // Read mode and no `end`: the server connection waits for a read() that never comes; only the hang-up ends it.
      const server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, io, handler: { open: (c) => void c.send(payload), close: (_c, e) => closed(e) } });
      try {
        // The client in fd mode: paused, it leaves the server's bytes in its kernel, so its close sends a reset.
        // (Over io_uring its layer's connection underneath may take them before the pause, and then sends a FIN:
        // a connection in read mode then waits for read() on either backend.)
        const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, ca: pki.root, io: "readiness" });
        client.pause();
        // The server's bytes reach the client's kernel, where they stay unread.
        for (let i = 0; i < 2000 && readTcpInfo(client.socket.fd).bytesReceived <= payload.length; i++) await sleep(10);
        assert.ok(readTcpInfo(client.socket.fd).bytesReceived > payload.length, "the server's bytes never reached the client");
        await client.close();
        assert.equal(await within(whenClosed, "the server connection stayed open after the client's close_notify and reset"), undefined);
      } finally {
        server.close();
      }
    });
  });
}
