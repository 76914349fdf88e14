/**
 * Batched datagram I/O with sendmmsg(2) and recvmmsg(2) (Linux): many
 * datagrams per system call. Elsewhere both throw {@link UnsupportedError}.
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import { decodeSockaddr } from "./sockaddr.ts";
import { encodeTarget, type DgramFamily, type ReceivedDatagram } from "./dgram_target.ts";
import { MessageMemory, writeIovec, writeMsghdr } from "./msg_memory.ts";

/**
 * Most datagrams in one batch (the kernel's UIO_MAXIOV).
 *
 * @example
 * ```ts
 * import { MAX_DATAGRAM_BATCH } from "./dgram_batch.ts";
 * console.log(MAX_DATAGRAM_BATCH); // 1024
 * ```
 */
export const MAX_DATAGRAM_BATCH = 1024;

/** One datagram to send in a batch; without host/port it goes to the connected peer. */
export interface OutgoingDatagram {
  /** The payload. */
  readonly data: Uint8Array;
  /** Destination address literal (omit to send to the connected peer). */
  readonly host?: string;
  /** Destination port (with `host`). */
  readonly port?: number;
}

/** Bytes reserved per destination address (sockaddr_in6 rounded up). */
const SEND_ADDR = 32;
const memory = new MessageMemory();

function unsupported(name: string): UnsupportedError {
  return new UnsupportedError(name, `${name}(2) exists only on Linux`);
}

function bytesOf(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError("a datagram buffer must be a Uint8Array");
  return data;
}

function checkBatchSize(n: number): void {
  if (n < 1 || n > MAX_DATAGRAM_BATCH) throw new RangeError(`a batch holds 1..${MAX_DATAGRAM_BATCH} datagrams, got ${n}`);
}

/**
 * Sends up to `messages.length` datagrams in one sendmmsg call. Returns how
 * many were sent (the first ones), or `null` when a non-blocking socket
 * could take none.
 *
 * @param fd a UDP socket
 * @param family the socket's family, for encoding targets
 * @param messages payloads with optional targets
 *
 * @example
 * ```ts
 * import { sendBatch } from "./dgram_batch.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync("127.0.0.1", 0);
 * const { port } = s.localAddress();
 * const data = new Uint8Array([1]);
 * console.log(sendBatch(s.fd, "ipv4", [{ data, host: "127.0.0.1", port }, { data, host: "127.0.0.1", port }])); // 2
 * ```
 */
export function sendBatch(fd: number, family: DgramFamily, messages: readonly OutgoingDatagram[]): number | null {
  try {
    return sendBatchStaged(fd, family, messages);
  } finally {
    memory.trim(); // a large request does not keep its block
  }
}

/** The work of `sendBatch`, in the shared native block (which `sendBatch` trims afterwards). */
function sendBatchStaged(fd: number, family: DgramFamily, messages: readonly OutgoingDatagram[]): number | null {
  const call = libc().sendmmsg;
  if (call === undefined || LAYOUT.mmsghdr.size === 0) throw unsupported("sendmmsg");
  const n = messages.length;
  checkBatchSize(n);
  const M = LAYOUT.mmsghdr.size;
  const V = LAYOUT.iovec.size;
  const iovAt = n * M;
  const addrAt = iovAt + n * V;
  const dataAt = addrAt + n * SEND_ADDR;
  let total = 0;
  for (const m of messages) total += bytesOf(m.data).byteLength;
  const block = memory.reserve(dataAt + total);
  const view = block.view;
  const bytes = block.bytes;
  let at = dataAt;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    let nameLength = 0;
    if (m.host !== undefined || m.port !== undefined) {
      if (m.host === undefined || m.port === undefined) {
        throw new TypeError(`datagram ${i} has a host or a port but not both`);
      }
      const slot = addrAt + i * SEND_ADDR;
      nameLength = encodeTarget(family, m.host, m.port, bytes.subarray(slot, slot + SEND_ADDR));
    }
    bytes.set(m.data, at);
    writeIovec(view, iovAt + i * V, block.pointerAt(at), m.data.byteLength);
    at += m.data.byteLength;
    writeMsghdr(view, i * M + LAYOUT.mmsghdr.hdr, {
      name: nameLength === 0 ? null : block.pointerAt(addrAt + i * SEND_ADDR),
      nameLength,
      iov: block.pointerAt(iovAt + i * V),
      iovCount: 1,
      control: null,
      controlLength: 0,
    });
    view.setUint32(i * M + LAYOUT.mmsghdr.len, 0, true);
  }
  for (;;) {
    const sent = call(fd, bytes, n, C.MSG_NOSIGNAL);
    if (sent >= 0) return sent;
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    if (errno === E.EAGAIN) return null;
    throw sysError(errno, "sendmmsg");
  }
}

