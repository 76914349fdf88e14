/**
 * Blocking DTLS 1.2 over UDP: {@link DTLSSocket} (a client over a connected
 * {@link Dgram}, or a server connection from {@link DTLSListener}),
 * {@link connectDTLSSync} and {@link listenDTLSSync}. Every wait is a
 * `poll` bounded by the caller's limit and by the DTLS retransmission timer
 * (`DTLSv1_get_timeout`), which is run on expiry (`DTLSv1_handle_timeout`),
 * so lost datagrams are resent and a silent peer ends in a typed error,
 * never a hang. One `send` is one datagram; one `recv` returns one.
 *
 * @example
 * ```ts ignore
 * import { connectDTLSSync } from "./dtls.ts";
 * using dtls = connectDTLSSync({ host: "127.0.0.1", port: 4433, ca: caPem });
 * dtls.send(new TextEncoder().encode("ping"));
 * console.log(dtls.recv(5000));
 * ```
 *
 * @module
 */
import { SocketTimeoutError, TLSHandshakeError } from "../core/errors.ts";
import { checkOptions, optionKeys } from "../core/options.ts";
import { checkPort, isIP, isIPv6 } from "../socket/address.ts";
import { checkServername } from "./ssl_setup.ts";
import { Dgram, type IPSocketAddress } from "../socket/dgram.ts";
import { deadlineAfter, pollOne, remainingMs, WAIT_READ, WAIT_WRITE } from "../socket/wait.ts";
import type { Certificate } from "./certificate.ts";
import { DTLS_CONTEXT_KEYS, DTLSContext, type DTLSContextOptions } from "./dtls_context.ts";
import { DTLS_MAX_PLAINTEXT, DTLSEngine, type DTLSEngineOptions, type DTLSWait } from "./dtls_engine.ts";
import { DTLSListenCore } from "./dtls_listen.ts";

/**
 * The default handshake limit, in ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS } from "./dtls.ts";
 * console.log(DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS); // 10000
 * ```
 */
export const DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS = 10_000;

function checkMs(ms: unknown, name: string): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) {
    throw new RangeError(`${name} must be an integer 0–2147483647 ms, got ${String(ms)}`);
  }
  return ms;
}

/**
 * Waits for `wait` on the engine's socket until the deadline, running the
 * retransmission timer when it fires. Returns false when the deadline
 * passed.
 */
function waitStep(engine: DTLSEngine, wait: DTLSWait, deadline: number): boolean {
  const left = remainingMs(deadline);
  if (left === 0) return false;
  const timer = engine.timerMs();
  const ms = timer < 0 ? left : left < 0 ? timer : Math.min(timer, left);
  const revents = pollOne(engine.dgram.fd, wait === "read" ? WAIT_READ : WAIT_WRITE, ms);
  if (revents === 0 && timer >= 0) engine.onTimer();
  return true;
}

/**
 * One blocking DTLS connection. One {@link DTLSSocket.send} is one
 * datagram; one {@link DTLSSocket.recv} returns one.
 *
 * @example
 * ```ts ignore
 * using dtls = listener.accept(5000);
 * const msg = dtls.recv(5000);
 * if (msg) dtls.send(msg); // echo
 * ```
 */
export class DTLSSocket {
  readonly #engine: DTLSEngine;
  readonly #onClose: (() => void) | undefined;
  readonly #buffer = new Uint8Array(DTLS_MAX_PLAINTEXT);

  private constructor(engine: DTLSEngine, onClose?: () => void) {
    this.#engine = engine;
    this.#onClose = onClose;
  }

  /**
   * A client over `dgram`, which must be connected to the server; the
   * `DTLSSocket` owns it from here on (it is closed also when this throws).
   * No I/O happens until {@link DTLSSocket.handshake}.
   *
   * @example
   * ```ts ignore
   * const dgram = Dgram.create();
   * dgram.connect("127.0.0.1", 4433);
   * using dtls = DTLSSocket.client(dgram, ctx, { host: "127.0.0.1" });
   * dtls.handshake(5000);
   * ```
   */
  static client(dgram: Dgram, context: DTLSContext, options: DTLSEngineOptions = {}): DTLSSocket {
    checkOptions(options, ENGINE_KEYS, "DTLSSocket.client");
    return new DTLSSocket(DTLSEngine.client(dgram, context, options));
  }

