/**
 * What an async UDP socket without a handler has received: datagrams and
 * receive errors in arrival order, at most `maxQueued` of them, and the
 * `recv()`/`recvBatch()` calls waiting for them. The socket reads only while
 * {@link UdpRecvQueue.room} is positive; at the bound it stops, and the
 * kernel's own buffer takes over (and drops when full).
 *
 * @example
 * ```ts
 * import { UdpRecvQueue } from "./udp_recv_queue.ts";
 * const queue = new UdpRecvQueue(4, () => {});
 * const next = queue.wait(0, undefined);
 * queue.push({ data: new Uint8Array([1]), address: { family: "ipv4", host: "127.0.0.1", port: 9 }, truncated: false });
 * queue.settle();
 * console.log(await next); // { data: Uint8Array(1) [1], … }
 * ```
 *
 * @module
 */
import type { UdpDatagram } from "./udp_options.ts";
import { abortReason } from "./udp_send_queue.ts";

interface Waiter {
  /** 0: one datagram (`recv`); otherwise a batch of at most this many. */
  readonly max: number;
  readonly resolve: (value: UdpDatagram | UdpDatagram[] | null) => void;
  readonly reject: (error: Error) => void;
  cleanup: (() => void) | undefined;
}

/**
 * Received datagrams and errors waiting for receivers, bounded.
 *
 * @example
 * ```ts
 * import { UdpRecvQueue } from "./udp_recv_queue.ts";
 * const queue = new UdpRecvQueue(128, () => {});
 * console.log(queue.room()); // 128
 * ```
 */
export class UdpRecvQueue {
  /** The most datagrams (and errors) held. */
  readonly maxQueued: number;
  readonly #items: (UdpDatagram | Error)[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #changed: () => void;

  /** `changed` runs when an aborted wait leaves (the socket may read less now). */
  constructor(maxQueued: number, changed: () => void) {
    this.maxQueued = maxQueued;
    this.#changed = changed;
  }

  /** Datagrams and errors held. */
  get length(): number {
    return this.#items.length;
  }

  /** Datagrams a read may take now: room in the queue plus what waiting receivers take. */
  room(): number {
    let demand = 0;
    for (const w of this.#waiters) demand += w.max === 0 ? 1 : w.max;
    return Math.max(0, this.maxQueued - this.#items.length) + demand;
  }

  /** Adds a datagram or a receive error (call {@link UdpRecvQueue.settle} after a batch). */
  push(item: UdpDatagram | Error): void {
    this.#items.push(item);
  }

  /** Waits for one datagram (`max` 0) or a batch of at most `max`. */
  wait(max: number, signal: AbortSignal | undefined): Promise<UdpDatagram | UdpDatagram[] | null> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { max, resolve, reject, cleanup: undefined };
      if (signal !== undefined) {
        const onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(abortReason(signal));
          this.#changed();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#waiters.push(waiter);
      this.settle();
    });
  }

  /** Hands held datagrams (and errors) to waiting receivers, in order. */
  settle(): void {
    const items = this.#items;
    while (this.#waiters.length > 0 && items.length > 0) {
      const w = this.#waiters.shift()!;
      w.cleanup?.();
      const head = items[0]!;
      if (head instanceof Error) {
        items.shift();
        w.reject(head);
      } else if (w.max === 0) {
        items.shift();
        w.resolve(head);
      } else {
        let n = 1;
        while (n < w.max && n < items.length && !(items[n] instanceof Error)) n++;
        w.resolve(items.splice(0, n) as UdpDatagram[]);
      }
    }
  }

  /** Drops what is held and gives every waiting receiver null. */
  close(): void {
    this.#items.length = 0;
    for (const w of this.#waiters.splice(0)) {
      w.cleanup?.();
      w.resolve(null);
    }
  }
}
