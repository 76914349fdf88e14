/**
 * WebSocket client conformance cases: the MUSTs RFC 6455 (§4.1 the
 * client's opening handshake and its checks of the server's answer, §5
 * framing, §7 closing, §8.1 UTF-8) and RFC 7692 (the client's checks of a
 * permessage-deflate answer) put on a client, each named by its RFC and
 * section. A raw-socket server (client_harness.ts) reads ffinet's
 * request and answers with crafted bytes: a valid `101`, or one with a
 * wrong Sec-WebSocket-Accept, an unrequested subprotocol or extension, no
 * Upgrade, a `200`, a head split across reads…
 *
 * Strictness: a handshake the client must fail rejects the dial with an
 * `HTTPError` of code `ERR_WS_HANDSHAKE`, after which the client closes
 * the connection without sending a frame; a connection the client must
 * fail gets a Close with the exact code; every frame the client sends
 * keeps driver.ts's `checkFrame` (masked, minimal lengths, no 1005, 1006
 * or 1015 on the wire…).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { concatBytes } from "../../../core/bytes.ts";
import { Deflater } from "../../../core/zlib.ts";
import { HPACKDecoder } from "../../../http/hpack/decoder.ts";
import { block, F, frame as h2frame, PREFACE, settings, T } from "../h2/peer.ts";
import type { ClientCtx, DialOutcome } from "./client_harness.ts";
import { closeCode, closePayload, type Conn, fail, field, type FrameEvent, hasToken, type RawHead, showFrame, showHead, type WsFrame } from "./driver.ts";
import { acceptFor } from "./server_cases.ts";

/** One client case. */
export interface ClientCase {
  /** "<rfc>/<section>/<n>", e.g. "6455/4.1/3". */
  readonly id: string;
  readonly title: string;
  readonly run: (x: ClientCtx) => Promise<void>;
}

/** The client's request, checked against RFC 6455 §4.1 (items 1–9); returns its key. */
function checkRequest(h: RawHead, x: ClientCtx): string {
  const url = new URL(x.url);
  if (h.line !== `GET ${url.pathname}${url.search} HTTP/1.1`) fail(`the request line is not "GET /chat?x=1 HTTP/1.1" (RFC 6455 §4.1 items 1–2): ${h.line}`);
  if (field(h, "host") !== url.host) fail(`Host is not ${url.host} (§4.1 item 4): ${showHead(h)}`);
  if (!hasToken(h, "upgrade", "websocket")) fail(`no Upgrade: websocket (§4.1 item 5): ${showHead(h)}`);
  if (!hasToken(h, "connection", "upgrade")) fail(`no Connection: Upgrade (§4.1 item 6): ${showHead(h)}`);
  const key = field(h, "sec-websocket-key") ?? "";
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key) || Buffer.from(key, "base64").length !== 16) fail(`Sec-WebSocket-Key is not 16 octets in base64 (§4.1 item 7): ${showHead(h)}`);
  if (field(h, "sec-websocket-version") !== "13") fail(`Sec-WebSocket-Version is not 13 (§4.1 item 9): ${showHead(h)}`);
  return key;
}

interface Answer {
  /** The status line (default "HTTP/1.1 101 Switching Protocols"). */
  status?: string;
  /** Fields replacing the default ones by name (null drops one), then extra lines. */
  set?: Readonly<Record<string, string | null>>;
  /** Sec-WebSocket-Accept computed from another key. */
  wrongAccept?: boolean;
}

/**
 * Another key than `key`, always: its first character changed. (It was the
 * first 20 characters and "AA==", which is `key` itself for one key in 256,
 * a key ending in "AA==": the case then failed at random.)
 */
function otherKey(key: string): string {
  return (key[0] === "A" ? "B" : "A") + key.slice(1);
}

