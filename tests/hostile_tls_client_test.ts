// Our TLS client against hostile servers (client red team, second round):
// raw sockets speaking crafted records (a close or a reset mid-handshake,
// half a record, floods of warning alerts, ChangeCipherSpec and empty
// records, a record past 2^14, a TLS 1.0 ServerHello, an HTTP answer,
// silence) each end the handshake in a typed NetError (bytes that are no
// TLS with a hint saying so, not one to lower minVersion); every record split
// into one-byte TCP segments still makes a handshake and an echo;
// openssl s_server asking to renegotiate is refused, sixty KeyUpdates are
// followed; a certificate for client use only (wrong EKU) is INVALID_PURPOSE,
// a 240 kB chain a handshake error; an absolute name ("localhost.") is sent
// and checked without its dot and a Unicode name goes out as its A-label;
// a session is resumed only for a server its certificate names and only
// when it was verified;
// and a TCP FIN without close_notify ends an HTTPS body of unknown length
// (read until close, or chunked) with ERR_TLS_TRUNCATED, never a clean end.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetError, SocketTimeoutError, TLSError, TLSHandshakeError, TLSVerifyError } from "../core/errors.ts";
import { Agent, fetch, request } from "../http/client/mod.ts";
import { connectTLS, listenTLS, type TLSListener, tlsInfo } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A TLS record of `type` (TLS 1.2 version bytes) carrying `body`. */
const record = (type: number, body: number[]): Buffer => Buffer.from([type, 3, 3, body.length >> 8, body.length & 0xff, ...body]);
const many = (n: number, one: Buffer): Buffer => Buffer.concat(Array.from({ length: n }, () => one));

