// A raw `connection.socket.shutdown("write")` right after sends: the FIN
// goes after the bytes the connection still has queued, never ahead of
// them. Over io_uring every send waits in the ring (and TLS records, in
// memory-BIO mode, in the transport underneath); over readiness I/O what
// the kernel did not take waits in the write queue. Before the guard the
// FIN went at once: the peer saw the stream end early (plain: a short
// stream; TLS: a truncation with no body at all over io_uring).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connect, listen } from "../poll/listener.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { TLSError } from "../core/errors.ts";
import { numberedBytes, withLoop } from "./loop_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const IO_MODES = ["readiness", "uring"] as const;

/** Everything `conn` reads until its end (null) or a failure: the bytes, and the failure if one came. */
async function readToEnd(conn: Connection): Promise<{ bytes: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  let error: unknown;
  try {
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) parts.push(chunk);
  } catch (err) {
    error = err;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, error };
}

for (const io of IO_MODES) {
  describe(`socket.shutdown("write") after sends (${io})`, () => {
    test("plain: every byte sent before it arrives, then the end", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io });
          const peer = (await server.accept())!;
          const client = await clientP;
          try {
            // More than the socket takes while the peer does not read: a
            // queue behind, over readiness too.
            peer.socket.options.sendBufferSize = 4096;
            const small = numberedBytes(0, 100);
            const large = numberedBytes(100, 2 << 20);
            peer.send(small);
            peer.send(large);
            assert.ok(peer.bufferedAmount > 0, "bytes wait in the queue");
            peer.socket.shutdown("write");
            const { bytes, error } = await readToEnd(client);
            assert.equal(error, undefined);
            assert.equal(bytes.length, 100 + (2 << 20), "every byte came before the end");
            assert.deepEqual(bytes, numberedBytes(0, 100 + (2 << 20)));
            // "both" also waits for the queue (its read half goes at once)
            const more = numberedBytes(5, 300_000);
            const reading = readToEnd(peer);
            client.send(more);
            client.socket.shutdown("both");
            const got = await reading;
            assert.equal(got.error, undefined);
            assert.deepEqual(got.bytes, more);
          } finally {
            client.abort();
            peer.abort();
          }
        } finally {
          server.close();
        }
      }));

    test("TLS: the records sent before it arrive, then the FIN (a truncation without close_notify, after every byte)", async () => {
      const pki = testPKI();
      const body = numberedBytes(9, 1 << 20);
      const server = listenTLS({
        host: "127.0.0.1",
        port: 0,
        cert: pki.chain,
        key: pki.key,
        io,
        handler: {
          data: (c) => {
            // A small send buffer: records wait in the queue (the ring's, or
            // the write queue), whatever the kernel takes at once.
            c.socket.options.sendBufferSize = 4096;
            c.send(body);
            c.socket.shutdown("write"); // FIN, no close_notify
          },
        },
      });
      try {
        const client = await connectTLS({ host: "127.0.0.1", port: server.port, servername: "localhost", ca: pki.root, io });
        try {
          client.send(new Uint8Array([1]));
          const { bytes, error } = await readToEnd(client);
          assert.equal(bytes.length, body.length, "every byte came before the FIN");
          assert.deepEqual(bytes, body);
          if (error !== undefined) {
            assert.ok(error instanceof TLSError, String(error));
            assert.equal(error.code, "ERR_TLS_TRUNCATED");
          }
        } finally {
          client.abort();
        }
      } finally {
        await server.close();
      }
    });
  });
}