/** A 101 for `key`, changed by `a`. */
function answer(key: string, a: Answer = {}): string {
  const fields: [string, string | null][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", acceptFor(a.wrongAccept ? otherKey(key) : key)],
  ];
  for (const [name, value] of Object.entries(a.set ?? {})) {
    const at = fields.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (at >= 0) fields[at] = [fields[at]![0], value];
    else fields.push([name, value]);
  }
  const lines = fields.filter(([, v]) => v !== null).map(([n, v]) => `${n}: ${v}\r\n`).join("");
  return `${a.status ?? "HTTP/1.1 101 Switching Protocols"}\r\n${lines}\r\n`;
}

/** Dials, reads the request, writes `respond(key)`'s bytes (pieces written one by one). */
async function handshake(x: ClientCtx, respond: (key: string) => string | string[], options: Parameters<ClientCtx["dial"]>[0] = {}): Promise<{ outcome: DialOutcome; c: Conn; request: RawHead }> {
  const dialing = x.dial(options);
  const c = await x.accept();
  const request = await c.head(x.deadline, true);
  const key = checkRequest(request, x);
  const pieces = respond(key);
  for (const p of Array.isArray(pieces) ? pieces : [pieces]) {
    c.send(p);
    // Let each piece go out on its own (a read of its own on the client's side).
    await new Promise((r) => setTimeout(r, 2));
  }
  return { outcome: await dialing, c, request };
}

/** The dial must fail with ERR_WS_HANDSHAKE and the client then close the connection, sending nothing. */
async function expectRefused(x: ClientCtx, o: { outcome: DialOutcome; c: Conn }, why: string): Promise<void> {
  if (o.outcome.ok) fail(`the client opened the WebSocket although ${why}`);
  const err = o.outcome.error as { code?: string; message?: string };
  if (err.code !== "ERR_WS_HANDSHAKE") fail(`expected an HTTPError ERR_WS_HANDSHAKE (${why}), got ${String(err.code)}: ${String(err.message)}`);
  await o.c.closed(x.deadline, "a failed handshake (RFC 6455 §4.1: the client fails the connection)");
}

/** A handshake the client must fail: the answer is `a`. */
function refuses(a: Answer | ((key: string) => string | string[]), why: string, options: Parameters<ClientCtx["dial"]>[0] = {}): (x: ClientCtx) => Promise<void> {
  return async (x) => {
    const o = await handshake(x, typeof a === "function" ? a : (key) => answer(key, a), options);
    await expectRefused(x, o, why);
  };
}

/** A handshake the client must accept; returns the open socket and the connection. */
async function opened(x: ClientCtx, a: Answer | ((key: string) => string | string[]) = {}, options: Parameters<ClientCtx["dial"]>[0] = {}): Promise<{ outcome: Extract<DialOutcome, { ok: true }>; c: Conn }> {
  const o = await handshake(x, typeof a === "function" ? a : (key) => answer(key, a), options);
  if (!o.outcome.ok) {
    const err = o.outcome.error as { code?: string; message?: string };
    fail(`the client refused a valid answer: ${String(err.code)}: ${String(err.message)}`);
  }
  return { outcome: o.outcome, c: o.c };
}

/** Accepted: the client opens. */
function accepts(a: Answer | ((key: string) => string | string[]), options: Parameters<ClientCtx["dial"]>[0] = {}, then?: (x: ClientCtx, o: { outcome: Extract<DialOutcome, { ok: true }>; c: Conn }) => Promise<void>): (x: ClientCtx) => Promise<void> {
  return async (x) => {
    const o = await opened(x, a, options);
    await then?.(x, o);
  };
}

/** The client's next frame (Pings answered): must be its Close with one of `codes`. */
async function expectClientClose(x: ClientCtx, c: Conn, codes: readonly (number | null)[], what: string): Promise<WsFrame> {
  const ev = await c.nextData(x.deadline);
  if (ev.kind !== "frame" || ev.frame.opcode !== 8) fail(`${what}: expected the client's Close with ${codes.map((k) => k ?? "no code").join(" or ")}, got ${showFrame(ev)}`);
  if (!codes.includes(closeCode(ev.frame))) fail(`${what}: expected close code ${codes.map((k) => k ?? "none").join(" or ")}, got ${showFrame(ev)}`);
  return ev.frame;
}

