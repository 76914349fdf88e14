/**
 * HTTP/2 server conformance cases, numbered after h2spec's case list
 * (generic/…, http2/<RFC 7540 section>/n, hpack/<RFC 7541 section>/n) so a
 * failure here can be compared with an h2spec run, but written from RFC
 * 9113 and RFC 7541 with our own driver (peer.ts, verify.ts). Where RFC
 * 9113 changed the rule the case follows RFC 9113 (say so in `rfc`):
 * priority signals are deprecated (§5.3.2) but PRIORITY frames keep their
 * length and stream-id checks (§6.3), and a stream depending on itself is
 * still a stream error of type PROTOCOL_ERROR (§5.3.1).
 *
 * Each case runs on a fresh connection against a server whose handler
 * answers every request 200 with a short body (at least 5 octets: the
 * flow-control cases need one), reading request bodies to the end; `/hold`
 * answers only when the request is aborted and reads nothing (a stream
 * that stays open), `/big` answers {@link BIG_LENGTH} octets, `/len` the
 * length of the request body it read (as decimal text), `/conn-fields`
 * sets connection-specific fields on its Response and `/cl-short` and
 * `/cl-long` a content-length their body does not have, `/push` pushes
 * `/pushed.txt` (server push, when the client allows it).
 *
 * @module
 */
import {
  be32,
  block,
  cat,
  continuation,
  data,
  describe,
  E,
  F,
  frame,
  goaway,
  headers,
  hpackInt,
  hpackString,
  ping,
  priority,
  rstStream,
  S,
  settings,
  T,
  windowUpdate,
} from "./peer.ts";
import {
  CaseFailure,
  type Ctx,
  expectClose,
  expectConnectionError,
  expectDataLength,
  expectPingAck,
  expectResponse,
  expectSettingsAck,
  expectStreamEnd,
  expectStreamError,
  expectStreamErrorOn,
  handshake,
  nextEvent,
  pingRoundTrip,
} from "./verify.ts";

/** One case. */
export interface H2Case {
  /** h2spec-style id: "generic/3.1/1", "http2/6.5.2/3", "hpack/5.2/1". */
  readonly id: string;
  readonly title: string;
  /** Where RFC 9113 changed what RFC 7540 asked, what this case follows. */
  readonly rfc?: string;
  readonly run: (c: Ctx) => Promise<void>;
}

/** The response body length the flow-control cases rely on. */
export const BODY = "hello from the h2 conformance server\n";

/** The length of `/big`'s body: more than the default window. */
export const BIG_LENGTH = 100_000;

/** END_STREAM | END_HEADERS. */
export const ES_EH = F.END_STREAM | F.END_HEADERS;

/** The request fields of a GET (or `method`) to `path` on this connection, plus `extra`. */
export function req(c: Ctx, extra: [string, string][] = [], method = "GET", path = "/"): [string, string][] {
  return [[":method", method], [":scheme", c.p.scheme], [":path", path], [":authority", `localhost:${c.p.target.port}`], ...extra];
}

/** HEADERS of a GET on `id` with `flags`. */
export function get(c: Ctx, id = 1, flags = ES_EH): Uint8Array {
  return headers(id, block(req(c)), flags);
}

/** HEADERS of a POST with content-length `length` on `id` (no END_STREAM). */
export function post(c: Ctx, id: number, length?: number): Uint8Array {
  return headers(id, block(req(c, length === undefined ? [] : [["content-length", String(length)]], "POST")), F.END_HEADERS);
}

/** A HEADERS frame with a priority part. */
export function headersWithPriority(id: number, blk: Uint8Array, dependency: number, weight: number, flags = ES_EH): Uint8Array {
  return frame(T.HEADERS, flags | F.PRIORITY, id, cat(be32(dependency), [weight], blk));
}

/** A request whose block is the usual fields followed by `tail` (raw HPACK). */
export function getWithTail(c: Ctx, tail: number[], id = 1): Uint8Array {
  return headers(id, cat(block(req(c)), tail), ES_EH);
}

/** A request whose block starts with `head` (raw HPACK, e.g. table size updates). */
export function getWithHead(c: Ctx, head: number[], id = 1): Uint8Array {
  return headers(id, cat(head, block(req(c))), ES_EH);
}

/** A malformed request (fields as given, END_STREAM set): a stream error PROTOCOL_ERROR expected. */
export function malformed(fields: (c: Ctx) => [string, string][]): (c: Ctx) => Promise<void> {
  return async (c) => {
    await handshake(c);
    c.p.send(headers(1, block(fields(c)), ES_EH));
    await expectStreamErrorOn(c, 1, E.PROTOCOL_ERROR);
  };
}

const MAX_WINDOW = 0x7fffffff;

