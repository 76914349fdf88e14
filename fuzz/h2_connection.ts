/**
 * Fuzz target for the HTTP/2 connection core in both roles: the bytes are
 * fed (in two parts) after a valid preface; the connection must only report
 * typed errors as events, never throw, and keep its output bounded. Also
 * the attack drivers of issue 15 for the property tests: floods of frames
 * without progress, MadeYouReset, and legitimate transfers at any window
 * that must never trip a limit.
 *
 * @module
 */
import { HPACKEncoder } from "../http/hpack/encoder.ts";
import { H2Connection } from "../http/h2/connection.ts";
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType } from "../http/h2/constants.ts";
import type { H2Event } from "../http/h2/events.ts";
import { encodeFrame, encodeGoaway, encodePing, encodePriority, encodeSettings, encodeWindowUpdate, FrameReader } from "../http/h2/frames.ts";
import { concatBytes } from "../core/bytes.ts";

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./h2_connection.ts";
 * fuzz(new Uint8Array([0, 0, 0, 4, 1, 0, 0, 0, 0]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  const role = data.length > 0 && (data[0]! & 1) === 1 ? "client" : "server";
  let t = 0;
  const conn = new H2Connection({ role, now: () => (t += 7), settings: role === "client" ? { enablePush: true } : {} });
  if (role === "client") {
    conn.request([":method", "GET", ":scheme", "https", ":path", "/", ":authority", "f.test"], false);
    conn.request([":method", "POST", ":scheme", "https", ":path", "/p", ":authority", "f.test"], false);
  }
  conn.pull();
  const start = role === "server" ? CLIENT_PREFACE : new Uint8Array(0);
  const settings = encodeSettings([]);
  const head = new Uint8Array(start.length + settings.length);
  head.set(start);
  head.set(settings, start.length);
  conn.receive(head);
  const body = data.subarray(1);
  const cut = body.length > 0 ? data[0]! % (body.length + 1) : 0;
  for (const part of [body.subarray(0, cut), body.subarray(cut)]) {
    for (const e of conn.receive(part)) {
      if (e.type === "headers" && role === "server" && !conn.dead) {
        try {
          conn.respond(e.streamId, [":status", "200"], false);
          conn.sendData(e.streamId, new Uint8Array(100), true);
        } catch (err) {
          if (!(err instanceof Error) || !("http2Code" in err)) throw err;
        }
      }
    }
    const out = conn.pull(1 << 16);
    if (out.length > (1 << 16) + (1 << 20)) throw new Error("unbounded output");
    conn.tick();
  }
}

/** Kinds of frame that cost the receiver work without progress (issue 15 item 10), for {@link flood}. */
export const NO_PROGRESS_KINDS = [
  "priority", "unknown", "tiny-data", "empty-data", "goaway", "ping-ack", "priority-update", "unbacked-window-update", "tiny-continuation",
] as const;

/** One of {@link NO_PROGRESS_KINDS}. */
export type NoProgressKind = typeof NO_PROGRESS_KINDS[number];

/** The cheap violations that make a server reset a complete request (MadeYouReset, CVE-2025-8671), for {@link madeYouReset}. */
export const RESET_VIOLATIONS = ["data-after-end", "priority-self", "content-length", "trailers-without-end", "malformed"] as const;

/** One of {@link RESET_VIOLATIONS}. */
export type ResetViolation = typeof RESET_VIOLATIONS[number];

const REQUEST = [":method", "POST", ":scheme", "https", ":path", "/", ":authority", "f.test"];

/** A server connection after the handshake, a client-side HPACK encoder and the clock it reads. */
function serverPeer(options: { now?: (() => number) | null } = {}): { conn: H2Connection; hpack: HPACKEncoder } {
  const conn = new H2Connection({ role: "server", now: () => 1000, ...options });
  conn.pull();
  conn.receive(concatBytes([CLIENT_PREFACE, encodeSettings([]), encodeSettings(null)]));
  conn.pull();
  return { conn, hpack: new HPACKEncoder() };
}


function u32(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, v >>> 16, v >>> 8, v]);
}

