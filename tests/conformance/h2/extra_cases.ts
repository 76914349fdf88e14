/**
 * Conformance cases beyond h2spec's list, each the rest of a class one of
 * h2spec's cases samples (RFC 9113 unless said): the length and stream-id
 * rules of every frame type, padding edges, frames larger than
 * SETTINGS_MAX_FRAME_SIZE of every type, frames on idle server-side and
 * skipped streams, flow control from both sides (DATA past the window,
 * padding counted, a SETTINGS change overflowing a window; the server
 * keeping to our window and frame size), the field rules of §8.2 (every
 * forbidden character, every connection-specific field), the pseudo-header
 * rules of §8.3 and CONNECT (§8.5), content-length, HPACK table state kept
 * across streams and stream errors, eviction, size updates mid-block,
 * integer overflow, SETTINGS_HEADER_TABLE_SIZE 0, and PRIORITY_UPDATE
 * (RFC 9218 §7.1), what the server sends (fields, content-length, server
 * push and the client's settings against it). Ids are `extra/<section>/<what>`.
 *
 * @module
 */
import { BIG_LENGTH, connectionError, ES_EH, get, getWithHead, getWithTail, type H2Case, malformed, OPEN, post, req, streamError } from "./cases.ts";
import { be32, block, cat, continuation, data, describe, E, F, frame, headers, hpackInt, hpackString, priority, rstStream, S, settings, T, u32, windowUpdate } from "./peer.ts";
import {
  CaseFailure,
  type Ctx,
  expectConnectionError,
  expectResponse,
  expectSettingsAck,
  expectStreamEnd,
  expectStreamError,
  expectStreamErrorOn,
  handshake,
  nextEvent,
  pingRoundTrip,
  readResponse,
} from "./verify.ts";

const PRIORITY_UPDATE = 0x10;
const MAX_WINDOW = 0x7fffffff;

/** A GET to /hold that leaves the stream open both ways (the handler waits for the abort). */
function hold(c: Ctx, id = 1): Uint8Array {
  return headers(id, block(req(c, [], "GET", "/hold")), OPEN);
}

/** A POST to /hold (the body is never read: no window comes back). */
function holdPost(c: Ctx, id = 1): Uint8Array {
  return headers(id, block(req(c, [], "POST", "/hold")), OPEN);
}

/** A stream error PROTOCOL_ERROR or a 4xx response on stream 1 (for requests the RFC leaves to the server's judgement between the two). */
async function expectRefusal(c: Ctx): Promise<void> {
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure("RST_STREAM PROTOCOL_ERROR or a 4xx", describe(ev));
    const f = ev.frame;
    if (f.type === T.RST_STREAM || f.type === T.GOAWAY) {
      if (f.payload[f.type === T.GOAWAY ? 7 : 3] === E.PROTOCOL_ERROR) return;
      throw new CaseFailure("RST_STREAM PROTOCOL_ERROR or a 4xx", describe(ev));
    }
    if (f.type === T.HEADERS && f.streamId === 1) {
      if (ev.fields?.[0] === ":status" && ev.fields[1]!.startsWith("4")) return;
      throw new CaseFailure("RST_STREAM PROTOCOL_ERROR or a 4xx", `status ${ev.fields?.[1]}`);
    }
  }
}

/** The server's stream window for our DATA (its SETTINGS_INITIAL_WINDOW_SIZE). */
function serverWindow(c: Ctx): number {
  return c.p.serverSettings.get(S.INITIAL_WINDOW_SIZE) ?? 65535;
}

/** DATA frames carrying `total` octets on `id` in frames of at most 16384 (END_STREAM not set). */
function dataFrames(id: number, total: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let left = total; left > 0; left -= 16384) parts.push(data(id, new Uint8Array(Math.min(16384, left)), false));
  return cat(...parts);
}

const oversize = (type: number, streamId: number, title: string): H2Case => ({
  id: `extra/4.2/oversize-${title}`,
  title: `Sends a ${title.toUpperCase()} frame larger than SETTINGS_MAX_FRAME_SIZE`,
  run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(type, 0, streamId, new Uint8Array(16386))]),
});

