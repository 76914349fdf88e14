// The logger option of TLS (tls/connect_async.ts) and of serve({ tls }):
// a client's failed handshake (verify error, pin mismatch, timeout) at WARN
// with the name verified, the peer's address and the error's code; an
// aborted one at DEBUG; a finished one at DEBUG with version, cipher, ALPN
// and resumption; a server's failed and finished handshakes at DEBUG with
// the client's address. Real peers: openssl s_server / s_client, our own
// client and server, a plaintext client on a TLS port. And serve's HTTP/2
// sessions: resets, GOAWAY and connection errors, from hand-made frames;
// the HTTP client's (Client({ logger })): its connects, TLS handshakes and
// HTTP/2 resets, GOAWAY and connection errors.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SocketTimeoutError, TLSPinError, TLSVerifyError } from "../core/errors.ts";
import { type LogFields, Logger, type LogLevel, type LogRecord } from "../core/log.ts";
import { Client } from "../http/client/client.ts";
import { request } from "../http/client/request.ts";
import { serve } from "../http/server/serve.ts";
import type { Connection } from "../poll/connection.ts";
import { connect, listen } from "../poll/listener.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function recorder(level: LogLevel = "debug"): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: new Logger({ level, sink: (_line, record) => records.push(record) }), records };
}

function named(records: readonly LogRecord[], msg: string): LogRecord[] {
  return records.filter((r) => r.msg === msg);
}

/** Waits (bounded: 2000 turns of 5 ms) until a record named `msg` matching `where` is there. */
async function waitFor(records: readonly LogRecord[], msg: string, where: (fields: LogFields) => boolean = () => true): Promise<LogRecord> {
  for (let i = 0; i < 2000; i++) {
    const found = records.find((r) => r.msg === msg && where(r.fields));
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`no record ${msg}; have: ${records.map((r) => r.msg).join(", ")}`);
}

function serverArgs(extra: string[] = []): string[] {
  const pki = testPKI();
  return ["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, ...extra];
}

async function readUntil(conn: Connection, predicate: (text: string) => boolean): Promise<string> {
  let text = "";
  while (!predicate(text)) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += dec.decode(chunk);
  }
  return text;
}

