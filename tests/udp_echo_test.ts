import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { SocketError } from "../core/errors.ts";
import { bindUDPSync } from "../socket/dgram.ts";
import { bindUDP, type UdpAddress, type UdpSocket } from "../poll/udp.ts";
import { bytes, HOSTS, text, turn, until } from "./udp_helpers.ts";

/** An echo server in handler mode: answers each datagram with trySend. */
function echoServer(host: string, copy = false): { server: UdpSocket; seen: Uint8Array[] } {
  const seen: Uint8Array[] = [];
  const server = bindUDP({
    host,
    copy,
    handler: {
      message(sock, data, from) {
        seen.push(data);
        assert.equal(sock.trySend(data, from), true);
      },
    },
  });
  return { server, seen };
}

for (const host of HOSTS) {
  describe(`async UDP echo on ${host}`, () => {
    test("promise mode: send/recv against a handler-mode echo server, sender address reported", async () => {
      const { server } = echoServer(host);
      using client = bindUDP({ host });
      for (let i = 0; i < 20; i++) {
        await client.send(bytes(`ping ${i}`), server.localAddress);
        const reply = await client.recv();
        assert.ok(reply !== null);
        assert.equal(text(reply.data), `ping ${i}`);
        assert.deepEqual(reply.address, server.localAddress);
        assert.equal(reply.truncated, false);
      }
      server.close();
    });

    test("promise-mode echo server with for await; a datagram of every size 0..1472 and a 65507/65527-byte one", async () => {
      using server = bindUDP({ host });
      const serving = (async () => {
        let n = 0;
        for await (const { data, address } of server) {
          await server.send(data, address);
          n++;
        }
        return n;
      })();
      using client = bindUDP({ host, connect: server.localAddress });
      const sizes = [0, 1, 2, 100, 1472, host === "::1" ? 65527 : 65507];
      for (const size of sizes) {
        const payload = new Uint8Array(size).map((_, i) => i * 7);
        await client.send(payload);
        const reply = await client.recv();
        assert.deepEqual(reply?.data, payload);
      }
      server.close(); // ends the for await
      assert.equal(await serving, sizes.length);
    });

    test("handler mode reuses its receive buffer unless copy: true", async () => {
      for (const copy of [false, true]) {
        const { server, seen } = echoServer(host, copy);
        using client = bindUDP({ host, maxQueuedDatagrams: 64 });
        const payloads = Array.from({ length: 40 }, (_, i) => bytes(`datagram ${String(i).padStart(3, "0")}`));
        await client.sendBatch(payloads.map((data) => ({ data, ...server.localAddress })));
        const replies: string[] = [];
        while (replies.length < payloads.length) {
          for (const d of (await client.recvBatch({ max: 16 })) ?? []) replies.push(text(d.data));
        }
        assert.deepEqual(replies, payloads.map(text));
        const kept = seen.map(text);
        if (copy) assert.deepEqual(kept, payloads.map(text));
        else {
          // Views of one reused block: those kept past their call now show later datagrams.
          assert.notDeepEqual(kept, payloads.map(text));
          // 40 datagrams, at most 32 receive buffers: some view shares another's bytes.
          assert.ok(seen.slice(1).some((view) => view.buffer === seen[0]!.buffer && view.byteOffset === seen[0]!.byteOffset));
        }
        server.close();
      }
    });

    test("sendBatch (sendmmsg) of 1100 datagrams, over the 1024 per call, resolves once the kernel took them", async () => {
      using sink = bindUDPSync(host, 0, { nonBlocking: true });
      using client = bindUDP({ host, connect: { host, port: sink.localAddress().port } });
      const data = new Uint8Array(4);
      await client.sendBatch(Array.from({ length: 1100 }, () => ({ data })));
      assert.ok(sink.recv(new Uint8Array(8)) === 4);
    });

    test("recvBatch returns what arrived, at most max, keeping order", async () => {
      using receiver = bindUDP({ host, maxQueuedDatagrams: 8 });
      using sender = bindUDPSync(host, 0);
      for (let i = 0; i < 5; i++) sender.sendTo(bytes(String(i)), host, receiver.port);
      const got: string[] = [];
      while (got.length < 5) {
        const batch = await receiver.recvBatch({ max: 3 });
        assert.ok(batch !== null && batch.length >= 1 && batch.length <= 3);
        for (const d of batch) {
          got.push(text(d.data));
          assert.equal(d.address.port, sender.localAddress().port);
        }
      }
      assert.deepEqual(got, ["0", "1", "2", "3", "4"]);
    });

    test("received datagrams held for recv() stop at maxQueuedDatagrams; the kernel holds the rest, none lost", async () => {
      using receiver = bindUDP({ host, maxQueuedDatagrams: 4 });
      using sender = bindUDPSync(host, 0);
      for (let i = 0; i < 10; i++) sender.sendTo(bytes(`q${i}`), host, receiver.port);
      await until(() => receiver.queued === 4, "the queue to fill");
      for (let i = 0; i < 20; i++) await turn(); // the loop keeps running: still 4
      assert.equal(receiver.queued, 4);
      const got: string[] = [];
      for (let i = 0; i < 10; i++) {
        got.push(text((await receiver.recv())!.data));
        assert.ok(receiver.queued <= 4);
      }
      assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `q${i}`));
    });

    test("a socket that stopped reading at its bound closes cleanly, and its waiting datagrams go with it", async () => {
      const receiver = bindUDP({ host, maxQueuedDatagrams: 1 });
      using sender = bindUDPSync(host, 0);
      sender.sendTo(bytes("1"), host, receiver.port);
      sender.sendTo(bytes("2"), host, receiver.port);
      await until(() => receiver.queued === 1, "the queue to fill");
      receiver.close();
      assert.equal(receiver.queued, 0);
      assert.equal(await receiver.recv(), null);
    });

    test("maxDatagramBytes truncates larger datagrams and says so", async () => {
      using receiver = bindUDP({ host, maxDatagramBytes: 8 });
      using sender = bindUDPSync(host, 0);
      sender.sendTo(bytes("0123456789abcdef"), host, receiver.port);
      const d = await receiver.recv();
      assert.equal(text(d!.data), "01234567");
      assert.equal(d!.truncated, true);
    });

    test("abort of a pending recv rejects it with the signal's reason; the socket stays usable", async () => {
      using receiver = bindUDP({ host });
      const controller = new AbortController();
      const waiting = receiver.recv({ signal: controller.signal });
      controller.abort(new Error("stop waiting"));
      await assert.rejects(waiting, /stop waiting/);
      await assert.rejects(receiver.recv({ signal: AbortSignal.abort() }), (e: unknown) => (e as Error).name === "AbortError");
      using sender = bindUDPSync(host, 0);
      sender.sendTo(bytes("after"), host, receiver.port);
      assert.equal(text((await receiver.recv())!.data), "after"); // went to the live waiter, not the aborted one
    });

    test("close while recv and recvBatch wait gives them null", async () => {
      const receiver = bindUDP({ host });
      const one = receiver.recv();
      const many = receiver.recvBatch();
      receiver.close();
      assert.equal(await one, null);
      assert.equal(await many, null);
    });

    test("connected UDP: the kernel drops strangers; ECONNREFUSED after the peer is gone reaches recv and the handler", async () => {
      using peer = bindUDPSync(host, 0);
      using stranger = bindUDPSync(host, 0);
      const peerPort = peer.localAddress().port;
      using sock = bindUDP({ host, connect: { host, port: peerPort } });
      stranger.sendTo(bytes("stranger"), host, sock.port);
      peer.sendTo(bytes("peer"), host, sock.port);
      const d = await sock.recv();
      assert.equal(text(d!.data), "peer");
      assert.equal(d!.address.port, peerPort);
      peer.close();
      // The ICMP port-unreachable comes back as ECONNREFUSED on the next receive.
      await sock.send(bytes("anyone?"));
      await assert.rejects(sock.recv(), (e: unknown) => e instanceof SocketError && e.code === "ECONNREFUSED");

      const errors: string[] = [];
      using gone = bindUDPSync(host, 0);
      const gonePort = gone.localAddress().port;
      gone.close();
      using h = bindUDP({
        host,
        connect: { host, port: gonePort },
        handler: { message: () => {}, error: (_s, e) => errors.push((e as SocketError).code) },
      });
      h.trySend(bytes("anyone?"));
      await until(() => errors.length > 0, "the handler's error");
      assert.deepEqual(errors, ["ECONNREFUSED"]);
      assert.equal(h.closed, false);
    });

    test("many clients against one handler-mode server (batched receives)", async () => {
      const { server } = echoServer(host);
      const clients = Array.from({ length: 8 }, () => bindUDP({ host }));
      const answers = await Promise.all(clients.map(async (c, i) => {
        const got: string[] = [];
        for (let j = 0; j < 25; j++) {
          await c.send(bytes(`${i}:${j}`), server.localAddress);
          got.push(text((await c.recv())!.data));
        }
        return got;
      }));
      answers.forEach((got, i) => assert.deepEqual(got, Array.from({ length: 25 }, (_, j) => `${i}:${j}`)));
      for (const c of clients) c.close();
      server.close();
    });
  });
}

