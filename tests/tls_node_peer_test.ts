// node:tls as a peer, run as a `node` child process (our blocking TLS calls
// hold this thread, so the peer cannot share its event loop): our client
// against a node:tls server, and a node:tls client against our server.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { describe, test } from "node:test";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, connectTLSSync, TLSContext } from "../tls/mod.ts";
import { testPKI } from "./tls_pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function runNode(script: string, env: Record<string, string>) {
  const child = spawn("timeout", ["20", "node", "-e", script], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  const exited = new Promise<string>((resolve) => child.once("exit", () => resolve(out)));
  const line = (re: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const m = re.exec(out);
      if (m) resolve(m);
    };
    child.stdout!.on("data", check);
    void exited.then(() => reject(new Error(`node peer exited: ${out}`)));
  });
  return { exited, line, kill: () => { if (child.exitCode === null) child.kill("SIGTERM"); } };
}

const SERVER = `
const tls = require("node:tls");
const fs = require("node:fs");
const server = tls.createServer({ cert: fs.readFileSync(process.env.CERT), key: fs.readFileSync(process.env.KEY), ALPNProtocols: ["h2", "http/1.1"] }, (s) => {
  s.on("data", (d) => { s.end(Buffer.concat([Buffer.from("echo:"), d])); server.close(); });
  s.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => console.log("PORT " + server.address().port));
`;

const CLIENT = `
const tls = require("node:tls");
const fs = require("node:fs");
const s = tls.connect({ host: "127.0.0.1", port: Number(process.env.PORT), servername: "localhost", ca: fs.readFileSync(process.env.CA), ALPNProtocols: ["http/1.1"] }, () => {
  console.log("AUTHORIZED " + s.authorized + " " + s.getProtocol() + " " + s.alpnProtocol);
  s.write("hi");
});
let got = "";
s.on("data", (d) => (got += d));
s.on("end", () => { console.log("GOT " + got); s.end(); });
s.on("error", (e) => console.log("ERROR " + e.message));
`;

describe("tls with node:tls as the peer", () => {
  test("our client against a node:tls server: verified, ALPN, echo", async () => {
    const pki = testPKI();
    const peer = runNode(SERVER, { CERT: pki.paths["leaf_chain.pem"]!, KEY: pki.paths["leaf.key"]! });
    try {
      const port = Number((await peer.line(/PORT (\d+)/))[1]);
      using tls = connectTLSSync({ host: "localhost", port, ca: pki.root, alpn: ["http/1.1", "h2"], timeoutMs: 5000 });
      assert.equal(tls.protocol, "TLSv1.3");
      assert.equal(tls.alpnProtocol, "h2"); // node:tls picks by the server's order
      tls.sendAll(enc.encode("ping"));
      const buf = new Uint8Array(64);
      let got = "";
      for (let n = tls.recv(buf); n > 0; n = tls.recv(buf)) got += dec.decode(buf.subarray(0, n));
      assert.equal(got, "echo:ping"); // then close_notify: recv returned 0
    } finally {
      peer.kill();
      await peer.exited;
    }
  });

  test("a node:tls client against our server: authorized, ALPN, reply, clean end", async () => {
    const pki = testPKI();
    using ctx = new TLSContext({ role: "server", cert: pki.chain, key: pki.key, alpn: ["h2", "http/1.1"] });
    using listener = listenTCPSync("127.0.0.1", 0);
    const { port } = listener.localAddress() as { port: number };
    const peer = runNode(CLIENT, { PORT: String(port), CA: pki.paths["root.pem"]! });
    try {
      using tls = acceptTLS(listener, ctx, 30_000);
      assert.equal(tls.alpnProtocol, "http/1.1");
      const buf = new Uint8Array(2);
      assert.equal(tls.recvAll(buf), 2);
      assert.equal(dec.decode(buf), "hi");
      tls.sendAll(enc.encode("hello from ffinet"));
      tls.close();
      const out = await peer.exited;
      assert.match(out, /AUTHORIZED true TLSv1\.3 http\/1\.1/);
      assert.match(out, /GOT hello from ffinet/);
    } finally {
      peer.kill();
    }
  });
});
