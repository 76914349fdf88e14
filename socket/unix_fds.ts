/**
 * Unix-domain extras on a plain file descriptor: passing descriptors with
 * SCM_RIGHTS and reading the peer's credentials.
 *
 * Every received descriptor is close-on-exec (MSG_CMSG_CLOEXEC on Linux,
 * `fcntl(FD_CLOEXEC)` elsewhere). Descriptors beyond the caller's limit, or
 * carried by a message whose control data was truncated, are closed before
 * the call returns: none is ever leaked.
 *
 * @example
 * ```ts
 * import { recvFd, sendFd } from "./unix_fds.ts";
 * import { libc } from "../ffi/libc.ts";
 * import { C } from "../ffi/platform.ts";
 * const pair = new Int32Array(2);
 * libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0, new Uint8Array(pair.buffer));
 * sendFd(pair[0]!, 0); // pass our stdin
 * const copy = recvFd(pair[1]!);
 * console.log(copy !== null && copy >= 0); // true
 * ```
 *
 * @module
 */
import { SocketClosedError, UnsupportedError } from "../core/errors.ts";
import { SOCKET_LIMITS } from "../core/limits.ts";
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import {
  cmsgAlign,
  cmsgLen,
  cmsgSpace,
  MessageMemory,
  readSize,
  writeIovec,
  writeMsghdr,
  writeSize,
} from "./msg_memory.ts";

/**
 * Most descriptors one SCM_RIGHTS message may carry (Linux SCM_MAX_FD).
 *
 * @example
 * ```ts
 * import { MAX_FDS_PER_MESSAGE } from "./unix_fds.ts";
 * console.log(MAX_FDS_PER_MESSAGE); // 253
 * ```
 */
export const MAX_FDS_PER_MESSAGE = 253;

const memory = new MessageMemory();
const msghdr = new Uint8Array(LAYOUT.msghdr.size);
const msghdrView = new DataView(msghdr.buffer);
const ONE_BYTE = new Uint8Array(1);

function validateFd(fd: number, what: string): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(fd)}`);
  }
}

/**
 * Sends `fds` over the Unix socket `socketFd` in one SCM_RIGHTS message,
 * together with `data` (one zero byte by default: a stream socket needs at
 * least one byte to carry control data). Returns the data bytes sent.
 * Signals are never raised for a gone peer (MSG_NOSIGNAL).
 *
 * @param socketFd a connected Unix-domain socket
 * @param fds 1 to {@link MAX_FDS_PER_MESSAGE} descriptors to pass
 * @param data payload sent with the descriptors
 * @param flags extra MSG_* flags (MSG_DONTWAIT, …); MSG_NOSIGNAL is always added
 * @returns the number of payload bytes sent
 *
 * @example
 * ```ts
 * import { sendFds } from "./unix_fds.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * sendFds(a.fd, [0, 1, 2], new TextEncoder().encode("stdio"));
 * for (const fd of b.recvFds({ maxFds: 3 })?.fds ?? []) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 */
export function sendFds(socketFd: number, fds: readonly number[], data: Uint8Array = ONE_BYTE, flags = 0): number {
  try {
    return sendFdsStaged(socketFd, fds, data, flags);
  } finally {
    memory.trim(); // a large request does not keep its block
  }
}

/** The work of `sendFds`, in the shared native block (which `sendFds` trims afterwards). */
function sendFdsStaged(socketFd: number, fds: readonly number[], data: Uint8Array, flags: number): number {
  validateFd(socketFd, "socket fd");
  if (!Array.isArray(fds)) throw new TypeError("fds must be an array of descriptors");
  if (!(data instanceof Uint8Array)) throw new TypeError("data must be a Uint8Array");
  if (fds.length < 1 || fds.length > MAX_FDS_PER_MESSAGE) {
    throw new RangeError(`fd count must be 1..${MAX_FDS_PER_MESSAGE}, got ${fds.length}`);
  }
  for (const fd of fds) validateFd(fd, "passed fd");
  if (data.byteLength < 1) throw new RangeError("data must hold at least one byte");

  const iovSize = LAYOUT.iovec.size;
  const controlSize = cmsgSpace(4 * fds.length);
  const block = memory.reserve(iovSize + controlSize + data.byteLength);
  const view = block.view;
  const bytes = block.bytes;
  // control message: header, then the descriptors as ints
  const ctl = iovSize;
  bytes.fill(0, ctl, ctl + controlSize);
  const h = LAYOUT.cmsghdr;
  writeSize(view, ctl + h.len, h.lenSize, cmsgLen(4 * fds.length));
  view.setInt32(ctl + h.level, C.SOL_SOCKET, true);
  view.setInt32(ctl + h.type, C.SCM_RIGHTS, true);
  const fdBase = ctl + cmsgAlign(h.size);
  fds.forEach((fd, i) => view.setInt32(fdBase + 4 * i, fd, true));
  // payload
  const dataAt = iovSize + controlSize;
  bytes.set(data, dataAt);
  writeIovec(view, 0, block.pointerAt(dataAt), data.byteLength);
  writeMsghdr(msghdrView, 0, {
    name: null,
    nameLength: 0,
    iov: block.pointer,
    iovCount: 1,
    control: block.pointerAt(ctl),
    controlLength: controlSize,
  });
  for (;;) {
    const n = libc().sendmsg(socketFd, msghdr, C.MSG_NOSIGNAL | flags);
    if (n >= 0) return n;
    const errno = native.errno();
    if (errno !== E.EINTR) throw sysError(errno, "sendmsg");
  }
}

