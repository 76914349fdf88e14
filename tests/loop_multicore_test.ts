import assert from "node:assert/strict";
import { test } from "node:test";
import type { Worker } from "node:worker_threads";
import type { Connection } from "../poll/connection.ts";
import { connect } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { newDescriptors, openDescriptors, startTsWorker, untilParked } from "./loop_helpers.ts";

const WORKER_URL = new URL("./loop_fixture_worker.ts", import.meta.url);

interface Reply {
  ready?: boolean;
  listening?: number;
  handedOff?: number;
  closed?: boolean;
}

/**
 * One worker. Start the next only once `started()` resolves: koffi's module
 * init aborted the process once in CI (napi_throw during registration) while
 * two workers were loading it at the same moment. `close()` terminates it
 * only once its loop is released, which includes the end of the loop's own
 * helper thread: on Node that helper is a Worker inside this one, and
 * terminating this one while the helper still loaded koffi aborted the
 * process (CI: the file "failed" with no failing test), while one parked in
 * epoll_wait made terminate() wait forever.
 */
class Helper {
  readonly worker: Worker;
  readonly #waiters: ((r: Reply) => void)[] = [];
  readonly #ready: Promise<void>;
  onHandOff: ((fd: number) => void) | undefined;

  static async started(): Promise<Helper> {
    const helper = new Helper();
    await helper.#ready;
    return helper;
  }

  private constructor() {
    this.worker = startTsWorker(WORKER_URL);
    let ready!: () => void;
    this.#ready = new Promise((resolve) => (ready = resolve));
    this.worker.on("message", (r: Reply) => {
      if (r.ready) ready();
      else if (r.handedOff !== undefined) this.onHandOff?.(r.handedOff);
      else this.#waiters.shift()?.(r);
    });
    this.worker.on("error", (err: Error) => {
      throw err;
    });
  }

  request(message: object): Promise<Reply> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    await this.request({ cmd: "close" });
    await this.worker.terminate();
  }
}

async function firstByte(conn: Connection): Promise<number> {
  const chunk = await conn.read();
  assert.ok(chunk !== null && chunk.length >= 1, "expected the worker's id byte");
  return chunk[0]!;
}

async function echoes(conn: Connection, text: string): Promise<boolean> {
  await conn.write(new TextEncoder().encode(text));
  let got = "";
  while (got.length < text.length) {
    const chunk = await conn.read();
    if (chunk === null) return false;
    got += new TextDecoder().decode(chunk);
  }
  return got === text;
}

test("two Workers, each with its own Loop, share one port with SO_REUSEPORT and both serve", async () => {
  const a = await Helper.started();
  const b = await Helper.started();
  const loop = new Loop();
  try {
    const port = (await a.request({ cmd: "listen", id: 1, port: 0 })).listening!;
    assert.equal((await b.request({ cmd: "listen", id: 2, port })).listening, port);
    const conns = await Promise.all(Array.from({ length: 40 }, () => connect({ host: "127.0.0.1", port, loop })));
    const ids = await Promise.all(conns.map(firstByte));
    const perWorker = [ids.filter((i) => i === 1).length, ids.filter((i) => i === 2).length];
    console.log(`# 40 connections on one port: worker 1 served ${perWorker[0]}, worker 2 served ${perWorker[1]}`);
    assert.equal(perWorker[0]! + perWorker[1]!, 40);
    assert.ok(perWorker[0]! > 0 && perWorker[1]! > 0, `both workers serve: ${perWorker}`);
    const ok = await Promise.all(conns.map((c, i) => echoes(c, `message ${i}`)));
    assert.ok(ok.every(Boolean));
    await Promise.all(conns.map((c) => c.close()));
  } finally {
    loop.close();
    await loop.released();
    await a.close();
    await b.close();
  }
});

test("a connection accepted in one Worker is handed to another by fd and served there", async () => {
  const acceptor = await Helper.started();
  const server = await Helper.started();
  const loop = new Loop();
  acceptor.onHandOff = (fd) => server.worker.postMessage({ cmd: "adopt", fd });
  try {
    await server.request({ cmd: "listen", id: 7, port: 0 }); // sets the serving worker's id
    const port = (await acceptor.request({ cmd: "listen", id: 3, port: 0, handOff: true })).listening!;
    const conn = await connect({ host: "127.0.0.1", port, loop });
    assert.equal(await firstByte(conn), 7);
    assert.ok(await echoes(conn, "served by the other worker"));
    await conn.close();
  } finally {
    loop.close();
    await loop.released();
    await acceptor.close();
    await server.close();
  }
});

test("released() resolves once the loop's helper thread has ended, closed while it boots or while it is parked: nothing of it is left", async () => {
  for (const when of ["booting", "parked"] as const) {
    const before = await openDescriptors();
    const loop = new Loop();
    loop.setTimeout(() => {}, 60_000);
    // The loop starts its helper on its first idle turn; on Node the helper
    // (a Worker loading koffi) is still booting a few milliseconds later.
    if (when === "parked") await untilParked(loop);
    else await new Promise((resolve) => setTimeout(resolve, 5));
    loop.close();
    await loop.released();
    // The helper's own descriptors (a Node or Bun Worker has an event loop:
    // epoll, pipes, eventfd) are gone with it, and the loop's too.
    assert.deepEqual(await newDescriptors(before), [], when);
  }
});
