/**
 * The raw-socket side of the WebSocket handshake and framing conformance
 * cases (cases.ts): a loopback connection (node:net, the runtime's own
 * networking, independent of ffinet) that writes whatever bytes a case
 * builds, well formed or not, and reads what the endpoint under test sends
 * strictly: an HTTP head (status line or request line, then field lines
 * ending in CRLF), then WebSocket frames.
 *
 * Every frame the endpoint sends is checked against the rules every
 * endpoint keeps (see {@link checkFrame}): masked exactly when the
 * endpoint is a client (RFC 6455 §5.1, §5.3), the length in its minimal
 * form (§5.2), no reserved bits without an extension that defines them
 * (§5.2), control frames final and at most 125 octets (§5.5), a Close
 * payload of 0 or 2+ octets whose code may be sent and whose reason is
 * UTF-8 (§5.5.1, §7.4: 1005, 1006 and 1015 never on the wire), and no
 * frame after the endpoint's own Close (§5.5.1). A case fails on any of
 * them whatever it looks at itself.
 *
 * Every wait is bounded by the case's deadline (an endpoint that says
 * nothing fails the case, it never hangs the run).
 *
 * @module
 */
import net from "node:net";

/** A case's expectation that did not hold. */
export class CaseFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaseFailure";
  }
}

/** Fails the case. */
export function fail(message: string): never {
  throw new CaseFailure(message);
}

/** An HTTP head as read: the first line and the field lines in order. */
export interface RawHead {
  /** The status line (a response) or the request line (a request). */
  readonly line: string;
  /** The status code of a response (0 for a request). */
  readonly status: number;
  /** Field lines in order, names as sent. */
  readonly fields: readonly (readonly [string, string])[];
}

/** Every value of a field (case-insensitive name). */
export function fieldsNamed(h: RawHead, name: string): string[] {
  const n = name.toLowerCase();
  return h.fields.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

/** The field's values joined with ", " (undefined when absent). */
export function field(h: RawHead, name: string): string | undefined {
  const all = fieldsNamed(h, name);
  return all.length === 0 ? undefined : all.join(", ");
}

/** Whether a field's comma-separated list holds `token` (case-insensitive). */
export function hasToken(h: RawHead, name: string, token: string): boolean {
  return fieldsNamed(h, name).some((v) => v.split(",").some((t) => t.trim().toLowerCase() === token));
}

/** The head for failure messages. */
export function showHead(h: RawHead): string {
  return `${h.line} | ${h.fields.map(([k, v]) => `${k}: ${v}`).join(" | ")}`;
}

/** One WebSocket frame as read. */
export interface WsFrame {
  readonly fin: boolean;
  /** RSV1..RSV3 as the 3-bit number (RSV1 = 4). */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** The payload, unmasked. */
  readonly payload: Uint8Array;
  /** The masking key of a masked frame. */
  readonly maskKey?: Uint8Array;
}

/** What a read gave: a frame, the end of the connection, or nothing before the deadline. */
export type FrameEvent = { kind: "frame"; frame: WsFrame } | { kind: "closed" } | { kind: "timeout" };

/** A frame's text for failure messages. */
export function showFrame(ev: FrameEvent): string {
  if (ev.kind !== "frame") return ev.kind === "closed" ? "the connection closed" : "nothing (timed out)";
  const f = ev.frame;
  const names: Record<number, string> = { 0: "Continuation", 1: "Text", 2: "Binary", 8: "Close", 9: "Ping", 10: "Pong" };
  let what = `${names[f.opcode] ?? `opcode ${f.opcode}`}(${f.payload.length} octets${f.fin ? "" : ", not final"}${f.rsv ? `, rsv ${f.rsv}` : ""}${f.masked ? ", masked" : ""})`;
  if (f.opcode === 8 && f.payload.length >= 2) what += ` code ${closeCode(f)}`;
  else if (f.opcode !== 2 && f.payload.length <= 40) what += ` ${JSON.stringify(latin1(f.payload))}`;
  return what;
}

/** The code of a Close frame (null when it has none). */
export function closeCode(f: WsFrame): number | null {
  return f.payload.length >= 2 ? (f.payload[0]! << 8) | f.payload[1]! : null;
}

/**
 * Close codes an endpoint may send (RFC 6455 §7.4.1, §7.4.2 and the IANA
 * registry): 1000–1003, 1007–1014, 3000–4999. 1004 is reserved, 1005, 1006
 * and 1015 are never sent, 1016–2999 are unassigned.
 */
export function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

let seed = 0x2545f491;
/** Masking keys for the cases: varied and reproducible. */
export function maskKey(): Uint8Array {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
  return new Uint8Array([seed >>> 24, (seed >>> 16) & 255, (seed >>> 8) & 255, seed & 255]);
}

/** How {@link frame} writes a frame. */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** Default true. */
  readonly fin?: boolean;
  /** RSV bits as a 3-bit number (RSV1 = 4); default 0. */
  readonly rsv?: number;
  /** Mask with a fresh key (a client's frames); default true. */
  readonly masked?: boolean;
  /** Write the length in this form even when a shorter one fits (7, 16 or 64 bits). */
  readonly lengthForm?: 7 | 16 | 64;
  /** Set the most significant bit of a 64-bit length (§5.2: it MUST be 0). */
  readonly lengthHighBit?: boolean;
}

