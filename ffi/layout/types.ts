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
  readonly pointerSize: 8;
  /** BSD sockaddrs start with a length byte and a one-byte family. */
  readonly sockaddrHasLen: boolean;
  readonly sockaddr_in: { size: number; family: number; port: number; addr: number };
  readonly sockaddr_in6: {
    size: number; family: number; port: number; flowinfo: number; addr: number; scopeId: number;
  };
  readonly sockaddr_un: { size: number; family: number; path: number; pathSize: number };
  readonly sockaddr_storage: { size: number };
  readonly epoll_event: { size: number; events: number; data: number };
  readonly iovec: { size: number; base: number; len: number };
  readonly msghdr: {
    size: number; name: number; namelen: number; iov: number; iovlen: number;
    iovlenSize: 4 | 8; control: number; controllen: number; controllenSize: 4 | 8; flags: number;
  };
  /** cmsghdr: header size and alignment of CMSG_ALIGN. */
  readonly cmsghdr: { size: number; len: number; lenSize: 4 | 8; level: number; type: number; align: number };
  readonly mmsghdr: { size: number; hdr: number; len: number };
  readonly pollfd: { size: number; fd: number; events: number; revents: number };
  readonly timespec: { size: number; sec: number; nsec: number };
  readonly timeval: { size: number; sec: number; usec: number };
  readonly linger: { size: number; onoff: number; linger: number };
  readonly ucred: { size: number; pid: number; uid: number; gid: number };
  readonly ip_mreqn: { size: number; multiaddr: number; address: number; ifindex: number };
  readonly ipv6_mreq: { size: number; multiaddr: number; ifindex: number };
  readonly addrinfo: {
    size: number; flags: number; family: number; socktype: number; protocol: number;
    addrlen: number; addr: number; canonname: number; next: number;
  };
  /** glibc's struct gaicb (getaddrinfo_a); size 0 where absent. `ret` is `__return`. */
  readonly gaicb: { size: number; name: number; service: number; request: number; result: number; ret: number };
  readonly kevent: {
    size: number; ident: number; filter: number; flags: number; fflags: number; data: number;
    udata: number;
  };
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
  readonly io_uring_params: {
    size: number; sq_entries: number; cq_entries: number; flags: number; features: number;
    sq_off: number; cq_off: number;
  };
  readonly io_sqring_offsets: {
    head: number; tail: number; ring_mask: number; ring_entries: number; flags: number;
    dropped: number; array: number;
  };
  readonly io_cqring_offsets: {
    head: number; tail: number; ring_mask: number; ring_entries: number; overflow: number;
    cqes: number; flags: number;
  };
  readonly io_uring_sqe: {
    size: number; opcode: number; flags: number; ioprio: number; fd: number; off: number;
    addr: number; len: number; opFlags: number; userData: number; bufIndex: number;
  };
  readonly io_uring_cqe: { size: number; userData: number; res: number; flags: number };
}
