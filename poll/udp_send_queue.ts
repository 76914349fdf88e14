/**
 * The sends of an async UDP socket that wait for room in the kernel: a
 * bounded FIFO of datagram lists, each settled once the kernel took its
 * last datagram (or refused one). A send that finds the queue empty goes
 * straight to the kernel; only what the kernel refuses (EAGAIN) waits, as a
 * copy, so the caller may reuse its buffers at once.
 *
 * @example
 * ```ts
 * import { UdpSendQueue } from "./udp_send_queue.ts";
 * import { Dgram } from "../socket/dgram.ts";
 * using dgram = Dgram.create("ipv4", { nonBlocking: true });
 * const queue = new UdpSendQueue(dgram, 16, () => console.log("waiting:", queue.length));
 * await queue.enqueue([{ data: new Uint8Array([1]), host: "127.0.0.1", port: 9 }], undefined);
 * ```
 *
 * @module
 */
import { LimitError, SocketClosedError, UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { LAYOUT } from "../ffi/platform.ts";
import type { Dgram, OutgoingDatagram } from "../socket/dgram.ts";
import { MAX_DATAGRAM_BATCH } from "../socket/dgram_batch.ts";

interface PendingSend {
  readonly messages: OutgoingDatagram[];
  index: number;
  readonly settle: (error?: Error) => void;
}

/**
 * The reason of an aborted signal, as an Error.
 *
 * @example
 * ```ts
 * import { abortReason } from "./udp_send_queue.ts";
 * console.log(abortReason(AbortSignal.abort()).name); // "AbortError"
 * ```
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/**
 * Waiting sends of one socket, in order, at most `maxPending`.
 *
 * @example
 * ```ts
 * import { UdpSendQueue } from "./udp_send_queue.ts";
 * import { bindUDPSync } from "../socket/dgram.ts";
 * using dgram = bindUDPSync("127.0.0.1", 0, { nonBlocking: true });
 * const queue = new UdpSendQueue(dgram, 1024, () => {});
 * const sent = queue.enqueue([{ data: new Uint8Array([1]), host: "127.0.0.1", port: dgram.localAddress().port }], undefined);
 * console.log(queue.flush()); // true: nothing waits (the loop calls flush when the socket is writable)
 * await sent;
 * ```
 */
export class UdpSendQueue {
  /** The most sends that may wait. */
  readonly maxPending: number;
  readonly #dgram: Dgram;
  readonly #batched: boolean;
  readonly #sends: PendingSend[] = [];
  readonly #changed: () => void;
  #closed = false;

  /** `changed` runs when the queue goes from or to empty by an abort, or gains an entry (to update the socket's interest). */
  constructor(dgram: Dgram, maxPending: number, changed: () => void) {
    this.#dgram = dgram;
    this.maxPending = maxPending;
    this.#changed = changed;
    this.#batched = libc().sendmmsg !== undefined && LAYOUT.mmsghdr.size !== 0;
  }

  /** Sends waiting. */
  get length(): number {
    return this.#sends.length;
  }

  /** Sends one datagram now; false when the kernel has no room. Throws the send's error. */
  sendOne(m: OutgoingDatagram): boolean {
    const n = m.host === undefined ? this.#dgram.send(m.data) : this.#dgram.sendTo(m.data, m.host, m.port!);
    return n !== null;
  }

  /**
   * Sends `messages` (which the queue may change) behind those waiting;
   * resolves once the kernel took the last.
   */
  enqueue(messages: OutgoingDatagram[], signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(new UseAfterCloseError("UdpSocket"));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const first: PendingSend = { messages, index: 0, settle: () => {} };
    if (this.#sends.length === 0) {
      try {
        if (this.#push(first)) return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    } else if (this.#sends.length >= this.maxPending) {
      // (an empty queue is never full: maxPending ≥ 1)
      return Promise.reject(new LimitError("ERR_UDP_SEND_QUEUE_FULL", `${this.maxPending} sends already wait for room in the kernel`, this.maxPending));
    }
    for (let i = first.index; i < messages.length; i++) {
      const m = messages[i]!;
      messages[i] = m.host === undefined ? { data: m.data.slice() } : { data: m.data.slice(), host: m.host, port: m.port! };
    }
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const entry: PendingSend = {
        messages,
        index: first.index,
        settle: (error) => {
          if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      if (signal !== undefined) {
        onAbort = () => {
          const i = this.#sends.indexOf(entry);
          if (i >= 0) this.#sends.splice(i, 1);
          entry.settle(abortReason(signal));
          this.#changed();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#sends.push(entry);
      this.#changed();
    });
  }

  /** Sends what the kernel takes now, in order (a send that fails is rejected and the next one tried); true once nothing waits. */
  flush(): boolean {
    const sends = this.#sends;
    while (sends.length > 0) {
      const s = sends[0]!;
      try {
        if (!this.#push(s)) return false;
      } catch (err) {
        sends.shift();
        s.settle(err as Error);
        continue;
      }
      sends.shift();
      s.settle();
    }
    return true;
  }

  /** Rejects every waiting send with SocketClosedError ECANCELED; later ones reject with UseAfterCloseError. */
  close(): void {
    this.#closed = true;
    const error = new SocketClosedError("ECANCELED", "the UDP socket was closed before the datagram was sent");
    for (const s of this.#sends.splice(0)) s.settle(error);
  }

  /** Sends what the kernel takes of `s`; true when all of it is sent. Throws a send's error. */
  #push(s: PendingSend): boolean {
    const messages = s.messages;
    while (s.index < messages.length) {
      const left = messages.length - s.index;
      if (this.#batched && left > 1) {
        const chunk = s.index === 0 && left <= MAX_DATAGRAM_BATCH ? messages : messages.slice(s.index, s.index + MAX_DATAGRAM_BATCH);
        const n = this.#dgram.sendBatch(chunk);
        if (n === null) return false;
        s.index += n;
      } else {
        if (!this.sendOne(messages[s.index]!)) return false;
        s.index++;
      }
    }
    return true;
  }
}
