import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { type BackendName, PEER_CLOSED, READABLE, timeoutArg, WRITABLE } from "./backend.ts";
import { createBackend, defaultBackendName } from "./choose.ts";

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) libc().close(fd);
}

function events(backend: { readyFds: Int32Array; readyEvents: Uint32Array }, n: number): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) out.set(backend.readyFds[i]!, (out.get(backend.readyFds[i]!) ?? 0) | backend.readyEvents[i]!);
  return out;
}

const available: BackendName[] = libc().epoll_create1 !== undefined ? ["epoll", "poll"] : ["poll"];

test("poll: the default backend is the platform's best", () => {
  const name = defaultBackendName();
  assert.ok(["epoll", "kqueue", "poll"].includes(name));
  if (libc().epoll_create1 !== undefined) assert.equal(name, "epoll");
});

for (const name of available) {
  describe(`poll backend: ${name}`, () => {
    test("reports nothing, then readable, then writable, then nothing after remove", () => {
      const backend = createBackend(name);
      const [a, b] = socketPair();
      try {
        assert.equal(backend.name, name);
        backend.add(a, READABLE);
        assert.equal(backend.wait(0), 0);
        assert.equal(libc().write(b, new Uint8Array([1, 2, 3]), 3), 3);
        let n = backend.wait(1000);
        assert.equal(n, 1);
        assert.equal(backend.readyFds[0], a);
        assert.equal(backend.readyEvents[0]! & READABLE, READABLE);
        // Level-triggered: still readable until read.
        assert.equal(backend.wait(0), 1);
        assert.equal(libc().read(a, new Uint8Array(8), 8), 3);
        assert.equal(backend.wait(0), 0);
        backend.modify(a, WRITABLE);
        n = backend.wait(0);
        assert.equal(n, 1);
        assert.equal(backend.readyEvents[0]! & (READABLE | WRITABLE), WRITABLE);
        backend.remove(a);
        assert.equal(backend.wait(0), 0);
      } finally {
        backend.close();
        closeAll(a, b);
      }
    });

    test("several descriptors report together; peer close shows as readable", () => {
      const backend = createBackend(name);
      const pairs = [socketPair(), socketPair(), socketPair()];
      try {
        for (const [a] of pairs) backend.add(a, READABLE | PEER_CLOSED);
        libc().write(pairs[0]![1], new Uint8Array([1]), 1);
        libc().close(pairs[2]![1]);
        const n = backend.wait(1000);
        const got = events(backend, n);
        assert.equal(got.size, 2);
        assert.ok(got.get(pairs[0]![0])! & READABLE);
        assert.ok(got.get(pairs[2]![0])! & READABLE);
        assert.equal(got.has(pairs[1]![0]), false);
      } finally {
        backend.close();
        for (const [a, b] of pairs) closeAll(a, b);
      }
    });

    test("a full event buffer does not starve the descriptors after it", async () => {
      const backend = createBackend(name, { maxEvents: 2 });
      const pairs = [socketPair(), socketPair(), socketPair(), socketPair(), socketPair()];
      try {
        for (const [a, b] of pairs) {
          backend.add(a, READABLE);
          libc().write(b, new Uint8Array([1]), 1);
        }
        const seen = new Set<number>();
        for (let round = 0; round < 3; round++) {
          const n = backend.wait(0);
          assert.equal(n, 2);
          for (const fd of events(backend, n).keys()) seen.add(fd);
        }
        assert.equal(seen.size, pairs.length);
        seen.clear();
        for (let round = 0; round < 3; round++) {
          const n = await backend.park(1000);
          assert.equal(n, 2);
          for (const fd of events(backend, n).keys()) seen.add(fd);
        }
        assert.equal(seen.size, pairs.length);
      } finally {
        backend.close();
        for (const [a, b] of pairs) closeAll(a, b);
      }
    });

    test("a parked wait returns when a descriptor becomes ready", async () => {
      const backend = createBackend(name);
      const [a, b] = socketPair();
      try {
        backend.add(a, READABLE);
        const parked = backend.park(10_000);
        assert.equal(backend.parked, true);
        setTimeout(() => libc().write(b, new Uint8Array([7]), 1), 20);
        const n = await parked;
        assert.equal(backend.parked, false);
        assert.equal(n, 1);
        assert.equal(backend.readyFds[0], a);
        assert.ok(backend.readyEvents[0]! & READABLE);
      } finally {
        backend.close();
        closeAll(a, b);
      }
    });

    test("one parked wait at a time: a second park is refused, the first goes on", async () => {
      const backend = createBackend(name);
      const [a, b] = socketPair();
      const extra = [socketPair(), socketPair(), socketPair(), socketPair(), socketPair(), socketPair(), socketPair(), socketPair(), socketPair()];
      try {
        backend.add(a, READABLE);
        const parked = backend.park(10_000);
        // Enough new fds that poll(2) would reallocate the parked wait's array.
        for (const [x] of extra) backend.add(x, READABLE);
        for (const [, y] of extra) backend.add(y, READABLE);
        await assert.rejects(backend.park(10), { code: "EBUSY" });
        assert.equal(backend.parked, true);
        libc().write(b, new Uint8Array([7]), 1);
        assert.equal(await parked, 1);
        assert.equal(backend.readyFds[0], a);
        assert.ok(backend.readyEvents[0]! & READABLE);
      } finally {
        backend.close();
        closeAll(a, b);
        for (const [x, y] of extra) closeAll(x, y);
      }
    });

    test("a parked wait times out with no events", async () => {
      const backend = createBackend(name);
      try {
        assert.equal(await backend.park(10), 0);
      } finally {
        backend.close();
      }
    });

    test("close during a parked wait releases memory after the wait returns", async () => {
      const backend = createBackend(name);
      const [a, b] = socketPair();
      backend.add(a, READABLE);
      const parked = backend.park(10_000);
      backend.close();
      assert.equal(backend.closed, true);
      libc().write(b, new Uint8Array([1]), 1);
      assert.equal(await parked, 0);
      closeAll(a, b);
    });

    test("adding twice and removing an unknown fd fail", () => {
      const backend = createBackend(name);
      const [a, b] = socketPair();
      try {
        backend.add(a, READABLE);
        assert.throws(() => backend.add(a, READABLE), { code: "EEXIST" });
        assert.throws(() => backend.remove(b), { code: "ENOENT" });
        assert.throws(() => backend.add(-1, READABLE), RangeError);
      } finally {
        backend.close();
        closeAll(a, b);
      }
    });
  });
}

