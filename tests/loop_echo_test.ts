import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";

/** Deterministic bytes for connection `id`. */
function pattern(id: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (id * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function readExactly(conn: Connection, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error(`stream ended after ${at} of ${length} bytes`);
    out.set(chunk.subarray(0, Math.min(chunk.length, length - at)), at);
    at += chunk.length;
  }
  return out;
}

const setups = [
  { name: "epoll", backend: "epoll", io: "readiness" },
  { name: "poll", backend: "poll", io: "readiness" },
  { name: "io_uring", backend: "epoll", io: "uring" },
] as const;

for (const { name, backend, io } of setups) {
  describe(`loop echo on ${name}`, () => {
    test("1,000 concurrent connections echo byte-exact", async () => {
      const loop = new Loop({ backend });
      const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) }, loop, io, backlog: 2048 });
      try {
        const size = 8192;
        const started = performance.now();
        const clients = await Promise.all(
          Array.from({ length: 1000 }, () => connect({ host: "127.0.0.1", port: server.port, loop, io })),
        );
        const results = await Promise.all(clients.map(async (conn, id) => {
          const data = pattern(id, size);
          const echoed = readExactly(conn, size);
          // Two writes, to exercise split chunks.
          await conn.write(data.subarray(0, 3000));
          await conn.write(data.subarray(3000));
          const got = await echoed;
          await conn.close();
          return Buffer.compare(Buffer.from(got), Buffer.from(data)) === 0;
        }));
        assert.equal(results.filter(Boolean).length, 1000);
        console.log(`# ${name}: 1000 connections × ${size} B echoed in ${(performance.now() - started).toFixed(0)} ms`);
      } finally {
        server.close();
        loop.close();
        await loop.released();
      }
    });
  });
}

for (const io of ["readiness", "uring"] as const) {
  test(`runtime setTimeout chain keeps firing while the loop serves a loaded echo server (${io})`, async () => {
    const loop = new Loop();
    const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) }, loop, io });
    try {
      const clients = await Promise.all(
        Array.from({ length: 50 }, () => connect({ host: "127.0.0.1", port: server.port, loop, io })),
      );
      let running = true;
      let requests = 0;
      const message = new Uint8Array(64).fill(7);
      const load = Promise.all(clients.map(async (conn) => {
        while (running) {
          await conn.write(message);
          await readExactly(conn, 64);
          requests++;
        }
        await conn.close();
      }));
      const lateness: number[] = [];
      await new Promise<void>((resolve) => {
        let last = performance.now();
        const tick = () => {
          const now = performance.now();
          lateness.push(now - last - 10);
          last = now;
          if (lateness.length === 100) resolve();
          else setTimeout(tick, 10);
        };
        setTimeout(tick, 10);
      });
      running = false;
      await load;
      lateness.sort((a, b) => a - b);
      const p50 = lateness[50]!;
      const p99 = lateness[98]!;
      console.log(`# ${io}: timer lateness under load: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${lateness[99]!.toFixed(2)} ms; ${requests} echo requests meanwhile`);
      assert.equal(lateness.length, 100);
      assert.ok(requests > 0);
    } finally {
      server.close();
      loop.close();
      await loop.released();
    }
  });
}