/** After opening, the server sends `frames` (unmasked unless said); the client must fail with `code`. */
function clientFails(code: number | readonly number[], frames: Parameters<Conn["sendFrame"]>[0][], what: string): (x: ClientCtx) => Promise<void> {
  return async (x) => {
    const { c } = await opened(x);
    for (const f of frames) c.sendFrame({ masked: false, ...f });
    await expectClientClose(x, c, typeof code === "number" ? [code] : code, what);
  };
}

async function nextMessage(x: ClientCtx, ws: Extract<DialOutcome, { ok: true }>["ws"]): Promise<string | Uint8Array> {
  const got = await Promise.race([
    ws.recv(),
    new Promise<"timeout">((r) => setTimeout(() => r("timeout"), Math.max(1, x.deadline - performance.now()))),
  ]);
  if (got === "timeout") fail("the client delivered no message");
  if (got === null) fail("the client closed instead of delivering the message");
  return got.data;
}

/** One HTTP/2 frame from the client, or null when the connection closed (or the deadline passed). */
async function h2Next(x: ClientCtx, c: Conn): Promise<{ type: number; flags: number; stream: number; payload: Uint8Array } | null> {
  const head = await c.bytes(9, x.deadline);
  if (head === null) return null;
  const len = (head[0]! << 16) | (head[1]! << 8) | head[2]!;
  const payload = len === 0 ? new Uint8Array(0) : await c.bytes(len, x.deadline);
  if (payload === null) return null;
  return { type: head[3]!, flags: head[4]!, stream: ((head[5]! << 24) | (head[6]! << 16) | (head[7]! << 8) | head[8]!) & 0x7fffffff, payload };
}

/**
 * The raw HTTP/2 server's start: the client's preface, our SETTINGS (with
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 when `enable`) and the ACK of theirs.
 */
async function h2Accept(x: ClientCtx, enable: boolean): Promise<Conn> {
  const c = await x.accept();
  const preface = await c.bytes(PREFACE.length, x.deadline);
  if (preface === null || new TextDecoder("latin1").decode(preface) !== PREFACE) fail(`the client did not start with the HTTP/2 preface (http2: true over ws:, prior knowledge)`);
  c.send(settings(enable ? [[0x8, 1]] : []));
  return c;
}

const BAD_UTF8 = new Uint8Array([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64]);

function ext(x: string): Answer {
  return { set: { "Sec-WebSocket-Extensions": x } };
}

