// ParkingBackend's reading of a failed wait (syncCount, parkedCount): EINTR
// and EAGAIN are "no events, wait again", any other errno a PollError. The
// waits themselves (epoll_wait, poll, kevent) fail with EAGAIN only when
// errno changed after they returned, which a test cannot arrange; a
// non-blocking read(2) of an empty socket fails with a real EAGAIN, so the
// backend below parks read(2) instead, on this thread and on the helper one.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PollError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C } from "../ffi/platform.ts";
import type { Pointer } from "../ffi/types.ts";
import { ParkingBackend } from "./parking_backend.ts";

/** A backend whose wait is read(2): syncCount and parkedCount as the real ones use them. */
class ReadBackend extends ParkingBackend {
  constructor() {
    super("read backend", "read", libc.definition.symbols.read);
  }
  syncRead(fd: number, into: Uint8Array): number {
    return this.syncCount(libc().read(fd, into, into.byteLength));
  }
  parkedRead(fd: number, into: Pointer, length: number): Promise<number> {
    return this.parkedCount(fd, into, length);
  }
}

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

describe("ParkingBackend: a failed wait's errno", () => {
  test("on this thread: EAGAIN is no events; EBADF throws PollError EBADF", () => {
    const backend = new ReadBackend();
    const [a, b] = socketPair();
    try {
      const into = new Uint8Array(16);
      assert.equal(backend.syncRead(a, into), 0); // read(2): -1, EAGAIN
      libc().close(b);
      const closed = b;
      assert.throws(() => backend.syncRead(closed, into), (err: unknown) => err instanceof PollError && err.code === "EBADF");
    } finally {
      libc().close(a);
      backend.close();
    }
  });

  test("on the helper thread: EAGAIN is no events; EBADF rejects with PollError EBADF where the runtime reports errno", async () => {
    const backend = new ReadBackend();
    const [a, b] = socketPair();
    const into = NativeBuffer.alloc(16);
    try {
      assert.equal(await backend.parkedRead(a, into.pointer, 16), 0); // read(2): -1, EAGAIN
      libc().close(b);
      const failed = backend.parkedRead(b, into.pointer, 16);
      if (native.runtime === "deno") {
        // Deno reports no errno from a helper thread: a failure there counts as EINTR (see parkedCount).
        assert.equal(await failed, 0);
      } else {
        await assert.rejects(failed, (err: unknown) => err instanceof PollError && err.code === "EBADF");
      }
    } finally {
      libc().close(a);
      backend.close();
      await backend.helperExited;
      into.free();
    }
  });
});
