import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { H2Connection } from "./connection.ts";
import { ErrorCode as E, Flag, FrameType as T } from "./constants.ts";
import type { H2Event } from "./events.ts";
import { encodeGoaway, encodePing, encodeRstStream, encodeSettings, encodeWindowUpdate } from "./frames.ts";
import { HPACKDecoder } from "../hpack/decoder.ts";
import { assertConnError, assertStreamError, concat, frame, REQ, Script, u32 } from "./peer_test.ts";

const POST = [":method", "POST", ":scheme", "https", ":path", "/up", ":authority", "example.test"];

describe("RFC 9113 §3.4 preface", () => {
  test("server: an invalid preface is a PROTOCOL_ERROR", () => {
    const c = new H2Connection({ role: "server" });
    const ev = c.receive(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    assert.equal(ev[0]?.type, "error");
    assert.equal(c.dead, true);
  });
  for (const role of ["server", "client"] as const) {
    test(`${role}: a first frame other than SETTINGS is a PROTOCOL_ERROR`, () => {
      const c = new H2Connection({ role });
      const pre = role === "server" ? new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") : new Uint8Array(0);
      const ev = c.receive(concat(pre, encodePing(new Uint8Array(8), false)));
      const err = ev.find((e) => e.type === "error");
      assert.ok(err && err.type === "error" && err.error.http2Code === E.PROTOCOL_ERROR);
    });
  }
});

describe("RFC 9113 §4 frames", () => {
  test("unknown frame types are ignored", () => {
    const s = new Script("server");
    s.send(frame(0xfa, 0xff, 1, new Uint8Array(3)));
    assert.deepEqual(s.events, []);
  });
  test("§4.2 a frame above SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS), frame(T.DATA, 0, 1, new Uint8Array(16385)));
    assertConnError(s, E.FRAME_SIZE_ERROR, "ERR_H2_FRAME_SIZE");
  });
  test("§4.3 an undecodable header block is a COMPRESSION_ERROR", () => {
    const s = new Script("server");
    s.send(frame(T.HEADERS, Flag.END_HEADERS, 1, new Uint8Array([0x80])));
    assertConnError(s, E.COMPRESSION_ERROR);
  });
});

describe("RFC 9113 §5.1 stream states", () => {
  for (const [name, f] of [
    ["DATA", frame(T.DATA, 0, 1, new Uint8Array(1))],
    ["RST_STREAM", encodeRstStream(1, 0)],
    ["WINDOW_UPDATE", encodeWindowUpdate(1, 1)],
    ["CONTINUATION", frame(T.CONTINUATION, Flag.END_HEADERS, 1, new Uint8Array([0x82]))],
  ] as const) {
    test(`idle: ${name} is a connection PROTOCOL_ERROR`, () => {
      const s = new Script("server");
      s.send(f);
      assertConnError(s, E.PROTOCOL_ERROR);
    });
  }
  test("idle: PRIORITY is accepted", () => {
    const s = new Script("server");
    s.send(frame(T.PRIORITY, 0, 3, new Uint8Array([0, 0, 0, 1, 15])));
    assert.equal(s.events[0]?.type, "priority");
  });
  test("half-closed (remote): DATA is a stream STREAM_CLOSED", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ), frame(T.DATA, 0, 1, new Uint8Array(1)));
    assertStreamError(s, 1, E.STREAM_CLOSED);
  });
  test("half-closed (remote): HEADERS is a stream STREAM_CLOSED", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ));
    s.send(s.headers(1, ["x", "y"]));
    assertStreamError(s, 1, E.STREAM_CLOSED);
  });
  test("closed by the peer's RST_STREAM: DATA is a stream STREAM_CLOSED", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS), encodeRstStream(1, E.CANCEL));
    s.send(frame(T.DATA, 0, 1, new Uint8Array(1)));
    assertStreamError(s, 1, E.STREAM_CLOSED);
  });
  test("closed after END_STREAM both ways: DATA is a connection STREAM_CLOSED", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ));
    s.conn.respond(1, [":status", "204"], true);
    s.out();
    s.send(frame(T.DATA, 0, 1, new Uint8Array(1)));
    assertConnError(s, E.STREAM_CLOSED);
  });
  test("closed by our RST_STREAM: late frames are ignored, the connection window is credited", () => {
    const s = new Script("server");
    s.send(s.headers(1, POST, Flag.END_HEADERS));
    s.conn.reset(1, E.CANCEL);
    s.out();
    s.send(frame(T.DATA, 0, 1, new Uint8Array(16384)), frame(T.DATA, 0, 1, new Uint8Array(16384)), frame(T.DATA, 0, 1, new Uint8Array(16384)));
    assert.deepEqual(s.events, []);
    assert.ok(s.out().some((f) => f.type === T.WINDOW_UPDATE && f.streamId === 0));
  });
  test("§5.1.1 an even stream id from a client is a PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(2, REQ));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§5.1.1 a stream id below the last one is a PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(5, REQ), s.headers(3, REQ));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§5.1.1 client: HEADERS on an idle server stream is a PROTOCOL_ERROR", () => {
    const s = new Script("client");
    s.send(s.headers(2, [":status", "200"]));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§5.1.2 streams above MAX_CONCURRENT_STREAMS are refused", () => {
    const s = new Script("server", { settings: { maxConcurrentStreams: 1 } });
    s.send(s.headers(1, REQ, Flag.END_HEADERS), s.headers(3, REQ, Flag.END_HEADERS));
    assertStreamError(s, 3, E.REFUSED_STREAM);
  });
  test("§5.3 a stream depending on itself is a stream PROTOCOL_ERROR (HEADERS and PRIORITY)", () => {
    const s = new Script("server");
    s.send(frame(T.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PRIORITY, 1, concat(new Uint8Array([0, 0, 0, 1, 15]), s.hpack.encode(REQ))));
    assertStreamError(s, 1, E.PROTOCOL_ERROR);
    s.send(frame(T.PRIORITY, 0, 3, new Uint8Array([0, 0, 0, 3, 15])));
    assertStreamError(s, 3, E.PROTOCOL_ERROR);
  });
  test("§5.5 an unknown frame inside a header block is a PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(frame(T.HEADERS, Flag.END_STREAM, 1, s.hpack.encode(REQ)), frame(0xfa, 0, 1, new Uint8Array(1)));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
});

