import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Connection } from "./connection.ts";
import { adopt } from "./connect.ts";
import { type Connector, defaultConnector } from "./connector.ts";
import { listen } from "./listener.ts";
import type { Loop } from "./loop.ts";
import type { Transport, TransportFactory, TransportSink } from "./transport.ts";
import { readinessTransport } from "./transport_readiness.ts";
import { loopUring } from "./uring/loop_io.ts";
import { chooseAsyncIo } from "./uring/probe.ts";
import { uringTransport } from "./uring/transport.ts";
import type { WriteQueue } from "./write_queue.ts";
import { Socket } from "../socket/socket.ts";
import { withLoop } from "../tests/loop_helpers.ts";
import { concatBytes } from "../core/bytes.ts";

const KEY = 0x5a;

function xor(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) bytes[i]! ^= KEY;
  return bytes;
}

/**
 * A wrapping transport with the plain one's shape, as TLS will be: it is
 * the inner transport's sink (decoding what arrives before the connection
 * sees it) and the connection's transport (encoding what goes out), and
 * counts the bytes each way. XOR keeps lengths, so it can share the
 * connection's write queue (encoded copies go in); a record layer would
 * keep a queue of its own.
 */
class XorTransport implements Transport, TransportSink {
  bytesIn = 0;
  bytesOut = 0;
  shutdowns = 0;
  readonly #sink: TransportSink;
  readonly #inner: Transport;

  constructor(inner: TransportFactory, sink: TransportSink, queue: WriteQueue) {
    this.#sink = sink;
    this.#inner = inner(this, queue);
  }

  recvTarget(): Uint8Array {
    return this.#sink.recvTarget();
  }
  receivedInto(target: Uint8Array, n: number): boolean {
    this.bytesIn += n;
    xor(target.subarray(0, n));
    return this.#sink.receivedInto(target, n);
  }
  recvLimit(): number {
    return this.#sink.recvLimit();
  }
  received(bytes: Uint8Array): void {
    this.bytesIn += bytes.length;
    this.#sink.received(xor(bytes.slice()));
  }
  receivedEnd(): void {
    this.#sink.receivedEnd();
  }
  sent(n: number): void {
    this.bytesOut += n;
    this.#sink.sent(n);
  }
  failed(error: Error): void {
    this.#sink.failed(error);
  }
  hungUp(): boolean {
    return this.#sink.hungUp();
  }
  loopClosed(): void {
    this.#sink.loopClosed();
  }
  refresh(): void {
    this.#sink.refresh();
  }
  reportError(error: unknown): void {
    this.#sink.reportError(error);
  }

  trySend(data: Uint8Array): number {
    const n = this.#inner.trySend(xor(data.slice()));
    if (n > 0) this.bytesOut += n;
    return n;
  }
  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    this.#inner.queue(xor(data.slice(offset)), 0, done);
  }
  flush(): void {
    this.#inner.flush();
  }
  update(reading: boolean): void {
    this.#inner.update(reading);
  }
  shutdown(): void {
    this.shutdowns++;
    this.#inner.shutdown();
  }
  ref(): void {
    this.#inner.ref();
  }
  unref(): void {
    this.#inner.unref();
  }
  close(keepFd: boolean): void {
    this.#inner.close(keepFd);
  }
}

/** A connection over `socket` whose bytes go through an {@link XorTransport} over readiness I/O. */
function xorConnection(loop: Loop, socket: Socket): { conn: Connection; transport: XorTransport } {
  let transport: XorTransport | undefined;
  const factory: TransportFactory = (sink, queue) => (transport = new XorTransport(readinessTransport(loop, socket), sink, queue));
  const conn = new Connection(loop, socket, undefined, {}, factory);
  return { conn, transport: transport! };
}


