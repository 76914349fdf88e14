// 1,000 full handshakes in a loop against `openssl s_server` with one shared
// client context: the fd count stays flat (every SSL, socket and context
// reference is released), and RSS is reported, bounded generously.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import process from "node:process";
import { describe, test } from "node:test";
import { connectTLSSync, TLSContext } from "../tls/mod.ts";
import { startSServer } from "./tls_helpers.ts";
import { testPKI } from "./tls_pki.ts";

const ROUNDS = 1000;

function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

describe("tls handshake loop", () => {
  test(`${ROUNDS} handshakes leave the fd count flat; RSS reported`, { skip: process.platform !== "linux" ? "reads /proc/self/fd" : false }, async () => {
    const pki = testPKI();
    const server = await startSServer(["-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!], false);
    try {
      using ctx = new TLSContext({ ca: pki.root });
      const once = () => {
        const tls = connectTLSSync({ host: "localhost", port: server.port, context: ctx, timeoutMs: 10_000 });
        try {
          assert.equal(tls.protocol, "TLSv1.3");
        } finally {
          tls.close();
        }
      };
      // s_server prints ~2 KB per connection: yield now and then so the
      // runtime drains its pipe (a full pipe would stall it).
      const drain = () => new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 50; i++) { // warm-up: lazy libraries, JIT
        once();
        if (i % 10 === 9) await drain();
      }
      const fdsBefore = fdCount();
      const rssBefore = process.memoryUsage().rss;
      const started = performance.now();
      for (let i = 0; i < ROUNDS; i++) {
        once();
        if (i % 10 === 9) await drain();
      }
      const ms = performance.now() - started;
      const fdsAfter = fdCount();
      const rssAfter = process.memoryUsage().rss;
      // Per-context variant: a context made and freed per connection.
      for (let i = 0; i < 100; i++) {
        connectTLSSync({ host: "localhost", port: server.port, ca: pki.root, timeoutMs: 10_000 }).close();
        if (i % 10 === 9) await drain();
      }
      const fdsEnd = fdCount();
      const mib = (n: number) => (n / 1048576).toFixed(1);
      console.log(`tls loop: ${ROUNDS} handshakes in ${ms.toFixed(0)} ms (${(ROUNDS / (ms / 1000)).toFixed(0)}/s), fds ${fdsBefore} → ${fdsAfter} → ${fdsEnd}, RSS ${mib(rssBefore)} → ${mib(rssAfter)} MiB`);
      assert.equal(fdsAfter, fdsBefore);
      assert.equal(fdsEnd, fdsBefore);
      // Leak guard, not a measurement: 1,000 leaked SSL objects with their
      // buffers would pass this by far (~64 KiB each).
      assert.ok(rssAfter - rssBefore < 64 * 1048576, `RSS grew by ${mib(rssAfter - rssBefore)} MiB`);
    } finally {
      await server.close();
    }
  });
});