describe("RFC 9113 §6 frame definitions", () => {
  test("§6.1 DATA on stream 0 is a PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(frame(T.DATA, 0, 0, new Uint8Array(1)));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§6.1 padding as long as the payload is a PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(1, POST, Flag.END_HEADERS), frame(T.DATA, Flag.PADDED, 1, new Uint8Array([4, 0, 0, 0])));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§6.1 padded DATA delivers the data and counts padding for flow control", () => {
    const s = new Script("server");
    s.send(s.headers(1, POST, Flag.END_HEADERS), frame(T.DATA, Flag.PADDED | Flag.END_STREAM, 1, new Uint8Array([2, 7, 8, 0, 0])));
    const d = s.events.find((e) => e.type === "data");
    assert.ok(d && d.type === "data");
    assert.deepEqual([...d.data], [7, 8]);
  });
  test("§6.2 HEADERS with padding and priority", () => {
    const s = new Script("server");
    const block = s.hpack.encode(REQ);
    s.send(frame(T.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PADDED | Flag.PRIORITY, 1, concat(new Uint8Array([3, 0, 0, 0, 0, 200]), block, new Uint8Array(3))));
    const h = s.events.find((e) => e.type === "headers");
    assert.ok(h && h.type === "headers");
    assert.deepEqual(h.headers, REQ);
  });
  test("§6.3 PRIORITY of the wrong length is a stream FRAME_SIZE_ERROR", () => {
    const s = new Script("server");
    s.send(frame(T.PRIORITY, 0, 1, new Uint8Array(4)));
    assertStreamError(s, 1, E.FRAME_SIZE_ERROR);
  });
  test("§6.4 RST_STREAM of the wrong length is a FRAME_SIZE_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS), frame(T.RST_STREAM, 0, 1, new Uint8Array(3)));
    assertConnError(s, E.FRAME_SIZE_ERROR);
  });
  for (const [name, f, code] of [
    ["ACK with a payload", frame(T.SETTINGS, Flag.ACK, 0, new Uint8Array(6)), E.FRAME_SIZE_ERROR],
    ["a length not a multiple of 6", frame(T.SETTINGS, 0, 0, new Uint8Array(5)), E.FRAME_SIZE_ERROR],
    ["a stream id", frame(T.SETTINGS, 0, 1, new Uint8Array(0)), E.PROTOCOL_ERROR],
    ["ENABLE_PUSH 2", encodeSettings([[2, 2]]), E.PROTOCOL_ERROR],
    ["INITIAL_WINDOW_SIZE 2^31", encodeSettings([[4, 0x80000000]]), E.FLOW_CONTROL_ERROR],
    ["MAX_FRAME_SIZE 16383", encodeSettings([[5, 16383]]), E.PROTOCOL_ERROR],
    ["MAX_FRAME_SIZE 2^24", encodeSettings([[5, 1 << 24]]), E.PROTOCOL_ERROR],
    ["an unexpected ACK", encodeSettings(null), E.PROTOCOL_ERROR],
  ] as const) {
    test(`§6.5 SETTINGS with ${name}`, () => {
      const s = new Script("server");
      s.send(f);
      assertConnError(s, code);
    });
  }
  test("§6.5.2 client: a server sending ENABLE_PUSH 1 is a PROTOCOL_ERROR", () => {
    const s = new Script("client");
    s.send(encodeSettings([[2, 1]]));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§6.5 SETTINGS are acknowledged and unknown ids ignored", () => {
    const s = new Script("server");
    s.send(encodeSettings([[0xff, 7], [3, 5]]));
    assert.equal(s.events[0]?.type, "settings");
    assert.ok(s.out().some((f) => f.type === T.SETTINGS && f.flags === Flag.ACK));
  });
  test("§6.5.3 a missing SETTINGS ACK times out through tick()", () => {
    const clock = { t: 0 };
    const c = new H2Connection({ role: "client", now: () => clock.t, settingsAckTimeoutMs: 100 });
    assert.equal(c.nextDeadline(), 100);
    clock.t = 100;
    const ev = c.tick();
    const err = ev.find((e) => e.type === "error");
    assert.ok(err && err.type === "error" && err.error.http2Code === E.SETTINGS_TIMEOUT);
  });
  test("§6.7 PING is answered; wrong length and stream ids are errors", () => {
    const s = new Script("server");
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    s.send(encodePing(data, false));
    const ack = s.out().find((f) => f.type === T.PING);
    assert.ok(ack && ack.flags === Flag.ACK);
    assert.deepEqual(ack.payload, data);
    s.send(frame(T.PING, 0, 0, new Uint8Array(7)));
    assertConnError(s, E.FRAME_SIZE_ERROR);
    const s2 = new Script("server");
    s2.send(frame(T.PING, 0, 1, new Uint8Array(8)));
    assertConnError(s2, E.PROTOCOL_ERROR);
  });
  test("§6.7 ping-ack reports the RTT from the injected clock", () => {
    const s = new Script("client");
    s.conn.ping(new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]));
    s.out();
    s.clock.t += 42;
    s.send(encodePing(new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]), true));
    const e = s.events[0];
    assert.ok(e && e.type === "ping-ack");
    assert.equal(e.rtt, 42);
  });
  test("§6.8 GOAWAY refuses the client's streams above the last stream id", () => {
    const s = new Script("client");
    const a = s.conn.request(REQ, true);
    const b = s.conn.request(REQ, true);
    s.send(encodeGoaway(a, 0, new TextEncoder().encode("bye")));
    assert.deepEqual(s.events.map((e) => e.type), ["goaway", "rst"]);
    const rst = s.events[1]!;
    assert.ok(rst.type === "rst" && rst.streamId === b && rst.refused);
    assert.equal(s.conn.canOpenStream(), false);
  });
  test("§6.9 WINDOW_UPDATE of 0: stream error on a stream, connection error on 0", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS), encodeWindowUpdate(1, 0));
    assertStreamError(s, 1, E.PROTOCOL_ERROR);
    s.send(encodeWindowUpdate(0, 0));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§6.9 WINDOW_UPDATE of the wrong length is a FRAME_SIZE_ERROR", () => {
    const s = new Script("server");
    s.send(frame(T.WINDOW_UPDATE, 0, 0, new Uint8Array(3)));
    assertConnError(s, E.FRAME_SIZE_ERROR);
  });
  test("§6.9.1 windows above 2^31-1 are FLOW_CONTROL_ERRORs", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS), encodeWindowUpdate(1, 0x7fffffff));
    assertStreamError(s, 1, E.FLOW_CONTROL_ERROR);
    s.send(encodeWindowUpdate(0, 0x7fffffff));
    assertConnError(s, E.FLOW_CONTROL_ERROR);
  });
  test("§6.9.1 DATA beyond the stream window is a stream FLOW_CONTROL_ERROR", () => {
    const s = new Script("server", { settings: { initialWindowSize: 10 } });
    s.send(s.headers(1, POST, Flag.END_HEADERS), frame(T.DATA, 0, 1, new Uint8Array(11)));
    assertStreamError(s, 1, E.FLOW_CONTROL_ERROR);
  });
  test("§6.9.2 SETTINGS_INITIAL_WINDOW_SIZE changes apply to open streams, overflow is an error", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS));
    s.conn.respond(1, [":status", "200"], false);
    s.conn.sendData(1, new Uint8Array(100), true);
    s.send(encodeSettings([[4, 10]]));
    const data = s.out().filter((f) => f.type === T.DATA);
    assert.equal(data.reduce((n, f) => n + f.payload.length, 0), 10);
    s.send(encodeSettings([[4, 100]]));
    const more = s.out().filter((f) => f.type === T.DATA);
    assert.equal(more.reduce((n, f) => n + f.payload.length, 0), 90);
    assert.equal(more.at(-1)!.flags & Flag.END_STREAM, Flag.END_STREAM);
    const s2 = new Script("server");
    s2.send(s2.headers(1, REQ, Flag.END_HEADERS), encodeWindowUpdate(1, 0x7fffffff - 65535));
    s2.send(encodeSettings([[4, 65536]]));
    assertConnError(s2, E.FLOW_CONTROL_ERROR);
  });
  test("§6.10 header blocks across CONTINUATION; CONTINUATION on another stream is an error", () => {
    const s = new Script("server");
    const block = s.hpack.encode(REQ);
    s.send(frame(T.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 3)), frame(T.CONTINUATION, 0, 1, block.subarray(3, 5)), frame(T.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(5)));
    const h = s.events[0];
    assert.ok(h && h.type === "headers" && h.endStream);
    assert.deepEqual(h.headers, REQ);
    s.send(frame(T.HEADERS, 0, 3, s.hpack.encode(REQ)), frame(T.CONTINUATION, Flag.END_HEADERS, 5, new Uint8Array(0)));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§6.6 PUSH_PROMISE sent to a server is a PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ, Flag.END_HEADERS), frame(T.PUSH_PROMISE, Flag.END_HEADERS, 1, concat(u32(2), s.hpack.encode(REQ))));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
  test("§6.6 client with push disabled: PUSH_PROMISE is a PROTOCOL_ERROR", () => {
    const s = new Script("client");
    const id = s.conn.request(REQ, true);
    s.send(frame(T.PUSH_PROMISE, Flag.END_HEADERS, id, concat(u32(2), s.hpack.encode(REQ))));
    assertConnError(s, E.PROTOCOL_ERROR);
  });
});

