/**
 * `TLSSocket`: a blocking-style TLS connection over a connected {@link Socket}
 * (fd mode: `SSL_set_fd`), one OpenSSL call per operation. The socket is
 * switched to non-blocking and every wait is a `poll` with the caller's
 * deadline, so a stalled peer ends in `SocketTimeoutError`, never a hang.
 * The `TLSSocket` owns the socket: `close()` sends close_notify and closes it.
 *
 * @example
 * ```ts ignore
 * import { connectTCPSync } from "../socket/connect.ts";
 * import { TLSContext } from "./context.ts";
 * import { TLSSocket } from "./tls_socket.ts";
 * using ctx = new TLSContext();
 * using tls = TLSSocket.client(connectTCPSync("example.com", 443, 5000), ctx, { host: "example.com" });
 * tls.handshake(5000);
 * tls.sendAll(new TextEncoder().encode("HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
 * ```
 *
 * @module
 */
import { SocketTimeoutError, TLSError, UseAfterCloseError } from "../core/errors.ts";
import { checkOptions } from "../core/options.ts";
import { libssl } from "../ffi/libssl.ts";
import { native } from "../ffi/native.ts";
import type { Pointer } from "../ffi/types.ts";
import type { Socket } from "../socket/socket.ts";
import { deadlineAfter, pollOne, remainingMs, WAIT_READ, WAIT_WRITE } from "../socket/wait.ts";
import { type Certificate, parseCertificate } from "./certificate.ts";
import { acquireContext, releaseContext, type TLSContext } from "./context.ts";
import { SSL_ERROR } from "./ctrl.ts";
import { checkServername, configureSSL } from "./ssl_setup.ts";
import { clearErrors, tlsError } from "./errors.ts";
import { classifyHandshakeFailure, dataFailure, handshakeRefusal } from "./failure.ts";
import { negotiatedALPN, negotiatedCipher, negotiatedGroup, negotiatedProtocol } from "./connection_info.ts";
import { resetVerifyFailure } from "./verify.ts";
import { awaitSession, importSession } from "./session.ts";
import { contextStaplePolicy } from "./context.ts";
import { type OCSPStatus, stapledResponse, verifyStaple } from "./ocsp.ts";
import { peerCertificateDER } from "./x509.ts";

/** Options of {@link TLSSocket.client} and {@link TLSSocket.server}. */
export interface TLSSocketOptions {
  /**
   * Client: the server's name, checked against its certificate (an IP
   * literal against its IP addresses) and sent as SNI unless it is an IP
   * literal. Required when the context verifies.
   */
  readonly host?: string;
  /** Limit in ms for each send/recv after the handshake (0: none, the default). */
  readonly timeoutMs?: number;
  /** Client: a session from an earlier connection's {@link TLSSocket.session}, to resume. */
  readonly session?: Uint8Array;
}

const SOCKET_KEYS: ReadonlySet<string> = new Set(["host", "timeoutMs", "session"]);

/**
 * The default limit of {@link TLSSocket.handshake}, in ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./tls_socket.ts";
 * console.log(DEFAULT_HANDSHAKE_TIMEOUT_MS); // 10000
 * ```
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

function checkMs(ms: unknown, name: string): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) {
    throw new RangeError(`${name} must be an integer 0–2147483647 ms, got ${String(ms)}`);
  }
  return ms;
}

/**
 * One TLS connection. Make it with {@link TLSSocket.client} or
 * {@link TLSSocket.server}, then call {@link TLSSocket.handshake}.
 *
 * @example
 * ```ts ignore
 * import { acceptTLS } from "./connect_sync.ts";
 * using tls = acceptTLS(listener, serverContext, 5000);
 * console.log(tls.protocol, tls.cipher, tls.alpnProtocol);
 * ```
 */
export class TLSSocket {
  #ssl: Pointer | null;
  #socket: Socket;
  #context: TLSContext;
  #timeoutMs: number;
  #handshaken = false;
  #ocspStatus: OCSPStatus | null = null;
  /** A fatal error happened: no close_notify may be sent. */
  #broken = false;
  /** The role of this end. */
  readonly role: "client" | "server";
  /** The host name the client checks (and sends as SNI), "" on a server. */
  readonly host: string;

