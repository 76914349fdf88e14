/**
 * The Promise-side reading and writing API of async connections:
 * `readExactly`, `readInto`, the `readable`/`writable` stream properties,
 * `send()` after close, and handler-mode `copy`. Every test runs with
 * readiness I/O and with io_uring (readiness where io_uring is refused),
 * against a real peer on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { SocketClosedError, SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { C } from "../ffi/platform.ts";
import type { Connection, ConnectionHandler, ConnectionOptions } from "./connection.ts";
import { connect } from "./connect.ts";
import { listen } from "./listener.ts";
import { Loop, type LoopOptions } from "./loop.ts";
import { withLoop } from "../tests/loop_helpers.ts";
import { concatBytes } from "../core/bytes.ts";

const IO_MODES = ["readiness", "uring"] as const;
type Io = (typeof IO_MODES)[number];

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Pair {
  loop: Loop;
  /** Our connecting side. */
  client: Connection;
  /** The server's side, from `accept()`. */
  peer: Connection;
}

/**
 * Runs `body` with one connection between a handler-less listener and a
 * client, both on 127.0.0.1, on a loop of its own (made with
 * `loopOptions`); the peer's I/O is the client's unless given.
 */
async function withPair(io: Io, clientOptions: ConnectionOptions, body: (pair: Pair) => Promise<void>, peerIo: Io = io, loopOptions: LoopOptions = {}): Promise<void> {
  const loop = new Loop(loopOptions);
  try {
    const server = listen({ host: "127.0.0.1", port: 0, loop, io: peerIo });
    try {
      const clientP = connect({ host: "127.0.0.1", port: server.port, loop, io, ...clientOptions });
      const peer = (await server.accept())!;
      const client = await clientP;
      try {
        await body({ loop, client, peer });
      } finally {
        client.abort();
        peer.abort();
      }
    } finally {
      server.close();
    }
  } finally {
    loop.close();
    await loop.released();
  }
}

/**
 * `promise`, or a failure naming `what` and the handler's events so far
 * after 10 s: a lost hand-over fails the test instead of hanging the file.
 */