describe("RFC 9113 §8 HTTP semantics", () => {
  for (const [name, fields] of [
    ["no :method", [":scheme", "https", ":path", "/"]],
    ["an uppercase name", [...REQ, "X-Up", "1"]],
    ["a connection-specific field", [...REQ, "connection", "keep-alive"]],
    ["te other than trailers", [...REQ, "te", "gzip"]],
    ["a pseudo-header after a regular field", [":method", "GET", "x", "1", ":scheme", "https", ":path", "/"]],
    ["an unknown pseudo-header", [...REQ.slice(0, 6), ":foo", "x"]],
    ["a duplicate :path", [...REQ, ":path", "/"]],
    ["an empty :path", [":method", "GET", ":scheme", "https", ":path", ""]],
    ["a value with a newline", [...REQ, "x", "a\nb"]],
  ] as const) {
    test(`a request with ${name} is a stream PROTOCOL_ERROR`, () => {
      const s = new Script("server");
      s.send(s.headers(1, [...fields]));
      assertStreamError(s, 1, E.PROTOCOL_ERROR, "ERR_H2_MALFORMED");
    });
  }
  test("content-length must match the DATA received", () => {
    const s = new Script("server");
    s.send(s.headers(1, [...POST, "content-length", "3"], Flag.END_HEADERS), frame(T.DATA, Flag.END_STREAM, 1, new Uint8Array(2)));
    assertStreamError(s, 1, E.PROTOCOL_ERROR, "ERR_H2_CONTENT_LENGTH");
  });
  test("trailers without END_STREAM are a stream PROTOCOL_ERROR", () => {
    const s = new Script("server");
    s.send(s.headers(1, POST, Flag.END_HEADERS), s.headers(1, ["x-t", "1"], Flag.END_HEADERS));
    assertStreamError(s, 1, E.PROTOCOL_ERROR, "ERR_H2_TRAILERS");
  });
  test("CONNECT needs :authority and no :scheme or :path", () => {
    const s = new Script("server");
    s.send(s.headers(1, [":method", "CONNECT", ":authority", "a:443"], Flag.END_HEADERS));
    assert.equal(s.events[0]?.type, "headers");
  });
  test("the RFC 9218 priority field is parsed", () => {
    const s = new Script("server");
    s.send(s.headers(1, [...REQ, "priority", "u=1, i"]));
    const h = s.events[0];
    assert.ok(h && h.type === "headers");
    assert.deepEqual(h.priority, { urgency: 1, incremental: true });
  });
  test("DATA goes out in RFC 9218 order: urgency, then one non-incremental stream at a time, then incremental ones interleaved", () => {
    const s = new Script("server", {}, [[0x4, 1 << 20]]);
    const update = (id: number, value: string) => frame(T.PRIORITY_UPDATE, 0, 0, concat(u32(id), new TextEncoder().encode(value)));
    s.send(
      encodeWindowUpdate(0, 1 << 20),
      s.headers(1, REQ),
      s.headers(3, [...REQ, "priority", "u=0"]),
      s.headers(5, [...REQ, "priority", "u=3, i"]),
      s.headers(7, [...REQ, "priority", "i"]),
      s.headers(9, REQ),
      update(9, "u=1"), // an open stream: applies at once
      update(11, "u=2"), // an idle stream: kept, and wins over the field that follows
      s.headers(11, [...REQ, "priority", "u=6"]),
    );
    s.out();
    const body = new Uint8Array(20_000);
    for (const id of [1, 3, 5, 7, 9, 11]) {
      s.conn.respond(id, [":status", "200"], false);
      s.conn.sendData(id, body, true);
    }
    const data = s.out().filter((f) => f.type === T.DATA).map((f) => f.streamId);
    assert.deepEqual(data, [3, 3, 9, 9, 11, 11, 1, 1, 5, 7, 5, 7]);
  });
  test("setSendPriority overrides the peer's signal; sendPriorityUpdate is a client's frame", () => {
    const s = new Script("server", {}, [[0x4, 1 << 20]]);
    s.send(encodeWindowUpdate(0, 1 << 20), s.headers(1, [...REQ, "priority", "u=0"]), s.headers(3, REQ));
    s.out();
    s.conn.setSendPriority(1, { urgency: 7, incremental: false });
    assert.throws(() => s.conn.setSendPriority(1, { urgency: 8, incremental: false }), RangeError);
    for (const id of [1, 3]) {
      s.conn.respond(id, [":status", "200"], false);
      s.conn.sendData(id, new Uint8Array(100), true);
    }
    assert.deepEqual(s.out().filter((f) => f.type === T.DATA).map((f) => f.streamId), [3, 1]);
    assert.throws(() => s.conn.sendPriorityUpdate(1, { urgency: 1, incremental: false }), TypeError);
    const c = new Script("client");
    const id = c.conn.request(REQ, true);
    c.out();
    c.conn.sendPriorityUpdate(id, { urgency: 1, incremental: true });
    const f = c.out().find((x) => x.type === T.PRIORITY_UPDATE);
    assert.ok(f);
    assert.equal(new TextDecoder().decode(f.payload.subarray(4)), "u=1, i");
  });
  test("PRIORITY_UPDATE is parsed (server) and refused by a client", () => {
    const s = new Script("server");
    s.send(frame(T.PRIORITY_UPDATE, 0, 0, concat(u32(1), new TextEncoder().encode("u=5"))));
    const e = s.events[0];
    assert.ok(e && e.type === "priority-update");
    assert.deepEqual(e.priority, { urgency: 5, incremental: false });
    const c = new Script("client");
    c.send(frame(T.PRIORITY_UPDATE, 0, 0, concat(u32(1), new Uint8Array(0))));
    assertConnError(c, E.PROTOCOL_ERROR);
  });
});

