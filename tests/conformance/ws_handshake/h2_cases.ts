/**
 * WebSocket over HTTP/2 (RFC 8441) server conformance cases: raw HTTP/2
 * frames (the h2 suite's peer, tests/conformance/h2/peer.ts) against
 * `serve` over h2c by prior knowledge: a server with a `websocket` option
 * (it must announce SETTINGS_ENABLE_CONNECT_PROTOCOL and take extended
 * CONNECT), and one without (no announcement; `:protocol` is then an
 * unknown pseudo-header, so the request is malformed).
 *
 * @module
 */
import { block, E, F, frame, headers, PREFACE, settings, T } from "../h2/peer.ts";
import { Peer } from "../h2/peer.ts";
import { type Ctx, expectConnectionError, expectResponse, expectStreamErrorOn, handshake, nextEvent } from "../h2/verify.ts";
import { describe } from "../h2/peer.ts";
import { closeCode, closePayload, fail, frame as wsFrame, parseFrame, type WsFrame } from "./driver.ts";

/** What an HTTP/2 case runs with. */
export interface H2CaseCtx {
  readonly port: number;
  readonly deadline: number;
  /** Hands the runner what the server sent, for failure details. */
  readonly trace: (t: () => string) => void;
}

/** One RFC 8441 case. */
export interface H2WsCase {
  readonly id: string;
  readonly title: string;
  /** "plain": the server without a `websocket` option. */
  readonly server?: "plain";
  readonly run: (x: H2CaseCtx) => Promise<void>;
}

/** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3). */
const ENABLE_CONNECT_PROTOCOL = 0x8;

async function connect(x: H2CaseCtx): Promise<Ctx> {
  const p = await Peer.connect({ port: x.port });
  x.trace(() => p.seen.join(" ⏎ "));
  const c = { p, deadline: x.deadline };
  cleanups.add(p);
  return c;
}

const cleanups = new Set<Peer>();

/** Closes the connections the cases left open. */
export function closeH2Peers(): void {
  for (const p of cleanups) p.close();
  cleanups.clear();
}

/** An extended CONNECT's fields (RFC 8441 §4), changed by `drop` and `extra`. */
function extendedConnect(c: Ctx, drop: string[] = [], extra: [string, string][] = []): [string, string][] {
  const fields: [string, string][] = [
    [":method", "CONNECT"],
    [":protocol", "websocket"],
    [":scheme", "http"],
    [":path", "/chat"],
    [":authority", `localhost:${c.p.target.port}`],
    ["sec-websocket-version", "13"],
  ];
  return [...fields.filter(([k]) => !drop.includes(k)), ...extra];
}

