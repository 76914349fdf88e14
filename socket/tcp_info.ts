/**
 * TCP_INFO: the kernel's view of a TCP connection (RTT, congestion window,
 * retransmissions, delivery rate, …). Linux layout; other platforms throw
 * {@link UnsupportedError}.
 *
 * @example
 * ```ts
 * import { readTcpInfo } from "./tcp_info.ts";
 * import { connectTCPSync, listenTCPSync } from "./connect.ts";
 * using server = listenTCPSync("127.0.0.1", 0);
 * using socket = connectTCPSync("127.0.0.1", (server.localAddress() as { port: number }).port, 1000);
 * const info = readTcpInfo(socket.fd);
 * console.log(info.rttUs, info.cwnd);
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { check } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, LAYOUT } from "../ffi/platform.ts";

/** A snapshot of TCP_INFO. Times are microseconds unless named otherwise. */
export interface TcpInfo {
  /** TCP state (1 = ESTABLISHED, 10 = LISTEN, … as in the kernel). */
  readonly state: number;
  /** Retransmissions of the current unacknowledged segment. */
  readonly retransmits: number;
  /** Keep-alive or zero-window probes sent without an answer. */
  readonly probes: number;
  /** Exponential backoff of the retransmission timer. */
  readonly backoff: number;
  /** Retransmission timeout. */
  readonly rtoUs: number;
  /** Smoothed round-trip time. */
  readonly rttUs: number;
  /** Round-trip time variance. */
  readonly rttVarUs: number;
  /** Smallest RTT seen. */
  readonly minRttUs: number;
  /** Send maximum segment size. */
  readonly sendMss: number;
  /** Receive maximum segment size. */
  readonly recvMss: number;
  /** Congestion window, in segments. */
  readonly cwnd: number;
  /** Slow-start threshold, in segments. */
  readonly ssthresh: number;
  /** Segments sent and not yet acknowledged. */
  readonly unacked: number;
  /** Segments considered lost. */
  readonly lost: number;
  /** Segments retransmitted and not yet acknowledged. */
  readonly retrans: number;
  /** Retransmissions over the connection's life. */
  readonly totalRetrans: number;
  /** Path MTU. */
  readonly pmtu: number;
  /** Milliseconds since the last data was sent. */
  readonly lastDataSentMs: number;
  /** Milliseconds since the last data was received. */
  readonly lastDataRecvMs: number;
  /** Pacing rate, bytes per second. */
  readonly pacingRate: number;
  /** Delivery rate estimate, bytes per second. */
  readonly deliveryRate: number;
  /** Bytes acknowledged by the peer. */
  readonly bytesAcked: number;
  /** Bytes received. */
  readonly bytesReceived: number;
  /** Bytes sent, retransmissions included. */
  readonly bytesSent: number;
  /** Bytes retransmitted. */
  readonly bytesRetrans: number;
  /** Segments sent. */
  readonly segsOut: number;
  /** Segments received. */
  readonly segsIn: number;
  /** Bytes queued and not yet sent. */
  readonly notSentBytes: number;
}

const L = LAYOUT.tcp_info;
const infoBytes = new Uint8Array(Math.max(L.size, 8));
const infoView = new DataView(infoBytes.buffer);
const lenCell = new Uint32Array(1);
const lenBytes = new Uint8Array(lenCell.buffer);

function fill(fd: number): number {
  if (L.size === 0 || C.TCP_INFO === 0 || native.os !== "linux") {
    throw new UnsupportedError("tcpInfo", `the Linux tcp_info layout is not available on ${native.os}`);
  }
  infoBytes.fill(0);
  lenCell[0] = L.size;
  check(libc().getsockopt(fd, C.IPPROTO_TCP, C.TCP_INFO, infoBytes, lenBytes), "getsockopt(TCP_INFO)");
  return lenCell[0]!;
}

const u8 = (o: number): number => infoView.getUint8(o);
const u32 = (o: number, len: number): number => (o + 4 <= len ? infoView.getUint32(o, true) : 0);
const u64 = (o: number, len: number): number => (o + 8 <= len ? Number(infoView.getBigUint64(o, true)) : 0);

/**
 * Reads TCP_INFO for a TCP socket's descriptor. Fields the running kernel
 * does not fill read as 0.
 *
 * @throws UnsupportedError off Linux; SocketError for a non-TCP descriptor
 *
 * @example
 * ```ts
 * import { readTcpInfo } from "./tcp_info.ts";
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * console.log(readTcpInfo(s.fd).state); // 7: TCP_CLOSE, not connected
 * ```
 */
export function readTcpInfo(fd: number): TcpInfo {
  const n = fill(fd);
  return {
    state: u8(L.state),
    retransmits: u8(L.retransmits),
    probes: u8(L.probes),
    backoff: u8(L.backoff),
    rtoUs: u32(L.rto, n),
    rttUs: u32(L.rtt, n),
    rttVarUs: u32(L.rttvar, n),
    minRttUs: u32(L.min_rtt, n),
    sendMss: u32(L.snd_mss, n),
    recvMss: u32(L.rcv_mss, n),
    cwnd: u32(L.snd_cwnd, n),
    ssthresh: u32(L.snd_ssthresh, n),
    unacked: u32(L.unacked, n),
    lost: u32(L.lost, n),
    retrans: u32(L.retrans, n),
    totalRetrans: u32(L.total_retrans, n),
    pmtu: u32(L.pmtu, n),
    lastDataSentMs: u32(L.last_data_sent, n),
    lastDataRecvMs: u32(L.last_data_recv, n),
    pacingRate: u64(L.pacing_rate, n),
    deliveryRate: u64(L.delivery_rate, n),
    bytesAcked: u64(L.bytes_acked, n),
    bytesReceived: u64(L.bytes_received, n),
    bytesSent: u64(L.bytes_sent, n),
    bytesRetrans: u64(L.bytes_retrans, n),
    segsOut: u32(L.segs_out, n),
    segsIn: u32(L.segs_in, n),
    notSentBytes: u32(L.notsent_bytes, n),
  };
}

/**
 * The smoothed RTT in microseconds, without building the whole snapshot.
 *
 * @example
 * ```ts
 * import { readRttUs } from "./tcp_info.ts";
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * console.log(readRttUs(s.fd)); // 0: not connected
 * ```
 */
export function readRttUs(fd: number): number {
  return u32(L.rtt, fill(fd));
}

/**
 * The congestion window in segments.
 *
 * @example
 * ```ts
 * import { readCwnd } from "./tcp_info.ts";
 * import { Socket } from "./socket.ts";
 * using s = Socket.create("ipv4");
 * console.log(readCwnd(s.fd) > 0); // true: the initial window
 * ```
 */
export function readCwnd(fd: number): number {
  return u32(L.snd_cwnd, fill(fd));
}