/** The generic cases: ordinary use of every frame type and of HPACK. */
const GENERIC: H2Case[] = [
  {
    id: "generic/1/1",
    title: "Sends a client connection preface",
    run: async (c) => {
      await handshake(c);
    },
  },
  {
    id: "generic/2/1",
    title: "Sends a PRIORITY frame on idle stream",
    run: async (c) => {
      await handshake(c);
      c.p.send(priority(1, 0, 255));
      await pingRoundTrip(c);
    },
  },
  {
    id: "generic/2/2",
    title: "Sends a WINDOW_UPDATE frame on half-closed (remote) stream",
    run: async (c) => {
      await handshake(c, [[S.INITIAL_WINDOW_SIZE, 0]]);
      c.p.send(get(c), windowUpdate(1, 1));
      await expectDataLength(c, 1, 1);
    },
  },
  {
    id: "generic/2/3",
    title: "Sends a PRIORITY frame on half-closed (remote) stream",
    run: async (c) => {
      await handshake(c, [[S.INITIAL_WINDOW_SIZE, 0]]);
      c.p.send(get(c), priority(1, 0, 255), windowUpdate(1, 1));
      await expectDataLength(c, 1, 1);
    },
  },
  {
    id: "generic/2/4",
    title: "Sends a RST_STREAM frame on half-closed (remote) stream",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c), rstStream(1, E.CANCEL));
      await pingRoundTrip(c);
    },
  },
  {
    id: "generic/2/5",
    title: "Sends a PRIORITY frame on closed stream",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c));
      await expectStreamEnd(c, 1);
      c.p.send(priority(1, 0, 255));
      await pingRoundTrip(c);
    },
  },
  {
    id: "generic/3.1/1",
    title: "Sends a DATA frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1), data(1, "test", true));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.1/2",
    title: "Sends multiple DATA frames",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1), data(1, "test", false), data(1, "test", true));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.1/3",
    title: "Sends a DATA frame with padding",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1), frame(T.DATA, F.END_STREAM | F.PADDED, 1, cat([8], "test", new Uint8Array(8))));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.2/1",
    title: "Sends a HEADERS frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.2/2",
    title: "Sends a HEADERS frame with padding",
    run: async (c) => {
      await handshake(c);
      c.p.send(frame(T.HEADERS, ES_EH | F.PADDED, 1, cat([8], block(req(c)), new Uint8Array(8))));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.2/3",
    title: "Sends a HEADERS frame with priority",
    run: async (c) => {
      await handshake(c);
      c.p.send(headersWithPriority(1, block(req(c)), 0, 255));
      await expectResponse(c, 1);
    },
  },
  ...[[0, 0, 1, "Sends a PRIORITY frame with priority 1"], [0, 255, 1, "Sends a PRIORITY frame with priority 256"]].map(
    ([dep, weight, on, title], i): H2Case => ({
      id: `generic/3.3/${i + 1}`,
      title: title as string,
      run: async (c) => {
        await handshake(c);
        c.p.send(priority(on as number, dep as number, weight as number), get(c));
        await expectResponse(c, 1);
      },
    }),
  ),
  {
    id: "generic/3.3/3",
    title: "Sends a PRIORITY frame with stream dependency",
    run: async (c) => {
      await handshake(c);
      c.p.send(priority(3, 1, 0), get(c));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.3/4",
    title: "Sends a PRIORITY frame with exclusive",
    run: async (c) => {
      await handshake(c);
      c.p.send(priority(1, 0, 0, true), get(c));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.3/5",
    title: "Sends a PRIORITY frame for an idle stream, then a HEADERS frame for a lower stream ID",
    run: async (c) => {
      await handshake(c);
      c.p.send(priority(3, 0, 255), get(c));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.4/1",
    title: "Sends a RST_STREAM frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c, 1, F.END_HEADERS), rstStream(1, E.CANCEL));
      await pingRoundTrip(c);
    },
  },
  {
    id: "generic/3.5/1",
    title: "Sends a SETTINGS frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.HEADER_TABLE_SIZE, 4096], [S.ENABLE_PUSH, 1], [S.MAX_CONCURRENT_STREAMS, 100], [S.INITIAL_WINDOW_SIZE, 65535], [S.MAX_FRAME_SIZE, 16384], [S.MAX_HEADER_LIST_SIZE, 100]]));
      await expectSettingsAck(c);
    },
  },
  {
    id: "generic/3.7/1",
    title: "Sends a PING frame",
    run: async (c) => {
      await handshake(c);
      await pingRoundTrip(c);
    },
  },
  {
    id: "generic/3.8/1",
    title: "Sends a GOAWAY frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(goaway(0, E.NO_ERROR));
      await pingRoundTrip(c, true);
    },
  },
  {
    id: "generic/3.9/1",
    title: "Sends a WINDOW_UPDATE frame with stream ID 0",
    run: async (c) => {
      await handshake(c);
      c.p.send(windowUpdate(0, 1));
      await pingRoundTrip(c);
    },
  },
  {
    id: "generic/3.9/2",
    title: "Sends a WINDOW_UPDATE frame with arbitrary stream ID",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c), windowUpdate(1, 1));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.10/1",
    title: "Sends a CONTINUATION frame",
    run: async (c) => {
      await handshake(c);
      const b = block(req(c));
      c.p.send(headers(1, b.subarray(0, 5), F.END_STREAM), continuation(1, b.subarray(5), true));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/3.10/2",
    title: "Sends multiple CONTINUATION frames",
    run: async (c) => {
      await handshake(c);
      const b = block(req(c));
      c.p.send(headers(1, b.subarray(0, 5), F.END_STREAM), continuation(1, b.subarray(5, 10), false), continuation(1, b.subarray(10, 15), false), continuation(1, b.subarray(15), true));
      await expectResponse(c, 1);
    },
  },
  {
    id: "generic/4/1",
    title: "Sends a GET request",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c));
      await expectResponse(c, 1);
      await expectStreamEnd(c, 1);
    },
  },
  {
    id: "generic/4/2",
    title: "Sends a HEAD request",
    run: async (c) => {
      await handshake(c);
      c.p.send(headers(1, block(req(c, [], "HEAD")), ES_EH));
      // A HEAD response is the head alone: HEADERS with END_STREAM, or an empty DATA ending it.
      let seenHead = false;
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind !== "frame" || ev.frame.type === T.GOAWAY || (ev.frame.type === T.RST_STREAM && ev.frame.streamId === 1)) {
          throw new CaseFailure("a HEAD response without a body", describe(ev));
        }
        const f = ev.frame;
        if (f.streamId !== 1) continue;
        if (f.type === T.HEADERS) seenHead = true;
        if (f.type === T.DATA && (!seenHead || f.payload.length > 0)) throw new CaseFailure("a HEAD response without a body", describe(ev));
        if ((f.flags & F.END_STREAM) !== 0) return;
      }
    },
  },
  {
    id: "generic/4/3",
    title: "Sends a POST request",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1, 4), data(1, "test", true));
      await expectResponse(c, 1);
      await expectStreamEnd(c, 1);
    },
  },
  {
    id: "generic/4/4",
    title: "Sends a POST request with trailers",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1, 4), data(1, "test", false), headers(1, block([["x-trailer", "done"]]), ES_EH));
      await expectResponse(c, 1);
      await expectStreamEnd(c, 1);
    },
  },
  ...hpackGenericCases(),
];

