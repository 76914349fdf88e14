import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectUnixSync, listenUnixSync } from "../socket/connect.ts";
import type { Socket } from "../socket/socket.ts";
import type { Connection } from "./connection.ts";
import { connect, listen, listenUnix } from "./listener.ts";
import { Loop } from "./loop.ts";
import { asyncBackends } from "./uring/probe.ts";
import { withLoop } from "../tests/loop_helpers.ts";

/** Every test runs with readiness I/O and with io_uring (readiness where io_uring is refused). */
const IO_MODES = ["readiness", "uring"] as const;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds (polling), or fails after `ms`. */
async function until(done: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}


let unixCount = 0;
function unixPath(): string {
  return join(tmpdir(), `ffinet-listener-${Date.now()}-${Math.random().toString(36).slice(2)}-${unixCount++}.sock`);
}

async function removeFile(path: string): Promise<void> {
  const { rmSync } = await import("node:fs");
  rmSync(path, { force: true });
}

for (const io of IO_MODES) {
  describe(`Listener (${io})`, () => {
    test("maxPending: default is the backlog, capped; bad values throw RangeError", () => {
      const loop = new Loop();
      try {
        const a = listen({ host: "127.0.0.1", port: 0, loop, io });
        const b = listen({ host: "127.0.0.1", port: 0, loop, io, backlog: 8 });
        const c = listen({ host: "127.0.0.1", port: 0, loop, io, maxPending: 3 });
        try {
          assert.equal(a.maxPending, 128, "default backlog 511, capped at 128");
          assert.equal(b.maxPending, 8);
          assert.equal(c.maxPending, 3);
          assert.equal(a.pending, 0);
        } finally {
          a.close();
          b.close();
          c.close();
        }
        for (const maxPending of [0, -1, 1.5, Number.NaN]) {
          assert.throws(() => listen({ host: "127.0.0.1", port: 0, loop, io, maxPending }), RangeError);
        }
      } finally {
        loop.close();
      }
    });

    test("without accept(), pending connections stop at maxPending; the kernel backlog holds the rest and every one arrives", async () => {
      await withLoop(async (loop) => {
        const bound = 4;
        const total = 3 * bound;
        const server = listen({ host: "127.0.0.1", port: 0, loop, io, maxPending: bound });
        const clients: Connection[] = [];
        try {
          // The kernel completes the handshakes of queued connections: the
          // connects resolve although nobody accepts.
          for (let i = 0; i < total; i++) clients.push(await connect({ host: "127.0.0.1", port: server.port, loop, io }));
          for (const [i, c] of clients.entries()) await c.write(new Uint8Array([i]));
          await until(() => server.pending === bound, `${bound} pending connections`);
          // Time for the listener to take more if it would.
          await sleep(100);
          assert.equal(server.pending, bound, "the listener stopped accepting at the bound");
          const seen: number[] = [];
          for (let i = 0; i < total; i++) {
            const peer = await server.accept();
            assert.ok(peer !== null);
            assert.ok(server.pending <= bound);
            const bytes = await peer.read();
            assert.ok(bytes !== null && bytes.length === 1);
            seen.push(bytes[0]!);
            await peer.close();
          }
          assert.deepEqual(seen.sort((a, b) => a - b), [...Array(total).keys()], "every connection arrived once");
          assert.equal(server.pending, 0);
        } finally {
          for (const c of clients) await c.close();
          server.close();
        }
      });
    });

    test("a handler whose open throws: that connection is aborted with the error (not left open) and the error reaches the loop", async () => {
      const errors: unknown[] = [];
      const loop = new Loop({ onError: (e) => errors.push(e) });
      const boom = new Error("open failed");
      const closed: (Error | undefined)[] = [];
      const server = listen({
        host: "127.0.0.1",
        port: 0,
        loop,
        io,
        handler: {
          open: () => {
            throw boom;
          },
          close: (_conn, err) => closed.push(err),
        },
      });
      try {
        // The server side is reset at once: the client sees it as a reset
        // connect, an end or a reset read, depending on timing.
        const client: Connection | Error = await connect({ host: "127.0.0.1", port: server.port, loop, io })
          .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        if (client instanceof Error) assert.match(client.message, /ECONNRESET/);
        else {
          const got = await client.read().catch((err: unknown) => err);
          assert.ok(got === null || got instanceof Error, `client read ${String(got)}`);
          await client.close();
        }
        await until(() => errors.length > 0 && closed.length > 0, "the error and the close");
        assert.equal(errors[0], boom);
        assert.equal(closed[0], boom);
      } finally {
        server.close();
        loop.close();
        await loop.released();
      }
    });

    test("pending connections resume after accept() while the listener keeps taking new ones", async () => {
      await withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io, maxPending: 2 });
        const clients: Connection[] = [];
        try {
          for (let i = 0; i < 3; i++) clients.push(await connect({ host: "127.0.0.1", port: server.port, loop, io }));
          await until(() => server.pending === 2, "2 pending connections");
          const first = await server.accept();
          assert.ok(first !== null);
          await until(() => server.pending === 2, "the third connection taken after accept()");
          // A later connection is taken as room is made.
          clients.push(await connect({ host: "127.0.0.1", port: server.port, loop, io }));
          await sleep(50);
          assert.equal(server.pending, 2);
          for (let i = 0; i < 3; i++) assert.ok(await server.accept() !== null);
          assert.equal(server.pending, 0);
          // An accept() that waits gets the next connection directly.
          const waiting = server.accept();
          clients.push(await connect({ host: "127.0.0.1", port: server.port, loop, io }));
          assert.ok(await waiting !== null);
        } finally {
          for (const c of clients) await c.close();
          server.close();
        }
      });
    });
  });
}

