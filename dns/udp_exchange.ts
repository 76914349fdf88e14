/**
 * One DNS exchange over UDP on the loop, from a fresh socket on a random
 * port: send the query, then take datagrams until the acceptor takes one. The
 * socket is not bound explicitly: the first `sendto` binds it to an
 * ephemeral port the kernel picks at random, the same pick as `bind` to
 * port 0 (Linux: a random start in `ip_local_port_range`), one system
 * call less per query. A bare descriptor ({@link openQuerySocket}: no
 * Dgram object, the server's address encoded once, the sender compared
 * as sockaddr bytes), one object per exchange and a shared timer per
 * time limit: a fresh socket per query is the Kaminsky defence, so its
 * cost is paid on every uncached lookup.
 *
 * @example
 * ```ts
 * import { IGNORE, udpExchange } from "./udp_exchange.ts";
 * import { encodePeer } from "../socket/udp_query.ts";
 * const signal = AbortSignal.timeout(50);
 * await udpExchange(encodePeer("127.0.0.1", 9), new Uint8Array(12), 512, { accept: () => IGNORE }, signal).catch(() => console.log("no answer"));
 * ```
 *
 * @module
 */
import { SocketError } from "../core/errors.ts";
import { READABLE } from "../poll/backend.ts";
import type { IoWatcher } from "../poll/io_watcher.ts";
import { defaultLoop, type Loop } from "../poll/loop.ts";
import { AnswerLatency } from "./answer_latency.ts";
import { type Deadline, DeadlineQueue, type Expirable } from "./deadline_queue.ts";
import { closeQuerySocket, type EncodedPeer, openQuerySocket, recvAnswer, sendQuery, SourceAddress } from "../socket/udp_query.ts";

/**
 * A time limit of one exchange: after `ms` it rejects with `error()`. Cheaper
 * than a linked `AbortSignal` with its own timer (no controller, no listener).
 */
export interface ExchangeTimeout {
  readonly ms: number;
  readonly error: () => Error;
}

/**
 * What an acceptor returns for a datagram that does not end the exchange.
 *
 * @example
 * ```ts
 * import { type DatagramAcceptor, IGNORE } from "./udp_exchange.ts";
 * const firstByte: DatagramAcceptor<number> = { accept: (data, _truncated, fromServer) => (fromServer && data.length > 0 ? data[0]! : IGNORE) };
 * console.log(firstByte.accept(new Uint8Array([7]), false, false) === IGNORE); // true
 * ```
 */
export const IGNORE: unique symbol = Symbol("ignore");

/**
 * Judges the datagrams of one exchange: told each datagram (a view valid
 * only during the call), whether it was cut to `maxBytes`, and whether it
 * came from the server's address and port (anything else should be
 * ignored); returns {@link IGNORE}, or the exchange's value. It may throw
 * to end the exchange with that error.
 */
export interface DatagramAcceptor<T> {
  accept(data: Uint8Array, truncated: boolean, fromServer: boolean): T | typeof IGNORE;
}

/**
 * Sends `query` to `server` from a fresh port and resolves with the first
 * value `acceptor` takes; rejects with the signal's reason, the `timeout`'s
 * error or a socket error.
 *
 * @example
 * ```ts
 * import { udpExchange } from "./udp_exchange.ts";
 * console.log(typeof udpExchange); // "function"
 * ```
 */