/** The frame-layer cases. */
const FRAMES: H2Case[] = [
  {
    id: "extra/6.3/priority-length-6",
    title: "Sends a PRIORITY frame of 6 octets on an open stream",
    run: streamError(E.FRAME_SIZE_ERROR, (c) => [hold(c), frame(T.PRIORITY, 0, 1, [0, 0, 0, 0, 16, 0])]),
  },
  {
    id: "extra/6.4/rst-length-5",
    title: "Sends a RST_STREAM frame of 5 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, (c) => [hold(c), frame(T.RST_STREAM, 0, 1, [0, 0, 0, 8, 0])]),
  },
  {
    id: "extra/6.9/window-update-stream-length-5",
    title: "Sends a WINDOW_UPDATE frame of 5 octets on an open stream",
    run: connectionError(E.FRAME_SIZE_ERROR, (c) => [hold(c), frame(T.WINDOW_UPDATE, 0, 1, [0, 0, 0, 1, 0])]),
  },
  {
    id: "extra/6.7/ping-length-0",
    title: "Sends a PING frame of 0 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.PING, 0, 0, [])]),
  },
  {
    id: "extra/6.7/ping-ack-length-9",
    title: "Sends a PING ACK frame of 9 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.PING, F.ACK, 0, new Uint8Array(9))]),
  },
  {
    id: "extra/6.8/goaway-length-7",
    title: "Sends a GOAWAY frame of 7 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.GOAWAY, 0, 0, [0, 0, 0, 0, 0, 0, 0])]),
  },
  {
    id: "extra/6.5/settings-length-7",
    title: "Sends a SETTINGS frame of 7 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.SETTINGS, 0, 0, [0, 3, 0, 0, 0, 100, 0])]),
  },
  {
    id: "extra/6.2/padded-headers-empty",
    title: "Sends a PADDED HEADERS frame with no room for the pad length",
    run: connectionError([E.FRAME_SIZE_ERROR, E.PROTOCOL_ERROR], () => [frame(T.HEADERS, ES_EH | F.PADDED, 1, [])]),
  },
  {
    id: "extra/6.2/priority-headers-short",
    title: "Sends a HEADERS frame with the PRIORITY flag and 3 octets",
    run: connectionError([E.FRAME_SIZE_ERROR, E.PROTOCOL_ERROR], () => [frame(T.HEADERS, ES_EH | F.PRIORITY, 1, [0, 0, 0])]),
  },
  {
    id: "extra/6.2/padded-priority-pad-too-long",
    title: "Sends a PADDED HEADERS frame with priority whose padding covers the priority fields",
    run: connectionError(E.PROTOCOL_ERROR, (c) => {
      const b = block(req(c));
      return [frame(T.HEADERS, ES_EH | F.PADDED | F.PRIORITY, 1, cat([b.length + 1], be32(0), [16], b))];
    }),
  },
  {
    id: "extra/6.1/padded-data-empty",
    title: "Sends a PADDED DATA frame with no room for the pad length",
    run: connectionError([E.FRAME_SIZE_ERROR, E.PROTOCOL_ERROR], (c) => [post(c, 1), frame(T.DATA, F.PADDED | F.END_STREAM, 1, [])]),
  },
  {
    id: "extra/6.1/pad-length-equals-payload",
    title: "Sends a PADDED DATA frame whose pad length equals the payload length",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [post(c, 1), frame(T.DATA, F.PADDED | F.END_STREAM, 1, [5, 0, 0, 0, 0])]),
  },
  {
    id: "extra/6.1/pad-fills-payload",
    title: "Sends a PADDED DATA frame that is padding only (valid)",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1), frame(T.DATA, F.PADDED | F.END_STREAM, 1, [4, 0, 0, 0, 0]));
      await expectResponse(c, 1);
    },
  },
  oversize(T.PING, 0, "ping"),
  oversize(T.SETTINGS, 0, "settings"),
  oversize(T.WINDOW_UPDATE, 0, "window_update"),
  oversize(T.GOAWAY, 0, "goaway"),
  oversize(0xfa, 0, "unknown-type"),
  {
    id: "extra/4.2/oversize-continuation",
    title: "Sends a CONTINUATION frame larger than SETTINGS_MAX_FRAME_SIZE",
    run: connectionError(E.FRAME_SIZE_ERROR, (c) => {
      const b = block(req(c));
      return [headers(1, b, F.END_STREAM), frame(T.CONTINUATION, F.END_HEADERS, 1, new Uint8Array(16386))];
    }),
  },
  {
    id: "extra/4.2/oversize-rst_stream",
    title: "Sends a RST_STREAM frame larger than SETTINGS_MAX_FRAME_SIZE",
    run: connectionError(E.FRAME_SIZE_ERROR, (c) => [hold(c), frame(T.RST_STREAM, 0, 1, new Uint8Array(16386))]),
  },
  {
    id: "extra/6.10/continuation-other-stream",
    title: "Sends a CONTINUATION frame on another stream than its HEADERS",
    run: connectionError(E.PROTOCOL_ERROR, (c) => {
      const b = block(req(c));
      return [headers(1, b.subarray(0, 4), F.END_STREAM), continuation(3, b.subarray(4), true)];
    }),
  },
];

