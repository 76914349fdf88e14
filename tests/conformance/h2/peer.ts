/**
 * The raw-frame HTTP/2 client of the conformance cases (cases.ts): a
 * loopback socket (node:net for h2c by prior knowledge, node:tls with ALPN
 * `h2` for TLS) that writes whatever bytes a case builds, well formed or
 * not, and reads the server's frames one at a time. Our own frame and
 * HPACK writers (independent of http/h2/ and http/hpack/'s encoder: the
 * peer must be able to write what those refuse to); the server's header
 * blocks are decoded with http/hpack/'s decoder, only to read `:status`.
 *
 * Every wait is bounded by the case's time limit (a server that says
 * nothing fails the case, it never hangs the run).
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { HPACKDecoder } from "../../../http/hpack/decoder.ts";
import { huffmanEncode, huffmanEncodedLength } from "../../../http/hpack/huffman.ts";

/** Frame types (RFC 9113 §6). */
export const T = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
});

/** Flags. */
export const F = Object.freeze({ END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 });

/** Error codes (RFC 9113 §7). */
export const E = Object.freeze({
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
});

/** Settings identifiers. */
export const S = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
});

const TYPE_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"];
const CODE_NAMES = Object.keys(E);

/** An error code's name. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** One frame as read from the server. */
export interface RawFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Uint8Array;
}

/** What a read gave: a frame, the end of the connection, or nothing within the time limit. */
export type PeerEvent = { kind: "frame"; frame: RawFrame } | { kind: "closed" } | { kind: "timeout" };

/** A short text for a frame or event (failure details). */
export function describe(ev: PeerEvent): string {
  if (ev.kind !== "frame") return ev.kind === "closed" ? "connection closed" : "nothing (timed out)";
  const f = ev.frame;
  const name = TYPE_NAMES[f.type] ?? `type 0x${f.type.toString(16)}`;
  let extra = "";
  if (f.type === T.GOAWAY && f.payload.length >= 8) extra = ` ${codeName(u32(f.payload, 4))}`;
  if (f.type === T.RST_STREAM && f.payload.length >= 4) extra = ` ${codeName(u32(f.payload, 0))}`;
  return `${name}(stream ${f.streamId}, flags 0x${f.flags.toString(16)}, length ${f.payload.length}${extra})`;
}

/** Reads a big-endian 32-bit unsigned integer. */
export function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Joins byte arrays. */
export function cat(...parts: (Uint8Array | number[] | string)[]): Uint8Array {
  const arrays = parts.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p));
  let n = 0;
  for (const a of arrays) n += a.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Four bytes, big-endian. */
export function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/**
 * One frame with any header fields: `length` defaults to the payload's,
 * `streamId` may carry the reserved bit (values ≥ 2^31).
 */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = [], length?: number): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const len = length ?? p.length;
  return cat([(len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, type, flags], be32(streamId), p);
}

/** A SETTINGS frame with these pairs. */
export function settings(pairs: [number, number][] = [], flags = 0): Uint8Array {
  const body: number[] = [];
  for (const [id, value] of pairs) body.push((id >> 8) & 0xff, id & 0xff, ...be32(value));
  return frame(T.SETTINGS, flags, 0, body);
}

/** PING with 8 bytes of data. */
export function ping(data: Uint8Array | number[], ack = false): Uint8Array {
  return frame(T.PING, ack ? F.ACK : 0, 0, data);
}

/** WINDOW_UPDATE. */
export function windowUpdate(streamId: number, increment: number): Uint8Array {
  return frame(T.WINDOW_UPDATE, 0, streamId, be32(increment));
}

/** RST_STREAM. */
export function rstStream(streamId: number, code: number): Uint8Array {
  return frame(T.RST_STREAM, 0, streamId, be32(code));
}

/** PRIORITY (dependency, exclusive bit, weight byte). */
export function priority(streamId: number, dependency: number, weight: number, exclusive = false): Uint8Array {
  return frame(T.PRIORITY, 0, streamId, [...be32((dependency | (exclusive ? 0x80000000 : 0)) >>> 0), weight]);
}

/** GOAWAY. */
export function goaway(lastStreamId: number, code: number, streamId = 0): Uint8Array {
  return frame(T.GOAWAY, 0, streamId, [...be32(lastStreamId), ...be32(code)]);
}

/** DATA. */
export function data(streamId: number, body: Uint8Array | string, endStream: boolean): Uint8Array {
  return frame(T.DATA, endStream ? F.END_STREAM : 0, streamId, typeof body === "string" ? new TextEncoder().encode(body) : body);
}

/** HEADERS carrying `block` (flags as given). */
export function headers(streamId: number, block: Uint8Array, flags: number): Uint8Array {
  return frame(T.HEADERS, flags, streamId, block);
}

/** CONTINUATION. */
export function continuation(streamId: number, block: Uint8Array, endHeaders: boolean): Uint8Array {
  return frame(T.CONTINUATION, endHeaders ? F.END_HEADERS : 0, streamId, block);
}

