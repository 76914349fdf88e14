import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { UseAfterCloseError } from "../core/errors.ts";
import type { Connection } from "./connection.ts";
import { connect, listen } from "./listener.ts";
import { numberedBytes, readExactBytes, withLoop } from "../tests/loop_helpers.ts";

/** Readiness I/O and io_uring (both send a large pair in one sendmsg from the caller's memory; io_uring sends small ones through the ring). */
const IO_MODES = ["readiness", "uring"] as const;

const numbered = numberedBytes;
const readBytes = readExactBytes;

async function withPair(io: (typeof IO_MODES)[number], body: (client: Connection, peer: Connection) => Promise<void>): Promise<void> {
  await withLoop(async (loop) => {
    const server = listen({ host: "127.0.0.1", port: 0, loop, io });
    try {
      const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io });
      const peer = (await server.accept())!;
      const client = await clientP;
      try {
        await body(client, peer);
      } finally {
        client.abort();
        peer.abort();
      }
    } finally {
      server.close();
    }
  });
}

for (const io of IO_MODES) {
  describe(`Connection.sendPair(head, body, more) (${io})`, () => {
    test("a large send or pair with nothing queued goes to the kernel at once from the caller's memory; behind a queued send it waits its turn", () =>
      withPair(io, async (client, peer) => {
        client.socket.options.sendBufferSize = 1 << 20; // room for all of it: nothing is left to queue
        const head = numbered(0, 200);
        const body = numbered(200, 65536);
        const small = numbered(200 + 65536, 100);
        const large = numbered(200 + 65536 + 100, 30000);
        const total = 200 + 65536 + 100 + 30000;
        const reading = readBytes(peer, total);
        assert.equal(client.sendPair(head, body), true);
        assert.equal(client.bufferedAmount, 0, "the pair went at once, none of it queued");
        head.fill(0); // the kernel took its copy during the call
        body.fill(0);
        assert.equal(client.send(small), true);
        // io_uring: the small send waits for the ring (queued), so the large
        // one queues behind it (order); readiness sends both at once.
        assert.equal(client.send(large), true);
        if (io === "uring") assert.equal(client.bufferedAmount, 100 + 30000, "queued behind the ring's send");
        else assert.equal(client.bufferedAmount, 0);
        small.fill(0);
        large.fill(0);
        assert.deepEqual(await reading, numbered(0, total));
        assert.equal(client.bufferedAmount, 0);
        const alone = numbered(3, 50000);
        const readingAlone = readBytes(peer, alone.length);
        assert.equal(client.send(alone), true);
        assert.equal(client.bufferedAmount, 0, "a large send alone went at once");
        alone.fill(0);
        assert.deepEqual(await readingAlone, numbered(3, 50000));
      }));

    test("property: sendParts, pairs (any split, empty heads and bodies included) and sends mixed, through a small send buffer (partial sends, a queue behind, more parts than one call takes), arrive whole and in order", () =>
      withPair(io, async (client, peer) => {
        client.socket.options.sendBufferSize = 4096;
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.record({
                kind: fc.constantFrom("parts", "pair", "send"),
                lengths: fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 20 }),
                head: fc.integer({ min: 0, max: 9000 }), // a pair's head length (at most the whole)
                more: fc.boolean(),
              }),
              { minLength: 1, maxLength: 5 },
            ),
            async (writes) => {
              const all = writes.reduce((n, w) => n + (w.kind === "parts" ? w.lengths.reduce((a, b) => a + b, 0) : w.lengths[0]!), 0);
              const reading = readBytes(peer, all);
              let total = 0;
              for (const [i, w] of writes.entries()) {
                const more = w.more && i < writes.length - 1;
                let below: boolean;
                if (w.kind === "parts") {
                  const parts = w.lengths.map((n) => {
                    const part = numbered(total, n);
                    total += n;
                    return part;
                  });
                  below = client.sendParts(parts, more);
                  for (const part of parts) part.fill(0); // what was kept was copied
                } else {
                  const data = numbered(total, w.lengths[0]!);
                  total += data.length;
                  const split = Math.min(w.head, data.length);
                  below = w.kind === "pair" ? client.sendPair(data.subarray(0, split), data.subarray(split), more) : client.send(data, more);
                  data.fill(0);
                }
                if (!below) await client.write(new Uint8Array(0));
              }
              assert.deepEqual(await reading, numbered(0, total));
            },
          ),
          { numRuns: 25 },
        );
      }));

    test("sendParts: a head, pieces and a CRLF with nothing queued go in one call from their own memory; a closed connection throws as send() does", () =>
      withPair(io, async (client, peer) => {
        client.socket.options.sendBufferSize = 1 << 20;
        const parts = [numbered(0, 120), numbered(120, 16384), numbered(120 + 16384, 16384), numbered(120 + 32768, 40000), numbered(120 + 32768 + 40000, 2)];
        const total = 120 + 32768 + 40000 + 2;
        const reading = readBytes(peer, total);
        assert.equal(client.sendParts(parts), true);
        assert.equal(client.bufferedAmount, 0, "the parts went at once, none of them queued");
        for (const part of parts) part.fill(0);
        assert.deepEqual(await reading, numbered(0, total));
        await client.close();
        assert.throws(() => client.sendParts([new Uint8Array(1), new Uint8Array(1)]), UseAfterCloseError);
      }));

    test("a 64 KiB body beside its head arrives as one byte stream; a closed connection throws as send() does", () =>
      withPair(io, async (client, peer) => {
        const head = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n");
        const body = numbered(7, 65536);
        const reading = readBytes(peer, head.length + body.length);
        client.sendPair(head, body);
        const got = await reading;
        assert.deepEqual(got.subarray(0, head.length), head);
        assert.deepEqual(got.subarray(head.length), body);
        await client.close();
        assert.throws(() => client.sendPair(head, body), UseAfterCloseError);
      }));
  });
}