/**
 * Sends one descriptor; see {@link sendFds}.
 *
 * @example
 * ```ts
 * import { closeSync, openSync } from "node:fs";
 * import { sendFd } from "./unix_fds.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const fileFd = openSync("/etc/hosts", "r");
 * sendFd(a.fd, fileFd);
 * closeSync(fileFd); // the peer has its own copy now
 * const received = b.recvFd();
 * if (received !== null && received >= 0) b.closeReceivedFd(received);
 * a.close(); b.close();
 * ```
 */
export function sendFd(socketFd: number, fd: number, data: Uint8Array = ONE_BYTE): number {
  return sendFds(socketFd, [fd], data);
}

/** Options of {@link recvFds}. */
export interface RecvFdsOptions {
  /** Most descriptors to accept (default `SOCKET_LIMITS.maxReceivedFds`); more are closed. */
  maxFds?: number;
  /** Where the payload goes (default: a one-byte scratch buffer). */
  buffer?: Uint8Array;
}

/** What {@link recvFds} received. */
export interface ReceivedFds {
  /** Payload bytes written to the buffer; 0 with no fds means the peer closed. */
  readonly bytes: number;
  /** The descriptors kept, close-on-exec, owned by the caller. */
  readonly fds: number[];
  /** Descriptors were dropped: more than `maxFds` arrived or control data was truncated. */
  readonly fdsTruncated: boolean;
  /** The payload did not fit in the buffer (datagram sockets; MSG_TRUNC). */
  readonly dataTruncated: boolean;
}

/**
 * Receives one message and the descriptors passed with it. Returns `null`
 * when the socket is non-blocking and nothing is pending.
 *
 * At most `maxFds` descriptors are kept; any others that arrived are closed
 * at once and `fdsTruncated` is set (also when the kernel reported
 * MSG_CTRUNC, in which case it has already discarded the ones that did not
 * fit).
 *
 * @param socketFd a Unix-domain socket
 * @param options limit and payload buffer
 * @param flags extra MSG_* flags (MSG_DONTWAIT, …)
 * @returns the message, or null on EAGAIN
 *
 * @example
 * ```ts
 * import { recvFds } from "./unix_fds.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * a.sendFds([0, 1]);
 * const msg = recvFds(b.fd, { maxFds: 3, buffer: new Uint8Array(64) });
 * for (const fd of msg?.fds ?? []) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 */
export function recvFds(socketFd: number, options: RecvFdsOptions = {}, flags = 0): ReceivedFds | null {
  try {
    return recvFdsStaged(socketFd, options, flags);
  } finally {
    memory.trim(); // a large request does not keep its block
  }
}

/** The work of `recvFds`, in the shared native block (which `recvFds` trims afterwards). */
function recvFdsStaged(socketFd: number, options: RecvFdsOptions, flags: number): ReceivedFds | null {
  validateFd(socketFd, "socket fd");
  const maxFds = options.maxFds ?? SOCKET_LIMITS.maxReceivedFds;
  if (!Number.isInteger(maxFds) || maxFds < 1 || maxFds > MAX_FDS_PER_MESSAGE) {
    throw new RangeError(`maxFds must be 1..${MAX_FDS_PER_MESSAGE}, got ${String(maxFds)}`);
  }
  const buffer = options.buffer ?? new Uint8Array(1);
  if (!(buffer instanceof Uint8Array)) throw new TypeError("buffer must be a Uint8Array");
  if (buffer.byteLength < 1) throw new RangeError("buffer must hold at least one byte");

  const iovSize = LAYOUT.iovec.size;
  const controlSize = cmsgSpace(4 * maxFds);
  const block = memory.reserve(iovSize + controlSize + buffer.byteLength);
  const view = block.view;
  const ctl = iovSize;
  const dataAt = iovSize + controlSize;
  block.bytes.fill(0, ctl, ctl + controlSize);
  writeIovec(view, 0, block.pointerAt(dataAt), buffer.byteLength);
  writeMsghdr(msghdrView, 0, {
    name: null,
    nameLength: 0,
    iov: block.pointer,
    iovCount: 1,
    control: block.pointerAt(ctl),
    controlLength: controlSize,
  });
  let n: number;
  while ((n = libc().recvmsg(socketFd, msghdr, C.MSG_CMSG_CLOEXEC | flags)) < 0) {
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    if (errno === E.EAGAIN) return null;
    throw sysError(errno, "recvmsg");
  }
  const msgFlags = msghdrView.getInt32(LAYOUT.msghdr.flags, true);
  const used = readSize(msghdrView, LAYOUT.msghdr.controllen, LAYOUT.msghdr.controllenSize);
  const received = parseRights(view, ctl, Math.min(used, controlSize));
  const copied = Math.min(n, buffer.byteLength);
  buffer.set(block.bytes.subarray(dataAt, dataAt + copied));

  const fds = received.slice(0, maxFds);
  for (const extra of received.slice(maxFds)) libc().close(extra);
  if (C.MSG_CMSG_CLOEXEC === 0) for (const fd of fds) setCloexec(fd);
  return {
    bytes: copied,
    fds,
    fdsTruncated: received.length > maxFds || (msgFlags & C.MSG_CTRUNC) !== 0,
    dataTruncated: (msgFlags & C.MSG_TRUNC) !== 0,
  };
}