  private constructor(socket: Socket, context: TLSContext, options: TLSSocketOptions) {
    checkOptions(options, SOCKET_KEYS, "TLSSocket");
    this.#timeoutMs = options.timeoutMs === undefined ? 0 : checkMs(options.timeoutMs, "timeoutMs");
    this.role = context.role;
    const given = options.host ?? "";
    const host = this.role === "client" && given !== "" ? checkServername(given, "TLSSocket") : "";
    this.host = host;
    if (this.role === "client" && context.verify && host === "") {
      throw new TypeError("TLSSocket: host is required to verify the server (or create the context with rejectUnauthorized: false)");
    }
    const fd = socket.fd;
    const ctx = acquireContext(context);
    const ssl = libssl();
    clearErrors();
    const s = ssl.SSL_new(ctx);
    if (s === null) {
      releaseContext(context);
      throw tlsError("ERR_TLS", "SSL_new");
    }
    try {
      configureSSL(s, fd, this.role === "client" ? host : "", context.verify);
      if (options.session !== undefined) {
        if (this.role !== "client") throw new TypeError("TLSSocket: session is a client option");
        importSession(s, options.session, context.verify ? host : ""); // unverified: any session goes
      }
      socket.options.nonBlocking = true;
    } catch (err) {
      ssl.SSL_free(s);
      releaseContext(context);
      throw err;
    }
    this.#ssl = s;
    this.#socket = socket;
    this.#context = context;
  }

  /**
   * A client connection over `socket` (connected). No I/O happens yet.
   *
   * @example
   * ```ts ignore
   * const tls = TLSSocket.client(socket, ctx, { host: "localhost" });
   * tls.handshake();
   * ```
   */
  static client(socket: Socket, context: TLSContext, options: TLSSocketOptions = {}): TLSSocket {
    if (context.role !== "client") throw new TypeError("TLSSocket.client needs a client TLSContext");
    return new TLSSocket(socket, context, options);
  }

  /**
   * A server connection over an accepted `socket`. No I/O happens yet.
   *
   * @example
   * ```ts ignore
   * const tls = TLSSocket.server(listener.acceptTimeout(1000)!, serverCtx);
   * tls.handshake();
   * ```
   */
  static server(socket: Socket, context: TLSContext, options: TLSSocketOptions = {}): TLSSocket {
    if (context.role !== "server") throw new TypeError("TLSSocket.server needs a server TLSContext");
    if (options.host !== undefined) throw new TypeError("TLSSocket.server: host is a client option");
    return new TLSSocket(socket, context, options);
  }

  #live(): Pointer {
    if (this.#ssl === null) throw new UseAfterCloseError("TLSSocket");
    return this.#ssl;
  }

  /** Runs one OpenSSL call until it completes, waiting on WANT_READ/WRITE. */
  #run(what: string, call: (ssl: Pointer) => number, deadline: number, limitMs: number): number {
    const ssl = this.#live();
    const lib = libssl();
    for (;;) {
      clearErrors();
      const r = call(ssl);
      if (r > 0) return r;
      const code = lib.SSL_get_error(ssl, r);
      if (code === SSL_ERROR.WANT_READ || code === SSL_ERROR.WANT_WRITE) {
        const left = remainingMs(deadline);
        if (left === 0 || pollOne(this.#socket.fd, code === SSL_ERROR.WANT_READ ? WAIT_READ : WAIT_WRITE, left) === 0) {
          if (remainingMs(deadline) !== 0) continue;
          throw new SocketTimeoutError(`TLS ${what} timed out after ${limitMs} ms`, { syscall: what });
        }
        continue;
      }
      if (code === SSL_ERROR.ZERO_RETURN) return 0;
      this.#broken = true;
      throw this.#failure(what, code);
    }
  }

