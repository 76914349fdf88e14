// Async TLS on the loop (tls/connect_async.ts): connectTLS / listenTLS /
// tlsConnector / startTLS as the same Connection API, against openssl
// s_server / s_client and node:tls (a child process), and against itself:
// TLS 1.3 and 1.2, ALPN, SNI, resumption, verify failures with their
// codes, interleaved handshakes (per-SSL verify records), handshake
// timeout and AbortSignal, garbage and plaintext on a TLS port, truncation,
// close_notify, 8 MiB both ways with backpressure, and io: "uring"
// (memory-BIO mode) where the kernel allows it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import process from "node:process";
import { describe, test } from "node:test";
import { SocketTimeoutError, TLSError, TLSHandshakeError, TLSPinError, TLSVerifyError } from "../core/errors.ts";
import { connect, listen } from "../poll/listener.ts";
import type { Connection } from "../poll/connection.ts";
import { asyncBackends, uringUnavailableReason } from "../poll/uring/probe.ts";
import { connectTLS, listenTLS, startTLS, tlsConnector, tlsInfo } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function serverArgs(cert: string, key: string, extra: string[] = []): string[] {
  const pki = testPKI();
  return ["-cert", pki.paths[cert]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths[key]!, ...extra];
}

/** Reads until `predicate` holds for the text so far or the stream ends. */
async function readUntil(conn: Connection, predicate: (text: string) => boolean): Promise<string> {
  let text = "";
  while (!predicate(text)) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += dec.decode(chunk);
  }
  return text;
}

/** An echo server handler with backpressure: pauses while the reply waits, resumes on drain. */
const echo = {
  data: (c: Connection, d: Uint8Array) => {
    if (!c.send(d)) c.pause();
  },
  drain: (c: Connection) => c.resume(),
};

function uringSkip(): string | false {
  if (process.platform !== "linux") return "io_uring is Linux only";
  return asyncBackends().io_uring ? false : `io_uring unavailable: ${uringUnavailableReason() ?? "refused"}`;
}

describe("connectTLS against openssl s_server", () => {
  test("TLS 1.3: verified, ALPN, group, cipher, peer certificate, echo (-rev), close_notify ends the stream", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", ["-alpn", "h2,http/1.1", "-rev"]));
    try {
      const conn = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, alpn: ["http/1.1", "h2"] });
      const info = tlsInfo(conn)!;
      assert.equal(info.protocol, "TLSv1.3");
      assert.equal(info.alpnProtocol, "h2");
      assert.match(info.cipher, /^TLS_/);
      assert.notEqual(info.group, "");
      assert.equal(info.role, "client");
      assert.equal(info.isSessionReused(), false);
      assert.equal(info.peerCertificate()!.commonName, "localhost");
      await conn.write(enc.encode("hello\n"));
      assert.equal(await readUntil(conn, (t) => t.includes("\n")), "olleh\n");
      // s_server -rev answers CLOSE with close_notify: read() sees the end.
      await conn.write(enc.encode("CLOSE\n"));
      assert.equal(await conn.read(), null);
      await conn.close();
      assert.equal(tlsInfo(conn)!.protocol, "TLSv1.3"); // readable after close
    } finally {
      await server.close();
    }
  });

  test("TLS 1.2 with minVersion; without it the error names the option", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", ["-tls1_2", "-rev"]));
    try {
      const conn = await connectTLS({ host: "127.0.0.1", port: server.port, ca: pki.root, minVersion: "TLSv1.2" });
      assert.equal(tlsInfo(conn)!.protocol, "TLSv1.2");
      await conn.write(enc.encode("abc\n"));
      assert.equal(await readUntil(conn, (t) => t.includes("\n")), "cba\n");
      await conn.close();
      await assert.rejects(connectTLS({ host: "localhost", port: server.port, ca: pki.root }), (err: unknown) =>
        err instanceof TLSHandshakeError && /minVersion/.test(err.message));
    } finally {
      await server.close();
    }
  });

  test("resumption: session bytes after the TLS 1.3 ticket resume the next connection", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", ["-rev"]));
    try {
      using ctx = new TLSContext({ ca: pki.root });
      const first = await connectTLS({ host: "localhost", port: server.port, context: ctx });
      const session = await tlsInfo(first)!.waitSession(5000);
      assert.ok(session instanceof Uint8Array && session.length > 0);
      await first.close();
      const second = await connectTLS({ host: "localhost", port: server.port, context: ctx, session });
      assert.equal(tlsInfo(second)!.isSessionReused(), true);
      await second.write(enc.encode("again\n"));
      assert.equal(await readUntil(second, (t) => t.includes("\n")), "niaga\n");
      await second.close();
    } finally {
      await server.close();
    }
  });

  test("each bad certificate is a TLSVerifyError with its X509 name; a pin mismatch is TLSPinError", async () => {
    const pki = testPKI();
    // [server chain, its key, expected reason, the client's CA]
    const cases: [string, string, string, string][] = [
      ["expired_chain.pem", "expired.key", "CERT_HAS_EXPIRED", pki.root],
      ["future_chain.pem", "future.key", "CERT_NOT_YET_VALID", pki.root],
      ["wronghost_chain.pem", "wronghost.key", "HOSTNAME_MISMATCH", pki.root],
      ["leaf_chain.pem", "leaf.key", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", pki.selfSigned],
    ];
    for (const [cert, key, reason, ca] of cases) {
      const server = await startSServer(serverArgs(cert, key, ["-rev"]), false);
      try {
        const options = { host: "localhost", port: server.port, ca };
        await assert.rejects(connectTLS(options), (err: unknown) => {
          assert.ok(err instanceof TLSVerifyError, String(err));
          assert.equal(err.code, "ERR_TLS_VERIFY");
          assert.equal(err.reason, reason);
          return true;
        });
      } finally {
        await server.close();
      }
    }
    const server = await startSServer(serverArgs("leaf_chain.pem", "leaf.key", ["-rev"]), false);
    try {
      await assert.rejects(connectTLS({ host: "localhost", port: server.port, ca: pki.root, pins: ["sha256/" + "A".repeat(43) + "="] }), TLSPinError);
    } finally {
      await server.close();
    }
  });
});