/** A raw server that answers the first bytes it gets (the ClientHello) with `act`. */
async function rawServer(act: (sock: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.once("data", () => act(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;
const closeServer = (server: net.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** openssl s_server on a free port with stdin open for its commands (R, K, text). */
async function sServer(args: string[]): Promise<{ port: number; child: ChildProcess; close: () => Promise<void> }> {
  const child = spawn("timeout", ["60", "openssl", "s_server", "-accept", "127.0.0.1:0", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stderr!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (d: Uint8Array) => {
      out += dec.decode(d);
      const m = /ACCEPT [^\n]*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`s_server exited (${code}): ${out}`)));
  });
  const close = (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  };
  return { port, child, close };
}

function certArgs(cert = "leaf.pem", key = "leaf.key"): string[] {
  const pki = testPKI();
  return ["-cert", join(pki.dir, cert), "-cert_chain", join(pki.dir, "int.pem"), "-key", join(pki.dir, key)];
}

const HOSTILE: Array<[string, (sock: net.Socket) => void, (err: unknown) => boolean, object?]> = [
  ["a close after the ClientHello", (s) => s.end(), (e) => e instanceof TLSHandshakeError],
  ["a reset after the ClientHello", (s) => s.resetAndDestroy(), (e) => e instanceof NetError],
  ["half a record header, then a close", (s) => s.end(Buffer.from([22, 3])), (e) => e instanceof TLSHandshakeError],
  ["half a record, then a close", (s) => s.end(Buffer.from([22, 3, 3, 0, 50, 2, 0])), (e) => e instanceof TLSHandshakeError],
  ["5000 warning alerts", (s) => s.write(many(5000, record(21, [1, 90]))), (e) => e instanceof TLSHandshakeError && /too many warn alerts/.test(e.message)],
  ["5000 ChangeCipherSpec records", (s) => s.write(many(5000, record(20, [1]))), (e) => e instanceof TLSHandshakeError],
  ["5000 empty handshake records", (s) => s.write(many(5000, record(22, []))), (e) => e instanceof TLSHandshakeError],
  ["5000 empty application data records", (s) => s.write(many(5000, record(23, []))), (e) => e instanceof TLSHandshakeError],
  ["a record past 2^14 + 2048 bytes", (s) => s.write(Buffer.concat([Buffer.from([22, 3, 3, 0x48, 0x01]), Buffer.alloc(0x4801)])), (e) => e instanceof TLSHandshakeError],
  ["an SSLv2 record", (s) => s.write(Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02])), (e) => e instanceof TLSHandshakeError],
  // Not a version matter: the hint says the bytes were no TLS, not to lower minVersion.
  ["an HTTP answer", (s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"), (e) => e instanceof TLSHandshakeError && /did not speak TLS/.test(e.message) && !/minVersion/.test(e.message)],
  [
    "a TLS 1.0 ServerHello (to a client that allows TLS 1.2)",
    (s) => s.write(record(22, [2, 0, 0, 38, 3, 1, ...new Array<number>(32).fill(1), 0, 0, 0x2f, 0])),
    (e) => e instanceof TLSHandshakeError && /unsupported protocol|wrong version|version/i.test(e.message),
    { minVersion: "TLSv1.2" },
  ],
  ["silence (the handshake never finishes)", () => {}, (e) => e instanceof SocketTimeoutError],
];

describe("TLS client against hostile raw servers", () => {
  for (const [name, act, check, extra] of HOSTILE) {
    test(`${name}: a typed error`, async () => {
      const pki = testPKI();
      const server = await rawServer(act);
      try {
        await assert.rejects(connectTLS({ host: "localhost", port: portOf(server), ca: pki.root, handshakeTimeoutMs: 1500, ...extra }), (err: unknown) => {
          assert.ok(err instanceof NetError, String(err));
          assert.ok(check(err), String(err));
          return true;
        });
      } finally {
        await closeServer(server);
      }
    });
  }

  test("every byte in its own TCP segment, both ways: the handshake completes and data echoes", async () => {
    const pki = testPKI();
    await using echo = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: { data: (c, d) => c.send(d) } });
    // A relay that passes on one byte per write (no Nagle), a turn apart.
    const relay = net.createServer((down) => {
      const up = net.connect(echo.port, "127.0.0.1");
      up.setNoDelay(true);
      down.setNoDelay(true);
      const trickle = (from: net.Socket, to: net.Socket): void => {
        const queue: number[] = [];
        let busy = false;
        const pump = (): void => {
          const b = queue.shift();
          if (b === undefined || to.destroyed) {
            busy = false;
            return;
          }
          to.write(Buffer.from([b]));
          setImmediate(pump);
        };
        from.on("data", (d: Buffer) => {
          for (const b of d) queue.push(b);
          if (!busy) {
            busy = true;
            setImmediate(pump);
          }
        });
      };
      trickle(down, up);
      trickle(up, down);
      const end = (): void => {
        up.destroy();
        down.destroy();
      };
      up.on("error", end).on("close", end);
      down.on("error", end).on("close", end);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    try {
      const c = await connectTLS({ host: "localhost", port: portOf(relay), ca: pki.root });
      await c.write(enc.encode("one byte at a time"));
      let got = "";
      while (got.length < 18) {
        const chunk = await c.read();
        assert.ok(chunk !== null);
        got += dec.decode(chunk);
      }
      assert.equal(got, "one byte at a time");
      assert.equal(tlsInfo(c)?.protocol, "TLSv1.3");
      await c.close();
    } finally {
      await closeServer(relay);
    }
  });
});

describe("TLS client against openssl s_server commands", () => {
  test("a renegotiation the server asks for (TLS 1.2, HelloRequest) is refused: the connection ends in a TLSError, nothing more is read", async () => {
    const pki = testPKI();
    const server = await sServer([...certArgs(), "-tls1_2"]);
    try {
      const c = await connectTLS({ host: "localhost", port: server.port, ca: pki.root, minVersion: "TLSv1.2" });
      server.child.stdin!.write("before\n");
      assert.equal(dec.decode((await c.read())!), "before\n");
      server.child.stdin!.write("R\n");
      await sleep(200);
      server.child.stdin!.write("after\n");
      await assert.rejects(async () => {
        for (;;) {
          const chunk = await c.read();
          assert.ok(chunk === null || !dec.decode(chunk).includes("after"), "data after a renegotiation was read");
          if (chunk === null) throw new Error("a clean end");
        }
      }, (err: unknown) => err instanceof TLSError);
      await c.close().catch(() => {});
    } finally {
      await server.close();
    }
  });

  test("sixty KeyUpdates that each ask for ours: followed, the connection goes on both ways", async () => {
    const pki = testPKI();
    const server = await sServer(certArgs());
    let said = "";
    server.child.stdout!.on("data", (d: Uint8Array) => (said += dec.decode(d)));
    try {
      const c = await connectTLS({ host: "localhost", port: server.port, ca: pki.root });
      // s_server takes one command per read of its stdin and reports each
      // KeyUpdate it sent as a handshake step: the next once it did.
      const updates = (): number => (said.match(/SSL_do_handshake -> 1/g) ?? []).length;
      for (let i = 0; i < 60; i++) {
        server.child.stdin!.write("K\n");
        for (let k = 0; k < 500 && updates() <= i; k++) await sleep(5);
      }
      server.child.stdin!.write("after\n");
      let got = "";
      while (!got.includes("after\n")) {
        const chunk = await c.read();
        assert.ok(chunk !== null);
        got += dec.decode(chunk);
      }
      await c.write(enc.encode("ours\n"));
      for (let i = 0; i < 1000 && !said.includes("ours"); i++) await sleep(10);
      assert.ok(said.includes("ours"), said.slice(-300));
      assert.equal(updates(), 60);
      await c.close();
    } finally {
      await server.close();
    }
  });
});

describe("TLS client: certificates and names", () => {
  let dir = "";
  before(() => {
    const pki = testPKI();
    dir = mkdtempSync(join(tmpdir(), "ffinet-hostile-tls-"));
    // A leaf for localhost from the test intermediate, for client authentication only.
    writeFileSync(join(dir, "ext.cnf"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:localhost\n");
    const run = (args: string[]): void => void execFileSync("openssl", args, { timeout: 20_000, stdio: ["ignore", "ignore", "pipe"] });
    run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "eku.key"), "-out", join(dir, "eku.csr"), "-subj", "/CN=localhost"]);
    run(["x509", "-req", "-in", join(dir, "eku.csr"), "-CA", join(pki.dir, "int.pem"), "-CAkey", join(pki.dir, "int.key"), "-set_serial", "4242", "-out", join(dir, "eku.pem"), "-days", "30", "-extfile", join(dir, "ext.cnf")]);
    // The leaf and 400 copies of the intermediate: about 240 kB of chain.
    writeFileSync(join(dir, "huge_chain.pem"), readFileSync(join(pki.dir, "int.pem"), "utf8").repeat(400));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a certificate for client authentication only (EKU clientAuth) is TLSVerifyError INVALID_PURPOSE", async () => {
    const pki = testPKI();
    const server = await sServer(["-cert", join(dir, "eku.pem"), "-cert_chain", join(pki.dir, "int.pem"), "-key", join(dir, "eku.key")]);
    try {
      await assert.rejects(connectTLS({ host: "localhost", port: server.port, ca: pki.root }), (err: unknown) => {
        assert.ok(err instanceof TLSVerifyError, String(err));
        assert.equal(err.code, "ERR_TLS_VERIFY");
        assert.equal(err.reason, "INVALID_PURPOSE");
        assert.equal(err.depth, 0);
        return true;
      });
    } finally {
      await server.close();
    }
  });

  test("a 240 kB certificate chain is a TLSHandshakeError (excessive message size), not a hang or a heap of certificates", async () => {
    const pki = testPKI();
    const server = await sServer(["-cert", join(pki.dir, "leaf.pem"), "-cert_chain", join(dir, "huge_chain.pem"), "-key", join(pki.dir, "leaf.key")]);
    try {
      await assert.rejects(connectTLS({ host: "localhost", port: server.port, ca: pki.root }), (err: unknown) => {
        assert.ok(err instanceof TLSHandshakeError, String(err));
        assert.match(err.message, /excessive message size/);
        return true;
      });
    } finally {
      await server.close();
    }
  });

  test("SNI: an absolute name (localhost.) goes out and is checked without its dot; a Unicode name goes out as its A-label; a name over 255 bytes is a TypeError (ERR_TLS_INVALID_SERVERNAME) before a byte is sent", async () => {
    const pki = testPKI();
    const seen: Array<string | null> = [];
    // A data handler: each connection ends with its client's close. In read mode (no `data`) one waits for a
    // read() after the client's close_notify and FIN, on either backend; only a client that closed with the
    // session tickets unread (fd mode) reset it, and under FFINET_IO=uring (memory-BIO clients took them)
    // the two stayed open and kept the file's process alive.
    await using server = listenTLS({ port: 0, cert: pki.chain, key: pki.key, handler: { open: (c) => void seen.push(tlsInfo(c)?.servername ?? null), data: () => {} } });
    const a = await connectTLS({ host: "127.0.0.1", servername: "localhost.", port: server.port, ca: pki.root });
    await a.close();
    const b = await connectTLS({ host: "127.0.0.1", servername: "bücher.example", port: server.port, rejectUnauthorized: false });
    await b.close();
    for (let i = 0; i < 1000 && seen.length < 2; i++) await sleep(10);
    assert.deepEqual(seen, ["localhost", "xn--bcher-kva.example"]);
    // Checked as the A-label: the certificate names localhost only.
    await assert.rejects(connectTLS({ host: "127.0.0.1", servername: "bücher.example", port: server.port, ca: pki.root }), (err: unknown) => err instanceof TLSVerifyError && err.reason === "HOSTNAME_MISMATCH");
    await assert.rejects(connectTLS({ host: "127.0.0.1", servername: "a".repeat(300), port: server.port, ca: pki.root }), (err: unknown) => err instanceof TypeError && (err as { code?: string }).code === "ERR_TLS_INVALID_SERVERNAME");
  });

  test("a session is resumed only for a server its certificate names, and only when it was verified", async () => {
    const pki = testPKI();
    await using good = listenTLS({ port: 0, cert: pki.chain, key: pki.key, minVersion: "TLSv1.2", handler: { data: (c, d) => c.send(d) } });
    const sessionFrom = async (options: Parameters<typeof connectTLS>[0]): Promise<Uint8Array> => {
      const c = await connectTLS(options);
      await c.write(enc.encode("x"));
      await c.read(); // the TLS 1.3 ticket comes with it
      const session = await tlsInfo(c)!.session();
      await c.close();
      assert.ok(session !== null);
      return session;
    };
    for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
      const pinned = { minVersion: version, maxVersion: version, port: good.port, ca: pki.root };
      const session = await sessionFrom({ ...pinned, host: "127.0.0.1", servername: "localhost" });
      // The same name resumes.
      const same = await connectTLS({ ...pinned, host: "127.0.0.1", servername: "localhost", session });
      assert.equal(tlsInfo(same)!.isSessionReused(), true, version);
      await same.close();
      // Another name: the session is not offered, the full handshake checks the certificate (which names localhost only).
      await assert.rejects(connectTLS({ ...pinned, host: "127.0.0.1", servername: "other.example", session }), (err: unknown) => {
        assert.ok(err instanceof TLSVerifyError, String(err));
        assert.equal(err.reason, "HOSTNAME_MISMATCH");
        return true;
      });
    }
    // A session from a connection that did not verify (rejectUnauthorized: false) to a self-signed server stands for nothing.
    await using self = listenTLS({ port: 0, cert: pki.selfSigned, key: readFileSync(join(pki.dir, "self.key"), "utf8"), handler: { data: (c, d) => c.send(d) } });
    const unverified = await sessionFrom({ host: "localhost", port: self.port, rejectUnauthorized: false });
    await assert.rejects(connectTLS({ host: "localhost", port: self.port, ca: pki.root, session: unverified }), (err: unknown) => {
      assert.ok(err instanceof TLSVerifyError, String(err));
      assert.equal(err.reason, "DEPTH_ZERO_SELF_SIGNED_CERT");
      return true;
    });
  });

  test("HTTPS to https://localhost./ (an absolute name in the URL) verifies against the certificate's localhost", async () => {
    const pki = testPKI();
    await using server = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      handler: { data: (c, d) => void (dec.decode(d).includes("\r\n\r\n") && c.send(enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))) },
    });
    const agent = new Agent({ tls: { ca: pki.root } });
    try {
      const r = await request(`https://localhost.:${server.port}/`, { dispatcher: agent });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), "ok");
    } finally {
      await agent.close();
    }
  });
});

