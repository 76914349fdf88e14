/**
 * `TLSEngine`: one `SSL` of a connection on the loop, with the calls both
 * async transports make (fd mode, tls/connection.ts, and memory-BIO mode,
 * tls/bio_connection.ts): one handshake step, one `SSL_read`, one
 * `SSL_write`, `close_notify`, each with `ERR_clear_error` first so one
 * connection's error never shows in another's, and each failure mapped to
 * the same typed errors as the blocking `TLSSocket` (tls/failure.ts). It
 * also keeps what the handshake negotiated ({@link TLSInfo}) readable
 * after the connection closed.
 *
 * @example
 * ```ts ignore
 * const engine = new TLSEngine(context, { fd: socket.fd, host: "localhost" });
 * for (let r = engine.handshakeStep(); r !== STEP_DONE; r = engine.handshakeStep()) {
 *   if (r instanceof Error) throw r; // … else wait for STEP_READ / STEP_WRITE
 * }
 * ```
 *
 * @module
 */
import { TLSError, UseAfterCloseError } from "../core/errors.ts";
import { libssl } from "../ffi/libssl.ts";
import { native } from "../ffi/native.ts";
import type { Pointer } from "../ffi/types.ts";
import { type Certificate, parseCertificate } from "./certificate.ts";
import { negotiatedALPN, negotiatedCipher, negotiatedGroup, negotiatedProtocol } from "./connection_info.ts";
import { acquireContext, contextStaplePolicy, releaseContext, type TLSContext } from "./context.ts";
import { type OCSPStatus, verifyStaple } from "./ocsp.ts";
import { BIO_KTLS_CTRL, CTRL, SSL_ERROR, SSL_MODE, SSL_OP } from "./ctrl.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { clearErrors, tlsError } from "./errors.ts";
import { classifyHandshakeFailure, dataFailure, handshakeRefusal } from "./failure.ts";
import { countHandshake } from "./tls_stats.ts";
import { exportSession, extendedMasterSecret, importSession } from "./session.ts";
import { checkServername, configurePeerName, configureSSL } from "./ssl_setup.ts";
import { resetVerifyFailure } from "./verify.ts";
import { nativeString } from "./native_bytes.ts";
import { peerCertificateDER } from "./x509.ts";

/**
 * fd mode: the SSL's read buffer (read-ahead takes up to this much per
 * recv): exactly four full TLS 1.3 AES-GCM / ChaCha20 records (16384 bytes
 * of data + 5 header + 1 type + 16 tag = 16406 on the wire) after the 3
 * bytes OpenSSL skips to align the payload. A 64 KiB buffer held 3.99
 * records, so every fourth record took a second recv for its last 91
 * bytes; this one ends on a record boundary when the peer sends full
 * records.
 */
const READ_BUFFER_BYTES = 4 * 16406 + 3;

/** {@link TLSEngine.handshakeStep}: the handshake is complete. */
export const STEP_DONE = 0;
/** {@link TLSEngine.handshakeStep}: wait until the socket is readable (or more input came). */
export const STEP_READ = 1;
/** {@link TLSEngine.handshakeStep}: wait until the socket is writable. */
export const STEP_WRITE = 2;

/** {@link TLSEngine.read} / {@link TLSEngine.write}: wait for readability. */
export const WANT_READ = -2;
/** {@link TLSEngine.read} / {@link TLSEngine.write}: wait for writability. */
export const WANT_WRITE = -3;
/** {@link TLSEngine.read} / {@link TLSEngine.write}: failed; {@link TLSEngine.takeError} has the error. */
export const FAILED = -1;

/**
 * What a TLS connection negotiated, readable on the connection with
 * `tlsInfo(conn)` (tls/connect_async.ts) from its handler's `open` on
 * (and after it closed).
 *
 * @example
 * ```ts ignore
 * const info = tlsInfo(conn)!;
 * console.log(info.protocol, info.alpnProtocol, info.cipher, info.group, info.isSessionReused());
 * ```
 */