/** Stream states and identifiers. */
const STREAMS: H2Case[] = [
  {
    id: "extra/5.1/window-update-idle-even",
    title: "Sends a WINDOW_UPDATE frame on an idle server-initiated stream",
    run: connectionError(E.PROTOCOL_ERROR, () => [windowUpdate(2, 1)]),
  },
  {
    id: "extra/5.1/rst-idle-even",
    title: "Sends a RST_STREAM frame on an idle server-initiated stream",
    run: connectionError(E.PROTOCOL_ERROR, () => [rstStream(2, E.CANCEL)]),
  },
  {
    id: "extra/5.1/data-idle-even",
    title: "Sends a DATA frame on an idle server-initiated stream",
    run: connectionError(E.PROTOCOL_ERROR, () => [data(2, "test", true)]),
  },
  {
    id: "extra/5.1/data-idle-above-open",
    title: "Sends a DATA frame on an idle stream above an open one",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [hold(c), data(3, "test", true)]),
  },
  {
    id: "extra/5.1/data-skipped-stream",
    title: "Sends a DATA frame on a stream skipped over (closed by a higher one)",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c, 5));
      await expectStreamEnd(c, 5);
      c.p.send(data(3, "test", true));
      await expectStreamError(c, E.STREAM_CLOSED, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "extra/5.1/window-update-closed",
    title: "Sends a WINDOW_UPDATE frame on a stream just closed (ignored)",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c));
      await expectStreamEnd(c, 1);
      c.p.send(windowUpdate(1, 1));
      await pingRoundTrip(c);
    },
  },
  {
    id: "extra/5.1/rst-closed",
    title: "Sends a RST_STREAM frame on a stream just closed (ignored)",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c));
      await expectStreamEnd(c, 1);
      c.p.send(rstStream(1, E.CANCEL));
      await pingRoundTrip(c);
    },
  },
  {
    id: "extra/5.1/headers-after-server-reset",
    title: "Sends HEADERS again on a stream the server reset; its block still counts for HPACK",
    rfc: "RFC 9113 §5.1 (closed): frames on a stream after sending RST_STREAM MUST be ignored (an error after some time MAY come: STREAM_CLOSED accepted); the block is still decoded (§4.3)",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [["X-UPPER", "1"]])), ES_EH));
      await expectStreamError(c, E.PROTOCOL_ERROR);
      c.p.send(getWithTail(c, [0x40, ...hpackString("x-conf"), ...hpackString("late")], 1), getWithTail(c, [0x80 | 62], 3));
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame") throw new CaseFailure("a response on stream 3", describe(ev));
        const f = ev.frame;
        if (f.type === T.RST_STREAM && f.streamId === 1 && f.payload[3] === E.STREAM_CLOSED) continue;
        if (f.type === T.GOAWAY || f.type === T.RST_STREAM) throw new CaseFailure("a response on stream 3", describe(ev));
        if (f.type === T.HEADERS && f.streamId === 3) return;
        if (f.type === T.HEADERS) throw new CaseFailure("stream 1 ignored, a response on stream 3", describe(ev));
      }
    },
  },
  {
    id: "extra/5.3.1/priority-self-open",
    title: "Sends a PRIORITY frame making an open stream depend on itself",
    run: streamError(E.PROTOCOL_ERROR, (c) => [hold(c), priority(1, 1, 16)]),
  },
  {
    id: "extra/5.1.1/many-streams-in-order",
    title: "Opens 50 streams one after another on one connection",
    run: async (c) => {
      await handshake(c);
      for (let id = 1; id < 100; id += 2) {
        c.p.send(get(c, id));
        await expectStreamEnd(c, id);
      }
    },
  },
];

/** Flow control, both directions. */
const FLOW: H2Case[] = [
  {
    id: "extra/6.9.1/data-past-stream-window",
    title: "Sends DATA past the stream's flow-control window",
    run: async (c) => {
      await handshake(c);
      c.p.send(holdPost(c), dataFrames(1, serverWindow(c) + 1));
      await expectStreamError(c, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    id: "extra/6.9.1/padding-counts",
    title: "Fills the stream window but 100 octets, then sends padded DATA with 50 data octets and 255 of padding",
    run: async (c) => {
      await handshake(c);
      const window = serverWindow(c);
      if (window > 16 << 20) throw new CaseFailure("a stream window of at most 16 MiB", String(window));
      c.p.send(holdPost(c), dataFrames(1, window - 100), frame(T.DATA, F.PADDED, 1, cat([255], new Uint8Array(50), new Uint8Array(255))));
      await expectStreamError(c, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    id: "extra/6.9.2/initial-window-overflow",
    title: "Raises SETTINGS_INITIAL_WINDOW_SIZE so an open stream's window passes 2^31-1",
    run: async (c) => {
      await handshake(c);
      c.p.send(hold(c), windowUpdate(1, MAX_WINDOW - 65535), settings([[S.INITIAL_WINDOW_SIZE, 65536]]));
      await expectConnectionError(c, E.FLOW_CONTROL_ERROR);
    },
  },
  {
    id: "extra/6.9.1/server-keeps-window",
    title: "Reads a large response: the server keeps to the 65,535-octet windows and 16,384-octet frames",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "GET", "/big")), ES_EH));
      let got = 0;
      let credited = false;
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame") throw new CaseFailure(`${BIG_LENGTH} octets of DATA`, `${describe(ev)} after ${got}`);
        const f = ev.frame;
        if (f.type === T.GOAWAY || f.type === T.RST_STREAM) throw new CaseFailure(`${BIG_LENGTH} octets of DATA`, describe(ev));
        if (f.type !== T.DATA) continue;
        if (f.payload.length > 16384) throw new CaseFailure("DATA frames of at most 16,384 octets", describe(ev));
        got += f.payload.length;
        if (!credited && got > 65535) throw new CaseFailure("at most 65,535 octets before a WINDOW_UPDATE", String(got));
        if (!credited && got === 65535) {
          credited = true;
          c.p.send(windowUpdate(0, BIG_LENGTH), windowUpdate(1, BIG_LENGTH));
        }
        if ((f.flags & F.END_STREAM) !== 0) {
          if (got !== BIG_LENGTH) throw new CaseFailure(`${BIG_LENGTH} octets`, String(got));
          return;
        }
      }
    },
  },
  {
    id: "extra/6.5.2/server-settings-valid",
    title: "The server's SETTINGS values are in range (and ENABLE_PUSH, if sent, is 0)",
    run: async (c) => {
      await handshake(c);
      const s = c.p.serverSettings;
      const push = s.get(S.ENABLE_PUSH);
      if (push !== undefined && push !== 0) throw new CaseFailure("no SETTINGS_ENABLE_PUSH or 0 from a server", String(push));
      const win = s.get(S.INITIAL_WINDOW_SIZE);
      if (win !== undefined && win > MAX_WINDOW) throw new CaseFailure("INITIAL_WINDOW_SIZE at most 2^31-1", String(win));
      const mfs = s.get(S.MAX_FRAME_SIZE);
      if (mfs !== undefined && (mfs < 16384 || mfs > 16777215)) throw new CaseFailure("MAX_FRAME_SIZE in 2^14 … 2^24-1", String(mfs));
    },
  },
  {
    id: "extra/6.5.2/header-table-size-0",
    title: "Sets SETTINGS_HEADER_TABLE_SIZE 0: the server's blocks start with a size update and index nothing",
    run: async (c) => {
      await handshake(c, [[S.HEADER_TABLE_SIZE, 0]]);
      c.p.decoder.setMaxTableSize(0);
      try {
        for (const id of [1, 3]) {
          c.p.send(get(c, id));
          await expectResponse(c, id);
        }
      } catch (e) {
        if (e instanceof CaseFailure) throw e;
        throw new CaseFailure("header blocks valid for a table of size 0", String(e));
      }
    },
  },
  {
    id: "extra/6.5.3/settings-before-ack-apply",
    title: "Sets SETTINGS_INITIAL_WINDOW_SIZE 0 with its request in one write: nothing of the body comes",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 0]]), get(c));
      await expectResponse(c, 1);
      c.p.send(windowUpdate(1, 2));
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame") throw new CaseFailure("DATA of 2 octets after the WINDOW_UPDATE", describe(ev));
        if (ev.frame.type !== T.DATA) continue;
        if (ev.frame.payload.length === 2) return;
        throw new CaseFailure("DATA of 2 octets after the WINDOW_UPDATE", describe(ev));
      }
    },
  },
];

