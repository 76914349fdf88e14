// TLS in memory-BIO mode (startTLS with bio, and every TLS connection over
// io_uring): a large send arrives byte-exact. The inner transport reports
// `sent` as it takes ciphertext, from inside the BIO transport's trySend;
// that flushed the connection's queue and encrypted its head again before
// trySend had consumed it: 32 MiB arrived with pieces repeated (over
// io_uring, 32 KiB more than sent; over readiness, wrong bytes from 8 MB on).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect } from "../poll/connect.ts";
import { listenTLS, startTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const TOTAL = 32 << 20;
/** Byte `at` of the stream: shifts every 8 KiB, so a repeated or lost piece shows. */
const pattern = (at: number): number => (at * 7 + (at >> 13)) & 0xff;

describe("TLS memory-BIO mode: a large send arrives once and in order", () => {
  for (const io of ["readiness", "uring"] as const) {
    for (const shape of ["one send", "512 sends of 64 KiB"] as const) {
      test(`${io}, ${shape}`, async () => {
        const pki = testPKI();
        let got = 0;
        let bad = -1;
        let ended!: () => void;
        const end = new Promise<void>((r) => (ended = r));
        const server = listenTLS({
          port: 0, cert: pki.chain, key: pki.key, io: "readiness",
          handler: {
            data: (_c, d) => {
              for (let i = 0; i < d.length && bad < 0; i++) if (d[i] !== pattern(got + i)) bad = got + i;
              got += d.length;
            },
            end: (c) => {
              ended();
              void c.close();
            },
          },
        });
        try {
          const plain = await connect({ host: "127.0.0.1", port: server.port, io });
          const tls = await startTLS(plain, { host: "localhost", ca: pki.root, bio: true });
          const data = new Uint8Array(TOTAL);
          for (let i = 0; i < TOTAL; i++) data[i] = pattern(i);
          if (shape === "one send") tls.send(data);
          else for (let at = 0; at < TOTAL; at += 65536) tls.send(data.subarray(at, at + 65536));
          await tls.close();
          await end;
          assert.equal(bad, -1, `first wrong byte at ${bad}`);
          assert.equal(got, TOTAL);
        } finally {
          server.close();
        }
      });
    }
  }
});
