import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bindUDPSync } from "./dgram.ts";
import { closeQuerySocket, encodePeer, openQuerySocket, recvAnswer, sendQuery, SourceAddress } from "./udp_query.ts";

/** Receives on a non-blocking query socket, a bounded number of tries (the datagram is on loopback already). */
function receive(fd: number, buffer: Uint8Array, source: SourceAddress): number {
  for (let i = 0; i < 100_000; i++) {
    const n = recvAnswer(fd, buffer, source);
    if (n !== null) return n;
  }
  throw new Error("no datagram");
}

describe("socket/udp_query", () => {
  for (const host of ["127.0.0.1", "::1"]) {
    test(`a query to ${host} and its answer; the sender is recognised by address and port`, () => {
      using server = bindUDPSync(host, 0);
      using other = bindUDPSync(host, 0);
      const peer = encodePeer(host, server.localAddress().port);
      assert.equal(peer.family, host === "::1" ? "ipv6" : "ipv4");
      const fd = openQuerySocket(peer.family);
      try {
        const source = new SourceAddress();
        assert.equal(recvAnswer(fd, new Uint8Array(8), source), null);
        assert.equal(sendQuery(fd, Uint8Array.from([1, 2, 3]), peer), 3);
        const got = new Uint8Array(16);
        const d = server.recvFrom(got)!;
        assert.deepEqual(Array.from(got.subarray(0, d.bytes)), [1, 2, 3]);
        // The answer from the server, then one from another port of the same address.
        server.sendTo(Uint8Array.from([4, 5, 6, 7, 8]), d.host, d.port);
        other.sendTo(Uint8Array.from([9]), d.host, d.port);
        const small = new Uint8Array(4);
        assert.equal(receive(fd, small, source), 5); // full size: truncated to 4
        assert.deepEqual(Array.from(small), [4, 5, 6, 7]);
        assert.equal(source.is(peer), true);
        assert.equal(receive(fd, small, source), 1);
        assert.equal(source.is(peer), false);
        assert.equal(source.is(encodePeer(host, other.localAddress().port)), true);
      } finally {
        closeQuerySocket(fd);
      }
    });
  }

  test("a peer that is not an IP literal is a TypeError", () => {
    assert.throws(() => encodePeer("localhost", 53), TypeError);
  });
});
