// The HTTP/2 client (request over h2c by prior knowledge) against a hostile
// server on a raw socket: every attack ends the request with a typed
// HTTP2Error (HTTP2StreamError for one stream's fault) and a stable code,
// never a crash, a hang or unbounded memory, and the agent goes on with a
// new connection afterwards.
// - floods (SETTINGS, PING, empty DATA, empty CONTINUATION, WINDOW_UPDATE of 1):
//   the server sends until the client closes (at most 200,000 frames);
// - header bombs: a CONTINUATION run past the header limit, one indexed
//   4000-byte field referenced 15,000 times (HPACK amplification), a
//   dynamic-table size update past 2^32;
// - protocol faults: PUSH_PROMISE with push disabled, GOAWAY raising its
//   last stream id, GOAWAY 0 (refused), frames on idle streams, a connection window past 2^31-1, a 16 MiB frame header,
//   trailers without END_STREAM, bad :status, upper-case and
//   connection-specific fields, a content-length the DATA does not match.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { HTTP2Error, NetError } from "../core/errors.ts";
import { Agent, fetch, request } from "../http/client/mod.ts";
import { encodeFrame, encodeGoaway, encodePing, encodeRstStream, encodeSettings, encodeWindowUpdate } from "../http/h2/frames.ts";
import { HPACKEncoder } from "../http/hpack/encoder.ts";

const DATA = 0, HEADERS = 1, SETTINGS = 4, PUSH_PROMISE = 5, GOAWAY = 7, CONTINUATION = 9;
const END_STREAM = 1, END_HEADERS = 4;
const head = (fields: string[]): Uint8Array => new HPACKEncoder().encode(fields);
const u32 = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

/** Writes `make()` up to `count` times, waiting for drain, until the socket is closed. */
function flood(sock: net.Socket, count: number, make: () => Uint8Array): void {
  let sent = 0;
  const more = (): void => {
    while (sent < count && !sock.destroyed) {
      sent++;
      if (!sock.write(make())) return void sock.once("drain", more);
    }
  };
  more();
}

type Attack = (sock: net.Socket, stream: number) => void;

function hpackAmplification(sock: net.Socket, id: number): void {
  const name = new TextEncoder().encode("x-big");
  const parts: Uint8Array[] = [new Uint8Array([0x88, 0x40, name.length]), name];
  // A 4000-byte value, literal with incremental indexing (7-bit prefix: 127 + 3873).
  parts.push(new Uint8Array([0x7f, (3873 & 0x7f) | 0x80, 3873 >> 7]), new Uint8Array(4000).fill(0x61));
  for (let i = 0; i < 15_000; i++) parts.push(new Uint8Array([0xbe])); // indexed: dynamic entry 62
  const block = concat(parts);
  sock.write(encodeFrame(HEADERS, 0, id, block.subarray(0, 16_000)));
  for (let o = 16_000; o < block.length; o += 16_000) {
    sock.write(encodeFrame(CONTINUATION, o + 16_000 >= block.length ? END_HEADERS | END_STREAM : 0, id, block.subarray(o, o + 16_000)));
  }
}

