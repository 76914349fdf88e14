// A connection read with read() (no data handler) takes at most its read
// buffer from the kernel, over readiness and io_uring alike: the rest waits
// in the socket, so TCP holds the sender back. Over io_uring a multishot
// recv was armed for it and took the socket's bytes into held memory, up
// to every provided buffer of the loop's ring per cancel (4 MiB once the
// ring had grown), round after round: a peer that "does not read" had
// 9 MiB of a sender's bytes within a second (tests/layered_transport_test).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { asyncBackends } from "../poll/uring/probe.ts";
import { readTcpInfo } from "../socket/tcp_info.ts";

const linux = (globalThis as unknown as { process: { platform: string } }).process.platform === "linux";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const io of ["readiness", "uring"] as const) {
  describe(`a connection that does not read (${io})`, () => {
    test("takes no more from the kernel than its read buffer, however often the sender fills the socket", { skip: !linux || (io === "uring" && !asyncBackends().io_uring) }, async () => {
      const loop = new Loop();
      try {
        // Rounds: over io_uring the loop's provided buffers grow when receives run dry, and took more each round.
        for (let round = 0; round < 6; round++) {
          const server = listen({ host: "127.0.0.1", port: 0, loop, io });
          const client = await connect({ host: "127.0.0.1", port: server.port, loop, io });
          const peer = (await server.accept())!;
          // A fixed receive buffer (no autotuning): what the kernel may hold for the peer is known.
          peer.socket.options.receiveBufferSize = 64 * 1024;
          const writing = client.write(new Uint8Array(16 << 20)).then(() => undefined, (e: unknown) => e);
          await sleep(200); // time for a reader that takes too much to do so; the check below is a bound
          const taken = readTcpInfo(peer.socket.fd).bytesReceived;
          const bound = peer.socket.options.receiveBufferSize + peer.readBufferBytes + 64 * 1024;
          assert.ok(taken <= bound, `round ${round}: the peer's kernel took ${taken} bytes, more than its buffers allow (${bound})`);
          client.abort();
          peer.abort();
          server.close();
          await writing;
          await Promise.all([client.whenClosed, peer.whenClosed]);
        }
      } finally {
        loop.close();
        await loop.released();
      }
    });
  });
}