describe("TLS clients log their handshakes", () => {
  test("against openssl s_server: a finished handshake at DEBUG (version, cipher, ALPN, resumed false then true), the plain connect through the same logger", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs(["-alpn", "h2,http/1.1", "-rev"]));
    try {
      using ctx = new TLSContext({ ca: pki.root, alpn: ["h2"] });
      const { logger, records } = recorder();
      const first = await connectTLS({ host: "localhost", port: server.port, context: ctx, logger });
      const done = named(records, "tls: handshake done");
      assert.equal(done.length, 1);
      const f = done[0]!.fields;
      assert.equal(done[0]!.level, "debug");
      assert.equal(f.role, "client");
      assert.equal(f.host, "localhost");
      assert.match(String(f.address), new RegExp(`:${server.port}$`));
      assert.equal(f.protocol, "TLSv1.3");
      assert.match(String(f.cipher), /^TLS_/);
      assert.equal(f.alpn, "h2");
      assert.equal(f.resumed, false);
      assert.equal(named(records, "connect: connected").length, 1);
      const session = await tlsInfo(first)!.waitSession(5000);
      assert.ok(session !== null, "s_server sent a ticket");
      await first.close();
      const second = await connectTLS({ host: "localhost", port: server.port, context: ctx, session, logger });
      await second.write(enc.encode("again\n"));
      assert.equal(await readUntil(second, (t) => t.includes("\n")), "niaga\n");
      await second.close();
      const both = named(records, "tls: handshake done");
      assert.equal(both.length, 2);
      assert.equal(both[1]!.fields.resumed, true);
      assert.equal(records.filter((r) => r.level !== "debug").length, 0);
    } finally {
      await server.close();
    }
  });

  test("verify error (connect({ tls })), pin mismatch (connectTLS) at WARN with host, address and code; the server logs its side at DEBUG", async () => {
    const pki = testPKI();
    const serverLog = recorder();
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: { open: (c) => void c.close() }, logger: serverLog.logger, onError: () => {} });
    const { logger, records } = recorder();
    // Our client trusts another root: TLSVerifyError.
    await assert.rejects(connect({ host: "localhost", port: server.port, tls: { ca: pki.selfSigned }, logger }), TLSVerifyError);
    const failed = named(records, "tls: handshake failed");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.level, "warn");
    assert.equal(failed[0]!.fields.host, "localhost");
    assert.equal(failed[0]!.fields.code, "ERR_TLS_VERIFY");
    assert.match(String(failed[0]!.fields.address), new RegExp(`:${server.port}$`));
    assert.ok(failed[0]!.fields.error instanceof TLSVerifyError);
    // The server saw the client's alert: DEBUG, the client's address, a code.
    const side = await waitFor(serverLog.records, "tls: handshake failed");
    assert.equal(side.level, "debug");
    assert.equal(side.fields.role, "server");
    assert.match(String(side.fields.address), /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof side.fields.code, "string");
    assert.equal(server.handshakeErrors, 1);
    // A pin that matches nothing: TLSPinError.
    await assert.rejects(connectTLS({ host: "localhost", port: server.port, ca: pki.root, pins: ["sha256/" + "A".repeat(43) + "="], logger }), TLSPinError);
    const pin = named(records, "tls: handshake failed")[1]!;
    assert.equal(pin.level, "warn");
    assert.equal(pin.fields.code, "ERR_TLS_PIN");
    assert.equal(pin.fields.host, "localhost");
    // A good client: the server's finished handshake at DEBUG.
    const good = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
    const done = await waitFor(serverLog.records, "tls: handshake done");
    assert.equal(done.fields.role, "server");
    assert.match(String(done.fields.protocol), /^TLSv1\.[23]$/);
    assert.match(String(done.fields.address), /^127\.0\.0\.1:\d+$/);
    assert.equal(await good.read(), null);
    await good.close();
    assert.ok(named(serverLog.records, "listen: listening").length === 1, "the plain listener under listenTLS got the logger");
    assert.equal(serverLog.records.filter((r) => r.level !== "debug").length, 0);
  });

  test("a handshake that times out is a WARN with code ETIMEDOUT; an aborted one a DEBUG; an INFO logger writes the failure only", async () => {
    // A TCP peer that never speaks TLS.
    const held: Connection[] = [];
    const silent = listen({ host: "127.0.0.1", port: 0, handler: { open: (c) => void held.push(c) } });
    try {
      const info = recorder("info");
      await assert.rejects(connect({ host: "127.0.0.1", port: silent.port, tls: { rejectUnauthorized: false, handshakeTimeoutMs: 150 }, logger: info.logger }), SocketTimeoutError);
      assert.equal(info.records.length, 1);
      const timedOut = info.records[0]!;
      assert.equal(timedOut.msg, "tls: handshake failed");
      assert.equal(timedOut.level, "warn");
      assert.equal(timedOut.fields.code, "ETIMEDOUT");
      assert.equal(timedOut.fields.address, `127.0.0.1:${silent.port}`);
      const { logger, records } = recorder();
      const controller = new AbortController();
      const pending = connectTLS({ host: "127.0.0.1", port: silent.port, rejectUnauthorized: false, handshakeTimeoutMs: 0, signal: controller.signal, logger });
      await waitFor(records, "connect: connected");
      controller.abort();
      await assert.rejects(pending);
      const aborted = named(records, "tls: handshake aborted");
      assert.equal(aborted.length, 1);
      assert.equal(aborted[0]!.level, "debug");
      assert.equal(named(records, "tls: handshake failed").length, 0);
    } finally {
      for (const c of held) c.abort();
      silent.close();
    }
  });

  test("a logger that is no Logger is a TypeError", async () => {
    const bad = { warn() {} } as unknown as Logger;
    await assert.rejects(connectTLS({ host: "localhost", port: 1, logger: bad }), TypeError);
    assert.throws(() => listenTLS({ port: 0, cert: testPKI().chain, key: testPKI().key, logger: bad }), TypeError);
  });
});

