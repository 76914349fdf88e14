/**
 * A scripted peer for the connection tests: builds frames by hand and reads
 * what the connection sends. Named `_test.ts` to stay out of the build.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HTTP2Error, HTTP2StreamError } from "../../core/errors.ts";
import { HPACKEncoder } from "../hpack/encoder.ts";
import { H2Connection, type H2ConnectionOptions } from "./connection.ts";
import { CLIENT_PREFACE, Flag, FrameType } from "./constants.ts";
import type { H2Event } from "./events.ts";
import { encodeFrame, encodeSettings, type Frame, FrameReader } from "./frames.ts";

export const REQ = [":method", "GET", ":scheme", "https", ":path", "/", ":authority", "example.test"];

/** A frame as captured from the connection's output. */
export interface Captured {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** Splits bytes into frames. */
export function frames(bytes: Uint8Array, skipPreface = false): Captured[] {
  const out: Captured[] = [];
  const r = new FrameReader(1 << 24);
  r.push(skipPreface ? bytes.subarray(CLIENT_PREFACE.length) : bytes, (f: Frame) => {
    out.push({ type: f.type, flags: f.flags, streamId: f.streamId, payload: f.payload.slice() });
  });
  return out;
}

export function u32(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, v >>> 16, v >>> 8, v]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const frame = encodeFrame;

/** A connection with the handshake done, and a script for the peer side. */
export class Script {
  readonly conn: H2Connection;
  readonly hpack = new HPACKEncoder();
  events: H2Event[] = [];
  clock = { t: 1000 };

  constructor(role: "client" | "server", options: Partial<H2ConnectionOptions> = {}, peerSettings: [number, number][] = []) {
    this.conn = new H2Connection({ role, now: () => this.clock.t, ...options });
    this.conn.pull();
    const start = role === "server" ? concat(CLIENT_PREFACE, encodeSettings(peerSettings)) : encodeSettings(peerSettings);
    this.events = this.conn.receive(concat(start, encodeSettings(null)));
    this.conn.pull();
  }

  send(...parts: Uint8Array[]): H2Event[] {
    this.events = this.conn.receive(concat(...parts));
    return this.events;
  }

  headers(id: number, fields: string[], flags = Flag.END_HEADERS | Flag.END_STREAM): Uint8Array {
    return frame(FrameType.HEADERS, flags, id, this.hpack.encode(fields));
  }

  out(): Captured[] {
    return frames(this.conn.pull());
  }
}

/** Asserts a connection error with this RFC code was reported and GOAWAY sent. */
export function assertConnError(s: Script, http2Code: number, code?: string): void {
  const e = s.events.find((x) => x.type === "error");
  assert.ok(e && e.type === "error", `expected a connection error, got ${JSON.stringify(s.events.map((x) => x.type))}`);
  assert.ok(e.error instanceof HTTP2Error && !(e.error instanceof HTTP2StreamError));
  assert.equal(e.error.http2Code, http2Code, e.error.message);
  if (code) assert.equal(e.error.code, code);
  const goaway = s.out().find((f) => f.type === FrameType.GOAWAY);
  assert.ok(goaway, "GOAWAY sent");
  assert.equal(new DataView(goaway.payload.buffer, goaway.payload.byteOffset).getUint32(4), http2Code);
  assert.equal(s.conn.dead, true);
}

/** Asserts a stream error with this RFC code and the RST_STREAM that carries it. */
export function assertStreamError(s: Script, id: number, http2Code: number, code?: string): void {
  const e = s.events.find((x) => x.type === "stream-error");
  assert.ok(e && e.type === "stream-error", `expected a stream error, got ${JSON.stringify(s.events.map((x) => x.type === "error" ? x.error.message : x.type))}`);
  assert.equal(e.streamId, id);
  assert.equal(e.error.http2Code, http2Code, e.error.message);
  if (code) assert.equal(e.error.code, code);
  const rst = s.out().find((f) => f.type === FrameType.RST_STREAM);
  assert.ok(rst, "RST_STREAM sent");
  assert.equal(rst.streamId, id);
  assert.equal(new DataView(rst.payload.buffer, rst.payload.byteOffset).getUint32(0), http2Code);
  assert.equal(s.conn.dead, false);
}

test("scripted peer completes the handshake", () => {
  const s = new Script("server");
  assert.deepEqual(s.events.map((e) => e.type), ["settings", "settings-ack"]);
});