function get(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Reads WebSocket frames from the DATA of `stream` until one is whole. */
async function wsFrameOn(c: Ctx, stream: number, buf: { bytes: Uint8Array }): Promise<WsFrame> {
  for (;;) {
    const parsed = parseFrame(buf.bytes);
    if (typeof parsed === "object") {
      buf.bytes = buf.bytes.subarray(parsed.size);
      if (parsed.frame.masked) fail("a masked WebSocket frame from the server (RFC 6455 §5.1)");
      return parsed.frame;
    }
    if (parsed !== "short") fail(parsed);
    const ev = await nextEvent(c);
    if (ev.kind !== "frame") fail(`expected DATA on stream ${stream}, got ${describe(ev)}`);
    if (ev.frame.type === T.GOAWAY || (ev.frame.type === T.RST_STREAM && ev.frame.streamId === stream)) fail(`expected DATA on stream ${stream}, got ${describe(ev)}`);
    if (ev.frame.type === T.DATA && ev.frame.streamId === stream) {
      const next = new Uint8Array(buf.bytes.length + ev.frame.payload.length);
      next.set(buf.bytes);
      next.set(ev.frame.payload, buf.bytes.length);
      buf.bytes = next;
      if ((ev.frame.flags & F.END_STREAM) !== 0 && parseFrame(buf.bytes) === "short") fail(`stream ${stream} ended inside a WebSocket frame`);
    }
  }
}

/** The RFC 8441 cases. */
export const H2_CASES: readonly H2WsCase[] = [
  {
    id: "8441/3/1",
    title: "a server that takes WebSockets announces SETTINGS_ENABLE_CONNECT_PROTOCOL = 1",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      const v = c.p.serverSettings.get(ENABLE_CONNECT_PROTOCOL);
      if (v !== 1) fail(`SETTINGS_ENABLE_CONNECT_PROTOCOL is ${v ?? "absent"}, expected 1`);
    },
  },
  {
    id: "8441/3/2",
    title: "SETTINGS_ENABLE_CONNECT_PROTOCOL = 2 from the client (only 0 or 1 are allowed): connection error PROTOCOL_ERROR",
    run: async (x) => {
      const c = await connect(x);
      c.p.send(PREFACE, settings([[ENABLE_CONNECT_PROTOCOL, 2]]));
      await expectConnectionError(c, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "8441/4/1",
    title: "an extended CONNECT (:protocol websocket) is answered 200 without Sec-WebSocket-Accept, and the stream's DATA carries the WebSocket (unmasked echo, Close answered, stream ended)",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      c.p.send(headers(1, block(extendedConnect(c)), F.END_HEADERS));
      const fields = await expectResponse(c, 1);
      if (get(fields, ":status") !== "200") fail(`expected :status 200, got ${JSON.stringify(fields)}`);
      if (get(fields, "sec-websocket-accept") !== undefined) fail("a sec-websocket-accept over HTTP/2 (RFC 8441 §5: not used)");
      const buf = { bytes: new Uint8Array(0) };
      c.p.send(frame(T.DATA, 0, 1, wsFrame({ opcode: 1, payload: "over h2" })));
      const echo = await wsFrameOn(c, 1, buf);
      if (echo.opcode !== 1 || new TextDecoder().decode(echo.payload) !== "over h2") fail(`expected the echo "over h2", got opcode ${echo.opcode}`);
      c.p.send(frame(T.DATA, 0, 1, wsFrame({ opcode: 8, payload: closePayload(1000) })));
      const close = await wsFrameOn(c, 1, buf);
      if (close.opcode !== 8 || closeCode(close) !== 1000) fail(`expected Close 1000, got opcode ${close.opcode} code ${close.opcode === 8 ? closeCode(close) : "-"}`);
    },
  },
  {
    id: "8441/4/2",
    title: "an extended CONNECT without :path is malformed: stream error PROTOCOL_ERROR",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      c.p.send(headers(1, block(extendedConnect(c, [":path"])), F.END_HEADERS));
      await expectStreamErrorOn(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "8441/4/3",
    title: "an extended CONNECT without :scheme is malformed: stream error PROTOCOL_ERROR",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      c.p.send(headers(1, block(extendedConnect(c, [":scheme"])), F.END_HEADERS));
      await expectStreamErrorOn(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "8441/4/4",
    title: ":protocol on a GET (not CONNECT) is malformed: stream error PROTOCOL_ERROR",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      const fields = extendedConnect(c).map(([k, v]): [string, string] => (k === ":method" ? [k, "GET"] : [k, v]));
      c.p.send(headers(1, block(fields), F.END_HEADERS | F.END_STREAM));
      await expectStreamErrorOn(c, 1, E.PROTOCOL_ERROR);
    },
  },
  {
    id: "8441/5/1",
    title: "an extended CONNECT with sec-websocket-version 8 is refused (400 or 426) with sec-websocket-version naming 13",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      c.p.send(headers(1, block(extendedConnect(c, ["sec-websocket-version"], [["sec-websocket-version", "8"]])), F.END_HEADERS));
      const fields = await expectResponse(c, 1);
      const status = get(fields, ":status");
      if (status !== "400" && status !== "426") fail(`expected :status 400 or 426, got ${JSON.stringify(fields)}`);
      if (!(get(fields, "sec-websocket-version") ?? "").split(",").some((v) => v.trim() === "13")) fail(`no sec-websocket-version naming 13: ${JSON.stringify(fields)}`);
    },
  },
  {
    id: "8441/5/2",
    title: "a subprotocol offered over HTTP/2 is chosen among the offered (sec-websocket-protocol in the 200)",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      c.p.send(headers(1, block(extendedConnect(c, [], [["sec-websocket-protocol", "foo, chat"]])), F.END_HEADERS));
      const fields = await expectResponse(c, 1);
      if (get(fields, ":status") !== "200" || get(fields, "sec-websocket-protocol") !== "chat") fail(`expected 200 with sec-websocket-protocol chat, got ${JSON.stringify(fields)}`);
    },
  },
  {
    id: "8441/3/3",
    title: "a server without WebSockets does not announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1",
    server: "plain",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      if (c.p.serverSettings.get(ENABLE_CONNECT_PROTOCOL) === 1) fail("SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 from a server that takes no extended CONNECT");
    },
  },
  {
    id: "8441/3/4",
    title: "to a server that did not announce it, :protocol is an unknown pseudo-header: stream error PROTOCOL_ERROR",
    server: "plain",
    run: async (x) => {
      const c = await connect(x);
      await handshake(c);
      c.p.send(headers(1, block(extendedConnect(c)), F.END_HEADERS));
      await expectStreamErrorOn(c, 1, E.PROTOCOL_ERROR);
    },
  },
];