/** An HPACK integer with an `n`-bit prefix whose high bits are `first`. */
export function hpackInt(value: number, n: number, first: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** An HPACK string literal, raw or Huffman-coded (RFC 7541 §5.2). */
export function hpackString(s: string, huffman = false): number[] {
  if (!huffman) return [...hpackInt(s.length, 7, 0), ...Array.from(s, (c) => c.charCodeAt(0))];
  const out = new Uint8Array(huffmanEncodedLength(s));
  huffmanEncode(s, out, 0);
  return [...hpackInt(out.length, 7, 0x80), ...out];
}

/**
 * Header fields as literals without indexing with a literal name (RFC
 * 7541 §6.2.2): stateless, so no dynamic table needs keeping in step.
 */
export function block(fields: [string, string][]): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of fields) {
    out.push(0x00);
    for (const b of hpackString(name)) out.push(b);
    for (const b of hpackString(value)) out.push(b);
  }
  return Uint8Array.from(out);
}

/** Where and how to connect. */
export interface Target {
  readonly port: number;
  /** TLS with ALPN h2, trusting this root (PEM); absent: h2c by prior knowledge. */
  readonly ca?: string;
}

/** The client connection preface. */
export const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** A raw HTTP/2 client connection (see the module text). */
export class Peer {
  readonly target: Target;
  readonly #sock: net.Socket;
  #buf: Uint8Array = new Uint8Array(0);
  #frames: RawFrame[] = [];
  #closed = false;
  #wake: (() => void) | null = null;
  /** The server's header blocks, decoded. */
  readonly decoder: HPACKDecoder = new HPACKDecoder();
  /** The server's SETTINGS (the first frame), as id → value. */
  serverSettings: Map<number, number> = new Map();
  /** Bytes read that were not frames (e.g. an HTTP/1.1 answer to a bad preface). */
  rawText = "";
  /** The highest stream id of a HEADERS frame we sent (for GOAWAY's last-stream-id). */
  highestOpened = 0;
  /** The highest stream id the server sent response HEADERS on. */
  highestAnswered = 0;
  /** What the server sent, in order (frame descriptions; "closed" at the end), for --trace. */
  readonly seen: string[] = [];

  private constructor(target: Target, sock: net.Socket) {
    this.target = target;
    this.#sock = sock;
    sock.on("data", (d: Uint8Array) => this.#onData(d));
    sock.on("error", () => {});
    sock.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  /** The `:scheme` of requests on this connection. */
  get scheme(): string {
    return this.target.ca === undefined ? "http" : "https";
  }

  /** Connects (and for TLS completes the handshake, failing unless ALPN chose h2). */
  static connect(target: Target): Promise<Peer> {
    return new Promise((resolve, reject) => {
      if (target.ca === undefined) {
        const sock = net.connect(target.port, "127.0.0.1");
        sock.setNoDelay(true);
        sock.once("error", reject);
        sock.once("connect", () => {
          sock.off("error", reject);
          resolve(new Peer(target, sock));
        });
        return;
      }
      const sock = tls.connect({ port: target.port, host: "127.0.0.1", servername: "localhost", ca: target.ca, ALPNProtocols: ["h2"] });
      sock.setNoDelay(true);
      sock.once("error", reject);
      sock.once("secureConnect", () => {
        sock.off("error", reject);
        if (sock.alpnProtocol !== "h2") {
          sock.destroy();
          reject(new Error(`ALPN chose ${String(sock.alpnProtocol)}, not h2`));
          return;
        }
        resolve(new Peer(target, sock));
      });
    });
  }

  #onData(d: Uint8Array): void {
    const b = this.#buf.length === 0 ? new Uint8Array(d) : cat(this.#buf, d);
    let at = 0;
    while (b.length - at >= 9) {
      const len = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
      if (this.#frames.length === 0 && this.serverSettings.size === 0 && at === 0 && b[3] !== T.SETTINGS && len > 1 << 20) {
        // Not HTTP/2 at all (an HTTP/1.1 answer): keep it as text.
        this.rawText += new TextDecoder("latin1").decode(b);
        this.#buf = new Uint8Array(0);
        this.#wake?.();
        return;
      }
      if (b.length - at < 9 + len) break;
      this.#frames.push({ type: b[at + 3]!, flags: b[at + 4]!, streamId: u32(b, at + 5) & 0x7fffffff, payload: b.slice(at + 9, at + 9 + len) });
      at += 9 + len;
    }
    this.#buf = b.subarray(at);
    this.#wake?.();
  }

  /** Writes bytes as they are. */
  send(...parts: (Uint8Array | string)[]): void {
    if (this.#closed || this.#sock.destroyed) return;
    for (const p of parts) {
      if (typeof p !== "string") {
        // Our writes are whole frames: note the streams opened.
        for (let at = 0; at + 9 <= p.length; at += 9 + ((p[at]! << 16) | (p[at + 1]! << 8) | p[at + 2]!)) {
          if (p[at + 3] === T.HEADERS) this.highestOpened = Math.max(this.highestOpened, u32(p, at + 5) & 0x7fffffff);
        }
      }
      this.#sock.write(p);
    }
  }

  /** The next frame, or closed, or timeout once `deadline` (performance.now()) passes. */
  async next(deadline: number): Promise<PeerEvent> {
    for (;;) {
      const f = this.#frames.shift();
      if (f !== undefined) {
        const ev: PeerEvent = { kind: "frame", frame: f };
        this.seen.push(describe(ev));
        return ev;
      }
      if (this.#closed) {
        if (this.seen.at(-1) !== "connection closed") this.seen.push("connection closed");
        return { kind: "closed" };
      }
      const left = deadline - performance.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /** Whether the connection ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection. */
  close(): void {
    this.#sock.destroy();
  }
}
