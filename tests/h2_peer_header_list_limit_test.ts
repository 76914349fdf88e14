// HTTP/2 header sections above the peer's SETTINGS_MAX_HEADER_LIST_SIZE
// (red team, thirteenth pass). Found and fixed: the peer's setting was
// parsed and never used, so serve() sent a handler's 2 KB field (or
// trailers) to a client that announced 1000 octets, and the HTTP/2
// client sent a 2 KB request head to a server that did; such a peer only
// resets the stream or drops the connection over it (and node:http2's
// client stalls without a word on a large trailer block). A header
// section above the peer's limit (RFC 9113 §6.5.2: name and value octets
// plus 32 per field) is now refused before anything goes out, as Go's
// client and server do: HTTP2Error ERR_H2_HEADER_LIST_TOO_LARGE. A
// response head refused so is answered 500 (the handler's response could
// not be written); trailers refused after the body reset the stream with
// INTERNAL_ERROR; a request fails at the caller. Without the setting
// nothing changes (it is unlimited unless sent).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { HTTP2Error } from "../core/errors.ts";
import { Logger } from "../core/log.ts";
import { H2Connection } from "../http/h2/connection.ts";
import { Pool } from "../http/client/pool.ts";
import { request } from "../http/client/request.ts";
import { serve } from "../http/server/mod.ts";
import { block, E, F, headers, Peer, PREFACE, type RawFrame, settings, T } from "./conformance/h2/peer.ts";

const MAX_HEADER_LIST_SIZE = 0x6;

describe("serve over HTTP/2 and the client's SETTINGS_MAX_HEADER_LIST_SIZE", () => {
  test("a head above it is a 500, trailers above it reset the stream, what fits goes out", async () => {
    const logged: string[] = [];
    const server = serve({
      port: 0,
      logger: new Logger({ level: "error", sink: (line) => logged.push(line) }),
      fetch: (req, info) => {
        const path = new URL(req.url).pathname;
        if (path === "/big-trailers") info.setTrailers(() => ({ "x-big": "t".repeat(2000) }));
        if (path === "/big-head") return new Response("hello", { headers: { "x-big": "b".repeat(2000) } });
        if (path === "/big-stream-head") return new Response(new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(3)), c.close()) }), { headers: { "x-big": "b".repeat(2000) } });
        if (path === "/fits") return new Response("hello", { headers: { "x-fits": "f".repeat(500) } });
        return new Response("hello");
      },
    });
    const peer = await Peer.connect({ port: server.addr.port });
    try {
      const req = (path: string): [string, string][] => [[":method", "GET"], [":scheme", "http"], [":authority", "a"], [":path", path]];
      peer.send(PREFACE, settings([[MAX_HEADER_LIST_SIZE, 1000]]));
      const paths = ["/big-head", "/big-trailers", "/big-stream-head", "/fits", "/small"];
      paths.forEach((path, i) => peer.send(headers(1 + 2 * i, block(req(path)), F.END_HEADERS | F.END_STREAM)));
      const deadline = performance.now() + 10_000;
      const frames = new Map<number, RawFrame[]>();
      const ended = new Set<number>();
      while (ended.size < paths.length) {
        const ev = await peer.next(deadline);
        assert.equal(ev.kind, "frame", `the server sent: ${peer.seen.join(", ")}`);
        if (ev.kind !== "frame") return;
        const f = ev.frame;
        if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0) peer.send(settings([], F.ACK));
        if (f.streamId === 0) continue;
        frames.set(f.streamId, [...(frames.get(f.streamId) ?? []), f]);
        if (f.type === T.RST_STREAM || (f.flags & F.END_STREAM) !== 0) ended.add(f.streamId);
      }
      // Every header block the server sent stays within 1000 octets.
      for (const [, fs] of frames) for (const f of fs) if (f.type === T.HEADERS) assert.ok(f.payload.length < 1000, `a ${f.payload.length}-octet block went out`);
      const rst = (id: number) => frames.get(id)!.find((f) => f.type === T.RST_STREAM);
      assert.equal(rst(3) !== undefined && new DataView(rst(3)!.payload.buffer, rst(3)!.payload.byteOffset).getUint32(0), E.INTERNAL_ERROR, "trailers: RST_STREAM INTERNAL_ERROR");
      const body = (id: number) => new TextDecoder().decode(Buffer.concat(frames.get(id)!.filter((f) => f.type === T.DATA).map((f) => f.payload)));
      assert.equal(body(1), "Internal Server Error");
      assert.equal(body(5), "Internal Server Error");
      assert.equal(body(7), "hello");
      assert.equal(body(9), "hello");
      assert.equal(logged.filter((l) => l.includes("SETTINGS_MAX_HEADER_LIST_SIZE")).length, 3, logged.join("\n"));
    } finally {
      peer.close();
      await server.shutdown({ deadlineMs: 200 });
    }
  });
});