describe("async UDP: dual stack", () => {
  test("an IPv6 socket bound to :: answers an IPv4 peer at its ::ffff: address", async () => {
    using six = bindUDP({ family: "ipv6", ipv6Only: false });
    using four = bindUDP({ host: "127.0.0.1" });
    await four.send(bytes("v4"), { host: "127.0.0.1", port: six.port });
    const d = await six.recv();
    const from: UdpAddress = d!.address;
    assert.deepEqual(from, { family: "ipv6", host: "::ffff:127.0.0.1", port: four.port });
    await six.send(bytes("back"), from);
    assert.equal(text((await four.recv())!.data), "back");
  });
});

describe("async UDP: multicast and broadcast options", () => {
  test("multicastGroups at bind, multicastInterface/TTL on the sender: a group datagram on lo arrives", async () => {
    using receiver = bindUDP({ host: "0.0.0.0", reuseAddress: true, multicastGroups: [{ group: "224.0.0.250", iface: "lo" }, "224.0.0.251"] });
    using sender = bindUDP({ host: "127.0.0.1", multicastInterface: "127.0.0.1", multicastTTL: 1 });
    await sender.send(bytes("group A"), { host: "224.0.0.250", port: receiver.port });
    const d = await receiver.recv();
    assert.equal(text(d!.data), "group A");
    assert.equal(d!.address.port, sender.port);
  });

  test("broadcast: refused (EACCES) without the option, delivered with it", async () => {
    using receiver = bindUDP({ host: "0.0.0.0" });
    using plain = bindUDP({ host: "127.0.0.1" });
    await assert.rejects(plain.send(bytes("b"), { host: "127.255.255.255", port: receiver.port }), (e: unknown) => e instanceof SocketError && e.code === "EACCES");
    using caster = bindUDP({ host: "127.0.0.1", broadcast: true });
    await caster.send(bytes("b"), { host: "127.255.255.255", port: receiver.port });
    assert.equal((await receiver.recv())!.address.port, caster.port);
  });
});

describe("async UDP: property", () => {
  test("any list of datagrams (0–1500 bytes) sent with sendBatch comes back intact and in order through an echo", async () => {
    const { server } = echoServer("127.0.0.1", false);
    using client = bindUDP({ host: "127.0.0.1", connect: server.localAddress, maxQueuedDatagrams: 64 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 1500 }), { minLength: 1, maxLength: 40 }), async (payloads) => {
        await client.sendBatch(payloads.map((data) => ({ data })));
        const back: Uint8Array[] = [];
        while (back.length < payloads.length) back.push(...((await client.recvBatch({ max: 40 })) ?? []).map((d) => d.data));
        assert.deepEqual(back, payloads);
      }),
      { numRuns: 30 },
    );
    server.close();
  });
});
