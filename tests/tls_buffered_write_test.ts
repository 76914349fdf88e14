// fd-mode TLS with buffered writes (tls/fd_output.ts): records leave in
// batches, and records the socket did not take keep their plaintext counted
// as unsent. Against a server that does not read, the client's output
// backs up (bufferedAmount > 0); a graceful close then waits for all of it,
// every byte arrives once and in order, and the server ends cleanly — its
// peer's close_notify came after the data (an EOF before it would be
// ERR_TLS_TRUNCATED at our server). Checked with our server and node:tls.
import assert from "node:assert/strict";
import * as nodeTls from "node:tls";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const pki = testPKI();
const KEY = pki.key;

/** Byte i of the stream: a pattern that shifts every 8 KiB, so a repeated or lost piece shows. */
function pattern(from: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const at = from + i;
    out[i] = (at * 7 + (at >> 13)) & 0xff;
  }
  return out;
}

/** Checks incoming bytes against the pattern; `got` is how many matched so far. */
function checker() {
  const state = { got: 0, bad: -1 };
  return {
    state,
    take(bytes: Uint8Array) {
      for (let i = 0; i < bytes.length; i++) {
        const at = state.got + i;
        if (bytes[i] !== ((at * 7 + (at >> 13)) & 0xff) && state.bad < 0) state.bad = at;
      }
      state.got += bytes.length;
    },
  };
}

const TOTAL = 32 << 20;

describe("tls fd mode, buffered writes", () => {
  for (const shape of ["one 32 MiB send", "512 sends of 64 KiB"] as const) {
    test(`${shape} to a server that does not read: bufferedAmount holds it, close() waits, every byte arrives once, close_notify last (our server)`, async () => {
      const check = checker();
      let serverConn: Connection | undefined;
      let opened!: () => void;
      const open = new Promise<void>((r) => (opened = r));
      let ended!: (how: string) => void;
      const end = new Promise<string>((r) => (ended = r));
      const server = listenTLS({
        port: 0,
        cert: pki.chain,
        key: KEY,
        handler: {
          open: (c) => {
            c.pause();
            serverConn = c;
            opened();
          },
          data: (_c, d) => check.take(d),
          end: (c) => {
            ended("end");
            void c.close();
          },
          close: (_c, error) => ended(error === undefined ? "closed" : `error ${(error as { code?: string }).code}`),
        },
      });
      try {
        const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, ca: pki.root });
        await open;
        let accepted = true;
        if (shape === "one 32 MiB send") accepted = client.send(pattern(0, TOTAL));
        else for (let at = 0; at < TOTAL; at += 65536) accepted = client.send(pattern(at, 65536)) && accepted;
        assert.equal(accepted, false, "the socket cannot take 32 MiB at once");
        assert.ok(client.bufferedAmount > 0);
        const closing = client.close();
        serverConn!.resume();
        await closing;
        assert.equal(await end, "end");
        assert.equal(check.state.bad, -1, `first wrong byte at ${check.state.bad}`);
        assert.equal(check.state.got, TOTAL);
      } finally {
        server.close();
      }
    });
  }

  test("the same against node:tls as the server: all bytes, in order, then the end", async () => {
    const check = checker();
    let paused: nodeTls.TLSSocket | undefined;
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    let ended!: () => void;
    const end = new Promise<void>((r) => (ended = r));
    const server = nodeTls.createServer({ cert: pki.chain, key: KEY }, (s) => {
      s.pause();
      paused = s;
      s.on("data", (d: Uint8Array) => check.take(d));
      s.on("end", () => {
        ended();
        s.end();
      });
      opened();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const client = await connectTLS({ host: "127.0.0.1", servername: "localhost", port, ca: pki.root });
      await open;
      assert.equal(client.send(pattern(0, TOTAL)), false);
      const closing = client.close();
      paused!.resume();
      await closing;
      await end;
      assert.equal(check.state.bad, -1, `first wrong byte at ${check.state.bad}`);
      assert.equal(check.state.got, TOTAL);
    } finally {
      server.close();
    }
  });
});
