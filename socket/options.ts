/**
 * Socket options as typed, validated properties: `socket.options.noDelay =
 * true`, `socket.options.noDelay` (set and get each make one
 * setsockopt/getsockopt or fcntl call).
 *
 * An option the platform lacks throws {@link UnsupportedError}; a wrong value
 * throws TypeError/RangeError naming it; a kernel refusal throws SocketError.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * s.options.noDelay = true;
 * s.options.setKeepAlive({ idleSec: 60, intervalSec: 10, count: 5 });
 * console.log(s.options.noDelay, s.options.keepAlive); // true true
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { check } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { decodeCString } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import type { AddressFamily } from "./sockaddr.ts";

// Reused argument memory: option calls are synchronous and single-threaded.
const intCell = new Int32Array(1);
const intBytes = new Uint8Array(intCell.buffer);
const lenCell = new Uint32Array(1);
const lenBytes = new Uint8Array(lenCell.buffer);
const lingerBytes = new Uint8Array(LAYOUT.linger.size);
const lingerView = new DataView(lingerBytes.buffer);
const nameBytes = new Uint8Array(64);
const encoder = new TextEncoder();

function supported(name: number, what: string): number {
  if (name === 0) throw new UnsupportedError(what, `the option does not exist on ${native.os}`);
  return name;
}

/**
 * setsockopt with an int value.
 *
 * @example
 * ```ts
 * import { setIntOption } from "./options.ts";
 * import { C } from "../ffi/platform.ts";
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * setIntOption(s.fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1, "reuseAddress");
 * ```
 */
export function setIntOption(fd: number, level: number, name: number, value: number, what: string): void {
  intCell[0] = value;
  check(libc().setsockopt(fd, level, supported(name, what), intBytes, 4), `setsockopt(${what})`);
}

/**
 * getsockopt of an int value.
 *
 * @example
 * ```ts
 * import { getIntOption } from "./options.ts";
 * import { C } from "../ffi/platform.ts";
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * console.log(getIntOption(s.fd, C.SOL_SOCKET, C.SO_TYPE, "type") === C.SOCK_STREAM); // true
 * ```
 */
export function getIntOption(fd: number, level: number, name: number, what: string): number {
  intCell[0] = 0;
  lenCell[0] = 4;
  check(libc().getsockopt(fd, level, supported(name, what), intBytes, lenBytes), `getsockopt(${what})`);
  return intCell[0]!;
}

function bool(value: unknown, what: string): number {
  if (typeof value !== "boolean") throw new TypeError(`${what} must be a boolean, got ${String(value)}`);
  return value ? 1 : 0;
}

