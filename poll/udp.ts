/**
 * `UdpSocket`: an async UDP socket on a {@link Loop}, over the synchronous
 * non-blocking {@link Dgram}.
 *
 * - Promise mode: `recv()`, `recvBatch()` and `for await`; received
 *   datagrams wait in a queue of at most `maxQueuedDatagrams`. At that bound
 *   the socket stops reading, as a full kernel buffer would: the kernel's
 *   receive buffer (`recvBufferBytes`) fills and the kernel drops further
 *   datagrams, the newest first. Nothing is dropped in user space.
 * - Handler mode: `{ message, error, drain, close }` callbacks, fed by
 *   recvmmsg batches (Linux) with views of a reused buffer (or copies with
 *   `copy: true`).
 * - Sending: `send()` resolves once the kernel took the datagram; when the
 *   kernel has no room (EAGAIN) it waits for WRITABLE, so backpressure shows
 *   as a Promise that takes longer. Waiting sends are bounded
 *   (`maxPendingSends`). `sendBatch()` uses sendmmsg (Linux). `trySend()`
 *   sends without a Promise and returns false when the kernel has no room.
 *   A datagram waiting for room is copied, so the caller may reuse its
 *   buffer as soon as `send()` returns.
 *
 * Linux loopback never refuses a UDP send (the datagram leaves the send
 * buffer as soon as it is handed to the loopback device; what the receiver
 * cannot hold is dropped there), so the wait for WRITABLE matters on real
 * interfaces and for sockets adopted from other datagram sockets.
 *
 * @example
 * ```ts
 * import { bindUDP } from "./udp.ts";
 * const server = bindUDP({
 *   host: "127.0.0.1",
 *   handler: { message: (sock, data, from) => void sock.trySend(data, from) }, // echo
 * });
 * await using client = bindUDP({ host: "127.0.0.1" });
 * await client.send(new TextEncoder().encode("ping"), server.localAddress);
 * const reply = await client.recv();
 * console.log(new TextDecoder().decode(reply!.data)); // "ping"
 * server.close();
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import { STAGING_KEEP_BYTES } from "../socket/msg_memory.ts";
import type { Dgram, DgramFamily, OutgoingDatagram, ReceivedDatagram } from "../socket/dgram.ts";
import { getIntOption } from "../socket/dgram_multicast.ts";
import { ERROR, HANGUP, READABLE, WRITABLE } from "./backend.ts";
import type { IoWatcher } from "./io_watcher.ts";
import { defaultLoop, type Loop } from "./loop.ts";
import {
  type AdoptUDPOptions,
  type BindUDPOptions,
  checkUDPOptions,
  openDgram,
  type UdpAddress,
  type UdpDatagram,
  type UdpHandler,
  type UdpTarget,
  udpBounds,
} from "./udp_options.ts";
import { UdpRecvQueue } from "./udp_recv_queue.ts";
import { UdpSendQueue } from "./udp_send_queue.ts";

export type { AdoptUDPOptions, BindUDPOptions, MulticastMembership, UdpAddress, UdpDatagram, UdpHandler, UdpTarget } from "./udp_options.ts";
export { ADOPT_UDP_OPTION_KEYS, BIND_UDP_OPTION_KEYS, UDP_LIMITS } from "./udp_options.ts";

/** Options of a waiting call. */
export interface UdpWaitOptions {
  /** Aborts the wait (the socket stays usable). */
  signal?: AbortSignal;
}

/** Options of {@link UdpSocket.recvBatch}. */
export interface UdpRecvBatchOptions extends UdpWaitOptions {
  /** Most datagrams to return (default 32). */
  max?: number;
}

/** Datagrams one readiness report reads at most before the loop moves on. */
const READ_BUDGET = 64;
/** Most datagrams per recvmmsg call. */
const RECV_BATCH = 32;
/** Default `max` of recvBatch. */
const RECV_BATCH_DEFAULT = 32;

function addressOf(d: ReceivedDatagram): UdpAddress {
  return { family: d.host.includes(":") ? "ipv6" : "ipv4", host: d.host, port: d.port };
}

function checkData(data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new TypeError("a datagram must be a Uint8Array");
}