/** HTTP message rules (RFC 9113 §8). */
const HTTP: H2Case[] = [
  ...([
    ["value-leading-space", "a value starting with a space", ["x-test", " ok"]],
    ["value-trailing-tab", "a value ending with a tab", ["x-test", "ok\t"]],
    ["value-nul", "a value with NUL", ["x-test", "o\x00k"]],
    ["value-cr", "a value with CR", ["x-test", "o\rk"]],
    ["value-lf", "a value with LF", ["x-test", "o\nk"]],
    ["name-space", "a name with a space", ["x test", "ok"]],
    ["name-empty", "an empty name", ["", "ok"]],
    ["name-colon", "a regular name with a colon", ["x:test", "ok"]],
    ["name-del", "a name with DEL", ["x-te\x7fst", "ok"]],
    ["name-non-ascii", "a name with an octet above 0x7f", ["x-t\xe9st", "ok"]],
  ] as const).map(([slug, what, field]): H2Case => ({
    id: `extra/8.2.1/${slug}`,
    title: `Sends a request with ${what}`,
    run: malformed((c) => req(c, [[field[0], field[1]]])),
  })),
  ...(["keep-alive", "proxy-connection", "transfer-encoding", "upgrade"] as const).map((name): H2Case => ({
    id: `extra/8.2.2/${name}`,
    title: `Sends a request with the connection-specific field ${name}`,
    run: malformed((c) => req(c, [[name, name === "transfer-encoding" ? "chunked" : name === "upgrade" ? "websocket" : "timeout=5"]])),
  })),
  // "trailers" is a case-insensitive token (RFC 9110 §10.1.4), as nghttp2 takes it.
  ...([["te-trailers", "trailers", ""], ["te-trailers-uppercase", "TRAILERS", ": a case-insensitive token, RFC 9110 §10.1.4"]] as const).map(([slug, value, why]): H2Case => ({
    id: `extra/8.2.2/${slug}`,
    title: `Sends a request with te: ${value} (allowed${why})`,
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [["te", value]])), ES_EH));
      await expectResponse(c, 1);
    },
  })),
  {
    id: "extra/8.3.1/duplicate-authority",
    title: "Sends a request with two :authority fields",
    run: malformed((c) => [...req(c), [":authority", "other.example"]]),
  },
  {
    id: "extra/8.3.1/empty-method",
    title: "Sends a request with an empty :method",
    run: malformed((c) => req(c).map(([n, v]) => [n, n === ":method" ? "" : v])),
  },
  {
    id: "extra/8.3.1/path-not-absolute",
    title: "Sends a request whose :path does not start with /",
    rfc: "RFC 9113 §8.3.1: a stream error PROTOCOL_ERROR or a 4xx response are both accepted",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "GET", "index.html")), ES_EH));
      await expectRefusal(c);
    },
  },
  {
    id: "extra/8.3.1/protocol-on-get",
    title: "Sends a GET with the :protocol pseudo-header",
    run: malformed((c) => req(c, [[":protocol", "websocket"]])),
  },
  {
    id: "extra/8.5/connect-with-path",
    title: "Sends a CONNECT with :scheme and :path",
    run: malformed((c) => req(c, [], "CONNECT")),
  },
  {
    id: "extra/8.5/connect-without-authority",
    title: "Sends a CONNECT without :authority",
    run: malformed(() => [[":method", "CONNECT"]]),
  },
  {
    id: "extra/8.1.1/content-length-no-data",
    title: "Sends a POST with content-length 5 and END_STREAM on its HEADERS",
    run: malformed((c) => req(c, [["content-length", "5"]], "POST")),
  },
  {
    id: "extra/8.1.1/content-length-not-a-number",
    title: "Sends a POST with content-length: abc",
    run: streamError(E.PROTOCOL_ERROR, (c) => [headers(1, block(req(c, [["content-length", "abc"]], "POST")), OPEN), data(1, "abc", true)]),
  },
  {
    id: "extra/8.1.1/content-length-two-values",
    title: "Sends a POST with two different content-length fields",
    run: streamError(E.PROTOCOL_ERROR, (c) => [headers(1, block(req(c, [["content-length", "4"], ["content-length", "5"]], "POST")), OPEN), data(1, "test", true)]),
  },
  {
    id: "extra/8.1/trailers-uppercase",
    title: "Sends trailers with an uppercase field name",
    run: streamError(E.PROTOCOL_ERROR, (c) => [post(c, 1), data(1, "test", false), headers(1, block([["X-Trailer", "1"]]), ES_EH)]),
  },
  {
    id: "extra/8.1/trailers-connection-specific",
    title: "Sends trailers with a connection-specific field",
    run: streamError(E.PROTOCOL_ERROR, (c) => [post(c, 1), data(1, "test", false), headers(1, block([["connection", "close"]]), ES_EH)]),
  },
];