function within<T>(promise: Promise<T>, what: string, events: readonly string[]): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within 10 s; events: ${events.join(", ") || "none"}`)), 10_000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The bytes of the `data ...` events, joined. */
function received(events: readonly string[]): string {
  return events.filter((e) => e.startsWith("data ")).map((e) => e.slice(5)).join("");
}

/** `end` and `close` callbacks that log to `events` (what a failed wait shows). */
function watchEnds(events: string[]): Pick<ConnectionHandler, "end" | "close"> {
  return {
    end: () => void events.push("end"),
    close: (_c, err) => void events.push(`close ${err?.message ?? ""}`),
  };
}

/** A handler that logs to `events` and calls `ended` at the end of stream. */
function handOverHandler(events: string[], ended: () => void): ConnectionHandler {
  return {
    data: (_c, b) => void events.push(`data ${dec.decode(b)}`),
    ...watchEnds(events),
    end: () => {
      events.push("end");
      ended();
    },
  };
}

/** Every byte until end of stream, through `readInto` with one small buffer. */
async function readAllInto(conn: Connection, bufferBytes = 1000): Promise<Uint8Array> {
  const buffer = new Uint8Array(bufferBytes);
  const parts: Uint8Array[] = [];
  for (let n = await conn.readInto(buffer); n !== null; n = await conn.readInto(buffer)) {
    assert.ok(n > 0 && n <= buffer.length, `readInto gave ${n}`);
    parts.push(buffer.slice(0, n));
  }
  return concatBytes(parts);
}


function pattern(length: number, seed = 1): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + seed) & 0xff);
}

for (const io of IO_MODES) {
  describe(`Connection.setHandler after read mode (${io})`, () => {
    // io_uring takes bytes as they arrive, so bytes behind the last read()
    // wait in the connection's buffer (the WebSocket client's first frames
    // behind the 101 response: the Autobahn client cases hung for 60 s).
    test("bytes read ahead in read mode go to the new data handler first, after the caller's setup, then later bytes in order", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("abcdefgh"));
        assert.equal(dec.decode(await client.readExactly(3)), "abc");
        const events: string[] = [];
        let setUp = false;
        let done!: () => void;
        const all = new Promise<void>((resolve) => (done = resolve));
        client.setHandler({
          data: (_c, bytes) => {
            assert.ok(setUp, "data comes after the caller's synchronous setup");
            events.push(`data ${dec.decode(bytes)}`);
            if (received(events) === "defghij") done();
          },
          ...watchEnds(events),
        });
        setUp = true;
        await peer.write(enc.encode("ij"));
        await within(all, "the bytes d..j", events);
        assert.equal(received(events), "defghij");
      }));

    test("bytes and the end of stream that came in read mode reach the new handler's data, then its end", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("abcdef"));
        await peer.end();
        assert.equal(dec.decode(await client.readExactly(2)), "ab");
        // Let the end of stream arrive in read mode too (any order is fine below).
        await new Promise((r) => setTimeout(r, 20));
        const events: string[] = [];
        await within(new Promise<void>((resolve) => client.setHandler(handOverHandler(events, resolve))), "the end", events);
        assert.deepEqual(events.slice(-1), ["end"]);
        assert.equal(received(events), "cdef");
      }));

    test("an end of stream that came in read mode with nothing buffered reaches the new handler's end", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("head"));
        await peer.end();
        assert.equal(dec.decode(await client.readExactly(4)), "head");
        // Let the end of stream arrive in read mode (io_uring reports it at once; readiness maybe later: both are fine).
        await new Promise((r) => setTimeout(r, 20));
        const events: string[] = [];
        await within(new Promise<void>((resolve) => client.setHandler(handOverHandler(events, resolve))), "the end", events);
        assert.deepEqual(events, ["end"]);
      }));

    test("paused when the handler takes over: the buffered bytes wait for resume()", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("12345"));
        assert.equal(dec.decode(await client.readExactly(1)), "1");
        client.pause();
        const events: string[] = [];
        let done!: () => void;
        const all = new Promise<void>((resolve) => (done = resolve));
        client.setHandler({
          data: (_c, b) => {
            events.push(`data ${dec.decode(b)}`);
            if (received(events) === "2345") done();
          },
          ...watchEnds(events),
        });
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(received(events), "", "nothing while paused");
        client.resume();
        await within(all, "the bytes 2345", events);
        assert.equal(received(events), "2345");
      }));

    // The hand-over runs in a microtask, outside the loop's tick: a throw
    // there must reach the loop's onError as one in a dispatch does, not
    // escape as an uncaught exception (the default onError rethrows).
    test("a data handler that throws on the handed-over bytes: the loop's onError gets the error, and the end still comes", () => {
      const errors: unknown[] = [];
      let failed!: () => void;
      const gotError = new Promise<void>((resolve) => (failed = resolve));
      const onError = (err: unknown): void => {
        errors.push(err);
        failed();
      };
      return withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("abcdef"));
        await peer.end();
        assert.equal(dec.decode(await client.readExactly(2)), "ab");
        await new Promise((r) => setTimeout(r, 20));
        const boom = new Error("boom from data");
        const events: string[] = [];
        const ended = new Promise<void>((resolve) =>
          client.setHandler({
            data: (_c, b) => {
              events.push(`data ${dec.decode(b)}`);
              throw boom;
            },
            end: () => {
              events.push("end");
              resolve();
            },
            close: (_c, err) => void events.push(`close ${err?.message ?? ""}`),
          })
        );
        await within(gotError, "the loop's onError", events);
        await within(ended, "the end after the throw", events);
        assert.deepEqual(errors, [boom]);
        assert.equal(received(events), "cdef");
      }, io, { onError });
    });

    test("an end handler that throws on an end handed over: the loop's onError gets the error", () => {
      const errors: unknown[] = [];
      let failed!: () => void;
      const gotError = new Promise<void>((resolve) => (failed = resolve));
      return withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("head"));
        await peer.end();
        assert.equal(dec.decode(await client.readExactly(4)), "head");
        await new Promise((r) => setTimeout(r, 20));
        const boom = new Error("boom from end");
        const events: string[] = [];
        client.setHandler({
          data: (_c, b) => void events.push(`data ${dec.decode(b)}`),
          end: () => {
            events.push("end");
            throw boom;
          },
        });
        await within(gotError, "the loop's onError", events);
        assert.deepEqual(errors, [boom]);
        assert.deepEqual(events, ["end"]);
      }, io, {
        onError: (err) => {
          errors.push(err);
          failed();
        },
      });
    });
  });

  describe(`Connection.readExactly (${io})`, () => {
    test("resolves once n bytes arrived over several writes, then the next n", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const first = client.readExactly(6);
        await peer.write(enc.encode("ab"));
        await peer.write(enc.encode("cdefgh"));
        assert.equal(dec.decode(await first), "abcdef");
        await peer.write(enc.encode("ij"));
        assert.equal(dec.decode(await client.readExactly(4)), "ghij");
        assert.equal((await client.readExactly(0)).length, 0);
      }));

    test("a read() behind a pending readExactly() gets what follows, in order", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const exact = client.readExactly(4);
        const rest = client.read();
        await peer.write(enc.encode("abcdef"));
        assert.equal(dec.decode(await exact), "abcd");
        assert.equal(dec.decode((await rest)!), "ef");
      }));

    test("the stream ending first rejects with SocketClosedError EOF; the bytes stay for read()", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("xyz"));
        await peer.end();
        await assert.rejects(client.readExactly(8), (err: unknown) => {
          assert.ok(err instanceof SocketClosedError);
          assert.equal(err.code, "EOF");
          assert.equal(err.transferred, 3);
          assert.match(err.message, /3 of 8 bytes/);
          return true;
        });
        assert.equal(dec.decode((await client.read())!), "xyz");
        assert.equal(await client.read(), null);
        // After the end, with nothing buffered: rejects at once.
        await assert.rejects(client.readExactly(1), (err: unknown) => err instanceof SocketClosedError && err.transferred === 0);
      }));

    test("n is bounded by readBufferBytes: RangeError above it, and exactly that many works", () =>
      withPair(io, { readBufferBytes: 4096 }, async ({ client, peer }) => {
        assert.equal(client.readBufferBytes, 4096);
        for (const bad of [4097, -1, 1.5, Number.NaN, Infinity]) {
          await assert.rejects(client.readExactly(bad), RangeError, `n = ${bad}`);
        }
        const sent = pattern(4096 + 100);
        await peer.write(sent);
        assert.deepEqual(await client.readExactly(4096), sent.subarray(0, 4096));
        assert.deepEqual(await client.readExactly(100), sent.subarray(4096));
      }));

    test("an aborted readExactly() takes no bytes: read() gets them after", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const controller = new AbortController();
        const waiting = client.readExactly(10, { signal: controller.signal });
        await peer.write(enc.encode("1234"));
        // Give the four bytes time to reach the read buffer (readExactly waits
        // for 10); whether they did or not, read() must get them after.
        for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
        controller.abort(new Error("no more waiting"));
        await assert.rejects(waiting, /no more waiting/);
        assert.equal(dec.decode((await client.read())!), "1234");
      }));

    test("readTimeoutMs fails a readExactly() still short; what arrived goes to the next read", () =>
      withPair(io, { readTimeoutMs: 50 }, async ({ client, peer }) => {
        const waiting = client.readExactly(10);
        const next = client.read();
        await peer.write(enc.encode("part"));
        await assert.rejects(waiting, SocketTimeoutError);
        assert.equal(dec.decode((await next)!), "part");
        assert.equal(client.closed, false);
      }));

    test("property: any split of the peer's writes, any sequence of sizes, reassembles the bytes", () =>
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }),
          fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }),
          (writes, reads) =>
            withPair(io, {}, async ({ client, peer }) => {
              const sent = pattern(writes.reduce((a, b) => a + b, 0), writes.length);
              const writing = (async () => {
                let at = 0;
                for (const w of writes) {
                  await peer.write(sent.subarray(at, at + w));
                  at += w;
                }
                await peer.end();
              })();
              const got: Uint8Array[] = [];
              let taken = 0;
              for (const r of reads) {
                if (taken + r > sent.length) {
                  await assert.rejects(client.readExactly(r), (err: unknown) => err instanceof SocketClosedError && err.transferred === sent.length - taken);
                  break;
                }
                got.push(await client.readExactly(r));
                taken += r;
              }
              got.push(await readAllInto(client));
              await writing;
              assert.deepEqual(concatBytes(got), sent);
            }),
        ),
        { numRuns: 12 },
      ));
  });

  describe(`Connection.readInto (${io})`, () => {
    test("a pending readInto() gets the bytes in the caller's buffer (a view at an offset)", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const backing = new Uint8Array(64);
        const view = backing.subarray(8, 24);
        const reading = client.readInto(view);
        await peer.write(enc.encode("hello"));
        const n = await reading;
        assert.equal(n, 5);
        assert.equal(dec.decode(backing.subarray(8, 13)), "hello");
        assert.ok(backing.subarray(0, 8).every((b) => b === 0));
      }));

    test("more bytes than the buffer holds: the rest comes with the next calls, then null at the end", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const sent = pattern(100_000);
        const first = client.readInto(new Uint8Array(10));
        await peer.write(sent);
        await peer.end();
        const n = (await first)!;
        assert.ok(n >= 1 && n <= 10);
        const rest = await readAllInto(client, 777);
        assert.deepEqual(concatBytes([sent.subarray(0, n), rest]), sent);
        assert.equal(await client.readInto(new Uint8Array(4)), null);
      }));

    test("buffered bytes are copied into the buffer; an empty buffer is a RangeError", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("abcdefgh"));
        // One segment: the six bytes after these two wait in the read buffer.
        assert.deepEqual(await client.readExactly(2), enc.encode("ab"));
        const buffer = new Uint8Array(3);
        const parts: string[] = [];
        while (parts.join("").length < 6) {
          const n = (await client.readInto(buffer))!;
          parts.push(dec.decode(buffer.subarray(0, n)));
        }
        assert.equal(parts.join(""), "cdefgh");
        await assert.rejects(client.readInto(new Uint8Array(0)), RangeError);
      }));
  });

  describe(`Connection.readable and writable (${io})`, () => {
    test("one stream of each per connection, made on first use", () =>
      withPair(io, {}, async ({ client }) => {
        assert.equal(client.readable, client.readable);
        assert.equal(client.writable, client.writable);
        assert.ok(client.readable instanceof ReadableStream);
        assert.ok(client.writable instanceof WritableStream);
      }));

    test("readable is a byte stream: a BYOB reader fills its own buffer, then a default reader takes over", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const byob = client.readable.getReader({ mode: "byob" });
        const reading = byob.read(new Uint8Array(16));
        await peer.write(enc.encode("byob"));
        const { value, done } = await reading;
        assert.equal(done, false);
        assert.equal(dec.decode(value), "byob");
        assert.equal(value!.buffer.byteLength, 16);
        byob.releaseLock();
        const reader = client.readable.getReader();
        await peer.write(enc.encode("default"));
        await peer.end();
        const parts: Uint8Array[] = [];
        for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
        assert.equal(dec.decode(concatBytes(parts)), "default");
      }));

    test("an echo through pipeTo: closing the writable sends FIN, which ends the peer's pipe", () =>
      withPair(io, {}, async ({ client, peer }) => {
        const echoing = peer.readable.pipeTo(peer.writable);
        const sent = pattern(1 << 20, 3);
        const reading = readAllInto(client, 64 * 1024);
        const writer = client.writable.getWriter();
        for (let at = 0; at < sent.length; at += 50_000) await writer.write(sent.subarray(at, at + 50_000));
        await writer.close();
        await echoing;
        assert.deepEqual(await reading, sent);
      }));

    // The peer reads with readiness I/O: paused, it takes nothing (an
    // io_uring peer's armed receive would go on taking bytes while paused).
    test("writable writes resolve below the high-water mark and wait for the drain above it", () =>
      withPair(io, { highWaterMark: 16 * 1024 }, async ({ client, peer }) => {
        peer.pause();
        // Fill the kernel behind the connection's back: from now on every
        // byte written waits in the connection's queue.
        const filler = new Uint8Array(64 * 1024);
        let sent = 0;
        const fillKernel = (): void => {
          for (let i = 0; i < 4096; i++) {
            const n = client.socket.send(filler, C.MSG_DONTWAIT);
            if (n === 0) break;
            sent += n;
          }
        };
        const writer = client.writable.getWriter();
        // Below the mark a write resolves at once, its bytes queued (a write
        // that waited for the kernel would never resolve: the peer reads nothing).
        // A loaded kernel may free send-buffer space after the fill reported
        // it full (loopback delivery deferred to ksoftirqd), so a small write
        // can still go straight out: fill again until one stays queued.
        const chunk = pattern(4096, 5);
        for (let attempt = 0; attempt < 50 && client.bufferedAmount === 0; attempt++) {
          fillKernel();
          await writer.write(chunk);
          sent += chunk.length;
        }
        assert.ok(client.bufferedAmount > 0 && client.bufferedAmount < client.highWaterMark, `queued ${client.bufferedAmount}`);
        const big = pattern(64 * 1024, 9);
        let resolved = false;
        const waiting = writer.write(big).then(() => (resolved = true));
        sent += big.length;
        assert.ok(client.bufferedAmount >= client.highWaterMark);
        await new Promise((r) => setTimeout(r, 0));
        assert.equal(resolved, false, "the peer reads nothing: the queue cannot drain");
        peer.resume();
        let got = 0;
        while (got < sent) got += (await peer.read())!.length;
        await waiting;
        assert.equal(got, sent);
      }, "readiness"));

    test("cancelling readable closes the read side only: input is dropped, writing goes on", () =>
      withPair(io, {}, async ({ client, peer }) => {
        await peer.write(enc.encode("dropped"));
        const pending = client.readExactly(100);
        await client.readable.cancel();
        await assert.rejects(pending, SocketClosedError);
        assert.equal(await client.read(), null);
        assert.equal(await client.readInto(new Uint8Array(4)), null);
        assert.equal(client.closed, false);
        await peer.write(pattern(200_000)); // read and dropped: the peer is not held up
        await client.write(enc.encode("still writing"));
        await client.end();
        assert.equal(dec.decode(await readAllInto(peer)), "still writing");
        // Both sides ended: the client closes cleanly (nothing unread, no reset).
        await peer.close();
        assert.equal(await client.whenClosed, undefined);
        assert.equal(client.closed, true);
      }));

    test("cancelling a BYOB reader ends its pending read", () =>
      withPair(io, {}, async ({ client }) => {
        const reader = client.readable.getReader({ mode: "byob" });
        const pending = reader.read(new Uint8Array(8));
        await reader.cancel();
        const { done } = await pending;
        assert.equal(done, true);
        assert.equal(client.closed, false);
      }));

    test("closing the writable after the connection failed rejects", () =>
      withPair(io, {}, async ({ client }) => {
        const writer = client.writable.getWriter();
        await writer.write(enc.encode("x"));
        client.abort(new Error("gone"));
        await assert.rejects(writer.close(), /gone|closed/);
      }));
  });

  describe(`send() and write() once closed (${io})`, () => {
    test("send() after close() throws UseAfterCloseError, as write() rejects", () =>
      withPair(io, {}, async ({ client }) => {
        await client.close();
        assert.throws(() => client.send(enc.encode("late")), UseAfterCloseError);
        await assert.rejects(client.write(enc.encode("late")), UseAfterCloseError);
      }));

    test("send() after end() throws UseAfterCloseError naming the write side", () =>
      withPair(io, {}, async ({ client }) => {
        await client.end();
        assert.throws(() => client.send(enc.encode("late")), (err: unknown) => err instanceof UseAfterCloseError && /write side/.test(err.message));
      }));

    test("send() after a failure throws the error that closed the connection", () =>
      withPair(io, {}, async ({ client }) => {
        const failure = new Error("reset by test");
        client.abort(failure);
        assert.throws(() => client.send(enc.encode("late")), (err: unknown) => err === failure);
        await assert.rejects(client.write(enc.encode("late")), (err: unknown) => err === failure);
      }));
  });

  describe(`handler-mode data (${io})`, () => {
    test("copy: true gives data a Uint8Array of its own each time", () =>
      withLoop(async (loop) => {
        const kept: Uint8Array[] = [];
        const server = listen({
          host: "127.0.0.1",
          port: 0,
          loop,
          io,
          copy: true,
          handler: {
            data: (conn, data) => {
              kept.push(data);
              conn.send(new Uint8Array([kept.length]));
            },
          },
        });
        try {
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
          for (const word of ["aaaa", "bbbb", "cccc"]) {
            await client.write(enc.encode(word));
            await client.readExactly(1);
          }
          await client.close();
          assert.deepEqual(kept.map((k) => dec.decode(k)), ["aaaa", "bbbb", "cccc"]);
          for (const k of kept) assert.equal(k.byteLength, k.buffer.byteLength);
          assert.equal(new Set(kept.map((k) => k.buffer)).size, kept.length);
        } finally {
          server.close();
        }
      }));

    test("copy must be a boolean", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        try {
          await assert.rejects(connect({ host: "127.0.0.1", port: server.port, loop, io, copy: "yes" as unknown as boolean }), /copy must be a boolean/);
        } finally {
          server.close();
        }
      }));

    test("after close() with output still queued, data is not called again (and sends nothing)", () =>
      withLoop(async (loop) => {
        let calls = 0;
        const response = pattern(16 * 1024 * 1024, 7);
        const server = listen({
          host: "127.0.0.1",
          port: 0,
          loop,
          io,
          handler: {
            data: (conn, data) => {
              calls++;
              // An echo of a late request would throw once closing.
              if (calls > 1) conn.send(data);
              conn.send(response);
              void conn.close();
            },
          },
        });
        try {
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
          await client.write(enc.encode("request"));
          // The response is queued and the server closing: one more request.
          assert.equal((await client.readExactly(1))[0], response[0]);
          await client.write(enc.encode("late request"));
          const rest = await readAllInto(client, 256 * 1024);
          assert.equal(rest.length, response.length - 1);
          assert.equal(calls, 1);
          await client.close();
        } finally {
          server.close();
        }
      }));
  });
}
