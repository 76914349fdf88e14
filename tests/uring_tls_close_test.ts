// A closed connection's addresses throw UseAfterCloseError whatever its I/O:
// a TLS connection over io_uring runs in memory-BIO mode over a plain
// connection and shares that one's socket, which stayed open after the TLS
// connection closed, so localAddress answered after close() (the same
// connection over readiness threw).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UseAfterCloseError } from "../core/errors.ts";
import { connect } from "../poll/connect.ts";
import { listen } from "../poll/listener.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

describe("a closed connection's addresses throw, on every I/O", () => {
  for (const io of ["readiness", "uring"] as const) {
    test(`${io}: TLS, both ends, after close() and after abort()`, async () => {
      const pki = testPKI();
      const listener = listenTLS({ port: 0, cert: pki.chain, key: pki.key, io });
      try {
        for (const how of ["close", "abort"] as const) {
          const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: listener.port, ca: pki.root, io });
          const server = (await listener.accept())!;
          for (const c of [client, server]) {
            assert.equal(c.localAddress.family, "ipv4");
            assert.equal(c.remoteAddress.family, "ipv4");
          }
          for (const c of [client, server]) {
            if (how === "close") await c.close();
            else c.abort();
            assert.throws(() => c.localAddress, UseAfterCloseError);
            assert.throws(() => c.remoteAddress, UseAfterCloseError);
          }
        }
      } finally {
        listener.close();
      }
    });

    test(`${io}: plain TCP, after close()`, async () => {
      const listener = listen({ host: "127.0.0.1", port: 0, io });
      try {
        const client = await connect({ host: "127.0.0.1", port: listener.port, io });
        const server = (await listener.accept())!;
        for (const c of [client, server]) {
          await c.close();
          assert.throws(() => c.localAddress, UseAfterCloseError);
          assert.throws(() => c.remoteAddress, UseAfterCloseError);
        }
      } finally {
        listener.close();
      }
    });
  }
});