describe("the HTTP/2 client and the server's SETTINGS_MAX_HEADER_LIST_SIZE", () => {
  test("a request head above it fails at the caller and is never sent; one that fits goes", async () => {
    let streams = 0;
    const server = http2.createServer({ settings: { maxHeaderListSize: 1000 } });
    server.on("stream", (stream: http2.ServerHttp2Stream) => {
      streams++;
      stream.respond({ ":status": 200 });
      stream.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { http2: "prior-knowledge" });
    try {
      const first = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/a`, { dispatcher: pool, headers: { "x-fits": "f".repeat(500) } });
      assert.equal(first.statusCode, 200);
      assert.equal(await first.body.text(), "ok");
      // The server's SETTINGS are in by now.
      await assert.rejects(
        request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/b`, { dispatcher: pool, headers: { "x-big": "b".repeat(2000) } }),
        (err: unknown) => {
          const e = err instanceof HTTP2Error ? err : (err as { cause?: unknown }).cause;
          assert.ok(e instanceof HTTP2Error, String(err));
          assert.equal(e.code, "ERR_H2_HEADER_LIST_TOO_LARGE");
          return true;
        },
      );
      assert.equal(streams, 1);
      const again = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/c`, { dispatcher: pool });
      assert.equal(await again.body.text(), "ok");
      assert.equal(streams, 2);
    } finally {
      await pool.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("H2Connection: request, respond, respondWithData and sendTrailers check it; without it nothing is checked", () => {
    const client = new H2Connection({ role: "client" });
    const server = new H2Connection({ role: "server", settings: { maxHeaderListSize: 400 } });
    server.receive(client.pull());
    client.receive(server.pull());
    server.receive(client.pull());
    const big = ["x-big", "b".repeat(500)];
    assert.throws(() => client.request([":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", ...big], true), (e: unknown) => e instanceof HTTP2Error && e.code === "ERR_H2_HEADER_LIST_TOO_LARGE");
    const id = client.request([":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a"], true);
    server.receive(client.pull());
    // The client announced no limit: the server may send a large head.
    server.respond(id, [":status", "200", ...big], false);
    server.sendTrailers(id, big);
    client.receive(server.pull());
    // A client that announces a limit: the server's heads and trailers are checked against it.
    const c2 = new H2Connection({ role: "client", settings: { maxHeaderListSize: 400 } });
    const s2 = new H2Connection({ role: "server" });
    const id2 = c2.request([":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", ...big], true);
    s2.receive(c2.pull());
    c2.receive(s2.pull());
    s2.receive(c2.pull());
    const tooLarge = (e: unknown) => e instanceof HTTP2Error && e.code === "ERR_H2_HEADER_LIST_TOO_LARGE";
    assert.throws(() => s2.respondWithData(id2, [":status", "200", ...big], new Uint8Array(1)), tooLarge);
    assert.throws(() => s2.respond(id2, [":status", "200", ...big], false), tooLarge);
    s2.respond(id2, [":status", "200"], false);
    assert.throws(() => s2.sendTrailers(id2, big), tooLarge);
    s2.sendTrailers(id2, ["x-t", "1"]);
    const events = c2.receive(s2.pull());
    assert.ok(events.some((e) => e.type === "headers" && e.streamId === id2), JSON.stringify(events.map((e) => e.type)));
  });
});
