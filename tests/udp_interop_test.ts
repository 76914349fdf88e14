// The async UDP socket against the runtime's own node:dgram as the peer
// (Node, and Deno's and Bun's node:dgram).
import assert from "node:assert/strict";
import { createSocket, type RemoteInfo, type Socket as NodeDgram } from "node:dgram";
import { describe, test } from "node:test";
import { bindUDP } from "../poll/udp.ts";
import { bytes, HOSTS, text } from "./udp_helpers.ts";

function nodeSocket(host: string): Promise<NodeDgram> {
  const sock = createSocket(host.includes(":") ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, host, () => resolve(sock));
  });
}

function closeNode(sock: NodeDgram): Promise<void> {
  return new Promise((resolve) => sock.close(() => resolve()));
}

for (const host of HOSTS) {
  describe(`async UDP with node:dgram on ${host}`, () => {
    test("our client, node:dgram echo server", async () => {
      const server = await nodeSocket(host);
      server.on("message", (msg: Uint8Array, rinfo: RemoteInfo) => server.send(msg, rinfo.port, rinfo.address));
      const port = server.address().port;
      using client = bindUDP({ host });
      for (let i = 0; i < 10; i++) {
        await client.send(bytes(`hello ${i}`), { host, port });
        const reply = await client.recv();
        assert.equal(text(reply!.data), `hello ${i}`);
        assert.deepEqual(reply!.address, { family: host.includes(":") ? "ipv6" : "ipv4", host, port });
      }
      await closeNode(server);
    });

    test("node:dgram client, our handler-mode echo server (and a batch back)", async () => {
      using server = bindUDP({
        host,
        handler: {
          message(sock, data, from) {
            // One datagram in: the same back, then two more in one sendmmsg.
            sock.trySend(data, from);
            void sock.sendBatch([{ data: bytes("b1"), ...from }, { data: bytes("b2"), ...from }]);
          },
        },
      });
      const client = await nodeSocket(host);
      const replies: string[] = [];
      let from: RemoteInfo | undefined;
      const gotThree = new Promise<void>((resolve) => {
        client.on("message", (msg: Uint8Array, rinfo: RemoteInfo) => {
          replies.push(text(msg));
          from = rinfo;
          if (replies.length === 3) resolve();
        });
      });
      client.send(bytes("from node"), server.port, host);
      await gotThree;
      assert.deepEqual(replies, ["from node", "b1", "b2"]);
      assert.equal(from!.port, server.port);
      await closeNode(client);
    });

    test("connected node:dgram peer and connected async socket", async () => {
      const peer = await nodeSocket(host);
      using sock = bindUDP({ host, connect: { host, port: peer.address().port } });
      await new Promise<void>((resolve, reject) => peer.connect(sock.port, host, (err?: Error) => err ? reject(err) : resolve()));
      const echoed = new Promise<string>((resolve) => peer.once("message", (msg: Uint8Array) => resolve(text(msg))));
      await sock.send(bytes("to node"));
      assert.equal(await echoed, "to node");
      peer.send(bytes("to us"));
      assert.equal(text((await sock.recv())!.data), "to us");
      await closeNode(peer);
    });
  });
}
