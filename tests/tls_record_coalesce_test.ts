// A TLS connection hands the records one socket read brought over in one
// delivery to its data handler (tls/connection.ts #readRounds), not one
// delivery per record: a server writes a record per HTTP/2 response, and
// the handler's own work per delivery was ~2 µs per response on Bun. The
// bytes stay whole and in order, and an end right behind them (close_notify
// and FIN in the same read) still comes after them. Against node:tls, which
// writes one record per write(); our client holds off reading (pause) until
// every record is in its socket, so what one read finds is all of them.
import assert from "node:assert/strict";
import * as nodeTls from "node:tls";
import { test } from "node:test";
import { connectTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const pki = testPKI();
const KEY = pki.key;
const RECORDS = 200;
const SIZE = 16;

// fd mode (readiness) and memory-BIO mode (io_uring: tls/bio_connection.ts
// reads records from its input BIO into one target the same way).
for (const io of ["readiness", "uring"] as const) test(`records read together are delivered together, whole and in order, and the end comes after them (${io})`, async () => {
  let allWritten!: () => void;
  const written = new Promise<void>((r) => (allWritten = r));
  const server = nodeTls.createServer({ cert: pki.chain, key: KEY }, (s) => {
    s.on("error", () => {});
    // One write at a time (each after the last one's callback): node:tls joins writes queued together into one record.
    let i = 0;
    const next = (): void => {
      if (i === RECORDS) {
        s.end(() => allWritten());
        return;
      }
      s.write(new Uint8Array(SIZE).fill(i++ & 0xff), next);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port, ca: pki.root, io });
    const got: number[] = [];
    let deliveries = 0;
    let bytesAtEnd = -1;
    const ended = new Promise<void>((resolve) => {
      client.setHandler({
        data: (_c, d) => {
          deliveries++;
          for (const b of d) got.push(b);
        },
        end: (c) => {
          bytesAtEnd = got.length;
          void c.close();
          resolve();
        },
      });
    });
    client.pause();
    await written;
    client.resume();
    await ended;
    assert.equal(bytesAtEnd, RECORDS * SIZE, "the end came after every byte");
    for (let i = 0; i < got.length; i++) if (got[i] !== (Math.floor(i / SIZE) & 0xff)) assert.fail(`byte ${i} is ${got[i]}`);
    assert.ok(deliveries <= 10, `${RECORDS} records in ${deliveries} deliveries (one per record before)`);
  } finally {
    server.close();
  }
});