/** One frame exactly as described (also invalid ones). */
export function frame(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === "string" ? new TextEncoder().encode(spec.payload) : spec.payload ?? new Uint8Array(0);
  const masked = spec.masked ?? true;
  const len = payload.length;
  const form = spec.lengthForm ?? (len < 126 ? 7 : len < 65536 ? 16 : 64);
  const ext = form === 7 ? 0 : form === 16 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (masked ? 4 : 0) + len);
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0xf);
  out[1] = (masked ? 0x80 : 0) | (form === 7 ? len : form === 16 ? 126 : 127);
  const dv = new DataView(out.buffer);
  if (ext === 2) dv.setUint16(2, len);
  if (ext === 8) dv.setBigUint64(2, BigInt(len) | (spec.lengthHighBit ? 1n << 63n : 0n));
  const at = 2 + ext + (masked ? 4 : 0);
  if (!masked) {
    out.set(payload, at);
    return out;
  }
  const key = maskKey();
  out.set(key, 2 + ext);
  for (let i = 0; i < len; i++) out[at + i] = payload[i]! ^ key[i & 3]!;
  return out;
}

/** A Close frame's payload: the code (when not null) and the reason. */
export function closePayload(code: number | null, reason: Uint8Array | string = ""): Uint8Array {
  if (code === null) return new Uint8Array(0);
  const r = typeof reason === "string" ? new TextEncoder().encode(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 255;
  out.set(r, 2);
  return out;
}

/** How the other endpoint's frames must look. */
export interface FrameRules {
  /** The endpoint under test is a client: its frames are masked; a server's are not. */
  readonly endpointIsClient: boolean;
  /** permessage-deflate was agreed: RSV1 is allowed on the first frame of a data message. */
  deflate?: boolean;
}

/** A socket, the bytes the peer sent and not yet read, and whether it closed. */
export class Conn {
  readonly #sock: net.Socket;
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;
  #wake: (() => void) | undefined;
  /** What the peer sent (heads and frames, described), for failure details. */
  readonly seen: string[] = [];
  /** The rules the endpoint's frames are held to (set once the head is read). */
  rules: FrameRules = { endpointIsClient: false };
  /** The endpoint sent a Close. */
  closeReceived: WsFrame | undefined;
  /** A Close was written to the endpoint. */
  closeSent = false;
  #inMessage = false;

  constructor(sock: net.Socket) {
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.on("data", (d: Uint8Array) => {
      const next = new Uint8Array(this.#buf.length + d.length);
      next.set(this.#buf);
      next.set(d, this.#buf.length);
      this.#buf = next;
      this.#wake?.();
    });
    const end = () => {
      this.#closed = true;
      this.#wake?.();
    };
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", end);
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number, deadline: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CaseFailure("could not connect in time")), Math.max(1, deadline - performance.now()));
      const sock = net.connect({ port, host: "127.0.0.1" }, () => {
        clearTimeout(timer);
        resolve(new Conn(sock));
      });
      sock.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Writes bytes (a string is latin1: every code unit one octet). */
  send(...parts: (string | Uint8Array)[]): void {
    for (const p of parts) {
      if (this.#closed || this.#sock.destroyed) return;
      this.#sock.write(typeof p === "string" ? fromLatin1(p) : p);
    }
  }

  /** Writes one frame (see {@link frame}); notes a Close. */
  sendFrame(spec: FrameSpec): void {
    if (spec.opcode === 8) this.closeSent = true;
    this.send(frame(spec));
  }

  /** Half-closes the sending side. */
  end(): void {
    this.#sock.end();
  }

  /** Drops the connection. */
  close(): void {
    this.#sock.destroy();
  }

  /** Whether the peer has closed the connection. */
  get isClosed(): boolean {
    return this.#closed && this.#buf.length === 0;
  }

  async #more(deadline: number): Promise<boolean> {
    if (this.#closed) return false;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const before = this.#buf.length;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
    return this.#buf.length > before || this.#closed;
  }

  /**
   * Reads an HTTP head (a response's, or with `request` a request's): a
   * first line and field lines, each ending in CRLF, up to the empty line.
   */
  async head(deadline: number, request = false): Promise<RawHead> {
    let end = -1;
    for (;;) {
      end = findCRLFCRLF(this.#buf);
      if (end >= 0) break;
      if (!(await this.#more(deadline))) {
        fail(`waiting for ${request ? "the request" : "the response"} head: ${this.#closed ? "the connection closed" : "nothing (timed out)"}${this.#buf.length > 0 ? ` after ${JSON.stringify(latin1(this.#buf).slice(0, 160))}` : ""}`);
      }
    }
    const text = latin1(this.#buf.subarray(0, end));
    this.#buf = this.#buf.subarray(end + 4);
    this.seen.push(text);
    const lines = text.split("\r\n");
    for (const l of lines) if (l.includes("\n") || l.includes("\r")) fail(`a head line ending in a bare LF or CR: ${JSON.stringify(l)}`);
    const first = lines[0]!;
    let status = 0;
    if (!request) {
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(first + " ");
      if (m === null) fail(`not a status line: ${JSON.stringify(first)}`);
      status = Number(m[1]);
    }
    const fields: [string, string][] = [];
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(":");
      if (colon <= 0 || /[\s]/.test(l.slice(0, colon))) fail(`a field line without a name and colon: ${JSON.stringify(l)}`);
      fields.push([l.slice(0, colon), l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")]);
    }
    return { line: first, status, fields };
  }

  /** The next `n` octets as they come (HTTP/2 frames), or null when the connection closes or the deadline passes first. */
  async bytes(n: number, deadline: number): Promise<Uint8Array | null> {
    while (this.#buf.length < n) if (!(await this.#more(deadline))) return null;
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Skips a response body of `Content-Length` octets (refusals), bounded by the deadline. */
  async skipBody(h: RawHead, deadline: number): Promise<void> {
    const n = Number(field(h, "content-length") ?? "0");
    while (this.#buf.length < n) if (!(await this.#more(deadline))) return;
    this.#buf = this.#buf.subarray(n);
  }

  /**
   * The next frame (checked with {@link checkFrame}), the close of the
   * connection, or a timeout.
   */
  async next(deadline: number): Promise<FrameEvent> {
    for (;;) {
      const parsed = parseFrame(this.#buf);
      if (parsed === "short") {
        if (!(await this.#more(deadline))) {
          if (this.#closed) {
            if (this.#buf.length > 0) fail(`the connection closed inside a frame (${this.#buf.length} octets left)`);
            this.seen.push("closed");
            return { kind: "closed" };
          }
          return { kind: "timeout" };
        }
        continue;
      }
      if (typeof parsed === "string") fail(parsed);
      this.#buf = this.#buf.subarray(parsed.size);
      const ev: FrameEvent = { kind: "frame", frame: parsed.frame };
      this.seen.push(showFrame(ev));
      this.#check(parsed.frame);
      if (parsed.frame.opcode === 8) this.closeReceived = parsed.frame;
      return ev;
    }
  }

  #check(f: WsFrame): void {
    const problem = checkFrame(f, this.rules, this.#inMessage, this.closeReceived !== undefined);
    if (problem !== undefined) fail(`${problem}: ${this.seen.at(-1)}`);
    if (f.opcode === 1 || f.opcode === 2) this.#inMessage = !f.fin;
    else if (f.opcode === 0 && f.fin) this.#inMessage = false;
  }

  /** The next frame other than Ping (each Ping is answered with its Pong, as a peer must). */
  async nextData(deadline: number): Promise<FrameEvent> {
    for (;;) {
      const ev = await this.next(deadline);
      if (ev.kind === "frame" && ev.frame.opcode === 9) {
        if (!this.closeSent) this.sendFrame({ opcode: 10, payload: ev.frame.payload, masked: !this.rules.endpointIsClient });
        continue;
      }
      return ev;
    }
  }

  /**
   * Waits for the endpoint to close the connection; any frame first fails
   * (a reset counts as the close).
   */
  async closed(deadline: number, after: string): Promise<void> {
    const ev = await this.next(deadline);
    if (ev.kind !== "closed") fail(`expected the connection to close after ${after}, got ${showFrame(ev)}`);
  }

  /** Everything the peer sent, for failure details. */
  trace(): string {
    return this.seen.join(" ⏎ ");
  }
}

/**
 * The rules every frame of an endpoint keeps (see the module notes);
 * undefined when `f` keeps them, else what it breaks.
 */
export function checkFrame(f: WsFrame, rules: FrameRules, inMessage: boolean, afterClose: boolean): string | undefined {
  if (afterClose) return "a frame after the endpoint's own Close (RFC 6455 §5.5.1)";
  if (rules.endpointIsClient && !f.masked) return "an unmasked frame from a client (RFC 6455 §5.3)";
  if (!rules.endpointIsClient && f.masked) return "a masked frame from a server (RFC 6455 §5.1)";
  if ((f.rsv & 3) !== 0) return "RSV2 or RSV3 set without an extension (RFC 6455 §5.2)";
  if ((f.rsv & 4) !== 0 && !(rules.deflate === true && (f.opcode === 1 || f.opcode === 2))) return "RSV1 set where no extension allows it (RFC 6455 §5.2, RFC 7692 §6)";
  if (f.opcode >= 3 && f.opcode <= 7 || f.opcode >= 11) return "a reserved opcode (RFC 6455 §5.2)";
  if (f.opcode >= 8) {
    if (!f.fin) return "a fragmented control frame (RFC 6455 §5.5)";
    if (f.payload.length > 125) return "a control frame over 125 octets (RFC 6455 §5.5)";
    if (f.opcode === 8) {
      if (f.payload.length === 1) return "a Close payload of one octet (RFC 6455 §5.5.1)";
      const code = closeCode(f);
      if (code !== null && !sendableCode(code)) return `close code ${code} on the wire (RFC 6455 §7.4)`;
      if (!validUTF8(f.payload.subarray(2))) return "a close reason that is not UTF-8 (RFC 6455 §5.5.1)";
    }
    return undefined;
  }
  if (f.opcode === 0 && !inMessage) return "a continuation frame outside a message (RFC 6455 §5.4)";
  if (f.opcode !== 0 && inMessage) return "a new data frame inside a fragmented message (RFC 6455 §5.4)";
  return undefined;
}

/** Parses one frame from `b`: "short" when incomplete, a string for a framing violation. */
export function parseFrame(b: Uint8Array): { frame: WsFrame; size: number } | "short" | string {
  if (b.length < 2) return "short";
  let len = b[1]! & 127;
  let at = 2;
  if (len === 126) {
    if (b.length < 4) return "short";
    len = (b[2]! << 8) | b[3]!;
    at = 4;
    if (len < 126) return `a length of ${len} in the 16-bit form (RFC 6455 §5.2: the minimal form MUST be used)`;
  } else if (len === 127) {
    if (b.length < 10) return "short";
    const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0);
    if (big >> 63n) return "a 64-bit length with its high bit set (RFC 6455 §5.2)";
    if (big < 65536n) return `a length of ${big} in the 64-bit form (RFC 6455 §5.2: the minimal form MUST be used)`;
    if (big > 1n << 30n) return `a frame of ${big} octets (more than this driver reads)`;
    len = Number(big);
    at = 10;
  }
  const masked = (b[1]! & 128) !== 0;
  const key = masked ? b.subarray(at, at + 4) : null;
  if (masked) at += 4;
  if (b.length < at + len) return "short";
  const payload = b.slice(at, at + len);
  if (key !== null) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ key[i & 3]!;
  const frame: WsFrame = { fin: (b[0]! & 0x80) !== 0, rsv: (b[0]! >> 4) & 7, opcode: b[0]! & 15, masked, payload, ...(key !== null ? { maskKey: key.slice() } : {}) };
  return { frame, size: at + len };
}

function findCRLFCRLF(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Whether bytes are UTF-8 (by the platform's strict decoder, not ours). */
export function validUTF8(b: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Bytes as latin1 text. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

/** Latin1 text as bytes. */
export function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}
