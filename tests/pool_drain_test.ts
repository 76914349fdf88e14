// ConnectionPool with real loopback connections: limits through the accept
// helpers, a drain whose connections in flight finish in time (nothing lost),
// one that times out and force-closes, idle cleanup on the loop's timers,
// prewarm through a Connector.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { PoolError, SocketError } from "../core/errors.ts";
import { connect, type Connection, listen, type Listener } from "../poll/mod.ts";
import { type ConnectorOptions, defaultConnector } from "../poll/connector.ts";
import { acceptBatch, acceptLimited, acceptProtected, ConnectionPool, ListenProtection } from "../pool/mod.ts";

const servers: Listener[] = [];
after(() => {
  for (const s of servers) s.close();
});

function server(): Listener {
  const s = listen({ host: "127.0.0.1", port: 0 });
  servers.push(s);
  return s;
}

/** Reads until end of stream; the bytes, and whether it ended with a reset. */
async function readAll(conn: Connection): Promise<{ text: string; reset: boolean }> {
  let text = "";
  try {
    for (;;) {
      const chunk = await conn.read();
      if (chunk === null) return { text, reset: false };
      text += new TextDecoder().decode(chunk);
    }
  } catch (err) {
    if (err instanceof SocketError && err.code === "ECONNRESET") return { text, reset: true };
    throw err;
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("ConnectionPool on real connections", () => {
  test("acceptLimited keeps maxConnections: the one over is closed; acceptBatch takes what is pending", async () => {
    const listener = server();
    const pool = new ConnectionPool({ maxConnections: 2, cleanupIntervalMs: 0 });
    const clients = await Promise.all([1, 2, 3].map(() => connect({ port: listener.port })));
    await until(() => listener.pending === 3, "three pending connections");
    const batch = await acceptBatch(pool, listener, 8);
    assert.equal(batch.length, 2);
    assert.equal(pool.count("127.0.0.1"), 2);
    // The third was refused: it ends.
    assert.equal((await readAll(clients[2]!)).text, "");
    // The two held are in the pool until it lets them go.
    assert.equal(batch.every((c) => !c.closed), true);
    assert.equal(pool.drainForce(), 2);
    for (const c of clients.slice(0, 2)) assert.equal((await readAll(c)).text, "");
    for (const c of clients) await c.close();
  });

  test("acceptProtected applies the protection before the pool", async () => {
    const listener = server();
    const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
    const protect = new ListenProtection({ maxPerIp: 1 });
    const a = await connect({ port: listener.port });
    const first = await acceptProtected(pool, listener, protect);
    assert.ok(first);
    const b = await connect({ port: listener.port });
    const c = await connect({ port: listener.port });
    const waiting = acceptProtected(pool, listener, protect); // refuses b, waits for another
    assert.equal((await readAll(b)).text, "");
    await first.close();
    await until(() => protect.connections("127.0.0.1") === 0, "the close to be counted");
    const d = await connect({ port: listener.port });
    const next = await waiting;
    assert.ok(next);
    assert.equal(protect.stats().refusedPerIp >= 1, true);
    pool.drainForce();
    for (const x of [a, b, c, d]) await x.close();
  });

  test("a drain whose connections in flight finish in time loses nothing", async () => {
    const listener = server();
    const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
    const clients = await Promise.all([1, 2, 3].map(() => connect({ port: listener.port })));
    const conns: Connection[] = [];
    for (let i = 0; i < 3; i++) {
      const conn = (await acceptLimited(pool, listener))!;
      conns.push(conn);
    }
    pool.release(conns[2]!); // idle: closed at once by the drain
    const drained = pool.drain(30_000);
    assert.equal(pool.state, "draining");
    assert.equal(await acceptLimited(pool, listener), null); // admits nothing new
    for (const conn of conns.slice(0, 2)) {
      await conn.write(new TextEncoder().encode("response in flight"));
      pool.release(conn); // done: closed gracefully
    }
    assert.deepEqual(await drained, { forced: 0 });
    assert.equal(pool.state, "stopped");
    const results = await Promise.all(clients.map(readAll));
    assert.deepEqual(results.map((r) => r.text), ["response in flight", "response in flight", ""]);
    assert.ok(results.every((r) => !r.reset));
    for (const c of clients) await c.close();
  });

  test("a drain that times out force-closes what is left", async () => {
    const listener = server();
    const pool = new ConnectionPool({ cleanupIntervalMs: 0 });
    const client = await connect({ port: listener.port });
    const conn = (await acceptLimited(pool, listener))!;
    const result = await pool.drain(30); // conn is never released
    assert.deepEqual(result, { forced: 1 });
    assert.equal(conn.closed, true);
    const end = await readAll(client);
    assert.equal(end.text, "");
    await client.close();
  });

  test("a validate that throws refuses the connection (closed, not held): get goes on to the next, a drain has nothing to wait for", async () => {
    // Found in the eleventh session's red team: get() took the entry off the
    // idle stack, then validate threw out of get(): the connection stayed
    // active for good, held by nobody, and a drain waited for it until its
    // deadline (forced: 1).
    const listener = server();
    let calls = 0;
    const pool = new ConnectionPool<Connection>({
      cleanupIntervalMs: 0,
      validate: () => {
        if (++calls === 1) throw new Error("validate failed");
        return true;
      },
    });
    const clients = [await connect({ port: listener.port }), await connect({ port: listener.port })];
    const [a, b] = [(await acceptLimited(pool, listener))!, (await acceptLimited(pool, listener))!];
    pool.release(a);
    pool.release(b);
    const got = pool.get("127.0.0.1"); // acceptLimited keys by the peer's address
    assert.equal(calls, 2);
    assert.equal(got, a); // b (the last released) was refused and closed
    assert.equal(b.closed, true);
    assert.equal(pool.size, 1);
    assert.equal(pool.checkConnection(a), "healthy");
    calls = 0;
    assert.equal(pool.checkConnection(a), "error"); // the throw counts as a refusal here too
    pool.release(a);
    assert.deepEqual(await pool.drain(60_000), { forced: 0 });
    assert.equal(a.closed, true);
    for (const c of clients) await c.close();
  });

  test("idle connections are closed by the periodic cleanup", async () => {
    const listener = server();
    const idled: Connection[] = [];
    const pool = new ConnectionPool({ idleTimeoutMs: 20, cleanupIntervalMs: 10, onIdle: (c) => idled.push(c) });
    const client = await connect({ port: listener.port });
    const conn = (await acceptLimited(pool, listener))!;
    pool.release(conn);
    assert.equal((await readAll(client)).text, ""); // the server closed it
    await until(() => pool.size === 0, "the pool to forget it");
    assert.deepEqual(idled, [conn]);
    assert.equal(pool.stats().idleCleanups, 1);
    await client.close();
    pool.drainForce();
  });

  test("prewarm opens idle client connections through the connector; get reuses them", async () => {
    const listener = server();
    const origin = `127.0.0.1:${listener.port}`;
    const pool = new ConnectionPool({ maxConnections: 3, cleanupIntervalMs: 0 });
    assert.equal(await pool.prewarm(origin, 2, { host: "127.0.0.1", port: listener.port }), 2);
    assert.equal(pool.idle, 2);
    assert.equal(await pool.prewarm(origin, 2, { host: "127.0.0.1", port: listener.port }), 0);
    const conn = pool.get(origin);
    assert.ok(conn);
    assert.equal(pool.checkConnection(conn), "healthy");
    assert.equal(pool.stats().reused, 1);
    const accepted = [(await listener.accept())!, (await listener.accept())!];
    const result = await pool.drain(1000);
    assert.equal(result.forced, 1); // the one handed out and never released
    for (const a of accepted) await a.close();
  });

  test("prewarm with a connect that fails: rejects with its error once every connect settled; those that opened are pooled, none leaks", async () => {
    const listener = server();
    const origin = `127.0.0.1:${listener.port}`;
    const pool = new ConnectionPool({ maxConnections: 8, cleanupIntervalMs: 0 });
    const opened: Connection[] = [];
    let calls = 0;
    const failure = new SocketError("ECONNREFUSED", "refused by the test's connector");
    // The second connect fails at once, before the others have opened.
    const connector = async (options: ConnectorOptions): Promise<Connection> => {
      if (++calls === 2) throw failure;
      const conn = await defaultConnector(options);
      opened.push(conn);
      return conn;
    };
    await assert.rejects(pool.prewarm(origin, 3, { host: "127.0.0.1", port: listener.port }, connector), (e) => e === failure);
    assert.equal(opened.length, 2, "the other connects finished before prewarm rejected");
    for (const conn of opened) {
      assert.equal(conn.closed, false);
      assert.ok(pool.has(conn), "an opened connection is in the pool, not lost");
    }
    assert.equal(pool.idle, 2);
    const accepted = [(await listener.accept())!, (await listener.accept())!];
    const result = await pool.drain(1000);
    assert.equal(result.forced, 0);
    for (const conn of opened) assert.equal(conn.closed, true, "the drain closed it");
    for (const a of accepted) await a.close();
  });

  test("prewarm: a connection that closed before it was pooled is skipped, the others are still pooled", async () => {
    const listener = server();
    const origin = `127.0.0.1:${listener.port}`;
    const pool = new ConnectionPool({ maxConnections: 8, cleanupIntervalMs: 0 });
    const opened: Connection[] = [];
    let calls = 0;
    const added = await pool.prewarm(origin, 3, { host: "127.0.0.1", port: listener.port }, async (options) => {
      const first = ++calls === 1;
      const conn = await defaultConnector(options);
      opened.push(conn);
      if (first) conn.abort(); // closed before prewarm pools it
      return conn;
    });
    assert.equal(added, 2);
    assert.equal(pool.idle, 2);
    for (const conn of opened) assert.ok(conn.closed || pool.has(conn), "every opened connection is closed or pooled");
    pool.drainForce();
    for (let i = 0; i < 3; i++) await (await listener.accept())!.close();
  });

  test("prewarm on a pool that starts draining while it connects: the connects are given up (ERR_POOL_DRAINING), nothing opened is leaked", async () => {
    const listener = server();
    const origin = `127.0.0.1:${listener.port}`;
    const pool = new ConnectionPool({ maxConnections: 8, cleanupIntervalMs: 0 });
    const opened: Connection[] = [];
    const warming = pool.prewarm(origin, 2, { host: "127.0.0.1", port: listener.port }, async (options) => {
      const conn = await defaultConnector(options);
      opened.push(conn);
      return conn;
    });
    const drained = pool.drain(1000);
    await assert.rejects(warming, (e: unknown) => e instanceof PoolError && e.code === "ERR_POOL_DRAINING");
    await drained;
    assert.equal(pool.size, 0);
    await until(() => opened.every((c) => c.closed), "the opened connections to close");
  });
});
