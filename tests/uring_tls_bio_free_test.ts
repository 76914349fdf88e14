// TLS in memory-BIO mode over an io_uring connection: a large send to a
// peer that does not read, then close(). The transport underneath takes
// nothing at once and settles its queue's markers as bytes are queued, so
// handing ciphertext down could close this TLS transport (the SSL and its
// BIOs freed) in the middle of draining the write BIO: the next BIO_read
// touched freed memory and the process died with SIGSEGV. Checked here:
// the process survives and close() settles. (Whether every byte arrives
// intact over io_uring is checked by tls_buffered_write_test.ts.)
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

describe("TLS memory-BIO transport over io_uring, closed while it drains", () => {
  for (const io of ["readiness", "uring"] as const) {
    test(`${io}: 32 MiB to a paused server, then close(): no crash, close() settles, the server ends`, async () => {
      const pki = testPKI();
      let serverConn: Connection | undefined;
      let opened!: () => void;
      const open = new Promise<void>((r) => (opened = r));
      let ended!: () => void;
      const end = new Promise<void>((r) => (ended = r));
      const server = listenTLS({
        port: 0, cert: pki.chain, key: pki.key, io,
        handler: { open: (c) => { c.pause(); serverConn = c; opened(); }, data: () => {}, end: (c) => void c.close(), close: () => ended() },
      });
      try {
        const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, ca: pki.root, io });
        await open;
        client.send(new Uint8Array(32 << 20).fill(0x33));
        const closing = client.close();
        serverConn!.resume();
        await closing.catch(() => {});
        assert.equal(client.closed, true);
        await end;
      } finally {
        server.close();
      }
    });
  }
});
