/**
 * A {@link Transport} that hands its connection some bytes read earlier
 * before anything from the transport under it: the first bytes of a
 * tunnel that came in the same read as the proxy's reply (over an
 * `https://` proxy the reply is read from a TLS connection, where nothing
 * can be peeked and left in the kernel). The inner transport's reading
 * stays off until the prefix is delivered, so order is kept; everything
 * else passes through. Like every transport it reads from the start (the
 * prefix is delivered on a microtask after construction).
 *
 * @example
 * ```ts ignore
 * import { prefixedTransport } from "./prefixed_transport.ts";
 * const factory = prefixedTransport(connectionTransport(tlsToProxy), leftover);
 * const tunnel = new Connection(loop, tlsToProxy.socket, handler, {}, factory);
 * ```
 *
 * @module
 */
import { queueTransportStep, type Transport, type TransportFactory, type TransportSink } from "../../poll/transport.ts";

/**
 * A factory of transports over `inner` that deliver `prefix` first. The
 * inner transport may start paused (a connection paused after a
 * handshake): it is switched to reading once the prefix is delivered.
 *
 * @example
 * ```ts ignore
 * const factory = prefixedTransport(connectionTransport(conn), new TextEncoder().encode("BANNER"));
 * ```
 */
export function prefixedTransport(inner: TransportFactory, prefix: Uint8Array): TransportFactory {
  return (sink, queue) => new PrefixedTransport(inner(sink, queue), sink, prefix);
}

/**
 * The transport of {@link prefixedTransport} (see the module text).
 *
 * @example
 * ```ts ignore
 * const t = new PrefixedTransport(inner, sink, prefix);
 * t.update(true); // delivers the prefix (on a microtask), then reads from inner
 * ```
 */
export class PrefixedTransport implements Transport {
  readonly #inner: Transport;
  readonly #sink: TransportSink;
  #prefix: Uint8Array | null;
  #reading = false;
  #scheduled = false;
  #closed = false;

  /** A transport over `inner` that hands `sink` the bytes of `prefix` first. */
  constructor(inner: Transport, sink: TransportSink, prefix: Uint8Array) {
    this.#inner = inner;
    this.#sink = sink;
    this.#prefix = prefix.length === 0 ? null : prefix;
    inner.update(false);
    // A transport reads from the start: the prefix goes once the connection is built.
    this.update(true);
  }

  /** Whether `detach()` may hand out the descriptor: the inner transport's answer. */
  get detachable(): boolean {
    return this.#inner.detachable ?? true;
  }

  trySend(data: Uint8Array): number {
    return this.#inner.trySend(data);
  }

  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    this.#inner.queue(data, offset, done);
  }

  flush(): void {
    this.#inner.flush();
  }

  update(reading: boolean): void {
    if (this.#closed) return;
    this.#reading = reading;
    if (this.#prefix === null) {
      this.#inner.update(reading);
      return;
    }
    this.#inner.update(false);
    if (reading && !this.#scheduled) {
      this.#scheduled = true;
      queueTransportStep(this.#sink, this.#deliver);
    }
  }

  shutdown(): void {
    this.#inner.shutdown();
  }

  ref(): void {
    this.#inner.ref();
  }

  unref(): void {
    this.#inner.unref();
  }

  close(keepFd: boolean, reset?: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#prefix = null;
    this.#inner.close(keepFd, reset);
  }

  /**
   * Hands over as much of the prefix as the connection takes now; then
   * reading goes to the inner transport. It runs on a microtask (outside
   * the loop's tick): a throw from the handler goes to the loop's
   * `onError` (queueTransportStep), and reading goes on after it as after
   * a throw in a tick's dispatch.
   */
  readonly #deliver = (): void => {
    this.#scheduled = false;
    const prefix = this.#prefix;
    if (this.#closed || !this.#reading || prefix === null) return;
    const n = Math.min(this.#sink.recvLimit(), prefix.length);
    if (n <= 0) return; // the connection calls update() again when it has room
    this.#prefix = n === prefix.length ? null : prefix.subarray(n);
    try {
      this.#sink.received(prefix.subarray(0, n));
    } finally {
      if (!this.#closed) {
        if (this.#prefix === null) this.#inner.update(this.#reading);
        else if (this.#reading) this.update(true);
      }
    }
  };
}