  #failure(what: string, code: number): TLSError {
    const errno = code === SSL_ERROR.SYSCALL ? native.errno() : 0;
    if (!this.#handshaken) {
      return classifyHandshakeFailure({ ssl: this.#ssl!, what, code, errno, verify: this.role === "client" && this.#context.verify, minVersion: this.#context.minVersion });
    }
    return dataFailure(what, code, errno);
  }

  /**
   * Performs the handshake within `timeoutMs` (0: no limit). A client
   * verifies the server here.
   *
   * @throws TLSVerifyError (reason, depth), TLSHandshakeError, SocketTimeoutError
   *
   * @example
   * ```ts ignore
   * tls.handshake(5000);
   * ```
   */
  handshake(timeoutMs: number = DEFAULT_HANDSHAKE_TIMEOUT_MS): void {
    checkMs(timeoutMs, "timeoutMs");
    this.#live();
    if (this.#handshaken) return;
    const lib = libssl();
    resetVerifyFailure(this.#ssl!);
    const step = this.role === "client" ? lib.SSL_connect : lib.SSL_accept;
    this.#run("handshake", (ssl) => step(ssl), deadlineAfter(timeoutMs), timeoutMs);
    const refused = handshakeRefusal(this.#live(), this.#context, this.host);
    if (refused !== null) {
      this.#broken = true; // no close_notify after refusing the peer
      throw refused;
    }
    const staplePolicy = contextStaplePolicy(this.#context);
    if (staplePolicy !== null) {
      try {
        this.#ocspStatus = verifyStaple(this.#live(), staplePolicy);
      } catch (err) {
        this.#broken = true; // no close_notify after refusing the peer
        throw err;
      }
    }
    this.#handshaken = true;
  }

  #ready(): void {
    this.#live();
    if (!this.#handshaken) this.handshake();
  }

  /**
   * Sends up to `data.length` bytes in one `SSL_write` (it returns when a
   * whole record batch is written); returns the count.
   *
   * @example
   * ```ts ignore
   * const n = tls.send(new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: Uint8Array): number {
    if (!(data instanceof Uint8Array)) throw new TypeError("send: data must be a Uint8Array");
    this.#ready();
    if (data.length === 0) return 0;
    const lib = libssl();
    const chunk = data.length > 0x7fffffff ? data.subarray(0, 0x7fffffff) : data;
    return this.#run("SSL_write", (ssl) => lib.SSL_write(ssl, chunk, chunk.length), deadlineAfter(this.#timeoutMs), this.#timeoutMs);
  }

  /**
   * Sends all of `data`; returns its length.
   *
   * @example
   * ```ts ignore
   * tls.sendAll(new TextEncoder().encode("hello"));
   * ```
   */
  sendAll(data: Uint8Array): number {
    let sent = 0;
    while (sent < data.length) sent += this.send(data.subarray(sent));
    return sent;
  }

  /**
   * Receives up to `buffer.length` bytes; 0 means the peer closed cleanly
   * (close_notify).
   *
   * @throws TLSError ERR_TLS_TRUNCATED when the peer closed without close_notify
   *
   * @example
   * ```ts ignore
   * const buf = new Uint8Array(4096);
   * const n = tls.recv(buf);
   * ```
   */
  recv(buffer: Uint8Array): number {
    if (!(buffer instanceof Uint8Array)) throw new TypeError("recv: buffer must be a Uint8Array");
    this.#ready();
    if (buffer.length === 0) return 0;
    const lib = libssl();
    const room = Math.min(buffer.length, 0x7fffffff);
    return this.#run("SSL_read", (ssl) => lib.SSL_read(ssl, buffer, room), deadlineAfter(this.#timeoutMs), this.#timeoutMs);
  }

  /**
   * Like {@link TLSSocket.recv}, but the bytes stay for the next `recv`
   * (`SSL_peek`): a protocol read ahead of the stream (a proxy's reply)
   * takes only what it uses. Waits at most `timeoutMs` (default: the
   * socket's limit; 0: none).
   *
   * @throws SocketTimeoutError, TLSError ERR_TLS_TRUNCATED when the peer closed without close_notify
   *
   * @example
   * ```ts ignore
   * const head = new Uint8Array(512);
   * const n = tls.peek(head, 5000);
   * tls.recvAll(head.subarray(0, n)); // consume what was used
   * ```
   */
  peek(buffer: Uint8Array, timeoutMs: number = this.#timeoutMs): number {
    if (!(buffer instanceof Uint8Array)) throw new TypeError("peek: buffer must be a Uint8Array");
    checkMs(timeoutMs, "timeoutMs");
    this.#ready();
    if (buffer.length === 0) return 0;
    const lib = libssl();
    const room = Math.min(buffer.length, 0x7fffffff);
    return this.#run("SSL_peek", (ssl) => lib.SSL_peek(ssl, buffer, room), deadlineAfter(timeoutMs), timeoutMs);
  }

  /**
   * Fills `buffer`; returns fewer bytes only when the peer closed cleanly.
   *
   * @example
   * ```ts ignore
   * const n = tls.recvAll(new Uint8Array(16));
   * ```
   */
  recvAll(buffer: Uint8Array): number {
    let got = 0;
    while (got < buffer.length) {
      const n = this.recv(buffer.subarray(got));
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  /** The negotiated ALPN protocol, or null. */
  get alpnProtocol(): string | null {
    return negotiatedALPN(this.#live());
  }

  /** The protocol version: "TLSv1.3", "TLSv1.2", … */
  get protocol(): string {
    return negotiatedProtocol(this.#live());
  }

  /** The cipher suite name ("TLS_AES_256_GCM_SHA384"), "" before the handshake. */
  get cipher(): string {
    return negotiatedCipher(this.#live());
  }

  /** The key exchange group ("x25519", "secp256r1", …), "" when none. */
  get group(): string {
    return negotiatedGroup(this.#live());
  }

  /**
   * This connection's session as bytes for a later `session` option, or
   * null when none is resumable yet. In TLS 1.3 the server sends its ticket
   * after the handshake: this waits up to `waitMs` for it (reading only
   * handshake messages; application data stays unread).
   *
   * @example
   * ```ts ignore
   * const saved = tls.session(1000);
   * const again = TLSSocket.client(socket2, ctx, { host: "localhost", session: saved! });
   * ```
   */
  session(waitMs = 0): Uint8Array | null {
    checkMs(waitMs, "waitMs");
    this.#ready();
    const outcome = awaitSession(this.#live(), this.#socket.fd, waitMs);
    if (typeof outcome === "number") {
      this.#broken = true;
      throw this.#failure("SSL_peek", outcome);
    }
    return outcome;
  }

  /**
   * Client with `requestOCSP`: the checked status of the server's stapled
   * OCSP response ("good", "revoked" never gets here, "unknown", or "none"
   * when nothing was stapled or the session was resumed); null when the
   * context asks for no staple.
   */
  get ocspStatus(): OCSPStatus | null {
    this.#live();
    return this.#ocspStatus;
  }

  /**
   * The DER OCSP response stapled by the server (client side), or null.
   *
   * @example
   * ```ts ignore
   * const der = tls.ocspResponse();
   * ```
   */
  ocspResponse(): Uint8Array | null {
    return stapledResponse(this.#live());
  }

  /** Whether the handshake resumed a session. */
  isSessionReused(): boolean {
    return libssl().SSL_session_reused(this.#live()) === 1;
  }

  /**
   * The peer's certificate, or null when it sent none.
   *
   * @example
   * ```ts ignore
   * console.log(tls.peerCertificate()?.subject);
   * ```
   */
  peerCertificate(): Certificate | null {
    const der = peerCertificateDER(this.#live());
    return der === null ? null : parseCertificate(der);
  }

  /** Whether {@link TLSSocket.close} has run. */
  get closed(): boolean {
    return this.#ssl === null;
  }

  /**
   * Sends close_notify (when the connection is healthy; without waiting for
   * the peer's), frees the `SSL` and closes the socket. Idempotent.
   *
   * @example
   * ```ts ignore
   * tls.close();
   * ```
   */
  close(): void {
    const ssl = this.#ssl;
    if (ssl === null) return;
    this.#ssl = null;
    const lib = libssl();
    try {
      if (this.#handshaken && !this.#broken) {
        clearErrors();
        lib.SSL_shutdown(ssl);
        clearErrors();
      }
    } finally {
      resetVerifyFailure(ssl);
      lib.SSL_free(ssl);
      releaseContext(this.#context);
      this.#socket.close();
    }
  }

  /** Same as {@link TLSSocket.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