describe("listenTLS against openssl s_client", () => {
  test("TLS 1.3 and 1.2 (minVersion), ALPN by server preference, SNI readable, -reconnect resumes", async () => {
    const pki = testPKI();
    const seen: { protocol: string; alpn: string | null; servername: string | null; reused: boolean }[] = [];
    await using server = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      minVersion: "TLSv1.2",
      alpn: ["h2", "http/1.1"],
      handler: {
        open: (c) => {
          const info = tlsInfo(c)!;
          seen.push({ protocol: info.protocol, alpn: info.alpnProtocol, servername: info.servername, reused: info.isSessionReused() });
          c.send(enc.encode(`hello ${info.protocol}\n`));
          void c.close(); // s_client -ign_eof reads until the server closes
        },
      },
    });
    const out13 = await runSClient(server.port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", "-alpn", "http/1.1,h2", "-verify_return_error"]).done;
    assert.match(out13, /hello TLSv1\.3/);
    assert.match(out13, /ALPN protocol: h2/);
    const out12 = await runSClient(server.port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", "-tls1_2", "-reconnect"]).done;
    assert.match(out12, /hello TLSv1\.2/);
    assert.match(out12, /^Reused, /m);
    assert.equal(seen[0]!.protocol, "TLSv1.3");
    assert.equal(seen[0]!.alpn, "h2");
    assert.equal(seen[0]!.servername, "localhost");
    assert.ok(seen.some((s) => s.protocol === "TLSv1.2" && s.reused));
  });
});