export function udpExchange<T>(
  server: EncodedPeer,
  query: Uint8Array,
  maxBytes: number,
  acceptor: DatagramAcceptor<T>,
  signal: AbortSignal | undefined,
  loop: Loop = defaultLoop(),
  pool?: UdpSocketPool,
  timeout?: ExchangeTimeout,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  let lease: PooledSocket;
  try {
    lease = pool !== undefined ? pool.acquire(server.family) : PooledSocket.open(loop, server.family);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Exchange(server, lease, receiveBuffer(maxBytes), acceptor, signal, pool, timeout).start(query, loop);
}

/** How soon answers come on this path (the io_uring path keeps its own). */
const LATENCY = new AnswerLatency();

/**
 * One exchange's state, in one object (its socket reader, deadline owner
 * and abort listener) rather than a closure for each role.
 */
class Exchange<T> implements SocketReader, Expirable, EventListenerObject {
  readonly #server: EncodedPeer;
  readonly #lease: PooledSocket;
  readonly #buffer: Uint8Array;
  readonly #acceptor: DatagramAcceptor<T>;
  readonly #signal: AbortSignal | undefined;
  readonly #pool: UdpSocketPool | undefined;
  readonly #timeout: ExchangeTimeout | undefined;
  #queue: DeadlineQueue | undefined;
  #deadline: Deadline | undefined;
  #done = false;
  #sentAt = 0;
  #resolve!: (value: T) => void;
  #reject!: (err: unknown) => void;

  constructor(
    server: EncodedPeer,
    lease: PooledSocket,
    buffer: Uint8Array,
    acceptor: DatagramAcceptor<T>,
    signal: AbortSignal | undefined,
    pool: UdpSocketPool | undefined,
    timeout: ExchangeTimeout | undefined,
  ) {
    this.#server = server;
    this.#lease = lease;
    this.#buffer = buffer;
    this.#acceptor = acceptor;
    this.#signal = signal;
    this.#pool = pool;
    this.#timeout = timeout;
  }

  start(query: Uint8Array, loop: Loop): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    try {
      this.#lease.reader = this;
      this.#signal?.addEventListener("abort", this); // finish() removes it
      if (this.#timeout !== undefined) {
        this.#queue = deadlines(this.#timeout.ms);
        this.#deadline = this.#queue.add(this);
      }
      // A socket between queries has an empty send buffer: a small datagram goes at once.
      if (sendQuery(this.#lease.fd, query, this.#server) === null) this.#fail(new SocketError("EAGAIN", "sendto would block on an idle socket", { syscall: "sendto" }));
      else {
        // A near server's answer is waited for with short blocking waits rather than a parked wait (see answer_latency.ts).
        this.#sentAt = performance.now();
        const ms = LATENCY.expectMs();
        if (ms > 0) loop.expectEvents(ms);
      }
    } catch (err) {
      this.#fail(err);
    }
    return promise;
  }

  /** The socket is readable: datagrams until one is taken (64 at most per report). */
  readable(): void {
    const buffer = this.#buffer;
    const fd = this.#lease.fd;
    try {
      for (let i = 0; i < 64 && !this.#done; i++) {
        const n = recvAnswer(fd, buffer, SOURCE);
        if (n === null) return;
        const truncated = n > buffer.byteLength;
        const verdict = this.#acceptor.accept(truncated ? buffer : buffer.subarray(0, n), truncated, SOURCE.is(this.#server));
        if (verdict !== IGNORE && this.#end()) {
          LATENCY.observe(performance.now() - this.#sentAt);
          this.#resolve(verdict);
        }
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The deadline passed. */
  expire(): void {
    LATENCY.observe(performance.now() - this.#sentAt);
    this.#fail(this.#timeout!.error());
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.#fail(this.#signal!.reason);
  }

  #fail(err: unknown): void {
    if (this.#end()) this.#reject(err);
  }

  /** Releases everything once; false when the exchange had ended already. */
  #end(): boolean {
    if (this.#done) return false;
    this.#done = true;
    if (this.#deadline !== undefined) this.#queue!.cancel(this.#deadline);
    this.#signal?.removeEventListener("abort", this);
    this.#lease.reader = null;
    if (this.#pool !== undefined) this.#pool.release(this.#lease);
    else this.#lease.close();
    return true;
  }
}

/** Time limits by duration: one runtime timer per duration instead of one per exchange. */
const QUEUES = new Map<number, DeadlineQueue>();
/**
 * @internal The deadline queue of exchanges limited to `ms` (shared by every
 * exchange path: one runtime timer per duration).
 *
 * @example
 * ```ts
 * import { exchangeDeadlines } from "./udp_exchange.ts";
 * console.log(exchangeDeadlines(1000) === exchangeDeadlines(1000)); // true
 * ```
 */
export function exchangeDeadlines(ms: number): DeadlineQueue {
  return deadlines(ms);
}
function deadlines(ms: number): DeadlineQueue {
  let queue = QUEUES.get(ms);
  if (queue === undefined) {
    // A few durations in practice (one per resolver configuration); bounded all the same.
    if (QUEUES.size >= 64) for (const [k, q] of QUEUES) if (q.live === 0) QUEUES.delete(k);
    queue = new DeadlineQueue(ms);
    QUEUES.set(ms, queue);
  }
  return queue;
}

const SCRATCH = new Uint8Array(1);
/** The sender of the datagram just received (read at once, so one serves every exchange). */
const SOURCE = new SourceAddress();

/** One receive buffer for every exchange: `accept` sees a view of it only during its call. */
let shared = new Uint8Array(0);
function receiveBuffer(maxBytes: number): Uint8Array {
  if (shared.byteLength < maxBytes) shared = new Uint8Array(maxBytes);
  return shared.byteLength === maxBytes ? shared : shared.subarray(0, maxBytes);
}

/** What a {@link PooledSocket} tells when readable. */
export interface SocketReader {
  readable(): void;
}

/**
 * @internal A UDP socket on a random port (the kernel's pick when its
 * first datagram goes out: no explicit bind) and watched on the loop, with the callback of its current exchange.
 *
 * @example
 * ```ts
 * import { PooledSocket } from "./udp_exchange.ts";
 * import { defaultLoop } from "../poll/loop.ts";
 * const s = PooledSocket.open(defaultLoop(), "ipv4");
 * s.hold(false); // idle: does not keep the loop alive
 * s.close();
 * ```
 */
export class PooledSocket {
  /** The descriptor (from {@link openQuerySocket}). */
  readonly fd: number;
  readonly family: "ipv4" | "ipv6";
  /** Exchanges it carried (the current one included). */
  uses = 0;
  /** The current exchange; between exchanges (null), stray datagrams are dropped. */
  reader: SocketReader | null = null;
  readonly #watcher: IoWatcher;
  #closed = false;

  private constructor(loop: Loop, fd: number, family: "ipv4" | "ipv6") {
    this.fd = fd;
    this.family = family;
    this.#watcher = loop.watch(fd, READABLE, () => {
      if (this.reader !== null) this.reader.readable();
      else this.drain();
    });
  }

  /** A new socket on `loop`; its first `sendto` binds it to a random port. */
  static open(loop: Loop, family: "ipv4" | "ipv6"): PooledSocket {
    const fd = openQuerySocket(family);
    try {
      return new PooledSocket(loop, fd, family);
    } catch (err) {
      closeQuerySocket(fd);
      throw err;
    }
  }

  /** Drops what is queued (late answers of finished exchanges). */
  drain(): void {
    for (let i = 0; i < 64; i++) if (recvAnswer(this.fd, SCRATCH, SOURCE) === null) return;
  }

  /** Keeps (true) or stops keeping (false) the loop alive. */
  hold(on: boolean): void {
    if (on) this.#watcher.ref();
    else this.#watcher.unref();
  }

  /** Unwatches and closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The socket is never shared: its close unregisters it (one epoll_ctl less).
    this.#watcher.closeForFdClose();
    closeQuerySocket(this.fd);
  }
}

/**
 * Sockets kept between queries so an uncached lookup skips socket(),
 * two epoll_ctl() and close(). Each socket is bound to its own
 * random port and carries at most `maxUses` exchanges, one at a time,
 * before it is closed: 1 means a fresh port for every query (the
 * Kaminsky defence at its strongest: no port is ever used twice); 16
 * keeps a port for up to 16 consecutive queries (c-ares keeps one port
 * for all of them). At most `maxIdle` sockets per family wait between
 * queries; idle sockets do not keep the loop alive.
 *
 * @example
 * ```ts
 * import { UdpSocketPool } from "./udp_exchange.ts";
 * import { defaultLoop } from "../poll/loop.ts";
 * const pool = new UdpSocketPool(defaultLoop(), 8);
 * console.log(pool.idle); // 0
 * pool.close();
 * ```
 */
export class UdpSocketPool {
  readonly maxUses: number;
  readonly maxIdle: number;
  readonly #loop: Loop;
  readonly #idle: PooledSocket[] = [];

  constructor(loop: Loop, maxUses: number, maxIdle = 16) {
    if (!Number.isSafeInteger(maxUses) || maxUses < 1) throw new RangeError(`maxUses must be a positive integer, got ${maxUses}`);
    this.#loop = loop;
    this.maxUses = maxUses;
    this.maxIdle = maxIdle;
  }

  /** Sockets waiting between queries. */
  get idle(): number {
    return this.#idle.length;
  }

  /** A socket for one exchange: the idle one of `family` that waited longest, else a new one. */
  acquire(family: "ipv4" | "ipv6"): PooledSocket {
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const s = this.#idle[i]!;
      if (s.family !== family) continue;
      this.#idle.splice(i, 1);
      s.uses++;
      s.hold(true);
      return s;
    }
    const s = PooledSocket.open(this.#loop, family);
    s.uses = 1;
    return s;
  }

  /** Hands a socket back after its exchange: kept when it has uses left and there is room, else closed. */
  release(s: PooledSocket): void {
    s.reader = null;
    if (s.uses >= this.maxUses || this.#idle.length >= this.maxIdle) {
      s.close();
      return;
    }
    try {
      s.drain();
      s.hold(false);
    } catch {
      s.close();
      return;
    }
    this.#idle.unshift(s);
  }

  /** Closes every idle socket. */
  close(): void {
    for (const s of this.#idle.splice(0)) s.close();
  }
}