describe("HTTPS client: a TCP FIN without close_notify", () => {
  let server: TLSListener;
  let reply = "";
  const agent = new Agent({ tls: { ca: testPKI().root } });
  before(() => {
    const pki = testPKI();
    server = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      // The bare FIN below is shutdown(2) on the descriptor right after a
      // send: that needs fd mode (readiness), where the record went to the
      // kernel at once. Over io_uring (memory-BIO mode) the record is still
      // queued and the FIN overtook it: the client saw no body at all (a
      // truncation, rightly) under FFINET_IO=uring. The clients use any I/O.
      io: "readiness",
      handler: {
        data: (c, d) => {
          if (!dec.decode(d).includes("\r\n\r\n")) return;
          c.send(enc.encode(reply));
          c.socket.shutdown("write"); // FIN, no close_notify
        },
      },
    });
  });
  after(async () => {
    await agent.close();
    await server.close();
  });

  const truncated = (err: unknown): boolean => {
    const e = err instanceof TypeError && err.cause !== undefined ? err.cause : err;
    assert.ok(e instanceof TLSError, String(err));
    assert.equal(e.code, "ERR_TLS_TRUNCATED");
    return true;
  };

  for (const [name, answer] of [
    ["a body read until close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello, and then"],
    ["a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"],
  ]) {
    test(`${name}: request() and fetch() fail with ERR_TLS_TRUNCATED, never a clean end`, async () => {
      reply = answer!;
      const url = `https://localhost:${server.port}/`;
      await assert.rejects(request(url, { dispatcher: agent }).then((r) => r.body.text()), truncated);
      await assert.rejects(fetch(url, { dispatcher: agent }).then((r) => r.text()), truncated);
    });
  }

  test("a body with Content-Length that came whole before the FIN is the response", async () => {
    reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    const r = await request(`https://localhost:${server.port}/`, { dispatcher: agent });
    assert.equal(await r.body.text(), "hello");
  });
});