/** generic/5/1…15: every HPACK representation the decoder must take. */
function hpackGenericCases(): H2Case[] {
  const IDX_UA = 58; // user-agent in the static table
  const rep = (title: string, tail: () => number[]): [string, () => number[]] => [title, tail];
  const list: [string, () => number[]][] = [
    rep("Sends an indexed header field representation", () => [0x80 | 16]), // accept-encoding: gzip, deflate
    rep("Sends a literal header field with incremental indexing - indexed name", () => [...hpackInt(IDX_UA, 6, 0x40), ...hpackString("h2-conformance")]),
    rep("Sends a literal header field with incremental indexing - indexed name (with Huffman coding)", () => [...hpackInt(IDX_UA, 6, 0x40), ...hpackString("h2-conformance", true)]),
    rep("Sends a literal header field with incremental indexing - new name", () => [0x40, ...hpackString("x-test"), ...hpackString("incremental")]),
    rep("Sends a literal header field with incremental indexing - new name (with Huffman coding)", () => [0x40, ...hpackString("x-test", true), ...hpackString("incremental", true)]),
    rep("Sends a literal header field without indexing - indexed name", () => [...hpackInt(IDX_UA, 4, 0x00), ...hpackString("h2-conformance")]),
    rep("Sends a literal header field without indexing - indexed name (with Huffman coding)", () => [...hpackInt(IDX_UA, 4, 0x00), ...hpackString("h2-conformance", true)]),
    rep("Sends a literal header field without indexing - new name", () => [0x00, ...hpackString("x-test"), ...hpackString("without")]),
    rep("Sends a literal header field without indexing - new name (huffman encoded)", () => [0x00, ...hpackString("x-test", true), ...hpackString("without", true)]),
    rep("Sends a literal header field never indexed - indexed name", () => [...hpackInt(IDX_UA, 4, 0x10), ...hpackString("h2-conformance")]),
    rep("Sends a literal header field never indexed - indexed name (huffman encoded)", () => [...hpackInt(IDX_UA, 4, 0x10), ...hpackString("h2-conformance", true)]),
    rep("Sends a literal header field never indexed - new name", () => [0x10, ...hpackString("x-test"), ...hpackString("never")]),
    rep("Sends a literal header field never indexed - new name (huffman encoded)", () => [0x10, ...hpackString("x-test", true), ...hpackString("never", true)]),
  ];
  const cases: H2Case[] = list.map(([title, tail], i) => ({
    id: `generic/5/${i + 1}`,
    title,
    run: async (c) => {
      await handshake(c);
      c.p.send(getWithTail(c, tail()));
      await expectResponse(c, 1);
    },
  }));
  cases.push({
    id: "generic/5/14",
    title: "Sends a dynamic table size update",
    run: async (c) => {
      await handshake(c);
      c.p.send(getWithHead(c, hpackInt(2048, 5, 0x20)));
      await expectResponse(c, 1);
    },
  }, {
    id: "generic/5/15",
    title: "Sends multiple dynamic table size updates",
    run: async (c) => {
      await handshake(c);
      c.p.send(getWithHead(c, [...hpackInt(0, 5, 0x20), ...hpackInt(4096, 5, 0x20)]));
      await expectResponse(c, 1);
    },
  });
  return cases;
}

/** A connection error with `code` after the frames `build` makes (handshake first). */
export function connectionError(code: number | number[], build: (c: Ctx) => Uint8Array[], pairs: [number, number][] = []): (c: Ctx) => Promise<void> {
  return async (c) => {
    await handshake(c, pairs);
    c.p.send(...build(c));
    await expectConnectionError(c, ...(Array.isArray(code) ? code : [code]));
  };
}

/** A stream error with `code` (or the same connection error) after the frames `build` makes. */
export function streamError(code: number | number[], build: (c: Ctx) => Uint8Array[]): (c: Ctx) => Promise<void> {
  return async (c) => {
    await handshake(c);
    c.p.send(...build(c));
    await expectStreamErrorOn(c, 1, ...(Array.isArray(code) ? code : [code]));
  };
}

export const OPEN: number = F.END_HEADERS; // HEADERS that leave the stream open (no END_STREAM)

