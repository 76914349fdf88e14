import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Connection } from "./connection.ts";
import { connect, listen } from "./listener.ts";
import { numberedBytes, readExactBytes, withLoop } from "../tests/loop_helpers.ts";

/** Readiness I/O and io_uring (readiness where io_uring is refused; it takes `more` as a hint it may drop). */
const IO_MODES = ["readiness", "uring"] as const;

const numbered = numberedBytes;
const readBytes = readExactBytes;

for (const io of IO_MODES) {
  describe(`Connection.send(data, more) (${io})`, () => {
    test("property: sends with and without `more`, through a small send buffer, arrive whole and in order", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io });
          const peer = (await server.accept())!;
          const client = await clientP;
          client.socket.options.sendBufferSize = 4096;
          try {
            await fc.assert(
              fc.asyncProperty(
                fc.array(fc.record({ length: fc.integer({ min: 0, max: 100_000 }), more: fc.boolean() }), { minLength: 1, maxLength: 6 }),
                async (parts) => {
                  let total = 0;
                  const reading = readBytes(peer, parts.reduce((n, p) => n + p.length, 0));
                  for (const [i, part] of parts.entries()) {
                    // the last send pushes: `more` on it would leave the tail to the kernel's timer
                    const more = part.more && i < parts.length - 1;
                    const data = numbered(total, part.length);
                    total += part.length;
                    if (!client.send(data, more)) await client.write(new Uint8Array(0));
                    data.fill(0); // send copied what it kept
                  }
                  const got = await reading;
                  assert.deepEqual(got, numbered(0, total));
                },
              ),
              { numRuns: 25 },
            );
          } finally {
            client.abort();
            peer.abort();
          }
        } finally {
          server.close();
        }
      }));

    test("a head sent with `more` and no body after it still arrives (the next send, or close, pushes it)", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io });
          const peer = (await server.accept())!;
          const client = await clientP;
          assert.equal(client.send(numbered(0, 100), true), true);
          await client.end();
          const got = await readBytes(peer, 100);
          assert.deepEqual(got, numbered(0, 100));
          assert.equal(await peer.read(), null);
          peer.abort();
        } finally {
          server.close();
        }
      }));
  });
}