describe("flood protection", () => {
  test("rapid reset (CVE-2023-44487) ends in ENHANCE_YOUR_CALM", () => {
    const s = new Script("server", { maxResetsPerSecond: 5 });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) parts.push(s.headers(1 + 2 * i, REQ, Flag.END_HEADERS), encodeRstStream(1 + 2 * i, E.CANCEL));
    s.send(...parts);
    assertConnError(s, E.ENHANCE_YOUR_CALM, "ERR_H2_RAPID_RESET");
  });
  test("a CONTINUATION flood ends in ENHANCE_YOUR_CALM", () => {
    const s = new Script("server", { maxContinuationFrames: 4 });
    const parts = [frame(T.HEADERS, 0, 1, new Uint8Array([0x82]))];
    for (let i = 0; i < 10; i++) parts.push(frame(T.CONTINUATION, 0, 1, new Uint8Array(0)));
    s.send(...parts);
    assertConnError(s, E.ENHANCE_YOUR_CALM, "ERR_H2_CONTINUATION_FLOOD");
  });
  for (const [name, f, opt] of [
    ["PING", encodePing(new Uint8Array(8), false), { maxPingsPerSecond: 3 }],
    ["SETTINGS", encodeSettings([]), { maxSettingsPerSecond: 3 }],
  ] as const) {
    test(`a ${name} flood ends in ENHANCE_YOUR_CALM`, () => {
      const s = new Script("server", opt);
      s.send(f, f, f, f, f);
      assertConnError(s, E.ENHANCE_YOUR_CALM);
    });
  }
  test("an empty DATA flood ends in ENHANCE_YOUR_CALM", () => {
    const s = new Script("server", { maxNoProgressFrames: 3 });
    const d = frame(T.DATA, 0, 1, new Uint8Array(0));
    s.send(s.headers(1, POST, Flag.END_HEADERS), d, d, d, d, d);
    assertConnError(s, E.ENHANCE_YOUR_CALM);
  });
  test("a request header list above the limit, decoded whole: 431 on its stream (RST NO_ERROR while its body is owed), HPACK in step, the connection goes on", () => {
    const s = new Script("server", { settings: { maxHeaderListSize: 1000 } });
    const fields = [...REQ];
    for (let i = 0; i < 40; i++) fields.push("x-bomb", "v".repeat(20));
    const decoder = new HPACKDecoder();
    const statusOf = (f: { payload: Uint8Array }) => decoder.decode(f.payload)[1];
    s.send(s.headers(1, fields));
    assert.equal(s.events.length, 0, "the request never reaches the application");
    let out = s.out();
    assert.deepEqual(out.map((f) => [f.type, f.streamId, f.flags & Flag.END_STREAM]), [[T.HEADERS, 1, Flag.END_STREAM]]);
    assert.equal(statusOf(out[0]!), "431");
    // Still sending a body: 431, then RST_STREAM NO_ERROR.
    s.send(s.headers(3, fields, Flag.END_HEADERS));
    out = s.out();
    assert.deepEqual(out.map((f) => [f.type, f.streamId]), [[T.HEADERS, 3], [T.RST_STREAM, 3]]);
    assert.equal(statusOf(out[0]!), "431");
    assert.equal(new DataView(out[1]!.payload.buffer, out[1]!.payload.byteOffset).getUint32(0), E.NO_ERROR);
    s.send(s.headers(5, REQ));
    assert.equal(s.events[0]?.type, "headers");
    assert.equal(s.conn.dead, false);
  });
  test("trailers above the header list limit still reset their stream (ENHANCE_YOUR_CALM)", () => {
    const s = new Script("server", { settings: { maxHeaderListSize: 1000 } });
    s.send(s.headers(1, POST, Flag.END_HEADERS));
    const trailers: string[] = [];
    for (let i = 0; i < 40; i++) trailers.push("x-bomb", "v".repeat(20));
    s.send(s.headers(1, trailers));
    assertStreamError(s, 1, E.ENHANCE_YOUR_CALM, "ERR_H2_HEADER_LIST_TOO_LARGE");
  });
  test("a stream stalled on a zero window is reset after zeroWindowTimeoutMs", () => {
    const s = new Script("server", { zeroWindowTimeoutMs: 50 }, [[4, 0]]);
    s.send(s.headers(1, REQ));
    s.conn.respond(1, [":status", "200"], false);
    s.conn.sendData(1, new Uint8Array(10), true);
    s.out();
    assert.equal(s.conn.nextDeadline(), s.clock.t + 50);
    s.clock.t += 50;
    const ev = s.conn.tick();
    assert.equal(ev[0]?.type, "timeout");
    assert.ok(s.out().some((f) => f.type === T.RST_STREAM));
  });
});