/** The http2 cases: the MUSTs of RFC 9113 (numbered as in RFC 7540, as h2spec does). */
const HTTP2: H2Case[] = [
  {
    id: "http2/3.5/1",
    title: "Sends client connection preface",
    run: async (c) => {
      await handshake(c);
    },
  },
  {
    id: "http2/3.5/2",
    title: "Sends invalid connection preface",
    rfc: "RFC 9113 §3.4: a connection error PROTOCOL_ERROR whose GOAWAY MAY be omitted; over h2c a bad preface is an HTTP/1.1 request, answered 4xx and closed",
    run: async (c) => {
      c.p.send("INVALID CONNECTION PREFACE\r\n\r\n");
      for (;;) {
        const ev = await nextEvent(c);
        if (ev.kind === "closed") {
          if (c.p.rawText !== "" && !/^HTTP\/1\.[01] 4\d\d /.test(c.p.rawText)) throw new CaseFailure("a close (or a 4xx over h2c)", JSON.stringify(c.p.rawText.slice(0, 40)));
          return;
        }
        if (ev.kind === "timeout") throw new CaseFailure("the connection closed", "nothing (timed out)");
        if (ev.frame.type === T.GOAWAY && ev.frame.payload[7] !== E.PROTOCOL_ERROR) throw new CaseFailure("GOAWAY PROTOCOL_ERROR or a close", `GOAWAY ${ev.frame.payload[7]}`);
      }
    },
  },
  {
    id: "http2/4.1/1",
    title: "Sends a frame with unknown type",
    run: async (c) => {
      await handshake(c);
      c.p.send(frame(0xff, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]));
      await pingRoundTrip(c);
    },
  },
  {
    id: "http2/4.1/2",
    title: "Sends a frame with undefined flag",
    run: async (c) => {
      await handshake(c);
      const payload = [1, 2, 3, 4, 5, 6, 7, 8];
      c.p.send(frame(T.PING, 0x16, 0, payload));
      await expectPingAck(c, payload);
    },
  },
  {
    id: "http2/4.1/3",
    title: "Sends a frame with reserved field bit",
    run: async (c) => {
      await handshake(c);
      const payload = [8, 7, 6, 5, 4, 3, 2, 1];
      c.p.send(frame(T.PING, 0, 0x80000000, payload));
      await expectPingAck(c, payload);
    },
  },
  {
    id: "http2/4.2/1",
    title: "Sends a DATA frame with 2^14 octets in length",
    run: async (c) => {
      await handshake(c);
      c.p.send(post(c, 1, 16384), data(1, new Uint8Array(16384).fill(0x78), true));
      await expectResponse(c, 1);
    },
  },
  {
    id: "http2/4.2/2",
    title: "Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
    run: streamError(E.FRAME_SIZE_ERROR, (c) => [post(c, 1), data(1, new Uint8Array(16385), true)]),
  },
  {
    id: "http2/4.2/3",
    title: "Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
    run: connectionError(E.FRAME_SIZE_ERROR, (c) => [headers(1, block(req(c, [["x-big", "a".repeat(16400)]])), ES_EH)]),
  },
  {
    id: "http2/4.3/1",
    title: "Sends invalid header block fragment",
    run: connectionError(E.COMPRESSION_ERROR, () => [headers(1, Uint8Array.from([0x40]), ES_EH)]),
  },
  {
    id: "http2/4.3/2",
    title: "Sends a PRIORITY frame while sending the header blocks",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 1, F.END_STREAM), priority(1, 0, 255)]),
  },
  {
    id: "http2/4.3/3",
    title: "Sends a HEADERS frame to another stream while sending the header blocks",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 1, F.END_STREAM), get(c, 3)]),
  },
  {
    id: "http2/5.1/1",
    title: "idle: Sends a DATA frame",
    run: connectionError(E.PROTOCOL_ERROR, () => [data(1, "test", true)]),
  },
  {
    id: "http2/5.1/2",
    title: "idle: Sends a RST_STREAM frame",
    run: connectionError(E.PROTOCOL_ERROR, () => [rstStream(1, E.CANCEL)]),
  },
  {
    id: "http2/5.1/3",
    title: "idle: Sends a WINDOW_UPDATE frame",
    run: connectionError(E.PROTOCOL_ERROR, () => [windowUpdate(1, 100)]),
  },
  {
    id: "http2/5.1/4",
    title: "idle: Sends a CONTINUATION frame",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [continuation(1, block(req(c)), true)]),
  },
  {
    id: "http2/5.1/5",
    title: "half closed (remote): Sends a DATA frame",
    run: streamError(E.STREAM_CLOSED, (c) => [get(c), data(1, "test", true)]),
  },
  {
    id: "http2/5.1/6",
    title: "half closed (remote): Sends a HEADERS frame",
    run: streamError(E.STREAM_CLOSED, (c) => [get(c), get(c)]),
  },
  {
    id: "http2/5.1/7",
    title: "half closed (remote): Sends a CONTINUATION frame",
    run: streamError([E.STREAM_CLOSED, E.PROTOCOL_ERROR], (c) => [get(c), continuation(1, block(req(c)), true)]),
  },
  {
    id: "http2/5.1/8",
    title: "closed: Sends a DATA frame after sending RST_STREAM frame",
    run: streamError(E.STREAM_CLOSED, (c) => [get(c, 1, OPEN), rstStream(1, E.CANCEL), data(1, "test", true)]),
  },
  {
    id: "http2/5.1/9",
    title: "closed: Sends a HEADERS frame after sending RST_STREAM frame",
    run: streamError(E.STREAM_CLOSED, (c) => [get(c, 1, OPEN), rstStream(1, E.CANCEL), get(c)]),
  },
  {
    id: "http2/5.1/10",
    title: "closed: Sends a CONTINUATION frame after sending RST_STREAM frame",
    run: streamError([E.STREAM_CLOSED, E.PROTOCOL_ERROR], (c) => [get(c, 1, OPEN), rstStream(1, E.CANCEL), continuation(1, block([["x-dummy", "1"]]), true)]),
  },
  ...([
    ["closed: Sends a DATA frame", (c: Ctx) => data(1, "test", true), [E.STREAM_CLOSED]],
    ["closed: Sends a HEADERS frame", (c: Ctx) => get(c), [E.STREAM_CLOSED]],
    ["closed: Sends a CONTINUATION frame", (c: Ctx) => continuation(1, block([["x-dummy", "1"]]), true), [E.STREAM_CLOSED, E.PROTOCOL_ERROR]],
  ] as const).map(([title, late, codes], i): H2Case => ({
    id: `http2/5.1/${11 + i}`,
    title,
    rfc: "RFC 9113 §5.1 (closed): a frame other than PRIORITY on a stream closed by END_STREAM both ways MAY be a connection error STREAM_CLOSED; h2spec asks for the connection error, and so does this case",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c));
      await expectStreamEnd(c, 1);
      c.p.send(late(c));
      await expectConnectionError(c, ...codes);
    },
  })),
  {
    id: "http2/5.1.1/1",
    title: "Sends even-numbered stream identifier",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 2)]),
  },
  {
    id: "http2/5.1.1/2",
    title: "Sends stream identifier that is numerically smaller than previous",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c, 5));
      await expectResponse(c, 5);
      c.p.send(get(c, 3));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "http2/5.1.2/1",
    title: "Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded",
    run: async (c) => {
      await handshake(c);
      const max = c.p.serverSettings.get(S.MAX_CONCURRENT_STREAMS);
      if (max === undefined || max > 1000) throw new CaseFailure("SETTINGS_MAX_CONCURRENT_STREAMS of at most 1000", String(max));
      // A window of 0 (not waiting for its ACK) keeps every stream open; one write per HEADERS, as h2spec does.
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 0]]));
      for (let i = 0; i <= max; i++) c.p.send(get(c, 1 + 2 * i));
      await expectStreamError(c, E.PROTOCOL_ERROR, E.REFUSED_STREAM);
    },
  },
  {
    id: "http2/5.3.1/1",
    title: "Sends HEADERS frame that depends on itself",
    rfc: "RFC 9113 §5.3.1 still makes a self-dependency a stream error PROTOCOL_ERROR though priority signals are deprecated",
    run: streamError(E.PROTOCOL_ERROR, (c) => [headersWithPriority(1, block(req(c)), 1, 255)]),
  },
  {
    id: "http2/5.3.1/2",
    title: "Sends PRIORITY frame that depend on itself",
    rfc: "RFC 9113 §5.3.1 (as above), for a PRIORITY frame on an idle stream",
    run: streamError(E.PROTOCOL_ERROR, () => [priority(1, 1, 255)]),
  },
  {
    id: "http2/5.4.1/1",
    title: "Sends an invalid PING frame for connection close",
    run: async (c) => {
      await handshake(c);
      c.p.send(frame(T.PING, 0, 3, new Uint8Array(8)));
      await expectClose(c);
    },
  },
  {
    id: "http2/5.4.1/2",
    title: "Sends an invalid PING frame to receive GOAWAY frame",
    run: connectionError(E.PROTOCOL_ERROR, () => [frame(T.PING, 0, 3, new Uint8Array(8))]),
  },
  {
    id: "http2/5.5/1",
    title: "Sends an unknown extension frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(frame(0xff, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]));
      await pingRoundTrip(c);
    },
  },
  {
    id: "http2/5.5/2",
    title: "Sends an unknown extension frame in the middle of a header block",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 1, F.END_STREAM), frame(0xff, 0, 1, [0, 0, 0, 0])]),
  },
  {
    id: "http2/6.1/1",
    title: "Sends a DATA frame with 0x0 stream identifier",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [post(c, 1), data(0, "test", true)]),
  },
  {
    id: "http2/6.1/2",
    title: "Sends a DATA frame on the stream that is not in \"open\" or \"half-closed (local)\" state",
    run: streamError(E.STREAM_CLOSED, (c) => [get(c), data(1, "test", true)]),
  },
  {
    id: "http2/6.1/3",
    title: "Sends a DATA frame with invalid pad length",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [post(c, 1), frame(T.DATA, F.END_STREAM | F.PADDED, 1, cat([6], "test"))]),
  },
  {
    id: "http2/6.2/1",
    title: "Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 1, F.END_STREAM), priority(1, 0, 255)]),
  },
  {
    id: "http2/6.2/2",
    title: "Sends a HEADERS frame to another stream while sending a HEADERS frame",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 1, F.END_STREAM), get(c, 3)]),
  },
  {
    id: "http2/6.2/3",
    title: "Sends a HEADERS frame with 0x0 stream identifier",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 0)]),
  },
  {
    id: "http2/6.2/4",
    title: "Sends a HEADERS frame with invalid pad length",
    run: connectionError(E.PROTOCOL_ERROR, (c) => {
      const b = block(req(c));
      return [frame(T.HEADERS, ES_EH | F.PADDED, 1, cat([b.length + 10], b))];
    }),
  },
  {
    id: "http2/6.3/1",
    title: "Sends a PRIORITY frame with 0x0 stream identifier",
    rfc: "RFC 9113 §6.3: PRIORITY is deprecated but its stream-id rule stays",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c, 1, OPEN), priority(0, 1, 255)]),
  },
  {
    id: "http2/6.3/2",
    title: "Sends a PRIORITY frame with a length other than 5 octets",
    rfc: "RFC 9113 §6.3: a stream error FRAME_SIZE_ERROR",
    run: streamError(E.FRAME_SIZE_ERROR, (c) => [get(c, 1, OPEN), frame(T.PRIORITY, 0, 1, [0x80, 0, 0, 1])]),
  },
  {
    id: "http2/6.4/1",
    title: "Sends a RST_STREAM frame with 0x0 stream identifier",
    run: connectionError(E.PROTOCOL_ERROR, () => [rstStream(0, E.CANCEL)]),
  },
  {
    id: "http2/6.4/2",
    title: "Sends a RST_STREAM frame on a idle stream",
    run: connectionError(E.PROTOCOL_ERROR, () => [rstStream(1, E.CANCEL)]),
  },
  {
    id: "http2/6.4/3",
    title: "Sends a RST_STREAM frame with a length other than 4 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, (c) => [get(c, 1, OPEN), frame(T.RST_STREAM, 0, 1, [0, 0, 0])]),
  },
  {
    id: "http2/6.5/1",
    title: "Sends a SETTINGS frame with ACK flag and payload",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.SETTINGS, F.ACK, 0, [0, 1, 0, 0, 0x10, 0])]),
  },
  {
    id: "http2/6.5/2",
    title: "Sends a SETTINGS frame with a stream identifier other than 0x0",
    run: connectionError(E.PROTOCOL_ERROR, () => [frame(T.SETTINGS, 0, 1, [0, 1, 0, 0, 0x10, 0])]),
  },
  {
    id: "http2/6.5/3",
    title: "Sends a SETTINGS frame with a length other than a multiple of 6 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.SETTINGS, 0, 0, [0, 1, 0, 0])]),
  },
  {
    id: "http2/6.5.2/1",
    title: "SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1",
    run: connectionError(E.PROTOCOL_ERROR, () => [settings([[S.ENABLE_PUSH, 2]])]),
  },
  {
    id: "http2/6.5.2/2",
    title: "SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow control window size",
    run: connectionError(E.FLOW_CONTROL_ERROR, () => [settings([[S.INITIAL_WINDOW_SIZE, 0x80000000]])]),
  },
  {
    id: "http2/6.5.2/3",
    title: "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value",
    run: connectionError(E.PROTOCOL_ERROR, () => [settings([[S.MAX_FRAME_SIZE, 16383]])]),
  },
  {
    id: "http2/6.5.2/4",
    title: "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size",
    run: connectionError(E.PROTOCOL_ERROR, () => [settings([[S.MAX_FRAME_SIZE, 16777216]])]),
  },
  {
    id: "http2/6.5.2/5",
    title: "Sends a SETTINGS frame with unknown identifier",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[0xff, 1]]));
      await expectSettingsAck(c);
    },
  },
  {
    id: "http2/6.5.3/1",
    title: "Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 100], [S.INITIAL_WINDOW_SIZE, 1]]));
      await expectSettingsAck(c);
      c.p.send(get(c));
      await expectDataLength(c, 1, 1);
    },
  },
  {
    id: "http2/6.5.3/2",
    title: "Sends a SETTINGS frame without ACK flag",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.ENABLE_PUSH, 0]]));
      await expectSettingsAck(c);
    },
  },
  {
    id: "http2/6.7/1",
    title: "Sends a PING frame",
    run: async (c) => {
      await handshake(c);
      await pingRoundTrip(c);
    },
  },
  {
    id: "http2/6.7/2",
    title: "Sends a PING frame with ACK",
    run: async (c) => {
      await handshake(c);
      c.p.send(ping([9, 9, 9, 9, 9, 9, 9, 9], true));
      await pingRoundTrip(c);
    },
  },
  {
    id: "http2/6.7/3",
    title: "Sends a PING frame with a stream identifier field value other than 0x0",
    run: connectionError(E.PROTOCOL_ERROR, () => [frame(T.PING, 0, 1, new Uint8Array(8))]),
  },
  {
    id: "http2/6.7/4",
    title: "Sends a PING frame with a length field value other than 8",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.PING, 0, 0, new Uint8Array(6))]),
  },
  {
    id: "http2/6.8/1",
    title: "Sends a GOAWAY frame with a stream identifier other than 0x0",
    run: connectionError(E.PROTOCOL_ERROR, () => [goaway(0, E.NO_ERROR, 1)]),
  },
  {
    id: "http2/6.9/1",
    title: "Sends a WINDOW_UPDATE frame with a flow control window increment of 0",
    run: connectionError(E.PROTOCOL_ERROR, () => [windowUpdate(0, 0)]),
  },
  {
    id: "http2/6.9/2",
    title: "Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream",
    run: streamError(E.PROTOCOL_ERROR, (c) => [get(c, 1, OPEN), windowUpdate(1, 0)]),
  },
  {
    id: "http2/6.9/3",
    title: "Sends a WINDOW_UPDATE frame with a length other than 4 octets",
    run: connectionError(E.FRAME_SIZE_ERROR, () => [frame(T.WINDOW_UPDATE, 0, 0, [0, 0, 1])]),
  },
  {
    id: "http2/6.9.1/1",
    title: "Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 1]]));
      await expectSettingsAck(c);
      c.p.send(get(c));
      await expectDataLength(c, 1, 1);
    },
  },
  {
    id: "http2/6.9.1/2",
    title: "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1",
    run: connectionError(E.FLOW_CONTROL_ERROR, () => [windowUpdate(0, MAX_WINDOW), windowUpdate(0, MAX_WINDOW)]),
  },
  {
    id: "http2/6.9.1/3",
    title: "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream",
    run: streamError(E.FLOW_CONTROL_ERROR, (c) => [get(c, 1, OPEN), windowUpdate(1, MAX_WINDOW), windowUpdate(1, MAX_WINDOW)]),
  },
  {
    id: "http2/6.9.2/1",
    title: "Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 0]]));
      await expectSettingsAck(c);
      c.p.send(get(c), settings([[S.INITIAL_WINDOW_SIZE, 1]]));
      await expectDataLength(c, 1, 1);
    },
  },
  {
    id: "http2/6.9.2/2",
    title: "Sends a SETTINGS frame for window size to be negative",
    run: async (c) => {
      await handshake(c);
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 3]]));
      await expectSettingsAck(c);
      c.p.send(get(c));
      await expectDataLength(c, 1, 3);
      c.p.send(settings([[S.INITIAL_WINDOW_SIZE, 2]]));
      await expectSettingsAck(c);
      c.p.send(windowUpdate(1, 2));
      await expectDataLength(c, 1, 1);
    },
  },
  {
    id: "http2/6.9.2/3",
    title: "Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value",
    run: connectionError(E.FLOW_CONTROL_ERROR, () => [frame(T.SETTINGS, 0, 0, [0, 4, 0x80, 0, 0, 0])]),
  },
  {
    id: "http2/6.10/1",
    title: "Sends multiple CONTINUATION frames preceded by a HEADERS frame",
    run: async (c) => {
      await handshake(c);
      const b = block(req(c));
      c.p.send(headers(1, b.subarray(0, 4), F.END_STREAM), continuation(1, b.subarray(4, 8), false), continuation(1, b.subarray(8), true));
      await expectResponse(c, 1);
    },
  },
  {
    id: "http2/6.10/2",
    title: "Sends a CONTINUATION frame followed by any frame other than CONTINUATION",
    run: connectionError(E.PROTOCOL_ERROR, (c) => {
      const b = block(req(c));
      return [headers(1, b.subarray(0, 4), F.END_STREAM), continuation(1, b.subarray(4), false), data(1, "test", true)];
    }),
  },
  {
    id: "http2/6.10/3",
    title: "Sends a CONTINUATION frame with 0x0 stream identifier",
    run: connectionError(E.PROTOCOL_ERROR, (c) => {
      const b = block(req(c));
      return [headers(1, b.subarray(0, 4), F.END_STREAM), continuation(0, b.subarray(4), true)];
    }),
  },
  {
    id: "http2/6.10/4",
    title: "Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [get(c), continuation(1, block([["x-dummy", "1"]]), true)]),
  },
  {
    id: "http2/6.10/5",
    title: "Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag",
    run: connectionError(E.PROTOCOL_ERROR, (c) => {
      const b = block(req(c));
      return [headers(1, b.subarray(0, 4), F.END_STREAM), continuation(1, b.subarray(4), true), continuation(1, block([["x-dummy", "1"]]), true)];
    }),
  },
  {
    id: "http2/6.10/6",
    title: "Sends a CONTINUATION frame preceded by a DATA frame",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [post(c, 1), data(1, "test", false), continuation(1, block([["x-dummy", "1"]]), true)]),
  },
  {
    id: "http2/7/1",
    title: "Sends a GOAWAY frame with unknown error code",
    run: async (c) => {
      await handshake(c);
      c.p.send(goaway(0, 0xff));
      await pingRoundTrip(c, true);
    },
  },
  {
    id: "http2/7/2",
    title: "Sends a RST_STREAM frame with unknown error code",
    run: async (c) => {
      await handshake(c);
      c.p.send(get(c, 1, OPEN), rstStream(1, 0xff));
      await pingRoundTrip(c, true);
    },
  },
  {
    id: "http2/8.1/1",
    title: "Sends a second HEADERS frame without the END_STREAM flag",
    run: streamError(E.PROTOCOL_ERROR, (c) => [post(c, 1), data(1, "test", false), headers(1, block([["x-trailer", "1"]]), OPEN)]),
  },
  {
    id: "http2/8.1.2/1",
    title: "Sends a HEADERS frame that contains the header field name in uppercase letters",
    run: malformed((c) => req(c, [["X-TEST", "ok"]])),
  },
  {
    id: "http2/8.1.2.1/1",
    title: "Sends a HEADERS frame that contains a unknown pseudo-header field",
    run: malformed((c) => req(c, [[":test", "ok"]])),
  },
  {
    id: "http2/8.1.2.1/2",
    title: "Sends a HEADERS frame that contains the pseudo-header field defined for response",
    run: malformed((c) => req(c, [[":status", "200"]])),
  },
  {
    id: "http2/8.1.2.1/3",
    title: "Sends a HEADERS frame that contains a pseudo-header field as trailers",
    run: streamError(E.PROTOCOL_ERROR, (c) => [post(c, 1), data(1, "test", false), headers(1, block([[":method", "POST"]]), ES_EH)]),
  },
  {
    id: "http2/8.1.2.1/4",
    title: "Sends a HEADERS frame that contains a pseudo-header field that appears in a header block after a regular header field",
    run: malformed((c) => [...req(c).slice(0, 3), ["x-test", "ok"], req(c)[3]!]),
  },
  {
    id: "http2/8.1.2.2/1",
    title: "Sends a HEADERS frame that contains the connection-specific header field",
    run: malformed((c) => req(c, [["connection", "keep-alive"]])),
  },
  {
    id: "http2/8.1.2.2/2",
    title: "Sends a HEADERS frame that contains the TE header field with any value other than \"trailers\"",
    run: malformed((c) => req(c, [["te", "trailers, deflate"]])),
  },
  {
    id: "http2/8.1.2.3/1",
    title: "Sends a HEADERS frame with empty \":path\" pseudo-header field",
    run: malformed((c) => req(c).map(([n, v]) => [n, n === ":path" ? "" : v])),
  },
  {
    id: "http2/8.1.2.3/2",
    title: "Sends a HEADERS frame that omits \":method\" pseudo-header field",
    run: malformed((c) => req(c).filter(([n]) => n !== ":method")),
  },
  {
    id: "http2/8.1.2.3/3",
    title: "Sends a HEADERS frame that omits \":scheme\" pseudo-header field",
    run: malformed((c) => req(c).filter(([n]) => n !== ":scheme")),
  },
  {
    id: "http2/8.1.2.3/4",
    title: "Sends a HEADERS frame that omits \":path\" pseudo-header field",
    run: malformed((c) => req(c).filter(([n]) => n !== ":path")),
  },
  {
    id: "http2/8.1.2.3/5",
    title: "Sends a HEADERS frame with duplicated \":method\" pseudo-header field",
    run: malformed((c) => [[":method", "GET"], ...req(c)]),
  },
  {
    id: "http2/8.1.2.3/6",
    title: "Sends a HEADERS frame with duplicated \":scheme\" pseudo-header field",
    run: malformed((c) => [[":scheme", c.p.scheme], ...req(c)]),
  },
  {
    id: "http2/8.1.2.3/7",
    title: "Sends a HEADERS frame with duplicated \":path\" pseudo-header field",
    run: malformed((c) => [[":path", "/"], ...req(c)]),
  },
  {
    id: "http2/8.1.2.6/1",
    title: "Sends a HEADERS frame with the \"content-length\" header field which does not equal the DATA frame payload length",
    run: streamError(E.PROTOCOL_ERROR, (c) => [post(c, 1, 1), data(1, "test", true)]),
  },
  {
    id: "http2/8.1.2.6/2",
    title: "Sends a HEADERS frame with the \"content-length\" header field which does not equal the sum of the multiple DATA frames payload length",
    run: streamError(E.PROTOCOL_ERROR, (c) => [post(c, 1, 5), data(1, "test", false), data(1, "test", true)]),
  },
  {
    id: "http2/8.2/1",
    title: "Sends a PUSH_PROMISE frame",
    run: connectionError(E.PROTOCOL_ERROR, (c) => [frame(T.PUSH_PROMISE, F.END_HEADERS, 1, cat(be32(2), block(req(c))))]),
  },
];

