// Both directions ended (our end() sent its FIN, the peer's came in, nothing
// left to read): the connection closes by itself, on every I/O. Readiness
// I/O learned it from the hang-up that follows; io_uring arms no receive
// after the end of stream and reports none, so a handler connection whose
// `end` callback called end() stayed open for good (found running
// poll/transport_test.ts under FFINET_IO=uring).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { listen } from "../poll/listener.ts";
import { withLoop } from "./loop_helpers.ts";

describe("a connection whose both directions ended closes by itself", () => {
  for (const io of ["readiness", "uring"] as const) {
    test(`${io}: the server's end callback calls end() (peer's FIN first)`, () =>
      withLoop(async (loop) => {
        let accepted!: (c: Connection) => void;
        const server = new Promise<Connection>((r) => (accepted = r));
        const listener = listen({
          host: "127.0.0.1", port: 0, loop, io,
          handler: { open: (c) => accepted(c), data: (c, d) => c.send(d), end: (c) => void c.end() },
        });
        try {
          const client = await connect({ host: "127.0.0.1", port: listener.port, loop, io });
          const peer = await server;
          await client.write(new TextEncoder().encode("abc"));
          await client.end();
          const got: Uint8Array[] = [];
          for await (const chunk of client) got.push(chunk);
          assert.equal(new TextDecoder().decode(Buffer.concat(got)), "abc");
          assert.equal(await peer.whenClosed, undefined, "the server side closed cleanly");
          assert.equal(peer.closed, true);
          await client.close();
        } finally {
          listener.close();
        }
      }));

    test(`${io}: the server ends first, then the peer's FIN comes (handler with an end callback that does nothing)`, () =>
      withLoop(async (loop) => {
        let accepted!: (c: Connection) => void;
        const server = new Promise<Connection>((r) => (accepted = r));
        const listener = listen({
          host: "127.0.0.1", port: 0, loop, io,
          handler: { open: (c) => { accepted(c); void c.end(); }, end: () => {} },
        });
        try {
          const client = await connect({ host: "127.0.0.1", port: listener.port, loop, io });
          const peer = await server;
          assert.equal(await client.read(), null, "the server's FIN");
          await client.end();
          assert.equal(await peer.whenClosed, undefined, "the server side closed cleanly");
          await client.close();
        } finally {
          listener.close();
        }
      }));
  }
});
