/**
 * An open {@link Connection} as an inner {@link Transport}: TLS in
 * memory-BIO mode over any connection — one on the io_uring loop, a proxy
 * tunnel, a TLS connection (TLS inside TLS). The connection is switched to
 * handler mode (its bytes are pushed to the sink as they arrive); writes go
 * through `send()`, held back in this transport's queue while the
 * connection is at its high-water mark.
 *
 * @example
 * ```ts ignore
 * const factory = tlsBioTransport(connectionTransport(tunnel), engine, onHandshake);
 * ```
 *
 * @module
 */
import type { Connection } from "../poll/connection.ts";
import type { Transport, TransportFactory, TransportSink } from "../poll/transport.ts";
import type { WriteQueue } from "../poll/write_queue.ts";
import { guardShutdown, shutdownBehindQueue } from "../socket/socket_core.ts";

const EMPTY = new Uint8Array(0);

/** Connections whose transport runs over another connection, not a bare descriptor. */
const layered = new WeakSet<Connection>();

/**
 * Marks `conn` as running over another connection (a tunnel through an
 * `https://` proxy, say): it has no descriptor of its own to hand to
 * OpenSSL, so TLS over it must run in memory-BIO mode.
 *
 * @example
 * ```ts ignore
 * const tunnel = new Connection(loop, tls.socket, undefined, {}, connectionTransport(tls));
 * markLayered(tunnel);
 * ```
 */
export function markLayered(conn: Connection): void {
  layered.add(conn);
}

/**
 * Whether `conn` runs over another connection (see {@link markLayered}).
 *
 * @example
 * ```ts ignore
 * const bio = isLayered(conn) || tlsInfo(conn) !== null;
 * ```
 */
export function isLayered(conn: Connection): boolean {
  return layered.has(conn);
}

/**
 * A factory of transports over `conn` (which must be fresh: bytes it
 * buffered for `read()` before are not seen).
 *
 * @example
 * ```ts ignore
 * const factory = connectionTransport(conn);
 * ```
 */
export function connectionTransport(conn: Connection): TransportFactory {
  return (sink, queue) => new ConnectionTransport(conn, sink, queue);
}

/**
 * Bytes through a {@link Connection} (see the module text).
 *
 * @example
 * ```ts ignore
 * const t = new ConnectionTransport(conn, sink, queue);
 * t.close(false); // conn.close()
 * ```
 */
export class ConnectionTransport implements Transport {
  /** The descriptor belongs to the connection under this one: `detach()` of the one over it throws. */
  readonly detachable = false;
  readonly #conn: Connection;
  readonly #sink: TransportSink;
  readonly #queue: WriteQueue;
  #closed = false;
  /** Takes this transport's shutdown guard off the socket underneath (see close). */
  readonly #unguard: () => void;

  constructor(conn: Connection, sink: TransportSink, queue: WriteQueue) {
    this.#conn = conn;
    this.#sink = sink;
    this.#queue = queue;
    // Records held here (the connection underneath at its high-water mark)
    // go before a raw `socket.shutdown("write")`: its FIN waits for them to
    // reach that connection, then for that connection's own queue.
    this.#unguard = guardShutdown(conn.socket, shutdownBehindQueue(
      () => this.#closed || queue.empty,
      () => this.#closed,
      (done) => this.queue(EMPTY, 0, done),
    ));
    // The peer's hang-up while this layer paused the connection (a reset
    // after a close_notify, say) is this layer's to settle, as over a
    // descriptor of its own.
    conn._layerHangUp(() => this.#closed || sink.hungUp());
    conn.setHandler({
      data: (_c, bytes) => {
        if (!this.#closed) sink.received(bytes);
      },
      end: () => {
        if (!this.#closed) sink.receivedEnd();
      },
      drain: () => {
        if (!this.#closed) this.flush();
      },
      close: (_c, error) => {
        if (this.#closed) return;
        this.#closed = true;
        this.#unguard();
        conn._layerHangUp(undefined);
        if (error !== undefined) sink.failed(error);
        else sink.receivedEnd();
      },
    });
  }

  #room(): boolean {
    return this.#conn.bufferedAmount < this.#conn.highWaterMark;
  }

  /**
   * Hands the connection underneath at most what it has room for below its
   * high-water mark (as a socket takes what its buffer holds): handing it
   * all made a write of any size resolve at once, its bytes queued below
   * where this connection's backpressure did not see them.
   */
  trySend(data: Uint8Array): number {
    if (this.#closed) return 0;
    const room = this.#conn.highWaterMark - this.#conn.bufferedAmount;
    if (room <= 0) return 0;
    const n = Math.min(data.length, room);
    try {
      this.#conn.send(n === data.length ? data : data.subarray(0, n));
    } catch (err) {
      this.#sink.failed(err as Error);
      return -1;
    }
    return n;
  }

  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    this.#queue.push(data.slice(offset), done);
    this.flush();
  }

  flush(): void {
    const out = this.#queue;
    let sent = 0;
    for (let head = out.head(); head !== undefined && !this.#closed; head = out.head()) {
      if (head.length === 0) {
        out.consume(0);
        continue;
      }
      if (!this.#room()) break;
      const n = this.trySend(head);
      if (n < 0) return;
      sent += n;
      out.consume(n);
    }
    if (!this.#closed) this.#sink.sent(sent);
  }

  update(reading: boolean): void {
    if (this.#closed) return;
    if (reading) this.#conn.resume();
    else this.#conn.pause();
  }

  shutdown(): void {
    void this.#conn.end();
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }

  close(_keepFd: boolean, reset = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unguard();
    this.#conn._layerHangUp(undefined);
    // What is still queued is failed by the connection that closes this
    // transport, with its reason (an abort's, a signal's, a failure's) or
    // EPIPE, as over a descriptor: failing it here first gave every write
    // EPIPE, whatever the reason.
    // An abort aborts the connection underneath: a graceful close flushed
    // what it held first, for good when its peer does not read.
    if (reset) this.#conn.abort();
    else void this.#conn.close();
  }
}
