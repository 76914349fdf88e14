/**
 * A bounded byte writer for DNS messages, with name compression.
 *
 * @example
 * ```ts
 * import { WireWriter } from "./writer.ts";
 * const w = new WireWriter();
 * w.name("example.com");
 * w.name("www.example.com"); // "www" then a pointer to offset 0
 * console.log(w.finish().length); // 19
 * ```
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { labelsToName, nameLabels } from "./name.ts";

/**
 * Bytes of a DNS message at most (the TCP length prefix is 16 bits).
 *
 * @example
 * ```ts
 * import { MAX_MESSAGE_BYTES } from "./writer.ts";
 * console.log(MAX_MESSAGE_BYTES); // 65535
 * ```
 */
export const MAX_MESSAGE_BYTES = 65535;

/**
 * Appends big-endian fields and names; throws `ERR_DNS_MESSAGE_TOO_LONG`
 * past 65535 bytes.
 *
 * @example
 * ```ts
 * import { WireWriter } from "./writer.ts";
 * const w = new WireWriter();
 * w.u16(0x1234);
 * console.log(w.finish()); // Uint8Array(2) [ 18, 52 ]
 * ```
 */
export class WireWriter {
  #buf = new Uint8Array(512);
  #len = 0;
  readonly #names = new Map<string, number>();
  readonly #compress: boolean;

  /**
   * A writer.
   *
   * @param compress whether names point back to earlier suffixes (default true)
   */
  constructor(compress = true) {
    this.#compress = compress;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #room(n: number): void {
    const need = this.#len + n;
    if (need > MAX_MESSAGE_BYTES) throw new DNSError("ERR_DNS_MESSAGE_TOO_LONG", `DNS message longer than ${MAX_MESSAGE_BYTES} bytes`);
    if (need <= this.#buf.length) return;
    const next = new Uint8Array(Math.min(MAX_MESSAGE_BYTES, Math.max(need, this.#buf.length * 2)));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Appends one byte. */
  u8(v: number): void {
    this.#room(1);
    this.#buf[this.#len++] = v & 0xff;
  }

  /** Appends a 16-bit big-endian integer. */
  u16(v: number): void {
    this.#room(2);
    this.#buf[this.#len++] = (v >>> 8) & 0xff;
    this.#buf[this.#len++] = v & 0xff;
  }

  /** Appends a 32-bit big-endian integer. */
  u32(v: number): void {
    this.u16(Math.floor(v / 0x10000) & 0xffff);
    this.u16(v & 0xffff);
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Overwrites a 16-bit field written earlier (a length). */
  patch16(at: number, v: number): void {
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
  }

  /**
   * Appends a name; with compression, the longest suffix written before
   * becomes a pointer (`compress: false` for names inside RDATA of types
   * where RFC 3597 forbids it).
   */
  name(text: string, compress = true): void {
    const labels = nameLabels(text);
    for (let i = 0; i < labels.length; i++) {
      if (this.#compress && compress) {
        const key = labelsToName(labels.slice(i)).toLowerCase();
        const at = this.#names.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
        if (this.#len < 0x4000) this.#names.set(key, this.#len);
      }
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }

  /** The message written (a copy-free view of exactly the bytes written). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
