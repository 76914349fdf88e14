// A handler's throw from a call that a transport made on a microtask (outside the loop's tick) goes to the
// loop's `onError`, as a throw inside a tick's dispatch does (Loop._reportError through
// TransportSink.reportError), not out as an uncaught exception past a custom onError; and the transport
// goes on after it. The microtasks: the prefix of a tunnel (socket/proxy/prefixed_transport.ts), a TLS
// connection's first handshake step, its drain of decrypted bytes and its held end or failure on resume
// (tls/connection.ts in fd mode; tls/bio_connection.ts in memory-BIO mode, over io_uring here).
// Against node:tls; the client reads only once the server's bytes and its end are all in the socket, and
// pauses at the first bytes: the rest comes when it resumes (from a microtask where it waited in the TLS
// layer).
import assert from "node:assert/strict";
import * as nodeTls from "node:tls";
import { describe, test } from "node:test";
import { adopt } from "../poll/connect.ts";
import { Connection } from "../poll/connection.ts";
import { Loop } from "../poll/loop.ts";
import { readinessTransport } from "../poll/transport_readiness.ts";
import { prefixedTransport } from "../socket/proxy/prefixed_transport.ts";
import { Socket } from "../socket/socket.ts";
import { connectTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";
import { turns, until, within } from "./waits.ts";

const pki = testPKI();
const KEY = pki.key;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** An error a handler throws on purpose, told apart from any other. */
class HandlerThrow extends Error {
  constructor(where: string) {
    super(`thrown by the handler's ${where}`);
  }
}

/** Runs `body` with a loop of its own whose `onError` collects into `errors`; closes the loop after. */
async function withReportingLoop(body: (loop: Loop, errors: unknown[]) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  const loop = new Loop({ onError: (e) => void errors.push(e) });
  try {
    await body(loop, errors);
  } finally {
    loop.close();
    await loop.released();
  }
}

describe("a throw from a handler called on a transport's microtask goes to the loop's onError", () => {
  test("the prefix of a tunnel (PrefixedTransport): the throw from data reaches onError, and reading goes on after it", () =>
    withReportingLoop(async (loop, errors) => {
      const [a, b] = Socket.pair("stream", { nonBlocking: true });
      const events: string[] = [];
      let more!: () => void;
      const gotMore = new Promise<void>((r) => (more = r));
      const conn = new Connection(loop, a, {
        data: (_c, d) => {
          const text = dec.decode(d);
          events.push(`data ${text}`);
          if (text === "prefix") throw new HandlerThrow("data (prefix)");
          if (events.map((e) => e.slice(5)).join("").endsWith("more")) more();
        },
        close: (_c, err) => void events.push(`close ${err?.message ?? ""}`),
      }, {}, prefixedTransport(readinessTransport(loop, a), enc.encode("prefix")));
      const peer = adopt(b, { loop });
      try {
        await until(() => errors.length > 0, "the throw at the prefix", events);
        await peer.write(enc.encode("more"));
        await within(gotMore, "the peer's bytes after the throw", events);
        assert.equal(events[0], "data prefix");
        assert.equal(errors.length, 1, `onError got: ${errors.map(String).join(", ")}`);
        assert.ok(errors[0] instanceof HandlerThrow);
        assert.equal(conn.closed, false, "a throwing handler does not close the connection");
      } finally {
        conn.abort();
        peer.abort();
      }
    }));

  for (const io of ["readiness", "uring"] as const) {
    test(`TLS (${io === "readiness" ? "fd mode" : "memory-BIO mode over io_uring, readiness where refused"}): throws from data and end after a resume reach onError; every byte still comes`, () =>
      withReportingLoop(async (loop, errors) => {
        const TOTAL = 48_000;
        let allSent!: () => void;
        const sent = new Promise<void>((r) => (allSent = r));
        const server = nodeTls.createServer({ cert: pki.chain, key: KEY }, (s) => {
          s.on("error", () => {});
          // Once the client said so (connected, its handler set and paused).
          s.once("data", () => {
            s.write(new Uint8Array(16_000).fill(1));
            s.write(new Uint8Array(16_000).fill(2));
            s.write(new Uint8Array(16_000).fill(3), () => s.end(() => allSent()));
          });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        try {
          const port = (server.address() as { port: number }).port;
          const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port, ca: pki.root, loop, io });
          const events: string[] = [];
          let bytes = 0;
          // First resume: the handler pauses at the first bytes (what came with them waits in the TLS
          // layer: the rest, the end); second resume: the rest comes on a microtask, and throws.
          let resumed = false;
          const over = new Promise<void>((resolve) => {
            client.setHandler({
              data: (c, d) => {
                bytes += d.length;
                events.push(resumed ? "data (throws)" : "data (pauses)");
                if (!resumed) c.pause();
                else throw new HandlerThrow("data");
              },
              end: (c) => {
                events.push("end (throws)");
                void c.close();
                resolve();
                throw new HandlerThrow("end");
              },
              close: (_c, error) => {
                events.push(`close ${error?.message ?? ""}`);
                resolve();
              },
            });
          });
          client.pause();
          await client.write(new Uint8Array([0x67]));
          await within(sent, "the server's bytes and its end", events).catch((e: unknown) => {
            client.abort();
            throw e;
          });
          await turns(5);
          client.resume();
          await until(() => events.length > 0, "the first bytes", events);
          await turns(5);
          resumed = true;
          client.resume();
          await within(over, "the client's end or close", events).catch((e: unknown) => {
            client.abort();
            throw e;
          });
          // The bytes of a call that threw were handed over all the same.
          await until(() => bytes === TOTAL || client.closed, "every byte", events);
          client.abort();
          assert.equal(bytes, TOTAL, events.join(", "));
          const thrown = events.filter((e) => e.endsWith("(throws)")).length;
          assert.ok(thrown >= 1, events.join(", "));
          assert.equal(errors.length, thrown, `onError got: ${errors.map(String).join(", ")}; events: ${events.join(", ")}`);
          for (const e of errors) assert.ok(e instanceof HandlerThrow, String(e));
        } finally {
          server.close();
        }
      }));
  }
});
