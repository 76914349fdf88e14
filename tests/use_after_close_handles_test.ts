// Every public handle type used after close (closed twice first: a second
// close is a no-op): each I/O method throws or rejects UseAfterCloseError,
// or, where documented, ends quietly (a pending-style read or accept
// resolves null). Nothing reaches freed native state: the native handles
// (zlib, brotli, hashes, OpenSSL contexts, DTLS, sockets, pipes) are used
// after free here, on Node, Deno and Bun.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { UseAfterCloseError } from "../core/errors.ts";
import { Hash, HmacSha256 } from "../core/crypto.ts";
import { SocketBuf } from "../core/socket_buf.ts";
import { Deflater, Inflater } from "../core/zlib.ts";
import { Agent } from "../http/client/agent.ts";
import { request } from "../http/client/mod.ts";
import { ContentDecoder, ContentEncoder, isBrotliAvailable } from "../http/content_coding.ts";
import { serve } from "../http/server/serve.ts";
import { connect } from "../poll/connect.ts";
import { listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { bindUDP } from "../poll/udp.ts";
import { listenTCPSync, socketPair } from "../socket/connect.ts";
import { bindUDPSync } from "../socket/dgram.ts";
import { ReconnectingConnection } from "../socket/reconnect.ts";
import { SplicePipe } from "../socket/zero_copy.ts";
import { listenTLS } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { connectDTLS, listenDTLS } from "../tls/dtls_async.ts";
import { DTLSContext } from "../tls/dtls_context.ts";
import { PerMessageDeflate } from "../ws/deflate.ts";
import { testPKI } from "./tls_pki.ts";

const isClosed = (e: unknown): boolean => e instanceof UseAfterCloseError && e.code === "ERR_USE_AFTER_CLOSE";
const bytes = new Uint8Array([0x78, 0x9c, 1, 2, 3]);
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** Each call must throw (or reject with) UseAfterCloseError. */
async function allClosed(what: string, calls: Record<string, () => unknown>): Promise<void> {
  for (const [name, call] of Object.entries(calls)) {
    let outcome: unknown;
    try {
      outcome = call();
    } catch (err) {
      assert.ok(isClosed(err), `${what}.${name} threw ${String(err)}`);
      continue;
    }
    assert.ok(outcome instanceof Promise, `${what}.${name} returned ${String(outcome)} after close`);
    await assert.rejects(outcome, isClosed, `${what}.${name}`);
  }
}

/** Each call must resolve null (the end, as for a close while it waited). */
async function allNull(what: string, calls: Record<string, () => Promise<unknown>>): Promise<void> {
  for (const [name, call] of Object.entries(calls)) assert.equal(await call(), null, `${what}.${name}`);
}

describe("use after close: codecs and buffers holding native memory", () => {
  test("Deflater, Inflater, Hash, HmacSha256, SocketBuf", async () => {
    const d = new Deflater();
    d.push(bytes);
    d.close();
    d.close();
    const i = new Inflater();
    i.close();
    i.close();
    const h = new Hash("sha256");
    h.digest();
    const m = new HmacSha256("key");
    m.digest();
    const b = new SocketBuf();
    b.write(bytes);
    b.close();
    b.close();
    await allClosed("codecs", {
      "Deflater.push": () => d.push(bytes),
      "Deflater.reset": () => d.reset(),
      "Inflater.push": () => i.push(bytes),
      "Hash.update": () => h.update(bytes),
      "Hash.digest": () => h.digest(),
      "HmacSha256.update": () => m.update(bytes),
      "SocketBuf.read": () => b.read(new Uint8Array(1)),
      "SocketBuf.write": () => b.write(bytes),
      "SocketBuf.peek": () => b.peek(new Uint8Array(1)),
    });
  });

  test("ContentDecoder and ContentEncoder of every coding, PerMessageDeflate", async () => {
    const codings = ["gzip", "deflate", "gzip, deflate", ...(isBrotliAvailable() ? ["br"] : [])];
    for (const coding of codings) {
      const dec = new ContentDecoder(coding);
      dec.push(new Uint8Array([0x1f]));
      dec.close();
      dec.close();
      const enc = new ContentEncoder(coding.split(",")[0]!.trim());
      enc.push(bytes);
      enc.close();
      enc.close();
      await allClosed(coding, {
        "ContentDecoder.push": () => dec.push(bytes),
        "ContentDecoder.push(empty)": () => dec.push(new Uint8Array(0)),
        "ContentDecoder.end": () => dec.end(),
        "ContentEncoder.push": () => enc.push(bytes),
        "ContentEncoder.end": () => enc.end(),
      });
    }
    const pmd = PerMessageDeflate.acceptOffer("permessage-deflate")!;
    pmd.close();
    pmd.close();
    await allClosed("PerMessageDeflate", { compress: () => pmd.compress(bytes), decompress: () => pmd.decompress(bytes, true, 1 << 20) });
  });
});

describe("use after close: blocking sockets and pipes", () => {
  test("Socket (listening and connected), Dgram, SplicePipe", async () => {
    const listener = listenTCPSync("127.0.0.1", 0);
    const [a, b] = socketPair();
    const dgram = bindUDPSync("127.0.0.1", 0);
    const pipe = SplicePipe.open();
    for (const h of [listener, a, b, dgram, pipe]) {
      h.close();
      h.close();
    }
    await allClosed("sockets", {
      "Socket.accept": () => listener.accept(),
      "Socket.listen": () => listener.listen(1),
      "Socket.localAddress": () => listener.localAddress(),
      "Socket.send": () => a.send(bytes),
      "Socket.recv": () => a.recv(new Uint8Array(4)),
      "Socket.shutdown": () => a.shutdown("write"),
      "Socket.fd": () => a.fd,
      "Dgram.send": () => dgram.send(bytes),
      "Dgram.sendTo": () => dgram.sendTo(bytes, "127.0.0.1", 9),
      "Dgram.recv": () => dgram.recv(new Uint8Array(4)),
      "SplicePipe.transfer": () => pipe.transfer(0, 1, 1),
    });
  });
});

describe("use after close: the loop and what runs on it", () => {
  test("Loop, a Timer of a closed loop, Listener, Connection, UdpSocket", async () => {
    const loop = new Loop();
    const timer = loop.setTimeout(() => {}, 1000);
    loop.close();
    loop.close();
    const listener = listen({ host: "127.0.0.1", port: 0 });
    const conn = await connect({ host: "127.0.0.1", port: listener.port });
    const peer = (await listener.accept())!;
    const udp = bindUDP({ host: "127.0.0.1", port: 0 });
    await conn.close();
    await conn.close();
    await peer.close();
    listener.close();
    listener.close();
    udp.close();
    udp.close();
    await allClosed("loop", {
      "Loop.setTimeout": () => loop.setTimeout(() => {}, 1),
      "Loop.setInterval": () => loop.setInterval(() => {}, 1),
      "Loop.watch": () => loop.watch(0, 1, () => {}),
      "Loop.run": () => loop.run(),
      "Timer.reschedule": () => timer.reschedule(5),
      "Connection.write": () => conn.write(bytes),
      "Connection.send": () => conn.send(bytes),
      "Connection.sendPair": () => conn.sendPair(bytes, bytes),
      "Connection.localAddress": () => conn.localAddress,
      "Connection.remoteAddress": () => conn.remoteAddress,
      "Connection.detach": () => conn.detach(),
      "UdpSocket.send": () => udp.send(bytes, { host: "127.0.0.1", port: 9 }),
      "UdpSocket.trySend": () => udp.trySend(bytes, { host: "127.0.0.1", port: 9 }),
    });
    await allNull("loop", {
      "Listener.accept": () => listener.accept(),
      "Connection.read": () => conn.read(),
      "UdpSocket.recv": () => udp.recv(),
    });
    timer.cancel(); // a no-op on a closed loop
  });
});

describe("use after close: TLS, DTLS and the HTTP/WebSocket handles", () => {
  const pki = testPKI();

  test("TLSContext, TLSListener, DTLSContext, DTLSServer, DTLSConnection", async () => {
    const ctx = new TLSContext({ cert: pki.chain, key: pki.key });
    ctx.close();
    ctx.close();
    const tlsListener = listenTLS({ port: 0, cert: pki.chain, key: pki.key });
    tlsListener.close();
    tlsListener.close();
    const dctx = new DTLSContext({ cert: pki.chain, key: pki.key, role: "server" });
    const server = listenDTLS({ host: "127.0.0.1", context: dctx });
    cleanups.push(() => server.close());
    const accepted = server.accept();
    const client = await connectDTLS({ host: "127.0.0.1", servername: "localhost", port: server.localAddress.port, ca: pki.root });
    const serverSide = (await accepted)!;
    client.close();
    client.close();
    serverSide.close();
    server.close();
    server.close();
    dctx.close();
    dctx.close();
    await allClosed("tls", {
      "TLSContext.rotateTicketKeys": () => ctx.rotateTicketKeys(),
      "TLSContext.sessionStats": () => ctx.sessionStats(),
      "TLSContext.setOCSPResponse": () => ctx.setOCSPResponse(null),
      "DTLSContext.rotateCookieSecret": () => dctx.rotateCookieSecret(),
      "DTLSServer.accept": () => server.accept(),
      "DTLSConnection.send": () => client.send(bytes),
      "DTLSConnection.recv": () => client.recv(),
      "DTLSConnection.peerCertificate": () => client.peerCertificate(),
    });
    await allNull("tls", { "TLSListener.accept": () => tlsListener.accept() });
  });

  test("Agent, ReconnectingConnection and Server", async () => {
    const server = serve({ port: 0, host: "127.0.0.1", fetch: () => new Response("x") });
    const agent = new Agent();
    await agent.close();
    await agent.close();
    const reconnecting = new ReconnectingConnection({ connect: { host: "127.0.0.1", port: server.addr.port } });
    await reconnecting.close();
    await reconnecting.close();
    await allClosed("http", {
      "request via a closed Agent": () => request(`http://127.0.0.1:${server.addr.port}/`, { dispatcher: agent }),
      "ReconnectingConnection.ready": () => reconnecting.ready(),
    });
    await server.shutdown();
    await server.shutdown(); // a second shutdown is a no-op
  });
});
