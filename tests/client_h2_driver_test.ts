// The HTTP/2 client conformance driver's own waits (tests/conformance/client_h2/driver.ts):
// a wait left pending by an earlier case (a race's loser, a case that failed early) must
// neither swallow the wake-up of the current case's wait nor take its connection. With
// one wake slot the stale wait cleared it when its timer fired, and the current accept()
// slept through its connection until its deadline: a 5-10 s "client stall" (1 in 300-600
// case runs under load) that was the script's, not the client's.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { H2ScriptServer } from "./conformance/client_h2/driver.ts";

const PREFACE_AND_SETTINGS = new Uint8Array([
  ...new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  0, 0, 0, 4, 0, 0, 0, 0, 0, // an empty SETTINGS frame
]);

/** Runs event-loop turns (no clock) until `done()` or `maxTurns`; whether it got done. */
async function turnsUntil(done: () => boolean, maxTurns: number): Promise<boolean> {
  for (let i = 0; i < maxTurns && !done(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  return done();
}

function connectAndGreet(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.write(PREFACE_AND_SETTINGS);
      resolve(s);
    });
    s.on("error", reject);
  });
}

describe("client_h2 conformance driver waits", () => {
  test("an accept() left by an earlier case gives up at start() and does not take the next case's connection", async () => {
    const server = await H2ScriptServer.listen(false);
    try {
      server.start([]);
      const stale = server.accept(performance.now() + 60_000).then(() => "accepted", (e: Error) => e.message);
      server.start([]); // the next case
      assert.equal(await stale, "an accept() of an earlier case, given up");
      const current = server.accept(performance.now() + 60_000);
      let settled = false;
      void current.then(() => (settled = true), () => (settled = true));
      const client = await connectAndGreet(server.port);
      try {
        assert.ok(await turnsUntil(() => settled, 200_000), "the current accept() was not woken by its connection");
        const c = await current;
        assert.equal(c.index, 0);
        c.destroy();
      } finally {
        client.destroy();
      }
    } finally {
      await server.close();
    }
  });

  test("a stale accept() whose timer fires does not swallow the wake-up of the current one", async () => {
    const server = await H2ScriptServer.listen(false);
    try {
      server.start([]);
      // An earlier wait with a deadline already due: its timer fires on the next turns.
      const stale = server.accept(performance.now() + 5).then(() => "accepted", (e: Error) => e.message);
      const current = server.accept(performance.now() + 60_000);
      let settled = false;
      void current.then(() => (settled = true), () => (settled = true));
      assert.equal(await stale, "the client opened no (further) connection");
      const client = await connectAndGreet(server.port);
      try {
        assert.ok(await turnsUntil(() => settled, 200_000), "the current accept() slept through its connection");
        (await current).destroy();
      } finally {
        client.destroy();
      }
    } finally {
      await server.close();
    }
  });
});