describe("Transport seam: a wrapping transport", () => {
  test("an echo through an XOR-ing, counting wrapper over readiness I/O: the peer sees encoded bytes, the caller plain ones", async () => {
    await withLoop(async (loop) => {
      const [a, b] = Socket.pair("stream", { nonBlocking: true });
      const wire: Uint8Array[] = [];
      // The peer is a plain connection: it sees what is on the wire and echoes it.
      const peer = adopt(b, { loop, handler: { data: (c, d) => (wire.push(d.slice()), c.send(d)) } });
      const { conn, transport } = xorConnection(loop, a);
      const message = new TextEncoder().encode("hello through the seam");
      await conn.write(message);
      assert.deepEqual(await conn.readExactly(message.length), message);
      assert.deepEqual(concatBytes(wire), xor(message.slice()));
      assert.equal(transport.bytesOut, message.length);
      assert.equal(transport.bytesIn, message.length);
      await conn.close();
      await peer.whenClosed;
    });
  });

  test("4 MiB each way through the wrapper (queued output, partial sends, send() and write()), then end() goes through its shutdown", async () => {
    await withLoop(async (loop) => {
      const [a, b] = Socket.pair("stream", { nonBlocking: true });
      let wireBytes = 0;
      let wireSum = 0;
      const peer = adopt(b, {
        loop,
        handler: {
          data: (c, d) => {
            wireBytes += d.length;
            for (let i = 0; i < d.length; i++) wireSum = (wireSum + d[i]!) >>> 0;
            c.send(d);
          },
          end: (c) => void c.end(),
        },
      });
      const { conn, transport } = xorConnection(loop, a);
      const total = 4 * 1024 * 1024;
      const payload = new Uint8Array(total);
      for (let i = 0; i < total; i++) payload[i] = (i * 7 + (i >>> 9)) & 0xff;
      let expectedWireSum = 0;
      for (let i = 0; i < total; i++) expectedWireSum = (expectedWireSum + (payload[i]! ^ KEY)) >>> 0;
      const reading = (async () => {
        const parts: Uint8Array[] = [];
        for await (const chunk of conn) parts.push(chunk);
        return concatBytes(parts);
      })();
      // Half through send() (copied into the queue above the kernel's room), half through write().
      const half = total / 2;
      for (let at = 0; at < half; at += 64 * 1024) conn.send(payload.subarray(at, at + 64 * 1024));
      await conn.write(payload.subarray(half));
      await conn.end();
      const echoed = await reading;
      assert.equal(echoed.length, total);
      assert.ok(echoed.every((v, i) => v === payload[i]), "the echo is the payload");
      assert.equal(wireBytes, total);
      assert.equal(wireSum, expectedWireSum, "the peer saw only encoded bytes");
      assert.equal(transport.bytesOut, total);
      assert.equal(transport.bytesIn, total);
      assert.equal(transport.shutdowns, 1);
      await conn.whenClosed;
      await peer.whenClosed;
    });
  });

  test("handler mode over the wrapper: data gets decoded bytes, and send() from inside data encodes", async () => {
    await withLoop(async (loop) => {
      const [a, b] = Socket.pair("stream", { nonBlocking: true });
      let transport: XorTransport | undefined;
      const factory: TransportFactory = (sink, queue) => (transport = new XorTransport(readinessTransport(loop, a), sink, queue));
      const seen: Uint8Array[] = [];
      const conn = new Connection(loop, a, { data: (c, d) => (seen.push(d.slice()), c.send(d)) }, {}, factory);
      const peer = adopt(b, { loop });
      const plain = new TextEncoder().encode("abc");
      await peer.write(xor(plain.slice()));
      assert.deepEqual(await peer.readExactly(3), xor(plain.slice()));
      assert.deepEqual(concatBytes(seen), plain);
      assert.equal(transport!.bytesIn, 3);
      assert.equal(transport!.bytesOut, 3);
      conn.abort();
      await peer.close();
    });
  });
});

describe("Transport seam: the wrapper over io_uring (readiness where io_uring is refused)", () => {
  test("push input (provided buffers) is decoded by the wrapper; queued output is encoded and counted", async () => {
    await withLoop(async (loop) => {
      const uring = chooseAsyncIo("uring") === "io_uring";
      const [a, b] = Socket.pair("stream", { nonBlocking: !uring });
      const inner = uring ? uringTransport(loopUring(loop), a) : readinessTransport(loop, a);
      let transport: XorTransport | undefined;
      const conn = new Connection(loop, a, undefined, {}, (sink, queue) => (transport = new XorTransport(inner, sink, queue)));
      const wire: Uint8Array[] = [];
      const peer = adopt(b, { loop, io: "readiness", handler: { data: (c, d) => (wire.push(d.slice()), c.send(d)) } });
      const message = new Uint8Array(60_000).map((_, i) => i % 251);
      await conn.write(message);
      assert.deepEqual(await conn.readExactly(message.length), message);
      assert.deepEqual(concatBytes(wire), xor(message.slice()));
      assert.equal(transport!.bytesIn, message.length);
      assert.equal(transport!.bytesOut, message.length);
      await conn.close();
      await peer.whenClosed;
    });
  });
});

describe("Connector seam", () => {
  test("a replacement connector wraps the default one: the connection it returns is the default's", async () => {
    await withLoop(async (loop) => {
      const server = listen({ host: "127.0.0.1", port: 0, loop, handler: { data: (c, d) => c.send(d) } });
      const hosts: (string | undefined)[] = [];
      const recording: Connector = (options) => {
        hosts.push("path" in options ? options.path : options.host);
        return defaultConnector(options);
      };
      const conn = await recording({ host: "127.0.0.1", port: server.port, loop });
      await conn.write(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await conn.readExactly(3), new Uint8Array([1, 2, 3]));
      assert.deepEqual(hosts, ["127.0.0.1"]);
      await conn.close();
      server.close();
    });
  });
});