/** HPACK state and representation edges (RFC 7541). */
const HPACK: H2Case[] = [
  {
    id: "extra/hpack/4.2/size-update-mid-block",
    title: "Sends a dynamic table size update between two fields",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [headers(1, cat(block(req(c).slice(0, 2)), hpackInt(1024, 5, 0x20), block(req(c).slice(2))), ES_EH)]),
  },
  {
    id: "extra/hpack/5.1/integer-overflow",
    title: "Sends an index whose integer runs past 2^32",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])]),
  },
  {
    id: "extra/hpack/5.2/string-past-block",
    title: "Sends a string literal longer than the rest of the block",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [0x00, ...hpackString("x-test"), 100, 0x61, 0x62])]),
  },
  {
    id: "extra/hpack/2.3/table-across-streams",
    title: "Adds a field to the dynamic table on one stream and uses it on the next",
    run: async (c) => {
      await handshake(c);
      c.p.send(getWithTail(c, [0x40, ...hpackString("x-conf"), ...hpackString("one")], 1));
      await expectResponse(c, 1);
      c.p.send(getWithTail(c, [0x80 | 62], 3));
      await expectResponse(c, 3);
    },
  },
  {
    id: "extra/hpack/2.3/table-after-stream-error",
    title: "Adds a field to the dynamic table in a malformed request; the next request uses it",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, cat(block(req(c, [["X-UPPER", "1"]])), [0x40, ...hpackString("x-conf"), ...hpackString("two")]), ES_EH));
      await expectStreamError(c, E.PROTOCOL_ERROR);
      c.p.send(getWithTail(c, [0x80 | 62], 3));
      await expectResponse(c, 3);
    },
  },
  {
    id: "extra/hpack/2.3/table-after-reset",
    title: "Adds a field in HEADERS whose stream we then reset; the next request uses it",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, cat(block(req(c, [], "GET", "/hold")), [0x40, ...hpackString("x-conf"), ...hpackString("three")]), OPEN), rstStream(1, E.CANCEL));
      c.p.send(getWithTail(c, [0x80 | 62], 3));
      await expectResponse(c, 3);
    },
  },
  {
    id: "extra/hpack/4.4/eviction",
    title: "Fills the dynamic table past 4,096 octets and uses the newest entry",
    run: async (c) => {
      await handshake(c);
      const adds: number[] = [];
      for (let i = 0; i < 5; i++) adds.push(0x40, ...hpackString(`x-fill-${i}`), ...hpackString("v".repeat(900)));
      c.p.send(getWithTail(c, adds, 1));
      await expectResponse(c, 1);
      c.p.send(getWithTail(c, [0x80 | 62], 3));
      await expectResponse(c, 3);
    },
  },
  {
    id: "extra/hpack/4.4/evicted-index",
    title: "Uses an index that eviction emptied",
    run: async (c) => {
      await handshake(c);
      const adds: number[] = [];
      for (let i = 0; i < 5; i++) adds.push(0x40, ...hpackString(`x-fill-${i}`), ...hpackString("v".repeat(900)));
      c.p.send(getWithTail(c, adds, 1));
      await expectResponse(c, 1);
      c.p.send(getWithTail(c, hpackInt(66, 7, 0x80), 3));
      await expectConnectionError(c, E.COMPRESSION_ERROR);
    },
  },
  {
    id: "extra/hpack/6.3/size-update-then-index",
    title: "Shrinks the table to 0 with a size update, then uses an index that was in it",
    run: async (c) => {
      await handshake(c);
      c.p.send(getWithTail(c, [0x40, ...hpackString("x-conf"), ...hpackString("gone")], 1));
      await expectResponse(c, 1);
      c.p.send(getWithHead(c, [...hpackInt(0, 5, 0x20), 0x80 | 62], 3));
      await expectConnectionError(c, E.COMPRESSION_ERROR);
    },
  },
];

/** PRIORITY_UPDATE (RFC 9218 §7.1). */
const PRIORITY_UPDATES: H2Case[] = [
  {
    id: "extra/rfc9218/priority-update-on-stream",
    title: "Sends PRIORITY_UPDATE on a stream other than 0",
    run: connectionError(E.PROTOCOL_ERROR, () => [frame(PRIORITY_UPDATE, 0, 1, [...be32(1), ...new TextEncoder().encode("u=1")])]),
  },
  {
    id: "extra/rfc9218/priority-update-for-stream-0",
    title: "Sends PRIORITY_UPDATE for stream 0",
    run: connectionError(E.PROTOCOL_ERROR, () => [frame(PRIORITY_UPDATE, 0, 0, [...be32(0), ...new TextEncoder().encode("u=1")])]),
  },
  {
    id: "extra/rfc9218/priority-update-short",
    title: "Sends PRIORITY_UPDATE of 3 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(PRIORITY_UPDATE, 0, 0, [0, 0, 1])]),
  },
  {
    id: "extra/rfc9218/priority-update-idle",
    title: "Sends PRIORITY_UPDATE for an idle stream, then opens it",
    run: async (c) => {
      await handshake(c);
      c.p.send(frame(PRIORITY_UPDATE, 0, 0, [...be32(1), ...new TextEncoder().encode("u=1, i")]), get(c));
      await expectResponse(c, 1);
    },
  },
];

