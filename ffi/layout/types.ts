/**
 * The shape of a platform's struct layouts: sizes and byte offsets, read and
 * written with DataView (little-endian on every supported platform).
 *
 * @module
 */

/** Byte offsets and sizes of the C structs ffinet reads and writes. */
export interface PlatformLayout {
  /** Whether a runner has checked this layout (Linux x86-64 here). */
  readonly tested: boolean;
  /** Bytes of a pointer (8: 64-bit platforms only). */
  readonly pointerSize: 8;
  /** BSD sockaddrs start with a length byte and a one-byte family. */
  readonly sockaddrHasLen: boolean;
  /** `struct sockaddr_in`: its size and the byte offsets of the fields used. */
  readonly sockaddr_in: { size: number; family: number; port: number; addr: number };
  /** `struct sockaddr_in6`: its size and the byte offsets of the fields used. */
  readonly sockaddr_in6: {
    size: number; family: number; port: number; flowinfo: number; addr: number; scopeId: number;
  };
  /** `struct sockaddr_un`: its size and the byte offsets of the fields used. */
  readonly sockaddr_un: { size: number; family: number; path: number; pathSize: number };
  /** `struct sockaddr_storage`: its size (room for any address family). */
  readonly sockaddr_storage: { size: number };
  /** `struct epoll_event`: its size and the byte offsets of the fields used. */
  readonly epoll_event: { size: number; events: number; data: number };
  /** `struct iovec`: its size and the byte offsets of the fields used. */
  readonly iovec: { size: number; base: number; len: number };
  /** `struct msghdr`: its size and the byte offsets of the fields used. */
  readonly msghdr: {
    size: number; name: number; namelen: number; iov: number; iovlen: number;
    iovlenSize: 4 | 8; control: number; controllen: number; controllenSize: 4 | 8; flags: number;
  };
  /** cmsghdr: header size and alignment of CMSG_ALIGN. */
  readonly cmsghdr: { size: number; len: number; lenSize: 4 | 8; level: number; type: number; align: number };
  /** `struct mmsghdr`: its size and the byte offsets of the fields used. */
  readonly mmsghdr: { size: number; hdr: number; len: number };
  /** `struct pollfd`: its size and the byte offsets of the fields used. */
  readonly pollfd: { size: number; fd: number; events: number; revents: number };
  /** `struct timespec`: its size and the byte offsets of the fields used. */
  readonly timespec: { size: number; sec: number; nsec: number };
  /** `struct timeval`: its size and the byte offsets of the fields used. */
  readonly timeval: { size: number; sec: number; usec: number };
  /** `struct linger`: its size and the byte offsets of the fields used. */
  readonly linger: { size: number; onoff: number; linger: number };
  /** `struct ucred`: its size and the byte offsets of the fields used. */
  readonly ucred: { size: number; pid: number; uid: number; gid: number };
  /** `struct ip_mreqn`: its size and the byte offsets of the fields used. */
  readonly ip_mreqn: { size: number; multiaddr: number; address: number; ifindex: number };
  /** `struct ipv6_mreq`: its size and the byte offsets of the fields used. */
  readonly ipv6_mreq: { size: number; multiaddr: number; ifindex: number };
  /** `struct addrinfo`: its size and the byte offsets of the fields used. */
  readonly addrinfo: {
    size: number; flags: number; family: number; socktype: number; protocol: number;
    addrlen: number; addr: number; canonname: number; next: number;
  };
  /** glibc's struct gaicb (getaddrinfo_a); size 0 where absent. `ret` is `__return`. */
  readonly gaicb: { size: number; name: number; service: number; request: number; result: number; ret: number };
  /** `struct kevent`: its size and the byte offsets of the fields used. */
  readonly kevent: {
    size: number; ident: number; filter: number; flags: number; fflags: number; data: number;
    udata: number;
  };
  /** `struct rusage`: its size and the byte offsets of the fields used. */
  readonly rusage: { size: number; utime: number; stime: number; maxrss: number };
  /** tcp_info fields (u8 up to retransmits, u32 from rto, u64 where noted). */
  readonly tcp_info: {
    size: number; state: number; retransmits: number; probes: number; backoff: number;
    rto: number; snd_mss: number; rcv_mss: number; unacked: number; lost: number; retrans: number;
    last_data_sent: number; last_data_recv: number; pmtu: number; rtt: number; rttvar: number;
    snd_ssthresh: number; snd_cwnd: number; reordering: number; total_retrans: number;
    /** u64 fields */
    pacing_rate: number; bytes_acked: number; bytes_received: number;
    segs_out: number; segs_in: number; notsent_bytes: number; min_rtt: number;
    /** u64 */
    delivery_rate: number;
    /** u64 */
    bytes_sent: number;
    /** u64 */
    bytes_retrans: number;
  };
  /** `struct io_uring_params`: its size and the byte offsets of the fields used. */
  readonly io_uring_params: {
    size: number; sq_entries: number; cq_entries: number; flags: number; features: number;
    sq_off: number; cq_off: number;
  };
  /** `struct io_sqring_offsets` (inside io_uring_params): byte offsets of its fields. */
  readonly io_sqring_offsets: {
    head: number; tail: number; ring_mask: number; ring_entries: number; flags: number;
    dropped: number; array: number;
  };
  /** `struct io_cqring_offsets` (inside io_uring_params): byte offsets of its fields. */
  readonly io_cqring_offsets: {
    head: number; tail: number; ring_mask: number; ring_entries: number; overflow: number;
    cqes: number; flags: number;
  };
  /** `struct io_uring_sqe`: its size and the byte offsets of the fields used. */
  readonly io_uring_sqe: {
    size: number; opcode: number; flags: number; ioprio: number; fd: number; off: number;
    addr: number; len: number; opFlags: number; userData: number; bufIndex: number;
  };
  /** `struct io_uring_cqe`: its size and the byte offsets of the fields used. */
  readonly io_uring_cqe: { size: number; userData: number; res: number; flags: number };
}