describe("connectTLS and listenTLS together", () => {
  test("tlsConnector, client certificates (mTLS) and the peer certificate on both sides", async () => {
    const pki = testPKI();
    const peers: (string | undefined)[] = [];
    await using server = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      ca: pki.root,
      requestCert: true,
      handler: {
        open: (c) => peers.push(tlsInfo(c)!.peerCertificate()?.commonName),
        ...echo,
      },
    });
    const connector = tlsConnector({ ca: pki.root, cert: pki.clientChain, key: testKey("client.key"), servername: "localhost" });
    const conn = await connector({ host: "127.0.0.1", port: server.port });
    await conn.write(enc.encode("ping"));
    assert.equal(await readUntil(conn, (t) => t.length >= 4), "ping");
    assert.equal(tlsInfo(conn)!.peerCertificate()!.commonName, "localhost");
    await conn.close();
    assert.equal(peers.length, 1);
    assert.ok(peers[0] !== undefined && peers[0] !== "localhost");
  });

  test("many concurrent handshakes interleave: one bad certificate fails alone with its code", async () => {
    const pki = testPKI();
    await using good = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: echo });
    await using expired = listenTLS({ port: 0, cert: pki.expiredChain, key: testKey("expired.key"), handler: echo });
    await using wrongHost = listenTLS({ port: 0, cert: pki.wrongHostChain, key: testKey("wronghost.key"), handler: echo });
    using ctx = new TLSContext({ ca: pki.root });
    const attempts: Promise<Connection>[] = [];
    for (let i = 0; i < 12; i++) attempts.push(connectTLS({ host: "localhost", port: good.port, context: ctx }));
    attempts.splice(3, 0, connectTLS({ host: "localhost", port: expired.port, context: ctx }));
    attempts.splice(8, 0, connectTLS({ host: "localhost", port: wrongHost.port, context: ctx }));
    const results = await Promise.allSettled(attempts);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(rejected.length, 2, rejected.map((r) => String(r.reason)).join("; "));
    const reasons = rejected.map((r) => (r.reason as TLSVerifyError).reason).sort();
    assert.deepEqual(reasons, ["CERT_HAS_EXPIRED", "HOSTNAME_MISMATCH"]);
    assert.equal(results[3]!.status, "rejected");
    assert.equal((results[3] as PromiseRejectedResult).reason.reason, "CERT_HAS_EXPIRED");
    assert.equal((results[3] as PromiseRejectedResult).reason.depth, 0);
    for (const r of results) {
      if (r.status !== "fulfilled") continue;
      await r.value.write(enc.encode("x"));
      assert.equal(await readUntil(r.value, (t) => t.length >= 1), "x");
      await r.value.close();
    }
  });

  test("8 MiB each way at once with backpressure (Promise client, handler server)", async () => {
    const pki = testPKI();
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: echo });
    const conn = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
    const total = 8 * 1024 * 1024;
    const block = new Uint8Array(64 * 1024);
    for (let i = 0; i < block.length; i++) block[i] = (i * 7 + 3) & 0xff;
    const writing = (async () => {
      for (let sent = 0; sent < total; sent += block.length) await conn.write(block);
    })();
    let got = 0;
    let bad = -1;
    while (got < total) {
      const chunk = await conn.read();
      assert.ok(chunk !== null, `ended after ${got} bytes`);
      for (let i = 0; i < chunk.length && bad < 0; i++) if (chunk[i] !== block[(got + i) % block.length]) bad = got + i;
      got += chunk.length;
    }
    await writing;
    assert.equal(got, total);
    assert.equal(bad, -1);
    await conn.close();
  });

  test("close_notify: the peer's read() ends cleanly; a bare FIN is ERR_TLS_TRUNCATED unless allowTruncation", async () => {
    const pki = testPKI();
    const ends: (Error | null | undefined)[] = [];
    const bare: boolean[] = [];
    await using server = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      // The bare FIN below is shutdown(2) on the descriptor right after a
      // send: that needs fd mode (readiness), where the send went to the
      // kernel at once. Over io_uring (memory-BIO mode) the record may still
      // be queued and the FIN would overtake it. The clients use any I/O.
      io: "readiness",
      handler: {
        data: (c, d) => {
          const text = dec.decode(d);
          if (text === "fin") {
            bare.push(true);
            c.send(enc.encode("bye"));
            c.socket.shutdown("write"); // FIN without close_notify
          } else if (text === "close") {
            void c.close(); // close_notify, then FIN
          }
        },
        end: (c) => {
          ends.push(null);
          void c.close();
        },
        error: (_c, e) => ends.push(e),
      },
    });
    const a = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
    await a.write(enc.encode("close"));
    assert.equal(await a.read(), null);
    await a.close();

    const b = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
    await b.write(enc.encode("fin"));
    assert.equal(await readUntil(b, (t) => t.length >= 3), "bye");
    await assert.rejects(b.read(), (err: unknown) => err instanceof TLSError && err.code === "ERR_TLS_TRUNCATED");

    const c = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, allowTruncation: true });
    await c.write(enc.encode("fin"));
    assert.equal(await readUntil(c, (t) => t.length >= 3), "bye");
    assert.equal(await c.read(), null);
    await c.close();
    assert.equal(bare.length, 2);
  });

  test("startTLS over an open plain connection, and TLS inside TLS (memory-BIO over a TLS connection)", async () => {
    const pki = testPKI();
    // The outer server hands each connection to an inner TLS server over the same stream.
    await using outer = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      handler: {
        open: (c) => {
          void startTLS(c, { role: "server", cert: pki.chain, key: pki.key, handler: echo });
        },
      },
    });
    const first = await connectTLS({ host: "localhost", port: outer.port, ca: pki.root });
    const inner = await startTLS(first, { host: "localhost", ca: pki.root, alpn: ["x"] });
    assert.equal(tlsInfo(inner)!.protocol, "TLSv1.3");
    await inner.write(enc.encode("nested"));
    assert.equal(await readUntil(inner, (t) => t.length >= 6), "nested");
    await inner.close();
    assert.ok(first.closed || (await first.whenClosed, true));

    // startTLS on a plain connection to a TLS server (fd mode: the socket is taken over).
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: echo });
    const plain = await connect({ host: "127.0.0.1", port: server.port });
    const upgraded = await startTLS(plain, { host: "localhost", ca: pki.root });
    assert.equal(plain.closed, true); // detached: the TLS connection owns the socket
    await upgraded.write(enc.encode("up"));
    assert.equal(await readUntil(upgraded, (t) => t.length >= 2), "up");
    await upgraded.close();
  });

  test("poll's connect({ tls }) and listen({ tls }) delegate to tls/ (loaded on demand)", async () => {
    const pki = testPKI();
    const errors: Error[] = [];
    await using server = listen({
      port: 0,
      tls: { cert: pki.chain, key: pki.key, alpn: ["h2"] },
      handler: {
        open: (c) => c.send(enc.encode(`alpn=${tlsInfo(c)!.alpnProtocol}`)),
        ...echo,
      },
      onError: (e) => errors.push(e),
    });
    const conn = await connect({ host: "localhost", port: server.port, tls: { ca: pki.root, alpn: ["h2"] } });
    assert.equal(tlsInfo(conn)!.protocol, "TLSv1.3");
    assert.equal(await readUntil(conn, (t) => t.length >= 7), "alpn=h2");
    await conn.write(enc.encode("via poll"));
    assert.equal(await readUntil(conn, (t) => t.length >= 8), "via poll");
    await conn.close();
    await assert.rejects(connect({ port: server.port, tls: { ca: pki.root, nope: 1 } }), TypeError);
    await assert.rejects(connect({ host: "localhost", port: server.port, tls: { ca: pki.selfSigned } }), TLSVerifyError);
    assert.throws(() => listen({ port: 0, tls: { cert: pki.chain, key: pki.key } }), TypeError); // no handler
    assert.deepEqual(errors.filter((e) => !(e instanceof TLSHandshakeError)), []);
  });

  test("options: unknown keys are TypeErrors; bad handshakeTimeoutMs is a RangeError", async () => {
    await assert.rejects(connectTLS({ host: "localhost", port: 1, nope: 1 } as never), TypeError);
    await assert.rejects(connectTLS({ host: "localhost", port: 1, handshakeTimeoutMs: -1 }), RangeError);
    assert.throws(() => listenTLS({ port: 0, cert: "x", key: "y", nope: 1 } as never), TypeError);
    assert.throws(() => tlsConnector({ nope: true } as never), TypeError);
  });
});