export interface TLSInfo {
  /** "client" or "server". */
  readonly role: "client" | "server";
  /** "TLSv1.3", "TLSv1.2". */
  readonly protocol: string;
  /** The ALPN protocol selected, or null. */
  readonly alpnProtocol: string | null;
  /** The cipher suite ("TLS_AES_256_GCM_SHA384"). */
  readonly cipher: string;
  /** The key exchange group ("x25519", …), "" when none. */
  readonly group: string;
  /** Server: the SNI name the client sent, or null. Client: the name it checked ("" for none). */
  readonly servername: string | null;
  /** Whether the handshake resumed a session. */
  isSessionReused(): boolean;
  /** The peer's certificate, or null when it sent none. */
  peerCertificate(): Certificate | null;
  /**
   * Client with `requestOCSP`: the checked status of the server's stapled
   * OCSP response ("good", "unknown", or "none" when nothing was stapled or
   * the session was resumed; a revoked or bad one fails the handshake);
   * null when the context asks for no staple.
   */
  readonly ocspStatus: OCSPStatus | null;
  /**
   * Whether kernel TLS carries this connection's records (`ktls` option,
   * fd mode): either direction. False where the kernel has no `tls`
   * module, OpenSSL was built without kTLS, or the option is off.
   */
  readonly ktls: boolean;
  /** Whether the kernel encrypts what this connection sends (`BIO_get_ktls_send`); `tlsSendfile` then uses `SSL_sendfile`. */
  readonly ktlsSend: boolean;
  /** Whether the kernel decrypts what this connection receives (`BIO_get_ktls_recv`). */
  readonly ktlsRecv: boolean;
  /**
   * Client: this connection's session as bytes for a later `session`
   * option, or null while none is resumable (TLS 1.3 sends its tickets
   * after the handshake; they are taken in as the connection reads).
   */
  session(): Uint8Array | null;
  /**
   * Client: resolves with the session bytes once a resumable session is
   * there (the TLS 1.3 ticket arrived), or null when the connection closes
   * first or `timeoutMs` (default 5000) passes. The connection must be
   * reading (not paused) for the ticket to be taken in.
   */
  waitSession(timeoutMs?: number): Promise<Uint8Array | null>;
}

/** How the `SSL` reaches the peer: a descriptor (fd mode) or nothing yet (BIO mode: the caller sets the BIOs). */
export interface EngineOptions {
  /** fd mode: the connected socket's descriptor; omitted for memory-BIO mode. */
  readonly fd?: number;
  /** Client: the name checked and sent as SNI (an IP literal: checked, not sent). */
  readonly host?: string;
  /** Client: a session to resume. */
  readonly session?: Uint8Array;
  /** An EOF without close_notify is a clean end (the protocol above frames its own end). */
  readonly allowTruncation?: boolean;
  /** fd mode: ask for kernel TLS on this connection (`SSL_OP_ENABLE_KTLS`), also when its context does not. */
  readonly ktls?: boolean;
  /**
   * fd mode: records go into a memory write BIO that the transport drains
   * with one `send()` per batch ({@link TLSEngine.takeOutput}) instead of
   * OpenSSL's one `send()` per record. Ignored with kTLS (the kernel's
   * socket BIO must write).
   */
  readonly bufferWrites?: boolean;
}

/** `BIO_ctrl` command BIO_C_SET_BUF_MEM_EOF_RETURN (bio.h): what a read of an empty memory BIO returns. */
const BIO_C_SET_BUF_MEM_EOF_RETURN = 130;

/** The negotiated details a {@link TLSEngine} reads once. */
interface Details {
  readonly protocol: string;
  readonly alpn: string | null;
  readonly cipher: string;
  readonly group: string;
  readonly servername: string | null;
  readonly peerDER: Uint8Array | null;
}

const NOTHING_NEGOTIATED: Details = { protocol: "", alpn: null, cipher: "", group: "", servername: null, peerDER: null };

/**
 * Puts a memory BIO in place of `ssl`'s socket write BIO (the socket BIO
 * stays its read BIO); the SSL owns it from here on. Returns it.
 */
function bufferWrites(ssl: Pointer): Pointer {
  const crypto = libcrypto();
  const lib = libssl();
  const bio = crypto.BIO_new(crypto.BIO_s_mem());
  if (bio === null) throw tlsError("ERR_TLS", "BIO_new");
  // An empty BIO reads as "retry", not as EOF.
  crypto.BIO_ctrl(bio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, null);
  // The read BIO is unchanged (no reference taken for it); one reference
  // of `bio` goes to the SSL as its write BIO, and the socket BIO loses
  // the reference it held as the write BIO.
  lib.SSL_set_bio(ssl, lib.SSL_get_rbio(ssl), bio);
  return bio;
}

/**
 * One connection's `SSL` (see the module text). Freed exactly once by
 * {@link TLSEngine.free}.
 *
 * @example
 * ```ts ignore
 * const engine = new TLSEngine(context, { fd, host: "localhost" });
 * engine.free();
 * ```
 */
