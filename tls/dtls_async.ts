/**
 * DTLS 1.2 on the {@link Loop}: {@link DTLSConnection} (Promise `send` /
 * `recv` of whole datagrams), {@link connectDTLS}, {@link startDTLS} (over
 * a connected `Dgram` of your own) and {@link listenDTLS}.
 * The loop watches each socket and runs one loop timer per connection from
 * `DTLSv1_get_timeout`, calling `DTLSv1_handle_timeout` when it fires, so
 * lost handshake flights are resent without blocking anything. The server
 * answers cookie-less ClientHellos statelessly (see `dtls_listen.ts`) and
 * spends state only on peers that proved their address, at most
 * `maxHandshakes` at a time, each dropped at `handshakeTimeoutMs`.
 *
 * @example
 * ```ts ignore
 * import { connectDTLS, listenDTLS } from "./dtls_async.ts";
 * await using server = listenDTLS({ host: "127.0.0.1", context: serverCtx });
 * const client = await connectDTLS({ host: "127.0.0.1", port: server.localAddress.port, ca: caPem, servername: "localhost" });
 * const peer = (await server.accept())!;
 * await client.send(new TextEncoder().encode("ping"));
 * console.log(await peer.recv());
 * ```
 *
 * @module
 */
import { SocketTimeoutError, UseAfterCloseError } from "../core/errors.ts";
import { checkServername } from "./ssl_setup.ts";
import { checkOptions, optionKeys } from "../core/options.ts";
import type { Timer } from "../core/timer_heap.ts";
import type { Dgram, IPSocketAddress } from "../socket/dgram.ts";
import { READABLE, WRITABLE } from "../poll/backend.ts";
import type { IoWatcher } from "../poll/io_watcher.ts";
import { defaultLoop, type Loop } from "../poll/loop.ts";
import type { Certificate } from "./certificate.ts";
import { type ConnectDTLSSyncOptions, connectedDgram, DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS } from "./dtls.ts";
import { DTLS_CONTEXT_KEYS, DTLSContext } from "./dtls_context.ts";
import { DTLS_MAX_PLAINTEXT, DTLSEngine, type DTLSWait } from "./dtls_engine.ts";
import { DTLSListenCore } from "./dtls_listen.ts";

/**
 * Datagrams a connection holds for `recv()` at most; more are dropped, as a full socket buffer would.
 *
 * @example
 * ```ts
 * import { DTLS_MAX_QUEUED_DATAGRAMS } from "./dtls_async.ts";
 * console.log(DTLS_MAX_QUEUED_DATAGRAMS); // 256
 * ```
 */
export const DTLS_MAX_QUEUED_DATAGRAMS = 256;

/** Options of a waiting call. */
export interface DTLSWaitOptions {
  /** Aborts the wait (the connection stays usable). */
  readonly signal?: AbortSignal;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error("the operation was aborted");
  err.name = "AbortError";
  return err;
}

/** A waiter that also leaves its list when `signal` aborts. */
function wait<T>(list: Waiter<T>[], signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      const i = list.indexOf(waiter);
      if (i >= 0) list.splice(i, 1);
      reject(abortError(signal!));
    };
    const waiter: Waiter<T> = {
      resolve: (v) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(v);
      },
      reject: (e) => {
        signal?.removeEventListener("abort", onAbort);
        reject(e);
      },
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    list.push(waiter);
  });
}

/** Options of a {@link DTLSConnection} made by this module. */
interface ConnectionSetup {
  readonly loop: Loop;
  readonly handshakeTimeoutMs: number;
  readonly onClose?: () => void;
}

/**
 * One DTLS connection on a loop. `ready` settles when the handshake does;
 * `send`/`recv` wait for it. Everything after `close()` throws (or rejects
 * with) {@link UseAfterCloseError}.
 *
 * @example
 * ```ts ignore
 * const conn = await connectDTLS({ host: "127.0.0.1", port, rejectUnauthorized: false });
 * await conn.send(new Uint8Array([1]));
 * const reply = await conn.recv();
 * conn.close();
 * ```
 */
