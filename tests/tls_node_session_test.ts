// node:tls as the client of our server (a `node` child process: our blocking
// accepts hold this thread): it resumes with the session our server's ticket
// gave it (TLS 1.3 and 1.2), across a key rotation, and receives our stapled
// OCSP response (requestOCSP, the 'OCSPResponse' event).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import process from "node:process";
import { describe, test } from "node:test";
import { listenTCPSync } from "../socket/connect.ts";
import { acceptTLS, TLSContext, type TLSVersion } from "../tls/mod.ts";
import { testOCSP } from "./tls_ocsp_pki.ts";
import { testPKI } from "./tls_pki.ts";

// Two connections, the second offering the first one's session; prints one
// JSON line per connection.
const CLIENT = `
const tls = require("node:tls");
const fs = require("node:fs");
const base = { host: "127.0.0.1", port: Number(process.env.PORT), servername: "localhost", ca: fs.readFileSync(process.env.CA),
  minVersion: process.env.VERSION, maxVersion: process.env.VERSION, requestOCSP: true };
function once(session) {
  return new Promise((resolve) => {
    let latest = null, ocsp = null, got = "";
    const s = tls.connect({ ...base, session }, () => {});
    s.on("session", (sess) => (latest = sess));
    s.on("OCSPResponse", (der) => (ocsp = der ? der.toString("base64") : null));
    s.on("data", (d) => (got += d));
    s.on("end", () => {
      console.log(JSON.stringify({ reused: s.isSessionReused(), protocol: s.getProtocol(), authorized: s.authorized, ocsp, got }));
      s.end();
      resolve(latest);
    });
    s.on("error", (e) => { console.log(JSON.stringify({ error: e.message })); resolve(null); });
  });
}
once(undefined).then((session) => once(session ?? undefined));
`;

describe("tls: node:tls resumes against our server and reads our staple", () => {
  for (const version of ["TLSv1.3", "TLSv1.2"] as TLSVersion[]) {
    test(`${version}: the second connection resumes after a key rotation; the staple arrives`, async () => {
      const pki = testPKI();
      const ocsp = testOCSP();
      using ctx = new TLSContext({ role: "server", cert: pki.chain, key: pki.key, minVersion: "TLSv1.2", ocspResponse: ocsp.good });
      using listener = listenTCPSync("127.0.0.1", 0);
      const { port } = listener.localAddress() as { port: number };
      const child = spawn("timeout", ["20", "node", "-e", CLIENT], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PORT: String(port), CA: pki.paths["root.pem"]!, VERSION: version },
      });
      let out = "";
      child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
      child.stderr!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        const serverSaw: boolean[] = [];
        for (let i = 0; i < 2; i++) {
          if (i === 1) ctx.rotateTicketKeys(); // the first ticket's key is now the previous one
          const tls = acceptTLS(listener, ctx, 30_000);
          serverSaw.push(tls.isSessionReused());
          // TLS 1.3: node:tls emits 'session' once the ticket arrives; send
          // it before the data so the client has it when the stream ends.
          tls.sendAll(new TextEncoder().encode(`pong${i}`));
          tls.close();
        }
        await exited;
        const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { reused?: boolean; protocol?: string; authorized?: boolean; ocsp?: string | null; got?: string; error?: string });
        assert.equal(lines.length, 2, out);
        for (const [i, line] of lines.entries()) {
          assert.equal(line.error, undefined, out);
          assert.equal(line.protocol, version);
          assert.equal(line.authorized, true);
          assert.equal(line.got, `pong${i}`);
        }
        assert.deepEqual(lines.map((l) => l.reused), [false, true]);
        assert.deepEqual(serverSaw, [false, true]);
        // A full handshake carries the staple; a resumed one has no certificate exchange.
        assert.deepEqual(new Uint8Array(Buffer.from(lines[0]!.ocsp!, "base64")), ocsp.good);
        assert.equal(lines[1]!.ocsp ?? null, null);
      } finally {
        if (child.exitCode === null) child.kill("SIGTERM");
        await exited;
      }
    });
  }
});
