import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { loopUring } from "../poll/uring/loop_io.ts";
import { asyncBackends } from "../poll/uring/probe.ts";

const available = asyncBackends().io_uring;

describe("io_uring connections on a Loop", () => {
  test("io option: io_uring where available, readiness when asked", () => {
    const loop = new Loop();
    try {
      const a = listen({ host: "127.0.0.1", port: 0, handler: {}, loop, io: "uring" });
      const b = listen({ host: "127.0.0.1", port: 0, handler: {}, loop, io: "readiness" });
      assert.equal(a.io, available ? "io_uring" : "readiness");
      assert.equal(b.io, "readiness");
      a.close();
      b.close();
    } finally {
      loop.close();
    }
  });

  test("one ring per loop; ref/unref of listener and connection; loop.close() closes sockets and the ring", async () => {
    if (!available) return;
    const loop = new Loop({ backend: "epoll" });
    const io = loopUring(loop);
    assert.equal(loopUring(loop), io);
    assert.equal(loop.hasRef(), false, "an unused ring keeps nothing alive");
    const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) }, loop, io: "uring" });
    assert.equal(loop.hasRef(), true);
    server.unref();
    assert.equal(loop.hasRef(), false, "pending accepts alone do not keep the loop alive");
    server.ref();
    const clients = await Promise.all([1, 2, 3].map(() => connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" })));
    for (const [i, c] of clients.entries()) {
      await c.write(new Uint8Array([i, i, i]));
      assert.deepEqual(await c.read(), new Uint8Array([i, i, i]));
    }
    server.unref();
    for (const c of clients) c.unref();
    // The server side of each connection is still referenced.
    assert.equal(loop.hasRef(), true);
    loop.close();
    assert.equal(io.closed, true);
    assert.equal(server.closed, true);
    for (const c of clients) assert.equal(c.closed, true);
    assert.equal(io.buffersLent, 0, "every borrowed buffer came back");
    await loop.released();
  });

  test("a peer that sends a lot at once: recv follows recv without polling, bytes in order", async () => {
    const loop = new Loop();
    const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring" });
    try {
      const client = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
      const peer = (await server.accept())!;
      const size = 3 * 1024 * 1024 + 17;
      const data = new Uint8Array(size).map((_, i) => (i * 31) >>> 3);
      const writing = client.write(data).then(() => client.end());
      const got = new Uint8Array(size);
      let at = 0;
      for await (const chunk of peer) {
        got.set(chunk, at);
        at += chunk.length;
      }
      await writing;
      assert.equal(at, size);
      assert.ok(Buffer.from(got).equals(Buffer.from(data)));
      await peer.close();
      await client.close();
    } finally {
      server.close();
      loop.close();
      await loop.released();
    }
  });
});