export class DTLSConnection {
  readonly #engine: DTLSEngine;
  readonly #loop: Loop;
  readonly #watcher: IoWatcher;
  readonly #onClose: (() => void) | undefined;
  #retransmit: Timer | null = null;
  #deadline: Timer | null = null;
  #closed = false;
  #failure: Error | null = null;
  #handshakeWait: DTLSWait = "read";
  /** SSL_read wanted to write (a retransmission found the socket full). */
  #readWantsWrite = false;
  readonly #queue: Uint8Array[] = [];
  readonly #readers: Waiter<Uint8Array | null>[] = [];
  readonly #writes: Array<{ data: Uint8Array } & Waiter<void>> = [];
  readonly #buffer = new Uint8Array(DTLS_MAX_PLAINTEXT);
  #settle!: { resolve(): void; reject(err: Error): void };
  /** Settles when the handshake completes (or fails: then the connection is closed). */
  readonly ready: Promise<void>;
  /** Datagrams dropped because `recv()` fell behind by {@link DTLS_MAX_QUEUED_DATAGRAMS}. */
  dropped = 0;

  /** @internal made by {@link connectDTLS} and {@link listenDTLS} */
  constructor(engine: DTLSEngine, setup: ConnectionSetup) {
    this.#engine = engine;
    this.#loop = setup.loop;
    this.#onClose = setup.onClose;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.ready.catch(() => {}); // observed through the callers' promises
    try {
      this.#watcher = this.#loop.watch(engine.dgram.fd, READABLE, this.#onEvents);
    } catch (err) {
      engine.close();
      this.#closed = true;
      setup.onClose?.();
      throw err;
    }
    this.#watcher.onLoopClose = () => this.#fail(new UseAfterCloseError("Loop"));
    if (setup.handshakeTimeoutMs > 0) {
      this.#deadline = this.#loop.setTimeout(() => {
        this.#deadline = null;
        this.#fail(new SocketTimeoutError(`DTLS handshake timed out after ${setup.handshakeTimeoutMs} ms`, { syscall: "DTLS handshake" }));
      }, setup.handshakeTimeoutMs);
    }
    this.#pump();
  }

  /** The role of this end. */
  get role(): "client" | "server" {
    return this.#engine.role;
  }

  /** Whether the handshake has completed. */
  get handshaken(): boolean {
    return this.#engine.handshaken;
  }

  /** Whether {@link DTLSConnection.close} has run (or a failure closed it). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Datagrams waiting for `recv()`. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The peer's address. */
  get remoteAddress(): IPSocketAddress {
    return this.#live().dgram.remoteAddress();
  }

  /** The local address. */
  get localAddress(): IPSocketAddress {
    return this.#live().dgram.localAddress();
  }

  /** The protocol version ("DTLSv1.2"). */
  get protocol(): string {
    return this.#live().protocol;
  }

  /** The cipher suite name. */
  get cipher(): string {
    return this.#live().cipher;
  }

  /** The most bytes one {@link DTLSConnection.send} carries (from the MTU). */
  get maxDatagramBytes(): number {
    return this.#live().maxDatagramBytes;
  }

  /** The peer's certificate, or null. */
  peerCertificate(): Certificate | null {
    return this.#live().peerCertificate();
  }

  #live(): DTLSEngine {
    if (this.#closed) throw this.#failure ?? new UseAfterCloseError("DTLSConnection");
    return this.#engine;
  }

  /**
   * Sends `data` as one datagram once the handshake is done; resolves when
   * the kernel took it.
   *
   * @example
   * ```ts ignore
   * await conn.send(new TextEncoder().encode("hello"));
   * ```
   */
  async send(data: Uint8Array, options: DTLSWaitOptions = {}): Promise<void> {
    if (!(data instanceof Uint8Array)) throw new TypeError("send: data must be a Uint8Array");
    this.#live();
    if (!this.#engine.handshaken) await this.ready;
    this.#live();
    if (data.length === 0 || data.length > this.#engine.maxDatagramBytes) {
      throw new RangeError(`a DTLS datagram holds 1–${this.#engine.maxDatagramBytes} bytes here, got ${data.length}`);
    }
    if (this.#writes.length === 0) {
      let r: number | DTLSWait;
      try {
        r = this.#engine.writeStep(data);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      if (typeof r === "number") return;
    }
    const copy = data.slice();
    const list = this.#writes as Waiter<void>[];
    const promise = wait(list, options.signal);
    // wait() pushed a bare waiter: attach the data to it.
    Object.assign(list[list.length - 1]!, { data: copy });
    this.#setInterest();
    return promise;
  }

  /**
   * The next datagram, or null once the peer sent close_notify.
   *
   * @example
   * ```ts ignore
   * const data = await conn.recv({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  async recv(options: DTLSWaitOptions = {}): Promise<Uint8Array | null> {
    this.#live();
    if (!this.#engine.handshaken) await this.ready;
    this.#live();
    const wasFull = this.#queue.length >= DTLS_MAX_QUEUED_DATAGRAMS;
    const next = this.#queue.shift();
    if (next !== undefined) {
      // Reading had stopped at the bound; records may wait inside OpenSSL
      // (a datagram can carry several), where no readiness report shows them.
      if (wasFull) queueMicrotask(() => this.#pump());
      else this.#setInterest();
      return next;
    }
    if (this.#engine.peerClosed) return null;
    return wait(this.#readers, options.signal);
  }

  #onEvents = (_events: number): void => {
    this.#pump();
  };

  /** Moves the handshake or the data on as far as it goes now, then re-arms the watch and timer. */
  #pump(): void {
    if (this.#closed) return;
    try {
      const engine = this.#engine;
      if (!engine.handshaken) {
        const step = engine.handshakeStep();
        if (step !== "done") {
          this.#handshakeWait = step;
          this.#arm();
          return;
        }
        this.#deadline?.cancel();
        this.#deadline = null;
        this.#settle.resolve();
      }
      this.#flushWrites();
      this.#readAll();
      this.#arm();
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #flushWrites(): void {
    while (this.#writes.length > 0) {
      const w = this.#writes[0]!;
      const r = this.#engine.writeStep(w.data);
      if (typeof r !== "number") return;
      this.#writes.shift();
      w.resolve();
    }
  }

  #readAll(): void {
    const engine = this.#engine;
    this.#readWantsWrite = false;
    for (let budget = 64; budget > 0 && !engine.peerClosed; budget--) {
      if (this.#queue.length >= DTLS_MAX_QUEUED_DATAGRAMS && this.#readers.length === 0) return;
      const r = engine.readStep(this.#buffer);
      if (typeof r !== "number") {
        this.#readWantsWrite = r === "write";
        return;
      }
      if (r === 0) {
        for (const reader of this.#readers.splice(0)) reader.resolve(null);
        return;
      }
      const data = this.#buffer.slice(0, r);
      const reader = this.#readers.shift();
      if (reader !== undefined) reader.resolve(data);
      else if (this.#queue.length < DTLS_MAX_QUEUED_DATAGRAMS) this.#queue.push(data);
      else this.dropped++;
    }
    if (!engine.peerClosed) this.#loop.setTimeout(() => this.#pump(), 0); // budget spent: continue next turn
  }

  #setInterest(): void {
    if (this.#closed) return;
    const engine = this.#engine;
    let events = 0;
    if (!engine.handshaken) {
      events = this.#handshakeWait === "write" ? WRITABLE : READABLE;
    } else {
      if (!engine.peerClosed && (this.#queue.length < DTLS_MAX_QUEUED_DATAGRAMS || this.#readers.length > 0)) events |= READABLE;
      if (this.#writes.length > 0 || this.#readWantsWrite) events |= WRITABLE;
    }
    if (this.#watcher.events !== events) this.#watcher.update(events);
  }

  /** Sets the watch and the retransmission timer from the engine's state. */
  #arm(): void {
    this.#setInterest();
    const ms = this.#engine.timerMs();
    if (ms < 0) {
      this.#retransmit?.cancel();
      this.#retransmit = null;
      return;
    }
    if (this.#retransmit === null) {
      this.#retransmit = this.#loop.setTimeout(() => {
        this.#retransmit = null;
        if (this.#closed) return;
        try {
          this.#engine.onTimer();
        } catch (err) {
          this.#fail(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        this.#pump();
      }, ms);
    } else {
      this.#retransmit.reschedule(ms);
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#failure = err;
    this.#engine.broken = true;
    this.#teardown();
    this.#settle.reject(err);
    for (const r of this.#readers.splice(0)) r.reject(err);
    for (const w of this.#writes.splice(0)) w.reject(err);
  }

  #teardown(): void {
    this.#closed = true;
    this.#retransmit?.cancel();
    this.#retransmit = null;
    this.#deadline?.cancel();
    this.#deadline = null;
    this.#watcher.close();
    try {
      this.#engine.close();
    } finally {
      this.#onClose?.();
    }
  }

  /**
   * Sends close_notify (when healthy), frees the `SSL` and closes the
   * socket. Pending calls reject with UseAfterCloseError. Idempotent.
   *
   * @example
   * ```ts ignore
   * conn.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#teardown();
    const err = new UseAfterCloseError("DTLSConnection");
    this.#settle.reject(err);
    for (const r of this.#readers.splice(0)) r.reject(err);
    for (const w of this.#writes.splice(0)) w.reject(err);
  }

  /** Same as {@link DTLSConnection.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@link DTLSConnection.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Options of {@link connectDTLS}. */
export interface ConnectDTLSOptions extends ConnectDTLSSyncOptions {
  /** The loop (default: the process's default loop). */
  readonly loop?: Loop;
  /** Aborts the handshake (the connection is closed). */
  readonly signal?: AbortSignal;
}

/** Options of {@link startDTLS}: {@link ConnectDTLSOptions} without the address. */
export interface StartDTLSOptions extends Omit<ConnectDTLSOptions, "host" | "port" | "servername"> {
  /**
   * The server's name or IP literal, checked against its certificate (and
   * sent as SNI when a name). Required when the context verifies.
   */
  readonly servername?: string;
}

const START_KEYS = optionKeys(DTLS_CONTEXT_KEYS, ["servername", "timeoutMs", "context", "mtu", "loop", "signal"]);
const CONNECT_KEYS = optionKeys(START_KEYS, ["host", "port"]);

/**
 * Connects a UDP socket and completes a DTLS 1.2 handshake on the loop.
 *
 * @throws TLSVerifyError, TLSHandshakeError, SocketTimeoutError (rejections)
 *
 * @example
 * ```ts ignore
 * import { connectDTLS } from "./dtls_async.ts";
 * await using conn = await connectDTLS({ host: "127.0.0.1", port: 4433, ca: caPem, servername: "localhost" });
 * ```
 */
export function connectDTLS(options: ConnectDTLSOptions): Promise<DTLSConnection> {
  checkOptions(options, CONNECT_KEYS, "connectDTLS");
  const { host, port, servername, ...rest } = options;
  if (servername !== undefined) checkServername(servername, "connectDTLS");
  return handshakeOver(() => connectedDgram(host, port), servername ?? host, rest, "connectDTLS");
}

/**
 * Runs a DTLS 1.2 client handshake over `dgram` (a UDP socket connected to
 * the server, set up with its own calls) on the loop. The connection owns
 * the socket from now on; it is closed also when this rejects.
 *
 * @example
 * ```ts ignore
 * import { startDTLS } from "./dtls_async.ts";
 * const dgram = Dgram.create("ipv4");
 * dgram.connect("127.0.0.1", 4433);
 * await using conn = await startDTLS(dgram, { ca: caPem, servername: "localhost" });
 * ```
 */
export function startDTLS(dgram: Dgram, options: StartDTLSOptions = {}): Promise<DTLSConnection> {
  try {
    checkOptions(options, START_KEYS, "startDTLS");
    if (options.servername !== undefined) checkServername(options.servername, "startDTLS");
  } catch (err) {
    dgram.close();
    return Promise.reject(err);
  }
  const { servername, ...rest } = options;
  return handshakeOver(() => dgram, servername ?? "", rest, "startDTLS");
}

async function handshakeOver(open: () => Dgram, name: string, options: Omit<StartDTLSOptions, "servername">, where: string): Promise<DTLSConnection> {
  const { timeoutMs = DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS, context, mtu, loop, signal, ...contextOptions } = options;
  let ctx: DTLSContext | undefined;
  let conn: DTLSConnection;
  let dgram: Dgram | undefined;
  try {
    dgram = open();
    if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 0) throw new RangeError(`timeoutMs must be a whole number of ms, got ${String(timeoutMs)}`);
    if (signal?.aborted) throw abortError(signal);
    if (context !== undefined && Object.keys(contextOptions).length > 0) {
      throw new TypeError(`${where}: pass either context or context options, not both`);
    }
    ctx = context ?? new DTLSContext({ ...contextOptions, role: "client" });
    const owned = dgram;
    dgram = undefined; // the engine owns it now, also when it throws
    const engine = DTLSEngine.client(owned, ctx, { host: name, ...(mtu === undefined ? {} : { mtu }) });
    conn = new DTLSConnection(engine, { loop: loop ?? defaultLoop(), handshakeTimeoutMs: timeoutMs });
  } finally {
    dgram?.close();
    // The connection holds its own reference to the SSL_CTX.
    if (context === undefined) ctx?.close();
  }
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.ready;
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return conn;
}

/** Options of {@link listenDTLS}. */
export interface ListenDTLSOptions {
  /** Local IP literal to bind. */
  readonly host: string;
  /** UDP port (0: the kernel picks). */
  readonly port?: number;
  /** The server context. */
  readonly context: DTLSContext;
  /** The loop (default: the process's default loop). */
  readonly loop?: Loop;
  /** Each peer's handshake limit in ms after its cookie verified (default 10 000; 0: none). */
  readonly handshakeTimeoutMs?: number;
  /** Handshakes in progress at most; further verified peers are dropped (default 64). */
  readonly maxHandshakes?: number;
  /** Handshaken connections waiting for `accept()` at most; more are closed (default 128). */
  readonly maxPendingAccepts?: number;
  /** Link MTU of each connection (256–65535; default: the kernel's). */
  readonly mtu?: number;
}

const LISTEN_KEYS: ReadonlySet<string> = new Set(["host", "port", "context", "loop", "handshakeTimeoutMs", "maxHandshakes", "maxPendingAccepts", "mtu"]);

/** Counters of a {@link DTLSServer}. */
export interface DTLSServerStats {
  /** `DTLSv1_listen` calls. */
  readonly listenCalls: number;
  /** Peers whose cookie verified. */
  readonly verified: number;
  /** Verified ClientHellos of peers that already had a connection. */
  readonly duplicates: number;
  /** Handshakes that failed or timed out. */
  readonly failedHandshakes: number;
  /** Verified peers dropped at `maxHandshakes` or `maxPendingAccepts`. */
  readonly refused: number;
}

function positiveInt(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new RangeError(`${name} must be an integer 0–2147483647, got ${String(value)}`);
  }
  return value;
}

/**
 * A DTLS server on a loop. `accept()` gives handshaken connections in the
 * order they finished; a failed handshake never reaches it (see
 * `lastHandshakeError`).
 *
 * @example
 * ```ts ignore
 * await using server = listenDTLS({ host: "127.0.0.1", context: serverCtx });
 * for (;;) {
 *   const conn = await server.accept();
 *   if (conn === null) break; // closed
 * }
 * ```
 */
export class DTLSServer {
  readonly #core: DTLSListenCore;
  readonly #loop: Loop;
  readonly #watcher: IoWatcher;
  readonly #handshakeTimeoutMs: number;
  readonly #maxHandshakes: number;
  readonly #maxPending: number;
  readonly #mtu: number | undefined;
  readonly #pending: DTLSConnection[] = [];
  readonly #acceptors: Waiter<DTLSConnection | null>[] = [];
  /** Connections still handshaking (closed with the server). */
  readonly #inHandshake = new Set<DTLSConnection>();
  #failed = 0;
  #refused = 0;
  /** The last handshake failure, for logs. */
  lastHandshakeError: Error | null = null;

  /** @internal use {@link listenDTLS} */
  constructor(options: ListenDTLSOptions) {
    checkOptions(options, LISTEN_KEYS, "listenDTLS");
    this.#handshakeTimeoutMs = positiveInt(options.handshakeTimeoutMs, DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS, "handshakeTimeoutMs");
    this.#maxHandshakes = positiveInt(options.maxHandshakes, 64, "maxHandshakes");
    this.#maxPending = positiveInt(options.maxPendingAccepts, 128, "maxPendingAccepts");
    if (options.mtu !== undefined && (!Number.isInteger(options.mtu) || options.mtu < 256 || options.mtu > 65535)) {
      throw new RangeError(`mtu must be an integer 256–65535, got ${String(options.mtu)}`);
    }
    this.#mtu = options.mtu;
    this.#loop = options.loop ?? defaultLoop();
    this.#core = new DTLSListenCore(options.host, options.port ?? 0, options.context);
    try {
      this.#watcher = this.#loop.watch(this.#core.dgram.fd, READABLE, this.#onReadable);
    } catch (err) {
      this.#core.close();
      throw err;
    }
    this.#watcher.onLoopClose = () => this.close();
  }

  /** The bound address. */
  get localAddress(): IPSocketAddress {
    return this.#core.localAddress;
  }

  /** Handshakes in progress (peers that passed the cookie exchange). */
  get handshaking(): number {
    return this.#inHandshake.size;
  }

  /** Peers with an open connection (handshaking or handshaken, not yet closed). */
  get connections(): number {
    return this.#core.connections;
  }

  /** Whether {@link DTLSServer.close} has run. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** Counters. */
  get stats(): DTLSServerStats {
    return { ...this.#core.stats, failedHandshakes: this.#failed, refused: this.#refused };
  }

  #onReadable = (): void => {
    for (let budget = 64; budget > 0 && !this.#core.closed; budget--) {
      let hello;
      try {
        hello = this.#core.listenStep();
      } catch (err) {
        this.lastHandshakeError = err instanceof Error ? err : new Error(String(err));
        return;
      }
      if (hello === null) return;
      if (this.#inHandshake.size >= this.#maxHandshakes) {
        this.#refused++;
        this.#core.drop(hello);
        continue;
      }
      this.#start(hello);
    }
  };

  #start(hello: NonNullable<ReturnType<DTLSListenCore["listenStep"]>>): void {
    let conn: DTLSConnection;
    try {
      const engine = this.#core.take(hello, this.#mtu === undefined ? {} : { mtu: this.#mtu });
      conn = new DTLSConnection(engine, { loop: this.#loop, handshakeTimeoutMs: this.#handshakeTimeoutMs, onClose: () => this.#core.release(hello.peer) });
    } catch (err) {
      this.#failed++;
      this.lastHandshakeError = err instanceof Error ? err : new Error(String(err));
      return;
    }
    this.#inHandshake.add(conn);
    conn.ready.then(() => {
      this.#inHandshake.delete(conn);
      if (this.#core.closed) return conn.close();
      const acceptor = this.#acceptors.shift();
      if (acceptor !== undefined) acceptor.resolve(conn);
      else if (this.#pending.length < this.#maxPending) this.#pending.push(conn);
      else {
        this.#refused++;
        conn.close();
      }
    }, (err: unknown) => {
      this.#inHandshake.delete(conn);
      if (this.#core.closed) return; // closed with the server
      this.#failed++;
      this.lastHandshakeError = err instanceof Error ? err : new Error(String(err));
    });
  }

  /**
   * The next handshaken connection; null once the server is closed.
   *
   * @throws UseAfterCloseError when called after close
   *
   * @example
   * ```ts ignore
   * const conn = await server.accept({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  accept(options: DTLSWaitOptions = {}): Promise<DTLSConnection | null> {
    if (this.#core.closed) return Promise.reject(new UseAfterCloseError("DTLSServer"));
    const next = this.#pending.shift();
    if (next !== undefined) return Promise.resolve(next);
    return wait(this.#acceptors, options.signal);
  }

  /**
   * Closes the listening socket; connections still handshaking or not yet
   * accepted are closed, accepted ones stay open. Pending `accept()` calls resolve null.
   * Idempotent.
   *
   * @example
   * ```ts ignore
   * server.close();
   * ```
   */
  close(): void {
    if (this.#core.closed) return;
    this.#watcher.close();
    this.#core.close();
    for (const conn of this.#pending.splice(0)) conn.close();
    for (const conn of [...this.#inHandshake]) conn.close();
    this.#inHandshake.clear();
    for (const a of this.#acceptors.splice(0)) a.resolve(null);
  }

  /** Same as {@link DTLSServer.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@link DTLSServer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Binds a DTLS server on the loop.
 *
 * @example
 * ```ts ignore
 * import { listenDTLS } from "./dtls_async.ts";
 * const server = listenDTLS({ host: "127.0.0.1", port: 0, context: serverCtx });
 * console.log(server.localAddress.port);
 * server.close();
 * ```
 */
export function listenDTLS(options: ListenDTLSOptions): DTLSServer {
  return new DTLSServer(options);
}