  /**
   * Wraps an engine made by a listener (`onClose` runs once when closed).
   *
   * @example
   * ```ts ignore
   * const socket = DTLSSocket.fromEngine(engine, () => core.release(peer));
   * ```
   */
  static fromEngine(engine: DTLSEngine, onClose?: () => void): DTLSSocket {
    return new DTLSSocket(engine, onClose);
  }

  /** The role of this end. */
  get role(): "client" | "server" {
    return this.#engine.role;
  }

  /** The peer's address. */
  get remoteAddress(): IPSocketAddress {
    return this.#engine.dgram.remoteAddress();
  }

  /** The local address. */
  get localAddress(): IPSocketAddress {
    return this.#engine.dgram.localAddress();
  }

  /**
   * Completes the handshake within `timeoutMs` (0: no limit; lost
   * datagrams are retransmitted meanwhile). A client verifies the server.
   *
   * @throws TLSVerifyError (reason, depth), TLSPinError, TLSHandshakeError, SocketTimeoutError
   *
   * @example
   * ```ts ignore
   * dtls.handshake(5000);
   * ```
   */
  handshake(timeoutMs: number = DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS): void {
    checkMs(timeoutMs, "timeoutMs");
    const engine = this.#engine;
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const step = engine.handshakeStep();
      if (step === "done") return;
      if (!waitStep(engine, step, deadline)) {
        engine.broken = true;
        throw new SocketTimeoutError(`DTLS handshake timed out after ${timeoutMs} ms`, { syscall: "DTLS handshake" });
      }
    }
  }

  /**
   * Sends `data` as one datagram (at most {@link DTLSSocket.maxDatagramBytes});
   * returns its length.
   *
   * @throws RangeError when it does not fit, TLSError
   *
   * @example
   * ```ts ignore
   * dtls.send(new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: Uint8Array, timeoutMs = 0): number {
    if (!(data instanceof Uint8Array)) throw new TypeError("send: data must be a Uint8Array");
    checkMs(timeoutMs, "timeoutMs");
    this.#ready();
    const engine = this.#engine;
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const r = engine.writeStep(data);
      if (typeof r === "number") return r;
      if (!waitStep(engine, r, deadline)) throw new SocketTimeoutError(`DTLS send timed out after ${timeoutMs} ms`, { syscall: "SSL_write" });
    }
  }

  /**
   * Receives one datagram within `timeoutMs` (0: no limit); null when the
   * peer closed (close_notify). Undecryptable or foreign datagrams are
   * dropped by DTLS and never returned.
   *
   * @throws SocketTimeoutError, TLSError
   *
   * @example
   * ```ts ignore
   * const data = dtls.recv(1000);
   * ```
   */
  recv(timeoutMs = 0): Uint8Array | null {
    checkMs(timeoutMs, "timeoutMs");
    this.#ready();
    const engine = this.#engine;
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const r = engine.readStep(this.#buffer);
      if (r === 0) return null;
      if (typeof r === "number") return this.#buffer.slice(0, r);
      if (!waitStep(engine, r, deadline)) throw new SocketTimeoutError(`DTLS recv timed out after ${timeoutMs} ms`, { syscall: "SSL_read" });
    }
  }

  #ready(): void {
    if (!this.#engine.handshaken) this.handshake();
  }

  /** The most bytes one {@link DTLSSocket.send} carries (from the MTU). */
  get maxDatagramBytes(): number {
    return this.#engine.maxDatagramBytes;
  }

  /** The protocol version ("DTLSv1.2"). */
  get protocol(): string {
    return this.#engine.protocol;
  }

  /** The cipher suite name. */
  get cipher(): string {
    return this.#engine.cipher;
  }

  /** The peer's certificate, or null. */
  peerCertificate(): Certificate | null {
    return this.#engine.peerCertificate();
  }

  /** Whether {@link DTLSSocket.close} has run. */
  get closed(): boolean {
    return this.#engine.closed;
  }

  /**
   * Sends close_notify (when healthy), frees the `SSL` and closes the
   * socket. Idempotent.
   *
   * @example
   * ```ts ignore
   * dtls.close();
   * ```
   */
  close(): void {
    if (this.#engine.closed) return;
    try {
      this.#engine.close();
    } finally {
      this.#onClose?.();
    }
  }

  /** Same as {@link DTLSSocket.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const ENGINE_KEYS: ReadonlySet<string> = new Set(["host", "mtu"]);

/** Options of {@link connectDTLSSync}: where to connect, plus context options. */
export interface ConnectDTLSSyncOptions extends Omit<DTLSContextOptions, "role" | "cookieRotateMs"> {
  /** Server IP literal (connected to and verified; names are not resolved here). */
  readonly host: string;
  /** UDP port. */
  readonly port: number;
  /** The name to verify and send as SNI when it differs from `host`. */
  readonly servername?: string;
  /** Limit for the handshake in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** A client context to use instead of one made from the options here. */
  readonly context?: DTLSContext;
  /** Link MTU (see {@link DTLSEngineOptions.mtu}). */
  readonly mtu?: number;
}

const CONNECT_KEYS = optionKeys(DTLS_CONTEXT_KEYS, ["host", "port", "servername", "timeoutMs", "context", "mtu"]);

/**
 * Makes a context from `options` unless one is given; runs `use` with it
 * and closes a context it made (connections hold their own reference).
 */
function withClientContext<T>(name: string, options: ConnectDTLSSyncOptions, use: (ctx: DTLSContext, rest: { host: string; port: number; servername?: string; timeoutMs?: number; mtu?: number }) => T): T {
  checkOptions(options, CONNECT_KEYS, name);
  const { host, port, servername, timeoutMs, context, mtu, ...contextOptions } = options;
  if (typeof host !== "string" || isIP(host) === 0) throw new TypeError(`${name}: host must be an IP literal`);
  checkPort(port);
  if (servername !== undefined) checkServername(servername, name);
  if (context !== undefined && Object.keys(contextOptions).length > 0) {
    throw new TypeError(`${name}: pass either context or context options, not both`);
  }
  const ctx = context ?? new DTLSContext({ ...contextOptions, role: "client" });
  try {
    return use(ctx, { host, port, ...(servername === undefined ? {} : { servername }), ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(mtu === undefined ? {} : { mtu }) });
  } finally {
    if (context === undefined) ctx.close();
  }
}

/**
 * A UDP socket connected to `host:port` (ipv4 or ipv6 by the literal).
 *
 * @example
 * ```ts ignore
 * const dgram = connectedDgram("127.0.0.1", 4433);
 * ```
 */
export function connectedDgram(host: string, port: number): Dgram {
  const dgram = Dgram.create(isIPv6(host) ? "ipv6" : "ipv4", { nonBlocking: true });
  try {
    dgram.connect(host, port);
  } catch (err) {
    dgram.close();
    throw err;
  }
  return dgram;
}

/**
 * Connects a UDP socket and completes a DTLS 1.2 handshake as a client,
 * verifying the server by default.
 *
 * @throws TLSVerifyError, TLSHandshakeError, SocketTimeoutError
 *
 * @example
 * ```ts ignore
 * import { connectDTLSSync } from "./dtls.ts";
 * using dtls = connectDTLSSync({ host: "127.0.0.1", port: 4433, ca: caPem, servername: "localhost" });
 * ```
 */
export function connectDTLSSync(options: ConnectDTLSSyncOptions): DTLSSocket {
  return withClientContext("connectDTLSSync", options, (ctx, o) => {
    const socket = DTLSSocket.client(connectedDgram(o.host, o.port), ctx, {
      host: o.servername ?? o.host,
      ...(o.mtu === undefined ? {} : { mtu: o.mtu }),
    });
    try {
      socket.handshake(o.timeoutMs ?? DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS);
    } catch (err) {
      socket.close();
      throw err;
    }
    return socket;
  });
}

/** Options of {@link listenDTLSSync}. */
export interface ListenDTLSSyncOptions {
  /** Local IP literal to bind. */
  readonly host: string;
  /** UDP port (0: the kernel picks). */
  readonly port?: number;
  /** The server context. */
  readonly context: DTLSContext;
  /** Link MTU of each connection (see {@link DTLSEngineOptions.mtu}). */
  readonly mtu?: number;
}

const LISTEN_SYNC_KEYS: ReadonlySet<string> = new Set(["host", "port", "context", "mtu"]);

/**
 * A blocking DTLS server socket: {@link DTLSListener.accept} runs the
 * cookie exchange statelessly until a peer proves its address, then
 * completes that peer's handshake on its own connected socket. It serves
 * one handshake at a time (others wait in the kernel's buffer and
 * retransmit); `listenDTLS` on the loop runs many at once.
 *
 * @example
 * ```ts ignore
 * using listener = listenDTLSSync({ host: "127.0.0.1", context: serverCtx });
 * using peer = listener.accept(5000);
 * ```
 */
export class DTLSListener {
  readonly #core: DTLSListenCore;
  readonly #mtu: number | undefined;

  /** @internal use {@link listenDTLSSync} */
  constructor(core: DTLSListenCore, mtu: number | undefined) {
    this.#core = core;
    this.#mtu = mtu;
  }

  /** The bound address. */
  get localAddress(): IPSocketAddress {
    return this.#core.localAddress;
  }

  /** Peers with an open connection from this listener. */
  get connections(): number {
    return this.#core.connections;
  }

  /** Counters: listen calls, verified hellos, duplicates. */
  get stats(): Readonly<{ listenCalls: number; verified: number; duplicates: number }> {
    return { ...this.#core.stats };
  }

  /**
   * Waits up to `timeoutMs` (0: no limit) for a peer that completes the
   * cookie exchange and the handshake. A peer whose handshake fails is
   * dropped and the wait goes on; at the deadline the last such failure is
   * thrown, else SocketTimeoutError.
   *
   * @example
   * ```ts ignore
   * using peer = listener.accept(5000);
   * ```
   */
  accept(timeoutMs: number = DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS): DTLSSocket {
    checkMs(timeoutMs, "timeoutMs");
    const deadline = deadlineAfter(timeoutMs);
    let lastFailure: Error | null = null;
    for (;;) {
      const hello = this.#core.listenStep();
      if (hello !== null) {
        const engine = this.#core.take(hello, this.#mtu === undefined ? {} : { mtu: this.#mtu });
        const socket = DTLSSocket.fromEngine(engine, () => this.#core.release(hello.peer));
        try {
          socket.handshake(timeoutMs === 0 ? 0 : Math.max(1, remainingMs(deadline)));
          return socket;
        } catch (err) {
          socket.close();
          if (!(err instanceof TLSHandshakeError) && !(err instanceof SocketTimeoutError)) throw err;
          lastFailure = err;
          continue;
        }
      }
      const left = remainingMs(deadline);
      if (left === 0 || pollOne(this.#core.dgram.fd, WAIT_READ, left) === 0) {
        if (remainingMs(deadline) !== 0) continue;
        throw lastFailure ?? new SocketTimeoutError(`DTLS accept timed out after ${timeoutMs} ms`, { syscall: "DTLSv1_listen" });
      }
    }
  }

  /** Whether {@link DTLSListener.close} has run. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Closes the listening socket (open connections stay open). Idempotent.
   *
   * @example
   * ```ts ignore
   * listener.close();
   * ```
   */
  close(): void {
    this.#core.close();
  }

  /** Same as {@link DTLSListener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Binds a blocking DTLS server socket.
 *
 * @example
 * ```ts ignore
 * import { listenDTLSSync } from "./dtls.ts";
 * using listener = listenDTLSSync({ host: "127.0.0.1", port: 0, context: serverCtx });
 * console.log(listener.localAddress.port);
 * ```
 */
export function listenDTLSSync(options: ListenDTLSSyncOptions): DTLSListener {
  checkOptions(options, LISTEN_SYNC_KEYS, "listenDTLSSync");
  if (options.mtu !== undefined && (!Number.isInteger(options.mtu) || options.mtu < 256 || options.mtu > 65535)) {
    throw new RangeError(`mtu must be an integer 256–65535, got ${String(options.mtu)}`);
  }
  return new DTLSListener(new DTLSListenCore(options.host, options.port ?? 0, options.context), options.mtu);
}