describe("handshake failures stay with their connection", () => {
  test("a stalled server: the client's handshake times out; an AbortSignal aborts it", async () => {
    await using silent = listen({ port: 0 }); // accepts, never answers
    await assert.rejects(
      connectTLS({ host: "127.0.0.1", port: silent.port, rejectUnauthorized: false, handshakeTimeoutMs: 200 }),
      (err: unknown) => err instanceof SocketTimeoutError && /handshake/.test(err.message),
    );
    const controller = new AbortController();
    const pending = connectTLS({ host: "127.0.0.1", port: silent.port, rejectUnauthorized: false, signal: controller.signal, handshakeTimeoutMs: 0 });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await assert.rejects(pending, /stop/);
    for (let c = await silent.accept(); c !== null && silent.pending > 0; c = await silent.accept()) await c.close();
  });

  test("a stalled client, a garbage ClientHello and plaintext HTTP each fail alone; other connections keep working", async () => {
    const pki = testPKI();
    const errors: Error[] = [];
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handshakeTimeoutMs: 300, handler: echo, onError: (e) => errors.push(e) });
    const good = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
    const stalled = await connect({ host: "127.0.0.1", port: server.port });
    const garbage = await connect({ host: "127.0.0.1", port: server.port });
    await garbage.write(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]));
    const http = await connect({ host: "127.0.0.1", port: server.port });
    await http.write(enc.encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    // The failures close their connections (the server's alert, then EOF or a reset).
    for (const c of [garbage, http]) {
      try {
        while ((await c.read()) !== null);
      } catch {
        // a reset is fine too
      }
    }
    await stalled.whenClosed.catch(() => {});
    await readUntilClosed(stalled);
    await good.write(enc.encode("still here"));
    assert.equal(await readUntil(good, (t) => t.length >= 10), "still here");
    const another = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
    await another.close();
    await good.close();
    assert.equal(server.handshakeErrors, 3);
    assert.equal(errors.filter((e) => e instanceof TLSHandshakeError).length, 2, errors.map(String).join("; "));
    assert.equal(errors.filter((e) => e instanceof SocketTimeoutError).length, 1);
    for (const c of [garbage, http, stalled]) await c.close();
  });
});

