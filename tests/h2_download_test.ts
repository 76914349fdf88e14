// End to end for issue 15 item 3: a large download over loopback from our
// HTTP/2 server core, wired to a socket of our loop (the glue is below),
// fetched by node:http2's client with default settings and by
// `curl --http2-prior-knowledge`. Before the cost-based flood limits, a
// default client was cut off with GOAWAY ENHANCE_YOUR_CALM after ~15.7 MiB.
// FFINET_H2_DOWNLOAD_MIB sets the size (default 1024 MiB). Node's client runs
// twice: in a Node process of its own (the real use, 1 GiB) and in this
// process through the runtime's node:http2 (on Node itself, sharing one
// event loop with the server and about 5x slower, it fetches 256 MiB by
// default to stay near 20 s per runtime on a loaded machine).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { Connection } from "../poll/connection.ts";
import { type Listener, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { H2Connection } from "../http/h2/connection.ts";
import type { H2Event } from "../http/h2/events.ts";

const MIB = 1 << 20;
const ON_NODE = !("Deno" in globalThis) && !("Bun" in globalThis);
const SIZE_MIB = Number(process.env.FFINET_H2_DOWNLOAD_MIB ?? 1024);
const NODE_CLIENT_MIB = process.env.FFINET_H2_DOWNLOAD_MIB === undefined && ON_NODE ? 256 : SIZE_MIB;
const CHUNK = new Uint8Array(MIB).fill(0x61);

/** What the server saw, for the assertions. */
const served = { responses: 0, windowUpdates: 0, errors: [] as string[] };

/** Feeds socket bytes to an H2Connection and writes what it pulls, as the socket's write queue allows. */
function h2Server(loop: Loop): Listener {
  const sessions = new Map<Connection, H2Connection>();
  const flush = (conn: Connection, h2: H2Connection): void => {
    for (;;) {
      const out = h2.pull(256 * 1024);
      if (out.length === 0) break;
      if (!conn.send(out)) break; // the rest after `drain`
    }
    if (h2.finished && h2.queuedBytes === 0) void conn.end();
  };
  const onEvent = (h2: H2Connection, e: H2Event): void => {
    if (e.type === "headers") {
      // GET /<n>: n MiB, as references to one 1 MiB chunk, sent as flow control allows.
      const path = e.headers[e.headers.indexOf(":path") + 1] ?? "/";
      const chunks = Number(path.slice(1));
      if (!Number.isInteger(chunks) || chunks <= 0) {
        h2.respond(e.streamId, [":status", "404"], true);
        return;
      }
      h2.respond(e.streamId, [":status", "200", "content-length", String(chunks * MIB), "content-type", "application/octet-stream"], false);
      for (let i = 0; i < chunks; i++) h2.sendData(e.streamId, CHUNK, i === chunks - 1);
      served.responses++;
    } else if (e.type === "rst" || e.type === "stream-error") {
      h2.reset(e.streamId); // the application is done with it
    } else if (e.type === "window-update") {
      served.windowUpdates++;
    } else if (e.type === "error") {
      served.errors.push(e.error.message);
    }
  };
  return listen({
    host: "127.0.0.1",
    port: 0,
    loop,
    handler: {
      open(conn) {
        const h2 = new H2Connection({ role: "server" });
        sessions.set(conn, h2);
        flush(conn, h2);
      },
      data(conn, bytes) {
        const h2 = sessions.get(conn);
        if (h2 === undefined) return;
        for (const e of h2.receive(bytes)) onEvent(h2, e);
        flush(conn, h2);
        if (h2.dead) void conn.end();
      },
      drain(conn) {
        const h2 = sessions.get(conn);
        if (h2 !== undefined) flush(conn, h2);
      },
      close(conn) {
        sessions.delete(conn);
      },
    },
  });
}

/** GET / with node:http2's client, default settings; resolves with the octets received and the status. */
function nodeHttp2Get(port: number, mib: number): Promise<{ status: number; bytes: number; goaway: number }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let goaway = -1;
    let ended = false;
    session.on("goaway", (code: number) => {
      goaway = code;
      if (code !== 0) {
        session.destroy();
        reject(new Error(`GOAWAY ${code} from the server`));
      }
    });
    session.on("error", reject);
    session.on("close", () => {
      if (!ended) reject(new Error("the session closed before the response ended"));
    });
    const req = session.request({ ":path": `/${mib}` });
    let status = 0;
    let bytes = 0;
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (d: Uint8Array) => (bytes += d.length));
    req.on("error", reject);
    req.on("end", () => {
      ended = true;
      session.close();
      resolve({ status, bytes, goaway });
    });
    req.end();
  });
}

