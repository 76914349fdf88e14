// connectWebSocket's receive queue (ws/client.ts) and the channel's heartbeat
// (ws/channel.ts) together: reading paused because the application does not
// call recv() is the client's own flow control, not a dead peer. Found in
// review (2026-12-07):
// - with heartbeatMs, a client whose queue was full (maxQueuedMessages or
//   maxQueuedBytes) stopped reading, so the server's pongs waited unread and
//   the next beat dropped the connection as dead (1006, ERR_WS_HEARTBEAT);
//   the heartbeat now rests while reading is paused;
// - maxQueuedMessages or maxQueuedBytes 0 paused at the first message and
//   never resumed (resuming wanted fewer than 0 held): every later recv()
//   hung; the queue now also resumes once empty;
// - a bad maxQueuedBytes was a RangeError after the dial, which left the
//   dialed socket open; bad bounds are now refused before dialing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { connectWebSocket } from "../ws/client.ts";
import { serve } from "../http/server/serve.ts";

const bounded = <T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

/** A server that sends `count` text messages `m0`, `m1`, … (each padded with `pad` spaces) to each client on open. */
function sender(count: number, pad = 0) {
  const s = serve({
    port: 0,
    fetch: (r) => (s.upgrade(r) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      maxBufferedBytes: 2 * count * (pad + 16),
      open: (ws) => {
        for (let i = 0; i < count; i++) ws.send(`m${i}${" ".repeat(pad)}`);
      },
      message() {},
    },
  });
  return s;
}

describe("connectWebSocket: the receive queue's pause and the heartbeat", () => {
  test("a client not calling recv() (reading paused) is not dropped by its own heartbeat: after many intervals every message is there and the connection closes cleanly", async () => {
    const s = sender(8);
    try {
      const ws = await connectWebSocket(`ws://127.0.0.1:${s.addr.port}/`, { perMessageDeflate: false, maxQueuedMessages: 2, heartbeatMs: 25 });
      let closed: unknown;
      void ws.closed.then((c) => (closed = c));
      // Twenty heartbeat intervals with reading paused (before, the second beat dropped it).
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(closed, undefined, `closed while paused: ${JSON.stringify(closed)}`);
      const got: string[] = [];
      for (let i = 0; i < 8; i++) got.push(String((await bounded(ws.recv(), `message ${i}`))?.data));
      assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
      // Alive after resuming too: a ping's pong comes back.
      assert.equal(typeof (await bounded(ws.ping(), "the ping")), "number");
      ws.close(1000);
      assert.deepEqual(await bounded(ws.closed, "the close"), { code: 1000, reason: "", wasClean: true });
    } finally {
      await s.shutdown({ deadlineMs: 100 });
    }
  });

  for (const [name, options] of [["maxQueuedMessages", { maxQueuedMessages: 0 }], ["maxQueuedBytes", { maxQueuedBytes: 0 }]] as const) {
    test(`${name} 0: reading resumes whenever recv() has taken everything held (it never resumed: every later recv() hung)`, async () => {
      // Messages larger than one read, so the later ones need reads after the first pause.
      const s = sender(5, 256 << 10);
      try {
        const ws = await connectWebSocket(`ws://127.0.0.1:${s.addr.port}/`, { perMessageDeflate: false, ...options });
        await new Promise((r) => setTimeout(r, 50));
        const got: string[] = [];
        for (let i = 0; i < 5; i++) got.push(String((await bounded(ws.recv(), `message ${i}`))?.data).trimEnd());
        assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
        ws.close(1000);
        await bounded(ws.closed, "the close");
      } finally {
        await s.shutdown({ deadlineMs: 100 });
      }
    });
  }

  test("a bad maxQueuedMessages or maxQueuedBytes is a RangeError before any connection is made", async () => {
    let accepted = 0;
    const server = net.createServer((sock) => {
      accepted++;
      sock.on("error", () => {});
      sock.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      for (const bad of [{ maxQueuedBytes: -1 }, { maxQueuedBytes: NaN }, { maxQueuedMessages: -1 }, { maxQueuedMessages: "8" as unknown as number }]) {
        await assert.rejects(connectWebSocket(`ws://127.0.0.1:${port}/`, bad), RangeError, JSON.stringify(bad));
      }
      // A connection that is made is seen (the server destroys it: the dial fails).
      await assert.rejects(connectWebSocket(`ws://127.0.0.1:${port}/`));
      assert.equal(accepted, 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
