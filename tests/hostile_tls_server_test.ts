// Our TLS server (listenTLS) against hostile clients (client/TLS red team,
// second round): openssl s_client asking to renegotiate (TLS 1.2) is
// refused and the connection ends in a TLSError; sixty KeyUpdates that ask
// for ours are followed and the echo goes on; raw clients sending floods of
// warning alerts, ChangeCipherSpec or empty handshake records, a 64 kB
// record, a plaintext HTTP request or a ClientHello one byte per TCP
// segment that then stops are dropped (the socket closes) and never reach
// the handler; the next client is served.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { type ChildProcess, spawn } from "node:child_process";
import { TLSError } from "../core/errors.ts";
import { connectTLS, listenTLS, type TLSListener } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let server: TLSListener;
let opened = 0;
const received: string[] = [];
const errors: unknown[] = [];

before(() => {
  const pki = testPKI();
  server = listenTLS({
    port: 0,
    cert: pki.chain,
    key: pki.key,
    minVersion: "TLSv1.2",
    handshakeTimeoutMs: 3000,
    handler: {
      open: () => void opened++,
      data: (c, d) => {
        received.push(dec.decode(d));
        c.send(d);
      },
      error: (_c, e) => void errors.push(e),
    },
  });
});
after(async () => {
  await server.close();
});

/** openssl s_client to the server with stdin open for its commands; `said()` is what it printed. */
function sClient(args: string[]): { child: ChildProcess; said: () => string; close: () => Promise<void> } {
  const child = spawn("timeout", ["30", "openssl", "s_client", "-connect", `127.0.0.1:${server.port}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  const close = (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  };
  return { child, said: () => out, close };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep(10);
  assert.ok(cond(), what);
}

/** An echo round on a fresh, well-behaved client: the server still serves. */
async function stillServes(): Promise<void> {
  const c = await connectTLS({ host: "localhost", port: server.port, ca: testPKI().root });
  await c.write(enc.encode("still here"));
  let got = "";
  while (got.length < 10) {
    const chunk = await c.read();
    assert.ok(chunk !== null);
    got += dec.decode(chunk);
  }
  assert.equal(got, "still here");
  await c.close();
}

describe("TLS server against hostile openssl s_client", () => {
  test("a renegotiation the client starts (TLS 1.2) is refused: no second handshake, the connection ends in a TLSError", async () => {
    const client = sClient(["-tls1_2"]);
    try {
      await until(() => /Verify return code|SSL-Session/.test(client.said()), "s_client connected");
      client.child.stdin!.write("before\n");
      await until(() => received.includes("before\n"), "data before");
      client.child.stdin!.write("R\n");
      await until(() => errors.length > 0, "the server's connection ended in an error");
      assert.ok(errors[0] instanceof TLSError, String(errors[0]));
      // s_client tried, and was told no (its output may lag the server's error).
      await until(() => /RENEGOTIATING/.test(client.said()) && /no renegotiation/.test(client.said()), `s_client was refused: ${client.said().slice(-300)}`);
    } finally {
      await client.close();
      errors.length = 0;
      received.length = 0;
    }
    await stillServes();
  });

  test("sixty KeyUpdates that ask for ours (TLS 1.3) are followed; the echo goes on", async () => {
    const client = sClient([]);
    try {
      await until(() => /Verify return code|SSL-Session/.test(client.said()), "s_client connected");
      const updates = (): number => (client.said().match(/KEYUPDATE/g) ?? []).length;
      for (let i = 0; i < 60; i++) {
        client.child.stdin!.write("K\n");
        await until(() => updates() > i, `KeyUpdate ${i + 1} sent`);
      }
      client.child.stdin!.write("after\n");
      await until(() => received.includes("after\n"), "data after the KeyUpdates");
      // s_client prints what it receives, not what it sends: this is the echo.
      await until(() => client.said().includes("after\n"), "the echo came back");
      assert.equal(errors.length, 0, String(errors[0]));
    } finally {
      await client.close();
      received.length = 0;
    }
  });
});

const record = (type: number, body: number[]): Buffer => Buffer.from([type, 3, 3, body.length >> 8, body.length & 0xff, ...body]);
const many = (n: number, one: Buffer): Buffer => Buffer.concat(Array.from({ length: n }, () => one));

/** Writes `bytes` (each element one write, a turn apart) and resolves once the server closed the socket. */
function rawClient(parts: Buffer[]): Promise<{ closed: boolean; answered: number }> {
  return new Promise((resolve) => {
    const sock = net.connect(server.port, "127.0.0.1");
    sock.setNoDelay(true);
    let answered = 0;
    sock.on("data", (d: Buffer) => (answered += d.length));
    sock.on("error", () => {});
    const bound = setTimeout(() => {
      sock.destroy();
      resolve({ closed: false, answered });
    }, 20_000);
    sock.on("close", () => {
      clearTimeout(bound);
      resolve({ closed: true, answered });
    });
    sock.on("connect", async () => {
      for (const p of parts) {
        if (sock.destroyed) return;
        sock.write(p);
        if (parts.length > 1) await new Promise((r) => setImmediate(r));
      }
    });
  });
}

describe("TLS server against hostile raw clients", () => {
  // The start of a ClientHello, one byte per segment, then nothing: the handshake timeout drops it.
  const helloStart = record(22, [1, 0, 0, 200, 3, 3, ...new Array<number>(32).fill(7)]);
  const CASES: Array<[string, Buffer[]]> = [
    ["3000 warning alerts", [many(3000, record(21, [1, 90]))]],
    ["3000 ChangeCipherSpec records", [many(3000, record(20, [1]))]],
    ["3000 empty handshake records", [many(3000, record(22, []))]],
    ["a 64 kB record", [Buffer.concat([Buffer.from([22, 3, 1, 0xff, 0xff]), Buffer.alloc(65535)])]],
    ["a plaintext HTTP request", [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]],
    ["the start of a ClientHello, one byte per segment, then silence", Array.from(helloStart, (b) => Buffer.from([b]))],
  ];
  for (const [name, parts] of CASES) {
    test(`${name}: the socket is closed, the handler never opens; the next client is served`, async () => {
      const before = opened;
      const { closed } = await rawClient(parts);
      assert.ok(closed, "the server closed the connection");
      assert.equal(opened, before);
      await stillServes();
    });
  }
});
