// Per-IP limits and SYN-flood protection on a real listener: clients on
// 127.0.0.1, 127.0.0.2 and 127.0.0.3 (a blocking socket bound to the source
// address, then adopted by the loop).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { SocketError } from "../core/errors.ts";
import { adopt, connect, type Connection, listen, type Listener } from "../poll/mod.ts";
import { ListenProtection } from "../pool/mod.ts";
import { Socket } from "../socket/socket.ts";

const servers: Listener[] = [];
after(() => {
  for (const s of servers) s.close();
});

function echoServer(protect: ListenProtection): Listener {
  const server = listen({ host: "127.0.0.1", port: 0, protect, handler: { data: (c, d) => void c.send(d) } });
  servers.push(server);
  return server;
}

/** Connects from `source` (a loopback address) to 127.0.0.1:port. */
function connectFrom(source: string, port: number): Connection {
  const s = Socket.create("ipv4");
  try {
    s.bind(source, 0);
    s.connect("127.0.0.1", port);
  } catch (err) {
    s.close();
    throw err;
  }
  return adopt(s);
}

/** Whether the server echoes on the connection `open` makes (true) or refused it with a close (false). */
async function echoes(open: () => Promise<Connection> | Connection): Promise<boolean> {
  let conn: Connection | undefined;
  try {
    conn = await open();
    await conn.write(new Uint8Array([7]));
    const got = await conn.read();
    return got !== null && got[0] === 7;
  } catch (err) {
    if (err instanceof SocketError && (err.code === "ECONNRESET" || err.code === "EPIPE")) return false;
    throw err;
  } finally {
    await conn?.close().catch(() => {});
  }
}

