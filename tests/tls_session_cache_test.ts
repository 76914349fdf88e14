// A TLS connector resumes sessions by itself: a later connection to the same
// place offers the session an earlier one got (TLS 1.3 ticket or TLS 1.2
// session), each session once, within a bounded cache. Against openssl
// s_server (TLS 1.3 and 1.2) and through the HTTP client to `s_server -www`,
// whose status page says whether the connection was "Reused".
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Agent } from "../http/client/agent.ts";
import { Pool, type PoolTLSSettings } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";
import type { Connection } from "../poll/connection.ts";
import { connect, type ConnectOptions } from "../poll/connect.ts";
import { tlsConnector, tlsInfo } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { ClientSessionCache } from "../tls/session_cache.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function serverArgs(extra: string[] = []): string[] {
  const pki = testPKI();
  return ["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, ...extra];
}

/** Writes a line to an `-rev` server and reads its reversed echo (the ticket comes in with it). */
async function echo(conn: Connection, line: string): Promise<string> {
  await conn.write(enc.encode(line + "\n"));
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += dec.decode(chunk);
  }
  return text;
}

/** Waits (bounded) until the connector has had the chance to store the connection's session. */
async function sessionTaken(conn: Connection): Promise<void> {
  assert.notEqual(await tlsInfo(conn)!.waitSession(5000), null);
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe("ClientSessionCache", () => {
  test("each session goes once, newest first; a place keeps at most 4; the least recent place goes first", () => {
    const cache = new ClientSessionCache(2);
    const s = (n: number) => new Uint8Array([n]);
    for (let i = 1; i <= 6; i++) cache.store("a", s(i));
    assert.deepEqual([cache.take("a"), cache.take("a"), cache.take("a"), cache.take("a"), cache.take("a")], [s(6), s(5), s(4), s(3), undefined]);
    cache.store("a", s(1));
    cache.store("b", s(2));
    cache.store("a", s(3)); // "a" is now the most recent place
    cache.store("c", s(4)); // drops "b"
    assert.equal(cache.size, 2);
    assert.equal(cache.take("b"), undefined);
    assert.deepEqual(cache.take("c"), s(4));
    cache.forget("a");
    assert.equal(cache.take("a"), undefined);
    assert.throws(() => new ClientSessionCache(-1), RangeError);
    const none = new ClientSessionCache(0);
    none.store("a", s(1));
    assert.equal(none.take("a"), undefined);
  });

  test("a session put back goes where it was: behind a session stored since, its place no more recent than before", () => {
    const s = (n: number) => new Uint8Array([n]);
    const cache = new ClientSessionCache(2);
    cache.store("a", s(1));
    cache.store("a", s(2));
    const taken = cache.take("a")!;
    assert.deepEqual(taken, s(2));
    cache.store("a", s(3)); // fresher than the one taken
    cache.putBack("a", taken);
    assert.deepEqual([cache.take("a"), cache.take("a"), cache.take("a"), cache.take("a")], [s(3), s(2), s(1), undefined]);

    // A place emptied by take comes back at its old rank, so it is the one a newer place drops.
    cache.store("b", s(4));
    cache.store("c", s(5));
    const b = cache.take("b")!;
    assert.equal(cache.size, 1);
    cache.putBack("b", b);
    assert.equal(cache.size, 2);
    cache.store("d", s(6)); // drops "b" (stored before "c"), not "c"
    assert.equal(cache.take("b"), undefined);
    assert.deepEqual(cache.take("c"), s(5));
    assert.deepEqual(cache.take("d"), s(6));

    // Put back into a full place, it is the oldest of five and goes.
    const full = new ClientSessionCache(1);
    full.store("a", s(1));
    const one = full.take("a")!;
    for (let i = 2; i <= 5; i++) full.store("a", s(i));
    full.putBack("a", one);
    assert.deepEqual([full.take("a"), full.take("a"), full.take("a"), full.take("a"), full.take("a")], [s(5), s(4), s(3), s(2), undefined]);

    // A session not handed out by take (or put back twice) is stored as new.
    const other = new ClientSessionCache(2);
    other.store("a", s(1));
    other.putBack("a", s(9));
    assert.deepEqual(other.take("a"), s(9));
    const none = new ClientSessionCache(0);
    none.putBack("a", s(1));
    assert.equal(none.size, 0);
  });

  test("property: taking then putting back, with no store between, leaves the cache as it was (take's order, which places go first)", () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 }),
      (stores, takes) => {
        const fill = () => {
          const cache = new ClientSessionCache(3);
          for (const [place, value] of stores) cache.store(String(place), new Uint8Array([value]));
          return cache;
        };
        // Two new places first: which places they drop shows the places' ranks.
        const drain = (cache: ClientSessionCache) => (cache.store("4", new Uint8Array([0])), cache.store("5", new Uint8Array([0])), [0, 1, 2, 3, 4, 5]).map((place) => {
          const got: number[] = [];
          for (let s = cache.take(String(place)); s !== undefined; s = cache.take(String(place))) got.push(s[0]!);
          return got;
        });
        const cache = fill();
        const taken: [string, Uint8Array][] = [];
        for (const place of takes) {
          const session = cache.take(String(place));
          if (session !== undefined) taken.push([String(place), session]);
        }
        for (const [place, session] of taken.reverse()) cache.putBack(place, session);
        assert.deepEqual(drain(cache), drain(fill()));
      },
    ));
  });

  test("property: never more places than its bound, and a taken session was stored for that place", () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 5 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 255 })), { maxLength: 200 }),
      (max, ops) => {
        const cache = new ClientSessionCache(max);
        const stored = new Map<number, number[]>();
        for (const [isStore, place, value] of ops) {
          if (isStore) {
            cache.store(String(place), new Uint8Array([value]));
            stored.set(place, [...(stored.get(place) ?? []), value]);
          } else {
            const got = cache.take(String(place));
            if (got !== undefined) assert.ok(stored.get(place)!.includes(got[0]!));
          }
          assert.ok(cache.size <= max);
        }
      },
    ));
  });
});