export class TLSEngine implements TLSInfo {
  #ssl: Pointer | null;
  readonly #context: TLSContext;
  readonly role: "client" | "server";
  readonly #host: string;
  readonly #allowTruncation: boolean;
  #handshaken = false;
  /** A fatal error happened: no close_notify may be sent. */
  #broken = false;
  #shutdownSent = false;
  #error: Error | undefined;
  /** What the handshake negotiated, read from the SSL on first use (or just before it is freed). */
  #details: Details | undefined;
  #reused = false;
  /** Client: the session can never be resumed (TLS 1.2 without the extended master secret). */
  #unresumable = false;
  #ktlsSend = false;
  #ktlsRecv = false;
  /** fd mode with kTLS asked for (here or on the context): checked after the handshake. */
  readonly #ktlsWanted: boolean;
  #ocspStatus: OCSPStatus | null = null;
  #session: Uint8Array | null = null;
  /**
   * Who waits for a resumable session, each but for the bytes in `except`
   * (the session it offered), for at most `polls` more reads.
   */
  #sessionWaiters: { resolve: (session: Uint8Array | null) => void; except: Uint8Array | null; polls: number }[] = [];
  /** The last `SSL_read` filled its target: decrypted bytes may wait in the SSL. */
  mayHavePending = false;
  /** fd mode with buffered writes: the memory write BIO (owned by the SSL), else null. */
  #outBio: Pointer | null = null;

