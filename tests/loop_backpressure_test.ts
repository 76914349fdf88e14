import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

for (const io of ["readiness", "uring"] as const) {

  test(`${io}: write() to a peer that does not read stops, memory stays bounded, resumes on drain`, async () => {
    const loop = new Loop();
    const server = listen({ host: "127.0.0.1", port: 0, loop, io });
    try {
      const writer = await connect({ host: "127.0.0.1", port: server.port, loop, io });
      const reader = (await server.accept())!;
      reader.pause();
      const chunk = new Uint8Array(64 * 1024).fill(1);
      const total = 64 * 1024 * 1024;
      let written = 0;
      let maxBuffered = 0;
      const writing = (async () => {
        while (written < total) {
          await writer.write(chunk);
          written += chunk.length;
          maxBuffered = Math.max(maxBuffered, writer.bufferedAmount);
        }
        await writer.end();
      })();
      // Wait until the writer stalls.
      let previous = -1;
      while (written !== previous) {
        previous = written;
        await sleep(50);
      }
      assert.ok(written < total, "the writer should stall on a peer that does not read");
      assert.ok(writer.bufferedAmount <= chunk.length, `bufferedAmount ${writer.bufferedAmount}`);
      console.log(`# stalled after ${(written / 1024).toFixed(0)} KiB in kernel buffers; queue ${writer.bufferedAmount} B`);
      reader.resume();
      let received = 0;
      for await (const part of reader) {
        for (let i = 0; i < part.length; i += 4093) assert.equal(part[i], 1);
        received += part.length;
      }
      await writing;
      assert.equal(received, total);
      assert.ok(maxBuffered <= chunk.length);
      await reader.close();
      await writer.close();
    } finally {
      server.close();
      loop.close();
      await loop.released();
    }
  });

  test(`${io}: send() returns false at the high-water mark and drain fires once the peer reads`, async () => {
    const loop = new Loop();
    const server = listen({ host: "127.0.0.1", port: 0, loop, io });
    try {
      let drains = 0;
      let resolveDrain!: () => void;
      const drained = new Promise<void>((r) => (resolveDrain = r));
      const writer: Connection = await connect({
        host: "127.0.0.1",
        port: server.port,
        loop,
        highWaterMark: 256 * 1024,
        handler: {
          data: () => {},
          drain: () => {
            drains++;
            resolveDrain();
          },
        },
      });
      const reader = (await server.accept())!;
      reader.pause();
      const chunk = new Uint8Array(32 * 1024);
      let sent = 0;
      while (writer.send(chunk)) {
        sent += chunk.length;
        assert.ok(sent < 256 * 1024 * 1024, "send() never reported backpressure");
      }
      assert.ok(writer.bufferedAmount >= 256 * 1024);
      assert.ok(writer.bufferedAmount < 256 * 1024 + chunk.length);
      reader.resume();
      const reading = (async () => {
        for await (const _ of reader) { /* discard */ }
      })();
      await drained;
      assert.equal(drains, 1);
      await writer.close();
      await reading;
      await reader.close();
    } finally {
      server.close();
      loop.close();
      await loop.released();
    }
  });
}