/** A POST to /len (answers the body length it read). */
function lenPost(c: Ctx, id = 1, flags: number = OPEN): Uint8Array {
  return headers(id, block(req(c, [], "POST", "/len")), flags);
}

/** Reads the /len response on `id` and checks the length the handler saw. */
async function expectLength(c: Ctx, id: number, length: number): Promise<void> {
  const r = await readResponse(c, id);
  if (r.status !== "200" || r.body !== String(length)) throw new CaseFailure(`200 with a body of ${length} octets read`, `${r.status} ${JSON.stringify(r.body)}`);
}

/** Reserved bits and undefined flags (RFC 9113 §4.1: ignored, never acted on). */
const BITS: H2Case[] = [
  {
    id: "extra/4.1/headers-reserved-bit",
    title: "Sends HEADERS whose stream identifier has the reserved bit set",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(0x80000001, block(req(c)), ES_EH));
      await expectResponse(c, 1);
    },
  },
  {
    id: "extra/6.9/window-update-reserved-bit",
    title: "Sends WINDOW_UPDATE whose increment has the reserved bit set (an increment of 1)",
    run: async (c) => {
      await handshake(c);
      c.p.send(frame(T.WINDOW_UPDATE, 0, 0, be32(0x80000001)));
      await pingRoundTrip(c);
    },
  },
  {
    id: "extra/5.3.1/priority-self-exclusive",
    title: "Sends PRIORITY making a stream depend on itself exclusively",
    run: streamError(E.PROTOCOL_ERROR, () => [priority(1, 1, 16, true)]),
  },
  {
    id: "extra/4.1/data-undefined-flags",
    title: "Sends DATA with every undefined flag set (0xf6): no padding, no end of stream",
    run: async (c) => {
      await handshake(c);
      c.p.send(lenPost(c), frame(T.DATA, 0xf6, 1, new TextEncoder().encode("12345")), data(1, "678", true));
      await expectLength(c, 1, 8);
    },
  },
  {
    id: "extra/4.1/headers-undefined-flags",
    title: "Sends HEADERS with undefined flags (0xd2) set",
    run: async (c) => {
      await handshake(c);
      c.p.send(lenPost(c, 1, OPEN | 0xd2), data(1, "abc", true));
      await expectLength(c, 1, 3);
    },
  },
  {
    id: "extra/4.1/continuation-undefined-flags",
    title: "Sends CONTINUATION with flag 0x1 set: it does not end the stream",
    run: async (c) => {
      await handshake(c);
      const b = block(req(c, [], "POST", "/len"));
      c.p.send(headers(1, b.subarray(0, 4), 0), frame(T.CONTINUATION, 0xff, 1, b.subarray(4)), data(1, "abcd", true));
      await expectLength(c, 1, 4);
    },
  },
  {
    id: "extra/4.1/settings-undefined-flags",
    title: "Sends SETTINGS with undefined flags (0xfe): still settings to acknowledge",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.MAX_CONCURRENT_STREAMS, 100]], 0xfe));
      await expectSettingsAck(c);
    },
  },
  {
    id: "extra/4.1/control-undefined-flags",
    title: "Sends WINDOW_UPDATE, PRIORITY and RST_STREAM with every flag set",
    run: async (c) => {
      await handshake(c);
      c.p.send(
        frame(T.WINDOW_UPDATE, 0xff, 0, be32(1)),
        frame(T.PRIORITY, 0xff, 3, [...be32(0), 16]),
        hold(c, 5),
        frame(T.RST_STREAM, 0xff, 5, be32(E.CANCEL)),
      );
      await pingRoundTrip(c);
    },
  },
  {
    id: "extra/6.1/empty-data-frames",
    title: "Sends empty DATA frames before the body",
    run: async (c) => {
      await handshake(c);
      c.p.send(lenPost(c), data(1, "", false), data(1, "", false), data(1, "abcde", false), data(1, "", true));
      await expectLength(c, 1, 5);
    },
  },
  {
    id: "extra/8.1/trailers-without-data",
    title: "Sends a request of HEADERS and trailers only",
    run: async (c) => {
      await handshake(c);
      c.p.send(lenPost(c), headers(1, block([["x-trailer", "1"]]), ES_EH));
      await expectLength(c, 1, 0);
    },
  },
  {
    id: "extra/8.3.1/options-asterisk",
    title: "Sends OPTIONS with :path *",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "OPTIONS", "*")), ES_EH));
      await expectResponse(c, 1);
    },
  },
  {
    id: "extra/8.3.1/pseudo-uppercase",
    title: "Sends a request with :Path instead of :path",
    run: malformed((c) => req(c).map(([n, v]) => [n === ":path" ? ":Path" : n, v])),
  },
  {
    id: "extra/8.5/extended-connect-not-enabled",
    title: "Sends an extended CONNECT (:protocol) to a server that did not enable it",
    rfc: "RFC 8441 §4: :protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL is malformed",
    run: async (c) => {
      await handshake(c);
      if (c.p.serverSettings.get(0x8) === 1) throw new CaseFailure("a server without SETTINGS_ENABLE_CONNECT_PROTOCOL (the suite's own)", "it is enabled");
      c.p.send(headers(1, block(req(c, [[":protocol", "websocket"]], "CONNECT")), ES_EH));
      await expectStreamErrorOn(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "extra/hpack/2.3/table-after-refused",
    title: "Adds a field in HEADERS refused over the stream limit; the next request uses it",
    run: async (c) => {
      await handshake(c);
      const max = c.p.serverSettings.get(S.MAX_CONCURRENT_STREAMS);
      if (max === undefined || max > 1000) throw new CaseFailure("SETTINGS_MAX_CONCURRENT_STREAMS of at most 1000", String(max));
      const frames: Uint8Array[] = [];
      for (let i = 0; i < max; i++) frames.push(hold(c, 1 + 2 * i));
      const refused = 1 + 2 * max;
      frames.push(headers(refused, cat(block(req(c)), [0x40, ...hpackString("x-conf"), ...hpackString("refused")]), ES_EH));
      c.p.send(cat(...frames));
      await expectStreamErrorOn(c, refused, E.REFUSED_STREAM, E.PROTOCOL_ERROR);
      // Free one slot (a reset stream counts until its handler is done: wait for a PING's round trip), then use the entry the refused block added.
      c.p.send(rstStream(1, E.CANCEL));
      await pingRoundTrip(c);
      c.p.send(getWithTail(c, [0x80 | 62], refused + 2));
      await expectResponse(c, refused + 2);
    },
  },
];

/** What the server sends (RFC 9113 §8.1.1, §8.2.2: it MUST NOT generate a malformed message). */
const SENT: H2Case[] = [
  {
    id: "extra/8.2.2/response-connection-fields",
    title: "A handler's Response with connection-specific fields: none of them reaches the wire",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "GET", "/conn-fields")), ES_EH));
      const r = await readResponse(c, 1);
      const names = r.fields.filter((_, i) => i % 2 === 0);
      const bad = names.filter((n) => ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te"].includes(n));
      if (bad.length > 0 || !names.includes("x-kept") || r.body !== "hello") throw new CaseFailure("x-kept and no connection-specific field", JSON.stringify(r.fields));
    },
  },
  ...(["/cl-short", "/cl-long"] as const).map((path): H2Case => ({
    id: `extra/8.1.1/response-content-length-${path.slice(4)}`,
    title: `A handler's Response whose content-length is ${path === "/cl-short" ? "below" : "above"} its body length: never sent as is`,
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "GET", path)), ES_EH));
      let fields: string[] = [];
      let body = 0;
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame") throw new CaseFailure("a whole response or a reset", describe(ev));
        const f = ev.frame;
        if (f.type === T.RST_STREAM && f.streamId === 1) return; // cut off: the client sees an error, not a short message
        if (f.streamId !== 1) continue;
        if (f.type === T.HEADERS && fields.length === 0) fields = ev.fields ?? [];
        if (f.type === T.DATA) body += f.payload.length;
        if ((f.flags & F.END_STREAM) !== 0) break;
      }
      const at = fields.indexOf("content-length");
      if (at >= 0 && at % 2 === 0 && Number(fields[at + 1]) !== body) throw new CaseFailure(`content-length ${body} (the octets sent) or none`, `content-length ${fields[at + 1]} with ${body} octets`);
    },
  })),
];