describe("resources", () => {
  test("400 full and 400 resumed handshakes (both ends ours) leave the socket count flat; RSS reported", { skip: process.platform !== "linux" ? "reads /proc/self/fd" : false }, async () => {
    const pki = testPKI();
    // Sockets only: the runtimes open descriptors of their own (a worker's
    // epoll, pipes) at times of their choosing.
    const fdCount = () => readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:");
      } catch {
        return false;
      }
    }).length;
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: { open: (c) => void c.close() } });
    using ctx = new TLSContext({ ca: pki.root });
    const once = async (session?: Uint8Array): Promise<Uint8Array | null> => {
      const conn = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, context: ctx, ...(session ? { session } : {}) });
      const info = tlsInfo(conn)!;
      if (session !== undefined) assert.equal(info.isSessionReused(), true);
      assert.equal(await conn.read(), null); // the server's close_notify
      const bytes = info.session();
      await conn.close();
      return bytes;
    };
    const session = (await once())!;
    for (let i = 0; i < 20; i++) await once(session); // warm-up
    // The server's last closes: over io_uring a descriptor is closed through
    // the ring, after close() returned (counted here, it made "after" look
    // one lower than "before").
    await new Promise((resolve) => setTimeout(resolve, 50));
    const fdsBefore = fdCount();
    const rssBefore = process.memoryUsage().rss;
    const rounds = 400;
    const started = performance.now();
    for (let i = 0; i < rounds; i += 8) await Promise.all(Array.from({ length: 8 }, () => once()));
    const full = performance.now() - started;
    for (let i = 0; i < rounds; i += 8) await Promise.all(Array.from({ length: 8 }, () => once(session)));
    const resumed = performance.now() - started - full;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server's last closes
    const fdsAfter = fdCount();
    const mib = (n: number) => (n / 1048576).toFixed(1);
    console.log(`async tls: ${rounds} full in ${full.toFixed(0)} ms, ${rounds} resumed in ${resumed.toFixed(0)} ms (client+server in one process), fds ${fdsBefore} → ${fdsAfter}, RSS ${mib(rssBefore)} → ${mib(process.memoryUsage().rss)} MiB`);
    assert.ok(fdsAfter <= fdsBefore, `fds ${fdsBefore} → ${fdsAfter}`);
  });
});