function pump(a: H2Connection, b: H2Connection): H2Event[] {
  const events: H2Event[] = [];
  for (let i = 0; i < 50; i++) {
    const x = a.pull();
    const y = b.pull();
    if (x.length === 0 && y.length === 0) break;
    if (x.length) events.push(...b.receive(x));
    if (y.length) a.receive(y);
  }
  return events;
}

describe("client and server together", () => {
  test("request, response with a large body past the initial windows, trailers", () => {
    const client = new H2Connection({ role: "client" });
    const server = new H2Connection({ role: "server" });
    const id = client.request(POST, false);
    client.sendData(id, new Uint8Array(200_000).fill(1), true);
    const got: H2Event[] = [];
    const body: number[] = [];
    for (let i = 0; i < 100; i++) {
      const c = client.pull();
      const s0 = server.pull();
      if (!c.length && !s0.length) break;
      if (c.length) for (const e of server.receive(c)) {
        got.push(e);
        if (e.type === "data") body.push(e.data.length);
        if (e.type === "data" && e.endStream) {
          server.respond(id, [":status", "200"], false);
          server.sendData(id, new TextEncoder().encode("ok"), false);
          server.sendTrailers(id, ["grpc-status", "0"]);
        }
      }
      if (s0.length) for (const e of client.receive(s0)) got.push(e);
    }
    assert.equal(body.reduce((a, b) => a + b, 0), 200_000);
    const types = got.map((e) => e.type);
    assert.ok(types.includes("trailers"));
    assert.equal(server.streamCount, 0);
    assert.equal(client.streamCount, 0);
  });

  test("server push: PUSH_PROMISE, reserved stream, pushed response", () => {
    const client = new H2Connection({ role: "client", settings: { enablePush: true } });
    const server = new H2Connection({ role: "server" });
    const id = client.request(REQ, true);
    pump(client, server);
    const pushed = server.push(id, [":method", "GET", ":scheme", "https", ":path", "/style.css", ":authority", "example.test"]);
    server.respond(pushed, [":status", "200"], true);
    server.respond(id, [":status", "200"], true);
    const ev = client.receive(server.pull());
    const types = ev.map((e) => e.type);
    assert.deepEqual(types.filter((t) => t !== "settings" && t !== "settings-ack" && t !== "window-update"), ["push-promise", "headers", "headers"]);
  });

  test("any split of the input gives the same events", () => {
    const server0 = new H2Connection({ role: "server" });
    const client = new H2Connection({ role: "client" });
    const id = client.request(POST, false);
    client.sendData(id, new Uint8Array(5000).fill(7), false);
    client.sendTrailers(id, ["x-done", "1"]);
    const bytes = concat(client.pull(), encodePing(new Uint8Array(8), false));
    const strip = (evs: H2Event[]) => JSON.stringify(evs.map((e) => e.type === "data" ? { ...e, data: [...e.data] } : e));
    const whole = strip(server0.receive(bytes));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 8 }), (cuts) => {
        const server = new H2Connection({ role: "server" });
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const evs: H2Event[] = [];
        for (let i = 0; i + 1 < points.length; i++) evs.push(...server.receive(bytes.subarray(points[i]!, points[i + 1]!)));
        const got = evs.filter((e) => e.type !== "data");
        const want = (JSON.parse(whole) as H2Event[]).filter((e) => e.type !== "data");
        assert.equal(JSON.stringify(got), JSON.stringify(want));
      }),
      { numRuns: 100 },
    );
  });

  test("headers round-trip at any SETTINGS_MAX_FRAME_SIZE split into CONTINUATION", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.string({ maxLength: 300 }).map((v) => v.replace(/[^\x21-\x7e]/g, "a"))), { maxLength: 80 }), fc.integer({ min: 0, max: 4096 }), (pairs, table) => {
        const client = new H2Connection({ role: "client" });
        const server = new H2Connection({ role: "server", settings: { headerTableSize: table } });
        pump(client, server);
        const fields = [...REQ, ...pairs.filter(([n]) => !["te", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length", "host"].includes(n)).flat()];
        client.request(fields, true);
        const ev = server.receive(client.pull());
        const h = ev.find((e) => e.type === "headers");
        assert.ok(h && h.type === "headers", JSON.stringify(ev));
        assert.deepEqual(h.headers, fields);
      }),
      { numRuns: 60 },
    );
  });
});
