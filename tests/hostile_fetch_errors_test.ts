// What fetch rejects with when the network fails (client red team
// follow-up), as the standard's fetch and the runtimes' own (node/undici:
// TypeError "terminated" for a body cut mid-stream, "fetch failed" before
// the response; Deno and Bun: TypeErrors too): a body that fails while it
// is read (text(), arrayBuffer(), a reader; plain or gzip-coded; a cut
// chunked or Content-Length body, a bad chunk, a TLS record that fails
// its check, an HTTP/2 stream reset) errors with a TypeError whose cause is the typed NetError
// (its code kept); a refused connection, a name that does not resolve and
// a certificate that does not verify reject with TypeError("fetch failed")
// whose cause is the typed error; request() keeps throwing the typed
// errors themselves; an abort while the body is read is the signal's
// reason (an AbortError DOMException when none was given).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DNSError, NetError, TLSError } from "../core/errors.ts";
import { Resolver } from "../dns/resolver.ts";
import { decodeMessage, encodeMessage } from "../dns/wire.ts";
import { Agent, fetch, request } from "../http/client/mod.ts";
import { Pool } from "../http/client/pool.ts";
import { serve } from "../http/server/mod.ts";
import { defaultConnector } from "../poll/connector.ts";
import { listenTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";
import { listenRawHTTP, type RawHTTPServer } from "./raw_http_server.ts";

/** What the raw server writes for the next request, then what it does: "hold" keeps the socket open, "cut" closes it. */
let script: { bytes: Uint8Array | string; then: "hold" | "cut" } = { bytes: "", then: "cut" };
let server: RawHTTPServer;
let port = 0;
const held = new Set<net.Socket>();
const agent = new Agent();

before(async () => {
  server = await listenRawHTTP((sock) => {
    const { bytes, then } = script;
    if (then === "cut") sock.end(bytes);
    else {
      held.add(sock);
      sock.write(bytes);
    }
  });
  port = server.port;
});

after(async () => {
  for (const s of held) s.destroy();
  await agent.close();
  await server.close();
});

/** A TypeError (as fetch's) whose cause is a NetError with `code` (any code when undefined); returns the cause. */
function typeErrorCausedBy(err: unknown, code?: string, kind: new (...args: never[]) => NetError = NetError): NetError {
  assert.ok(err instanceof TypeError, `not a TypeError: ${String(err)}`);
  const cause = (err as Error).cause;
  assert.ok(cause instanceof kind, `cause is not a ${kind.name}: ${String(cause)}`);
  if (code !== undefined) assert.equal((cause as NetError).code, code, String(cause));
  return cause as NetError;
}

async function typeErrorRejection(p: Promise<unknown>, code?: string, kind: new (...args: never[]) => NetError = NetError): Promise<NetError> {
  let cause: NetError | undefined;
  await assert.rejects(p, (err) => {
    cause = typeErrorCausedBy(err, code, kind);
    return true;
  });
  return cause!;
}

const CUT_BODIES: Array<[string, string | Uint8Array, string]> = [
  ["a chunked body cut after its first chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "HPE_INVALID_EOF_STATE"],
  ["a Content-Length body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello", "HPE_INVALID_EOF_STATE"],
  ["a chunk size that is not hex after a good chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", "HPE_INVALID_CHUNK_SIZE"],
];

function gzipCut(): Uint8Array {
  const coded = gzipSync(Buffer.alloc(64 * 1024, 0x61));
  const half = coded.subarray(0, coded.length >> 1);
  const head = `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${half.length.toString(16)}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), half, Buffer.from("\r\n")]);
}

describe("fetch: a body that fails while it is read is a TypeError whose cause is the typed error", () => {
  for (const [name, bytes, code] of CUT_BODIES) {
    for (const how of ["text", "arrayBuffer", "reader"] as const) {
      test(`${name}, read by ${how}(): TypeError, cause ${code}`, async () => {
        script = { bytes, then: "cut" };
        const response = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
        assert.equal(response.status, 200);
        if (how === "text") await typeErrorRejection(response.text(), code);
        else if (how === "arrayBuffer") await typeErrorRejection(response.arrayBuffer(), code);
        else {
          // "hello" may come first (or not, when the failure is in the same read); then the read fails.
          const reader = response.body!.getReader();
          const read = reader.read();
          const first = await read.catch(() => null);
          if (first === null) await typeErrorRejection(read, code);
          else {
            assert.equal(new TextDecoder().decode(first.value), "hello");
            await typeErrorRejection(reader.read(), code);
          }
        }
      });
    }
    test(`${name}: request() rejects with the typed error itself (${code})`, async () => {
      script = { bytes, then: "cut" };
      const response = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
      await assert.rejects(response.body.text(), (err) => {
        assert.ok(err instanceof NetError && !(err instanceof TypeError), String(err));
        assert.equal(err.code, code);
        return true;
      });
    });
  }

  test("a gzip-coded body cut in the middle (decoded stream): TypeError whose cause is a NetError", async () => {
    script = { bytes: gzipCut(), then: "cut" };
    const response = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    await typeErrorRejection(response.text());
  });

  test("a TLS record that fails its check in the middle of the body: TypeError whose cause is a TLSError", async () => {
    const pki = testPKI();
    await using tlsServer = listenTLS({
      port: 0,
      cert: pki.chain,
      key: pki.key,
      handler: { data: (c) => void c.send(new TextEncoder().encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")) },
    });
    // A relay that passes everything on, and on cue writes a forged application-data record to the client.
    let toClient: net.Socket | undefined;
    const relay = net.createServer((down) => {
      toClient = down;
      const up = net.connect(tlsServer.port, "127.0.0.1");
      down.pipe(up);
      up.pipe(down);
      const end = (): void => {
        up.destroy();
        down.destroy();
      };
      up.on("error", end).on("close", end);
      down.on("error", end).on("close", end);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const tlsAgent = new Agent({ tls: { ca: pki.root } });
    try {
      const response = await fetch(`https://localhost:${(relay.address() as net.AddressInfo).port}/`, { dispatcher: tlsAgent });
      const reader = response.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
      toClient!.write(Uint8Array.from([0x17, 0x03, 0x03, 0x00, 0x20, ...new Array<number>(32).fill(0x42)]));
      await typeErrorRejection(reader.read(), undefined, TLSError);
    } finally {
      await tlsAgent.close();
      relay.close();
      toClient?.destroy();
    }
  });

  test("HTTP/2: a stream the server resets in the middle of a body: TypeError whose cause is the typed error; request() gets the error itself", async () => {
    // serve() over h2c: the handler's body stream gives "hello", then fails once the test says so (the stream is reset).
    const gates: Array<() => void> = [];
    const h2 = serve({
      port: 0,
      http2: {},
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(new TextEncoder().encode("hello"));
            },
            pull(c) {
              return new Promise<void>((resolve) => gates.push(resolve)).then(() => c.error(new Error("the handler's body failed")));
            },
          }),
        ),
    });
    const origin = `http://127.0.0.1:${h2.addr.port}`;
    const pool = new Pool(origin, { http2: "prior-knowledge" });
    const failNext = async (): Promise<void> => {
      while (gates.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      gates.shift()!();
    };
    try {
      const response = await fetch(`${origin}/`, { dispatcher: pool });
      const reader = response.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
      await failNext();
      await typeErrorRejection(reader.read(), "ERR_H2_STREAM_RESET");
      const direct = await request(`${origin}/`, { dispatcher: pool });
      const body = direct.body.text();
      body.catch(() => {});
      await failNext();
      await assert.rejects(body, (err) => {
        assert.ok(err instanceof NetError && !(err instanceof TypeError), String(err));
        assert.equal(err.code, "ERR_H2_STREAM_RESET");
        return true;
      });
    } finally {
      await pool.close();
      await h2.shutdown({ deadlineMs: 1000 });
    }
  });

  test("an abort while the body is read: the signal's reason (AbortError DOMException without one), not a TypeError", async () => {
    for (const reason of [undefined, new Error("stop")]) {
      script = { bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", then: "hold" };
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent, signal: controller.signal });
      const reader = response.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
      controller.abort(reason);
      await assert.rejects(reader.read(), (err) => {
        if (reason === undefined) {
          assert.ok(err instanceof DOMException, String(err));
          assert.equal(err.name, "AbortError");
        } else assert.equal(err, reason);
        return true;
      });
    }
  });
});

