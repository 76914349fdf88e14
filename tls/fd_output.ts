/**
 * Buffered writes of fd-mode TLS (tls/connection.ts): the `SSL` writes
 * its records into a memory BIO ({@link TLSEngine.takeOutput}) and
 * {@link CipherOutput.flush} moves them to the socket with one `send()`
 * per batch — a 256 KiB write leaves in one `send()` instead of sixteen,
 * one per 16 KiB record, as OpenSSL's socket BIO sends them. Ciphertext
 * the socket did not take waits here (at most one batch: the transport
 * encrypts no more while some waits) and goes first on the next flush.
 *
 * @example
 * ```ts ignore
 * const out = new CipherOutput(engine, socket.fd);
 * engine.write(bytes);
 * const r = out.flush(); // true: all sent; false: the rest waits for writability; an Error: send failed
 * ```
 *
 * @module
 */
import { C } from "../ffi/platform.ts";
import { sendUntilBlocked } from "../socket/send_until_blocked.ts";
import type { TLSEngine } from "./engine.ts";

/**
 * Plaintext encrypted per batch before its records are sent (one `send()`
 * when the socket takes it all).
 *
 * @example
 * ```ts
 * import { WRITE_BATCH } from "./fd_output.ts";
 * console.log(WRITE_BATCH); // 65536: four full records per send()
 * ```
 */
export const WRITE_BATCH = 64 * 1024;

/**
 * Room for one batch's records (16 records of 16384 + 22 bytes) and what
 * came before them (tickets, a key update): one scratch shared by every
 * connection, as the bytes leave it before the next connection runs.
 */
const SCRATCH = new Uint8Array(WRITE_BATCH + 16 * 1024);

/**
 * The records of one fd-mode `SSL` on their way to its socket (see the
 * module text).
 *
 * @example
 * ```ts ignore
 * const out = new CipherOutput(engine, fd);
 * if (out.flush() === false) watchWritable();
 * ```
 */
export class CipherOutput {
  readonly #engine: TLSEngine;
  readonly #fd: number;
  /** Ciphertext taken from the BIO that the socket did not take yet. */
  #held: Uint8Array | null = null;

  constructor(engine: TLSEngine, fd: number) {
    this.#engine = engine;
    this.#fd = fd;
  }

  /** Whether ciphertext waits for the socket (held here, or still in the BIO behind it). */
  get waiting(): boolean {
    return this.#held !== null;
  }

  /** Bytes held here (not counting what is still in the BIO). */
  get heldBytes(): number {
    return this.#held === null ? 0 : this.#held.length;
  }

  /**
   * Sends the waiting ciphertext, then what the BIO holds: true once all
   * went, false when the socket is full (the rest waits here and in the
   * BIO), or the send's error.
   */
  flush(): boolean | Error {
    const held = this.#held;
    if (held !== null) {
      const sent = this.#send(held, held.length);
      if (sent instanceof Error) return sent;
      if (sent < held.length) {
        this.#held = held.subarray(sent);
        return false;
      }
      this.#held = null;
    }
    for (;;) {
      const n = this.#engine.takeOutput(SCRATCH);
      if (n === 0) return true;
      const sent = this.#send(SCRATCH, n);
      if (sent instanceof Error) return sent;
      if (sent < n) {
        this.#held = SCRATCH.slice(sent, n);
        return false;
      }
      if (n < SCRATCH.length) return true;
    }
  }

  /** Drops what waits (the connection is going away without it). */
  drop(): void {
    this.#held = null;
  }

  /** send(2) of `data[0, length)` until it is all gone or EAGAIN: the count sent, or the error. */
  #send(data: Uint8Array, length: number): number | Error {
    return sendUntilBlocked(this.#fd, data, length, C.MSG_NOSIGNAL);
  }
}
