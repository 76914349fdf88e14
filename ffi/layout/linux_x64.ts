/**
 * Linux x86-64 struct layouts (glibc, kernel UAPI). Tested on this project's
 * runners.
 *
 * @module
 */
import type { PlatformLayout } from "./types.ts";

/** Linux x86-64 layouts; epoll_event is packed (12 bytes) on this ABI. */
export const LINUX_X64: PlatformLayout = {
  tested: true,
  pointerSize: 8,
  sockaddrHasLen: false,
  sockaddr_in: { size: 16, family: 0, port: 2, addr: 4 },
  sockaddr_in6: { size: 28, family: 0, port: 2, flowinfo: 4, addr: 8, scopeId: 24 },
  sockaddr_un: { size: 110, family: 0, path: 2, pathSize: 108 },
  sockaddr_storage: { size: 128 },
  epoll_event: { size: 12, events: 0, data: 4 },
  iovec: { size: 16, base: 0, len: 8 },
  msghdr: {
    size: 56, name: 0, namelen: 8, iov: 16, iovlen: 24, iovlenSize: 8, control: 32,
    controllen: 40, controllenSize: 8, flags: 48,
  },
  cmsghdr: { size: 16, len: 0, lenSize: 8, level: 8, type: 12, align: 8 },
  mmsghdr: { size: 64, hdr: 0, len: 56 },
  pollfd: { size: 8, fd: 0, events: 4, revents: 6 },
  timespec: { size: 16, sec: 0, nsec: 8 },
  timeval: { size: 16, sec: 0, usec: 8 },
  linger: { size: 8, onoff: 0, linger: 4 },
  ucred: { size: 12, pid: 0, uid: 4, gid: 8 },
  ip_mreqn: { size: 12, multiaddr: 0, address: 4, ifindex: 8 },
  ipv6_mreq: { size: 20, multiaddr: 0, ifindex: 16 },
  addrinfo: {
    size: 48, flags: 0, family: 4, socktype: 8, protocol: 12, addrlen: 16, addr: 24,
    canonname: 32, next: 40,
  },
  gaicb: { size: 56, name: 0, service: 8, request: 16, result: 24, ret: 32 },
  kevent: { size: 0, ident: 0, filter: 0, flags: 0, fflags: 0, data: 0, udata: 0 },
  rusage: { size: 144, utime: 0, stime: 16, maxrss: 32 },
  tcp_info: {
    size: 232, state: 0, retransmits: 2, probes: 3, backoff: 4, rto: 8, snd_mss: 16, rcv_mss: 20,
    unacked: 24, lost: 32, retrans: 36, last_data_sent: 44, last_data_recv: 52, pmtu: 60,
    rtt: 68, rttvar: 72, snd_ssthresh: 76, snd_cwnd: 80, reordering: 88, total_retrans: 100,
    pacing_rate: 104, bytes_acked: 120, bytes_received: 128, segs_out: 136, segs_in: 140,
    notsent_bytes: 144, min_rtt: 148, delivery_rate: 160, bytes_sent: 200, bytes_retrans: 208,
  },
  io_uring_params: {
    size: 120, sq_entries: 0, cq_entries: 4, flags: 8, features: 20, sq_off: 40, cq_off: 80,
  },
  io_sqring_offsets: {
    head: 0, tail: 4, ring_mask: 8, ring_entries: 12, flags: 16, dropped: 20, array: 24,
  },
  io_cqring_offsets: {
    head: 0, tail: 4, ring_mask: 8, ring_entries: 12, overflow: 16, cqes: 20, flags: 24,
  },
  io_uring_sqe: {
    size: 64, opcode: 0, flags: 1, ioprio: 2, fd: 4, off: 8, addr: 16, len: 24, opFlags: 28,
    userData: 32, bufIndex: 40,
  },
  io_uring_cqe: { size: 16, userData: 0, res: 8, flags: 12 },
};