function outgoing(data: Uint8Array, target: UdpTarget | undefined): OutgoingDatagram {
  checkData(data);
  if (target === undefined) return { data };
  if (target === null || typeof target !== "object") throw new TypeError("a UDP target must be { host, port }");
  return { data, host: target.host, port: target.port };
}

/**
 * An async UDP socket on a loop. Make one with {@link bindUDP} or
 * {@link adoptUDP}. Sending after `close()` throws (or rejects with)
 * {@link UseAfterCloseError}; receiving after it gives null.
 *
 * @example
 * ```ts
 * import { bindUDP } from "./udp.ts";
 * using a = bindUDP({ host: "::1" });
 * using b = bindUDP({ host: "::1", connect: a.localAddress });
 * await b.send(new Uint8Array([1, 2, 3]));
 * for await (const { data, address } of a) {
 *   console.log(data, address.port === b.localAddress.port); // Uint8Array(3) [1, 2, 3] true
 *   break;
 * }
 * ```
 */
export class UdpSocket {
  /** The synchronous socket underneath (for options such as `setTTL` or `joinMulticast`; do not read from it). */
  readonly dgram: Dgram;
  /** The address family. */
  readonly family: DgramFamily;
  /** The bound address (with the port the kernel picked for port 0). */
  readonly localAddress: UdpAddress;
  /** The connected peer (`connect` option), or null. */
  readonly remoteAddress: UdpAddress | null;
  /** Bytes received per datagram; larger datagrams are truncated. */
  readonly maxDatagramBytes: number;
  /** Datagrams held for `recv()` at most (promise mode). */
  readonly maxQueuedDatagrams: number;
  /** Sends waiting for room in the kernel at most. */
  readonly maxPendingSends: number;
  readonly #loop: Loop;
  readonly #watcher: IoWatcher;
  readonly #handler: UdpHandler | undefined;
  readonly #copy: boolean;
  /** Receive buffers: views of one block, one per datagram of a recvmmsg batch. */
  readonly #buffers: Uint8Array[];
  readonly #batched: boolean;
  readonly #queue: UdpRecvQueue;
  readonly #sends: UdpSendQueue;
  #wantDrain = false;
  #paused = false;
  #closed = false;

  /** @internal Use {@link bindUDP} or {@link adoptUDP}. */
  constructor(dgram: Dgram, options: AdoptUDPOptions) {
    const bounds = udpBounds(options);
    this.maxDatagramBytes = bounds.maxDatagramBytes;
    this.maxQueuedDatagrams = bounds.maxQueuedDatagrams;
    this.maxPendingSends = bounds.maxPendingSends;
    this.#handler = options.handler;
    this.#copy = options.copy ?? false;
    this.#loop = options.loop ?? defaultLoop();
    this.dgram = dgram;
    this.family = dgram.family;
    this.#sends = new UdpSendQueue(dgram, this.maxPendingSends, () => this.#setInterest());
    this.#queue = new UdpRecvQueue(this.maxQueuedDatagrams, () => this.#setInterest());
    if (!dgram.nonBlocking) dgram.setNonBlocking(true);
    const local = dgram.localAddress();
    this.localAddress = { family: local.family, host: local.host, port: local.port };
    let remote: UdpAddress | null = null;
    try {
      const peer = dgram.remoteAddress();
      remote = { family: peer.family, host: peer.host, port: peer.port };
    } catch {
      // not connected
    }
    this.remoteAddress = remote;
    // One recvmmsg batch stays within the staging memory that is kept between calls.
    this.#batched = libc().recvmmsg !== undefined && LAYOUT.mmsghdr.size !== 0;
    const perDatagram = this.maxDatagramBytes + LAYOUT.sockaddr_storage.size + 128;
    const count = this.#batched ? Math.max(1, Math.min(RECV_BATCH, Math.floor(STAGING_KEEP_BYTES / perDatagram))) : 1;
    const block = new Uint8Array(count * this.maxDatagramBytes);
    this.#buffers = Array.from({ length: count }, (_, i) => block.subarray(i * this.maxDatagramBytes, (i + 1) * this.maxDatagramBytes));
    this.#watcher = this.#loop.watch(dgram.fd, READABLE, this.#onEvents);
    this.#watcher.onLoopClose = () => this.close();
  }

