/**
 * A peer that sends bytes and then resets the connection: the bytes that
 * arrived first are still read, in order, and the reset comes after them
 * (as recv(2) reports it), on readiness and io_uring I/O.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SocketError } from "../core/errors.ts";
import { connect } from "./connect.ts";
import { listen } from "./listener.ts";
import { withLoop } from "../tests/loop_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

for (const io of ["readiness", "uring"] as const) {
  describe(`Connection after a peer's reset (${io})`, () => {
    test("bytes sent before the reset are read first, then the read fails with ECONNRESET", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io });
          const peer = (await server.accept())!;
          const client = await clientP;
          try {
            await peer.write(enc.encode("sent before the reset"));
            peer.abort(); // SO_LINGER 0: a RST after the bytes
            // The failure has reached the client: the bytes were received first.
            const failure = await client.whenClosed;
            assert.ok(failure instanceof SocketError, `closed with ${String(failure)}`);
            assert.equal((failure as SocketError).code, "ECONNRESET");
            let text = "";
            for (;;) {
              const chunk = await client.read().catch((error: unknown) => error as Error);
              if (chunk instanceof Error) {
                assert.equal((chunk as SocketError).code, "ECONNRESET");
                break;
              }
              assert.ok(chunk !== null, "end of stream instead of the reset");
              text += dec.decode(chunk);
            }
            assert.equal(text, "sent before the reset");
            await assert.rejects(client.read(), (e: Error) => (e as SocketError).code === "ECONNRESET");
          } finally {
            client.abort();
          }
        } finally {
          server.close();
        }
      }));
  });
}