/**
 * Receives one descriptor. Returns the descriptor (close-on-exec, owned by
 * the caller), `-1` when the message carried none, or `null` when the socket
 * is non-blocking and nothing is pending. Extra descriptors are closed.
 * Throws {@link SocketClosedError} when the peer has closed.
 *
 * @example
 * ```ts
 * import { recvFd } from "./unix_fds.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * a.sendFd(0);
 * const fd = recvFd(b.fd);
 * if (fd !== null && fd >= 0) b.closeReceivedFd(fd);
 * a.close(); b.close();
 * ```
 */
export function recvFd(socketFd: number, buffer?: Uint8Array): number | null {
  const msg = recvFds(socketFd, buffer === undefined ? { maxFds: 1 } : { maxFds: 1, buffer });
  if (msg === null) return null;
  if (msg.bytes === 0 && msg.fds.length === 0) {
    throw new SocketClosedError("EOF", "recvmsg: the peer closed before sending a descriptor", {
      syscall: "recvmsg",
    });
  }
  return msg.fds[0] ?? -1;
}

/** Collects the descriptors of every SCM_RIGHTS message in a control block. */
function parseRights(view: DataView, start: number, length: number): number[] {
  const h = LAYOUT.cmsghdr;
  const headerSize = cmsgAlign(h.size);
  const out: number[] = [];
  let at = start;
  const end = start + length;
  while (at + headerSize <= end) {
    const len = readSize(view, at + h.len, h.lenSize);
    if (len < headerSize || at + len > end) break;
    const level = view.getInt32(at + h.level, true);
    const type = view.getInt32(at + h.type, true);
    if (level === C.SOL_SOCKET && type === C.SCM_RIGHTS) {
      const count = Math.floor((len - headerSize) / 4);
      for (let i = 0; i < count; i++) out.push(view.getInt32(at + headerSize + 4 * i, true));
    }
    at += cmsgAlign(len);
  }
  return out;
}

function setCloexec(fd: number): void {
  const flags = libc().fcntl(fd, C.F_GETFD, 0);
  if (flags >= 0) libc().fcntl(fd, C.F_SETFD, flags | C.FD_CLOEXEC);
}

/** The process on the other end of a Unix socket. */
export interface PeerCredentials {
  /** The peer's process id at connect (or socketpair) time. */
  readonly pid: number;
  /** The peer's effective user id. */
  readonly uid: number;
  /** The peer's effective group id. */
  readonly gid: number;
}

/**
 * The credentials of the peer of a connected Unix socket, as the kernel
 * recorded them at connect (or socketpair) time (SO_PEERCRED; Linux).
 *
 * @example
 * ```ts
 * import { peerCredentials } from "./unix_fds.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const { pid, uid, gid } = peerCredentials(a.fd);
 * console.log(pid, uid, gid); // this process's
 * a.close(); b.close();
 * ```
 */
export function peerCredentials(socketFd: number): PeerCredentials {
  validateFd(socketFd, "socket fd");
  const u = LAYOUT.ucred;
  if (u.size === 0) {
    throw new UnsupportedError("peerCredentials", `SO_PEERCRED is not available on ${native.os}`);
  }
  const cred = new Uint8Array(u.size);
  const len = new Uint32Array([u.size]);
  check(
    libc().getsockopt(socketFd, C.SOL_SOCKET, C.SO_PEERCRED, cred, new Uint8Array(len.buffer)),
    "getsockopt(SO_PEERCRED)",
  );
  const view = new DataView(cred.buffer);
  return {
    pid: view.getInt32(u.pid, true),
    uid: view.getUint32(u.uid, true),
    gid: view.getUint32(u.gid, true),
  };
}
