// The logger option of serve, ConnectionPool and ReconnectingConnection: each writes
// structured records (level, msg, fields with the error) to the Logger it is given,
// with real connections on 127.0.0.1; without one, nothing is written. serve's
// logger also gets the refusals of a protection it made from options.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Logger, type LogRecord } from "../core/log.ts";
import { serve } from "../http/server/serve.ts";
import { connect, type Connection, listen } from "../poll/mod.ts";
import { ConnectionPool } from "../pool/mod.ts";
import { ReconnectingConnection } from "../socket/reconnect.ts";

function recorder(level: "debug" | "info" = "debug"): { logger: Logger; records: LogRecord[]; lines: string[] } {
  const records: LogRecord[] = [];
  const lines: string[] = [];
  const logger = new Logger({
    level,
    sink: (line, record) => {
      lines.push(line);
      records.push(record);
    },
  });
  return { logger, records, lines };
}

function find(records: readonly LogRecord[], msg: string): LogRecord {
  const r = records.find((x) => x.msg === msg);
  assert.ok(r !== undefined, `no record "${msg}" in ${JSON.stringify(records.map((x) => x.msg))}`);
  return r;
}

describe("components log through the logger they are given", () => {
  test("serve: listening, a handler that threw (no onError), shutdown", async () => {
    const { logger, records, lines } = recorder("info");
    const server = serve({
      port: 0,
      logger,
      fetch: (request) => {
        if (new URL(request.url).pathname === "/throw") throw new RangeError("handler broke");
        return new Response("ok");
      },
    });
    const listening = find(records, "serve: listening");
    assert.equal(listening.level, "info");
    assert.equal(listening.fields.port, server.addr.port);
    const base = `http://127.0.0.1:${server.addr.port}`;
    assert.equal(await (await fetch(`${base}/`)).text(), "ok");
    const failed = await fetch(`${base}/throw`);
    assert.equal(failed.status, 500);
    await failed.text();
    const record = find(records, "serve: request failed");
    assert.equal(record.level, "error");
    assert.ok(record.fields.error instanceof RangeError);
    assert.equal((record.fields.error as Error).message, "handler broke");
    // the JSON line carries the error as name and message
    const line = JSON.parse(lines[records.indexOf(record)]!) as { error: { name: string; message: string } };
    assert.deepEqual(line.error, { name: "RangeError", message: "handler broke" });
    await server.shutdown({ deadlineMs: 1000 });
    assert.equal(find(records, "serve: shutting down").level, "info");
    assert.equal(records.filter((r) => r.level === "error").length, 1);
  });

  test("serve: protect given as options logs its refusals to the server's logger (DEBUG, address and reason)", async () => {
    const { logger, records } = recorder("debug");
    const server = serve({ port: 0, host: "127.0.0.1", logger, protect: { maxPerIp: 1 }, fetch: () => new Response("ok") });
    const held = await connect({ port: server.addr.port });
    try {
      await held.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
      assert.ok(await held.read()); // admitted and answered
      const second = await connect({ port: server.addr.port }).catch(() => null);
      for (let i = 0; i < 3000 && server.rejected.protect === 0; i++) await new Promise((r) => setTimeout(r, 2));
      second?.abort();
      const refused = find(records, "protect: connection refused");
      assert.equal(refused.level, "debug");
      assert.deepEqual([refused.fields.ip, refused.fields.reason], ["127.0.0.1", "perIp"]);
    } finally {
      held.abort();
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("serve: a logger that is no Logger is a TypeError", () => {
    assert.throws(() => serve({ port: 0, fetch: () => new Response("x"), logger: { error() {} } as unknown as Logger }), TypeError);
  });

  test("ConnectionPool: drain phases and connections force-closed at the deadline", async () => {
    const { logger, records } = recorder("debug");
    const listener = listen({ host: "127.0.0.1", port: 0 });
    const accepted: Connection[] = [];
    const clients = await Promise.all([1, 2].map(() => connect({ host: "127.0.0.1", port: listener.port })));
    try {
      for (let i = 0; i < 2; i++) {
        const c = await listener.accept();
        assert.ok(c !== null);
        accepted.push(c);
      }
      const pool = new ConnectionPool({ cleanupIntervalMs: 0, logger });
      for (const c of accepted) pool.add(c, "k"); // added in use
      assert.equal(pool.release(accepted[0]!), true); // one idle (the drain closes it), one in use (the drain waits)
      pool.drain(60_000);
      const draining = find(records, "pool: draining");
      assert.equal(draining.level, "info");
      assert.equal(draining.fields.active, 1);
      assert.equal(pool.drainForce(), 1);
      const forced = find(records, "pool: connections force-closed at the drain deadline");
      assert.equal(forced.level, "warn");
      assert.equal(forced.fields.forced, 1);
      assert.equal(find(records, "pool: stopped").fields.forced, 1);
      assert.deepEqual(await pool.drainWait(), { forced: 1 });
    } finally {
      for (const c of clients) c.abort();
      listener.close();
    }
  });

  test("ReconnectingConnection: failed attempts, giving up, connecting", async () => {
    // a port nothing listens on: a listener opened and closed
    const gone = listen({ host: "127.0.0.1", port: 0 });
    const port = gone.port;
    gone.close();
    const { logger, records } = recorder("debug");
    const link = new ReconnectingConnection({ connect: { host: "127.0.0.1", port }, maxAttempts: 2, initialDelayMs: 1, jitter: 0, breaker: false, logger });
    await assert.rejects(link.ready(), (e: Error & { code?: string }) => e.code === "ECONNREFUSED");
    const failures = records.filter((r) => r.msg === "reconnect: attempt failed");
    assert.equal(failures.length, 2);
    assert.equal(failures[0]!.level, "warn");
    assert.equal(failures[0]!.fields.attempt, 1);
    assert.equal((failures[0]!.fields.error as { code?: string }).code, "ECONNREFUSED");
    assert.equal(find(records, "reconnect: gave up").level, "error");
    link.close();

    const listener = listen({ host: "127.0.0.1", port: 0 });
    try {
      const ok = recorder("info");
      const up = new ReconnectingConnection({ connect: { host: "127.0.0.1", port: listener.port }, logger: ok.logger });
      await up.ready();
      assert.deepEqual(ok.records.map((r) => [r.level, r.msg, r.fields.attempt]), [["info", "reconnect: connected", 1]]);
      up.close();
    } finally {
      listener.close();
    }
  });
});