describe("tlsConnector resumes sessions against openssl s_server", () => {
  for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
    test(`${version}: the second and third connections resume; maxCachedSessions: 0 never does`, async () => {
      const pki = testPKI();
      const server = await startSServer(serverArgs(["-rev", version === "TLSv1.3" ? "-tls1_3" : "-tls1_2"]), false);
      try {
        using context = new TLSContext({ ca: pki.root, minVersion: "TLSv1.2" });
        const connector = tlsConnector({ context });
        const reused: boolean[] = [];
        for (let i = 0; i < 3; i++) {
          const conn = await connector({ host: "localhost", port: server.port });
          assert.equal(tlsInfo(conn)!.protocol, version);
          reused.push(tlsInfo(conn)!.isSessionReused());
          assert.equal(await echo(conn, `hi${i}`), `${i}ih\n`);
          await sessionTaken(conn);
          await conn.close();
        }
        assert.deepEqual(reused, [false, true, true]);

        const uncached = tlsConnector({ context, maxCachedSessions: 0 });
        for (let i = 0; i < 2; i++) {
          const conn = await uncached({ host: "localhost", port: server.port });
          assert.equal(tlsInfo(conn)!.isSessionReused(), false);
          assert.equal(await echo(conn, "x"), "x\n");
          await sessionTaken(conn);
          await conn.close();
        }
      } finally {
        await server.close();
      }
    });
  }

  test("a session is kept per place: another name or port makes a full handshake", async () => {
    const pki = testPKI();
    const a = await startSServer(serverArgs(["-rev"]), false);
    const b = await startSServer(serverArgs(["-rev"]), false);
    try {
      using context = new TLSContext({ ca: pki.root });
      const connector = tlsConnector({ context });
      const first = await connector({ host: "localhost", port: a.port });
      assert.equal(await echo(first, "a"), "a\n");
      await sessionTaken(first);
      await first.close();
      const otherPort = await connector({ host: "localhost", port: b.port });
      assert.equal(tlsInfo(otherPort)!.isSessionReused(), false);
      await otherPort.close();
      const sameAgain = await connector({ host: "localhost", port: a.port });
      assert.equal(tlsInfo(sameAgain)!.isSessionReused(), true);
      await sameAgain.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("a server that sends no ticket: the connector's wait for one ends after a bounded number of reads, and nothing is cached", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs(["-rev", "-num_tickets", "0"]), false);
    try {
      using context = new TLSContext({ ca: pki.root });
      const connector = tlsConnector({ context });
      const conn = await connector({ host: "localhost", port: server.port });
      // The engine's own wait (what the connector waits on); internal, so reached by a cast.
      const engine = tlsInfo(conn) as unknown as { nextSession(except?: Uint8Array | null): Promise<Uint8Array | null> };
      let settled: Uint8Array | null | undefined;
      void engine.nextSession().then((session) => (settled = session));
      for (let i = 0; i < 40 && settled === undefined; i++) assert.equal(await echo(conn, `r${i}`), `${[...`r${i}`].reverse().join("")}\n`);
      assert.equal(settled, null, "the wait ended (null) while the connection stays open");
      await conn.close();
      const again = await connector({ host: "localhost", port: server.port });
      assert.equal(tlsInfo(again)!.isSessionReused(), false);
      await again.close();
    } finally {
      await server.close();
    }
  });

  for (const how of ["refused", "throws"] as const) test(`a plain connection that fails (${how === "refused" ? "refused" : "the connector throws"}) sent nothing: the session it took goes back and the next connection resumes it`, async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs(["-rev"]), false);
    // A real refused connection: a port that was bound and closed again.
    const closed = await startSServer(serverArgs(["-rev"]), false);
    const refusedPort = closed.port;
    await closed.close();
    try {
      using context = new TLSContext({ ca: pki.root });
      let refuseNext = false;
      const connector = tlsConnector({
        context,
        connector: (options) => {
          const refuse = refuseNext;
          refuseNext = false;
          if (refuse && how === "throws") throw Object.assign(new Error("no route"), { code: "TEST_THROWN" });
          return connect({ ...(options as ConnectOptions), port: refuse ? refusedPort : (options as { port: number }).port });
        },
      });
      const first = await connector({ host: "localhost", port: server.port });
      assert.equal(await echo(first, "a"), "a\n");
      await sessionTaken(first);
      await first.close();
      refuseNext = true;
      // A connector that throws is a rejection, as a refused connect is.
      const failed = connector({ host: "localhost", port: server.port });
      await assert.rejects(failed, (e: Error & { code?: string }) => e.code === (how === "refused" ? "ECONNREFUSED" : "TEST_THROWN"));
      const again = await connector({ host: "localhost", port: server.port });
      assert.equal(tlsInfo(again)!.isSessionReused(), true);
      await again.close();
    } finally {
      await server.close();
    }
  });

  test("bad settings: maxCachedSessions must be a non-negative integer", () => {
    assert.throws(() => tlsConnector({ maxCachedSessions: -1 }), RangeError);
    assert.throws(() => tlsConnector({ maxCachedSessions: 1.5 }), RangeError);
  });
});

