/**
 * The bare system calls of a one-question UDP exchange (a DNS query): a
 * non-blocking descriptor, `sendto` a peer address encoded once and reused,
 * `recvfrom` into the caller's buffers, and a byte comparison of the
 * sender's address with the peer's — no {@link Dgram} object, no address
 * strings. For code that opens a socket per question (a fresh random source
 * port each: the Kaminsky defence), where a general socket's setup would
 * cost more than the exchange.
 *
 * @example
 * ```ts
 * import { bindUDPSync } from "./dgram.ts";
 * import { closeQuerySocket, encodePeer, openQuerySocket, recvAnswer, sendQuery, SourceAddress } from "./udp_query.ts";
 * using server = bindUDPSync("127.0.0.1", 0);
 * const peer = encodePeer("127.0.0.1", server.localAddress().port);
 * const fd = openQuerySocket(peer.family);
 * sendQuery(fd, new Uint8Array([1, 2]), peer);
 * const got = new Uint8Array(16);
 * const d = server.recvFrom(got)!;
 * server.sendTo(got.subarray(0, d.bytes), d.host, d.port);
 * const source = new SourceAddress();
 * let n: number | null = null;
 * while (n === null) n = recvAnswer(fd, got, source);
 * console.log(n, source.is(peer)); // 2 true
 * closeQuerySocket(fd);
 * ```
 *
 * @module
 */
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import { formatHostPort } from "./address.ts";
import { type DgramFamily, encodeTarget } from "./dgram_target.ts";

/** A peer's socket address, encoded once for every `sendto` to it. */
export interface EncodedPeer {
  /** The family of the sockets that reach it. */
  readonly family: DgramFamily;
  /** sockaddr_in or sockaddr_in6 bytes. */
  readonly bytes: Uint8Array;
  /** Their length. */
  readonly length: number;
  /** `host:port`, for error messages. */
  readonly text: string;
}

/**
 * Encodes `host:port` (an IP literal; IPv6 with an optional zone) for
 * {@link sendQuery} and {@link SourceAddress.is}.
 *
 * @throws TypeError when `host` is not an IP literal; RangeError for a bad port
 *
 * @example
 * ```ts
 * import { encodePeer } from "./udp_query.ts";
 * console.log(encodePeer("::1", 53).family); // "ipv6"
 * ```
 */
export function encodePeer(host: string, port: number): EncodedPeer {
  const family: DgramFamily = host.includes(":") ? "ipv6" : "ipv4";
  const bytes = new Uint8Array(LAYOUT.sockaddr_storage.size);
  const length = encodeTarget(family, host, port, bytes);
  return { family, bytes: bytes.slice(0, length), length, text: formatHostPort(host, port) };
}

/**
 * A non-blocking, close-on-exec UDP descriptor of `family`, not bound: its
 * first `sendto` binds it to a random ephemeral port (the kernel's pick, as
 * `bind` to port 0 would). Close it with {@link closeQuerySocket}.
 *
 * @example
 * ```ts
 * import { closeQuerySocket, openQuerySocket } from "./udp_query.ts";
 * closeQuerySocket(openQuerySocket("ipv4"));
 * ```
 */
export function openQuerySocket(family: DgramFamily): number {
  const lib = libc();
  const af = family === "ipv6" ? C.AF_INET6 : C.AF_INET;
  const fd = check(lib.socket(af, C.SOCK_DGRAM | C.SOCK_CLOEXEC | C.SOCK_NONBLOCK, C.IPPROTO_UDP), "socket");
  if (C.SOCK_CLOEXEC === 0) {
    // No socket() flags (macOS): the same with fcntl.
    try {
      check(lib.fcntl(fd, C.F_SETFD, C.FD_CLOEXEC), "fcntl(FD_CLOEXEC)");
      const flags = check(lib.fcntl(fd, C.F_GETFL, 0), "fcntl(F_GETFL)");
      check(lib.fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK), "fcntl(F_SETFL)");
    } catch (err) {
      lib.close(fd);
      throw err;
    }
  }
  return fd;
}