  /** The bound port. */
  get port(): number {
    return this.localAddress.port;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Datagrams (and receive errors) waiting for `recv()`. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Sends waiting for room in the kernel. */
  get pendingSends(): number {
    return this.#sends.length;
  }

  /**
   * Sends one datagram to `target`, or to the connected peer without one.
   * Resolves once the kernel took it; waits for room while the kernel has
   * none (the datagram is copied then, and later sends queue behind it).
   * Rejects with the send's SocketError (EMSGSIZE, ECONNREFUSED on a
   * connected socket …), a LimitError ERR_UDP_SEND_QUEUE_FULL past
   * `maxPendingSends`, the signal's reason, or UseAfterCloseError.
   *
   * @example
   * ```ts
   * import { bindUDP } from "./udp.ts";
   * using sock = bindUDP({ host: "127.0.0.1" });
   * await sock.send(new TextEncoder().encode("hi"), { host: "127.0.0.1", port: 9 });
   * ```
   */
  send(data: Uint8Array, target?: UdpTarget, options: UdpWaitOptions = {}): Promise<void> {
    let message: OutgoingDatagram;
    try {
      message = outgoing(data, target);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sends.enqueue([message], options.signal);
  }

  /**
   * Sends many datagrams, each to its own target (or the connected peer),
   * with as few sendmmsg calls as the kernel allows (one datagram per call
   * where sendmmsg does not exist). Resolves once the kernel took the
   * last; rejects with the first failure (the datagrams before it were
   * sent).
   *
   * @example
   * ```ts
   * import { bindUDP } from "./udp.ts";
   * using sock = bindUDP({ host: "127.0.0.1" });
   * const data = new Uint8Array(32);
   * await sock.sendBatch([{ data, host: "127.0.0.1", port: 9 }, { data, host: "127.0.0.1", port: 9 }]);
   * ```
   */
  sendBatch(messages: readonly OutgoingDatagram[], options: UdpWaitOptions = {}): Promise<void> {
    if (!Array.isArray(messages) || messages.length === 0) return Promise.reject(new TypeError("sendBatch needs a non-empty array of datagrams"));
    const list: OutgoingDatagram[] = [];
    try {
      for (const m of messages) {
        if ((m.host === undefined) !== (m.port === undefined)) throw new TypeError("a datagram has a host or a port but not both");
        list.push(outgoing(m.data, m.host === undefined ? undefined : { host: m.host, port: m.port! }));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sends.enqueue(list, options.signal);
  }

  /**
   * Sends one datagram now, without a Promise (handler mode's answer).
   * Returns false when the kernel has no room (or earlier sends still
   * wait): nothing was sent, and the handler's `drain` runs once there is
   * room. Throws the send's SocketError, or UseAfterCloseError.
   *
   * @example
   * ```ts
   * import { bindUDP } from "./udp.ts";
   * using sock = bindUDP({ host: "127.0.0.1" });
   * if (!sock.trySend(new Uint8Array([1]), { host: "127.0.0.1", port: 9 })) console.log("full: wait for drain");
   * ```
   */
  trySend(data: Uint8Array, target?: UdpTarget): boolean {
    if (this.#closed) throw new UseAfterCloseError("UdpSocket");
    const message = outgoing(data, target);
    if (this.#sends.length === 0 && this.#sends.sendOne(message)) return true;
    this.#wantDrain = true;
    this.#setInterest();
    return false;
  }

  /**
   * The next datagram (its own copy); null once the socket is closed.
   * Rejects with a receive error (ECONNREFUSED on a connected socket after
   * an ICMP error) in the order it happened, or the signal's reason.
   *
   * @example
   * ```ts
   * import { bindUDP } from "./udp.ts";
   * using sock = bindUDP({ host: "127.0.0.1" });
   * const got = await sock.recv({ signal: AbortSignal.timeout(1) }).catch(() => null);
   * console.log(got); // null (nothing came)
   * ```
   */
  recv(options: UdpWaitOptions = {}): Promise<UdpDatagram | null> {
    return this.#wait(0, options.signal) as Promise<UdpDatagram | null>;
  }

  /**
   * Waits for at least one datagram and returns those already received, at
   * most `max` (default 32); null once the socket is closed.
   *
   * @example
   * ```ts
   * import { bindUDP } from "./udp.ts";
   * using sock = bindUDP({ host: "127.0.0.1" });
   * await sock.send(new Uint8Array([1]), sock.localAddress);
   * await sock.send(new Uint8Array([2]), sock.localAddress);
   * for (const d of (await sock.recvBatch({ max: 64 })) ?? []) console.log(d.data); // one or both datagrams
   * ```
   */
  recvBatch(options: UdpRecvBatchOptions = {}): Promise<UdpDatagram[] | null> {
    const max = options.max ?? RECV_BATCH_DEFAULT;
    if (!Number.isInteger(max) || max < 1) return Promise.reject(new RangeError(`max must be a positive integer, got ${String(max)}`));
    return this.#wait(max, options.signal) as Promise<UdpDatagram[] | null>;
  }

  /** Async iteration over received datagrams until the socket closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<UdpDatagram, void, undefined> {
    for (;;) {
      const d = await this.recv();
      if (d === null) return;
      yield d;
    }
  }

  /** Handler mode: stops reading (the kernel buffers, then drops). */
  pause(): void {
    this.#paused = true;
    this.#setInterest();
  }

  /** Resumes reading after {@link UdpSocket.pause}. */
  resume(): void {
    this.#paused = false;
    this.#setInterest();
  }

  /** Keeps the process alive while the socket is open (the default). */
  ref(): this {
    this.#watcher.ref();
    return this;
  }

  /** Lets the process exit while the socket is open. */
  unref(): this {
    this.#watcher.unref();
    return this;
  }

  /** Whether the socket keeps the process alive. */
  hasRef(): boolean {
    return !this.#closed && this.#watcher.hasRef();
  }

  /**
   * Closes the socket (idempotent): waiting `recv`s give null, waiting
   * sends reject with SocketClosedError ECANCELED, the handler's `close`
   * runs.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#watcher.close();
    } finally {
      this.dgram.close();
    }
    this.#queue.close();
    this.#sends.close();
    this.#handler?.close?.(this);
  }

  /** Same as {@link UdpSocket.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@link UdpSocket.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** A short description for logs. */
  toString(): string {
    return `UDP socket ${this.localAddress.host}:${this.localAddress.port}${this.#closed ? " (closed)" : ""}`;
  }

  #wait(max: number, signal: AbortSignal | undefined): Promise<UdpDatagram | UdpDatagram[] | null> {
    if (this.#handler !== undefined) return Promise.reject(new TypeError("recv() and recvBatch() are for sockets without a handler"));
    if (this.#closed) return Promise.resolve(null);
    const waiting = this.#queue.wait(max, signal);
    this.#setInterest();
    return waiting;
  }

  /** WRITABLE: sends what waits, in order; then `drain` if `trySend` was refused. */
  #flush(): void {
    if (!this.#sends.flush() || !this.#wantDrain) return;
    this.#wantDrain = false;
    this.#handler?.drain?.(this);
  }

  #reading(): boolean {
    return this.#handler !== undefined ? !this.#paused : this.#queue.room() > 0;
  }

  #setInterest(): void {
    if (this.#closed) return;
    const events = (this.#reading() ? READABLE : 0) | (this.#sends.length > 0 || this.#wantDrain ? WRITABLE : 0);
    const watcher = this.#watcher;
    // A stopped watcher hears nothing: not even an error that would be reported again and again.
    if (events === 0) {
      if (watcher.active) watcher.stop();
    } else if (!watcher.active) watcher.start(events);
    else watcher.update(events);
  }

  #onEvents = (events: number): void => {
    if (this.#closed) return;
    let thrown: unknown = undefined;
    let threw = false;
    try {
      if (events & WRITABLE) this.#flush();
      if (!this.#closed && events & (READABLE | ERROR | HANGUP)) {
        if (this.#watcher.events & READABLE) this.#readRound();
        else this.#takeSocketError();
      }
    } catch (err) {
      // a callback threw: the loop reports it (its onError), after the interest is right
      thrown = err;
      threw = true;
    }
    this.#setInterest();
    if (threw) throw thrown;
  };

  /** An error reported while not reading (an ICMP error on a connected socket): read SO_ERROR, which clears it. */
  #takeSocketError(): void {
    const errno = getIntOption(this.dgram.fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
    if (errno !== 0) this.#failed(sysError(errno, "recv"));
  }

  #failed(error: Error): void {
    const handler = this.#handler;
    if (handler === undefined) {
      this.#queue.push(error);
      this.#queue.settle();
    } else if (handler.error !== undefined) handler.error(this, error);
    else {
      this.#loop.timers.once(0, () => {
        throw error;
      });
    }
  }

  #receive(count: number): ReceivedDatagram[] | null {
    if (!this.#batched) {
      const d = this.dgram.recvFrom(this.#buffers[0]!);
      return d === null ? null : [d];
    }
    return this.dgram.recvBatch(count === this.#buffers.length ? this.#buffers : this.#buffers.slice(0, count));
  }

  /** READABLE: up to READ_BUDGET datagrams, to the handler or the queue. */
  #readRound(): void {
    const handler = this.#handler;
    const buffers = this.#buffers;
    let budget = READ_BUDGET;
    let thrown: unknown = undefined;
    let threw = false;
    while (budget > 0 && !this.#closed) {
      let want = Math.min(buffers.length, budget);
      if (handler !== undefined) {
        if (this.#paused) break;
      } else want = Math.min(want, this.#queue.room());
      if (want <= 0) break;
      let got: ReceivedDatagram[] | null;
      try {
        got = this.#receive(want);
      } catch (err) {
        budget--;
        this.#failed(err as Error);
        continue;
      }
      if (got === null) break;
      for (let i = 0; i < got.length && !this.#closed; i++) {
        const d = got[i]!;
        const buffer = buffers[i]!;
        if (handler === undefined) {
          this.#queue.push({ data: buffer.slice(0, d.bytes), address: addressOf(d), truncated: d.truncated });
          continue;
        }
        try {
          handler.message(this, this.#copy ? buffer.slice(0, d.bytes) : buffer.subarray(0, d.bytes), addressOf(d), d.truncated);
        } catch (err) {
          if (!threw) thrown = err;
          threw = true;
        }
      }
      if (handler === undefined) this.#queue.settle();
      budget -= got.length;
      if (this.#batched && got.length < want) break; // the kernel's queue is empty
    }
    if (threw) throw thrown;
  }
}

/**
 * Binds an async UDP socket on a loop (see {@link BindUDPOptions}; an
 * unknown option key is a TypeError). With `handler`, datagrams go to its
 * `message` callback; without, to `recv()`, `recvBatch()` and `for await`.
 *
 * @example
 * ```ts
 * import { bindUDP } from "./udp.ts";
 * const server = bindUDP({
 *   host: "127.0.0.1",
 *   port: 0,
 *   handler: { message: (sock, data, from) => void sock.trySend(data, from) },
 * });
 * console.log(server.localAddress.port > 0); // true
 * server.close();
 * ```
 */
export function bindUDP(options: BindUDPOptions = {}): UdpSocket {
  checkUDPOptions(options, "bindUDP");
  udpBounds(options); // before a socket exists
  const dgram = openDgram(options);
  try {
    return new UdpSocket(dgram, options);
  } catch (err) {
    dgram.close();
    throw err;
  }
}

/**
 * Runs a synchronous {@link Dgram} (set up with its own calls, or made from
 * a descriptor received from another Worker) as an async socket on a loop.
 * The socket is made non-blocking, and the UdpSocket owns it from now on.
 *
 * @example
 * ```ts
 * import { adoptUDP } from "./udp.ts";
 * import { Dgram } from "../socket/dgram.ts";
 * const dgram = Dgram.create("ipv4");
 * dgram.setReuseAddr(true);
 * dgram.bind("127.0.0.1", 0);
 * using sock = adoptUDP(dgram, { maxQueuedDatagrams: 16 });
 * console.log(sock.maxQueuedDatagrams); // 16
 * ```
 */
export function adoptUDP(dgram: Dgram, options: AdoptUDPOptions = {}): UdpSocket {
  checkUDPOptions(options, "adoptUDP");
  return new UdpSocket(dgram, options);
}
