import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { Loop } from "../poll/loop.ts";
import { type ChildResult, runChild, startChild } from "./loop_helpers.ts";

/** Descriptors the child may open (its runtime needs a few dozen). */
const NOFILE = 256;
/** The listener's pause after a failed accept. */
const RETRY_MS = 50;

interface Result {
  io: string;
  clients: number;
  starvedMs: number;
  starvedErrors: number;
  codes: string[];
  accepted: number;
  acceptErrors: number;
  reported: number;
  port: number;
  logged: string[];
  loggedErrors: number;
  messages: string[];
}

/** Runs listener_fixture_emfile.ts under `ulimit -n NOFILE`. */
function runFixture(io: string): Promise<ChildResult> {
  return runChild("listener_fixture_emfile.ts", [io], 20_000, { DENO_NO_UPDATE_CHECK: "1" }, NOFILE);
}

describe("Listener accept failing with EMFILE (reported to the onError option)", () => {
  for (const io of ["readiness", "uring"]) {
    test(`${io}: backs off (about one attempt per ${RETRY_MS} ms) and accepts again once descriptors are free`, async () => {
      const { code, stdout, stderr } = await runFixture(io);
      assert.equal(code, 0, stderr);
      const line = stdout.trim().split("\n").at(-1)!;
      const result = JSON.parse(line) as Result;
      console.log(`# ${line}`);
      assert.ok(result.clients > 10 && result.clients < NOFILE, `the descriptor table was filled (${result.clients} clients)`);
      assert.deepEqual(result.codes, ["EMFILE"]);
      assert.ok(result.starvedErrors >= 1, "the failure is reported");
      // Retrying every tick reports thousands in this time.
      const most = Math.ceil(result.starvedMs / RETRY_MS) + 2;
      assert.ok(result.starvedErrors <= most, `${result.starvedErrors} failed accepts reported in ${result.starvedMs.toFixed(0)} ms (at most ${most} expected)`);
      assert.equal(result.acceptErrors, result.reported, "every failure counted is reported");
      assert.deepEqual(result.messages, [`accept failed: EMFILE (127.0.0.1:${result.port})`]);
      // The logger option: listening, then each failed accept that paused accepting at ERROR.
      assert.deepEqual(result.logged, ["debug listen: listening", "error listen: accept failed, accepting paused EMFILE"]);
      assert.equal(result.loggedErrors, result.reported);
      assert.ok(result.accepted >= 1 && result.accepted <= 3, `${result.accepted} connections accepted after 3 descriptors were freed`);
    });
  }
});

/** Connections thrown at the flooded server: more than twice its descriptors. */
const FLOOD = 600;

/**
 * The flood's clients: each connects (the kernel's backlog completes it);
 * once all are connected and the server's descriptor table ran full
 * (`full` resolves), each sends a byte and waits for its echo. Waiting for
 * `full` makes the exhaustion certain: no connection closes before it,
 * where a server slower to accept than the clients to finish would serve
 * them all without ever running out.
 */
async function floodClients(port: number, loop: Loop, full: Promise<string>): Promise<number> {
  const conns: Connection[] = await Promise.all(Array.from({ length: FLOOD }, () => connect({ host: "127.0.0.1", port, loop, timeoutMs: 30_000 })));
  await full;
  let echoed = 0;
  await Promise.all(conns.map(async (conn, i) => {
    try {
      await conn.write(new Uint8Array([i & 0xff]));
      const reply = await conn.read();
      if (reply !== null && reply[0] === (i & 0xff)) echoed++;
    } finally {
      await conn.close();
    }
  }));
  return echoed;
}

describe("EMFILE on the default loop (no onError anywhere)", () => {
  for (const io of ["readiness", "uring"]) {
    test(`${io}: ${FLOOD} connections against ulimit -n ${NOFILE}: the server pauses, retries and serves them all`, async () => {
      const child = startChild("listener_fixture_flood.ts", [io, String(FLOOD)], 90_000, { DENO_NO_UPDATE_CHECK: "1" }, NOFILE);
      const { port } = JSON.parse(await child.firstLine) as { port: number };
      const loop = new Loop();
      let echoed = 0;
      try {
        echoed = await floodClients(port, loop, child.line(1));
      } finally {
        loop.close();
      }
      const { code, stdout, stderr } = await child.exited;
      assert.equal(code, 0, `${stdout}\n${stderr}`);
      assert.equal(echoed, FLOOD);
      const line = stdout.trim().split("\n").at(-1)!;
      console.log(`# ${line}`);
      const result = JSON.parse(line) as { served: number; mostOpen: number; acceptErrors: number };
      assert.equal(result.served, FLOOD);
      assert.ok(result.mostOpen < NOFILE, `${result.mostOpen} connections open at once`);
      assert.ok(result.acceptErrors >= 1, "the descriptor table ran full (no accept failed)");
    });
  }
});