/**
 * GET / with Node's own node:http2 client, default settings, in a Node
 * process of its own (the system `node`): the client does not share an
 * event loop with our server, as it would not in real use.
 */
function nodeProcessGet(port: number, mib: number): Promise<{ status: number; bytes: number; goaway: number }> {
  const script = `
    import http2 from "node:http2";
    const session = http2.connect("http://127.0.0.1:${port}");
    let goaway = -1, status = 0, bytes = 0;
    session.on("goaway", (code) => { goaway = code; });
    session.on("error", (e) => { console.error(String(e)); process.exit(2); });
    const req = session.request({ ":path": "/${mib}" });
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (d) => (bytes += d.length));
    req.on("error", (e) => { console.error(String(e)); process.exit(3); });
    req.on("end", () => { session.close(); console.log(JSON.stringify({ status, bytes, goaway })); });
    req.end();`;
  return new Promise((resolve, reject) => {
    execFile("node", ["--input-type=module", "-e", script], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`node client failed: ${err.message} ${stderr}`));
      resolve(JSON.parse(stdout.trim()) as { status: number; bytes: number; goaway: number });
    });
  });
}

/** GET / with curl over h2c (prior knowledge); resolves with curl's status and byte count. */
function curlGet(port: number, mib: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["--http2-prior-knowledge", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{http_version}", `http://127.0.0.1:${port}/${mib}`], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${err.message} ${stderr}`));
      const [code, size, version] = stdout.trim().split(" ");
      assert.equal(version, "2");
      resolve({ status: Number(code), bytes: Number(size) });
    });
  });
}

describe("h2 core on a socket: large downloads", () => {
  let loop: Loop;
  let server: Listener;
  before(() => {
    loop = new Loop();
    server = h2Server(loop);
  });
  after(async () => {
    server.close();
    loop.close();
    await loop.released();
  });

  test(`node:http2 client with default settings, ${NODE_CLIENT_MIB} MiB`, async () => {
    const t0 = performance.now();
    const updates = served.windowUpdates;
    const r = await nodeHttp2Get(server.port, NODE_CLIENT_MIB);
    const s = (performance.now() - t0) / 1000;
    console.log(`# node:http2: ${r.bytes / MIB} MiB in ${s.toFixed(2)} s (${(r.bytes / MIB / s).toFixed(0)} MiB/s), ${served.windowUpdates - updates} WINDOW_UPDATEs`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, NODE_CLIENT_MIB * MIB);
    assert.equal(r.goaway, -1, "no GOAWAY");
    assert.deepEqual(served.errors, []);
  });

  test(`Node's node:http2 client in a process of its own, default settings, ${SIZE_MIB} MiB`, async () => {
    const t0 = performance.now();
    const updates = served.windowUpdates;
    const r = await nodeProcessGet(server.port, SIZE_MIB);
    const s = (performance.now() - t0) / 1000;
    console.log(`# node process: ${r.bytes / MIB} MiB in ${s.toFixed(2)} s (${(r.bytes / MIB / s).toFixed(0)} MiB/s), ${served.windowUpdates - updates} WINDOW_UPDATEs`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, SIZE_MIB * MIB);
    assert.equal(r.goaway, -1, "no GOAWAY");
    assert.deepEqual(served.errors, []);
  });

  test(`curl --http2-prior-knowledge, ${SIZE_MIB} MiB`, async () => {
    const t0 = performance.now();
    const updates = served.windowUpdates;
    const r = await curlGet(server.port, SIZE_MIB);
    const s = (performance.now() - t0) / 1000;
    console.log(`# curl: ${r.bytes / MIB} MiB in ${s.toFixed(2)} s (${(r.bytes / MIB / s).toFixed(0)} MiB/s), ${served.windowUpdates - updates} WINDOW_UPDATEs`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, SIZE_MIB * MIB);
    assert.deepEqual(served.errors, []);
  });
});