  constructor(context: TLSContext, options: EngineOptions) {
    this.role = context.role;
    const given = options.host ?? "";
    const host = this.role === "client" && given !== "" ? checkServername(given, "TLS") : "";
    this.#host = host;
    if (this.role === "client" && context.verify && host === "") {
      throw new TypeError("TLS: host (or servername) is required to verify the server (or pass rejectUnauthorized: false)");
    }
    this.#allowTruncation = options.allowTruncation === true;
    if (options.ktls !== undefined && typeof options.ktls !== "boolean") throw new TypeError("TLS: ktls must be a boolean");
    this.#ktlsWanted = options.fd !== undefined && (options.ktls === true || context.ktls);
    const ctx = acquireContext(context);
    const lib = libssl();
    clearErrors();
    const ssl = lib.SSL_new(ctx);
    if (ssl === null) {
      releaseContext(context);
      throw tlsError("ERR_TLS", "SSL_new");
    }
    try {
      // A write buffer that may move between the retries of one write
      // (our queue's chunks). fd mode: one SSL_write takes the whole
      // chunk (records go out back to back, one FFI call per chunk instead
      // of one per 16 KiB record); a write cut short by EAGAIN is retried
      // with the same bytes from the queue. Memory-BIO mode: partial writes
      // (a record at a time, bounded by the BIO's room).
      // (The context set ACCEPT_MOVING_WRITE_BUFFER already; SSL_set_mode adds bits.)
      if (options.fd === undefined) lib.SSL_ctrl(ssl, CTRL.SSL_CTRL_MODE, SSL_MODE.ENABLE_PARTIAL_WRITE, null);
      if (options.fd !== undefined) {
        configureSSL(ssl, options.fd, this.#host, context.verify);
        // fd mode: one recv takes what the socket has (up to 64 KiB), not
        // a record header and then its body; bytes it read ahead are
        // seen by SSL_has_pending (no readiness event announces them).
        lib.SSL_set_read_ahead(ssl, 1);
        lib.SSL_set_default_read_buffer_len(ssl, READ_BUFFER_BYTES);
        if (options.ktls === true && !context.ktls) lib.SSL_set_options(ssl, SSL_OP.ENABLE_KTLS);
        if (options.bufferWrites === true && !this.#ktlsWanted) this.#outBio = bufferWrites(ssl);
      } else configurePeerName(ssl, this.#host, context.verify);
      if (options.session !== undefined) {
        if (this.role !== "client") throw new TypeError("TLS: session is a client option");
        importSession(ssl, options.session, context.verify ? this.#host : ""); // unverified: any session goes
      }
      resetVerifyFailure(ssl);
    } catch (err) {
      lib.SSL_free(ssl);
      releaseContext(context);
      throw err;
    }
    this.#ssl = ssl;
    this.#context = context;
  }

  /** The live `SSL` (for BIO setup). */
  get ssl(): Pointer {
    if (this.#ssl === null) throw new UseAfterCloseError("TLS connection");
    return this.#ssl;
  }

  /** Whether the handshake completed. */
  get handshaken(): boolean {
    return this.#handshaken;
  }

  /** Whether the `SSL` was freed. */
  get freed(): boolean {
    return this.#ssl === null;
  }

  /** Marks the connection failed from outside (a transport error): no close_notify. */
  markBroken(): void {
    this.#broken = true;
  }

  /** The error of the last call that returned {@link FAILED} (or a handshake step's error). */
  takeError(): Error {
    const error = this.#error ?? new TLSError("ERR_TLS", "TLS connection failed");
    this.#error = undefined;
    return error;
  }

  /**
   * One handshake call: {@link STEP_DONE}, {@link STEP_READ},
   * {@link STEP_WRITE}, or the typed error of a failed handshake
   * (TLSVerifyError, TLSPinError, TLSHandshakeError).
   */
  handshakeStep(): number | Error {
    const ssl = this.ssl;
    const lib = libssl();
    clearErrors();
    const r = this.role === "client" ? lib.SSL_connect(ssl) : lib.SSL_accept(ssl);
    if (r === 1) {
      const refused = handshakeRefusal(ssl, this.#context, this.#host);
      if (refused !== null) {
        this.#broken = true; // no close_notify after refusing the peer
        return refused;
      }
      const staplePolicy = contextStaplePolicy(this.#context);
      if (staplePolicy !== null) {
        try {
          // requestOCSP / requireOCSP: a bad or missing staple refuses the server
          this.#ocspStatus = verifyStaple(ssl, staplePolicy);
        } catch (err) {
          this.#broken = true;
          return err as Error;
        }
      }
      this.#handshaken = true;
      this.#reused = lib.SSL_session_reused(ssl) === 1;
      // TLS 1.2 without the extended master secret: never given out for resumption (tls/session.ts).
      this.#unresumable = this.role === "client" && !extendedMasterSecret(ssl);
      if (this.#ktlsWanted) this.#checkKtls(ssl);
      countHandshake(this.role, this.#reused ? "resumed" : "full"); // tls/tls_stats.ts (metrics)
      this.mayHavePending = true; // read ahead: records behind the handshake's
      return STEP_DONE;
    }
    const code = lib.SSL_get_error(ssl, r);
    if (code === SSL_ERROR.WANT_READ) return STEP_READ;
    if (code === SSL_ERROR.WANT_WRITE) return STEP_WRITE;
    this.#broken = true;
    const errno = code === SSL_ERROR.SYSCALL ? native.errno() : 0;
    countHandshake(this.role, "failed"); // tls/tls_stats.ts (metrics)
    return classifyHandshakeFailure({ ssl, what: "handshake", code, errno, verify: this.role === "client" && this.#context.verify, minVersion: this.#context.minVersion });
  }

  /**
   * One `SSL_read` into `target`: bytes (> 0), 0 at the peer's
   * close_notify (or, with `allowTruncation`, at a bare EOF),
   * {@link WANT_READ}, {@link WANT_WRITE} or {@link FAILED} (ERR_TLS_TRUNCATED
   * for an EOF without close_notify).
   */
  read(target: Uint8Array): number {
    const ssl = this.ssl;
    const lib = libssl();
    clearErrors();
    const room = target.length > 0x7fffffff ? 0x7fffffff : target.length;
    const n = lib.SSL_read(ssl, target, room);
    if (n > 0) {
      // Read ahead, the SSL may hold further records even when this one
      // did not fill the target.
      this.mayHavePending = true;
      return n;
    }
    this.mayHavePending = false;
    const code = lib.SSL_get_error(ssl, n);
    if (code === SSL_ERROR.WANT_READ) return WANT_READ;
    if (code === SSL_ERROR.WANT_WRITE) return WANT_WRITE;
    if (code === SSL_ERROR.ZERO_RETURN) return 0;
    const error = dataFailure("SSL_read", code, code === SSL_ERROR.SYSCALL ? native.errno() : 0);
    this.#broken = true;
    if (this.#allowTruncation && error.code === "ERR_TLS_TRUNCATED") return 0;
    this.#error = error;
    return FAILED;
  }

  /** Whether bytes wait in the SSL, decrypted or read ahead (checked only after a read filled its target). */
  pending(): boolean {
    if (!this.mayHavePending || this.#ssl === null) return false;
    return libssl().SSL_has_pending(this.#ssl) === 1;
  }

  /** One `SSL_write` of `data` (non-empty): bytes taken (> 0), {@link WANT_READ}, {@link WANT_WRITE} or {@link FAILED}. */
  write(data: Uint8Array): number {
    const ssl = this.ssl;
    const lib = libssl();
    clearErrors();
    const n = lib.SSL_write(ssl, data, data.length > 0x7fffffff ? 0x7fffffff : data.length);
    if (n > 0) return n;
    const code = lib.SSL_get_error(ssl, n);
    if (code === SSL_ERROR.WANT_READ) return WANT_READ;
    if (code === SSL_ERROR.WANT_WRITE) return WANT_WRITE;
    this.#broken = true;
    this.#error = dataFailure("SSL_write", code, code === SSL_ERROR.SYSCALL ? native.errno() : 0);
    return FAILED;
  }

  /** Buffered writes (fd mode): whether records wait for {@link TLSEngine.takeOutput} instead of going out by themselves. */
  get buffersWrites(): boolean {
    return this.#outBio !== null;
  }

  /**
   * Buffered writes: moves up to `target.length` bytes of the records the
   * SSL produced (application data, handshake, alerts, close_notify) into
   * `target`; 0 when none wait.
   */
  takeOutput(target: Uint8Array): number {
    const bio = this.#outBio;
    if (bio === null || this.#ssl === null) return 0;
    const n = libcrypto().BIO_read(bio, target, target.length > 0x7fffffff ? 0x7fffffff : target.length);
    return n > 0 ? n : 0;
  }

  /** Sends close_notify once (after a healthy handshake; without waiting for the peer's). */
  shutdown(): void {
    if (this.#ssl === null || !this.#handshaken || this.#broken || this.#shutdownSent) return;
    this.#shutdownSent = true;
    clearErrors();
    libssl().SSL_shutdown(this.#ssl);
    clearErrors();
  }

  /** Frees the `SSL` (idempotent); session waiters get null. */
  free(): void {
    const ssl = this.#ssl;
    if (ssl === null) return;
    this.#takeSession(ssl);
    // Readable after close: taken now if nobody asked yet.
    if (this.#handshaken) this.#negotiated();
    this.#ssl = null;
    this.#outBio = null; // freed with the SSL
    resetVerifyFailure(ssl);
    libssl().SSL_free(ssl);
    releaseContext(this.#context);
    for (const waiter of this.#sessionWaiters.splice(0)) {
      const session = this.#session;
      waiter.resolve(session !== null && !sameBytes(session, waiter.except) ? session : null);
    }
  }

  /**
   * After reads: hands a newly resumable session to whoever waits for one;
   * a {@link nextSession} waiter still without one after its reads gets
   * null (each poll exports the session: not for a connection's whole life).
   */
  pollSession(): void {
    if (this.#sessionWaiters.length === 0 || this.#ssl === null) return;
    const session = this.#takeSession(this.#ssl);
    const waiters = this.#sessionWaiters;
    for (let i = 0; i < waiters.length;) {
      const waiter = waiters[i]!;
      if (session !== null && !sameBytes(session, waiter.except)) {
        waiters.splice(i, 1);
        waiter.resolve(session);
      } else if (--waiter.polls <= 0) {
        waiters.splice(i, 1);
        waiter.resolve(null);
      } else i++;
    }
  }

  /**
   * Client: resolves with the first resumable session whose bytes are not
   * `except` (a resumed TLS 1.3 connection still holds the session it
   * offered until the server's new ticket comes), or null when the
   * connection closes first or {@link SESSION_POLLS} reads brought none
   * (a server that sends no ticket). No timer: the wait ends with the
   * connection or its reads.
   */
  nextSession(except: Uint8Array | null = null): Promise<Uint8Array | null> {
    const now = this.session();
    if (this.#ssl === null || this.role !== "client" || this.#unresumable) return Promise.resolve(now !== null && !sameBytes(now, except) ? now : null);
    if (now !== null && !sameBytes(now, except)) return Promise.resolve(now);
    return new Promise((resolve) => this.#sessionWaiters.push({ resolve, except, polls: SESSION_POLLS }));
  }

  #takeSession(ssl: Pointer): Uint8Array | null {
    if (this.role !== "client" || !this.#handshaken) return this.#session;
    try {
      const bytes = exportSession(ssl);
      if (bytes !== null) this.#session = bytes;
    } catch {
      // not exportable: keep what we had
    }
    return this.#session;
  }

  #checkKtls(ssl: Pointer): void {
    // BIO_get_ktls_send / BIO_get_ktls_recv are BIO_ctrl macros (> 0: active).
    const bio = libcrypto();
    const wbio = libssl().SSL_get_wbio(ssl);
    const rbio = libssl().SSL_get_rbio(ssl);
    this.#ktlsSend = wbio !== null && Number(bio.BIO_ctrl(wbio, BIO_KTLS_CTRL.BIO_CTRL_GET_KTLS_SEND, 0, null)) > 0;
    this.#ktlsRecv = rbio !== null && Number(bio.BIO_ctrl(rbio, BIO_KTLS_CTRL.BIO_CTRL_GET_KTLS_RECV, 0, null)) > 0;
  }

  /**
   * What was negotiated: read from the SSL the first time anyone asks (a
   * server that never looks pays nothing during the handshake), or just
   * before the SSL is freed; before the handshake, nothing.
   */
  #negotiated(): Details {
    if (this.#details !== undefined) return this.#details;
    const ssl = this.#ssl;
    if (ssl === null || !this.#handshaken) return NOTHING_NEGOTIATED;
    let servername: string | null;
    if (this.role === "server") {
      const name = libssl().SSL_get_servername(ssl, 0);
      servername = name === null ? null : nativeString(name, 256);
    } else servername = this.#host;
    this.#details = {
      protocol: negotiatedProtocol(ssl),
      alpn: negotiatedALPN(ssl),
      cipher: negotiatedCipher(ssl),
      group: negotiatedGroup(ssl),
      servername,
      peerDER: peerCertificateDER(ssl),
    };
    return this.#details;
  }

  get protocol(): string {
    return this.#negotiated().protocol;
  }

  get alpnProtocol(): string | null {
    return this.#negotiated().alpn;
  }

  get cipher(): string {
    return this.#negotiated().cipher;
  }

  get group(): string {
    return this.#negotiated().group;
  }

  get servername(): string | null {
    return this.#negotiated().servername;
  }

  get ktls(): boolean {
    return this.#ktlsSend || this.#ktlsRecv;
  }

  get ktlsSend(): boolean {
    return this.#ktlsSend;
  }

  get ktlsRecv(): boolean {
    return this.#ktlsRecv;
  }

  /**
   * One `SSL_sendfile` (kTLS send active): bytes sent (> 0),
   * {@link WANT_WRITE}, or {@link FAILED}.
   */
  sendfile(fileFd: number, offset: number, count: number): number {
    const ssl = this.ssl;
    const lib = libssl();
    if (!this.#ktlsSend || lib.SSL_sendfile === undefined) throw new TypeError("TLS: sendfile needs kernel TLS send (tlsInfo(conn).ktlsSend)");
    clearErrors();
    const n = Number(lib.SSL_sendfile(ssl, fileFd, offset, count, 0));
    if (n > 0) return n;
    const code = lib.SSL_get_error(ssl, n);
    if (code === SSL_ERROR.WANT_WRITE || code === SSL_ERROR.WANT_READ) return WANT_WRITE;
    this.#broken = true;
    this.#error = dataFailure("SSL_sendfile", code, code === SSL_ERROR.SYSCALL ? native.errno() : 0);
    return FAILED;
  }

  get ocspStatus(): OCSPStatus | null {
    return this.#ocspStatus;
  }

  isSessionReused(): boolean {
    return this.#reused;
  }

  peerCertificate(): Certificate | null {
    const der = this.#negotiated().peerDER;
    return der === null ? null : parseCertificate(der);
  }

  session(): Uint8Array | null {
    return this.#ssl === null ? this.#session : this.#takeSession(this.#ssl);
  }

  waitSession(timeoutMs = 5000): Promise<Uint8Array | null> {
    const now = this.session();
    if (now !== null || this.#ssl === null || this.role !== "client" || this.#unresumable) return Promise.resolve(now);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (session: Uint8Array | null) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(session);
      };
      const waiter = { resolve: done, except: null, polls: Infinity };
      this.#sessionWaiters.push(waiter);
      timer = setTimeout(() => {
        const i = this.#sessionWaiters.indexOf(waiter);
        if (i >= 0) this.#sessionWaiters.splice(i, 1);
        resolve(this.session());
      }, timeoutMs);
    });
  }
}

/** Reads after which a {@link TLSEngine.nextSession} wait without a new session ends with null. */
const SESSION_POLLS = 32;

/** Whether `a` holds the same bytes as `b` (false when `b` is null). */
function sameBytes(a: Uint8Array, b: Uint8Array | null): boolean {
  if (b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
