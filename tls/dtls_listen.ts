/**
 * The stateless half of a DTLS server: one UDP socket and one listening
 * `SSL` running `DTLSv1_listen`. A ClientHello without a valid cookie gets
 * a HelloVerifyRequest and leaves nothing behind (the same listening `SSL`
 * serves every such datagram); garbage and non-ClientHello datagrams are
 * dropped. Only when a ClientHello comes back with a cookie that verifies
 * (HMAC of the peer address, see `dtls_cookie.ts`) does the server spend
 * state: {@link DTLSListenCore.take} hands that `SSL` to a new
 * {@link DTLSEngine} on its own socket, bound to the listener's address
 * with SO_REUSEADDR/SO_REUSEPORT and connected to the peer, so the kernel
 * delivers the peer's later datagrams there.
 *
 * @example
 * ```ts ignore
 * const core = new DTLSListenCore("127.0.0.1", 0, serverContext);
 * const hello = core.listenStep(); // null, or a verified peer
 * if (hello) { const engine = core.take(hello); }
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { libssl } from "../ffi/libssl.ts";
import type { Pointer } from "../ffi/types.ts";
import { checkPort, isIPv6 } from "../socket/address.ts";
import { Dgram, type IPSocketAddress } from "../socket/dgram.ts";
import { decodeSockaddr } from "../socket/sockaddr.ts";
import { BIO_DGRAM_CTRL } from "./ctrl.ts";
import { acquireDTLSContext, type DTLSContext, releaseDTLSContext } from "./dtls_context.ts";
import { DTLSEngine, type DTLSEngineOptions } from "./dtls_engine.ts";
import { clearErrors, tlsError } from "./errors.ts";

/** A ClientHello whose cookie verified: the listening `SSL` now holds it. */
export interface VerifiedHello {
  readonly ssl: Pointer;
  readonly peer: IPSocketAddress;
}

/** Counters of the listening socket. */
export interface DTLSListenStats {
  /** `DTLSv1_listen` calls. */
  listenCalls: number;
  /** ClientHellos with a valid cookie (connections started). */
  verified: number;
  /** Verified ClientHellos dropped because that peer already has a connection. */
  duplicates: number;
}

/**
 * The listening socket and `SSL`. Owns the socket; frees the listening
 * `SSL` and its context reference exactly once on close.
 *
 * @example
 * ```ts ignore
 * using core = new DTLSListenCore("127.0.0.1", 0, serverContext);
 * console.log(core.localAddress.port);
 * ```
 */
export class DTLSListenCore {
  /** The listening socket (non-blocking). */
  readonly dgram: Dgram;
  /** The bound address. */
  readonly localAddress: IPSocketAddress;
  readonly #context: DTLSContext;
  #ssl: Pointer | null = null;
  #closed = false;
  readonly #peerBuffer = new Uint8Array(256); // BIO_ADDR (a sockaddr union, 112 bytes on Linux) with room to spare
  /** Peers ("host:port") with a live connection. */
  readonly #peers = new Set<string>();
  /** Counters. */
  readonly stats: DTLSListenStats = { listenCalls: 0, verified: 0, duplicates: 0 };

  /**
   * Binds a UDP socket (SO_REUSEADDR and SO_REUSEPORT, so per-peer sockets
   * can share the address).
   *
   * @example
   * ```ts ignore
   * const core = new DTLSListenCore("::1", 0, serverContext);
   * ```
   */
  constructor(host: string, port: number, context: DTLSContext) {
    if (context.role !== "server") throw new TypeError("a DTLS listener needs a server DTLSContext");
    if (context.closed) throw new UseAfterCloseError("DTLSContext");
    if (typeof host !== "string" || host === "") throw new TypeError("DTLS listen: host must be an IP literal");
    checkPort(port);
    this.#context = context;
    this.dgram = Dgram.create(isIPv6(host) ? "ipv6" : "ipv4", { nonBlocking: true, reuseAddr: true, reusePort: true });
    try {
      this.dgram.bind(host, port);
      this.localAddress = this.dgram.localAddress();
    } catch (err) {
      this.dgram.close();
      throw err;
    }
  }

  /** Whether {@link DTLSListenCore.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Peers with a live connection. */
  get connections(): number {
    return this.#peers.size;
  }

