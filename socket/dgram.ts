/**
 * `Dgram`: a synchronous UDP socket (IPv4, IPv6 and dual-stack). One method
 * is one system call; errors are exceptions; a non-blocking socket returns
 * `null` where it would block.
 *
 * @example
 * ```ts
 * import { bindUDPSync } from "./dgram.ts";
 * using a = bindUDPSync("127.0.0.1", 0);
 * using b = bindUDPSync("127.0.0.1", 0);
 * b.sendTo(new TextEncoder().encode("ping"), "127.0.0.1", a.localAddress().port);
 * const buf = new Uint8Array(1500);
 * const d = a.recvFrom(buf)!;
 * console.log(d.bytes, d.host); // 4 "127.0.0.1"
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import { checkPort, formatHostPort, isIPv6 } from "./address.ts";
import { recvBatch, sendBatch, type OutgoingDatagram } from "./dgram_batch.ts";
import {
  getIntOption,
  joinMulticast,
  leaveMulticast,
  setIntOption,
  setMulticastInterface,
  type MulticastInterface,
} from "./dgram_multicast.ts";
import { encodeTarget, type DgramFamily, type ReceivedDatagram } from "./dgram_target.ts";
import { SockaddrBuffer, type IPv4SocketAddress, type IPv6SocketAddress } from "./sockaddr.ts";

export type { DgramFamily, MulticastInterface, OutgoingDatagram, ReceivedDatagram };

/** Options of {@link Dgram.create} and {@link bindUDPSync}. */
export interface DgramOptions {
  /** Return `null` instead of blocking (O_NONBLOCK). Default false. */
  nonBlocking?: boolean;
  /** SO_REUSEADDR, set before binding (several receivers of one multicast port). */
  reuseAddr?: boolean;
  /** SO_REUSEPORT, set before binding (load-balanced receivers). */
  reusePort?: boolean;
  /** IPv6 sockets only: refuse IPv4-mapped traffic (IPV6_V6ONLY). Default: the system's. */
  v6Only?: boolean;
}

/** An IP socket address (what a UDP socket is bound or connected to). */
export type IPSocketAddress = IPv4SocketAddress | IPv6SocketAddress;

function describeFd(fd: number): string {
  return `UDP socket ${fd}`;
}

/**
 * A UDP socket. Every descriptor is close-on-exec; `close()` is idempotent,
 * and any other use after it throws {@link UseAfterCloseError}.
 *
 * @example
 * ```ts
 * import { Dgram } from "./dgram.ts";
 * using s = Dgram.create("ipv6");
 * s.bind("::1", 0);
 * console.log(s.localAddress().port > 0); // true
 * ```
 */
export class Dgram {
  #fd: number;
  #nonBlocking: boolean;
  /** The address family. */
  readonly family: DgramFamily;
  // The last sendTo target, encoded once and reused while it does not change.
  readonly #target = new Uint8Array(LAYOUT.sockaddr_storage.size);
  #targetHost = "";
  #targetPort = -1;
  #targetLength = 0;
  readonly #source = new SockaddrBuffer();

  private constructor(fd: number, family: DgramFamily, nonBlocking: boolean) {
    this.#fd = fd;
    this.family = family;
    this.#nonBlocking = nonBlocking;
  }

  /**
   * Creates an unbound UDP socket.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * const s = Dgram.create("ipv4", { nonBlocking: true });
   * s.close();
   * ```
   */
  static create(family: DgramFamily = "ipv4", options: DgramOptions = {}): Dgram {
    if (family !== "ipv4" && family !== "ipv6") {
      throw new TypeError(`UDP family must be "ipv4" or "ipv6", got ${JSON.stringify(family)}`);
    }
    const nonBlocking = options.nonBlocking ?? false;
    const af = family === "ipv4" ? C.AF_INET : C.AF_INET6;
    const lib = libc();
    const fd = check(
      lib.socket(af, C.SOCK_DGRAM | C.SOCK_CLOEXEC | (nonBlocking ? C.SOCK_NONBLOCK : 0), C.IPPROTO_UDP),
      "socket",
    );
    const socket = new Dgram(fd, family, nonBlocking);
    try {
      if (C.SOCK_CLOEXEC === 0) {
        check(lib.fcntl(fd, C.F_SETFD, C.FD_CLOEXEC), "fcntl(FD_CLOEXEC)");
        if (nonBlocking) socket.setNonBlocking(true);
      }
      if (options.reuseAddr) socket.setReuseAddr(true);
      if (options.reusePort) socket.setReusePort(true);
      if (options.v6Only !== undefined) {
        if (family !== "ipv6") throw new TypeError("v6Only applies to IPv6 sockets only");
        setIntOption(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, options.v6Only ? 1 : 0, "IPV6_V6ONLY");
      }
    } catch (err) {
      socket.close();
      throw err;
    }
    return socket;
  }