for (const io of IO_MODES) {
  describe(`Listener close (${io})`, () => {
    test("close() resets the connections queued for accept(), and an accept() waiting resolves null", () =>
      withLoop(async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io });
        const clients: Connection[] = [];
        try {
          for (let i = 0; i < 2; i++) clients.push(await connect({ host: "127.0.0.1", port: server.port, loop, io }));
          await until(() => server.pending === 2, "two connections queued for accept()");
          server.close();
          assert.equal(server.pending, 0);
          assert.equal(await server.accept(), null);
          for (const client of clients) {
            // The queued connection was reset: the client sees it go.
            const outcome = await client.read().then((chunk) => chunk, (err: unknown) => err);
            assert.ok(outcome === null || (outcome as { code?: string }).code === "ECONNRESET", String(outcome));
          }
        } finally {
          for (const client of clients) client.abort();
          server.close();
        }
        const waiting = listen({ host: "127.0.0.1", port: 0, loop, io });
        const next = waiting.accept();
        const iterated = (async () => {
          const seen: Connection[] = [];
          for await (const conn of waiting) seen.push(conn);
          return seen.length;
        })();
        waiting.close();
        assert.equal(await next, null);
        assert.equal(await iterated, 0);
      }));

    test("await using closes the listener; Symbol.asyncDispose resolves once its descriptor is closed", () =>
      withLoop(async (loop) => {
        let socketClosed: () => boolean = () => false;
        {
          await using server = listen({ host: "127.0.0.1", port: 0, loop, io });
          socketClosed = () => server.socket.closed && server.closed;
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
          (await server.accept())!.abort();
          client.abort();
        }
        assert.equal(socketClosed(), true);
      }));
  });
}

describe("Listener (io_uring)", () => {
  test("close() in the turn of listen(): a socket opened meanwhile under the freed number keeps its connections", async () => {
    if (!asyncBackends().io_uring) return;
    await withLoop(async (loop) => {
      const path = unixPath();
      const otherPath = unixPath();
      const server = listenUnix({ path, loop, io: "uring" });
      assert.equal(server.io, "io_uring");
      // The accept operation is queued but not submitted yet.
      server.close();
      let other: Socket | undefined;
      let client: Socket | undefined;
      try {
        // A listening socket opened now takes the lowest free number: the
        // listener's, had it been closed already.
        other = listenUnixSync(otherPath);
        client = connectUnixSync(otherPath);
        // The accept operation reaches the kernel now, then its cancellation.
        await until(() => server.socket.closed, "the listening socket to close once its accept operation is over");
        await sleep(20);
        const peer = other.accept();
        assert.ok(peer !== null, "the new socket's connection was not taken by the listener's accept operation");
        peer.close();
      } finally {
        client?.close();
        other?.close();
        await removeFile(path);
        await removeFile(otherPath);
      }
    });
  });

  test("close() while accepts are in the kernel closes the listening socket once they are cancelled", async () => {
    if (!asyncBackends().io_uring) return;
    await withLoop(async (loop) => {
      const server = listen({ host: "127.0.0.1", port: 0, handler: { open: (c) => void c.close() }, loop, io: "uring" });
      await sleep(20); // the accept operation is in the kernel
      server.close();
      assert.equal(server.closed, true);
      await until(() => server.socket.closed, "the listening socket to close");
    });
  });

  test("loop.close() closes an io_uring listener's socket at once", async () => {
    if (!asyncBackends().io_uring) return;
    const loop = new Loop();
    const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring" });
    loop.close();
    assert.equal(server.closed, true);
    assert.equal(server.socket.closed, true);
    await loop.released();
  });
});
