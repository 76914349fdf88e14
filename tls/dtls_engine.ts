/**
 * The DTLS 1.2 connection engine shared by the blocking {@link DTLSSocket}
 * and the async `DTLSConnection`: one `SSL` over a datagram BIO on a
 * connected, non-blocking {@link Dgram}. Each step makes one OpenSSL call
 * and reports what it waits for ("read" / "write") instead of blocking; the
 * caller waits (poll, or the loop) and drives the retransmission timer
 * with {@link DTLSEngine.timerMs} and {@link DTLSEngine.onTimer}
 * (`DTLSv1_get_timeout` / `DTLSv1_handle_timeout`, `SSL_ctrl` macros).
 *
 * @example
 * ```ts ignore
 * const engine = DTLSEngine.client(dgram, context, { host: "localhost" });
 * while (engine.handshakeStep() !== "done") {
 *   // wait for the fd or engine.timerMs(), then engine.onTimer()
 * }
 * ```
 *
 * @module
 */
import { TLSError, TLSHandshakeError, UseAfterCloseError } from "../core/errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import { native } from "../ffi/native.ts";
import type { Pointer } from "../ffi/types.ts";
import type { Dgram } from "../socket/dgram.ts";
import { encodeSockaddr } from "../socket/sockaddr.ts";
import { type Certificate, parseCertificate } from "./certificate.ts";
import { negotiatedCipher, negotiatedProtocol } from "./connection_info.ts";
import { BIO_DGRAM_CTRL, DTLS_CTRL, SSL_ERROR } from "./ctrl.ts";
import { acquireDTLSContext, type DTLSContext, dtlsContextPins, releaseDTLSContext } from "./dtls_context.ts";
import { clearErrors, drainErrors, tlsError } from "./errors.ts";
import { classifyHandshakeFailure, dataFailure, extendedMasterSecretFailure, pinMismatch } from "./failure.ts";
import { checkServername, configurePeerName } from "./ssl_setup.ts";
import { resetVerifyFailure } from "./verify.ts";
import { peerCertificateDER } from "./x509.ts";

/** What a step waits for before it can go on. */
export type DTLSWait = "read" | "write";

/** Options of a DTLS connection. */
export interface DTLSEngineOptions {
  /**
   * Client: the server's name, checked against its certificate (an IP
   * literal against its IP addresses) and sent as SNI unless it is an IP
   * literal. Required when the context verifies.
   */
  readonly host?: string;
  /**
   * Link MTU in bytes (IP and UDP headers included, 256–65535): records
   * and handshake fragments are sized for it and the kernel is not asked
   * (`SSL_OP_NO_QUERY_MTU` + `DTLS_set_link_mtu`). Default: the kernel's
   * path MTU of the connected socket.
   */
  readonly mtu?: number;
}

/** The largest plaintext of one DTLS record. */
export const DTLS_MAX_PLAINTEXT = 16384;

function checkMtu(mtu: unknown): number {
  if (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 256 || mtu > 65535) {
    throw new RangeError(`mtu must be an integer 256–65535, got ${String(mtu)}`);
  }
  return mtu;
}

/**
 * A datagram BIO on `dgram`'s descriptor (not closing it) marked connected
 * to `peer` (an encoded sockaddr), handed to `ssl` (which then owns it).
 */