  /** The descriptor (throws after close). */
  get fd(): number {
    if (this.#fd < 0) throw new UseAfterCloseError("Dgram");
    return this.#fd;
  }

  /** Whether {@link Dgram.close} has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Whether the socket is in non-blocking mode. */
  get nonBlocking(): boolean {
    void this.fd;
    return this.#nonBlocking;
  }

  /**
   * Binds to a local IP literal and port (0: the kernel picks). `null` binds
   * every address: `0.0.0.0`, or `::` for IPv6 (dual-stack unless v6Only).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.bind(null, 0);
   * ```
   */
  bind(host: string | null, port: number): void {
    const fd = this.fd;
    checkPort(port);
    const any = this.family === "ipv4" ? "0.0.0.0" : "::";
    const text = host ?? any;
    const addr = new Uint8Array(LAYOUT.sockaddr_storage.size);
    const length = encodeTarget(this.family, text, port, addr);
    check(libc().bind(fd, addr, length), "bind", formatHostPort(text, port));
  }

  /**
   * Connects to a peer: `send` and `recv` then use it, and datagrams from
   * other addresses are dropped by the kernel.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.connect("127.0.0.1", 53);
   * ```
   */
  connect(host: string, port: number): void {
    const fd = this.fd;
    const addr = new Uint8Array(LAYOUT.sockaddr_storage.size);
    const length = encodeTarget(this.family, host, port, addr);
    check(libc().connect(fd, addr, length), "connect", formatHostPort(host, port));
  }

  /**
   * Dissolves the association made by {@link Dgram.connect} (AF_UNSPEC).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.connect("127.0.0.1", 53);
   * s.disconnect();
   * ```
   */
  disconnect(): void {
    const fd = this.fd;
    const addr = new Uint8Array(LAYOUT.sockaddr_storage.size);
    if (LAYOUT.sockaddrHasLen) addr[0] = 16;
    const r = libc().connect(fd, addr, LAYOUT.sockaddr_in.size);
    // BSDs report EAFNOSUPPORT after dissolving the association.
    if (r < 0 && native.errno() !== E.EAFNOSUPPORT) throw sysError(native.errno(), "connect(AF_UNSPEC)");
  }

  /**
   * Sends one datagram to the connected peer. Returns the bytes sent, or
   * `null` when a non-blocking socket would block.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.connect("127.0.0.1", 9);
   * s.send(new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: Uint8Array): number | null {
    const fd = this.fd;
    for (;;) {
      const n = libc().send(fd, data, data.byteLength, C.MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (!this.#retry("send")) return null;
    }
  }

  /**
   * Sends one datagram to `host:port` (an IP literal). Returns the bytes
   * sent, or `null` when a non-blocking socket would block.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.sendTo(new TextEncoder().encode("hi"), "127.0.0.1", 9);
   * ```
   */
  sendTo(data: Uint8Array, host: string, port: number): number | null {
    const fd = this.fd;
    if (host !== this.#targetHost || port !== this.#targetPort) {
      this.#targetLength = encodeTarget(this.family, host, port, this.#target);
      this.#targetHost = host;
      this.#targetPort = port;
    }
    for (;;) {
      const n = libc().sendto(fd, data, data.byteLength, C.MSG_NOSIGNAL, this.#target, this.#targetLength);
      if (n >= 0) return n;
      if (!this.#retry("sendto", formatHostPort(host, port))) return null;
    }
  }

  /**
   * Receives one datagram into `buffer` and returns its full size, which is
   * larger than `buffer.byteLength` when it was truncated (the rest is
   * discarded; `buffer.subarray(0, n)` is always the stored part). Returns
   * `null` when a non-blocking socket has nothing.
   *
   * @example
   * ```ts
   * import { bindUDPSync } from "./dgram.ts";
   * using s = bindUDPSync("127.0.0.1", 0);
   * s.sendTo(new Uint8Array(600), "127.0.0.1", s.localAddress().port);
   * const buf = new Uint8Array(512);
   * const size = s.recv(buf);
   * if (size !== null && size > buf.length) console.log("truncated"); // 600 bytes did not fit
   * ```
   */
  recv(buffer: Uint8Array): number | null {
    const fd = this.fd;
    for (;;) {
      const n = libc().recv(fd, buffer, buffer.byteLength, C.MSG_TRUNC);
      if (n >= 0) return n;
      if (!this.#retry("recv")) return null;
    }
  }

  /**
   * Receives one datagram and its sender. Returns `null` when a
   * non-blocking socket has nothing.
   *
   * @example
   * ```ts
   * import { bindUDPSync } from "./dgram.ts";
   * using s = bindUDPSync("127.0.0.1", 0);
   * s.sendTo(new TextEncoder().encode("hi"), "127.0.0.1", s.localAddress().port);
   * const d = s.recvFrom(new Uint8Array(1500));
   * if (d) console.log(`${d.bytes} bytes from ${d.host}:${d.port}`, d.truncated);
   * ```
   */
  recvFrom(buffer: Uint8Array): ReceivedDatagram | null {
    const fd = this.fd;
    const src = this.#source;
    let n: number;
    while ((n = libc().recvfrom(fd, buffer, buffer.byteLength, C.MSG_TRUNC, src.bytes, src.resetLength())) < 0) {
      if (!this.#retry("recvfrom")) return null;
    }
    const from = src.decode();
    const bytes = Math.min(n, buffer.byteLength);
    return {
      bytes,
      size: n,
      truncated: n > buffer.byteLength,
      host: from.family === "unix" ? from.path : from.host,
      port: from.family === "unix" ? 0 : from.port,
    };
  }

  /**
   * Sends many datagrams in one sendmmsg call (Linux); see {@link sendBatch}.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * const data = new Uint8Array(8);
   * s.sendBatch([{ data, host: "127.0.0.1", port: 9 }, { data, host: "127.0.0.1", port: 9 }]);
   * ```
   */
  sendBatch(messages: readonly OutgoingDatagram[]): number | null {
    return sendBatch(this.fd, this.family, messages);
  }

  /**
   * Receives many datagrams in one recvmmsg call (Linux); see {@link recvBatch}.
   *
   * @example
   * ```ts
   * import { bindUDPSync } from "./dgram.ts";
   * using s = bindUDPSync("127.0.0.1", 0);
   * const { port } = s.localAddress();
   * s.sendBatch([{ data: new Uint8Array([1]), host: "127.0.0.1", port }, { data: new Uint8Array([2]), host: "127.0.0.1", port }]);
   * const got = s.recvBatch(Array.from({ length: 8 }, () => new Uint8Array(1500)));
   * console.log(got?.length); // 2 (or 1 if the second had not arrived yet)
   * ```
   */
  recvBatch(buffers: readonly Uint8Array[]): ReceivedDatagram[] | null {
    return recvBatch(this.fd, buffers);
  }

  /**
   * The local address (getsockname).
   *
   * @example
   * ```ts
   * import { bindUDPSync } from "./dgram.ts";
   * using s = bindUDPSync("127.0.0.1", 0);
   * console.log(s.localAddress()); // { family: "ipv4", host: "127.0.0.1", port: … }
   * ```
   */
  localAddress(): IPSocketAddress {
    const src = new SockaddrBuffer();
    check(libc().getsockname(this.fd, src.bytes, src.resetLength()), "getsockname");
    return src.decode() as IPSocketAddress;
  }

  /**
   * The connected peer's address (getpeername); SocketError ENOTCONN when
   * not connected.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.connect("127.0.0.1", 9);
   * console.log(s.remoteAddress().port); // 9
   * ```
   */
  remoteAddress(): IPSocketAddress {
    const src = new SockaddrBuffer();
    const r = libc().getpeername(this.fd, src.bytes, src.resetLength());
    if (r < 0) throw sysError(native.errno(), "getpeername");
    return src.decode() as IPSocketAddress;
  }

  /**
   * Switches non-blocking mode (O_NONBLOCK).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setNonBlocking(true);
   * ```
   */
  setNonBlocking(on: boolean): void {
    const fd = this.fd;
    const lib = libc();
    const flags = check(lib.fcntl(fd, C.F_GETFL, 0), "fcntl(F_GETFL)");
    check(lib.fcntl(fd, C.F_SETFL, on ? flags | C.O_NONBLOCK : flags & ~C.O_NONBLOCK), "fcntl(F_SETFL)");
    this.#nonBlocking = on;
  }

  /**
   * SO_REUSEADDR (set before bind).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setReuseAddr(true);
   * ```
   */
  setReuseAddr(on: boolean): void {
    setIntOption(this.fd, C.SOL_SOCKET, C.SO_REUSEADDR, on ? 1 : 0, "SO_REUSEADDR");
  }

  /**
   * SO_REUSEPORT (set before bind).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setReusePort(true);
   * ```
   */
  setReusePort(on: boolean): void {
    setIntOption(this.fd, C.SOL_SOCKET, C.SO_REUSEPORT, on ? 1 : 0, "SO_REUSEPORT");
  }

  /**
   * Allows sending to broadcast addresses (SO_BROADCAST).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setBroadcast(true);
   * console.log(s.getBroadcast()); // true
   * ```
   */
  setBroadcast(on: boolean): void {
    setIntOption(this.fd, C.SOL_SOCKET, C.SO_BROADCAST, on ? 1 : 0, "SO_BROADCAST");
  }

  /** Whether SO_BROADCAST is on. */
  getBroadcast(): boolean {
    return getIntOption(this.fd, C.SOL_SOCKET, C.SO_BROADCAST, "SO_BROADCAST") !== 0;
  }

  /**
   * Unicast TTL / hop limit (1–255).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setTTL(16);
   * console.log(s.getTTL()); // 16
   * ```
   */
  setTTL(ttl: number): void {
    checkByte(ttl, "TTL", 1);
    const [level, name, what] = this.#v4
      ? [C.IPPROTO_IP, C.IP_TTL, "IP_TTL"]
      : [C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS"];
    setIntOption(this.fd, level, name, ttl, what);
  }

  /** The unicast TTL / hop limit. */
  getTTL(): number {
    return this.#v4
      ? getIntOption(this.fd, C.IPPROTO_IP, C.IP_TTL, "IP_TTL")
      : getIntOption(this.fd, C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
  }

  /**
   * Joins a multicast group (IPv4 or IPv6), optionally on one interface
   * (a name such as `"lo"`, an index, or for IPv4 a local address).
   *
   * @example
   * ```ts
   * import { bindUDPSync } from "./dgram.ts";
   * using s = bindUDPSync("0.0.0.0", 5353, { reuseAddr: true });
   * s.joinMulticast("224.0.0.251", "lo");
   * ```
   */
  joinMulticast(group: string, iface?: MulticastInterface): void {
    joinMulticast(this.fd, this.family, group, iface);
  }

  /**
   * Leaves a group joined with {@link Dgram.joinMulticast}.
   *
   * @example
   * ```ts
   * import { bindUDPSync } from "./dgram.ts";
   * using s = bindUDPSync(null, 0);
   * s.joinMulticast("224.0.0.251", "lo");
   * s.leaveMulticast("224.0.0.251", "lo");
   * ```
   */
  leaveMulticast(group: string, iface?: MulticastInterface): void {
    leaveMulticast(this.fd, this.family, group, iface);
  }

  /**
   * The interface outgoing multicast leaves by.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setMulticastInterface("127.0.0.1");
   * ```
   */
  setMulticastInterface(iface: MulticastInterface): void {
    setMulticastInterface(this.fd, this.family, iface);
  }

  /**
   * TTL / hop limit of outgoing multicast (0–255; 1 stays on the link).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setMulticastTTL(2);
   * console.log(s.getMulticastTTL()); // 2
   * ```
   */
  setMulticastTTL(ttl: number): void {
    checkByte(ttl, "multicast TTL", 0);
    const [level, name, what] = this.#v4
      ? [C.IPPROTO_IP, C.IP_MULTICAST_TTL, "IP_MULTICAST_TTL"]
      : [C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS"];
    setIntOption(this.fd, level, name, ttl, what);
  }

  /** The multicast TTL / hop limit. */
  getMulticastTTL(): number {
    return this.#v4
      ? getIntOption(this.fd, C.IPPROTO_IP, C.IP_MULTICAST_TTL, "IP_MULTICAST_TTL")
      : getIntOption(this.fd, C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS");
  }

  /**
   * Whether our own multicast comes back to local members (default on).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setMulticastLoopback(false);
   * console.log(s.getMulticastLoopback()); // false
   * ```
   */
  setMulticastLoopback(on: boolean): void {
    const [level, name, what] = this.#v4
      ? [C.IPPROTO_IP, C.IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP"]
      : [C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP"];
    setIntOption(this.fd, level, name, on ? 1 : 0, what);
  }

  /** Whether multicast loopback is on. */
  getMulticastLoopback(): boolean {
    const v = this.#v4
      ? getIntOption(this.fd, C.IPPROTO_IP, C.IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP")
      : getIntOption(this.fd, C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP");
    return v !== 0;
  }

  /**
   * Kernel receive buffer size (SO_RCVBUF; Linux reports double the request).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setReceiveBufferSize(1 << 20);
   * ```
   */
  setReceiveBufferSize(bytes: number): void {
    checkBufferSize(bytes);
    setIntOption(this.fd, C.SOL_SOCKET, C.SO_RCVBUF, bytes, "SO_RCVBUF");
  }

  /** SO_RCVBUF as the kernel reports it. */
  getReceiveBufferSize(): number {
    return getIntOption(this.fd, C.SOL_SOCKET, C.SO_RCVBUF, "SO_RCVBUF");
  }

  /**
   * Kernel send buffer size (SO_SNDBUF).
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * using s = Dgram.create();
   * s.setSendBufferSize(1 << 20);
   * ```
   */
  setSendBufferSize(bytes: number): void {
    checkBufferSize(bytes);
    setIntOption(this.fd, C.SOL_SOCKET, C.SO_SNDBUF, bytes, "SO_SNDBUF");
  }

  /** SO_SNDBUF as the kernel reports it. */
  getSendBufferSize(): number {
    return getIntOption(this.fd, C.SOL_SOCKET, C.SO_SNDBUF, "SO_SNDBUF");
  }

  /**
   * Closes the socket; a second call does nothing.
   *
   * @example
   * ```ts
   * import { Dgram } from "./dgram.ts";
   * const s = Dgram.create();
   * s.close();
   * s.close();
   * ```
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    libc().close(fd);
  }

  /** Same as {@link Dgram.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A short description for logs. */
  toString(): string {
    return this.#fd < 0 ? "UDP socket (closed)" : describeFd(this.#fd);
  }

  get #v4(): boolean {
    return this.family === "ipv4";
  }

  /** After a failed call: true to retry it (EINTR), false when it would block (EAGAIN); throws otherwise. */
  #retry(syscall: string, address?: string): boolean {
    const errno = native.errno();
    if (errno === E.EINTR) return true;
    if (errno === E.EAGAIN) return false;
    throw sysError(errno, syscall, address);
  }
}

function checkByte(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 255) {
    throw new RangeError(`${what} must be an integer ${min}–255, got ${String(value)}`);
  }
}

function checkBufferSize(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 0x7fffffff) {
    throw new RangeError(`buffer size must be a positive 32-bit integer, got ${String(bytes)}`);
  }
}

/** Options of {@link bindUDPSync}. */
export interface BindUDPSyncOptions extends DgramOptions {
  /** Family for a `null` host (default "ipv4"); otherwise taken from the host. */
  family?: DgramFamily;
}

/**
 * Creates a synchronous UDP socket bound to `host:port` (an IP literal, or
 * `null` for every address). The family follows the host. For the async
 * socket on a loop (promises, handler mode), see `bindUDP` in `poll/udp.ts`.
 *
 * @example
 * ```ts
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync("::1", 0);
 * console.log(s.family); // "ipv6"
 * ```
 */
export function bindUDPSync(host: string | null, port: number, options: BindUDPSyncOptions = {}): Dgram {
  checkPort(port);
  const family: DgramFamily = host === null ? options.family ?? "ipv4" : isIPv6(host) ? "ipv6" : "ipv4";
  const socket = Dgram.create(family, options);
  try {
    socket.bind(host, port);
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}
