import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { IoWatcher, type WatcherHost } from "./io_watcher.ts";
import { Poll, READABLE, WRITABLE } from "./poll.ts";

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0]!, fds[1]!];
}

const backends = libc().epoll_create1 !== undefined ? (["epoll", "poll"] as const) : (["poll"] as const);

for (const backend of backends) {
  describe(`Poll on ${backend}`, () => {
    test("add, wait, modifyEvents, remove with data and sockets", () => {
      const poll = new Poll<string>({ backend });
      const [a, b] = socketPair();
      const socket = { fd: a };
      try {
        assert.equal(poll.backendName, backend);
        poll.add(socket, READABLE, "client");
        poll.addFd(b, WRITABLE, "raw");
        assert.deepEqual(poll.sockets, [socket]);
        assert.equal(poll.size, 2);
        let events = poll.wait(0);
        assert.equal(events.length, 1);
        assert.equal(events[0]!.fd, b);
        assert.equal(events[0]!.data, "raw");
        assert.equal(events[0]!.writable, true);
        assert.equal(events[0]!.target, undefined);
        libc().write(b, new Uint8Array([1]), 1);
        poll.modifyEvents(b, 0, WRITABLE);
        events = poll.wait(100);
        assert.equal(events.length, 1);
        assert.equal(events[0]!.target, socket);
        assert.equal(events[0]!.readable, true);
        assert.equal(events[0]!.data, "client");
        poll.modify(socket, READABLE | WRITABLE, "both");
        events = poll.wait(0);
        assert.equal(events[0]!.data, "both");
        assert.equal(events[0]!.writable && events[0]!.readable, true);
        poll.remove(socket);
        assert.equal(poll.has(socket), false);
        assert.equal(poll.wait(0).length, 0);
        assert.throws(() => poll.remove(socket), { code: "ENOENT" });
        assert.throws(() => poll.addFd(b, READABLE, "again"), { code: "EEXIST" });
      } finally {
        poll.close();
        libc().close(a);
        libc().close(b);
      }
      assert.throws(() => poll.wait(0), UseAfterCloseError);
    });

    test("a throwing timer goes to onTimerError and the ready events of that wait still come back (edge-triggered)", () => {
      const errors: unknown[] = [];
      const poll = new Poll<string>({ backend, onTimerError: (error) => errors.push(error) });
      const [a, b] = socketPair();
      try {
        poll.addFd(a, READABLE, "edge", { edge: backend === "epoll" });
        poll.timers.once(0, () => {
          throw new Error("timer failed");
        });
        libc().write(b, new Uint8Array([1]), 1);
        const events = poll.wait(100);
        assert.equal(events.length, 1);
        assert.equal(events[0]!.data, "edge");
        assert.equal(errors.length, 1);
        assert.equal((errors[0] as Error).message, "timer failed");
        assert.throws(() => new Poll({ backend, onTimerError: 1 as unknown as () => void }), TypeError);
      } finally {
        poll.close();
        libc().close(a);
        libc().close(b);
      }
    });

    test("remove forgets a registration whose fd was closed first", () => {
      const poll = new Poll<string>({ backend });
      const [a, b] = socketPair();
      try {
        poll.addFd(a, READABLE, "old");
        libc().close(a);
        // epoll already dropped the closed fd: the backend says EBADF.
        try {
          poll.remove(a);
        } catch (err) {
          assert.equal((err as { code?: string }).code, "EBADF");
        }
        assert.equal(poll.has(a), false);
        assert.equal(poll.size, 0);
        // The number is free for a new registration.
        const [c, d] = socketPair();
        try {
          poll.addFd(c, READABLE, "new");
          libc().write(d, new Uint8Array([1]), 1);
          const events = poll.wait(1000);
          assert.equal(events.length, 1);
          assert.equal(events[0]!.data, "new");
        } finally {
          libc().close(c);
          libc().close(d);
        }
      } finally {
        poll.close();
        libc().close(b);
      }
    });

    test("wait ends at the next timer and fires it", () => {
      const poll = new Poll({ backend });
      try {
        const fired: string[] = [];
        poll.timers.once(20, () => fired.push("a"));
        poll.timers.once(5, () => fired.push("b"));
        const started = performance.now();
        while (fired.length < 2 && performance.now() - started < 5000) poll.wait(-1);
        assert.deepEqual(fired, ["b", "a"]);
      } finally {
        poll.close();
      }
    });
  });
}

describe("IoWatcher", () => {
  test("start and close keep the watcher's state right when the host fails", () => {
    let fail = false;
    const failing = (what: string) => () => {
      if (fail) throw new Error(`${what} failed`);
    };
    const host: WatcherHost = {
      _modify: failing("modify"),
      _unwatch: failing("unwatch"),
      _refChanged: () => {},
      _setActive: failing("setActive"),
    };
    const watcher = new IoWatcher(host, 5, READABLE, false, () => {});
    fail = true;
    assert.throws(() => watcher.start(WRITABLE), /modify failed/);
    assert.equal(watcher.events, READABLE);
    fail = false;
    watcher.stop();
    fail = true;
    assert.throws(() => watcher.start(WRITABLE), /setActive failed/);
    assert.equal(watcher.events, READABLE);
    assert.equal(watcher.active, false);
    // The host dropped the watcher before its backend failed: it is closed.
    assert.throws(() => watcher.close(), /unwatch failed/);
    assert.equal(watcher.closed, true);
    assert.throws(() => watcher.update(WRITABLE), UseAfterCloseError);
    watcher.close();
  });
});