/** The frames of one no-progress unit of `kind` on open stream `id`. */
function noProgressFrames(kind: NoProgressKind, id: number, i: number, hpack: HPACKEncoder): Uint8Array[] {
  switch (kind) {
    case "priority": return [encodePriority(id, { exclusive: false, dependency: 0, weight: 16 })];
    case "unknown": return [encodeFrame(0x20 + (i % 0xc0), i & 0xff, i % 7, new Uint8Array(i % 9))];
    case "tiny-data": return [encodeFrame(FrameType.DATA, 0, id, new Uint8Array(1 + (i % 15)))];
    case "empty-data": return [encodeFrame(FrameType.DATA, 0, id, new Uint8Array(0))];
    case "goaway": return [encodeGoaway(0, ErrorCode.NO_ERROR, new Uint8Array(0))];
    case "ping-ack": return [encodePing(concatBytes([u32(i), u32(~i)]), true)];
    case "priority-update": return [encodeFrame(FrameType.PRIORITY_UPDATE, 0, 0, concatBytes([u32(id), new TextEncoder().encode("u=4")]))];
    case "unbacked-window-update": return [encodeWindowUpdate(i % 2 === 0 ? 0 : id, 1)];
    case "tiny-continuation": {
      // A new request whose header block comes in many tiny CONTINUATION frames.
      const block = hpack.encode(REQUEST);
      const parts = [encodeFrame(FrameType.HEADERS, 0, id, block.subarray(0, 1))];
      for (let k = 0; k < 20; k++) parts.push(encodeFrame(FrameType.CONTINUATION, 0, id, new Uint8Array(0)));
      parts.push(encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, id, block.subarray(1)));
      return parts;
    }
  }
}

/**
 * Floods a server with no-progress frames of `kinds` (in turn) after one
 * open request, with a legitimate request (answered) every `requestEvery`
 * units (0: never); returns the GOAWAY error code, or -1 when the
 * connection survived `units` units.
 *
 * @example
 * ```ts
 * import { flood } from "./h2_connection.ts";
 * console.log(flood(["priority", "unknown"], 5000, 0)); // 11 (ENHANCE_YOUR_CALM)
 * ```
 */
export function flood(kinds: readonly NoProgressKind[], units: number, requestEvery: number): number {
  const { conn, hpack } = serverPeer();
  let next = 1;
  conn.receive(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, next, hpack.encode(REQUEST)));
  const open = next;
  next += 2;
  for (let i = 0; i < units && !conn.dead; i++) {
    const kind = kinds[i % kinds.length]!;
    let id = open;
    if (kind === "tiny-continuation") {
      id = next;
      next += 2;
    }
    const events = conn.receive(concatBytes(noProgressFrames(kind, id, i, hpack)));
    for (const e of events) {
      if (e.type === "headers" && e.streamId !== open && !conn.dead) conn.respond(e.streamId, [":status", "204"], true);
    }
    if (requestEvery > 0 && i % requestEvery === requestEvery - 1 && !conn.dead) {
      const id2 = next;
      next += 2;
      conn.receive(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id2, hpack.encode(REQUEST)));
      if (!conn.dead) conn.respond(id2, [":status", "204"], true);
    }
    const code = pullGoaway(conn);
    if (code >= 0) return code;
  }
  return -1;
}

/** Pulls what `conn` sends; returns the error code of a GOAWAY in it, or -1. */
function pullGoaway(conn: H2Connection): number {
  let code = -1;
  new FrameReader(1 << 24).push(conn.pull(), (f) => {
    if (f.type === FrameType.GOAWAY) code = new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(4);
  });
  return code;
}

/**
 * Sends `times` complete requests, each followed by the cheap violation
 * `violation` that makes the server reset it (with a clock, or with
 * `now: null` and MAX_CONCURRENT_STREAMS `maxConcurrent`); returns how many
 * requests reached the application and the GOAWAY code (-1: none).
 *
 * @example
 * ```ts
 * import { madeYouReset } from "./h2_connection.ts";
 * const r = madeYouReset("data-after-end", 20000, true, 100);
 * console.log(r.code); // 11 (ENHANCE_YOUR_CALM), after about 100 requests
 * ```
 */