const ATTACKS: Array<[string, string, Attack]> = [
  ["a SETTINGS flood", "ERR_H2_SETTINGS_FLOOD", (s) => flood(s, 200_000, () => encodeSettings([[3, 100]]))],
  ["a PING flood", "ERR_H2_PING_FLOOD", (s) => flood(s, 200_000, () => encodePing(new Uint8Array(8), false))],
  ["empty DATA frames without end", "ERR_H2_NO_PROGRESS_FLOOD", (s, id) => {
    s.write(encodeFrame(HEADERS, END_HEADERS, id, head([":status", "200"])));
    flood(s, 200_000, () => encodeFrame(DATA, 0, id, new Uint8Array(0)));
  }],
  ["empty CONTINUATION frames without end", "ERR_H2_CONTINUATION_FLOOD", (s, id) => {
    s.write(encodeFrame(HEADERS, 0, id, head([":status", "200"])));
    flood(s, 200_000, () => encodeFrame(CONTINUATION, 0, id, new Uint8Array(0)));
  }],
  ["WINDOW_UPDATE of 1 without end", "ERR_H2_NO_PROGRESS_FLOOD", (s) => flood(s, 200_000, () => encodeWindowUpdate(0, 1))],
  ["a header block of 2000 full CONTINUATION frames", "ERR_H2_CONTINUATION_FLOOD", (s, id) => {
    s.write(encodeFrame(HEADERS, 0, id, head([":status", "200"])));
    flood(s, 2000, () => encodeFrame(CONTINUATION, 0, id, new Uint8Array(16_000).fill(0x40)));
  }],
  ["one 4000-byte indexed field referenced 15,000 times", "ERR_H2_HEADER_LIST_TOO_LARGE", hpackAmplification],
  ["a dynamic table size update past 2^32", "ERR_HPACK_INTEGER", (s, id) => {
    s.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, id, new Uint8Array([0x3f, 0xe1, 0xff, 0xff, 0xff, 0x0f, 0x88])));
  }],
  ["PUSH_PROMISE with push disabled", "ERR_H2_PUSH_DISABLED", (s, id) => {
    s.write(encodeFrame(PUSH_PROMISE, END_HEADERS, id, concat([u32(2), head([":method", "GET", ":path", "/x", ":scheme", "http", ":authority", "a"])])));
  }],
  ["GOAWAY that raises its last stream id", "ERR_H2_GOAWAY", (s) => {
    s.write(encodeGoaway(2, 0, new Uint8Array(0)));
    s.write(encodeGoaway(1000, 0, new Uint8Array(0)));
  }],
  ["GOAWAY 0 before the answer", "ERR_H2_STREAM_REFUSED", (s) => s.write(encodeGoaway(0, 0, new Uint8Array(0)))],
  ["RST_STREAM on idle streams", "ERR_H2_IDLE_STREAM", (s) => s.write(encodeRstStream(99, 8))],
  ["DATA on an idle stream", "ERR_H2_IDLE_STREAM", (s, id) => {
    s.write(encodeFrame(HEADERS, END_HEADERS, id, head([":status", "200"])));
    s.write(encodeFrame(DATA, END_STREAM, 99, new Uint8Array(1)));
  }],
  ["a connection window past 2^31-1", "ERR_H2_FLOW_CONTROL", (s) => {
    s.write(encodeWindowUpdate(0, 0x7fffffff));
    s.write(encodeWindowUpdate(0, 0x7fffffff));
  }],
  ["a 16 MiB frame header", "ERR_H2_FRAME_SIZE", (s) => s.write(new Uint8Array([0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0]))],
  ["trailers without END_STREAM", "ERR_H2_TRAILERS", (s, id) => {
    s.write(encodeFrame(HEADERS, END_HEADERS, id, head([":status", "200"])));
    s.write(encodeFrame(DATA, 0, id, new Uint8Array(2)));
    s.write(encodeFrame(HEADERS, END_HEADERS, id, head(["x-t", "1"])));
  }],
  ["a :status of four digits", "ERR_H2_MALFORMED", (s, id) => s.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, id, head([":status", "2000"])))],
  ["no :status", "ERR_H2_MALFORMED", (s, id) => s.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, id, head(["x", "y"])))],
  ["an upper-case field name", "ERR_H2_MALFORMED", (s, id) => s.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, id, head([":status", "200", "X-Up", "y"])))],
  ["a connection-specific field", "ERR_H2_MALFORMED", (s, id) => s.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, id, head([":status", "200", "connection", "close"])))],
  ["DATA shorter than content-length", "ERR_H2_CONTENT_LENGTH", (s, id) => {
    s.write(encodeFrame(HEADERS, END_HEADERS, id, head([":status", "200", "content-length", "10"])));
    s.write(encodeFrame(DATA, END_STREAM, id, new Uint8Array(2)));
  }],
];

let server: net.Server;
let port = 0;
let attack: Attack = () => {};
const OK: Attack = (s, id) => {
  s.write(encodeFrame(HEADERS, END_HEADERS, id, head([":status", "200"])));
  s.write(encodeFrame(DATA, END_STREAM, id, new TextEncoder().encode("ok")));
};

before(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    let buf = Buffer.alloc(0);
    let offset = 24; // after the client preface
    sock.write(encodeSettings([]));
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (offset + 9 <= buf.length) {
        const len = buf.readUIntBE(offset, 3);
        if (offset + 9 + len > buf.length) break;
        const type = buf[offset + 3];
        if (type === SETTINGS && (buf[offset + 4]! & 1) === 0) sock.write(encodeSettings(null));
        if (type === HEADERS) attack(sock, buf.readUInt32BE(offset + 5) & 0x7fffffff);
        offset += 9 + len;
      }
      if (offset <= buf.length) {
        buf = buf.subarray(offset);
        offset = 0;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("HTTP/2 client against a hostile server", () => {
  const agent = new Agent({ http2: "prior-knowledge" });
  after(() => agent.close());

  for (const [name, code, run] of ATTACKS) {
    test(`${name}: ${code}, then a new connection works`, async () => {
      attack = run;
      await assert.rejects(
        (async () => {
          const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
          await res.body.arrayBuffer();
        })(),
        (err: unknown) => {
          assert.ok(err instanceof HTTP2Error, String(err));
          assert.equal((err as HTTP2Error).code, code, String(err));
          return true;
        },
      );
      attack = OK;
      const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), "ok");
    });
  }

  test("fetch: a redirect with two differing location fields is ERR_HTTP_REDIRECT_LOCATION, not their comma join", async () => {
    attack = (s, id) => s.write(encodeFrame(HEADERS, END_HEADERS | END_STREAM, id, head([":status", "302", "location", "/a", "location", "/b"])));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent }), (err: unknown) => {
      assert.ok(err instanceof TypeError, String(err));
      const cause = (err as Error).cause;
      assert.ok(cause instanceof NetError, String(cause));
      assert.equal(cause.code, "ERR_HTTP_REDIRECT_LOCATION");
      return true;
    });
    attack = OK;
    const res = await fetch(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    assert.equal(await res.text(), "ok");
  });
});