  /** A listening `SSL` over an unconnected datagram BIO on the socket. */
  #listening(): Pointer {
    if (this.#ssl !== null) return this.#ssl;
    const lib = libssl();
    const ctx = acquireDTLSContext(this.#context);
    clearErrors();
    const ssl = lib.SSL_new(ctx);
    if (ssl === null) {
      releaseDTLSContext(this.#context);
      throw tlsError("ERR_TLS", "SSL_new");
    }
    const bio = libcrypto().BIO_new_dgram(this.dgram.fd, BIO_DGRAM_CTRL.BIO_NOCLOSE);
    if (bio === null) {
      lib.SSL_free(ssl);
      releaseDTLSContext(this.#context);
      throw tlsError("ERR_TLS", "BIO_new_dgram");
    }
    lib.SSL_set_bio(ssl, bio, bio);
    this.#ssl = ssl;
    return ssl;
  }

  /**
   * One `DTLSv1_listen` call: reads datagrams until one is a ClientHello
   * with a valid cookie (returned; the caller must {@link take} or
   * {@link drop} it) or the socket has no more (null). Cookie-less
   * ClientHellos get a HelloVerifyRequest; everything else is dropped.
   */
  listenStep(): VerifiedHello | null {
    if (this.#closed) throw new UseAfterCloseError("DTLS listener");
    const ssl = this.#listening();
    const peerBuffer = this.#peerBuffer;
    peerBuffer.fill(0);
    clearErrors();
    this.stats.listenCalls++;
    const r = libssl().DTLSv1_listen(ssl, peerBuffer);
    // 0: nothing more to read; -1: a datagram it could not use (dropped).
    // Neither affects other peers: the queue is cleared for the next call.
    clearErrors();
    if (r !== 1) return null;
    this.#ssl = null; // the next listen gets a fresh SSL
    let peer: IPSocketAddress;
    try {
      const decoded = decodeSockaddr(peerBuffer, peerBuffer.length);
      if (decoded.family === "unix") throw new TypeError("not an IP peer");
      peer = { family: decoded.family, host: decoded.host, port: decoded.port } as IPSocketAddress;
    } catch {
      this.#free(ssl);
      return null;
    }
    if (this.#peers.has(peerKey(peer))) {
      // A retransmitted ClientHello raced the peer's own socket: ignore it.
      this.stats.duplicates++;
      this.#free(ssl);
      return null;
    }
    this.stats.verified++;
    return { ssl, peer };
  }

  #free(ssl: Pointer): void {
    libssl().SSL_free(ssl);
    releaseDTLSContext(this.#context);
  }

  /**
   * Frees a verified hello without serving it (too many handshakes).
   */
  drop(hello: VerifiedHello): void {
    this.#free(hello.ssl);
  }

  /**
   * A connection for `hello` on its own socket (bound to the listener's
   * address, connected to the peer). Call {@link release} with the same
   * peer when that connection closes.
   */
  take(hello: VerifiedHello, options: DTLSEngineOptions = {}): DTLSEngine {
    let dgram: Dgram;
    try {
      dgram = Dgram.create(this.dgram.family, { nonBlocking: true, reuseAddr: true, reusePort: true });
    } catch (err) {
      this.#free(hello.ssl);
      throw err;
    }
    try {
      dgram.bind(this.localAddress.host, this.localAddress.port);
      dgram.connect(hello.peer.host, hello.peer.port);
    } catch (err) {
      dgram.close();
      this.#free(hello.ssl);
      throw err;
    }
    const engine = DTLSEngine.fromListen(hello.ssl, dgram, this.#context, options);
    this.#peers.add(peerKey(hello.peer));
    return engine;
  }

  /** Forgets `peer`'s connection (it closed). */
  release(peer: IPSocketAddress): void {
    this.#peers.delete(peerKey(peer));
  }

  /** Frees the listening `SSL` and closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ssl !== null) {
      this.#free(this.#ssl);
      this.#ssl = null;
    }
    this.dgram.close();
  }

  /** Same as {@link DTLSListenCore.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The text naming a peer.
 *
 * @example
 * ```ts
 * import { peerKey } from "./dtls_listen.ts";
 * console.log(peerKey({ family: "ipv4", host: "127.0.0.1", port: 9 })); // "127.0.0.1:9"
 * ```
 */
export function peerKey(peer: IPSocketAddress): string {
  return peer.family === "ipv6" ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`;
}
