// listenTLS({ maxHandshakes }), listen({ tls: { maxHandshakes } }) and
// serve({ tls: { maxHandshakes } }): a
// listener holds at most that many server handshakes in progress. Raw TCP
// clients that connect and never send a ClientHello fill the slots; the
// next connection is closed at once, unread (no SSL made), counted in
// handshakesRefused and TLS_STATS.refused and logged once (rate-limited);
// a handshake that fails or finishes frees its slot, and none stays taken.
import assert from "node:assert/strict";
import net from "node:net";
import * as nodeTls from "node:tls";
import { after, describe, test } from "node:test";
import { Logger, type LogRecord } from "../core/log.ts";
import type { Connection } from "../poll/connection.ts";
import { listen } from "../poll/listener.ts";
import { serve } from "../http/server/mod.ts";
import { DEFAULT_MAX_TLS_HANDSHAKES, listenTLS, type TLSListener } from "../tls/mod.ts";
import { TLS_STATS } from "../tls/tls_stats.ts";
import { tlsTestBed } from "./tls_helpers.ts";

const sockets: net.Socket[] = [];
after(() => {
  for (const s of sockets.splice(0)) s.destroy();
});
const { cert: CERT, key: KEY, ca: CA, closers } = tlsTestBed();

const echo = { data: (c: Connection, d: Uint8Array) => void c.send(d) };
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** A raw TCP client that connects and sends nothing; resolves once connected. */
function silent(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", () => {});
    s.once("error", reject);
    sockets.push(s);
  });
}

/** Resolves with the bytes a raw client got before the server closed it (it sends nothing). */
function closedUnread(port: number): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    const s = net.connect({ host: "127.0.0.1", port });
    sockets.push(s);
    s.on("data", (d: Uint8Array) => (got += d.length));
    s.on("error", () => {});
    s.once("close", () => resolve(got));
  });
}

/** A node:tls round trip of one byte: "echoed", or the error code that ended it. */
function tlsEcho(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = nodeTls.connect({ host: "127.0.0.1", servername: "localhost", port, ca: CA }, () => s.write(new Uint8Array([7])));
    s.once("data", () => {
      s.destroy();
      resolve("echoed");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.once("close", () => resolve("closed"));
  });
}

/** A node:tls handshake (ALPN http/1.1): "secure", or the error code that ended it. */
function tlsHandshake(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = nodeTls.connect({ host: "127.0.0.1", servername: "localhost", port, ca: CA, ALPNProtocols: ["http/1.1"] }, () => {
      s.destroy();
      resolve("secure");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.once("close", () => resolve("closed"));
  });
}

async function until(what: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !what(); i++) await tick();
  assert.ok(what(), "condition not reached");
}

describe("listenTLS maxHandshakes", () => {
  test("refuses a bad value like other options", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 31, "4" as unknown as number]) {
      assert.throws(() => listenTLS({ port: 0, cert: CERT, key: KEY, maxHandshakes: bad, handler: echo }), RangeError, String(bad));
    }
    assert.equal(DEFAULT_MAX_TLS_HANDSHAKES, 1024);
  });

  test("past the bound a connection is closed unread; a failed or finished handshake frees a slot", async () => {
    const records: LogRecord[] = [];
    const logger = new Logger({ level: "warn", sink: (_line, record) => records.push(record) });
    const server: TLSListener = listenTLS({ host: "127.0.0.1", port: 0, cert: CERT, key: KEY, maxHandshakes: 3, handler: echo, logger });
    closers.push(() => server.close());
    const before = TLS_STATS.refused;
    const held = [await silent(server.port), await silent(server.port), await silent(server.port)];
    await until(() => server.handshaking === 3);
    // The next ones are closed at once, without a byte of TLS.
    assert.equal(await closedUnread(server.port), 0);
    assert.equal(await closedUnread(server.port), 0);
    assert.equal(server.handshakesRefused, 2);
    assert.equal(TLS_STATS.refused - before, 2);
    assert.equal(server.handshaking, 3);
    const warned = records.filter((r) => r.msg.includes("maxHandshakes"));
    assert.equal(warned.length, 1, "logged once, rate-limited");
    assert.equal(warned[0]!.fields.maxHandshakes, 3);
    // A client that goes away fails its handshake: its slot is free for a real one.
    held[0]!.destroy();
    await until(() => server.handshaking === 2);
    assert.equal(await tlsEcho(server.port), "echoed");
    await until(() => server.handshaking === 2);
    // Finished handshakes free their slots: more TLS clients than the bound, one after another.
    held[1]!.destroy();
    held[2]!.destroy();
    await until(() => server.handshaking === 0);
    for (let i = 0; i < 5; i++) assert.equal(await tlsEcho(server.port), "echoed");
    await until(() => server.handshaking === 0);
    assert.equal(server.handshakesRefused, 2);
  });

  test("listen({ tls: { maxHandshakes } }) holds the same bound", async () => {
    const server = listen({ host: "127.0.0.1", port: 0, tls: { cert: CERT, key: KEY, maxHandshakes: 1 }, handler: echo });
    closers.push(() => server.close());
    // The acceptor is loaded on demand: one handshake first, then the kernel hands connections over in order.
    assert.equal(await tlsEcho(server.port), "echoed");
    const before = TLS_STATS.refused;
    const held = await silent(server.port);
    assert.equal(await closedUnread(server.port), 0);
    assert.equal(TLS_STATS.refused - before, 1);
    held.destroy();
    let answer = "";
    for (let i = 0; i < 200 && answer !== "echoed"; i++) answer = await tlsEcho(server.port);
    assert.equal(answer, "echoed");
  });

  test("serve({ tls: { maxHandshakes } }) passes the bound to its listener", async () => {
    const server = serve({ port: 0, hostname: "127.0.0.1", tls: { cert: CERT, key: KEY, maxHandshakes: 1 }, fetch: () => new Response("ok") });
    closers.push(() => server.shutdown({ deadlineMs: 1000 }));
    const port = server.addr.port;
    const before = TLS_STATS.refused;
    const held = await silent(port);
    assert.equal(await closedUnread(port), 0);
    assert.equal(TLS_STATS.refused - before, 1);
    held.destroy();
    let answer = "";
    for (let i = 0; i < 200 && answer !== "secure"; i++) answer = await tlsHandshake(port);
    assert.equal(answer, "secure");
  });
});
