// Handles used after close throw UseAfterCloseError and never reach freed
// or foreign native state: the TLS session-ticket key ring (its callback
// and keys are freed by close), and a socket's received descriptors
// (closeReceivedFd closes only what this socket received, once).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UseAfterCloseError } from "../core/errors.ts";
import { Socket } from "../socket/socket.ts";
import { TicketKeyRing, ticketKeysSupported } from "../tls/ticket_keys.ts";

describe("use after close", () => {
  test("TicketKeyRing: rotate, rotateIfDue and install after close() throw UseAfterCloseError (no new keys, no new callback); close() stays idempotent", { skip: !ticketKeysSupported() && "OpenSSL before 3" }, () => {
    const ring = new TicketKeyRing({ keysKept: 1 });
    const name = ring.currentName;
    ring.close();
    ring.close();
    // what it reports: nothing left
    assert.equal(ring.size, 0);
    assert.equal(ring.accepts(name), false);
    assert.throws(() => ring.rotate(), UseAfterCloseError);
    assert.throws(() => ring.rotateIfDue(), UseAfterCloseError);
    // install() after close used to make a new callback and hand a null SSL_CTX to OpenSSL (a segfault).
    assert.throws(() => ring.install(null as never), UseAfterCloseError);
    const open = new TicketKeyRing();
    assert.throws(() => open.install(null as never), TypeError);
    open.close();
  });

  test("Socket.closeReceivedFd closes a received descriptor once; never another one; UseAfterCloseError once closed", () => {
    const [a, b] = Socket.pair();
    try {
      assert.equal(a.sendFd(0), 1);
      const fd = b.recvFd();
      assert.ok(fd !== null && fd > 2);
      b.closeReceivedFd(fd);
      // closed here already: the number may belong to something else by now
      assert.throws(() => b.closeReceivedFd(fd), RangeError);
      // stdout and the socket's own descriptor were never received
      assert.throws(() => b.closeReceivedFd(1), RangeError);
      assert.throws(() => b.closeReceivedFd(b.fd), RangeError);
      assert.throws(() => b.closeReceivedFd(-1), RangeError);
      // a descriptor received on b is b's to close, not a's
      a.sendFd(0);
      const again = b.recvFd()!;
      assert.throws(() => a.closeReceivedFd(again), RangeError);
      b.close();
      assert.throws(() => b.closeReceivedFd(again), UseAfterCloseError);
      // still open after all that: it was received, it is the caller's, a fresh socket can adopt it
      Socket.fromFd(again, "unix").close();
    } finally {
      a.close();
      b.close();
    }
  });
});
