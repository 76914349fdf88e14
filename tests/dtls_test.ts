// DTLS 1.2 over UDP on 127.0.0.1: our client against `openssl s_server
// -dtls1_2`, `openssl s_client -dtls1_2` against our server (cookie exchange
// seen in its -msg trace), our client against our server on the loop, a
// verification failure, cookie-less ClientHellos that cost no state,
// garbage datagrams, retransmission, MTU, use after close.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import fc from "fast-check";
import { SocketTimeoutError, TLSHandshakeError, TLSPinError, TLSVerifyError, UseAfterCloseError } from "../core/errors.ts";
import { bindUDP, type UdpSocket } from "../poll/udp.ts";
import { Dgram } from "../socket/dgram.ts";
import { connectDTLSSync, DTLSSocket, listenDTLSSync } from "../tls/dtls.ts";
import { connectDTLS, type DTLSServer, listenDTLS, startDTLS } from "../tls/dtls_async.ts";
import { DTLSContext } from "../tls/dtls_context.ts";
import { parseCertificate } from "../tls/certificate.ts";
import { testPKI } from "./tls_pki.ts";
import { defaultLoop } from "../poll/loop.ts";
import { untilParked } from "./loop_helpers.ts";
import { bytes, text, turn, until } from "./udp_helpers.ts";

interface Peer {
  output(): string;
  write(line: string): void;
  end(): void;
  readonly exited: Promise<void>;
  close(): Promise<void>;
}

/** Runs an openssl command under `timeout`, stdin piped, output collected; `env` adds to the environment (OPENSSL_CONF). */
function runOpenSSL(args: readonly string[], env: Readonly<Record<string, string>> = {}): Peer {
  const child: ChildProcess = spawn("timeout", ["60", "openssl", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    output: () => out,
    write: (line) => void child.stdin!.write(line),
    end: () => void child.stdin!.end(),
    exited,
    close: () => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      child.kill("SIGTERM"); // `timeout` passes it on to openssl
      return exited;
    },
  };
}

/** Waits (bounded turns, no duration asserted) until the peer printed `pattern`. */
async function printed(peer: Peer, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  for (let i = 0; i < 10_000; i++) {
    const m = pattern.exec(peer.output());
    if (m) return m;
    await turn();
  }
  throw new Error(`gave up waiting for ${what}; output:\n${peer.output()}`);
}