/** Reads the whole exchange of a GET /push: the promise (if any), both responses. */
async function pushExchange(c: Ctx): Promise<{ promised: number; promise: string[]; body: string; pushedBody: string | null }> {
  c.p.send(headers(1, block(req(c, [], "GET", "/push")), ES_EH));
  let promised = 0;
  let promise: string[] = [];
  let body = "";
  let pushedBody: string | null = null;
  let ended = 0;
  for (;;) {
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") throw new CaseFailure("the response to /push (and the pushed one, if promised)", describe(ev));
    const f = ev.frame;
    if (f.type === T.GOAWAY || f.type === T.RST_STREAM) throw new CaseFailure("no error", describe(ev));
    if (f.type === T.PUSH_PROMISE) {
      if (f.streamId !== 1 || body !== "") throw new CaseFailure("PUSH_PROMISE on stream 1 before its DATA", describe(ev));
      promised = u32(f.payload, (f.flags & F.PADDED) !== 0 ? 1 : 0) & 0x7fffffff;
      promise = ev.fields ?? [];
      pushedBody = "";
      continue;
    }
    if (f.type === T.DATA && f.streamId === 1) body += new TextDecoder().decode(f.payload);
    if (f.type === T.DATA && f.streamId === promised && pushedBody !== null) pushedBody += new TextDecoder().decode(f.payload);
    if ((f.type === T.DATA || f.type === T.HEADERS) && (f.flags & F.END_STREAM) !== 0) ended++;
    if (ended === (promised === 0 ? 1 : 2)) return { promised, promise, body, pushedBody };
  }
}

