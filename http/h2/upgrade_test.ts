// H2Connection.upgrade (Upgrade: h2c, RFC 7540 §3.2) and queuedData.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HTTP2Error } from "../../core/errors.ts";
import { HPACKDecoder } from "../hpack/decoder.ts";
import { H2Connection } from "./connection.ts";
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType, SettingId } from "./constants.ts";
import { encodeSettings } from "./frames.ts";
import { concat, frames } from "./peer_test.ts";

function payload(pairs: Array<[number, number]>): Uint8Array {
  return encodeSettings(pairs).subarray(9);
}

describe("H2Connection.upgrade", () => {
  test("applies HTTP2-Settings without an ACK and answers stream 1 before the client's preface", () => {
    const server = new H2Connection({ role: "server", now: null });
    server.upgrade(payload([[SettingId.INITIAL_WINDOW_SIZE, 10], [SettingId.MAX_FRAME_SIZE, 16384]]), "GET");
    assert.equal(server.remoteSettings.initialWindowSize, 10);
    server.respond(1, [":status", "200"], false);
    server.sendData(1, new Uint8Array(25), true);
    assert.equal(server.queuedData(1), 25);
    const out = frames(server.pull());
    // Our SETTINGS, the response, and only 10 octets of DATA (the client's window from HTTP2-Settings); no SETTINGS ACK.
    assert.deepEqual(out.map((f) => [f.type, f.flags & Flag.ACK]), [[FrameType.SETTINGS, 0], [FrameType.HEADERS, 0], [FrameType.DATA, 0]]);
    assert.equal(out[2]!.payload.length, 10);
    assert.equal(server.queuedData(1), 15);
    const headers = new HPACKDecoder().decode(out[1]!.payload);
    assert.deepEqual(headers, [":status", "200"]);
    // The client's preface and SETTINGS follow; its window grows and the rest goes out.
    const events = server.receive(concat(CLIENT_PREFACE, encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, 65535]]), encodeSettings(null)));
    assert.deepEqual(events.map((e) => e.type), ["settings", "settings-ack"]);
    const rest = frames(server.pull());
    const data = rest.filter((f) => f.type === FrameType.DATA);
    assert.equal(data.reduce((n, f) => n + f.payload.length, 0), 15);
    assert.equal(data.at(-1)!.flags & Flag.END_STREAM, Flag.END_STREAM);
    assert.equal(server.queuedData(1), 0);
    assert.equal(server.streamCount, 0);
  });

  test("DATA or HEADERS from the client on stream 1 are a stream error (it is half-closed remote)", () => {
    const server = new H2Connection({ role: "server", now: null });
    server.upgrade(new Uint8Array(0), "GET");
    server.receive(concat(CLIENT_PREFACE, encodeSettings([])));
    server.pull();
    const events = server.receive(new Uint8Array([0, 0, 1, FrameType.DATA, 0, 0, 0, 0, 1, 0x61]));
    const e = events.find((x) => x.type === "stream-error");
    assert.ok(e && e.type === "stream-error");
    assert.equal(e.error.http2Code, ErrorCode.STREAM_CLOSED);
  });

  test("a payload that is no SETTINGS payload throws and changes nothing; upgrade after input is a TypeError", () => {
    const server = new H2Connection({ role: "server", now: null });
    assert.throws(() => server.upgrade(new Uint8Array(5), "GET"), HTTP2Error);
    assert.throws(() => server.upgrade(payload([[SettingId.INITIAL_WINDOW_SIZE, 100], [SettingId.ENABLE_PUSH, 7]]), "GET"), HTTP2Error);
    assert.equal(server.remoteSettings.initialWindowSize, 65535);
    assert.equal(server.streamCount, 0);
    server.receive(CLIENT_PREFACE.subarray(0, 3));
    assert.throws(() => server.upgrade(new Uint8Array(0), "GET"), TypeError);
    assert.throws(() => new H2Connection({ role: "client" }).upgrade(new Uint8Array(0), "GET"), TypeError);
  });
});