/** The hpack cases: decoding errors are connection errors COMPRESSION_ERROR. */
const HPACK: H2Case[] = [
  {
    id: "hpack/2.3.3/1",
    title: "Sends a indexed header field representation with invalid index",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, hpackInt(70, 7, 0x80))]),
  },
  {
    id: "hpack/2.3.3/2",
    title: "Sends a literal header field representation with invalid index",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [...hpackInt(70, 6, 0x40), ...hpackString("x")])]),
  },
  {
    id: "hpack/4.2/1",
    title: "Sends a dynamic table size update at the end of header block",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, hpackInt(1024, 5, 0x20))]),
  },
  {
    id: "hpack/5.2/1",
    title: "Sends a Huffman-encoded string literal representation with padding longer than 7 bits",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [0x00, ...hpackString("x-test"), 0x82, 0x1f, 0xff])]),
  },
  {
    id: "hpack/5.2/2",
    title: "Sends a Huffman-encoded string literal representation padded by zero",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [0x00, ...hpackString("x-test"), 0x81, 0x18])]),
  },
  {
    id: "hpack/5.2/3",
    title: "Sends a Huffman-encoded string literal representation containing the EOS symbol",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [0x00, ...hpackString("x-test"), 0x84, 0xff, 0xff, 0xff, 0xff])]),
  },
  {
    id: "hpack/6.1/1",
    title: "Sends a indexed header field representation with index 0",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithTail(c, [0x80])]),
  },
  {
    id: "hpack/6.3/1",
    title: "Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE",
    run: connectionError(E.COMPRESSION_ERROR, (c) => [getWithHead(c, hpackInt((c.p.serverSettings.get(S.HEADER_TABLE_SIZE) ?? 4096) + 1, 5, 0x20))]),
  },
];

/** h2spec's cases, in its order. */
export const H2SPEC_CASES: readonly H2Case[] = [...GENERIC, ...HTTP2, ...HPACK];