/**
 * Receives up to `buffers.length` datagrams in one recvmmsg call, one per
 * buffer: waits for the first (on a blocking socket), then takes what is
 * already queued (MSG_WAITFORONE). Returns `null` when a non-blocking
 * socket has nothing. Truncation is reported per datagram.
 *
 * @param fd a UDP socket
 * @param buffers where the datagrams go, in order
 *
 * @example
 * ```ts
 * import { recvBatch } from "./dgram_batch.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync("127.0.0.1", 0);
 * s.sendTo(new Uint8Array(3), "127.0.0.1", s.localAddress().port);
 * const fd = s.fd;
 * const buffers = Array.from({ length: 16 }, () => new Uint8Array(1500));
 * for (const d of recvBatch(fd, buffers) ?? []) console.log(d.host, d.port, d.bytes);
 * ```
 */
export function recvBatch(fd: number, buffers: readonly Uint8Array[]): ReceivedDatagram[] | null {
  try {
    return recvBatchStaged(fd, buffers);
  } finally {
    memory.trim(); // a large request does not keep its block
  }
}

/** The work of `recvBatch`, in the shared native block (which `recvBatch` trims afterwards). */
function recvBatchStaged(fd: number, buffers: readonly Uint8Array[]): ReceivedDatagram[] | null {
  const call = libc().recvmmsg;
  if (call === undefined || LAYOUT.mmsghdr.size === 0) throw unsupported("recvmmsg");
  const n = buffers.length;
  checkBatchSize(n);
  const M = LAYOUT.mmsghdr.size;
  const V = LAYOUT.iovec.size;
  const A = LAYOUT.sockaddr_storage.size;
  const iovAt = n * M;
  const addrAt = iovAt + n * V;
  const dataAt = addrAt + n * A;
  let total = 0;
  for (const b of buffers) total += bytesOf(b).byteLength;
  const block = memory.reserve(dataAt + total);
  const view = block.view;
  const bytes = block.bytes;
  let at = dataAt;
  for (let i = 0; i < n; i++) {
    const length = buffers[i]!.byteLength;
    writeIovec(view, iovAt + i * V, block.pointerAt(at), length);
    at += length;
    writeMsghdr(view, i * M + LAYOUT.mmsghdr.hdr, {
      name: block.pointerAt(addrAt + i * A),
      nameLength: A,
      iov: block.pointerAt(iovAt + i * V),
      iovCount: 1,
      control: null,
      controlLength: 0,
    });
  }
  let got: number;
  while ((got = call(fd, bytes, n, C.MSG_WAITFORONE | C.MSG_TRUNC, null)) < 0) {
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    if (errno === E.EAGAIN) return null;
    throw sysError(errno, "recvmmsg");
  }
  const out: ReceivedDatagram[] = [];
  at = dataAt;
  for (let i = 0; i < got; i++) {
    const buffer = buffers[i]!;
    const hdr = i * M + LAYOUT.mmsghdr.hdr;
    const size = view.getUint32(i * M + LAYOUT.mmsghdr.len, true);
    const flags = view.getInt32(hdr + LAYOUT.msghdr.flags, true);
    const stored = Math.min(size, buffer.byteLength);
    buffer.set(bytes.subarray(at, at + stored));
    at += buffer.byteLength;
    const nameLength = view.getUint32(hdr + LAYOUT.msghdr.namelen, true);
    const source = decodeSockaddr(bytes.subarray(addrAt + i * A, addrAt + (i + 1) * A), nameLength);
    out.push({
      bytes: stored,
      size,
      truncated: (flags & C.MSG_TRUNC) !== 0 || size > buffer.byteLength,
      host: source.family === "unix" ? source.path : source.host,
      port: source.family === "unix" ? 0 : source.port,
    });
  }
  return out;
}
