import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { libc } from "../../ffi/libc.ts";
import { native } from "../../ffi/native.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { C } from "../../ffi/platform.ts";
import { READABLE } from "../backend.ts";
import { EpollBackend } from "../epoll.ts";
import { encodeIPv4 } from "../../socket/sockaddr.ts";
import { listen } from "../listener.ts";
import { Loop } from "../loop.ts";
import { loopUring, type UringSetup } from "./loop_io.ts";
import { Uring } from "./ops.ts";
import { asyncBackends } from "./probe.ts";
import { URING } from "./uapi.ts";

const available = asyncBackends().io_uring;
const MESSAGE = 64;

/** A connected AF_UNIX stream pair. */
function socketPair(): [number, number] {
  const sv = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, sv), 0);
  return [sv[0]!, sv[1]!];
}

/**
 * `count` round trips between an io_uring echo server on `loop` and a peer
 * outside it: a non-blocking libc socket written and read from runtime
 * timers, so the loop is idle (parked) whenever a message arrives. Returns
 * how many 1 ms timer turns the peer waited in all for its echoes.
 */
async function timerPeerRoundTrips(loop: Loop, count: number): Promise<number> {
  const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => void c.send(d) }, loop, io: "uring" });
  const c = libc();
  const fd = c.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  try {
    assert.ok(fd >= 0);
    const addr = new Uint8Array(16);
    const length = encodeIPv4(addr, new Uint8Array([127, 0, 0, 1]), server.port);
    assert.equal(c.connect(fd, addr, length), 0);
    assert.ok(c.fcntl(fd, C.F_SETFL, c.fcntl(fd, C.F_GETFL, 0) | C.O_NONBLOCK) >= 0);
    const message = new Uint8Array(MESSAGE).map((_, i) => i);
    const back = new Uint8Array(MESSAGE);
    let turns = 0;
    for (let i = 0; i < count; i++) {
      assert.equal(c.write(fd, message, MESSAGE), MESSAGE);
      let got = 0;
      while (got < MESSAGE) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        turns++;
        const n = c.read(fd, back.subarray(got), MESSAGE - got);
        if (n > 0) got += n;
        else assert.ok(n < 0, `the server closed at round trip ${i}`);
      }
      assert.deepEqual(back, message);
    }
    return turns;
  } finally {
    c.close(fd);
    server.close();
  }
}

describe("io_uring loop wake-ups", () => {
  test("the setup comes from options, else FFINET_URING_SETUP, else \"coop\" (never \"defer\": its eventfd signal comes late); an unknown one is a TypeError", () => {
    if (!available) return;
    const loop = new Loop();
    const other = new Loop();
    try {
      const fromEnv = native.env("FFINET_URING_SETUP");
      if (fromEnv === undefined || fromEnv === "") assert.ok(["coop", "basic"].includes(loopUring(loop).setup), "coop, or basic where the kernel refuses it");
      assert.throws(() => loopUring(other, { setup: "fast" as UringSetup }), TypeError);
    } finally {
      loop.close();
      other.close();
    }
  });

  for (const setup of ["coop", "basic"] as const) {
    test(`${setup}: a completion for a peer's write makes the ring's eventfd readable before the write returns`, () => {
      if (!available) return;
      const loop = new Loop();
      const [ours, peer] = socketPair();
      const buf = NativeBuffer.alloc(MESSAGE);
      try {
        const io = loopUring(loop, { setup });
        if (io.setup !== setup) return; // refused by this kernel: "basic" instead
        const c = libc();
        const eventFd = io.uring.eventFd;
        const scratch = new Uint8Array(8);
        for (let i = 0; i < 20; i++) {
          const recv = io.uring.recv(ours, buf);
          io.uring.submit();
          c.read(eventFd, scratch, 8); // whatever the arming posted
          assert.equal(c.write(peer, new Uint8Array([i, 1, 2]), 3), 3);
          // What a loop waiting on the eventfd (epoll, or the parked helper) would see now.
          assert.equal(c.read(eventFd, scratch, 8), 8, `round ${i}: the eventfd is not readable after the peer's write`);
          io.uring.poll(0);
          void recv.then((n) => assert.equal(n, 3));
        }
      } finally {
        loop.close();
        libc().close(ours);
        libc().close(peer);
        buf.free();
      }
    });
  }

  for (const [setup, flags] of [["coop", URING.SETUP_COOP_TASKRUN | URING.SETUP_TASKRUN_FLAG], ["basic", 0]] as const) {
    test(`${setup}: a blocking epoll wait that the ring's completion work interrupts (EINTR) still reports the ring's eventfd`, async () => {
      if (!available) return;
      // The kernel runs a completion's work on this thread, interrupting a
      // wait it blocks in (a loop's linger); the eventfd is ready once the
      // wait returns. Reporting nothing instead made every such linger
      // count as idle, so the loop stopped lingering and parked (~100 µs
      // of CPU each) under a steady load.
      let uring: Uring;
      try {
        uring = new Uring({ entries: 8, setupFlags: flags, submit: "manual" });
      } catch {
        return; // refused by this kernel
      }
      const epoll = new EpollBackend();
      try {
        epoll.add(uring.eventFd, READABLE);
        for (let i = 0; i < 5; i++) {
          const fired = uring.timeout(2); // completes from a kernel timer, while we wait
          uring.submit();
          assert.equal(epoll.wait(10_000), 1, `round ${i}: the wait ended without the ring's eventfd`);
          uring.drainEventFd();
          uring.submit(true);
          assert.equal(await fired, 0);
        }
      } finally {
        epoll.close();
        uring.close();
      }
    });
  }

  test("coop: 200 round trips with a peer outside the loop: each echo comes within a few timer turns", async () => {
    if (!available) return;
    const loop = new Loop();
    try {
      loopUring(loop, { setup: "coop" });
      const trips = 200;
      const turns = await timerPeerRoundTrips(loop, trips);
      // The loop parks between messages; its ring's eventfd wakes it when
      // the message's completion is ready, and the echo is back by the
      // peer's next timer turn or so. Were the wake-up late (the eventfd
      // signalled tens of milliseconds after the completion work, as with
      // DEFER_TASKRUN on Linux 6.18), the peer would wait dozens of turns
      // per message.
      assert.ok(turns < trips * 5, `${turns} timer turns for ${trips} round trips`);
    } finally {
      loop.close();
      await loop.released();
    }
  });
});
