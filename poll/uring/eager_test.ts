import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { describe, test } from "node:test";
import { C } from "../../ffi/platform.ts";
import { Socket } from "../../socket/socket.ts";
import { connect, listen } from "../listener.ts";
import { Loop } from "../loop.ts";
import { loopUring, type UringSetup } from "./loop_io.ts";
import { asyncBackends } from "./probe.ts";

const available = asyncBackends().io_uring;
const SETUPS: readonly UringSetup[] = ["coop", "basic", "defer"];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sockets open in this process now (Linux /proc), counted without leaving this job. */
function openSockets(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // closed meanwhile (the directory's own descriptor)
    }
  }
  return n;
}

/** Runs `body` on a fresh loop whose ring has `setup`; skips (returns) where the kernel refuses it. */
async function withSetup(setup: UringSetup, body: (loop: Loop) => Promise<void>): Promise<void> {
  const loop = new Loop();
  try {
    if (loopUring(loop, { setup }).setup !== setup) return; // refused by this kernel: "basic" instead
    await body(loop);
  } finally {
    loop.close();
    await loop.released();
  }
}

// With COOP_TASKRUN (and plain io_uring) the kernel runs a ring's completion
// work at any system call of the loop's thread, not only in the loop's own
// io_uring_enter: what an armed operation does then must not differ from
// readiness I/O.
describe("io_uring setups take nothing behind the application's back", () => {
  for (const setup of SETUPS) {
    test(`${setup}: bytes that arrive after pause() stay in the socket until resume()`, async () => {
      if (!available) return;
      await withSetup(setup, async (loop) => {
        const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring" });
        try {
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io: "uring" });
          const peer = (await server.accept())!;
          peer.pause();
          // Sent past the connection (its own socket), in this job: each send
          // is a system call of this thread after which the kernel may run
          // the peer's armed recv.
          const message = new Uint8Array(1000).map((_, i) => i & 0xff);
          for (let at = 0; at < message.length; at += 250) assert.equal(client.socket.send(message.subarray(at, at + 250)), 250);
          const peek = new Uint8Array(2000);
          assert.equal(peer.socket.recv(peek, C.MSG_PEEK | C.MSG_DONTWAIT), 1000, "every byte is still in the peer's socket");
          await sleep(30); // the loop turns meanwhile
          assert.equal(peer.socket.recv(peek, C.MSG_PEEK | C.MSG_DONTWAIT), 1000, "paused: nothing taken on the loop's turns either");
          peer.resume();
          const got: number[] = [];
          while (got.length < 1000) got.push(...(await peer.read())!);
          assert.deepEqual(new Uint8Array(got), message);
          client.abort();
          peer.abort();
        } finally {
          server.close();
        }
      });
    });

    test(`${setup}: a listener takes no connection from the backlog while the application runs`, async () => {
      if (!available) return;
      await withSetup(setup, async (loop) => {
        let opened = 0;
        const server = listen({ host: "127.0.0.1", port: 0, loop, io: "uring", handler: { open: () => void opened++ } });
        const clients: Socket[] = [];
        try {
          await sleep(20); // whatever the listener arms is in the kernel
          const before = openSockets();
          // Five connections complete in the kernel's backlog; the loop does
          // not turn, and each connect is a system call of this thread.
          for (let i = 0; i < 5; i++) {
            const client = Socket.create("ipv4");
            clients.push(client);
            client.connect("127.0.0.1", server.port);
          }
          assert.equal(openSockets() - before, 5, "only the five clients' sockets are new: none was accepted yet");
          assert.equal(opened, 0);
          for (let i = 0; i < 500 && opened < 5; i++) await sleep(10);
          assert.equal(opened, 5, "accepted once the loop turns");
        } finally {
          for (const client of clients) client.close();
          server.close();
        }
      });
    });
  }
});
