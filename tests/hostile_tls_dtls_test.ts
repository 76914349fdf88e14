// DTLS against a hostile network and hostile peers (client/TLS red team,
// second round; dtls_test covers the cookie exchange, replayed cookies,
// garbage, mutated ClientHellos and a lost flight): a relay that delivers
// every datagram out of order (each pair swapped) both ways still lets the
// handshake and data through; 3000 cookie-less ClientHellos from one socket
// each get a HelloVerifyRequest and leave no state, and a real client then
// gets through.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { bindUDP } from "../poll/udp.ts";
import { connectDTLS, listenDTLS } from "../tls/dtls_async.ts";
import { DTLSContext } from "../tls/dtls_context.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function serverContext(): DTLSContext {
  const pki = testPKI();
  return new DTLSContext({ role: "server", cert: pki.chain, key: pki.key });
}

const isClientHello = (d: Uint8Array): boolean => d.length > 25 && d[0] === 22 && d[1] === 0xfe && d[13] === 1;
const isHelloVerifyRequest = (d: Uint8Array): boolean => d.length > 25 && d[0] === 22 && d[1] === 0xfe && d[13] === 3;

/**
 * A UDP relay in front of `target` that swaps each pair of datagrams in both
 * directions (a lone one goes on after 30 ms, so nothing is lost).
 */
async function swappingRelay(target: number): Promise<{ port: number; swapped: () => number; close: () => Promise<void> }> {
  const front = dgram.createSocket("udp4");
  const back = dgram.createSocket("udp4");
  await new Promise<void>((r) => front.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => back.bind(0, "127.0.0.1", r));
  let client: { port: number; address: string } | null = null;
  let swaps = 0;
  const lane = (send: (d: Buffer) => void) => {
    let held: Buffer | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return (d: Buffer): void => {
      if (held === null) {
        held = d;
        timer = setTimeout(() => {
          const h = held;
          held = null;
          if (h !== null) send(h);
        }, 30);
        return;
      }
      clearTimeout(timer);
      const first = held;
      held = null;
      send(d);
      send(first);
      swaps++;
    };
  };
  const toServer = lane((d) => back.send(d, target, "127.0.0.1"));
  const toClient = lane((d) => client !== null && front.send(d, client.port, client.address));
  front.on("message", (d, rinfo) => {
    client = { port: rinfo.port, address: rinfo.address };
    toServer(d);
  });
  back.on("message", (d) => toClient(d));
  return {
    port: (front.address() as { port: number }).port,
    swapped: () => swaps,
    close: async () => {
      await new Promise<void>((r) => front.close(() => r()));
      await new Promise<void>((r) => back.close(() => r()));
    },
  };
}

describe("DTLS against a hostile network and peers", () => {
  test("every pair of datagrams swapped both ways: the handshake completes, data goes both ways", async () => {
    const pki = testPKI();
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const relay = await swappingRelay(server.localAddress.port);
    try {
      const client = await connectDTLS({ host: "127.0.0.1", port: relay.port, ca: pki.root, servername: "localhost" });
      const peer = (await server.accept({ signal: AbortSignal.timeout(20_000) }))!;
      for (const word of ["one", "two"]) await client.send(enc.encode(word));
      const got = [dec.decode((await peer.recv())!), dec.decode((await peer.recv())!)];
      // UDP order is not kept (the relay swapped them): both arrive, each once.
      assert.deepEqual(got.sort(), ["one", "two"]);
      await peer.send(enc.encode("back"));
      assert.equal(dec.decode((await client.recv())!), "back");
      assert.ok(relay.swapped() > 0, "the relay swapped datagrams");
      client.close();
      peer.close();
    } finally {
      await relay.close();
    }
  });

  test("3000 cookie-less ClientHellos from one socket: a HelloVerifyRequest each, no state; a real client then gets through", async () => {
    // The first datagram of a real client, captured.
    let hello: Uint8Array;
    {
      await using sink = bindUDP({ host: "127.0.0.1" });
      const controller = new AbortController();
      const pending = connectDTLS({ host: "127.0.0.1", port: sink.localAddress.port, rejectUnauthorized: false, timeoutMs: 0, signal: controller.signal });
      pending.catch(() => {});
      const first = await sink.recv({ signal: AbortSignal.timeout(10_000) });
      controller.abort();
      await pending.catch(() => {});
      assert.ok(first && isClientHello(first.data));
      hello = first.data;
    }
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const flooder = dgram.createSocket("udp4");
    await new Promise<void>((r) => flooder.bind(0, "127.0.0.1", r));
    let answers = 0;
    let others = 0;
    flooder.on("message", (d) => (isHelloVerifyRequest(new Uint8Array(d)) ? answers++ : others++));
    try {
      for (let i = 0; i < 3000; i++) {
        flooder.send(hello, server.localAddress.port, "127.0.0.1");
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5)); // within the socket buffers
      }
      // Until nothing moves: the kernel may drop ClientHellos on the way in and answers on the way back.
      for (let i = 0, still = 0; i < 1000 && still < 20 && answers + others < 3000; i++) {
        const seen = answers + ctx.cookieStats.issued;
        await new Promise((r) => setTimeout(r, 10));
        still = answers + ctx.cookieStats.issued === seen ? still + 1 : 0;
      }
      assert.equal(others, 0);
      assert.ok(answers > 0 && answers <= ctx.cookieStats.issued && ctx.cookieStats.issued <= 3000, `${answers} answers, ${ctx.cookieStats.issued} cookies`);
      assert.equal(ctx.cookieStats.accepted, 0);
      assert.equal(server.handshaking, 0);
      assert.equal(server.connections, 0);
    } finally {
      await new Promise<void>((r) => flooder.close(() => r()));
    }
    await using real = await connectDTLS({ host: "127.0.0.1", port: server.localAddress.port, rejectUnauthorized: false });
    assert.equal(server.stats.verified, 1);
    (await server.accept())!.close();
  });
});
