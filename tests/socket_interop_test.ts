// Interop with the runtime's own sockets as the peer. Our calls are
// synchronous, so the tests use non-blocking sockets and yield to the
// runtime's event loop between attempts; every wait is bounded.
import assert from "node:assert/strict";
import { createConnection, createServer, type Server } from "node:net";
import { describe, test } from "node:test";
import { listenTCPSync, Socket } from "../socket/mod.ts";

const yieldToRuntime = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

async function until<T>(attempt: () => T | null, what: string, limitMs = 5000): Promise<T> {
  const end = performance.now() + limitMs;
  for (;;) {
    const value = attempt();
    if (value !== null) return value;
    if (performance.now() > end) throw new Error(`gave up waiting for ${what}`);
    await yieldToRuntime();
  }
}

async function recvExactly(s: Socket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  await until(() => {
    const r = s.recv(out.subarray(got));
    if (r === 0) throw new Error("unexpected end of stream");
    if (r !== null) got += r;
    return got === n ? true : null;
  }, `${n} bytes`);
  return out;
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

describe("interop with the runtime's own sockets", () => {
  test("our client against a node:net echo server", async () => {
    const server: Server = createServer((conn) => conn.pipe(conn));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const client = Socket.create("ipv4", "stream", { nonBlocking: true });
    try {
      client.connectNonBlocking("127.0.0.1", port);
      await until(() => (client.finishConnect() ? true : null), "connect");
      const data = pattern(300_000);
      let sent = 0;
      const received = new Uint8Array(data.length);
      let got = 0;
      await until(() => {
        if (sent < data.length) sent += client.send(data.subarray(sent));
        const r = client.recv(received.subarray(got));
        if (r === 0) throw new Error("echo server closed early");
        if (r !== null) got += r;
        return got === data.length ? true : null;
      }, "echo");
      assert.deepEqual(received, data);
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a node:net client against our listener; its close is seen as end of stream", async () => {
    using server = listenTCPSync("127.0.0.1", 0);
    const addr = server.localAddress();
    const port = addr.family === "unix" ? 0 : addr.port;
    const chunks: Buffer[] = [];
    const conn = createConnection({ port, host: "127.0.0.1" });
    conn.on("data", (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((resolve) => conn.on("end", () => resolve()));
    const connected = new Promise<void>((resolve) => conn.once("connect", () => resolve()));
    using peer = await until(() => server.accept(), "accept");
    await connected;
    conn.write(Buffer.from("ping from node"));
    const got = await recvExactly(peer, 14);
    assert.equal(new TextDecoder().decode(got), "ping from node");
    peer.sendAll(new TextEncoder().encode("pong"));
    peer.shutdown("write");
    await ended;
    assert.equal(Buffer.concat(chunks).toString(), "pong");
    conn.end();
    const buf = new Uint8Array(8);
    const r = await until(() => peer.recv(buf), "end of stream");
    assert.equal(r, 0);
  });

  test("the runtime's native listener (Deno.listen / Bun.listen / node:net) as the peer", async () => {
    const g = globalThis as {
      Deno?: { listen(o: { hostname: string; port: number }): { addr: { port: number }; accept(): Promise<{ read(b: Uint8Array): Promise<number | null>; write(b: Uint8Array): Promise<number>; close(): void }>; close(): void } };
      Bun?: { listen(o: unknown): { port: number; stop(force?: boolean): void } };
    };
    const client = Socket.create("ipv4", "stream", { nonBlocking: true });
    const message = new TextEncoder().encode("native-peer");
    try {
      if (g.Deno) {
        const listener = g.Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const served = (async () => {
          const conn = await listener.accept();
          const buf = new Uint8Array(64);
          let got = 0;
          while (got < message.length) {
            const n = await conn.read(buf.subarray(got));
            if (n === null) break;
            got += n;
          }
          await conn.write(buf.subarray(0, got));
          conn.close();
        })();
        client.connectNonBlocking("127.0.0.1", listener.addr.port);
        await until(() => (client.finishConnect() ? true : null), "connect");
        client.sendAll(message);
        assert.deepEqual(await recvExactly(client, message.length), message);
        await served;
        listener.close();
      } else if (g.Bun) {
        const server = g.Bun.listen({
          hostname: "127.0.0.1",
          port: 0,
          socket: { data(sock: { write(d: Uint8Array): number }, data: Uint8Array) { sock.write(data); } },
        });
        client.connectNonBlocking("127.0.0.1", server.port);
        await until(() => (client.finishConnect() ? true : null), "connect");
        client.sendAll(message);
        assert.deepEqual(await recvExactly(client, message.length), message);
        server.stop(true);
      } else {
        const server = createServer((c) => c.pipe(c));
        await new Promise<void>((resolve) => server.listen(0, "::1", resolve));
        const v6 = Socket.create("ipv6", "stream", { nonBlocking: true });
        try {
          v6.connectNonBlocking("::1", (server.address() as { port: number }).port);
          await until(() => (v6.finishConnect() ? true : null), "connect");
          v6.sendAll(message);
          assert.deepEqual(await recvExactly(v6, message.length), message);
        } finally {
          v6.close();
          await new Promise((resolve) => server.close(resolve));
        }
      }
    } finally {
      client.close();
    }
  });
});