export function madeYouReset(violation: ResetViolation, times: number, clock: boolean, maxConcurrent: number): { requests: number; refused: number; code: number } {
  const conn = new H2Connection({ role: "server", now: clock ? () => 1000 : null, settings: { maxConcurrentStreams: maxConcurrent } });
  conn.pull();
  conn.receive(concatBytes([CLIENT_PREFACE, encodeSettings([]), encodeSettings(null)]));
  conn.pull();
  const hpack = new HPACKEncoder();
  let requests = 0;
  let refused = 0;
  for (let i = 0; i < times && !conn.dead; i++) {
    const id = 1 + 2 * i;
    let parts: Uint8Array[];
    switch (violation) {
      case "data-after-end":
        parts = [encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, hpack.encode(REQUEST)), encodeFrame(FrameType.DATA, 0, id, new Uint8Array(1))];
        break;
      case "priority-self":
        parts = [encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, hpack.encode(REQUEST)), encodePriority(id, { exclusive: false, dependency: id, weight: 1 })];
        break;
      case "content-length":
        parts = [encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, hpack.encode([...REQUEST, "content-length", "4"])), encodeFrame(FrameType.DATA, Flag.END_STREAM, id, new Uint8Array(2))];
        break;
      case "trailers-without-end":
        parts = [encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, hpack.encode(REQUEST)), encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, hpack.encode(["x-t", "1"]))];
        break;
      case "malformed":
        parts = [encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, hpack.encode([":method", "GET /x HTTP/1.1", ":scheme", "https", ":path", "/ a", ":authority", "u@h"]))];
        break;
    }
    for (const e of conn.receive(concatBytes(parts))) {
      if (e.type === "headers") requests++;
      if (e.type === "stream-error" && e.error.http2Code === ErrorCode.REFUSED_STREAM) refused++;
    }
    const code = pullGoaway(conn);
    if (code >= 0) return { requests, refused, code };
  }
  return { requests, refused, code: -1 };
}

/** Parameters of {@link legitTransfer}. */
export interface TransferCase {
  /** Body octets. */
  size: number;
  /** The receiver's SETTINGS_INITIAL_WINDOW_SIZE. */
  window: number;
  /** The receiver's connection window. */
  connectionWindow: number;
  /** Client to server (true) or server to client. */
  upload: boolean;
  /** The receiver credits consumed octets itself, this many at a time (0: automatically). */
  consumeStep: number;
  /** The sender's chunk size for sendData. */
  chunk: number;
  /** The receiver's SETTINGS_MAX_FRAME_SIZE. */
  maxFrame: number;
}

/**
 * Moves a body between our client and server cores as a legitimate peer
 * would (any window, any crediting step, any chunking); returns the first
 * error message, or "" when the body arrived whole.
 *
 * @example
 * ```ts
 * import { legitTransfer } from "./h2_connection.ts";
 * legitTransfer({ size: 100000, window: 100, connectionWindow: 65535, upload: false, consumeStep: 7, chunk: 999, maxFrame: 16384 }); // ""
 * ```
 */
export function legitTransfer(t: TransferCase): string {
  const receiverOptions = {
    settings: { initialWindowSize: t.window, maxFrameSize: t.maxFrame },
    connectionWindowSize: t.connectionWindow,
    autoWindowUpdate: t.consumeStep === 0,
  };
  const client = new H2Connection({ role: "client", ...(t.upload ? {} : receiverOptions) });
  const server = new H2Connection({ role: "server", ...(t.upload ? receiverOptions : {}) });
  const receiver = t.upload ? server : client;
  const sender = t.upload ? client : server;
  const body = new Uint8Array(t.size);
  const id = client.request(t.upload ? REQUEST : [":method", "GET", ":scheme", "https", ":path", "/", ":authority", "f.test"], !t.upload);
  const send = (): void => {
    for (let o = 0; o < t.size; o += t.chunk) sender.sendData(id, body.subarray(o, Math.min(t.size, o + t.chunk)), o + t.chunk >= t.size);
    if (t.size === 0) sender.sendData(id, body, true);
  };
  if (t.upload) send();
  let got = 0;
  let ended = false;
  let error = "";
  const onEvents = (events: H2Event[], side: H2Connection): void => {
    for (const e of events) {
      if (e.type === "error" || e.type === "stream-error") error ||= e.error.message;
      if (e.type === "goaway") error ||= `GOAWAY ${e.code}`;
      if (side === server && e.type === "headers" && !t.upload) {
        server.respond(id, [":status", "200"], false);
        send();
      }
      if (side === receiver && e.type === "data") {
        got += e.data.length;
        if (t.consumeStep > 0) for (let n = e.data.length; n > 0; n -= t.consumeStep) receiver.consume(id, Math.min(n, t.consumeStep));
        if (e.endStream) ended = true;
      }
      if (side === server && e.type === "data" && e.endStream && t.upload) server.respond(id, [":status", "204"], true);
    }
  };
  for (let round = 0; round < 1_000_000 && !error && !ended; round++) {
    const a = client.pull();
    onEvents(server.receive(a), server);
    const b = server.pull();
    onEvents(client.receive(b), client);
    if (a.length === 0 && b.length === 0) break;
  }
  if (error) return error;
  return got === t.size && ended ? "" : `received ${got} of ${t.size}`;
}