/** The client cases, in RFC order. */
export const CLIENT_CASES: readonly ClientCase[] = [
  // ---- RFC 6455 §4.1: the request, and the checks of the answer
  {
    id: "6455/4.1/1",
    title: "the request is a GET HTTP/1.1 of the URL's path and query with Host, Upgrade: websocket, Connection: Upgrade, a 16-octet key and version 13; a valid 101 opens",
    run: accepts({}),
  },
  {
    id: "6455/4.1/2",
    title: "each connection has a fresh random Sec-WebSocket-Key",
    run: async (x) => {
      const keys: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { c } = await opened(x, (key) => (keys.push(key), answer(key)));
        c.close();
      }
      if (keys[0] === keys[1]) fail(`two connections sent the same key ${keys[0]}`);
    },
  },
  {
    id: "6455/4.1/3",
    title: "a status other than 101 (200 OK) fails the handshake",
    run: refuses((key) => answer(key, { status: "HTTP/1.1 200 OK", set: { "Content-Length": "0" } }), "the status was 200"),
  },
  {
    id: "6455/4.1/4",
    title: "a 403 refusal fails the handshake",
    run: refuses(() => "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "the status was 403"),
  },
  {
    id: "6455/4.1/5",
    title: "a 101 in HTTP/1.0 fails the handshake",
    run: refuses((key) => answer(key, { status: "HTTP/1.0 101 Switching Protocols" }), "the 101 was HTTP/1.0"),
  },
  {
    id: "6455/4.1/6",
    title: "a 101 without Upgrade fails the handshake",
    run: refuses({ set: { Upgrade: null } }, "the 101 had no Upgrade"),
  },
  {
    id: "6455/4.1/7",
    title: "a 101 whose Upgrade is not websocket fails the handshake",
    run: refuses({ set: { Upgrade: "h2c" } }, "Upgrade was h2c"),
  },
  {
    id: "6455/4.1/8",
    title: "Upgrade's websocket is case-insensitive (Upgrade: WebSocket opens)",
    run: accepts({ set: { Upgrade: "WebSocket" } }),
  },
  {
    id: "6455/4.1/9",
    title: "a 101 without Connection fails the handshake",
    run: refuses({ set: { Connection: null } }, "the 101 had no Connection"),
  },
  {
    id: "6455/4.1/10",
    title: "a Connection without the Upgrade token fails the handshake",
    run: refuses({ set: { Connection: "keep-alive" } }, "Connection had no Upgrade"),
  },
  {
    id: "6455/4.1/11",
    title: "Connection is a case-insensitive list (Connection: keep-alive, UPGRADE opens)",
    run: accepts({ set: { Connection: "keep-alive, UPGRADE" } }),
  },
  {
    id: "6455/4.1/12",
    title: "a wrong Sec-WebSocket-Accept fails the handshake",
    run: refuses({ wrongAccept: true }, "the Sec-WebSocket-Accept was for another key"),
  },
  {
    id: "6455/4.1/13",
    title: "a 101 without Sec-WebSocket-Accept fails the handshake",
    run: refuses({ set: { "Sec-WebSocket-Accept": null } }, "there was no Sec-WebSocket-Accept"),
  },
  {
    id: "6455/4.1/22",
    title: "two Sec-WebSocket-Accept fields (the right value twice) fail the handshake",
    run: refuses((key) => answer(key).replace("\r\n\r\n", `\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`), "Sec-WebSocket-Accept came twice"),
  },
  {
    id: "6455/4.1/23",
    title: "Sec-WebSocket-Protocol in two field lines (chat twice: not one subprotocol) fails the handshake",
    run: refuses((key) => answer(key, { set: { "Sec-WebSocket-Protocol": "chat" } }).replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat\r\n\r\n"), "two subprotocols were chosen", { protocols: ["chat"] }),
  },
  {
    id: "6455/4.1/14",
    title: "a Sec-WebSocket-Extensions naming an extension the client did not offer fails the handshake",
    run: refuses(ext("x-unrequested"), "the server accepted an extension that was not offered"),
  },
  {
    id: "6455/4.1/15",
    title: "a Sec-WebSocket-Protocol the client did not offer fails the handshake",
    run: refuses({ set: { "Sec-WebSocket-Protocol": "superchat" } }, "the subprotocol was not offered", { protocols: ["chat"] }),
  },
  {
    id: "6455/4.1/16",
    title: "a Sec-WebSocket-Protocol when the client offered none fails the handshake",
    run: refuses({ set: { "Sec-WebSocket-Protocol": "chat" } }, "no subprotocol was offered"),
  },
  {
    id: "6455/4.1/17",
    title: "subprotocols offered and none chosen: the WebSocket opens with protocol \"\"",
    run: async (x) => {
      const { outcome, request } = await (async () => {
        const dialing = x.dial({ protocols: ["chat", "chat.v2"] });
        const c = await x.accept();
        const request = await c.head(x.deadline, true);
        c.send(answer(checkRequest(request, x)));
        return { outcome: await dialing, request };
      })();
      if (field(request, "sec-websocket-protocol")?.split(",").map((s) => s.trim()).join(",") !== "chat,chat.v2") fail(`the offer was not Sec-WebSocket-Protocol: chat, chat.v2: ${showHead(request)}`);
      if (!outcome.ok) fail("the client refused an answer choosing no subprotocol");
      if (outcome.ws.protocol !== "") fail(`protocol is ${JSON.stringify(outcome.ws.protocol)}, expected ""`);
    },
  },
  {
    id: "6455/4.1/18",
    title: "the 101 head split across reads (status line, fields and the final CRLF apart, a field cut in two) opens",
    run: accepts((key) => {
      const whole = answer(key);
      return [whole.slice(0, 5), whole.slice(5, 40), whole.slice(40, whole.length - 3), whole.slice(whole.length - 3, whole.length - 1), whole.slice(whole.length - 1)];
    }),
  },
  {
    id: "6455/4.1/19",
    title: "a frame in the same write as the 101 is the first message",
    run: async (x) => {
      const { outcome } = await opened(x, (key) => answer(key) + "\x81\x05first");
      const m = await nextMessage(x, outcome.ws);
      if (m !== "first") fail(`expected the message "first", got ${JSON.stringify(m)}`);
    },
  },
  {
    id: "6455/4.1/20",
    title: "the server closing during the head fails the handshake (no hang)",
    run: async (x) => {
      const dialing = x.dial();
      const c = await x.accept();
      await c.head(x.deadline, true);
      c.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
      c.end();
      const outcome = await dialing;
      if (outcome.ok) fail("the client opened on a cut head");
      const err = outcome.error as { code?: string };
      if (err.code !== "ERR_WS_HANDSHAKE") fail(`expected ERR_WS_HANDSHAKE, got ${String(err.code)}`);
    },
  },
  {
    id: "6455/4.1/21",
    title: "an Origin is sent only when asked for, as given",
    run: async (x) => {
      const dialing = x.dial({ origin: "http://app.example" });
      const c = await x.accept();
      const request = await c.head(x.deadline, true);
      c.send(answer(checkRequest(request, x)));
      const outcome = await dialing;
      if (!outcome.ok) fail("the client refused a valid answer");
      if (field(request, "origin") !== "http://app.example") fail(`Origin is not http://app.example: ${showHead(request)}`);
      const { request: plain } = await handshake(x, (key) => answer(key));
      if (field(plain, "origin") !== undefined) fail(`an Origin nobody asked for: ${showHead(plain)}`);
    },
  },
  // ---- §5: framing
  {
    id: "6455/5.3/1",
    title: "the client masks every frame, with a fresh key for each",
    run: async (x) => {
      const { outcome, c } = await opened(x);
      const keys: string[] = [];
      for (const text of ["one", "two", "three"]) {
        outcome.ws.send(text);
        const ev = await c.nextData(x.deadline);
        if (ev.kind !== "frame" || ev.frame.opcode !== 1 || new TextDecoder().decode(ev.frame.payload) !== text) fail(`expected the text ${text}, got ${showFrame(ev)}`);
        if (ev.frame.maskKey === undefined) fail("a frame without a masking key");
        keys.push(Buffer.from(ev.frame.maskKey).toString("hex"));
      }
      if (new Set(keys).size !== keys.length) fail(`a masking key used twice: ${keys.join(" ")}`);
    },
  },
  {
    id: "6455/5.1/1",
    title: "a masked frame from the server: the client fails the connection with 1002",
    run: clientFails(1002, [{ opcode: 1, payload: "masked", masked: true }], "after a masked frame from the server"),
  },
  {
    id: "6455/5.2/1",
    title: "RSV1 without an extension: 1002",
    run: clientFails(1002, [{ opcode: 1, payload: "rsv1", rsv: 4 }], "after RSV1"),
  },
  {
    id: "6455/5.2/2",
    title: "a reserved opcode (3): 1002",
    run: clientFails(1002, [{ opcode: 3, payload: "x" }], "after opcode 3"),
  },
  {
    id: "6455/5.4/1",
    title: "a continuation frame with no message begun: 1002",
    run: clientFails(1002, [{ opcode: 0, payload: "orphan" }], "after an orphan continuation"),
  },
  {
    id: "6455/5.5/1",
    title: "a Ping over 125 octets: 1002",
    run: clientFails(1002, [{ opcode: 9, payload: new Uint8Array(126) }], "after a Ping of 126 octets"),
  },
  {
    id: "6455/5.5/2",
    title: "a fragmented Ping: 1002",
    run: clientFails(1002, [{ opcode: 9, payload: "p", fin: false }], "after a fragmented Ping"),
  },
  {
    id: "6455/5.5.2/1",
    title: "a Ping is answered by a masked Pong with the same application data",
    run: async (x) => {
      const { c } = await opened(x);
      c.sendFrame({ opcode: 9, payload: "ping-data", masked: false });
      const ev = await c.next(x.deadline);
      if (ev.kind !== "frame" || ev.frame.opcode !== 10 || new TextDecoder().decode(ev.frame.payload) !== "ping-data") fail(`expected Pong "ping-data", got ${showFrame(ev)}`);
    },
  },
  {
    id: "6455/5.5.1/1",
    title: "the server's Close 1000 is answered with a Close (1000)",
    run: async (x) => {
      const { c } = await opened(x);
      c.sendFrame({ opcode: 8, payload: closePayload(1000, "done"), masked: false });
      await expectClientClose(x, c, [1000], "after the server's Close 1000");
    },
  },
  {
    id: "6455/5.5.1/2",
    title: "the server's Close without a code is answered without a code or with 1000 (never 1005 on the wire)",
    run: async (x) => {
      const { c } = await opened(x);
      c.sendFrame({ opcode: 8, masked: false });
      await expectClientClose(x, c, [null, 1000], "after the server's empty Close");
    },
  },
  {
    id: "6455/7.4/1",
    title: "close() without a code sends a Close without a code or with 1000 (never 1005)",
    run: async (x) => {
      const { outcome, c } = await opened(x);
      void outcome.ws.close();
      await expectClientClose(x, c, [null, 1000], "after close()");
    },
  },
  {
    id: "6455/7.4/2",
    title: "close(4000, reason) sends Close 4000 with the reason",
    run: async (x) => {
      const { outcome, c } = await opened(x);
      void outcome.ws.close(4000, "app");
      const f = await expectClientClose(x, c, [4000], "after close(4000)");
      if (new TextDecoder().decode(f.payload.subarray(2)) !== "app") fail("the reason is not \"app\"");
    },
  },
  ...[1005, 1006, 1015, 999, 1004, 2999, 5000].map((code, i): ClientCase => ({
    id: `6455/7.4.2/${i + 1}`,
    title: `a Close with the code ${code} (never sent on the wire / reserved / out of range) from the server: 1002`,
    run: clientFails(1002, [{ opcode: 8, payload: closePayload(code) }], `after a Close ${code}`),
  })),
  {
    id: "6455/5.5.1/3",
    title: "a Close payload of one octet: 1002",
    run: clientFails(1002, [{ opcode: 8, payload: new Uint8Array([3]) }], "after a one-octet Close"),
  },
  {
    id: "6455/8.1/1",
    title: "a text message that is not UTF-8: 1007",
    run: clientFails(1007, [{ opcode: 1, payload: BAD_UTF8 }], "after invalid UTF-8"),
  },
  // ---- RFC 8441: WebSocket over HTTP/2 (http2: true)
  {
    id: "8441/3/5",
    title: "a server that did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL gets no extended CONNECT (no HEADERS at all): the client leaves and upgrades over HTTP/1.1",
    run: async (x) => {
      const dialing = x.dial({ http2: true });
      const c = await h2Accept(x, false);
      for (;;) {
        const f = await h2Next(x, c);
        if (f === null) break;
        if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0) c.send(settings([], F.ACK));
        if (f.type === T.HEADERS) fail("HEADERS (a request) to a server that did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)");
        if (f.type === T.GOAWAY) break;
      }
      const h1 = await x.accept();
      const request = await h1.head(x.deadline, true);
      h1.send(answer(checkRequest(request, x)));
      const outcome = await dialing;
      if (!outcome.ok) fail(`the HTTP/1.1 fallback did not open: ${String((outcome.error as Error).message)}`);
    },
  },
  {
    id: "8441/4/5",
    title: "to a server that announced it, the client's extended CONNECT has :method CONNECT, :protocol websocket, :scheme, :path, :authority and sec-websocket-version 13, no Sec-WebSocket-Key and no connection fields; a 200 opens",
    run: async (x) => {
      const dialing = x.dial({ http2: true });
      const c = await h2Accept(x, true);
      const decoder = new HPACKDecoder();
      let fields: string[] | undefined;
      let stream = 0;
      while (fields === undefined) {
        const f = await h2Next(x, c);
        if (f === null) fail("the connection closed before the extended CONNECT");
        if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0) c.send(settings([], F.ACK));
        if (f.type === T.HEADERS) {
          if ((f.flags & F.END_HEADERS) === 0) fail("a CONTINUATION after the CONNECT's HEADERS (this driver reads one frame)");
          if ((f.flags & F.END_STREAM) !== 0) fail("END_STREAM on the extended CONNECT: the stream carries the WebSocket");
          let at = 0;
          let end = f.payload.length;
          if ((f.flags & F.PADDED) !== 0) {
            end -= f.payload[0]!;
            at = 1;
          }
          if ((f.flags & F.PRIORITY) !== 0) at += 5;
          fields = decoder.decode(f.payload.subarray(at, end));
          stream = f.stream;
        }
      }
      const get = (name: string) => {
        for (let i = 0; i + 1 < fields!.length; i += 2) if (fields![i] === name) return fields![i + 1];
        return undefined;
      };
      const url = new URL(x.url);
      const want: [string, string][] = [[":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "http"], [":path", url.pathname + url.search], [":authority", url.host], ["sec-websocket-version", "13"]];
      for (const [k, v] of want) if (get(k) !== v) fail(`${k} is ${JSON.stringify(get(k))}, expected ${JSON.stringify(v)} (RFC 8441 §4, §5): ${JSON.stringify(fields)}`);
      for (const k of ["sec-websocket-key", "connection", "upgrade"]) if (get(k) !== undefined) fail(`${k} in an extended CONNECT (RFC 8441 §5, RFC 9113 §8.2.2): ${JSON.stringify(fields)}`);
      c.send(h2frame(T.HEADERS, F.END_HEADERS, stream, block([[":status", "200"]])));
      const outcome = await dialing;
      if (!outcome.ok) fail(`the client refused the 200: ${String((outcome.error as Error).message)}`);
    },
  },
  // ---- RFC 7692: the client's checks of a permessage-deflate answer
  {
    id: "7692/5/1",
    title: "the client's offer is a valid permessage-deflate offer (client_max_window_bits without a value is allowed)",
    run: async (x) => {
      const dialing = x.dial();
      const c = await x.accept();
      const request = await c.head(x.deadline, true);
      c.send(answer(checkRequest(request, x)));
      await dialing;
      const offer = field(request, "sec-websocket-extensions");
      if (offer === undefined) return; // offering nothing is valid too
      for (const item of offer.split(",")) {
        const [name, ...params] = item.split(";").map((s) => s.trim());
        if (name !== "permessage-deflate") fail(`an unknown extension offered: ${name}`);
        const seen = new Set<string>();
        for (const p of params) {
          const [k, v] = p.split("=").map((s) => s.trim());
          if (seen.has(k!)) fail(`${k} twice in one offer (RFC 7692 §7)`);
          seen.add(k!);
          if (!["server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits"].includes(k!)) fail(`an unknown parameter ${k}`);
          if (k === "server_max_window_bits" && !/^(?:8|9|1[0-5])$/.test(v ?? "")) fail(`server_max_window_bits=${v} (RFC 7692 §7.1.2.1)`);
          if (k === "client_max_window_bits" && v !== undefined && !/^(?:8|9|1[0-5])$/.test(v)) fail(`client_max_window_bits=${v} (RFC 7692 §7.1.2.2)`);
        }
      }
    },
  },
  {
    id: "7692/5/2",
    title: "permessage-deflate in the answer although the client offered no extension: fails",
    run: refuses(ext("permessage-deflate"), "permessage-deflate was not offered", { perMessageDeflate: false }),
  },
  {
    id: "7692/7.1.2.2/1",
    title: "client_max_window_bits without a value in the answer: fails (a value is required there)",
    run: refuses(ext("permessage-deflate; client_max_window_bits"), "client_max_window_bits had no value"),
  },
  {
    id: "7692/7/1",
    title: "an unknown parameter in the answer: fails",
    run: refuses(ext("permessage-deflate; x_unknown"), "the answer had an unknown parameter"),
  },
  {
    id: "7692/7/2",
    title: "a parameter twice in the answer: fails",
    run: refuses(ext("permessage-deflate; server_no_context_takeover; server_no_context_takeover"), "a parameter came twice"),
  },
  {
    id: "7692/7/3",
    title: "server_max_window_bits=7 in the answer: fails",
    run: refuses(ext("permessage-deflate; server_max_window_bits=7"), "server_max_window_bits was 7"),
  },
  {
    id: "7692/7/4",
    title: "server_max_window_bits=16 in the answer: fails",
    run: refuses(ext("permessage-deflate; server_max_window_bits=16"), "server_max_window_bits was 16"),
  },
  {
    id: "7692/7/5",
    title: "client_no_context_takeover with a value in the answer: fails",
    run: refuses(ext("permessage-deflate; client_no_context_takeover=1"), "client_no_context_takeover had a value"),
  },
  {
    id: "7692/7/6",
    title: "permessage-deflate twice in the answer: fails",
    run: refuses(ext("permessage-deflate, permessage-deflate"), "the answer held two permessage-deflate"),
  },
  {
    id: "7692/7.1.2.1/1",
    title: "server_max_window_bits=10 answered to an offer of server_max_window_bits=9: fails (above the offer)",
    run: refuses(ext("permessage-deflate; server_max_window_bits=10"), "the server's window was above the offer", { perMessageDeflate: { serverMaxWindowBits: 9 } }),
  },
  {
    id: "7692/7.1.2.2/2",
    title: "client_max_window_bits=12 answered to an offer of client_max_window_bits=10: fails (above the offer)",
    run: refuses(ext("permessage-deflate; client_max_window_bits=12"), "the client's window was above the offer", { perMessageDeflate: { clientMaxWindowBits: 10 } }),
  },
  {
    id: "7692/7.1.1.1/1",
    title: "a valid answer (server_no_context_takeover, client_max_window_bits=10) opens; a compressed message (RSV1) is inflated, the client's RSV1 only on first frames",
    run: async (x) => {
      const { outcome, c } = await opened(x, ext("permessage-deflate; server_no_context_takeover; client_max_window_bits=10"));
      c.rules = { endpointIsClient: true, deflate: true };
      if (!outcome.ws.extensions.startsWith("permessage-deflate")) fail(`extensions is ${JSON.stringify(outcome.ws.extensions)}`);
      const deflater = new Deflater({ format: "raw", level: 6, windowBits: 15 });
      try {
        const packed = concatBytes(deflater.push(new TextEncoder().encode("squeezed squeezed squeezed"), "sync"));
        c.sendFrame({ opcode: 1, payload: packed.subarray(0, packed.length - 4), rsv: 4, masked: false });
      } finally {
        deflater.close();
      }
      const m = await nextMessage(x, outcome.ws);
      if (m !== "squeezed squeezed squeezed") fail(`expected the inflated message, got ${JSON.stringify(m)}`);
      outcome.ws.send("a reply ".repeat(20));
      const ev: FrameEvent = await c.nextData(x.deadline);
      if (ev.kind !== "frame" || ev.frame.opcode !== 1) fail(`expected the client's text, got ${showFrame(ev)}`);
    },
  },
  {
    id: "7692/6/1",
    title: "with permessage-deflate agreed, RSV1 on a Ping from the server: 1002",
    run: async (x) => {
      const { c } = await opened(x, ext("permessage-deflate"));
      c.rules = { endpointIsClient: true, deflate: true };
      c.sendFrame({ opcode: 9, payload: "x", rsv: 4, masked: false });
      await expectClientClose(x, c, [1002], "after a Ping with RSV1");
    },
  },
];
