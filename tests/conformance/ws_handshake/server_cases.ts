/**
 * WebSocket server conformance cases: the MUSTs RFC 6455 (§4.2 the
 * server's opening handshake, §5 framing, §7 closing, §8.1 UTF-8, §10.2
 * Origin) and RFC 7692 (permessage-deflate negotiation) put on a server,
 * each named by its RFC and section, played with raw bytes (driver.ts) on
 * a fresh connection.
 *
 * The server under test (runner.ts) echoes every message on any path,
 * speaks the subprotocols `chat.v2` and `chat` (preferring `chat.v2`),
 * accepts permessage-deflate, and refuses the Origin
 * `http://evil.example` (its Origin hook) with 403.
 *
 * Strictness: a refusal has the exact status (or the statuses the RFC
 * leaves open) and never a `101`; a connection the server must fail gets
 * a Close with the exact code (RFC 6455 §7.4.1) and is then closed; every
 * frame the server sends keeps the rules of driver.ts's `checkFrame`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { concatBytes } from "../../../core/bytes.ts";
import { Deflater, Inflater } from "../../../core/zlib.ts";
import { closeCode, closePayload, type Conn, fail, frame, field, fieldsNamed, hasToken, type RawHead, showFrame, showHead } from "./driver.ts";

/** What a server case runs with. */
export interface ServerCtx {
  /** A fresh connection to the server under test. */
  readonly connect: () => Promise<Conn>;
  /** Every wait of the case ends by then (performance.now() time). */
  readonly deadline: number;
  /** The server's port (for Host). */
  readonly port: number;
}