describe("TLS servers log their handshakes", () => {
  test("listen({ tls, logger }) against openssl s_client: a client refusing the certificate and a good one, each at DEBUG", async () => {
    const pki = testPKI();
    const { logger, records } = recorder();
    const server = listen({ host: "127.0.0.1", port: 0, tls: { cert: pki.chain, key: pki.key, alpn: ["http/1.1"] }, logger, handler: { open: (c) => void c.close() } });
    try {
      // s_client trusts another root and stops at the verify error (an alert to us).
      const refusing = await runSClient(server.port, ["-servername", "localhost", "-CAfile", pki.paths["self.pem"]!, "-verify_return_error"]).done;
      assert.match(refusing, /verify error|certificate verify failed|unable to get local issuer/i);
      const failed = await waitFor(records, "tls: handshake failed");
      assert.equal(failed.level, "debug");
      assert.equal(failed.fields.role, "server");
      assert.match(String(failed.fields.address), /^127\.0\.0\.1:\d+$/);
      assert.equal(typeof failed.fields.code, "string");
      const good = await runSClient(server.port, ["-servername", "localhost", "-CAfile", pki.paths["root.pem"]!, "-alpn", "http/1.1", "-verify_return_error"]).done;
      assert.match(good, /Verify return code: 0/);
      const done = await waitFor(records, "tls: handshake done");
      assert.equal(done.fields.alpn, "http/1.1");
      assert.equal(done.fields.resumed, false);
      assert.match(String(done.fields.cipher), /\w/);
      assert.equal(records.filter((r) => r.level !== "debug").length, 0);
    } finally {
      server.close();
    }
  });

  test("serve({ tls, logger }): a plaintext client on the TLS port is a DEBUG record (not an ERROR), a request over TLS logs its handshake with ALPN", async () => {
    const pki = testPKI();
    const { logger, records } = recorder();
    const server = serve({ host: "127.0.0.1", port: 0, tls: { cert: pki.chain, key: pki.key }, logger, fetch: () => new Response("hello") });
    try {
      const plain = await connect({ host: "127.0.0.1", port: server.addr.port });
      await plain.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      while ((await plain.read()) !== null);
      await plain.close();
      const failed = await waitFor(records, "tls: handshake failed");
      assert.equal(failed.level, "debug");
      assert.equal(failed.fields.role, "server");
      assert.equal(typeof failed.fields.code, "string");
      assert.match(String(failed.fields.address), /^127\.0\.0\.1:\d+$/);
      const conn = await connect({ host: "localhost", port: server.addr.port, tls: { ca: pki.root, alpn: ["http/1.1"] } });
      await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
      assert.match(await readUntil(conn, (t) => t.endsWith("hello")), /^HTTP\/1\.1 200/);
      await conn.close();
      const done = await waitFor(records, "tls: handshake done");
      assert.equal(done.fields.alpn, "http/1.1");
      assert.equal(done.fields.role, "server");
      assert.equal(records.filter((r) => r.level === "error" || r.level === "warn").length, 0);
    } finally {
      await server.shutdown({ deadlineMs: 1000 });
    }
  });
});

// HTTP/2 frames by hand (RFC 9113 §4.1), for a client that breaks rules on purpose.
function frame(type: number, flags: number, streamId: number, payload: number[] = []): number[] {
  const n = payload.length;
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, type, flags, (streamId >>> 24) & 0x7f, (streamId >> 16) & 0xff, (streamId >> 8) & 0xff, streamId & 0xff, ...payload];
}
const PREFACE = [...enc.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), ...frame(4, 0, 0)];

/** Reads until the server's SETTINGS arrived (the session is up) or the stream ends. */
async function readSomething(conn: Connection): Promise<void> {
  await conn.read();
}

describe("serve's HTTP/2 sessions log resets, GOAWAY and connection errors", () => {
  test("h2c by prior knowledge: a client's RST_STREAM and GOAWAY at DEBUG, a DATA frame on stream 0 a WARN with PROTOCOL_ERROR, shutdown's GOAWAY at DEBUG", async () => {
    const { logger, records } = recorder();
    const server = serve({
      host: "127.0.0.1",
      port: 0,
      logger,
      fetch: async (request) => {
        await request.text().catch(() => "");
        return new Response("ok");
      },
    });
    const open: Connection[] = [];
    try {
      // A request whose body never ends, reset by the client (CANCEL), then GOAWAY.
      const authority = [...enc.encode("127.0.0.1")];
      const a = await connect({ host: "127.0.0.1", port: server.addr.port });
      open.push(a);
      await a.write(new Uint8Array([...PREFACE, ...frame(1, 0x4, 1, [0x83, 0x86, 0x84, 0x41, authority.length, ...authority])]));
      await readSomething(a);
      await a.write(new Uint8Array(frame(3, 0, 1, [0, 0, 0, 8])));
      const reset = await waitFor(records, "h2: stream reset by the client");
      assert.equal(reset.level, "debug");
      assert.equal(reset.fields.streamId, 1);
      assert.equal(reset.fields.code, 8);
      assert.match(String(reset.fields.address), /^127\.0\.0\.1:\d+$/);
      await a.write(new Uint8Array(frame(7, 0, 0, [0, 0, 0, 1, 0, 0, 0, 0])));
      const goaway = await waitFor(records, "h2: GOAWAY received");
      assert.equal(goaway.fields.lastStreamId, 1);
      assert.equal(goaway.fields.code, 0);
      // DATA on stream 0: a connection error (PROTOCOL_ERROR), GOAWAY sent.
      const b = await connect({ host: "127.0.0.1", port: server.addr.port });
      open.push(b);
      await b.write(new Uint8Array([...PREFACE, ...frame(0, 0, 0)]));
      const broken = await waitFor(records, "h2: connection error, GOAWAY sent");
      assert.equal(broken.level, "warn");
      assert.equal(broken.fields.code, 1);
      // A session still open when the server shuts down: its GOAWAY at DEBUG.
      const c = await connect({ host: "127.0.0.1", port: server.addr.port });
      open.push(c);
      await c.write(new Uint8Array(PREFACE));
      await readSomething(c);
      await server.shutdown({ deadlineMs: 1000 });
      const sent = await waitFor(records, "h2: GOAWAY sent");
      assert.equal(sent.level, "debug");
      assert.equal(sent.fields.code, 0);
      assert.equal(records.filter((r) => r.level === "error").length, 0);
    } finally {
      for (const conn of open) if (!conn.closed) conn.abort();
      await server.shutdown({ deadlineMs: 100 });
    }
  });
});