/** Waits (bounded) for the server side to catch up. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("listen({ protect }): per-IP limits", () => {
  test("max connections per IP: the one over is refused with a close; another address is served", async () => {
    const protect = new ListenProtection({ maxPerIp: 2 });
    const server = echoServer(protect);
    const held = [await connect({ port: server.port }), await connect({ port: server.port })];
    for (const c of held) {
      await c.write(new Uint8Array([1]));
      assert.ok(await c.read());
    }
    assert.equal(await echoes(() => connect({ port: server.port })), false);
    assert.equal(protect.stats().refusedPerIp, 1);
    assert.equal(await echoes(() => connectFrom("127.0.0.2", server.port)), true);
    await held[0]!.close();
    await until(() => protect.connections("127.0.0.1") === 1, "the server to see the close");
    assert.equal(await echoes(() => connect({ port: server.port })), true);
    await held[1]!.close();
  });

  test("unique IPs: a third address is refused while two have connections", async () => {
    const protect = new ListenProtection({ maxIps: 2 });
    const server = echoServer(protect);
    const a = await connect({ port: server.port });
    const b = connectFrom("127.0.0.2", server.port);
    for (const c of [a, b]) {
      await c.write(new Uint8Array([1]));
      assert.ok(await c.read());
    }
    assert.equal(await echoes(() => connectFrom("127.0.0.3", server.port)), false);
    assert.equal(protect.stats().refusedTooManyIps, 1);
    await a.close();
    await b.close();
  });

  test("connection rate per IP with burst (clock held still, then advanced)", async () => {
    const clock = new ManualClock();
    const protect = new ListenProtection({ ratePerIp: { perSecond: 1, burst: 3 }, clock });
    const server = echoServer(protect);
    for (let i = 0; i < 3; i++) assert.equal(await echoes(() => connect({ port: server.port })), true, `burst ${i}`);
    assert.equal(await echoes(() => connect({ port: server.port })), false);
    assert.equal(await echoes(() => connectFrom("127.0.0.2", server.port)), true); // its own bucket
    clock.advance(1000);
    assert.equal(await echoes(() => connect({ port: server.port })), true);
    assert.equal(await echoes(() => connect({ port: server.port })), false);
    assert.equal(protect.stats().refusedRate, 2);
  });

  test("accept() mode: only admitted connections come out of accept()", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    const server = listen({ host: "127.0.0.1", port: 0, protect });
    servers.push(server);
    const a = await connect({ port: server.port });
    const first = (await server.accept())!;
    assert.equal(protect.connections("127.0.0.1"), 1);
    const refused = await connect({ port: server.port }).then((b) => b.read().finally(() => b.close())).catch(() => null);
    assert.equal(refused, null);
    assert.equal(server.pending, 0);
    await first.close();
    await until(() => protect.connections("127.0.0.1") === 0, "the close to be counted");
    const c = connectFrom("127.0.0.2", server.port);
    const second = (await server.accept())!;
    assert.equal(second.remoteAddress.family === "ipv4" && second.remoteAddress.host, "127.0.0.2");
    await second.close();
    await a.close();
    await c.close();
  });

  test("a client that closes and reconnects at once is never refused for its closed connection (maxPerIp 1)", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    const server = echoServer(protect);
    for (let i = 0; i < 60; i++) {
      // Half the time with a request in flight, so that the close may come with the server's reply unread.
      const conn = await connect({ port: server.port });
      await conn.write(new Uint8Array([i & 0xff]));
      if (i % 2 === 0) assert.equal((await conn.read())?.[0], i & 0xff, `round ${i}`);
      await conn.close();
    }
    assert.equal(protect.stats().refusedPerIp, 0);
    assert.equal(await echoes(() => connect({ port: server.port })), true);
    // The limit still holds for connections that are open.
    const held = await connect({ port: server.port });
    await held.write(new Uint8Array([1]));
    assert.ok(await held.read());
    assert.equal(await echoes(() => connect({ port: server.port })), false);
    assert.equal(protect.stats().refusedPerIp, 1);
    await held.close();
  });

  test("accept() mode: a connection the peer closed frees its slot before the server reads its end, for at most the per-IP limit of connections still open", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    const server = listen({ host: "127.0.0.1", port: 0, protect });
    servers.push(server);
    const accepted: Connection[] = [];
    for (let i = 0; i < 2; i++) {
      const client = await connect({ port: server.port });
      accepted.push((await server.accept())!); // held open by the server, never read
      await client.close();
    }
    // The first one's slot was freed for the second while the server still
    // holds it open; the second cannot be freed too while the first is open.
    assert.equal(protect.stats().refusedPerIp, 0);
    assert.ok(protect.stats().freedEarly >= 1, JSON.stringify(protect.stats()));
    assert.equal(protect.stats().open, 2);
    assert.equal(await echoes(() => connect({ port: server.port })), false);
    assert.equal(protect.stats().refusedPerIp, 1);
    // Once the server closes the first, the second's slot can be freed early.
    await accepted.shift()!.close();
    const next = await connect({ port: server.port });
    accepted.push((await server.accept())!);
    assert.equal(protect.stats().refusedPerIp, 1);
    assert.equal(protect.stats().open, 2);
    await next.close();
    for (const c of accepted) await c.close();
    assert.equal(protect.stats().open, 0);
  });

  test("clients that half-close and never read hold at most twice maxPerIp connections open", async () => {
    const protect = new ListenProtection({ maxPerIp: 2 });
    const server = listen({ host: "127.0.0.1", port: 0, protect });
    servers.push(server);
    const clients: Connection[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        const client = await connect({ port: server.port });
        clients.push(client);
        await client.end(); // FIN: done sending, still reading (never does)
      } catch (err) {
        // A refused one may be reset before its connect or FIN completes.
        if (!(err instanceof SocketError && (err.code === "ECONNRESET" || err.code === "EPIPE"))) throw err;
      }
      await until(() => protect.stats().admitted + protect.stats().refusedPerIp === i + 1, `connection ${i} decided`);
    }
    const { admitted, refusedPerIp, open } = protect.stats();
    assert.equal(admitted, 4, JSON.stringify(protect.stats())); // 2 counted + 2 freed early while still open
    assert.equal(refusedPerIp, 6);
    assert.equal(open, 4);
    const accepted: Connection[] = [];
    for (let i = 0; i < admitted; i++) accepted.push((await server.accept())!);
    for (const c of clients) await c.close();
    for (const c of accepted) await c.close();
    assert.equal(protect.stats().open, 0);
  });

  test("a dual-stack listener counts IPv4 clients by their IPv4 address, ::1 by itself; key groups as asked", async () => {
    const protect = new ListenProtection({ maxPerIp: 1 });
    const server = listen({ host: "::", port: 0, protect, handler: { data: (c, d) => void c.send(d) } });
    servers.push(server);
    const conns: Connection[] = [];
    for (const source of ["127.0.0.2", "127.0.0.3"]) {
      const c = connectFrom(source, server.port);
      await c.write(new Uint8Array([1]));
      assert.ok(await c.read(), `${source} is served`); // not one ::ffff:0:0/64 for every IPv4 client
      conns.push(c);
    }
    const six = await connect({ host: "::1", port: server.port });
    await six.write(new Uint8Array([1]));
    assert.ok(await six.read());
    conns.push(six);
    assert.equal(protect.connections("127.0.0.2"), 1);
    assert.equal(protect.connections("::ffff:127.0.0.3"), 1);
    assert.equal(protect.connections("::1"), 1);
    assert.equal(await echoes(() => connectFrom("127.0.0.2", server.port)), false);
    assert.equal(await echoes(() => connect({ host: "::1", port: server.port })), false);
    assert.equal(protect.stats().refusedPerIp, 2);
    for (const c of conns) await c.close();

    const one = new ListenProtection({ maxPerIp: 1, key: () => "everyone" });
    const shared = listen({ host: "::", port: 0, protect: one, handler: { data: (c, d) => void c.send(d) } });
    servers.push(shared);
    const first = await connect({ host: "::1", port: shared.port });
    await first.write(new Uint8Array([1]));
    assert.ok(await first.read());
    assert.equal(await echoes(() => connectFrom("127.0.0.2", shared.port)), false); // the same key
    assert.equal(one.connections("127.0.0.9"), 1);
    await first.close();
    assert.throws(() => new ListenProtection({ key: "x" as never }), TypeError);
  });

  test("bandwidth per connection: reading pauses and every byte still arrives", async () => {
    const protect = new ListenProtection({ bandwidth: { bytesPerSecond: 20_000, burst: 1000 } });
    const server = echoServer(protect);
    const conn = await connect({ port: server.port });
    const payload = new Uint8Array(5000).fill(3);
    await conn.write(payload);
    let got = 0;
    while (got < payload.length) {
      const chunk = await conn.read();
      assert.ok(chunk);
      got += chunk.length;
    }
    assert.equal(got, payload.length);
    assert.ok(protect.stats().bandwidthPauses >= 1);
    await conn.close();
  });
});

describe("listen({ protect }): SYN-flood protection", () => {
  test("a burst of connect/close from one address is throttled then blocked while another is served", async () => {
    const clock = new ManualClock(); // no decay during the burst
    const protect = new ListenProtection({ syn: { clock }, clock, deferAcceptSec: 1 });
    const server = echoServer(protect);
    assert.ok(["off", "on", "always", "unknown"].includes(protect.synCookies));
    const guard = protect.guard!;
    for (let i = 0; i < 40 && guard.reputation("127.0.0.3") !== "hostile"; i++) {
      const failuresBefore = guard.record("127.0.0.3")?.failures ?? 0;
      const conn = connectFrom("127.0.0.3", server.port);
      await conn.close();
      // The server saw the attempt and, for an admitted one, its close without data.
      await until(() => (guard.record("127.0.0.3")?.failures ?? 0) > failuresBefore || guard.peek("127.0.0.3") === "block", "the attempt to be scored");
    }
    assert.equal(guard.reputation("127.0.0.3"), "hostile");
    assert.equal(await echoes(() => connectFrom("127.0.0.3", server.port)), false);
    assert.ok(protect.stats().refusedBlocked >= 1);
    const actions = guard.stats();
    assert.ok(actions.throttled >= 1 && actions.challenged >= 1 && actions.blocked >= 1, JSON.stringify(actions));
    assert.equal(await echoes(() => connect({ port: server.port })), true);
    assert.equal(guard.reputation("127.0.0.1"), "neutral");
    if (process.platform === "linux") assert.ok(server.socket.options.deferAcceptSec >= 1);
  });

  test("over ::1: a client's reputation is scored under its key, and a hostile key is refused whatever its address", async () => {
    const clock = new ManualClock();
    const protect = new ListenProtection({ syn: { clock, blacklistMs: 60_000 }, clock });
    const server = listen({ host: "::1", port: 0, protect, handler: { data: (c, d) => void c.send(d) } });
    servers.push(server);
    const guard = protect.guard!;
    assert.equal(guard.keyOf("::1"), "::1");
    assert.equal(guard.keyOf("2001:db8:1:2::5"), "2001:db8:1:2::/64");
    for (let i = 0; i < 40 && guard.reputation("::1") !== "hostile"; i++) {
      const failuresBefore = guard.record("::1")?.failures ?? 0;
      const conn = await connect({ host: "::1", port: server.port });
      await conn.close();
      await until(() => (guard.record("::1")?.failures ?? 0) > failuresBefore || guard.peek("::1") === "block", "the attempt to be scored");
    }
    assert.equal(guard.reputation("::1"), "hostile");
    assert.equal(await echoes(() => connect({ host: "::1", port: server.port })), false);
    assert.equal(guard.blacklist.has("::1"), true);
  });

  test("a protect value without admit is a TypeError", () => {
    assert.throws(() => listen({ port: 0, protect: {} as never }), TypeError);
  });
});