async function startSServer(extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<{ peer: Peer; port: number }> {
  const pki = testPKI();
  const peer = runOpenSSL(["s_server", "-dtls1_2", "-accept", "127.0.0.1:0", "-cert", pki.paths["leaf_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["leaf.key"]!, ...extra], env);
  const m = await printed(peer, /ACCEPT [^\n]*:(\d+)/, "s_server to listen");
  return { peer, port: Number(m[1]) };
}

function serverContext(chain?: string, key?: string): DTLSContext {
  const pki = testPKI();
  return new DTLSContext({ role: "server", cert: chain ?? pki.chain, key: key ?? pki.key });
}

/** Sockets under /proc/self/fd (Linux), for leak checks. */
function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * s_client -msg saw a HelloVerifyRequest carrying our 32-byte cookie: newer
 * OpenSSL names it; 3.0 prints DTLS 1.2 records as "Not TLS data" with a
 * hex dump, where a received handshake message of type 3 (hello_verify_request),
 * body length 0x23 (version fe ff, cookie length 0x20) is the same thing.
 */
const SAW_HELLO_VERIFY = /HelloVerifyRequest|<<< [^\n]*content_type=22\) \[length 002f\]\n\s+03 00 00 23 00 00 00 00 00 00 00 23 fe ff 20 /;

/** Is this datagram a DTLS HelloVerifyRequest? (record type 22, handshake type 3) */
function isHelloVerifyRequest(d: Uint8Array): boolean {
  return d.length > 25 && d[0] === 22 && d[1] === 0xfe && d[13] === 3;
}

/** Is this datagram a DTLS ClientHello? (record type 22, handshake type 1) */
function isClientHello(d: Uint8Array): boolean {
  return d.length > 25 && d[0] === 22 && d[1] === 0xfe && d[13] === 1;
}

/**
 * `hello` (a cookie-less ClientHello datagram) with the cookie of
 * `verifyRequest` (a HelloVerifyRequest) put in, as message_seq 1: what a
 * client sends next. Offsets are RFC 6347's record (13 bytes) and handshake
 * (12 bytes) headers.
 */
function withCookie(hello: Uint8Array, verifyRequest: Uint8Array): Uint8Array {
  const cookie = verifyRequest.subarray(25 + 3, 25 + 3 + verifyRequest[25 + 2]!);
  const sidLength = hello[25 + 34]!;
  const at = 25 + 35 + sidLength; // the cookie length byte
  assert.equal(hello[at], 0, "the first ClientHello has no cookie");
  const out = new Uint8Array(hello.length + cookie.length);
  out.set(hello.subarray(0, at));
  out[at] = cookie.length;
  out.set(cookie, at + 1);
  out.set(hello.subarray(at + 1), at + 1 + cookie.length);
  const view = new DataView(out.buffer);
  view.setUint16(11, out.length - 13); // record length
  const body = out.length - 25;
  for (const offset of [14, 22]) { // handshake length, fragment length (24-bit)
    out[offset] = body >> 16;
    view.setUint16(offset + 1, body & 0xffff);
  }
  view.setUint16(17, 1); // message_seq
  view.setUint16(3, 0); // epoch 0, next sequence number
  out[10] = 1;
  return out;
}

/** Captures the first flight (a ClientHello without cookie) our client sends. */
async function captureClientHello(): Promise<Uint8Array> {
  await using sink = bindUDP({ host: "127.0.0.1" });
  const controller = new AbortController();
  const pending = connectDTLS({ host: "127.0.0.1", port: sink.localAddress.port, rejectUnauthorized: false, timeoutMs: 0, signal: controller.signal });
  pending.catch(() => {});
  const first = await sink.recv({ signal: AbortSignal.timeout(10_000) });
  controller.abort();
  await pending.catch(() => {});
  assert.ok(first && isClientHello(first.data), "the first flight is a ClientHello");
  return first.data;
}

describe("DTLS 1.2: our client against openssl s_server", () => {
  test("blocking client: handshake verified, datagrams both ways, close_notify", async () => {
    const pki = testPKI();
    const { peer, port } = await startSServer();
    try {
      const dtls = connectDTLSSync({ host: "127.0.0.1", port, ca: pki.root, timeoutMs: 10_000 });
      try {
        assert.equal(dtls.protocol, "DTLSv1.2");
        assert.notEqual(dtls.cipher, "");
        assert.match(dtls.peerCertificate()!.subject, /localhost/);
        dtls.send(bytes("hello from ffinet\n"));
        await printed(peer, /hello from ffinet/, "s_server to print our datagram");
        peer.write("hello from openssl\n");
        await turn(); // let the runtime hand the line to s_server
        assert.equal(text(dtls.recv(10_000)!), "hello from openssl\n");
      } finally {
        dtls.close();
      }
      assert.equal(dtls.closed, true);
      dtls.close(); // idempotent
      assert.throws(() => dtls.send(bytes("x")), UseAfterCloseError);
      assert.throws(() => dtls.recv(), UseAfterCloseError);
    } finally {
      await peer.close();
    }
  });

  test("async client on the loop, by name (SNI + name check), messages both ways", async () => {
    const pki = testPKI();
    const { peer, port } = await startSServer();
    try {
      await using conn = await connectDTLS({ host: "127.0.0.1", servername: "localhost", port, ca: pki.root });
      assert.equal(conn.protocol, "DTLSv1.2");
      await conn.send(bytes("async hello\n"));
      await printed(peer, /async hello/, "s_server to print our datagram");
      peer.write("async reply\n");
      assert.equal(text((await conn.recv({ signal: AbortSignal.timeout(10_000) }))!), "async reply\n");
    } finally {
      await peer.close();
    }
  });

  test("a link MTU of 576: the handshake is fragmented to fit, a datagram above the data MTU is a RangeError", async () => {
    const pki = testPKI();
    const { peer, port } = await startSServer(["-mtu", "576"]);
    try {
      using dtls = connectDTLSSync({ host: "127.0.0.1", port, ca: pki.root, mtu: 576 });
      const room = dtls.maxDatagramBytes;
      assert.ok(room > 0 && room < 576, `data MTU ${room}`);
      dtls.send(new Uint8Array(room).fill(0x61));
      await printed(peer, new RegExp(`a{${room}}`), "s_server to print the full datagram");
      assert.throws(() => dtls.send(new Uint8Array(room + 1)), RangeError);
      assert.throws(() => connectDTLSSync({ host: "127.0.0.1", port, ca: pki.root, mtu: 100 }), RangeError);
    } finally {
      await peer.close();
    }
  });

  test("a certificate that fails verification is TLSVerifyError with its X509 name", async () => {
    const pki = testPKI();
    const expired = runOpenSSL(["s_server", "-dtls1_2", "-accept", "127.0.0.1:0", "-cert", pki.paths["expired_chain.pem"]!, "-cert_chain", pki.paths["int.pem"]!, "-key", pki.paths["expired.key"]!]);
    try {
      const port = Number((await printed(expired, /ACCEPT [^\n]*:(\d+)/, "s_server to listen"))[1]);
      assert.throws(() => connectDTLSSync({ host: "127.0.0.1", port, ca: pki.root }), (err: unknown) => {
        assert.ok(err instanceof TLSVerifyError, String(err));
        assert.equal(err.code, "ERR_TLS_VERIFY");
        assert.equal(err.reason, "CERT_HAS_EXPIRED");
        assert.equal(err.depth, 0);
        return true;
      });
      await assert.rejects(connectDTLS({ host: "127.0.0.1", port, ca: pki.intermediate, systemCA: false, servername: "wrong.example" }), (err: unknown) => {
        assert.ok(err instanceof TLSVerifyError, String(err));
        assert.ok(["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_HAS_EXPIRED", "HOSTNAME_MISMATCH", "UNABLE_TO_GET_ISSUER_CERT"].includes(err.reason!), err.reason);
        return true;
      });
    } finally {
      await expired.close();
    }
  });
});

describe("DTLS 1.2: openssl s_client against our server", () => {
  test("blocking listener: s_client gets a HelloVerifyRequest, then the handshake and datagrams both ways", async () => {
    const pki = testPKI();
    using ctx = serverContext();
    using listener = listenDTLSSync({ host: "127.0.0.1", context: ctx });
    const client = runOpenSSL(["s_client", "-dtls1_2", "-msg", "-connect", `127.0.0.1:${listener.localAddress.port}`, "-CAfile", pki.paths["root.pem"]!, "-verify_return_error"]);
    try {
      // s_client needs the runtime only for its pipes; accept blocks until its ClientHello with cookie.
      using conn = listener.accept(20_000);
      assert.equal(conn.protocol, "DTLSv1.2");
      assert.equal(listener.connections, 1);
      conn.send(bytes("hello from our server\n"));
      await printed(client, /hello from our server/, "s_client to print our datagram");
      client.write("hello from s_client\n");
      await turn();
      assert.equal(text(conn.recv(10_000)!), "hello from s_client\n");
      assert.match(client.output(), SAW_HELLO_VERIFY, "s_client saw the cookie exchange");
      assert.ok(ctx.cookieStats.issued >= 1 && ctx.cookieStats.accepted >= 1, JSON.stringify(ctx.cookieStats));
      conn.close();
      assert.equal(listener.connections, 0);
      await client.exited; // close_notify ends s_client
      assert.match(client.output(), /Verify return code: 0 \(ok\)/);
    } finally {
      await client.close();
    }
  });

  test("async server on the loop: s_client handshake through the cookie exchange, close_notify", async () => {
    const pki = testPKI();
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const client = runOpenSSL(["s_client", "-dtls1_2", "-msg", "-connect", `127.0.0.1:${server.localAddress.port}`, "-CAfile", pki.paths["root.pem"]!, "-verify_return_error"]);
    try {
      const conn = (await server.accept({ signal: AbortSignal.timeout(20_000) }))!;
      client.write("ping from s_client\n");
      assert.equal(text((await conn.recv({ signal: AbortSignal.timeout(10_000) }))!), "ping from s_client\n");
      await conn.send(bytes("pong from our server\n"));
      await printed(client, /pong from our server/, "s_client to print our reply");
      assert.match(client.output(), SAW_HELLO_VERIFY);
      conn.close();
      await client.exited;
      await assert.rejects(conn.recv(), UseAfterCloseError);
    } finally {
      await client.close();
    }
  });
});

// OpenSSL 3.0's s_server / s_client have no flag to leave out the extended master secret: this
// OPENSSL_CONF sets SSL_OP_NO_EXTENDED_MASTER_SECRET on every SSL_CTX, DTLS ones too (as tls_extended_master_secret_test).
const NO_EMS = { OPENSSL_CONF: fileURLToPath(new URL("./fixtures/openssl_no_ems.cnf", import.meta.url)) };
const NO_EMS_CODE = "ERR_TLS_NO_EXTENDED_MASTER_SECRET";

describe("DTLS 1.2 and the extended master secret (RFC 7627): requireExtendedMasterSecret, as for TLS", () => {
  test("client: s_server without EMS is refused (async and blocking) with TLSHandshakeError ERR_TLS_NO_EXTENDED_MASTER_SECRET; with EMS it passes; without the option both do", async () => {
    const pki = testPKI();
    // One s_server each: a refused peer gets no close_notify, and s_server serves one DTLS peer at a time.
    const [noEmsAsync, noEmsSync, noEmsDefault, withEms] = await Promise.all([startSServer([], NO_EMS), startSServer([], NO_EMS), startSServer([], NO_EMS), startSServer()]);
    try {
      const options = { host: "127.0.0.1", ca: pki.root, requireExtendedMasterSecret: true } as const;
      await assert.rejects(connectDTLS({ ...options, port: noEmsAsync.port }), (e: unknown) => {
        assert.ok(e instanceof TLSHandshakeError, String(e));
        assert.equal(e.code, NO_EMS_CODE);
        assert.match(e.message, /DTLS 1\.2 without the extended master secret/);
        return true;
      });
      assert.throws(() => connectDTLSSync({ ...options, port: noEmsSync.port, timeoutMs: 10_000 }), (e: unknown) => e instanceof TLSHandshakeError && e.code === NO_EMS_CODE);
      {
        await using conn = await connectDTLS({ ...options, port: withEms.port });
        await conn.send(bytes("with ems\n"));
        await printed(withEms.peer, /with ems/, "s_server to print our datagram");
      }
      // Default: accepted, as for TLS.
      await using lenient = await connectDTLS({ host: "127.0.0.1", ca: pki.root, port: noEmsDefault.port });
      await lenient.send(bytes("no ems, accepted\n"));
      await printed(noEmsDefault.peer, /no ems, accepted/, "s_server to print our datagram");
      // The option on a context, and checked like the others.
      using ctx = new DTLSContext({ ca: pki.root, requireExtendedMasterSecret: true });
      assert.equal(ctx.requireExtendedMasterSecret, true);
      assert.equal(new DTLSContext({ rejectUnauthorized: false }).requireExtendedMasterSecret, false);
      assert.throws(() => new DTLSContext({ requireExtendedMasterSecret: "yes" as unknown as boolean }), TypeError);
    } finally {
      await Promise.all([noEmsAsync, noEmsSync, noEmsDefault, withEms].map((s) => s.peer.close()));
    }
  });

  test("server: s_client without EMS is refused (a failed handshake, no connection); with EMS it is served; without the option both are", async () => {
    const pki = testPKI();
    const sclient = (port: number, env: Readonly<Record<string, string>> = {}) =>
      runOpenSSL(["s_client", "-dtls1_2", "-connect", `127.0.0.1:${port}`, "-CAfile", pki.paths["root.pem"]!, "-verify_return_error"], env);
    using strictCtx = new DTLSContext({ role: "server", cert: pki.chain, key: pki.key, requireExtendedMasterSecret: true });
    using lenientCtx = serverContext();
    await using strict = listenDTLS({ host: "127.0.0.1", context: strictCtx });
    await using lenient = listenDTLS({ host: "127.0.0.1", context: lenientCtx });
    const refused = sclient(strict.localAddress.port, NO_EMS);
    try {
      await until(() => strict.stats.failedHandshakes === 1, "the server to refuse the handshake");
      assert.equal(strict.connections, 0);
    } finally {
      await refused.close();
    }
    for (const [server, env] of [[strict, {}], [lenient, NO_EMS]] as const) {
      const client = sclient(server.localAddress.port, env);
      try {
        const conn = (await server.accept({ signal: AbortSignal.timeout(20_000) }))!;
        await conn.send(bytes("served\n"));
        await printed(client, /served/, "s_client to print our datagram");
        conn.close();
      } finally {
        await client.close();
      }
    }
    assert.equal(strict.stats.failedHandshakes, 1);
    assert.equal(lenient.stats.failedHandshakes, 0);
  });
});

describe("DTLS 1.2: our client against our server", () => {
  test("handshake, datagrams both ways, close_notify reaches the peer as null, fds flat over 100 rounds", async () => {
    const pki = testPKI();
    using ctx = serverContext();
    using clientCtx = new DTLSContext({ ca: pki.root });
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const round = async (i: number) => {
      const client = await connectDTLS({ host: "127.0.0.1", port: server.localAddress.port, context: clientCtx });
      const peer = (await server.accept({ signal: AbortSignal.timeout(10_000) }))!;
      assert.equal(server.connections, 1);
      await client.send(bytes(`c${i}`));
      assert.equal(text((await peer.recv())!), `c${i}`);
      await peer.send(bytes(`s${i}`));
      assert.equal(text((await client.recv())!), `s${i}`);
      client.close();
      assert.equal(await peer.recv({ signal: AbortSignal.timeout(10_000) }), null, "close_notify");
      peer.close();
      assert.equal(server.connections, 0);
    };
    await round(0);
    await untilParked(defaultLoop()); // the loop's helper thread (its own descriptors) is up before counting
    const linux = process.platform === "linux";
    const before = linux ? fdCount() : 0;
    for (let i = 1; i <= 100; i++) await round(i);
    if (linux) assert.equal(fdCount(), before);
    assert.equal(server.handshaking, 0);
  });

  test("a verify failure on our client (wrong name) rejects with TLSVerifyError; the server counts a failed handshake", async () => {
    const pki = testPKI();
    using ctx = serverContext(pki.wrongHostChain, readFileSync(pki.paths["wronghost.key"]!, "utf8"));
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    await assert.rejects(connectDTLS({ host: "127.0.0.1", port: server.localAddress.port, ca: pki.root }), (err: unknown) => {
      assert.ok(err instanceof TLSVerifyError, String(err));
      assert.equal(err.reason, "IP_ADDRESS_MISMATCH");
      return true;
    });
    await until(() => server.stats.failedHandshakes === 1, "the server to drop the failed handshake");
    assert.equal(server.connections, 0);
  });

  test("ClientHellos without a cookie get a HelloVerifyRequest and leave no state on the server", async () => {
    const hello = await captureClientHello();
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const spoofers: UdpSocket[] = [];
    try {
      for (let i = 0; i < 20; i++) spoofers.push(bindUDP({ host: "127.0.0.1" }));
      for (const s of spoofers) await s.send(hello, { host: "127.0.0.1", port: server.localAddress.port });
      for (const s of spoofers) {
        const reply = await s.recv({ signal: AbortSignal.timeout(10_000) });
        assert.ok(reply && isHelloVerifyRequest(reply.data), "a HelloVerifyRequest");
      }
      assert.equal(ctx.cookieStats.issued, 20);
      assert.equal(ctx.cookieStats.accepted, 0);
      assert.equal(server.handshaking, 0);
      assert.equal(server.connections, 0);
      assert.equal(server.stats.verified, 0);
    } finally {
      for (const s of spoofers) s.close();
    }
    // A real client still gets through.
    await using real = await connectDTLS({ host: "127.0.0.1", port: server.localAddress.port, rejectUnauthorized: false });
    assert.equal(server.stats.verified, 1);
    (await server.accept())!.close();
  });

  test("over ::1: handshake and datagrams both ways", async () => {
    const pki = testPKI();
    using ctx = serverContext();
    await using server = listenDTLS({ host: "::1", context: ctx });
    await using client = await connectDTLS({ host: "::1", port: server.localAddress.port, ca: pki.root });
    await using peer = (await server.accept({ signal: AbortSignal.timeout(10_000) }))!;
    assert.equal(peer.remoteAddress.host, "::1");
    await client.send(bytes("v6"));
    assert.equal(text((await peer.recv())!), "v6");
    await peer.send(bytes("v6 back"));
    assert.equal(text((await client.recv())!), "v6 back");
  });

  test("SPKI pins: the leaf's pin passes, another is TLSPinError", async () => {
    const pki = testPKI();
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const port = server.localAddress.port;
    const leafPin = parseCertificate(pki.leafDER).spkiSha256;
    await using pinned = await connectDTLS({ host: "127.0.0.1", port, ca: pki.root, pins: [`sha256/${leafPin}`] });
    (await server.accept())!.close();
    await assert.rejects(connectDTLS({ host: "127.0.0.1", port, ca: pki.root, pins: ["sha256/" + "A".repeat(43) + "="] }), TLSPinError);
  });

  test("mTLS: a server that requires client certificates reads the client's; a client without one fails", async () => {
    const pki = testPKI();
    using ctx = new DTLSContext({ role: "server", cert: pki.chain, key: pki.key, ca: pki.root, requestCert: true });
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const port = server.localAddress.port;
    await using client = await connectDTLS({ host: "127.0.0.1", port, ca: pki.root, cert: pki.clientChain, key: readFileSync(pki.paths["client.key"]!, "utf8") });
    await using peer = (await server.accept({ signal: AbortSignal.timeout(10_000) }))!;
    assert.match(peer.peerCertificate()!.subject, /ffinet client/);
    await assert.rejects(connectDTLS({ host: "127.0.0.1", port, ca: pki.root }), TLSHandshakeError);
    await until(() => server.stats.failedHandshakes === 1, "the server to drop the certificate-less client");
  });

  test("a cookie replayed from another address does not verify: a new HelloVerifyRequest, no state", async () => {
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const hellos: Uint8Array[] = [];
    let clientAddress: { host: string; port: number } | null = null;
    const relay = bindUDP({
      host: "127.0.0.1",
      handler: {
        message(sock, data, from) {
          if (from.port !== server.localAddress.port) {
            clientAddress = { host: from.host, port: from.port };
            if (isClientHello(data)) hellos.push(data.slice());
            sock.trySend(data.slice(), { host: "127.0.0.1", port: server.localAddress.port });
          } else if (clientAddress !== null) {
            sock.trySend(data.slice(), clientAddress);
          }
        },
      },
    });
    try {
      await using client = await connectDTLS({ host: "127.0.0.1", port: relay.localAddress.port, rejectUnauthorized: false });
      (await server.accept())!.close();
      assert.equal(hellos.length, 2, "a ClientHello, then the same with the cookie");
      const withCookie = hellos[1]!;
      const accepted = ctx.cookieStats.accepted; // OpenSSL checks a cookie in DTLSv1_listen and again in SSL_accept
      assert.ok(accepted >= 1);
      assert.equal(ctx.cookieStats.rejected, 0);
      await using spoofer = bindUDP({ host: "127.0.0.1" });
      await spoofer.send(withCookie, { host: "127.0.0.1", port: server.localAddress.port });
      const reply = await spoofer.recv({ signal: AbortSignal.timeout(10_000) });
      assert.ok(reply && isHelloVerifyRequest(reply.data), "a fresh HelloVerifyRequest");
      assert.equal(ctx.cookieStats.rejected, 1);
      assert.equal(ctx.cookieStats.accepted, accepted);
      assert.equal(server.stats.verified, 1);
      assert.equal(server.handshaking, 0);
    } finally {
      relay.close();
    }
  });

  /** A raw peer that passes the cookie exchange, gets the server's first flight and never answers. */
  async function stalledPeer(server: DTLSServer, hello: Uint8Array): Promise<UdpSocket> {
    const raw = bindUDP({ host: "127.0.0.1" });
    const target = { host: "127.0.0.1", port: server.localAddress.port };
    await raw.send(hello, target);
    const hvr = (await raw.recv({ signal: AbortSignal.timeout(10_000) }))!;
    assert.ok(isHelloVerifyRequest(hvr.data));
    await raw.send(withCookie(hello, hvr.data), target);
    const flight = (await raw.recv({ signal: AbortSignal.timeout(10_000) }))!;
    assert.equal(flight.data[0], 22, "the server's first flight (ServerHello …)");
    return raw;
  }

  test("a peer that proves its address and then stalls is dropped at handshakeTimeoutMs; closing the server drops it too", async () => {
    const hello = await captureClientHello();
    using ctx = serverContext();
    {
      await using server = listenDTLS({ host: "127.0.0.1", context: ctx, handshakeTimeoutMs: 300 });
      await using raw = await stalledPeer(server, hello);
      assert.equal(server.stats.verified, 1);
      assert.equal(server.connections, 1);
      assert.equal(server.handshaking, 1);
      // We never answer: the server's handshake limit ends the connection.
      await until(() => server.stats.failedHandshakes === 1, "the stalled handshake to be dropped", 100_000);
      assert.equal(server.connections, 0);
      assert.equal(server.handshaking, 0);
      assert.ok(server.lastHandshakeError instanceof SocketTimeoutError, String(server.lastHandshakeError));
    }
    {
      const server = listenDTLS({ host: "127.0.0.1", context: ctx, handshakeTimeoutMs: 0 });
      await using raw = await stalledPeer(server, hello);
      assert.equal(server.handshaking, 1);
      server.close();
      assert.equal(server.handshaking, 0);
      assert.equal(server.connections, 0);
      await assert.rejects(server.accept(), UseAfterCloseError);
    }
  });

  test("garbage datagrams to the listener and into a connection are dropped; the connection goes on", async () => {
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const port = server.localAddress.port;
    await using noise = bindUDP({ host: "127.0.0.1" });
    let seed = 7;
    const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    const garbage = [new Uint8Array(0), new Uint8Array([22]), new Uint8Array([22, 0xfe, 0xfd, 0, 0]), random(13), random(100), random(1400),
      Uint8Array.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0])];
    for (const g of garbage) await noise.send(g, { host: "127.0.0.1", port });
    await until(() => server.stats.listenCalls > 0, "the listener to read the garbage");
    assert.equal(server.connections, 0);
    assert.equal(ctx.cookieStats.issued, 0, "garbage never gets a cookie");
    // A connection over a socket we keep: garbage sent from the client's own address reaches the server's DTLS.
    const dgram = Dgram.create("ipv4", { nonBlocking: true });
    dgram.connect("127.0.0.1", port);
    const client = await startDTLS(dgram, { rejectUnauthorized: false });
    const peer = (await server.accept())!;
    for (const g of garbage) if (g.length > 0) dgram.send(g);
    await client.send(bytes("still here"));
    assert.equal(text((await peer.recv({ signal: AbortSignal.timeout(10_000) }))!), "still here");
    await peer.send(bytes("and back"));
    assert.equal(text((await client.recv({ signal: AbortSignal.timeout(10_000) }))!), "and back");
    client.close();
    peer.close();
  });

  test("mutated ClientHellos and records (property): no crash, no state, the listener and a live connection go on", async () => {
    const hello = await captureClientHello();
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    const port = server.localAddress.port;
    const dgram = Dgram.create("ipv4", { nonBlocking: true });
    dgram.connect("127.0.0.1", port);
    await using client = await startDTLS(dgram, { rejectUnauthorized: false });
    await using peer = (await server.accept())!;
    await using noise = bindUDP({ host: "127.0.0.1" });
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    }).map(({ flips, cut }) => {
      const out = hello.slice(0, cut === undefined ? hello.length : cut % (hello.length + 1));
      for (const [at, x] of flips) if (out.length > 0) out[at % out.length]! ^= x;
      return out;
    });
    const datagram = fc.oneof(mutation, fc.uint8Array({ minLength: 1, maxLength: 1500 }));
    let round = 0;
    await fc.assert(fc.asyncProperty(fc.array(datagram, { minLength: 1, maxLength: 10 }), async (batch) => {
      for (const d of batch) {
        await noise.send(d, { host: "127.0.0.1", port }); // at the listener
        if (d.length > 0) dgram.send(d); // into the live connection, from its own address
      }
      const tag = `round ${round++}`;
      await client.send(bytes(tag));
      assert.equal(text((await peer.recv({ signal: AbortSignal.timeout(10_000) }))!), tag);
      await peer.send(bytes(tag));
      assert.equal(text((await client.recv({ signal: AbortSignal.timeout(10_000) }))!), tag);
      assert.equal(server.connections, 1);
      assert.equal(server.handshaking, 0);
      assert.equal(ctx.cookieStats.accepted, 2, "no mutated hello passes the cookie check"); // the real client's two checks
    }), { numRuns: 40 });
  });

  test("a lost flight is retransmitted by the loop's timer and the handshake completes", async () => {
    // A relay that drops the first datagram in each direction.
    using ctx = serverContext();
    await using server = listenDTLS({ host: "127.0.0.1", context: ctx });
    let clientAddress: { host: string; port: number } | null = null;
    let dropped = { up: 0, down: 0 };
    const relay = bindUDP({
      host: "127.0.0.1",
      handler: {
        message(sock, data, from) {
          if (from.port !== server.localAddress.port) {
            clientAddress = { host: from.host, port: from.port };
            if (dropped.up++ === 0) return;
            sock.trySend(data.slice(), { host: "127.0.0.1", port: server.localAddress.port });
          } else if (clientAddress !== null) {
            if (dropped.down++ === 0) return;
            sock.trySend(data.slice(), clientAddress);
          }
        },
      },
    });
    try {
      await using client = await connectDTLS({ host: "127.0.0.1", port: relay.localAddress.port, rejectUnauthorized: false, timeoutMs: 30_000 });
      assert.equal(client.handshaken, true);
      assert.ok(dropped.up >= 2 && dropped.down >= 2, JSON.stringify(dropped));
      (await server.accept())!.close();
    } finally {
      relay.close();
    }
  });

  test("a silent server: the ClientHello is retransmitted by the loop's timer; abort and the blocking limit end the attempt", async () => {
    await using silent = bindUDP({ host: "127.0.0.1" });
    const controller = new AbortController();
    const attempt = connectDTLS({ host: "127.0.0.1", port: silent.localAddress.port, rejectUnauthorized: false, timeoutMs: 0, signal: controller.signal });
    attempt.catch(() => {});
    const a = await silent.recv({ signal: AbortSignal.timeout(30_000) });
    const b = await silent.recv({ signal: AbortSignal.timeout(30_000) });
    assert.ok(a && b && isClientHello(a.data) && isClientHello(b.data), "the ClientHello, twice");
    controller.abort();
    await assert.rejects(attempt, { name: "AbortError" });
    using clientCtx = new DTLSContext({ rejectUnauthorized: false });
    using sync = DTLSSocket.client(connectedDgramTo(silent.localAddress.port), clientCtx, {});
    assert.throws(() => sync.handshake(50), SocketTimeoutError);
  });
});

function connectedDgramTo(port: number): Dgram {
  const d = Dgram.create("ipv4");
  d.connect("127.0.0.1", port);
  return d;
}