/**
 * Closes a descriptor from {@link openQuerySocket}.
 *
 * @example
 * ```ts
 * import { closeQuerySocket, openQuerySocket } from "./udp_query.ts";
 * closeQuerySocket(openQuerySocket("ipv6"));
 * ```
 */
export function closeQuerySocket(fd: number): void {
  libc().close(fd);
}

/**
 * Sends `data` to `peer` in one datagram. Returns the bytes sent, or `null`
 * when the socket would block.
 *
 * @throws SocketError on any other failure
 *
 * @example
 * ```ts
 * import { closeQuerySocket, encodePeer, openQuerySocket, sendQuery } from "./udp_query.ts";
 * const fd = openQuerySocket("ipv4");
 * sendQuery(fd, new Uint8Array(12), encodePeer("127.0.0.1", 9));
 * closeQuerySocket(fd);
 * ```
 */
export function sendQuery(fd: number, data: Uint8Array, peer: EncodedPeer): number | null {
  for (;;) {
    const n = libc().sendto(fd, data, data.byteLength, C.MSG_NOSIGNAL, peer.bytes, peer.length);
    if (n >= 0) return n;
    if (!retry("sendto", peer.text)) return null;
  }
}

/**
 * Receives one datagram into `buffer` and its sender into `source`.
 * Returns the datagram's full size (larger than `buffer.byteLength` when
 * it was truncated; the stored part is `buffer.subarray(0, n)`), or `null`
 * when nothing is queued.
 *
 * @throws SocketError on any other failure (an ICMP error queued for the socket, say)
 *
 * @example
 * ```ts
 * import { closeQuerySocket, openQuerySocket, recvAnswer, SourceAddress } from "./udp_query.ts";
 * const fd = openQuerySocket("ipv4");
 * console.log(recvAnswer(fd, new Uint8Array(512), new SourceAddress())); // null
 * closeQuerySocket(fd);
 * ```
 */
export function recvAnswer(fd: number, buffer: Uint8Array, source: SourceAddress): number | null {
  for (;;) {
    source.length[0] = source.bytes.byteLength;
    const n = libc().recvfrom(fd, buffer, buffer.byteLength, C.MSG_TRUNC, source.bytes, source.lengthBytes);
    if (n >= 0) return n;
    if (!retry("recvfrom")) return null;
  }
}

function retry(syscall: string, address?: string): boolean {
  const errno = native.errno();
  if (errno === E.EINTR) return true;
  if (errno === E.EAGAIN) return false;
  throw sysError(errno, syscall, address);
}

const IN = LAYOUT.sockaddr_in;
const IN6 = LAYOUT.sockaddr_in6;

/**
 * Where {@link recvAnswer} writes a datagram's sender; one may serve every
 * exchange of a thread, since it is read right after each receive.
 *
 * @example
 * ```ts
 * import { encodePeer, SourceAddress } from "./udp_query.ts";
 * console.log(new SourceAddress().is(encodePeer("127.0.0.1", 53))); // false
 * ```
 */
export class SourceAddress {
  /** sockaddr_storage bytes. */
  readonly bytes: Uint8Array = new Uint8Array(LAYOUT.sockaddr_storage.size);
  /** socklen_t, as bytes for the kernel. */
  readonly lengthBytes: Uint8Array = new Uint8Array(4);
  /** The same four bytes as a number. */
  readonly length: Uint32Array = new Uint32Array(this.lengthBytes.buffer);

  /**
   * Whether the last sender is `peer`: same family, port and address (and
   * IPv6 scope id); the IPv6 flow label is not compared.
   */
  is(peer: EncodedPeer): boolean {
    const got = this.bytes;
    const want = peer.bytes;
    if (this.length[0] !== peer.length) return false;
    if (peer.family === "ipv4") {
      if (!sameBytes(got, want, 0, IN.addr + 4)) return false;
    } else if (!sameBytes(got, want, 0, IN6.flowinfo) || !sameBytes(got, want, IN6.addr, IN6.size)) {
      return false;
    }
    return true;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