/** One server case. */
export interface ServerCase {
  /** "<rfc>/<section>/<n>", e.g. "6455/4.2.1/3". */
  readonly id: string;
  /** The requirement, in the RFC's words where short enough. */
  readonly title: string;
  readonly run: (x: ServerCtx) => Promise<void>;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept for `key`, by node:crypto (independent of ffinet). */
export function acceptFor(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** A fresh random Sec-WebSocket-Key. */
export function newKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
}

/** The subprotocols the server under test speaks. */
export const SERVER_PROTOCOLS: readonly string[] = ["chat.v2", "chat"];

/** The Origin the server under test refuses. */
export const EVIL_ORIGIN = "http://evil.example";

interface UpgradeSpec {
  method?: string;
  version?: string;
  key?: string | null;
  /** Field lines replacing a default one by name (null drops it), then extra lines. */
  set?: Readonly<Record<string, string | null>>;
  extra?: readonly string[];
}

/** An upgrade request's bytes: the default fields, changed by `spec`. */
export function upgradeRequest(port: number, spec: UpgradeSpec = {}): { bytes: string; key: string | null } {
  const key = spec.key === undefined ? newKey() : spec.key;
  const fields: [string, string | null][] = [
    ["Host", `127.0.0.1:${port}`],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", key],
    ["Sec-WebSocket-Version", "13"],
  ];
  for (const [name, value] of Object.entries(spec.set ?? {})) {
    const at = fields.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (at >= 0) fields[at] = [fields[at]![0], value];
    else fields.push([name, value]);
  }
  const lines = fields.filter(([, v]) => v !== null).map(([n, v]) => `${n}: ${v}`);
  lines.push(...(spec.extra ?? []));
  return { bytes: `${spec.method ?? "GET"} /chat ${spec.version ?? "HTTP/1.1"}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`, key };
}

/**
 * Checks a `101` (RFC 6455 §4.2.2 item 5): status 101, `Upgrade:
 * websocket`, `Connection: Upgrade` (tokens, case-insensitive), the right
 * Sec-WebSocket-Accept, a subprotocol only when one was offered and then
 * one of them, an extension only when offered.
 */
export function check101(h: RawHead, key: string, offered: { protocols?: readonly string[]; extensions?: boolean } = {}): void {
  if (h.status !== 101) fail(`expected 101, got ${showHead(h)}`);
  if (field(h, "content-length") !== undefined || field(h, "transfer-encoding") !== undefined) fail(`Content-Length or Transfer-Encoding on a 101 (RFC 9110 §8.6, RFC 9112 §6.1): ${showHead(h)}`);
  if (!hasToken(h, "upgrade", "websocket")) fail(`Upgrade does not name websocket (RFC 6455 §4.2.2): ${showHead(h)}`);
  if (!hasToken(h, "connection", "upgrade")) fail(`Connection does not hold Upgrade (RFC 6455 §4.2.2): ${showHead(h)}`);
  const accept = fieldsNamed(h, "sec-websocket-accept");
  if (accept.length !== 1 || accept[0] !== acceptFor(key)) fail(`Sec-WebSocket-Accept is not base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2): ${showHead(h)}`);
  const protocol = fieldsNamed(h, "sec-websocket-protocol");
  if (protocol.length > 0) {
    if (offered.protocols === undefined) fail(`a Sec-WebSocket-Protocol although none was offered (RFC 6455 §4.2.2): ${showHead(h)}`);
    if (protocol.length !== 1 || !offered.protocols.includes(protocol[0]!)) fail(`Sec-WebSocket-Protocol is not one of the offered ${offered.protocols.join(", ")} (RFC 6455 §4.2.2): ${showHead(h)}`);
  }
  if (field(h, "sec-websocket-extensions") !== undefined && offered.extensions !== true) {
    fail(`a Sec-WebSocket-Extensions although none was offered (RFC 6455 §9.1): ${showHead(h)}`);
  }
}

/** Sends the upgrade, reads and checks the `101`; the connection then speaks WebSocket. */
async function open(x: ServerCtx, spec: UpgradeSpec = {}, offered: { protocols?: readonly string[]; extensions?: boolean } = {}): Promise<{ c: Conn; head: RawHead }> {
  const c = await x.connect();
  const req = upgradeRequest(x.port, spec);
  c.send(req.bytes);
  const head = await c.head(x.deadline);
  check101(head, req.key!, offered);
  return { c, head };
}

/**
 * Sends a request and expects a refusal with one of `statuses` (never a
 * 101), keeping the rules of those statuses: a 426 names the protocol in
 * Upgrade, with Connection: upgrade (RFC 9110 §15.5.22, §7.8); a 405 has
 * Allow (RFC 9110 §15.5.6).
 */
async function refused(x: ServerCtx, spec: UpgradeSpec, statuses: readonly number[], extra?: (h: RawHead) => void): Promise<void> {
  const c = await x.connect();
  c.send(upgradeRequest(x.port, spec).bytes);
  const h = await c.head(x.deadline);
  if (!statuses.includes(h.status)) fail(`expected ${statuses.join(" or ")}, got ${showHead(h)}`);
  if (field(h, "sec-websocket-accept") !== undefined) fail(`a refusal with a Sec-WebSocket-Accept: ${showHead(h)}`);
  if (h.status === 426 && (!hasToken(h, "upgrade", "websocket") || !hasToken(h, "connection", "upgrade"))) {
    fail(`a 426 without Upgrade: websocket and Connection: upgrade (RFC 9110 §15.5.22: it MUST send Upgrade; §7.8): ${showHead(h)}`);
  }
  if (h.status === 405 && !(field(h, "allow") ?? "").split(",").some((m) => m.trim() === "GET")) fail(`a 405 without Allow naming GET (RFC 9110 §15.5.6): ${showHead(h)}`);
  extra?.(h);
}

/** Reads until the server's Close (Pings answered), which must carry one of `codes`; then the close handshake. */
async function expectClose(x: ServerCtx, c: Conn, codes: readonly (number | null)[], what: string): Promise<void> {
  const ev = await c.nextData(x.deadline);
  if (ev.kind !== "frame" || ev.frame.opcode !== 8) fail(`${what}: expected a Close with ${codes.map((k) => k ?? "no code").join(" or ")}, got ${showFrame(ev)}`);
  const code = closeCode(ev.frame);
  if (!codes.includes(code)) fail(`${what}: expected close code ${codes.map((k) => k ?? "none").join(" or ")}, got ${showFrame(ev)}`);
  if (!c.closeSent) c.sendFrame({ opcode: 8, payload: closePayload(code === null ? null : 1000) });
  await c.closed(x.deadline, "the closing handshake (RFC 6455 §7.1.1: the server closes the TCP connection)");
}

/** The server fails the connection with `code` (1002 unless said) after `frames`. */
function failsWith(code: number | readonly number[], build: () => Uint8Array[] | { spec: Parameters<Conn["sendFrame"]>[0][] }, what: string): (x: ServerCtx) => Promise<void> {
  return async (x) => {
    const { c } = await open(x);
    const built = build();
    if (Array.isArray(built)) c.send(...built);
    else for (const s of built.spec) c.sendFrame(s);
    await expectClose(x, c, typeof code === "number" ? [code] : code, what);
  };
}

/** The server echoes a text message: it is read back unchanged. */
async function expectEcho(x: ServerCtx, c: Conn, text: string, inflater?: Inflater): Promise<void> {
  let got: Uint8Array = new Uint8Array(0);
  let compressed = false;
  for (let first = true; ; first = false) {
    const ev = await c.nextData(x.deadline);
    if (ev.kind !== "frame" || (first ? ev.frame.opcode !== 1 : ev.frame.opcode !== 0)) fail(`expected the echo of ${JSON.stringify(text)}, got ${showFrame(ev)}`);
    if (first) compressed = (ev.frame.rsv & 4) !== 0;
    const next = new Uint8Array(got.length + ev.frame.payload.length);
    next.set(got);
    next.set(ev.frame.payload, got.length);
    got = next;
    if (ev.frame.fin) break;
  }
  if (compressed) {
    if (inflater === undefined) fail("a compressed echo without permessage-deflate");
    const parts = inflater.push(concatBytes([got, new Uint8Array([0, 0, 0xff, 0xff])]));
    got = concatBytes(parts);
  }
  const echoed = new TextDecoder().decode(got);
  if (echoed !== text) fail(`expected the echo ${JSON.stringify(text)}, got ${JSON.stringify(echoed)}`);
}

/** The permessage-deflate answer of a `101`, as [name, params] items (undefined when there is none). */
function deflateAnswer(h: RawHead): { params: Map<string, string | true> }[] | undefined {
  const value = field(h, "sec-websocket-extensions");
  if (value === undefined) return undefined;
  return value.split(",").map((item) => {
    const [name, ...params] = item.split(";").map((s) => s.trim());
    if (name !== "permessage-deflate") fail(`an extension that was not offered: ${name} (RFC 6455 §9.1)`);
    const map = new Map<string, string | true>();
    for (const p of params) {
      const eq = p.indexOf("=");
      const k = eq < 0 ? p : p.slice(0, eq).trim();
      const v = eq < 0 ? true : p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
      if (map.has(k)) fail(`permessage-deflate's parameter ${k} twice in the answer (RFC 7692 §7)`);
      map.set(k, v);
    }
    return { params: map };
  });
}

/** Checks an accepted permessage-deflate answer against an offer's rules (RFC 7692 §7.1). */
function checkDeflateAnswer(h: RawHead, offer: { clientMaxWindowBits?: boolean | number; serverMaxWindowBits?: number; serverNoContextTakeover?: boolean }): Map<string, string | true> {
  const answer = deflateAnswer(h);
  if (answer === undefined) fail(`permessage-deflate was declined: ${showHead(h)}`);
  if (answer.length !== 1) fail(`more than one permessage-deflate in the answer (RFC 7692 §5): ${showHead(h)}`);
  const p = answer[0]!.params;
  for (const [k, v] of p) {
    if (!["server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits"].includes(k)) fail(`an unknown parameter ${k} in the answer (RFC 7692 §7)`);
    if (k.endsWith("_no_context_takeover") && v !== true) fail(`${k} with a value (RFC 7692 §7.1.1)`);
    if (k.endsWith("_max_window_bits") && (v === true || !/^(?:8|9|1[0-5])$/.test(v))) fail(`${k} without a value of 8 to 15 in the answer (RFC 7692 §7.1.2)`);
  }
  const cmwb = p.get("client_max_window_bits");
  if (cmwb !== undefined) {
    if (offer.clientMaxWindowBits === undefined || offer.clientMaxWindowBits === false) fail(`client_max_window_bits in the answer to an offer without it (RFC 7692 §7.1.2.2): ${showHead(h)}`);
    if (typeof offer.clientMaxWindowBits === "number" && Number(cmwb) > offer.clientMaxWindowBits) fail(`client_max_window_bits above the offer's (RFC 7692 §7.1.2.2): ${showHead(h)}`);
  }
  if (offer.serverMaxWindowBits !== undefined) {
    const smwb = p.get("server_max_window_bits");
    if (smwb === undefined || Number(smwb) > offer.serverMaxWindowBits) fail(`server_max_window_bits=${offer.serverMaxWindowBits} accepted without answering it with a value at most that (RFC 7692 §7.1.2.1): ${showHead(h)}`);
  }
  if (offer.serverNoContextTakeover === true && !p.has("server_no_context_takeover")) fail(`server_no_context_takeover accepted without answering it (RFC 7692 §7.1.1.1): ${showHead(h)}`);
  return p;
}

/** An offer the server must decline (RFC 7692 §7): the `101` has no permessage-deflate (or, with a fallback offer, the fallback's). */
function declines(extensions: string): (x: ServerCtx) => Promise<void> {
  return async (x) => {
    const { c, head } = await open(x, { set: { "Sec-WebSocket-Extensions": extensions } }, { extensions: true });
    if (deflateAnswer(head) !== undefined) fail(`the server accepted an offer it must decline (RFC 7692 §7): ${showHead(head)}`);
    c.sendFrame({ opcode: 1, payload: "plain" });
    await expectEcho(x, c, "plain");
  };
}

const CODES_VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const CODES_INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const BAD_UTF8 = new Uint8Array([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64]);

/** The server cases, in RFC order. */
export const SERVER_CASES: readonly ServerCase[] = [
  // ---- RFC 6455 §4.2.1: reading the client's opening handshake
  {
    id: "6455/4.2.1/1",
    title: "a valid opening handshake is answered 101 with Upgrade, Connection and the Sec-WebSocket-Accept of the key, and the connection speaks WebSocket",
    run: async (x) => {
      const { c, head } = await open(x);
      if (field(head, "sec-websocket-extensions") !== undefined) fail("an extension in the answer to no offer");
      c.sendFrame({ opcode: 1, payload: "hello" });
      await expectEcho(x, c, "hello");
      c.sendFrame({ opcode: 8, payload: closePayload(1000) });
      await expectClose(x, c, [1000], "after our Close 1000");
    },
  },
  {
    id: "6455/4.2.1/2",
    title: "a method other than GET is no opening handshake: refused (400 or 405), no 101",
    run: (x) => refused(x, { method: "POST", extra: ["Content-Length: 0"] }, [400, 405]),
  },
  {
    id: "6455/4.2.1/3",
    title: "an HTTP/1.0 request is no opening handshake (HTTP/1.1 or higher): refused, no 101",
    run: (x) => refused(x, { version: "HTTP/1.0" }, [400, 426, 505]),
  },
  {
    id: "6455/4.2.1/4",
    title: "a handshake without Host is refused with 400",
    run: (x) => refused(x, { set: { Host: null } }, [400]),
  },
  {
    id: "6455/4.2.1/5",
    title: "a handshake without Upgrade is refused (400 or 426), no 101",
    run: (x) => refused(x, { set: { Upgrade: null } }, [400, 426]),
  },
  {
    id: "6455/4.2.1/6",
    title: "Upgrade's websocket is case-insensitive (Upgrade: WebSocket is a handshake)",
    run: async (x) => void (await open(x, { set: { Upgrade: "WebSocket" } })).c,
  },
  {
    id: "6455/4.2.1/20",
    title: "an Upgrade listing other protocols too (h2c, WebSocket): the 101's Upgrade names websocket alone (RFC 9110 §7.8: the protocol switched to; clients want exactly websocket)",
    run: async (x) => {
      const { head } = await open(x, { set: { Upgrade: "h2c, WebSocket" } });
      const upgrade = fieldsNamed(head, "upgrade");
      if (upgrade.length !== 1 || upgrade[0]!.toLowerCase() !== "websocket") fail(`the 101's Upgrade is ${JSON.stringify(upgrade)}, not websocket alone: ${showHead(head)}`);
    },
  },
  {
    id: "6455/4.2.1/7",
    title: "an Upgrade that does not name websocket is refused (400 or 426), no 101",
    run: (x) => refused(x, { set: { Upgrade: "h2c" } }, [400, 426]),
  },
  {
    id: "6455/4.2.1/8",
    title: "a handshake without Connection is refused (400 or 426), no 101",
    run: (x) => refused(x, { set: { Connection: null } }, [400, 426]),
  },
  {
    id: "6455/4.2.1/9",
    title: "Connection is a list: keep-alive, Upgrade is a handshake",
    run: async (x) => void (await open(x, { set: { Connection: "keep-alive, Upgrade" } })).c,
  },
  {
    id: "6455/4.2.1/10",
    title: "Connection's Upgrade token is case-insensitive (Connection: UPGRADE is a handshake)",
    run: async (x) => void (await open(x, { set: { Connection: "UPGRADE" } })).c,
  },
  {
    id: "6455/4.2.1/11",
    title: "a Connection without the Upgrade token is refused (400 or 426), no 101",
    run: (x) => refused(x, { set: { Connection: "keep-alive, upgraded" } }, [400, 426]),
  },
  {
    id: "6455/4.2.1/18",
    title: "Connection in two field lines (keep-alive, then Upgrade) is one list: a handshake",
    run: async (x) => void (await open(x, { set: { Connection: "keep-alive" }, extra: ["Connection: Upgrade"] })).c,
  },
  {
    id: "6455/4.2.1/19",
    title: "a frame written right behind the handshake, in the same write, is the first message",
    run: async (x) => {
      const c = await x.connect();
      const req = upgradeRequest(x.port);
      c.send(req.bytes, frame({ opcode: 1, payload: "early" }));
      check101(await c.head(x.deadline), req.key!);
      await expectEcho(x, c, "early");
    },
  },
  {
    id: "6455/4.2.1/12",
    title: "a handshake without Sec-WebSocket-Key is refused with 400",
    run: (x) => refused(x, { key: null }, [400]),
  },
  {
    id: "6455/4.2.1/13",
    title: "a Sec-WebSocket-Key that is not base64 is refused with 400",
    run: (x) => refused(x, { key: "not a base64 key!!!!!!!!" }, [400]),
  },
  {
    id: "6455/4.2.1/14",
    title: "a Sec-WebSocket-Key of 15 octets (not 16) is refused with 400",
    run: (x) => refused(x, { key: Buffer.from(new Uint8Array(15).fill(7)).toString("base64") }, [400]),
  },
  {
    id: "6455/4.2.1/15",
    title: "a Sec-WebSocket-Key of 17 octets (not 16) is refused with 400",
    run: (x) => refused(x, { key: Buffer.from(new Uint8Array(17).fill(7)).toString("base64") }, [400]),
  },
  {
    id: "6455/4.2.1/16",
    title: "two Sec-WebSocket-Key fields (RFC 6455 §11.3.1: it MUST NOT appear more than once) are refused with 400",
    run: (x) => refused(x, { extra: [`Sec-WebSocket-Key: ${newKey()}`] }, [400]),
  },
  {
    id: "6455/4.2.1/17",
    title: "a handshake without Sec-WebSocket-Version is refused (400 or 426), no 101",
    run: (x) => refused(x, { set: { "Sec-WebSocket-Version": null } }, [400, 426]),
  },
  {
    id: "6455/4.4/1",
    title: "Sec-WebSocket-Version 7: 426 Upgrade Required (RFC 6455 §4.4's status) with Sec-WebSocket-Version naming 13",
    run: (x) =>
      refused(x, { set: { "Sec-WebSocket-Version": "7" } }, [426], (h) => {
        const v = field(h, "sec-websocket-version");
        if (v === undefined || !v.split(",").some((s) => s.trim() === "13")) fail(`no Sec-WebSocket-Version naming 13 in the refusal (RFC 6455 §4.2.2, §4.4): ${showHead(h)}`);
      }),
  },
  {
    id: "6455/4.4/2",
    title: "Sec-WebSocket-Version 14: 426 Upgrade Required (RFC 6455 §4.4's status) with Sec-WebSocket-Version naming 13",
    run: (x) =>
      refused(x, { set: { "Sec-WebSocket-Version": "14" } }, [426], (h) => {
        const v = field(h, "sec-websocket-version");
        if (v === undefined || !v.split(",").some((s) => s.trim() === "13")) fail(`no Sec-WebSocket-Version naming 13 in the refusal (RFC 6455 §4.2.2, §4.4): ${showHead(h)}`);
      }),
  },
  // ---- §4.2.2: the server's answer: subprotocols and extensions
  {
    id: "6455/4.2.2/1",
    title: "a subprotocol offered and spoken is answered with Sec-WebSocket-Protocol naming it",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Protocol": "chat" } }, { protocols: ["chat"] });
      if (field(head, "sec-websocket-protocol") !== "chat") fail(`expected Sec-WebSocket-Protocol: chat, got ${showHead(head)}`);
    },
  },
  {
    id: "6455/4.2.2/2",
    title: "of several subprotocols offered, exactly one the client offered is chosen",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Protocol": "foo, chat, chat.v2" } }, { protocols: ["foo", "chat", "chat.v2"] });
      const p = field(head, "sec-websocket-protocol");
      if (p === undefined || !SERVER_PROTOCOLS.includes(p)) fail(`expected one of the spoken chat, chat.v2, got ${showHead(head)}`);
    },
  },
  {
    id: "6455/4.2.2/3",
    title: "subprotocols offered but none spoken: no Sec-WebSocket-Protocol in the 101 (MUST NOT send one)",
    run: async (x) => void (await open(x, { set: { "Sec-WebSocket-Protocol": "foo, bar" } }, { protocols: ["foo", "bar"] })),
  },
  {
    id: "6455/4.2.2/4",
    title: "Sec-WebSocket-Protocol in two field lines is one list: chat from the second line is chosen",
    run: async (x) => {
      const { head } = await open(x, { extra: ["Sec-WebSocket-Protocol: foo", "Sec-WebSocket-Protocol: chat"] }, { protocols: ["foo", "chat"] });
      if (field(head, "sec-websocket-protocol") !== "chat") fail(`expected Sec-WebSocket-Protocol: chat, got ${showHead(head)}`);
    },
  },
  {
    id: "6455/4.2.2/5",
    title: "no subprotocol offered: no Sec-WebSocket-Protocol in the 101",
    run: async (x) => void (await open(x)),
  },
  {
    id: "6455/9.1/1",
    title: "an unknown extension offered is not accepted: no Sec-WebSocket-Extensions naming it",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "x-unknown-extension; p=1" } }, { extensions: true });
      const e = field(head, "sec-websocket-extensions");
      if (e !== undefined) fail(`an extension in the answer to an offer of x-unknown-extension only: ${showHead(head)}`);
    },
  },
  // ---- §10.2: Origin
  {
    id: "6455/10.2/1",
    title: "an Origin the server does not accept is refused with 403 (the server's Origin hook), no 101",
    run: (x) => refused(x, { set: { Origin: EVIL_ORIGIN } }, [403]),
  },
  {
    id: "6455/10.2/2",
    title: "an Origin the server accepts gets the 101",
    run: async (x) => void (await open(x, { set: { Origin: "http://good.example" } })),
  },
  // ---- §5: framing
  {
    id: "6455/5.1/1",
    title: "an unmasked frame from the client: the server fails the connection with 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 1, payload: "unmasked", masked: false }] }), "after an unmasked frame"),
  },
  {
    id: "6455/5.2/1",
    title: "RSV1 set without an extension that defines it: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 1, payload: "rsv1", rsv: 4 }] }), "after a frame with RSV1"),
  },
  {
    id: "6455/5.2/2",
    title: "RSV2 set: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 1, payload: "rsv2", rsv: 2 }] }), "after a frame with RSV2"),
  },
  {
    id: "6455/5.2/3",
    title: "RSV3 set: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 1, payload: "rsv3", rsv: 1 }] }), "after a frame with RSV3"),
  },
  {
    id: "6455/5.2/4",
    title: "a reserved non-control opcode (3): 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 3, payload: "x" }] }), "after opcode 3"),
  },
  {
    id: "6455/5.2/5",
    title: "a reserved control opcode (11): 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 11, payload: "x" }] }), "after opcode 11"),
  },
  {
    id: "6455/5.2/6",
    title: "a 64-bit payload length with its most significant bit set: the connection fails (1002, or 1009 as too big)",
    run: failsWith([1002, 1009], () => ({ spec: [{ opcode: 2, payload: new Uint8Array(3), lengthForm: 64, lengthHighBit: true }] }), "after a length with the high bit set"),
  },
  {
    id: "6455/5.4/1",
    title: "a continuation frame with no message begun: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 0, payload: "orphan" }] }), "after an orphan continuation"),
  },
  {
    id: "6455/5.4/2",
    title: "a new text frame inside a fragmented message: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 1, payload: "part", fin: false }, { opcode: 1, payload: "again" }] }), "after a new message inside a fragmented one"),
  },
  {
    id: "6455/5.4/3",
    title: "a Ping between the fragments of a message is answered and the message still arrives whole",
    run: async (x) => {
      const { c } = await open(x);
      c.sendFrame({ opcode: 1, payload: "frag", fin: false });
      c.sendFrame({ opcode: 9, payload: "mid" });
      c.sendFrame({ opcode: 0, payload: "mented" });
      const ev = await c.next(x.deadline);
      if (ev.kind !== "frame" || ev.frame.opcode !== 10 || new TextDecoder().decode(ev.frame.payload) !== "mid") fail(`expected Pong "mid", got ${showFrame(ev)}`);
      await expectEcho(x, c, "fragmented");
    },
  },
  {
    id: "6455/5.5/1",
    title: "a control frame with a payload over 125 octets: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 9, payload: new Uint8Array(126) }] }), "after a Ping of 126 octets"),
  },
  {
    id: "6455/5.5/2",
    title: "a fragmented control frame (Ping without FIN): 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 9, payload: "a", fin: false }] }), "after a fragmented Ping"),
  },
  {
    id: "6455/5.5.2/1",
    title: "a Ping is answered by a Pong with the same application data",
    run: async (x) => {
      const { c } = await open(x);
      const data = new Uint8Array(125).map((_, i) => (i * 7) & 255);
      c.sendFrame({ opcode: 9, payload: data });
      const ev = await c.next(x.deadline);
      if (ev.kind !== "frame" || ev.frame.opcode !== 10 || Buffer.compare(ev.frame.payload, data) !== 0) fail(`expected the Pong of the 125-octet Ping, got ${showFrame(ev)}`);
    },
  },
  {
    id: "6455/5.5.1/1",
    title: "a Close is answered with a Close (the same code) and the server closes the TCP connection",
    run: async (x) => {
      const { c } = await open(x);
      c.sendFrame({ opcode: 8, payload: closePayload(1000, "bye") });
      await expectClose(x, c, [1000], "after our Close 1000");
    },
  },
  {
    id: "6455/5.5.1/2",
    title: "a Close without a code is answered with a Close without a code or with 1000 (never 1005 on the wire)",
    run: async (x) => {
      const { c } = await open(x);
      c.sendFrame({ opcode: 8 });
      await expectClose(x, c, [null, 1000], "after our empty Close");
    },
  },
  {
    id: "6455/5.5.1/3",
    title: "a Close payload of one octet: 1002",
    run: failsWith(1002, () => ({ spec: [{ opcode: 8, payload: new Uint8Array([3]) }] }), "after a one-octet Close"),
  },
  {
    id: "6455/5.5.1/4",
    title: "a close reason that is not UTF-8: the connection fails (1007, or 1002)",
    run: failsWith([1007, 1002], () => ({ spec: [{ opcode: 8, payload: closePayload(1000, BAD_UTF8) }] }), "after a Close with a bad reason"),
  },
  {
    id: "6455/5.5.1/5",
    title: "a text frame after the client's Close is not processed: the server's answer is its Close, no echo",
    run: async (x) => {
      const { c } = await open(x);
      c.send(frame({ opcode: 8, payload: closePayload(1000) }), frame({ opcode: 1, payload: "after the close" }));
      c.closeSent = true;
      await expectClose(x, c, [1000], "after our Close and a text frame");
    },
  },
  ...CODES_VALID.map((code, i): ServerCase => ({
    id: `6455/7.4.1/${i + 1}`,
    title: `a Close with the valid code ${code} is answered with a Close (code ${code} or 1000)`,
    run: async (x) => {
      const { c } = await open(x);
      c.sendFrame({ opcode: 8, payload: closePayload(code) });
      await expectClose(x, c, [code, 1000], `after our Close ${code}`);
    },
  })),
  ...CODES_INVALID.map((code, i): ServerCase => ({
    id: `6455/7.4.2/${i + 1}`,
    title: `a Close with the code ${code}, which must not be sent (reserved, unassigned, or 1005/1006/1015): 1002`,
    run: failsWith(1002, () => ({ spec: [{ opcode: 8, payload: closePayload(code) }] }), `after a Close ${code}`),
  })),
  {
    id: "6455/8.1/1",
    title: "a text message that is not UTF-8: 1007",
    run: failsWith(1007, () => ({ spec: [{ opcode: 1, payload: BAD_UTF8 }] }), "after invalid UTF-8"),
  },
  {
    id: "6455/8.1/2",
    title: "a text message whose UTF-8 is cut at the end of its last fragment: 1007",
    run: failsWith(1007, () => ({ spec: [{ opcode: 1, payload: "ok", fin: false }, { opcode: 0, payload: new Uint8Array([0xe2, 0x82]) }] }), "after a cut UTF-8 sequence"),
  },
  // ---- RFC 7692: permessage-deflate negotiation
  {
    id: "7692/5/1",
    title: "permessage-deflate offered without parameters: accepted with valid parameters only, no client_max_window_bits (not offered)",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate" } }, { extensions: true });
      checkDeflateAnswer(head, {});
    },
  },
  {
    id: "7692/7.1.2.2/1",
    title: "client_max_window_bits without a value in the offer: accepted (its answer, if any, with a value of 8 to 15)",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" } }, { extensions: true });
      checkDeflateAnswer(head, { clientMaxWindowBits: true });
    },
  },
  {
    id: "7692/7.1.2.2/2",
    title: "client_max_window_bits=10 offered: an answer's client_max_window_bits is at most 10",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits=10" } }, { extensions: true });
      checkDeflateAnswer(head, { clientMaxWindowBits: 10 });
    },
  },
  {
    id: "7692/7.1.1.1/1",
    title: "server_no_context_takeover offered and accepted: the answer holds it",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; server_no_context_takeover" } }, { extensions: true });
      checkDeflateAnswer(head, { serverNoContextTakeover: true });
    },
  },
  {
    id: "7692/7.1.2.1/1",
    title: "server_max_window_bits=10 offered and accepted: the answer holds server_max_window_bits at most 10",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; server_max_window_bits=10" } }, { extensions: true });
      checkDeflateAnswer(head, { serverMaxWindowBits: 10 });
    },
  },
  {
    id: "7692/7/1",
    title: "an offer with an unknown parameter is declined (101 without permessage-deflate)",
    run: declines("permessage-deflate; x_unknown=1"),
  },
  {
    id: "7692/7/2",
    title: "an offer with a parameter twice is declined (101 without permessage-deflate)",
    run: declines("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
  },
  {
    id: "7692/7/3",
    title: "an offer with server_max_window_bits=7 (below 8) is declined",
    run: declines("permessage-deflate; server_max_window_bits=7"),
  },
  {
    id: "7692/7/4",
    title: "an offer with server_max_window_bits=16 (above 15) is declined",
    run: declines("permessage-deflate; server_max_window_bits=16"),
  },
  {
    id: "7692/7/5",
    title: "an offer with server_max_window_bits=09 (a leading zero: not the ABNF) is declined",
    run: declines("permessage-deflate; server_max_window_bits=09"),
  },
  {
    id: "7692/7/6",
    title: "an offer with server_max_window_bits without a value is declined",
    run: declines("permessage-deflate; server_max_window_bits"),
  },
  {
    id: "7692/7/7",
    title: "an offer with client_no_context_takeover=1 (a value where none is allowed) is declined",
    run: declines("permessage-deflate; client_no_context_takeover=1"),
  },
  {
    id: "7692/7/8",
    title: "a declined offer followed by a valid one: the valid one is accepted (no parameter of the first in the answer)",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; x_unknown, permessage-deflate; server_no_context_takeover" } }, { extensions: true });
      checkDeflateAnswer(head, { serverNoContextTakeover: true });
    },
  },
  {
    id: "7692/7/9",
    title: "a duplicated parameter in the first offer, a valid second offer: the second is accepted",
    run: async (x) => {
      const { head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits; client_max_window_bits, permessage-deflate" } }, { extensions: true });
      checkDeflateAnswer(head, {});
    },
  },
  {
    id: "7692/6/1",
    title: "with permessage-deflate agreed, a compressed text message (RSV1) is inflated and echoed",
    run: async (x) => {
      const { c, head } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate; server_no_context_takeover; client_no_context_takeover" } }, { extensions: true });
      const p = checkDeflateAnswer(head, { serverNoContextTakeover: true });
      c.rules = { endpointIsClient: false, deflate: true };
      const deflater = new Deflater({ format: "raw", level: 6, windowBits: 15 });
      const inflater = new Inflater({ format: "raw", windowBits: Number(p.get("server_max_window_bits") ?? 15) < 9 ? 9 : Number(p.get("server_max_window_bits") ?? 15), maxOutputBytes: 1 << 20 });
      try {
        const packed = concatBytes(deflater.push(new TextEncoder().encode("compressed hello, compressed hello"), "sync"));
        c.sendFrame({ opcode: 1, payload: packed.subarray(0, packed.length - 4), rsv: 4 });
        await expectEcho(x, c, "compressed hello, compressed hello", inflater);
      } finally {
        deflater.close();
        inflater.close();
      }
    },
  },
  {
    id: "7692/6/2",
    title: "with permessage-deflate agreed, RSV1 on a control frame (Ping): 1002",
    run: async (x) => {
      const { c } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate" } }, { extensions: true });
      c.rules = { endpointIsClient: false, deflate: true };
      c.sendFrame({ opcode: 9, payload: "x", rsv: 4 });
      await expectClose(x, c, [1002], "after a Ping with RSV1");
    },
  },
  {
    id: "7692/6/3",
    title: "with permessage-deflate agreed, RSV1 on a continuation frame: 1002",
    run: async (x) => {
      const { c } = await open(x, { set: { "Sec-WebSocket-Extensions": "permessage-deflate" } }, { extensions: true });
      c.rules = { endpointIsClient: false, deflate: true };
      c.sendFrame({ opcode: 1, payload: "plain ", fin: false });
      c.sendFrame({ opcode: 0, payload: "text", rsv: 4 });
      await expectClose(x, c, [1002], "after a continuation with RSV1");
    },
  },
];