/** Server push (RFC 9113 §8.4). */
const PUSH: H2Case[] = [
  {
    id: "extra/8.4/push-promise",
    title: "A pushed response: PUSH_PROMISE on the request's stream, an even new stream id, a complete safe request, then the response",
    run: async (c) => {
      await handshake(c);
      const r = await pushExchange(c);
      if (r.promised === 0 || r.promised % 2 !== 0) throw new CaseFailure("a promised even stream id", String(r.promised));
      const fields = new Map<string, string>();
      for (let i = 0; i < r.promise.length; i += 2) fields.set(r.promise[i]!, r.promise[i + 1]!);
      if (fields.get(":method") !== "GET" || fields.get(":path") !== "/pushed.txt" || fields.get(":scheme") !== c.p.scheme || !fields.has(":authority")) {
        throw new CaseFailure(`a GET of /pushed.txt with :scheme ${c.p.scheme} and :authority`, JSON.stringify(r.promise));
      }
      if (r.body !== "pushed" || r.pushedBody === null || r.pushedBody.length === 0) throw new CaseFailure("both responses with their bodies", JSON.stringify(r));
    },
  },
  {
    id: "extra/8.4/push-disabled",
    title: "SETTINGS_ENABLE_PUSH 0: no PUSH_PROMISE",
    run: async (c) => {
      await handshake(c, [[S.ENABLE_PUSH, 0]]);
      const r = await pushExchange(c);
      if (r.promised !== 0 || r.body !== "not pushed") throw new CaseFailure("no promise", JSON.stringify(r));
    },
  },
  {
    id: "extra/8.4/push-max-concurrent-0",
    title: "SETTINGS_MAX_CONCURRENT_STREAMS 0 from the client: no PUSH_PROMISE",
    run: async (c) => {
      await handshake(c, [[S.MAX_CONCURRENT_STREAMS, 0]]);
      const r = await pushExchange(c);
      if (r.promised !== 0 || r.body !== "not pushed") throw new CaseFailure("no promise", JSON.stringify(r));
    },
  },
  {
    id: "extra/8.4/push-then-rst",
    title: "Resets the promised stream: the connection goes on",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "GET", "/push")), ES_EH));
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame") throw new CaseFailure("a PUSH_PROMISE", describe(ev));
        if (ev.frame.type !== T.PUSH_PROMISE) continue;
        c.p.send(rstStream(u32(ev.frame.payload, 0) & 0x7fffffff, E.CANCEL));
        break;
      }
      await expectStreamEnd(c, 1);
      await pingRoundTrip(c);
    },
  },
];

/**
 * A request whose header list is above the server's
 * SETTINGS_MAX_HEADER_LIST_SIZE (64 KiB unless it says otherwise), in
 * HEADERS and CONTINUATION frames of 16,384 octets; one field of it is
 * inserted into the dynamic table (`x-indexed: kept`, index 62 next), to
 * show HPACK stays in step.
 */
function oversizedRequest(c: Ctx, id: number, endStream: boolean): Uint8Array {
  const limit = c.p.serverSettings.get(S.MAX_HEADER_LIST_SIZE) ?? 65_536;
  const extra: [string, string][] = [];
  for (let n = 0; n <= limit; n += 1000 + 10 + 32) extra.push([`x-big-${String(extra.length).padStart(4, "0")}`, "v".repeat(1000)]);
  const b = cat(block(req(c)), [0x40, ...hpackString("x-indexed"), ...hpackString("kept")], block(extra));
  const frames: Uint8Array[] = [];
  for (let at = 0; at < b.length; at += 16_384) {
    const piece = b.subarray(at, at + 16_384);
    const last = at + 16_384 >= b.length;
    frames.push(at === 0 ? headers(id, piece, (last ? F.END_HEADERS : 0) | (endStream ? F.END_STREAM : 0)) : continuation(id, piece, last));
  }
  return cat(...frames);
}

/** A header list over the limit, decoded whole, is answered 431 on its stream (as HTTP/1.1 answers a head too large); the connection and HPACK go on. */
const HEADER_LIST: H2Case[] = [
  {
    id: "extra/6.5.2/header-list-431",
    title: "A request header list above SETTINGS_MAX_HEADER_LIST_SIZE: 431 on its stream, the connection goes on (HPACK in step)",
    run: async (c) => {
      await handshake(c);
      c.p.send(oversizedRequest(c, 1, true));
      const r = await readResponse(c, 1);
      if (r.status !== "431") throw new CaseFailure("431 on stream 1", `status ${r.status}`);
      // The field inserted by the refused block is index 62 now.
      c.p.send(headers(3, cat(block(req(c)), [0xbe]), ES_EH));
      const next = await readResponse(c, 3);
      if (next.status !== "200") throw new CaseFailure("200 on stream 3", `status ${next.status}`);
    },
  },
  {
    id: "extra/6.5.2/header-list-431-body-owed",
    title: "The same while the request's body is owed: 431, then RST_STREAM NO_ERROR; the connection goes on",
    run: async (c) => {
      await handshake(c);
      c.p.send(oversizedRequest(c, 1, false));
      const r = await readResponse(c, 1);
      if (r.status !== "431") throw new CaseFailure("431 on stream 1", `status ${r.status}`);
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame") throw new CaseFailure("RST_STREAM 1 NO_ERROR", describe(ev));
        if (ev.frame.type === T.GOAWAY) throw new CaseFailure("RST_STREAM 1 NO_ERROR", describe(ev));
        if (ev.frame.type !== T.RST_STREAM || ev.frame.streamId !== 1) continue;
        if (u32(ev.frame.payload, 0) !== E.NO_ERROR) throw new CaseFailure("RST_STREAM 1 NO_ERROR", describe(ev));
        break;
      }
      await pingRoundTrip(c);
    },
  },
];

/** Every extra case. */
export const EXTRA_CASES: readonly H2Case[] = [...FRAMES, ...BITS, ...STREAMS, ...FLOW, ...HTTP, ...HPACK, ...PRIORITY_UPDATES, ...SENT, ...PUSH, ...HEADER_LIST];
