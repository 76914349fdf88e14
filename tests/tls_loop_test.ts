// Handshakes in a loop, full and resumed, on both sides (tests/tls_soak.ts):
// our client against `openssl s_server` (600 full, 400 resumed, one
// shared context) and our server against our client in a child process
// (200 full, 200 resumed, tickets under our key ring). The fd count stays
// flat (every SSL, socket, session and context reference is released) and
// RSS is reported, bounded generously. The 10,000-handshake runs are
// `npm run conformance -- tls-soak`.
import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { connectTLSSync } from "../tls/mod.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";
import { describePhase, fdCount, type SoakPhase, soakClient, soakServer } from "./tls_soak.ts";

const CLIENT_FULL = 600;
const CLIENT_RESUMED = 400;
const SERVER_ROUNDS = 200;
const linuxOnly = { skip: process.platform !== "linux" ? "reads /proc/self/fd" : false };

function checkPhase(p: SoakPhase, expectReused: number): void {
  console.log(`tls loop: ${describePhase(p)}`);
  assert.equal(p.reused, expectReused, p.label);
  assert.equal(p.fdsAfter, p.fdsBefore, `${p.label}: fds`);
  // Leak guard, not a measurement: 1,000 leaked SSL objects with their
  // buffers would pass this by far (~64 KiB each).
  assert.ok(p.rssAfter - p.rssBefore < 64 * 1048576, `${p.label}: RSS grew by ${((p.rssAfter - p.rssBefore) / 1048576).toFixed(1)} MiB`);
}

describe("tls handshake loop", () => {
  test(`our client: ${CLIENT_FULL} full and ${CLIENT_RESUMED} resumed handshakes leave the fd count flat; RSS reported`, linuxOnly, async () => {
    const [full, resumed] = await soakClient(CLIENT_FULL, CLIENT_RESUMED);
    checkPhase(full!, 0);
    checkPhase(resumed!, CLIENT_RESUMED);
  });

  test(`our server: ${SERVER_ROUNDS} full and ${SERVER_ROUNDS} resumed handshakes leave the fd count flat; RSS reported`, linuxOnly, async () => {
    const [full, resumed] = await soakServer(SERVER_ROUNDS, SERVER_ROUNDS);
    checkPhase(full!, 0);
    checkPhase(resumed!, SERVER_ROUNDS);
  });

  test("a context made and freed per connection leaves nothing behind", linuxOnly, async () => {
    const pki = testPKI();
    const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!], false);
    try {
      const drain = () => new Promise((resolve) => setImmediate(resolve));
      connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, timeoutMs: 10_000 }).close();
      const before = fdCount();
      for (let i = 0; i < 100; i++) {
        connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, timeoutMs: 10_000 }).close();
        if (i % 10 === 9) await drain();
      }
      assert.equal(fdCount(), before);
    } finally {
      await server.close();
    }
  });
});
