// Kernel TLS opt-in (`ktls: true`, SSL_OP_ENABLE_KTLS): after the handshake
// tlsInfo(conn) says whether the kernel carries the records (BIO_get_ktls_send
// / BIO_get_ktls_recv), and tlsSendfile sends a file over TLS (SSL_sendfile
// with kTLS, pread + write otherwise). Where the kernel has no `tls` module
// the option is a no-op: the tests then check that `ktls` reports false and
// that the data path still works, and log a note saying so.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connectTLS, listenTLS, tlsInfo } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { tlsSendfile } from "../tls/sendfile.ts";
import { kernelTLSSupport } from "../tls/ktls.ts";
import { UnsupportedError } from "../core/errors.ts";
import { testPKI } from "./tls_pki.ts";

const SUITE = "TLS_AES_128_GCM_SHA256";

/** Collects `expected` bytes (or what came before the end of stream). */
function collect(conn: Connection, expected: number): Promise<Uint8Array> {
  return (async () => {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let chunk = total < expected ? await conn.read() : null; chunk !== null; chunk = total < expected ? await conn.read() : null) {
      parts.push(chunk.slice());
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  })();
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

describe("kTLS opt-in", () => {
  test("ktls: true on both contexts: tlsInfo reports the kernel's answer; echo and tlsSendfile carry the bytes either way", async () => {
    const pki = testPKI();
    const server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, ciphersuites: SUITE, ktls: true });
    const client = new TLSContext({ ca: pki.root, ciphersuites: SUITE, ktls: true });
    const dir = mkdtempSync(join(tmpdir(), "ffinet-ktls-"));
    try {
      const accepted = server.accept();
      const conn = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, context: client });
      const peer = (await accepted)!;
      const info = tlsInfo(conn)!;
      const peerInfo = tlsInfo(peer)!;
      assert.equal(info.cipher, SUITE);
      for (const i of [info, peerInfo]) {
        assert.equal(typeof i.ktls, "boolean");
        assert.equal(i.ktls, i.ktlsSend || i.ktlsRecv);
      }
      // Without the kernel's tls protocol nothing can be active.
      if (!kernelTLSSupport().available) assert.equal(info.ktls || peerInfo.ktls, false);
      if (!info.ktls) {
        const why = kernelTLSSupport().available ? "OpenSSL without kTLS, or the cipher not taken by the kernel" : kernelTLSSupport().reason;
        console.log(`note: kernel TLS not active here (${why}): ktls is a no-op, tested as such`);
      } else console.log(`note: kernel TLS active (client send ${info.ktlsSend}, recv ${info.ktlsRecv})`);

      const file = join(dir, "payload.bin");
      const data = pattern(3 * 1024 * 1024 + 123);
      writeFileSync(file, data);
      const fd = openSync(file, "r");
      try {
        const received = collect(peer, 3 + data.length + 10);
        await conn.write(new Uint8Array([1, 2, 3]));
        const sent = await tlsSendfile(conn, fd, 0, data.length);
        assert.equal(sent, data.length);
        // Past the end of the file: only what is there.
        assert.equal(await tlsSendfile(conn, fd, data.length - 10, 100), 10);
        const got = await received;
        await peer.close();
        // The client reads to the server's close_notify (taking in its tickets) before closing.
        while ((await conn.read()) !== null);
        await conn.close();
        assert.equal(got.length, 3 + data.length + 10);
        assert.deepEqual(got.subarray(0, 3), new Uint8Array([1, 2, 3]));
        assert.ok(Buffer.from(got.subarray(3, 3 + data.length)).equals(Buffer.from(data)), "file bytes intact");
        assert.deepEqual(got.subarray(3 + data.length), data.subarray(data.length - 10));
      } finally {
        closeSync(fd);
      }
    } finally {
      server.close();
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("ktls per connection with a shared context; off by default; bad values are TypeErrors", async () => {
    const pki = testPKI();
    const serverContext = new TLSContext({ role: "server", cert: pki.chain, key: pki.key });
    assert.equal(serverContext.ktls, false);
    const server = listenTLS({ port: 0, context: serverContext, handler: { data: (c, d) => void c.send(d) } });
    const client = new TLSContext({ ca: pki.root });
    try {
      const plain = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, context: client });
      assert.equal(tlsInfo(plain)!.ktls, false);
      assert.equal(tlsInfo(plain)!.ktlsSend, false);
      await plain.close();
      const asked = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, context: client, ktls: true });
      await asked.write(new TextEncoder().encode("ping"));
      assert.equal(new TextDecoder().decode((await asked.read())!), "ping");
      assert.equal(typeof tlsInfo(asked)!.ktls, "boolean");
      await asked.close();
      assert.throws(() => new TLSContext({ ktls: "yes" as unknown as boolean }), TypeError);
      await assert.rejects(tlsSendfile(plain, 0, -1, 1), RangeError);
    } finally {
      server.close();
      serverContext.close();
      client.close();
    }
  });

  test("kernelTLSSupport asks the kernel once and says why not; ktls: \"require\" is an UnsupportedError where it cannot", async () => {
    const support = kernelTLSSupport();
    assert.equal(kernelTLSSupport(), support, "probed once per process");
    assert.equal(typeof support.available, "boolean");
    assert.equal(typeof support.errno, "string");
    if (support.available) {
      assert.equal(support.reason, "");
      assert.ok(["", "ENOTCONN"].includes(support.errno) || support.errno.startsWith("E"), support.errno);
    } else {
      assert.ok(support.errno.startsWith("E"), `errno named: ${support.errno}`);
      assert.ok(support.reason.length > 0);
    }
    console.log(`note: kernelTLSSupport(): available ${support.available}, errno ${support.errno || "none"}${support.reason ? `: ${support.reason}` : ""}`);

    const pki = testPKI();
    const key = pki.key;
    assert.throws(() => new TLSContext({ ktls: "always" as unknown as boolean }), TypeError);
    if (!support.available) {
      const refused = (err: unknown) => {
        assert.ok(err instanceof UnsupportedError, String(err));
        assert.equal(err.code, "ERR_UNSUPPORTED");
        assert.equal(err.feature, "kTLS");
        assert.ok(err.message.includes(support.errno), err.message);
        return true;
      };
      assert.throws(() => new TLSContext({ ca: pki.root, ktls: "require" }), refused);
      assert.throws(() => listenTLS({ port: 0, cert: pki.chain, key, ktls: "require" }), refused);
      const server = listenTLS({ port: 0, cert: pki.chain, key });
      const client = new TLSContext({ ca: pki.root });
      try {
        await assert.rejects(connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, context: client, ktls: "require" }), refused);
        // Best effort still connects, without the kernel.
        const conn = await connectTLS({ host: "127.0.0.1", servername: "localhost", port: server.port, context: client, ktls: true });
        assert.equal(tlsInfo(conn)!.ktls, false);
        await conn.close();
      } finally {
        server.close();
        client.close();
      }
    } else {
      const context = new TLSContext({ ca: pki.root, ktls: "require" });
      assert.equal(context.ktls, true);
      context.close();
    }
  });
});
