// Server session resumption: stateless tickets under rotating keys, the
// session cache (TLS 1.2 session ids, TLS 1.3 stateful tickets), shared
// ticket keys between servers. Proven with our own client (a child process;
// session bytes exported and imported), with `openssl s_client -reconnect`
// against our server, and with our client against `openssl s_server`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UseAfterCloseError } from "../core/errors.ts";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, connectTLSSync, TLSContext, type TLSContextOptions, type TLSVersion } from "../tls/mod.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";
import { runSClient, startSServer } from "./tls_helpers.ts";
import { ourClientAgainst } from "./tls_our_peers.ts";
import { testPKI } from "./tls_pki.ts";

function serverContext(extra: Omit<TLSContextOptions, "role" | "cert" | "key"> = {}): TLSContext {
  const pki = testPKI();
  return new TLSContext({ role: "server", cert: pki.chain, key: pki.key, ...extra });
}

const sharedKey = Uint8Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff);

describe("tls session resumption", () => {
  for (const version of ["TLSv1.3", "TLSv1.2"] as TLSVersion[]) {
    test(`${version}, our client and our server: tickets survive one key rotation, a dropped key means a full handshake, shared keys and the cache resume`, async () => {
      const pki = testPKI();
      const range = { minVersion: version, maxVersion: version };
      using tickets = serverContext({ ...range, ticketKeysKept: 1, ticketKeyRotationMs: 0 });
      using sharing = serverContext({ ...range, ticketKeys: [sharedKey] });
      using stateful = serverContext({ ...range, sessionTickets: false });
      const servers = [tickets, tickets, tickets, tickets, sharing, stateful, stateful];
      const serverSaw: boolean[] = [];
      const lines = await ourClientAgainst(servers, { ca: pki.paths["root.pem"]!, ...range }, {
        before: (i) => {
          if (i === 2) tickets.rotateTicketKeys(); // the client's ticket is under the previous key now
          if (i === 3) {
            tickets.rotateTicketKeys();
            tickets.rotateTicketKeys(sharedKey); // two more: the client's key is gone
          }
        },
        after: (i, side) => {
          assert.equal(side.error, undefined, `round ${i}: ${String(side.error)}`);
          serverSaw.push(side.tls!.isSessionReused());
        },
      });
      for (const line of lines) {
        assert.equal(line.error, undefined, JSON.stringify(line));
        assert.equal(line.protocol, version);
        assert.equal(line.text, "pong");
      }
      const expected = [false, true, true, false, true, false, true];
      assert.deepEqual(lines.map((l) => l.reused), expected);
      assert.deepEqual(serverSaw, expected);
      assert.equal(tickets.sessionStats().hits, 2);
      assert.equal(sharing.sessionStats().hits, 1);
      const cache = stateful.sessionStats();
      assert.equal(cache.hits, 1);
      assert.ok(cache.cached >= 1, JSON.stringify(cache));
    });
  }

  test("openssl s_client -reconnect (TLS 1.2) against our server: resumes across one rotation, not past a dropped key", async () => {
    const pki = testPKI();
    using ctx = serverContext({ minVersion: "TLSv1.2", ticketKeysKept: 1 });
    using listener = listenTCPSync("127.0.0.1", 0);
    const { port } = listener.localAddress() as { port: number };
    const client = runSClient(port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", "-tls1_2", "-reconnect"]);
    try {
      const reused: boolean[] = [];
      for (let i = 0; i < 6; i++) {
        if (i === 2) ctx.rotateTicketKeys();
        if (i === 4) {
          ctx.rotateTicketKeys();
          ctx.rotateTicketKeys();
        }
        const tls = acceptTLS(listener, ctx, 30_000);
        reused.push(tls.isSessionReused());
        if (i === 5) tls.sendAll(new TextEncoder().encode("pong\n"));
        tls.close();
      }
      assert.deepEqual(reused, [false, true, true, true, false, true]);
      const output = await client.done;
      assert.equal(output.match(/^Reused, TLSv1\.2/gm)?.length, 4, output);
      assert.equal(output.match(/^New, TLSv1\.2/gm)?.length, 2, output);
    } finally {
      await client.kill();
    }
  });

  test("session cache: TLS 1.2 without tickets resumes by session id (s_client -reconnect); with the cache off it never does", async () => {
    const pki = testPKI();
    for (const cache of [true, false]) {
      using ctx = serverContext({ minVersion: "TLSv1.2", sessionTickets: false, sessionCache: cache, sessionCacheSize: 64, sessionTimeout: 600 });
      using listener = listenTCPSync("127.0.0.1", 0);
      const { port } = listener.localAddress() as { port: number };
      const client = runSClient(port, ["-CAfile", pki.paths["root.pem"]!, "-servername", "localhost", "-tls1_2", "-reconnect"]);
      try {
        // Without a session id to offer, s_client stops reconnecting early: two connections tell.
        const rounds = cache ? 6 : 2;
        const reused: boolean[] = [];
        for (let i = 0; i < rounds; i++) {
          const tls = acceptTLS(listener, ctx, 30_000);
          reused.push(tls.isSessionReused());
          tls.close();
        }
        assert.deepEqual(reused, cache ? [false, true, true, true, true, true] : [false, false]);
        if (!cache) await client.kill();
        const output = await client.done;
        assert.equal(output.match(/^Reused, TLSv1\.2/gm)?.length ?? 0, cache ? 5 : 0, output);
        assert.match(output, cache ? /Session-ID: [0-9A-F]{64}/ : /Session-ID: \n/);
        assert.doesNotMatch(output, /TLS session ticket:/);
        const stats = ctx.sessionStats();
        assert.equal(stats.hits, cache ? 5 : 0);
        assert.equal(stats.cached, cache ? 1 : 0);
      } finally {
        await client.kill();
      }
    }
  });

  test("our client against openssl s_server: TLS 1.2 session ids (-no_ticket) and TLS 1.3 tickets resume from exported bytes", async () => {
    const pki = testPKI();
    for (const [version, extra] of [["TLSv1.2", ["-no_ticket"]], ["TLSv1.3", []]] as const) {
      const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, ...extra], false);
      try {
        using ctx = new TLSContext({ ca: pki.root, minVersion: version, maxVersion: version });
        let saved: Uint8Array;
        {
          using tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, timeoutMs: 5000 });
          assert.equal(tls.isSessionReused(), false);
          saved = tls.session(5000)!;
        }
        for (let i = 0; i < 2; i++) {
          using tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, session: saved, timeoutMs: 5000 });
          assert.equal(tls.isSessionReused(), true, `${version} round ${i}`);
          assert.equal(tls.protocol, version);
          saved = tls.session(5000) ?? saved;
        }
      } finally {
        await server.close();
      }
    }
  });

  test("async: connectTLS against listenTLS in one process resumes through our tickets across a rotation, not past a dropped key", async () => {
    const pki = testPKI();
    using server = serverContext({ ticketKeysKept: 1 });
    const serverSaw: boolean[] = [];
    await using listener = listenTLS({
      port: 0,
      context: server,
      handler: {
        open: (c) => {
          serverSaw.push(tlsInfo(c)!.isSessionReused());
          c.send(new TextEncoder().encode("pong"));
          void c.close();
        },
      },
    });
    using client = new TLSContext({ ca: pki.root });
    let session: Uint8Array | undefined;
    const reused: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      if (i === 2) server.rotateTicketKeys();
      if (i === 3) {
        server.rotateTicketKeys();
        server.rotateTicketKeys();
      }
      const conn = await connectTLS({ host: "localhost", port: listener.port, context: client, ...(session ? { session } : {}) });
      const info = tlsInfo(conn)!;
      reused.push(info.isSessionReused());
      const drained = (async () => {
        while ((await conn.read()) !== null);
      })();
      session = (await info.waitSession(5000)) ?? session;
      await drained;
      await conn.close();
    }
    assert.deepEqual(reused, [false, true, true, false, true]);
    assert.deepEqual(serverSaw, reused);
  });

  test("bad session options are typed errors; rotation after close throws", () => {
    assert.throws(() => serverContext({ ticketKeys: new Uint8Array(48) }), TypeError);
    assert.throws(() => serverContext({ ticketKeys: [] }), TypeError);
    assert.throws(() => serverContext({ ticketKeysKept: -1 }), RangeError);
    assert.throws(() => serverContext({ ticketKeyRotationMs: 1.5 }), RangeError);
    assert.throws(() => serverContext({ sessionCacheSize: 0 }), RangeError);
    assert.throws(() => serverContext({ sessionTimeout: -5 }), RangeError);
    assert.throws(() => serverContext({ sessionIdContext: "x".repeat(33) }), TypeError);
    assert.throws(() => serverContext({ sessionTickets: false, ticketKeys: [sharedKey] }), TypeError);
    assert.throws(() => new TLSContext({ sessionTickets: true }), TypeError);
    assert.throws(() => new TLSContext({ ticketKeys: [sharedKey] }), TypeError);
    using client = new TLSContext();
    assert.throws(() => client.rotateTicketKeys(), TypeError);
    using noTickets = serverContext({ sessionTickets: false });
    assert.throws(() => noTickets.rotateTicketKeys(), TypeError);
    const ctx = serverContext();
    assert.throws(() => ctx.rotateTicketKeys(new Uint8Array(10)), TypeError);
    ctx.rotateTicketKeys(sharedKey);
    ctx.close();
    assert.throws(() => ctx.rotateTicketKeys(), UseAfterCloseError);
    assert.throws(() => ctx.sessionStats(), UseAfterCloseError);
  });
});