describe("the HTTP client resumes TLS sessions", () => {
  test("request() to `openssl s_server -www`: the second connection is reused", async () => {
    const pki = testPKI();
    // -www answers each request with a status page and closes: every request is a new connection.
    const server = await startSServer(serverArgs(["-www"]), false);
    const agent = new Agent({ tls: { ca: pki.root } });
    try {
      const pages: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await request(`https://localhost:${server.port}/`, { dispatcher: agent });
        assert.equal(res.statusCode, 200);
        pages.push(await res.body.text());
        // The ticket came before the page; give the connector's store its turn.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const kinds = pages.map((page) => /\b(New|Reused), /.exec(page)?.[1]);
      assert.deepEqual(kinds, ["New", "Reused", "Reused"]);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("Pool's tls option (PoolTLSSettings) takes maxCachedSessions: 0 makes every connection new, the default resumes; tls.connector is a TypeError, a bad size a RangeError", async () => {
    const pki = testPKI();
    const server = await startSServer(serverArgs(["-www"]), false);
    const kinds = async (tls: PoolTLSSettings): Promise<(string | undefined)[]> => {
      const pool = new Pool(`https://localhost:${server.port}`, { tls });
      try {
        const seen: (string | undefined)[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await request(`https://localhost:${server.port}/`, { dispatcher: pool });
          seen.push(/\b(New|Reused), /.exec(await res.body.text())?.[1]);
          await new Promise((resolve) => setTimeout(resolve, 0)); // the connector's store
        }
        return seen;
      } finally {
        await pool.close();
      }
    };
    try {
      assert.deepEqual(await kinds({ ca: pki.root }), ["New", "Reused", "Reused"]);
      assert.deepEqual(await kinds({ ca: pki.root, maxCachedSessions: 0 }), ["New", "New", "New"]);
      assert.throws(() => new Pool(`https://localhost:${server.port}`, { tls: { ca: pki.root, connector: () => Promise.reject(new Error("never")) } as PoolTLSSettings }), TypeError);
      const bad = new Pool(`https://localhost:${server.port}`, { tls: { ca: pki.root, maxCachedSessions: -1 } });
      try {
        await assert.rejects(request(`https://localhost:${server.port}/`, { dispatcher: bad }), RangeError);
      } finally {
        await bad.close();
      }
    } finally {
      await server.close();
    }
  });
});