function int(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer ${min}–${max}, got ${value}`);
  }
  return value;
}

/** What the options object needs from its socket. */
export interface OptionTarget {
  /** The descriptor (throws when the socket is closed). */
  readonly fd: number;
  /** The socket's address family (which IP-level options apply). */
  readonly family: AddressFamily;
  /** The socket's cached blocking mode, kept in step with O_NONBLOCK. */
  nonBlockingCache: boolean;
}

/** Keep-alive probe settings. */
export interface KeepAliveSettings {
  /** Seconds of idleness before the first probe (TCP_KEEPIDLE). */
  readonly idleSec: number;
  /** Seconds between probes (TCP_KEEPINTVL). */
  readonly intervalSec: number;
  /** Unanswered probes before the connection is dropped (TCP_KEEPCNT). */
  readonly count: number;
}

/**
 * The options of one socket. Obtain it as `socket.options`.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv6");
 * s.options.v6Only = false; // dual-stack
 * s.options.reuseAddress = true;
 * ```
 */
export class SocketOptions {
  readonly #target: OptionTarget;

  /** Options of `target` (`Socket.options` makes one per socket, lazily). */
  constructor(target: OptionTarget) {
    this.#target = target;
  }

  #set(level: number, name: number, value: number, what: string): void {
    setIntOption(this.#target.fd, level, name, value, what);
  }

  #get(level: number, name: number, what: string): number {
    return getIntOption(this.#target.fd, level, name, what);
  }

  /** SO_REUSEADDR. */
  get reuseAddress(): boolean {
    return this.#get(C.SOL_SOCKET, C.SO_REUSEADDR, "reuseAddress") !== 0;
  }
  set reuseAddress(on: boolean) {
    this.#set(C.SOL_SOCKET, C.SO_REUSEADDR, bool(on, "reuseAddress"), "reuseAddress");
  }

  /** SO_REUSEPORT. */
  get reusePort(): boolean {
    return this.#get(C.SOL_SOCKET, C.SO_REUSEPORT, "reusePort") !== 0;
  }
  set reusePort(on: boolean) {
    this.#set(C.SOL_SOCKET, C.SO_REUSEPORT, bool(on, "reusePort"), "reusePort");
  }

  /** TCP_NODELAY (Nagle's algorithm off). */
  get noDelay(): boolean {
    return this.#get(C.IPPROTO_TCP, C.TCP_NODELAY, "noDelay") !== 0;
  }
  set noDelay(on: boolean) {
    this.#set(C.IPPROTO_TCP, C.TCP_NODELAY, bool(on, "noDelay"), "noDelay");
  }

  /** SO_KEEPALIVE. */
  get keepAlive(): boolean {
    return this.#get(C.SOL_SOCKET, C.SO_KEEPALIVE, "keepAlive") !== 0;
  }
  set keepAlive(on: boolean) {
    this.#set(C.SOL_SOCKET, C.SO_KEEPALIVE, bool(on, "keepAlive"), "keepAlive");
  }

  /** Turns keep-alive on with the given probe timing. */
  setKeepAlive(settings: KeepAliveSettings): void {
    if (typeof settings !== "object" || settings === null) throw new TypeError("keep-alive settings must be an object");
    const idle = int(settings.idleSec, 1, 32767, "keepAlive idleSec");
    const interval = int(settings.intervalSec, 1, 32767, "keepAlive intervalSec");
    const count = int(settings.count, 1, 127, "keepAlive count");
    this.keepAlive = true;
    this.#set(C.IPPROTO_TCP, C.TCP_KEEPIDLE, idle, "keepAlive idleSec");
    this.#set(C.IPPROTO_TCP, C.TCP_KEEPINTVL, interval, "keepAlive intervalSec");
    this.#set(C.IPPROTO_TCP, C.TCP_KEEPCNT, count, "keepAlive count");
  }

  /** The keep-alive probe timing in force. */
  getKeepAlive(): KeepAliveSettings {
    return {
      idleSec: this.#get(C.IPPROTO_TCP, C.TCP_KEEPIDLE, "keepAlive idleSec"),
      intervalSec: this.#get(C.IPPROTO_TCP, C.TCP_KEEPINTVL, "keepAlive intervalSec"),
      count: this.#get(C.IPPROTO_TCP, C.TCP_KEEPCNT, "keepAlive count"),
    };
  }

  /** SO_RCVBUF in bytes (Linux reports twice the value set: its bookkeeping share). */
  get receiveBufferSize(): number {
    return this.#get(C.SOL_SOCKET, C.SO_RCVBUF, "receiveBufferSize");
  }
  set receiveBufferSize(bytes: number) {
    this.#set(C.SOL_SOCKET, C.SO_RCVBUF, int(bytes, 1, 0x3fffffff, "receiveBufferSize"), "receiveBufferSize");
  }

  /** SO_SNDBUF in bytes (Linux reports twice the value set). */
  get sendBufferSize(): number {
    return this.#get(C.SOL_SOCKET, C.SO_SNDBUF, "sendBufferSize");
  }
  set sendBufferSize(bytes: number) {
    this.#set(C.SOL_SOCKET, C.SO_SNDBUF, int(bytes, 1, 0x3fffffff, "sendBufferSize"), "sendBufferSize");
  }

  /** SO_LINGER: seconds close() may block to flush, or null when off. */
  get linger(): number | null {
    lingerBytes.fill(0);
    lenCell[0] = lingerBytes.length;
    check(libc().getsockopt(this.#target.fd, C.SOL_SOCKET, C.SO_LINGER, lingerBytes, lenBytes), "getsockopt(linger)");
    return lingerView.getInt32(LAYOUT.linger.onoff, true) === 0 ? null : lingerView.getInt32(LAYOUT.linger.linger, true);
  }
  set linger(seconds: number | null) {
    const on = seconds !== null;
    const value = on ? int(seconds, 0, 65535, "linger") : 0;
    lingerBytes.fill(0);
    lingerView.setInt32(LAYOUT.linger.onoff, on ? 1 : 0, true);
    lingerView.setInt32(LAYOUT.linger.linger, value, true);
    check(
      libc().setsockopt(this.#target.fd, C.SOL_SOCKET, C.SO_LINGER, lingerBytes, lingerBytes.length),
      "setsockopt(linger)",
    );
  }

  /** TCP_FASTOPEN on a listener: the queue length of pending TFO requests (0 = off). */
  get fastOpen(): number {
    return this.#get(C.IPPROTO_TCP, C.TCP_FASTOPEN, "fastOpen");
  }
  set fastOpen(queueLength: number) {
    this.#set(C.IPPROTO_TCP, C.TCP_FASTOPEN, int(queueLength, 0, 0x7fffffff, "fastOpen"), "fastOpen");
  }

  /** TCP_FASTOPEN_CONNECT on a client (Linux): send data in the SYN. */
  get fastOpenConnect(): boolean {
    return this.#get(C.IPPROTO_TCP, C.TCP_FASTOPEN_CONNECT, "fastOpenConnect") !== 0;
  }
  set fastOpenConnect(on: boolean) {
    this.#set(C.IPPROTO_TCP, C.TCP_FASTOPEN_CONNECT, bool(on, "fastOpenConnect"), "fastOpenConnect");
  }

  /** TCP_USER_TIMEOUT in ms: how long sent data may stay unacknowledged (0 = system default). */
  get userTimeoutMs(): number {
    return this.#get(C.IPPROTO_TCP, C.TCP_USER_TIMEOUT, "userTimeoutMs");
  }
  set userTimeoutMs(ms: number) {
    this.#set(C.IPPROTO_TCP, C.TCP_USER_TIMEOUT, int(ms, 0, 0x7fffffff, "userTimeoutMs"), "userTimeoutMs");
  }

  /** TCP_CONGESTION: the congestion-control algorithm ("cubic", "reno", "bbr", …). */
  get congestion(): string {
    nameBytes.fill(0);
    lenCell[0] = nameBytes.length;
    const name = supported(C.TCP_CONGESTION, "congestion");
    check(libc().getsockopt(this.#target.fd, C.IPPROTO_TCP, name, nameBytes, lenBytes), "getsockopt(congestion)");
    return decodeCString(nameBytes.subarray(0, lenCell[0]));
  }
  set congestion(algorithm: string) {
    if (typeof algorithm !== "string" || !/^[a-z0-9_]{1,15}$/.test(algorithm)) {
      throw new TypeError(`congestion must be an algorithm name like "cubic", got ${JSON.stringify(algorithm)}`);
    }
    const name = supported(C.TCP_CONGESTION, "congestion");
    const bytes = encoder.encode(algorithm);
    check(
      libc().setsockopt(this.#target.fd, C.IPPROTO_TCP, name, bytes, bytes.length),
      `setsockopt(congestion ${algorithm})`,
    );
  }

  /**
   * TCP_DEFER_ACCEPT in seconds (Linux): accept only once data arrived. The
   * kernel rounds to its retransmission schedule, so the value read back
   * may be larger.
   */
  get deferAcceptSec(): number {
    return this.#get(C.IPPROTO_TCP, C.TCP_DEFER_ACCEPT, "deferAcceptSec");
  }
  set deferAcceptSec(seconds: number) {
    this.#set(C.IPPROTO_TCP, C.TCP_DEFER_ACCEPT, int(seconds, 0, 0x7fffffff, "deferAcceptSec"), "deferAcceptSec");
  }

  /** TCP_CORK (TCP_NOPUSH on BSD): hold partial frames until uncorked. */
  get cork(): boolean {
    return this.#get(C.IPPROTO_TCP, C.TCP_CORK, "cork") !== 0;
  }
  set cork(on: boolean) {
    this.#set(C.IPPROTO_TCP, C.TCP_CORK, bool(on, "cork"), "cork");
  }

  /** O_NONBLOCK. */
  get nonBlocking(): boolean {
    const flags = check(libc().fcntl(this.#target.fd, C.F_GETFL, 0), "fcntl(F_GETFL)");
    return (flags & C.O_NONBLOCK) !== 0;
  }
  set nonBlocking(on: boolean) {
    setNonBlocking(this.#target.fd, bool(on, "nonBlocking") === 1);
    this.#target.nonBlockingCache = on;
  }

  /** FD_CLOEXEC (on for every socket ffinet creates). */
  get closeOnExec(): boolean {
    const flags = check(libc().fcntl(this.#target.fd, C.F_GETFD, 0), "fcntl(F_GETFD)");
    return (flags & C.FD_CLOEXEC) !== 0;
  }
  set closeOnExec(on: boolean) {
    const fd = this.#target.fd;
    const flags = check(libc().fcntl(fd, C.F_GETFD, 0), "fcntl(F_GETFD)");
    const next = bool(on, "closeOnExec") ? flags | C.FD_CLOEXEC : flags & ~C.FD_CLOEXEC;
    check(libc().fcntl(fd, C.F_SETFD, next), "fcntl(F_SETFD)");
  }

  /** IPV6_V6ONLY (IPv6 sockets): false accepts IPv4 too (dual stack). */
  get v6Only(): boolean {
    this.#needFamily("ipv6", "v6Only");
    return this.#get(C.IPPROTO_IPV6, C.IPV6_V6ONLY, "v6Only") !== 0;
  }
  set v6Only(on: boolean) {
    this.#needFamily("ipv6", "v6Only");
    this.#set(C.IPPROTO_IPV6, C.IPV6_V6ONLY, bool(on, "v6Only"), "v6Only");
  }

  /** IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6): 1–255. */
  get ttl(): number {
    return this.#target.family === "ipv6"
      ? this.#get(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, "ttl")
      : this.#get(C.IPPROTO_IP, C.IP_TTL, "ttl");
  }
  set ttl(hops: number) {
    const value = int(hops, 1, 255, "ttl");
    if (this.#target.family === "ipv6") this.#set(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, value, "ttl");
    else this.#set(C.IPPROTO_IP, C.IP_TTL, value, "ttl");
  }

  #needFamily(family: AddressFamily, what: string): void {
    if (this.#target.family !== family) {
      throw new TypeError(`${what} applies to ${family} sockets, this one is ${this.#target.family}`);
    }
  }
}

/**
 * Sets or clears O_NONBLOCK on a descriptor.
 *
 * @example
 * ```ts
 * import { setNonBlocking } from "./options.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * setNonBlocking(a.fd, true); // the Socket's cached mode is not told: prefer `a.options.nonBlocking = true`
 * a.close(); b.close();
 * ```
 */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = check(libc().fcntl(fd, C.F_GETFL, 0), "fcntl(F_GETFL)");
  const next = on ? flags | C.O_NONBLOCK : flags & ~C.O_NONBLOCK;
  if (next !== flags) check(libc().fcntl(fd, C.F_SETFL, next), "fcntl(F_SETFL)");
}