describe("the HTTP client's logger (Client({ logger }))", () => {
  test("https: a certificate the client does not trust is a WARN with ERR_TLS_VERIFY; a good one logs connect and handshake (ALPN h2); the server's GOAWAY at DEBUG", async () => {
    const pki = testPKI();
    const server = serve({ host: "127.0.0.1", port: 0, tls: { cert: pki.chain, key: pki.key }, fetch: () => new Response("hello") });
    try {
      const origin = `https://localhost:${server.addr.port}`;
      const wrong = recorder();
      const distrusting = new Client(origin, { tls: { ca: pki.selfSigned }, logger: wrong.logger });
      await assert.rejects(request(`${origin}/`, { dispatcher: distrusting }), TLSVerifyError);
      await distrusting.close();
      const failed = named(wrong.records, "tls: handshake failed");
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.level, "warn");
      assert.equal(failed[0]!.fields.code, "ERR_TLS_VERIFY");
      assert.equal(failed[0]!.fields.host, "localhost");
      const { logger, records } = recorder();
      const client = new Client(origin, { tls: { ca: pki.root }, logger });
      const response = await request(`${origin}/`, { dispatcher: client });
      assert.equal(await response.body.text(), "hello");
      assert.equal(named(records, "connect: connected").length, 1);
      const done = named(records, "tls: handshake done");
      assert.equal(done.length, 1);
      assert.equal(done[0]!.fields.alpn, "h2");
      await server.shutdown({ deadlineMs: 1000 });
      const goaway = await waitFor(records, "h2: GOAWAY received");
      assert.equal(goaway.fields.code, 0);
      assert.equal(goaway.fields.authority, `localhost:${server.addr.port}`);
      await client.close();
      assert.equal(records.filter((r) => r.level !== "debug").length, 0);
    } finally {
      await server.shutdown({ deadlineMs: 100 });
    }
  });

  test("HTTP/2 prior knowledge against a scripted server: a stream it resets at DEBUG (its code), a DATA frame on stream 0 a WARN (PROTOCOL_ERROR)", async () => {
    // Answers the preface with SETTINGS; resets stream 1 (INTERNAL_ERROR), breaks the connection on any later stream.
    const server = listen({
      host: "127.0.0.1",
      port: 0,
      handler: {
        open: (c) => void c.send(new Uint8Array([...frame(4, 0, 0), ...frame(4, 1, 0)])),
        data: (c, d) => {
          const state = c as Connection & { seen?: number[] };
          state.seen = [...(state.seen ?? []), ...d];
          let at = state.seen.length >= 24 && dec.decode(new Uint8Array(state.seen.slice(0, 3))) === "PRI" ? 24 : 0;
          while (at + 9 <= state.seen.length) {
            const n = (state.seen[at]! << 16) | (state.seen[at + 1]! << 8) | state.seen[at + 2]!;
            if (at + 9 + n > state.seen.length) break;
            const type = state.seen[at + 3]!;
            const id = ((state.seen[at + 5]! & 0x7f) << 24) | (state.seen[at + 6]! << 16) | (state.seen[at + 7]! << 8) | state.seen[at + 8]!;
            if (type === 1) c.send(new Uint8Array(id === 1 ? frame(3, 0, 1, [0, 0, 0, 2]) : frame(0, 0, 0)));
            at += 9 + n;
          }
          state.seen = state.seen.slice(at);
        },
      },
    });
    const { logger, records } = recorder();
    const origin = `http://127.0.0.1:${server.port}`;
    const client = new Client(origin, { http2: "prior-knowledge", logger });
    try {
      await assert.rejects(request(`${origin}/one`, { dispatcher: client }));
      const reset = await waitFor(records, "h2: stream reset by the server");
      assert.equal(reset.level, "debug");
      assert.equal(reset.fields.streamId, 1);
      assert.equal(reset.fields.code, 2);
      await assert.rejects(request(`${origin}/two`, { dispatcher: client }));
      const broken = await waitFor(records, "h2: connection error, GOAWAY sent");
      assert.equal(broken.level, "warn");
      assert.equal(broken.fields.code, 1);
    } finally {
      await client.close();
      server.close();
    }
  });

  test("a logger that is no Logger is a TypeError", () => {
    assert.throws(() => new Client("http://127.0.0.1:1", { logger: {} as unknown as Logger }), TypeError);
  });
});