function attachDatagramBIO(ssl: Pointer, dgram: Dgram): void {
  const crypto = libcrypto();
  const bio = crypto.BIO_new_dgram(dgram.fd, BIO_DGRAM_CTRL.BIO_NOCLOSE);
  if (bio === null) throw tlsError("ERR_TLS", "BIO_new_dgram");
  const peer = new Uint8Array(128);
  try {
    encodeSockaddr(dgram.remoteAddress(), peer);
  } catch (err) {
    crypto.BIO_free(bio);
    throw err;
  }
  crypto.BIO_ctrl(bio, BIO_DGRAM_CTRL.BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
  libssl().SSL_set_bio(ssl, bio, bio);
}

/**
 * One DTLS connection's `SSL`, its socket and its context reference; each
 * freed exactly once by {@link DTLSEngine.close}.
 *
 * @example
 * ```ts ignore
 * const engine = DTLSEngine.client(dgram, context, { host: "127.0.0.1" });
 * ```
 */
export class DTLSEngine {
  #ssl: Pointer | null;
  readonly #context: DTLSContext;
  /** The connected socket (owned: closed with the engine). */
  readonly dgram: Dgram;
  /** The role of this end. */
  readonly role: "client" | "server";
  /** The name the client checks, "" on a server. */
  readonly host: string;
  /** Whether the handshake completed. */
  handshaken = false;
  /** A fatal error happened: no close_notify may be sent. */
  broken = false;
  /** The peer sent close_notify. */
  peerClosed = false;
  readonly #timeval = new Uint8Array(16);

  private constructor(ssl: Pointer, dgram: Dgram, context: DTLSContext, host: string) {
    this.#ssl = ssl;
    this.dgram = dgram;
    this.#context = context;
    this.role = context.role;
    this.host = host;
  }

  /**
   * A client over `dgram` (connected to the server; it becomes
   * non-blocking and is owned by the engine from here on, also when this
   * throws). No I/O happens yet.
   *
   * @example
   * ```ts ignore
   * const engine = DTLSEngine.client(dgram, context, { host: "localhost", mtu: 1400 });
   * ```
   */
  static client(dgram: Dgram, context: DTLSContext, options: DTLSEngineOptions = {}): DTLSEngine {
    try {
      if (context.role !== "client") throw new TypeError("a DTLS client needs a client DTLSContext");
      const given = options.host ?? "";
      const host = given === "" ? "" : checkServername(given, "DTLS");
      if (context.verify && host === "") {
        throw new TypeError("DTLS: host is required to verify the server (or create the context with rejectUnauthorized: false)");
      }
      const mtu = options.mtu === undefined ? undefined : checkMtu(options.mtu);
      return DTLSEngine.#make(null, dgram, context, host, mtu);
    } catch (err) {
      dgram.close();
      throw err;
    }
  }

  /**
   * A server connection from a listening `SSL` that has just accepted a
   * ClientHello with a valid cookie (it holds that message; the context
   * reference taken for it moves to the engine), over `dgram`: a socket
   * bound to the listener's address and connected to the peer. On failure
   * both are freed.
   *
   * @example
   * ```ts ignore
   * const engine = DTLSEngine.fromListen(ssl, peerSocket, context, {});
   * ```
   */
  static fromListen(ssl: Pointer, dgram: Dgram, context: DTLSContext, options: DTLSEngineOptions = {}): DTLSEngine {
    let mtu: number | undefined;
    try {
      mtu = options.mtu === undefined ? undefined : checkMtu(options.mtu);
    } catch (err) {
      dgram.close();
      libssl().SSL_free(ssl);
      releaseDTLSContext(context);
      throw err;
    }
    try {
      return DTLSEngine.#make(ssl, dgram, context, "", mtu);
    } catch (err) {
      dgram.close();
      throw err;
    }
  }

  static #make(listened: Pointer | null, dgram: Dgram, context: DTLSContext, host: string, mtu: number | undefined): DTLSEngine {
    const lib = libssl();
    let ssl = listened;
    if (ssl === null) {
      const ctx = acquireDTLSContext(context);
      clearErrors();
      ssl = lib.SSL_new(ctx);
      if (ssl === null) {
        releaseDTLSContext(context);
        throw tlsError("ERR_TLS", "SSL_new");
      }
    }
    try {
      dgram.setNonBlocking(true);
      attachDatagramBIO(ssl, dgram);
      configurePeerName(ssl, host, context.verify);
      if (mtu !== undefined) {
        lib.SSL_set_options(ssl, DTLS_CTRL.SSL_OP_NO_QUERY_MTU);
        if (lib.SSL_ctrl(ssl, DTLS_CTRL.DTLS_CTRL_SET_LINK_MTU, mtu, null) !== 1) {
          const min = lib.SSL_ctrl(ssl, DTLS_CTRL.DTLS_CTRL_GET_LINK_MIN_MTU, 0, null);
          throw new RangeError(`mtu ${mtu} is below the smallest link MTU DTLS allows here (${min})`);
        }
      }
    } catch (err) {
      lib.SSL_free(ssl);
      releaseDTLSContext(context);
      throw err;
    }
    return new DTLSEngine(ssl, dgram, context, host);
  }

  /** The live `SSL` (throws after close). */
  get ssl(): Pointer {
    if (this.#ssl === null) throw new UseAfterCloseError("DTLS connection");
    return this.#ssl;
  }

  /** Whether {@link DTLSEngine.close} has run. */
  get closed(): boolean {
    return this.#ssl === null;
  }

  /** The context's verification setting. */
  get verify(): boolean {
    return this.#context.verify;
  }

  /**
   * One handshake call: "done" when complete (pins and, when the context
   * requires it, the extended master secret checked), else what it waits for.
   *
   * @throws TLSVerifyError, TLSPinError, TLSHandshakeError
   */
  handshakeStep(): "done" | DTLSWait {
    const ssl = this.ssl;
    if (this.handshaken) return "done";
    const lib = libssl();
    // Per-SSL since verify.ts keys its records by SSL (older: one global record).
    (resetVerifyFailure as (ssl: Pointer) => void)(ssl);
    clearErrors();
    const r = this.role === "client" ? lib.SSL_connect(ssl) : lib.SSL_accept(ssl);
    if (r === 1) {
      this.#checkRefusals(ssl);
      this.handshaken = true;
      return "done";
    }
    const code = lib.SSL_get_error(ssl, r);
    if (code === SSL_ERROR.WANT_READ) return "read";
    if (code === SSL_ERROR.WANT_WRITE) return "write";
    this.broken = true;
    const errno = code === SSL_ERROR.SYSCALL ? native.errno() : 0;
    throw classifyHandshakeFailure({ ssl, what: "DTLS handshake", code, errno, verify: this.#context.verify, minVersion: "TLSv1.2" });
  }

  /** The checks after a completed handshake, as TLS's handshakeRefusal: pins, then the extended master secret; refused without close_notify. */
  #checkRefusals(ssl: Pointer): void {
    const refused = pinMismatch(ssl, dtlsContextPins(this.#context), this.#context.verify, "DTLS handshake") ??
      extendedMasterSecretFailure(ssl, this.#context, "DTLS");
    if (refused !== null) {
      this.broken = true;
      throw refused;
    }
  }

  /**
   * One `SSL_read` into `buffer`: the byte count of one datagram's
   * plaintext, 0 when the peer sent close_notify, else what it waits for.
   *
   * @throws TLSError
   */
  readStep(buffer: Uint8Array): number | DTLSWait {
    const ssl = this.ssl;
    if (this.peerClosed) return 0;
    const lib = libssl();
    clearErrors();
    const r = lib.SSL_read(ssl, buffer, buffer.length);
    if (r > 0) return r;
    const code = lib.SSL_get_error(ssl, r);
    if (code === SSL_ERROR.WANT_READ) return "read";
    if (code === SSL_ERROR.WANT_WRITE) return "write";
    if (code === SSL_ERROR.ZERO_RETURN) {
      this.peerClosed = true;
      return 0;
    }
    this.broken = true;
    throw dataFailure("DTLS SSL_read", code, code === SSL_ERROR.SYSCALL ? native.errno() : 0);
  }

  /**
   * One `SSL_write` of `data` as one record (one datagram): its length,
   * else what it waits for.
   *
   * @throws RangeError when `data` does not fit one datagram, TLSError
   */
  writeStep(data: Uint8Array): number | DTLSWait {
    const ssl = this.ssl;
    const lib = libssl();
    const room = this.maxDatagramBytes;
    if (data.length > room) throw new RangeError(`a DTLS datagram holds at most ${room} bytes here (MTU), got ${data.length}`);
    if (data.length === 0) throw new RangeError("a DTLS datagram needs at least one byte");
    clearErrors();
    const r = lib.SSL_write(ssl, data, data.length);
    if (r > 0) return r;
    const code = lib.SSL_get_error(ssl, r);
    if (code === SSL_ERROR.WANT_READ) return "read";
    if (code === SSL_ERROR.WANT_WRITE) return "write";
    this.broken = true;
    throw dataFailure("DTLS SSL_write", code, code === SSL_ERROR.SYSCALL ? native.errno() : 0);
  }

  /** The most application bytes one datagram carries (the data MTU, at most 16 384). */
  get maxDatagramBytes(): number {
    const mtu = Number(libssl().DTLS_get_data_mtu(this.ssl));
    return mtu > 0 ? Math.min(mtu, DTLS_MAX_PLAINTEXT) : DTLS_MAX_PLAINTEXT;
  }

  /**
   * Milliseconds until the retransmission timer fires (0: due now), or -1
   * when no timer runs (`DTLSv1_get_timeout`).
   */
  timerMs(): number {
    const tv = this.#timeval;
    tv.fill(0);
    if (Number(libssl().SSL_ctrl(this.ssl, DTLS_CTRL.DTLS_CTRL_GET_TIMEOUT, 0, tv)) !== 1) return -1;
    const view = new DataView(tv.buffer, tv.byteOffset, 16);
    const sec = Number(view.getBigInt64(0, true));
    const usec = Number(view.getBigInt64(8, true));
    return Math.max(0, sec * 1000 + Math.ceil(usec / 1000));
  }

  /**
   * Runs the retransmission timer (`DTLSv1_handle_timeout`): resends the
   * last flight when due.
   *
   * @throws TLSHandshakeError when the peer stopped answering (too many retransmissions)
   */
  onTimer(): void {
    const ssl = this.ssl;
    clearErrors();
    const r = Number(libssl().SSL_ctrl(ssl, DTLS_CTRL.DTLS_CTRL_HANDLE_TIMEOUT, 0, null));
    if (r >= 0) {
      clearErrors();
      return;
    }
    this.broken = true;
    const queue = drainErrors().join("; ");
    const what = this.handshaken ? "DTLS retransmission" : "DTLS handshake";
    const message = `${what} failed: the peer stopped answering${queue ? `: ${queue}` : ""}`;
    throw this.handshaken ? new TLSError("ERR_TLS", message, { syscall: what }) : new TLSHandshakeError("ERR_TLS_HANDSHAKE", message, { syscall: what });
  }

  /** The protocol version ("DTLSv1.2"). */
  get protocol(): string {
    return negotiatedProtocol(this.ssl);
  }

  /** The cipher suite name, "" before the handshake. */
  get cipher(): string {
    return negotiatedCipher(this.ssl);
  }

  /** The peer's certificate, or null when it sent none. */
  peerCertificate(): Certificate | null {
    const der = peerCertificateDER(this.ssl);
    return der === null ? null : parseCertificate(der);
  }

  /**
   * Sends close_notify when healthy (one datagram, no wait for the
   * peer's), frees the `SSL` (and its BIO), releases the context and closes
   * the socket. Idempotent.
   */
  close(): void {
    const ssl = this.#ssl;
    if (ssl === null) return;
    this.#ssl = null;
    const lib = libssl();
    try {
      if (this.handshaken && !this.broken) {
        clearErrors();
        lib.SSL_shutdown(ssl);
        clearErrors();
      }
    } finally {
      lib.SSL_free(ssl);
      releaseDTLSContext(this.#context);
      this.dgram.close();
    }
  }
}
