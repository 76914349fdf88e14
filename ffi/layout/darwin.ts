/**
 * macOS struct layouts (arm64 and x86-64 agree for these), from the SDK
 * headers. BSD sockaddrs carry a length byte before a one-byte family.
 * Untested until a macOS runner checks them.
 *
 * @module
 */
import type { PlatformLayout } from "./types.ts";

/** macOS layouts. */
export const DARWIN_LAYOUT: PlatformLayout = {
  tested: false,
  pointerSize: 8,
  sockaddrHasLen: true,
  sockaddr_in: { size: 16, family: 1, port: 2, addr: 4 },
  sockaddr_in6: { size: 28, family: 1, port: 2, flowinfo: 4, addr: 8, scopeId: 24 },
  sockaddr_un: { size: 106, family: 1, path: 2, pathSize: 104 },
  sockaddr_storage: { size: 128 },
  epoll_event: { size: 0, events: 0, data: 0 },
  iovec: { size: 16, base: 0, len: 8 },
  msghdr: {
    size: 48, name: 0, namelen: 8, iov: 16, iovlen: 24, iovlenSize: 4, control: 32,
    controllen: 40, controllenSize: 4, flags: 44,
  },
  cmsghdr: { size: 12, len: 0, lenSize: 4, level: 4, type: 8, align: 4 },
  mmsghdr: { size: 0, hdr: 0, len: 0 },
  pollfd: { size: 8, fd: 0, events: 4, revents: 6 },
  timespec: { size: 16, sec: 0, nsec: 8 },
  timeval: { size: 16, sec: 0, usec: 8 },
  linger: { size: 8, onoff: 0, linger: 4 },
  ucred: { size: 0, pid: 0, uid: 0, gid: 0 },
  ip_mreqn: { size: 12, multiaddr: 0, address: 4, ifindex: 8 },
  ipv6_mreq: { size: 20, multiaddr: 0, ifindex: 16 },
  addrinfo: {
    size: 48, flags: 0, family: 4, socktype: 8, protocol: 12, addrlen: 16, canonname: 24,
    addr: 32, next: 40,
  },
  gaicb: { size: 0, name: 0, service: 0, request: 0, result: 0, ret: 0 },
  kevent: { size: 32, ident: 0, filter: 8, flags: 10, fflags: 12, data: 16, udata: 24 },
  rusage: { size: 144, utime: 0, stime: 16, maxrss: 32 },
  tcp_info: {
    size: 0, state: 0, retransmits: 0, probes: 0, backoff: 0, rto: 0, snd_mss: 0, rcv_mss: 0,
    unacked: 0, lost: 0, retrans: 0, last_data_sent: 0, last_data_recv: 0, pmtu: 0, rtt: 0,
    rttvar: 0, snd_ssthresh: 0, snd_cwnd: 0, reordering: 0, total_retrans: 0, pacing_rate: 0,
    bytes_acked: 0, bytes_received: 0, segs_out: 0, segs_in: 0, notsent_bytes: 0, min_rtt: 0,
    delivery_rate: 0, bytes_sent: 0, bytes_retrans: 0,
  },
  io_uring_params: { size: 0, sq_entries: 0, cq_entries: 0, flags: 0, features: 0, sq_off: 0, cq_off: 0 },
  io_sqring_offsets: { head: 0, tail: 0, ring_mask: 0, ring_entries: 0, flags: 0, dropped: 0, array: 0 },
  io_cqring_offsets: { head: 0, tail: 0, ring_mask: 0, ring_entries: 0, overflow: 0, cqes: 0, flags: 0 },
  io_uring_sqe: {
    size: 0, opcode: 0, flags: 0, ioprio: 0, fd: 0, off: 0, addr: 0, len: 0, opFlags: 0,
    userData: 0, bufIndex: 0,
  },
  io_uring_cqe: { size: 0, userData: 0, res: 0, flags: 0 },
};
