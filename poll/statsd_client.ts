/**
 * A StatsD client over our own UDP socket ({@link bindUDP}): push-style
 * `increment`/`gauge`/`timing`/`histogram` calls with client-side sample
 * rates, an optional {@link MetricsRegistry} pushed at every flush, lines
 * batched into datagrams of at most `mtu` bytes (default 1432: an
 * Ethernet frame less IPv6 and UDP headers) and sent every
 * `flushIntervalMs` (default 1000; the timer does not keep the process
 * alive) or as soon as a datagram is full.
 *
 * StatsD is fire-and-forget: the socket is not connected (so ICMP errors
 * never fail a send), a send that fails is counted in `errors` and handed
 * to `onError`, and nothing ever throws into the caller of `increment`.
 * The host must be an IP literal (resolve names first with `dns/`).
 *
 * @example
 * ```ts
 * import { bindUDP } from "./udp.ts";
 * import { StatsdClient } from "./statsd_client.ts";
 * using server = bindUDP({ host: "127.0.0.1" });
 * const statsd = new StatsdClient({ host: "127.0.0.1", port: server.port, prefix: "app." });
 * statsd.increment("requests");
 * statsd.timing("latency", 12.5);
 * await statsd.close(); // flushes
 * const d = await server.recv();
 * console.log(new TextDecoder().decode(d!.data)); // "app.requests:1|c\napp.latency:12.5|ms"
 * ```
 *
 * @module
 */
import type { Labels, MetricsRegistry } from "../core/metrics.ts";
import { checkOptions } from "../core/options.ts";
import { formatStatsdLine, StatsdBatcher, StatsdExporter, type StatsdType } from "../core/statsd.ts";
import type { Timer } from "../core/timer_heap.ts";
import { checkPort, isIPv4, isIPv6 } from "../socket/address.ts";
import { defaultLoop, type Loop } from "./loop.ts";
import { bindUDP, type UdpSocket } from "./udp.ts";

/** Options of a {@link StatsdClient}. */
export interface StatsdClientOptions {
  /** The StatsD server's IP literal. */
  host: string;
  /** Its port (8125 by convention). */
  port: number;
  /** Prepended to every name (`"app."`). */
  prefix?: string;
  /** Datagram payload bound in bytes (default 1432). */
  mtu?: number;
  /** Milliseconds between flushes (default 1000; 0: only when a datagram is full or on `flush()`). */
  flushIntervalMs?: number;
  /** Tags added to every line (DogStatsD `|#k:v`). */
  tags?: Labels;
  /** A registry whose snapshot is pushed at every flush (counters as increases). */
  registry?: MetricsRegistry;
  /** Registry labels as DogStatsD tags (default true) or dotted name parts. */
  registryTags?: boolean;
  /** The random source of sampling (default `Math.random`). */
  random?: () => number;
  /** Called with each failed send, and with the error of a `registry` read that threw (an exception it throws is ignored). */
  onError?: (error: unknown) => void;
  /** The loop (default: the default loop). */
  loop?: Loop;
}

const STATSD_CLIENT_KEYS: ReadonlySet<string> = new Set([
  "host", "port", "prefix", "mtu", "flushIntervalMs", "tags", "registry", "registryTags", "random", "onError", "loop",
]);

/** Per-call options of a {@link StatsdClient} metric. */
export interface StatsdSendOptions {
  /** Send this event with probability `sampleRate` (0 < rate ≤ 1), marked `|@rate`. */
  sampleRate?: number;
  /** Tags of this line (merged over the client's). */
  tags?: Labels;
}

/**
 * Sends StatsD metrics over UDP (see the module doc).
 *
 * @example
 * ```ts
 * import { StatsdClient } from "./statsd_client.ts";
 * const statsd = new StatsdClient({ host: "127.0.0.1", port: 8125, flushIntervalMs: 0 });
 * statsd.gauge("queue_depth", 3);
 * await statsd.close();
 * ```
 */
export class StatsdClient {
  /** Datagrams handed to the kernel. */
  sent = 0;
  /** Sends that failed, and reads of `registry` that threw. */
  errors = 0;
  readonly #socket: UdpSocket;
  readonly #target: { host: string; port: number };
  readonly #prefix: string;
  readonly #tags: Labels | undefined;
  readonly #batcher: StatsdBatcher;
  readonly #random: () => number;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #registry: MetricsRegistry | undefined;
  readonly #exporter: StatsdExporter;
  readonly #timer: Timer | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  /** Creates a UDP StatsD client for `options.host` (an IP literal) and `options.port`, flushing batches every `flushIntervalMs` (default 1000 ms); throws TypeError/RangeError for bad options. */
  constructor(options: StatsdClientOptions) {
    checkOptions(options, STATSD_CLIENT_KEYS, "StatsdClient");
    if (options === undefined || !(isIPv4(options.host) || isIPv6(options.host))) throw new TypeError("StatsdClient: host must be an IP literal");
    checkPort(options.port);
    const interval = options.flushIntervalMs ?? 1000;
    if (!(interval >= 0 && Number.isFinite(interval))) throw new RangeError(`StatsdClient: flushIntervalMs must be >= 0, got ${String(interval)}`);
    this.#batcher = new StatsdBatcher(options.mtu ?? 1432);
    this.#target = { host: options.host, port: options.port };
    this.#prefix = options.prefix ?? "";
    this.#tags = options.tags;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError;
    this.#registry = options.registry;
    this.#exporter = new StatsdExporter({ prefix: this.#prefix, tags: options.registryTags ?? true });
    const loop = options.loop ?? defaultLoop();
    this.#socket = bindUDP({ host: isIPv6(options.host) ? "::" : "0.0.0.0", loop });
    this.#socket.unref();
    this.#timer = interval > 0 ? loop.timers.every(interval, () => void this.flush()).unref() : undefined;
  }