test("timeoutArg: fractions round up, a finite timeout past a C int is capped, not turned into forever", () => {
  assert.equal(timeoutArg(1.2), 2);
  assert.equal(timeoutArg(-5), -1);
  assert.equal(timeoutArg(Infinity), -1);
  assert.equal(timeoutArg(0x7fffffff), 0x7fffffff);
  assert.equal(timeoutArg(2 ** 31), 0x7fffffff);
  assert.equal(timeoutArg(1e15), 0x7fffffff);
  assert.throws(() => timeoutArg(Number.NaN), TypeError);
});

test("poll backend: edge-triggered epoll reports a change once; poll(2) refuses edge", () => {
  if (available.includes("epoll")) {
    const backend = createBackend("epoll");
    const [a, b] = socketPair();
    try {
      backend.add(a, READABLE, true);
      libc().write(b, new Uint8Array([1]), 1);
      assert.equal(backend.wait(1000), 1);
      assert.equal(backend.wait(0), 0); // not read, but no new edge
      libc().write(b, new Uint8Array([2]), 1);
      assert.equal(backend.wait(1000), 1);
    } finally {
      backend.close();
      closeAll(a, b);
    }
  }
  const poll = createBackend("poll");
  try {
    assert.throws(() => poll.add(0, READABLE, true), UnsupportedError);
  } finally {
    poll.close();
  }
});