describe("node:tls as the peer", () => {
  test("our client against a node:tls echo server and a node:tls client against our server, 1 MiB each", async () => {
    const pki = testPKI();
    const serverScript = `
const tls = require("node:tls");
const fs = require("node:fs");
const server = tls.createServer({ cert: fs.readFileSync(process.env.CERT), key: fs.readFileSync(process.env.KEY), ALPNProtocols: ["h2"] }, (s) => {
  s.pipe(s);
  s.on("error", () => {});
  s.on("end", () => server.close());
});
server.listen(0, "127.0.0.1", () => console.log("PORT " + server.address().port));`;
    const peer = runNode(serverScript, { CERT: pki.paths["leaf_chain.pem"]!, KEY: pki.paths["leaf.key"]! });
    try {
      const port = Number((await peer.line(/PORT (\d+)/))[1]);
      const conn = await connectTLS({ host: "localhost", port, ca: pki.root, alpn: ["h2"] });
      assert.equal(tlsInfo(conn)!.alpnProtocol, "h2");
      const total = 1024 * 1024;
      const block = new Uint8Array(32 * 1024).fill(0x5a);
      const writing = (async () => {
        for (let sent = 0; sent < total; sent += block.length) await conn.write(block);
        await conn.end();
      })();
      let got = 0;
      for await (const chunk of conn) got += chunk.length;
      await writing;
      assert.equal(got, total);
      await conn.close();
    } finally {
      peer.kill();
    }

    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: echo });
    const clientScript = `
const tls = require("node:tls");
const fs = require("node:fs");
const s = tls.connect({ host: "127.0.0.1", servername: "localhost", port: Number(process.env.PORT), ca: fs.readFileSync(process.env.CA) }, () => {
  const total = 1024 * 1024;
  let got = 0;
  s.on("data", (d) => { got += d.length; if (got >= total) { console.log("GOT " + got + " " + s.getProtocol()); s.end(); } });
  s.write(Buffer.alloc(total, 7));
});
s.on("error", (e) => console.log("ERROR " + e.message));`;
    const client = runNode(clientScript, { PORT: String(server.port), CA: pki.paths["root.pem"]! });
    try {
      const m = await client.line(/GOT (\d+) (\S+)/);
      assert.equal(Number(m[1]), 1024 * 1024);
      assert.equal(m[2], "TLSv1.3");
    } finally {
      client.kill();
    }
  });
});

describe("io: uring (memory-BIO mode)", () => {
  test("handshake, echo of 2 MiB and close_notify over io_uring on both sides", { skip: uringSkip() }, async () => {
    const pki = testPKI();
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, io: "uring", alpn: ["h2"], handler: echo });
    assert.equal(server.io, "io_uring");
    const conn = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, io: "uring", alpn: ["h2"] });
    assert.equal(tlsInfo(conn)!.alpnProtocol, "h2");
    const total = 2 * 1024 * 1024;
    const block = new Uint8Array(64 * 1024).fill(0x33);
    const writing = (async () => {
      for (let sent = 0; sent < total; sent += block.length) await conn.write(block);
    })();
    let got = 0;
    while (got < total) {
      const chunk = await conn.read();
      assert.ok(chunk !== null);
      got += chunk.length;
    }
    await writing;
    assert.equal(got, total);
    const session = await tlsInfo(conn)!.waitSession(5000);
    await conn.close();
    const again = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, io: "uring", session: session! });
    assert.equal(tlsInfo(again)!.isSessionReused(), true);
    await again.close();
    // An s_client against an io_uring server that greets and closes.
    await using greeter = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      io: "uring",
      alpn: ["h2"],
      handler: {
        open: (c) => {
          c.send(enc.encode("hi from io_uring\n"));
          void c.close();
        },
      },
    });
    const out = await runSClient(greeter.port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", "-alpn", "h2"]).done;
    assert.match(out, /ALPN protocol: h2/);
    assert.match(out, /Verify return code: 0/);
    assert.match(out, /hi from io_uring/);
  });
});

async function readUntilClosed(conn: Connection): Promise<void> {
  try {
    while ((await conn.read()) !== null);
  } catch {
    // reset
  }
}

function testKey(name: string): string {
  return readFileSync(testPKI().paths[name]!, "utf8");
}

function runNode(script: string, env: Record<string, string>) {
  const child = spawn("timeout", ["30", "node", "-e", script], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  const exited = new Promise<string>((resolve) => child.once("exit", () => resolve(out)));
  const line = (re: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const m = re.exec(out);
      if (m) resolve(m);
    };
    check();
    child.stdout!.on("data", check);
    void exited.then(() => {
      const m = re.exec(out);
      if (m) resolve(m);
      else reject(new Error(`node peer exited: ${out}`));
    });
  });
  return { exited, line, kill: () => { if (child.exitCode === null) child.kill("SIGTERM"); } };
}