  /**
   * Counts `n` events (`|c`).
   *
   * @example
   * ```ts
   * import { StatsdClient } from "./statsd_client.ts";
   * await using statsd = new StatsdClient({ host: "127.0.0.1", port: 8125 });
   * statsd.increment("cache.miss", 1, { sampleRate: 0.1 }); // sent one time in ten, as "cache.miss:1|c|@0.1"
   * ```
   */
  increment(name: string, n = 1, options: StatsdSendOptions = {}): void {
    this.#line(name, n, "c", options);
  }

  /**
   * Sets a gauge (`|g`).
   *
   * @example
   * ```ts
   * import { StatsdClient } from "./statsd_client.ts";
   * await using statsd = new StatsdClient({ host: "127.0.0.1", port: 8125 });
   * statsd.gauge("connections", 12);
   * ```
   */
  gauge(name: string, value: number, options: StatsdSendOptions = {}): void {
    this.#line(name, value, "g", options);
  }

  /**
   * Records a duration in milliseconds (`|ms`).
   *
   * @example
   * ```ts
   * import { StatsdClient } from "./statsd_client.ts";
   * await using statsd = new StatsdClient({ host: "127.0.0.1", port: 8125 });
   * statsd.timing("db.query", 4.2);
   * ```
   */
  timing(name: string, ms: number, options: StatsdSendOptions = {}): void {
    this.#line(name, ms, "ms", options);
  }

  /**
   * Records a value of a distribution (`|h`).
   *
   * @example
   * ```ts
   * import { StatsdClient } from "./statsd_client.ts";
   * await using statsd = new StatsdClient({ host: "127.0.0.1", port: 8125 });
   * statsd.histogram("response.bytes", 5120);
   * ```
   */
  histogram(name: string, value: number, options: StatsdSendOptions = {}): void {
    this.#line(name, value, "h", options);
  }

  /**
   * Pushes the registry (if any), sends every waiting line and resolves
   * once the kernel took them.
   *
   * @example
   * ```ts
   * import { StatsdClient } from "./statsd_client.ts";
   * await using statsd = new StatsdClient({ host: "127.0.0.1", port: 8125, flushIntervalMs: 0 });
   * statsd.increment("x");
   * await statsd.flush();
   * ```
   */
  flush(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#registry !== undefined) {
      let lines: string[];
      try {
        lines = this.#exporter.lines(this.#registry.snapshot());
      } catch (error) {
        lines = []; // a collector that throws: counted as a failure, the lines of the calls still go
        this.#failed(error);
      }
      for (const line of lines) this.#sendAll(this.#batcher.push(line));
    }
    this.#sendAll(this.#batcher.flush());
    return Promise.all([...this.#inFlight]).then(() => undefined);
  }

  /**
   * Flushes, then closes the socket and stops the timer. Metric calls
   * after it are dropped without a throw (a fire-and-forget client must
   * not fail its caller during shutdown), and `flush()` resolves at once;
   * a second `close()` does nothing.
   *
   * @example
   * ```ts
   * import { StatsdClient } from "./statsd_client.ts";
   * const statsd = new StatsdClient({ host: "::1", port: 8125 });
   * await statsd.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#timer?.cancel();
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      this.#socket.close();
    }
  }

  /** Same as {@link StatsdClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #line(name: string, value: number, type: StatsdType, options: StatsdSendOptions): void {
    if (this.#closed) return;
    const rate = options.sampleRate ?? 1;
    if (rate < 1 && this.#random() >= rate) return;
    const tags = options.tags === undefined ? this.#tags : this.#tags === undefined ? options.tags : { ...this.#tags, ...options.tags };
    const line = formatStatsdLine(this.#prefix + name, value, type, tags === undefined ? { sampleRate: rate } : { sampleRate: rate, tags });
    this.#sendAll(this.#batcher.push(line));
  }

  #sendAll(datagrams: Uint8Array[]): void {
    for (const d of datagrams) {
      const p: Promise<void> = this.#socket.send(d, this.#target).then(
        () => void this.sent++,
        (error: unknown) => this.#failed(error),
      ).finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    }
  }

  /** Counts a failure and tells `onError`; an `onError` that throws is ignored (it would reject the periodic flush, which no one awaits). */
  #failed(error: unknown): void {
    this.errors++;
    try {
      this.#onError?.(error);
    } catch {
      // ignored, as documented
    }
  }
}