describe("fetch: a failure before the response is TypeError(\"fetch failed\") whose cause is the typed error; request() throws the typed error", () => {
  test("a refused connection", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await typeErrorRejection(fetch(`http://127.0.0.1:${deadPort}/`, { dispatcher: agent }), "ECONNREFUSED");
    await assert.rejects(request(`http://127.0.0.1:${deadPort}/`, { dispatcher: agent }), (err) => {
      assert.ok(err instanceof NetError && !(err instanceof TypeError), String(err));
      assert.equal(err.code, "ECONNREFUSED");
      return true;
    });
  });

  test("a name that does not resolve (NXDOMAIN from a local server)", async () => {
    const udp = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    udp.on("message", (msg, rinfo) => {
      const q = decodeMessage(new Uint8Array(msg));
      udp.send(encodeMessage({ id: q.id, questions: q.questions, flags: { qr: true, rd: true, ra: true, rcode: 3 } }), rinfo.port, rinfo.address);
    });
    const resolver = new Resolver({ servers: [`127.0.0.1:${(udp.address() as AddressInfo).port}`], hostsPath: null, search: [], attempts: 1, timeoutMs: 2000 });
    const dnsAgent = new Agent({ connector: (o) => defaultConnector({ ...o, resolver }) });
    try {
      await typeErrorRejection(fetch("http://gone.test/", { dispatcher: dnsAgent }), "ENOTFOUND", DNSError);
      await assert.rejects(request("http://gone.test/", { dispatcher: dnsAgent }), (err) => {
        assert.ok(err instanceof DNSError, String(err));
        assert.equal(err.code, "ENOTFOUND");
        return true;
      });
    } finally {
      await dnsAgent.close();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
  });

  test("a certificate that does not verify", async () => {
    const pki = testPKI();
    await using self = listenTLS({ port: 0, cert: pki.selfSigned, key: readFileSync(join(pki.dir, "self.key"), "utf8"), handler: {} });
    const tlsAgent = new Agent({ tls: { ca: pki.root } });
    try {
      await typeErrorRejection(fetch(`https://localhost:${self.port}/`, { dispatcher: tlsAgent }), undefined, TLSError);
      await assert.rejects(request(`https://localhost:${self.port}/`, { dispatcher: tlsAgent }), (err) => {
        assert.ok(err instanceof TLSError, String(err));
        return true;
      });
    } finally {
      await tlsAgent.close();
    }
  });
});
