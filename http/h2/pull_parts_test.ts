// H2Connection.pullParts: the bytes of a gathering send (frame headers and
// control frames from the connection's buffer, large DATA payloads as views
// of the arrays given to sendData) are the bytes pull() would have sent,
// under any bodies, windows, frame sizes, part limits and byte budgets; and
// copyQueuedData lets the caller change its arrays while bytes still wait.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes } from "../../core/bytes.ts";
import { H2Connection } from "./connection.ts";

const GET = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a.test"];

/** A client and server past the preface and SETTINGS exchange; the client's stream window and frame size as given. */
function pair(window: number, maxFrameSize: number): { client: H2Connection; server: H2Connection } {
  const client = new H2Connection({ role: "client", settings: { initialWindowSize: window, maxFrameSize } });
  const server = new H2Connection({ role: "server" });
  server.receive(client.pull());
  client.receive(server.pull());
  server.receive(client.pull());
  return { client, server };
}

/** The server's responses to `bodies.length` requests, each body queued in the given pieces. */
function answer(server: H2Connection, client: H2Connection, bodies: readonly Uint8Array[][]): void {
  const ids = bodies.map(() => client.request(GET, true));
  server.receive(client.pull());
  ids.forEach((id, i) => {
    server.respond(id, [":status", "200"], false);
    const pieces = bodies[i]!;
    pieces.forEach((piece, k) => server.sendData(id, piece, k === pieces.length - 1));
    if (pieces.length === 0) server.sendData(id, new Uint8Array(0), true);
  });
}

describe("H2Connection.pullParts", () => {
  test("property: without a binding part limit the parts joined are the bytes pull() sends, whatever the bodies, windows, frame size and budget; with one, every body still arrives whole", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 4096, max: 100_000 }),
        fc.constantFrom(16384, 20000, 65536),
        fc.oneof(fc.integer({ min: 3, max: 20 }), fc.constant(1000)),
        fc.integer({ min: 1024, max: 300_000 }),
        (sizes, window, maxFrameSize, maxParts, budget) => {
          const bodies = sizes.map((pieces, i) => pieces.map((n, k) => new Uint8Array(n).fill(i * 7 + k + 1)));
          const compare = maxParts === 1000;
          const a = pair(window, maxFrameSize);
          const b = pair(window, maxFrameSize);
          answer(a.server, a.client, bodies);
          answer(b.server, b.client, bodies);
          const received = new Map<number, number[]>();
          // Rounds of: the server sends gathered pieces (`b`; whole pulls on `a` beside it), the client reads and credits.
          for (let round = 0; round < 2000 && b.server.wantsWrite; round++) {
            const parts: Uint8Array[] = [];
            const n = b.server.pullParts(parts, maxParts, budget);
            assert.ok(parts.length <= maxParts, `${parts.length} parts, at most ${maxParts}`);
            const gathered = concatBytes(parts);
            assert.equal(gathered.length, n);
            if (compare) assert.deepEqual(gathered, a.server.pull(budget));
            for (const e of b.client.receive(gathered)) {
              assert.notEqual(e.type, "stream-error");
              if (e.type === "data") received.set(e.streamId, [...(received.get(e.streamId) ?? []), ...e.data]);
            }
            assert.equal(b.client.dead, false);
            const credit = b.client.pull();
            b.server.receive(credit);
            // The same bytes as `a` sent (compared above): the same credit for it.
            if (compare) a.server.receive(credit);
          }
          assert.equal(b.server.wantsWrite, false, "everything was sent");
          bodies.forEach((pieces, i) => {
            assert.deepEqual(received.get(1 + 2 * i) ?? [], [...concatBytes(pieces)]);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  test("payloads of 4 KiB and more are views of the queued array, smaller ones copies in the connection's buffer", () => {
    const { client, server } = pair(1 << 20, 16384);
    const body = new Uint8Array(40_000).fill(9);
    answer(server, client, [[body]]);
    const parts: Uint8Array[] = [];
    server.pullParts(parts, 16);
    // HEADERS and a frame header; 16,384; a frame header; 16,384; a frame header; 7,232 (>= 4 KiB): views of `body`.
    assert.equal(parts.length, 6);
    for (const k of [1, 3, 5]) assert.equal(parts[k]!.buffer, body.buffer);
    assert.deepEqual([parts[1]!.byteOffset, parts[3]!.byteOffset, parts[5]!.byteOffset], [0, 16384, 32768]);
    const small = pair(1 << 20, 16384);
    answer(small.server, small.client, [[new Uint8Array(4095).fill(1)]]);
    const few: Uint8Array[] = [];
    small.server.pullParts(few, 16);
    assert.equal(few.length, 1, "a payload under 4 KiB goes beside its frame header");
  });

  test("a part limit under 3 is refused", () => {
    const { server } = pair(65535, 16384);
    assert.throws(() => server.pullParts([], 2), RangeError);
  });
});

describe("H2Connection.copyQueuedData", () => {
  test("bytes still queued (the window holds them back) are a copy: the array given may change after it", () => {
    const { client, server } = pair(16384, 16384);
    const body = new Uint8Array(50_000).fill(65);
    answer(server, client, [[body]]);
    const got: number[] = [];
    const take = (bytes: Uint8Array) => {
      for (const e of client.receive(bytes)) if (e.type === "data") got.push(...e.data);
      server.receive(client.pull());
    };
    const parts: Uint8Array[] = [];
    server.pullParts(parts, 16);
    take(concatBytes(parts));
    server.copyQueuedData(1);
    body.fill(66);
    for (let i = 0; i < 10 && server.wantsWrite; i++) {
      parts.length = 0;
      server.pullParts(parts, 16);
      take(concatBytes(parts));
    }
    assert.equal(got.length, 50_000);
    assert.equal(got.findIndex((b) => b !== 65), -1);
    server.copyQueuedData(99); // an unknown stream: nothing
  });
});
