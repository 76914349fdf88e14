/**
 * The fuzzer's own view of the wire, written apart from ws/ so that the
 * runner does not judge our code with our code: a raw frame writer that can
 * produce any (also invalid) frame, a strict parser for what the
 * implementation under test sends back, and the fuzzer's half of
 * permessage-deflate on the zlib streams of core/zlib.ts.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Deflater, Inflater } from "../../../core/zlib.ts";

/** Payload descriptions as the case data has them. */
export interface PayloadSpec {
  hex?: string;
  len: number;
  sha1?: string;
  repeat_unit_hex?: string;
}

/** Hex to bytes. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** SHA-1 in hex by node:crypto (an implementation independent of ours). */
export function sha1Hex(data: Uint8Array): string {
  return createHash("sha1").update(data).digest("hex");
}

/**
 * The bytes a payload spec stands for (`null` when it needs test data). A
 * repeated payload is regenerated and checked against its SHA-1.
 */
export function payloadBytes(p: PayloadSpec): Uint8Array | null {
  if (p.hex !== undefined) return fromHex(p.hex);
  if (p.repeat_unit_hex !== undefined) {
    const bytes = repeat(fromHex(p.repeat_unit_hex), p.len);
    if (p.sha1 !== undefined && sha1Hex(bytes) !== p.sha1) {
      throw new Error(`regenerated payload (${p.len} bytes of ${p.repeat_unit_hex}) does not match its SHA-1`);
    }
    return bytes;
  }
  return null;
}

/** Repeats `unit` up to `len` bytes. */
export function repeat(unit: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  if (unit.length === 0 || len === 0) return out;
  out.set(unit.subarray(0, Math.min(unit.length, len)));
  // Double the filled prefix until the buffer is full.
  for (let have = unit.length; have < len; have *= 2) out.copyWithin(have, 0, Math.min(have, len - have));
  return out;
}

/**
 * Writes one frame exactly as described: masked (with `mask`, or a random
 * key) when `masked`, as a client must; unmasked as a server must.
 */
export function rawFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv: number, masked: boolean, mask?: Uint8Array): Uint8Array {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const keyBytes = masked ? 4 : 0;
  const out = new Uint8Array(2 + ext + keyBytes + len);
  out[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  out[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  const dv = new DataView(out.buffer);
  if (ext === 2) dv.setUint16(2, len);
  if (ext === 8) dv.setBigUint64(2, BigInt(len));
  const at = 2 + ext + keyBytes;
  if (!masked) {
    out.set(payload, at);
    return out;
  }
  const key = mask ?? randomKey();
  out.set(key, 2 + ext);
  out.set(payload, at);
  xorMask(out.subarray(at), key);
  return out;
}

/**
 * XORs `data` in place with the repeated 4-byte `key` (masking and
 * unmasking are the same), four bytes at a time where `data` is aligned.
 */
export function xorMask(data: Uint8Array, key: Uint8Array): void {
  const len = data.length;
  let i = 0;
  if ((data.byteOffset & 3) === 0 && len >= 16) {
    const words = new Uint32Array(data.buffer, data.byteOffset, len >>> 2);
    const k = new Uint32Array(new Uint8Array([key[0]!, key[1]!, key[2]!, key[3]!]).buffer)[0]!;
    for (let w = 0; w < words.length; w++) words[w] = words[w]! ^ k;
    i = words.length << 2;
  }
  for (; i < len; i++) data[i] = data[i]! ^ key[i & 3]!;
}

/** A frame header alone (for streamed frames); `key` masks the data that follows (null: unmasked). */
export function rawHeader(opcode: number, len: number, fin: boolean, masked: boolean): { bytes: Uint8Array; key: Uint8Array | null } {
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (masked ? 4 : 0));
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  const dv = new DataView(out.buffer);
  if (ext === 2) dv.setUint16(2, len);
  if (ext === 8) dv.setBigUint64(2, BigInt(len));
  if (!masked) return { bytes: out, key: null };
  const key = randomKey();
  out.set(key, 2 + ext);
  return { bytes: out, key };
}

let seed = 0x9e3779b9;
/** Masking keys for the fuzzer: varied, reproducible, no crypto needed. */
export function randomKey(): Uint8Array {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
  return new Uint8Array([seed >>> 24, (seed >>> 16) & 255, (seed >>> 8) & 255, seed & 255]);
}

/** What the fuzzer saw the implementation send. */
export type PeerEvent =
  | { type: "message"; binary: boolean; data: Uint8Array }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  | { type: "close"; code: number | null; reason: Uint8Array };

/**
 * The agreed permessage-deflate parameters from the fuzzer's side: how the
 * implementation compresses (`peer*`) and how the fuzzer must (`own*`).
 */
export interface FuzzerDeflate {
  peerNoContextTakeover: boolean;
  peerMaxWindowBits: number;
  ownNoContextTakeover: boolean;
  ownMaxWindowBits: number;
}

/**
 * Parses the implementation's frames strictly: masked when it is a client,
 * unmasked when it is a server, RSV1 only on the first frame of a
 * compressed message, and so on. A violation sets `violation` and stops
 * parsing.
 */
export class PeerStream {
  violation: string | undefined;
  #buf = new Uint8Array(0);
  #parts: Uint8Array[] = [];
  #inMessage = false;
  #binary = false;
  #compressed = false;
  #inflater: Inflater | undefined;
  readonly #deflate: FuzzerDeflate | undefined;
  readonly #masked: boolean;

  constructor(deflate: FuzzerDeflate | undefined, masked: boolean) {
    this.#deflate = deflate;
    this.#masked = masked;
    if (deflate) {
      this.#inflater = new Inflater({ format: "raw", windowBits: Math.max(9, deflate.peerMaxWindowBits), maxOutputBytes: Infinity });
    }
  }

  /** Feeds the implementation's bytes; returns the complete events. */
  push(bytes: Uint8Array): PeerEvent[] {
    const events: PeerEvent[] = [];
    if (this.violation !== undefined) return events;
    const buf = this.#buf.length === 0 ? bytes : concat([this.#buf, bytes]);
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      let h = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = (buf[at + 2]! << 8) | buf[at + 3]!;
        h = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(new DataView(buf.buffer, buf.byteOffset + at + 2, 8).getBigUint64(0));
        h = 10;
      }
      const k = b1 & 0x80 ? 4 : 0;
      if (buf.length - at < h + k + len) break;
      const payload = buf.slice(at + h + k, at + h + k + len);
      if (k !== 0) xorMask(payload, buf.subarray(at + h, at + h + 4));
      at += h + k + len;
      const err = this.#frame(b0, b1, payload, events);
      if (err !== undefined) {
        this.violation = err;
        break;
      }
    }
    this.#buf = buf.slice(at);
    return events;
  }

  #frame(b0: number, b1: number, payload: Uint8Array, events: PeerEvent[]): string | undefined {
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0xf;
    if ((b1 & 0x80) !== 0 && !this.#masked) return "the server masked a frame";
    if ((b1 & 0x80) === 0 && this.#masked) return "the client sent an unmasked frame";
    if (b0 & 0x30) return "RSV2/RSV3 set by the implementation";
    if (opcode >= 8) {
      if (!fin || payload.length > 125 || rsv1 || opcode > 10) return `bad control frame ${opcode}`;
      if (opcode === 8) {
        if (payload.length === 1) return "close payload of one byte";
        const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : null;
        events.push({ type: "close", code, reason: payload.slice(2) });
      } else events.push({ type: opcode === 9 ? "ping" : "pong", data: payload });
      return undefined;
    }
    if (opcode === 0) {
      if (!this.#inMessage || rsv1) return "unexpected continuation frame";
    } else if (opcode === 1 || opcode === 2) {
      if (this.#inMessage) return "new message inside a fragmented one";
      if (rsv1 && this.#deflate === undefined) return "RSV1 without permessage-deflate";
      this.#inMessage = true;
      this.#binary = opcode === 2;
      this.#compressed = rsv1;
      this.#parts = [];
    } else return `reserved opcode ${opcode}`;
    this.#parts.push(payload);
    if (!fin) return undefined;
    this.#inMessage = false;
    let data = concat(this.#parts);
    if (this.#compressed) {
      try {
        data = concat(this.#inflater!.push(concat([data, new Uint8Array([0, 0, 0xff, 0xff])])));
        if (this.#deflate!.peerNoContextTakeover) this.#inflater!.reset();
      } catch (err) {
        return `bad compressed data from the implementation: ${(err as Error).message}`;
      }
    }
    if (!this.#binary) {
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(data);
      } catch {
        return "invalid UTF-8 in a text message from the implementation";
      }
    }
    events.push({ type: "message", binary: this.#binary, data });
    return undefined;
  }

  close(): void {
    this.#inflater?.close();
  }
}

/** The fuzzer's compressor: raw deflate, sync flush, tail removed. */
export class FuzzerCompressor {
  readonly #deflater: Deflater;
  readonly #reset: boolean;

  constructor(p: FuzzerDeflate) {
    // Level 1: the fuzzer's own compression effort is not under test.
    this.#deflater = new Deflater({ format: "raw", level: 1, windowBits: Math.max(9, p.ownMaxWindowBits) });
    this.#reset = p.ownNoContextTakeover;
  }

  compress(data: Uint8Array): Uint8Array {
    const out = concat(this.#deflater.push(data, "sync"));
    if (this.#reset) this.#deflater.reset();
    return out.subarray(0, out.length - 4);
  }

  close(): void {
    this.#deflater.close();
  }
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
