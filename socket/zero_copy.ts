/**
 * Moving bytes without copying them through JavaScript: sendfile (file →
 * socket), splice (socket → socket through a pipe, Linux), and descriptor
 * duplication. All functions work on plain descriptors.
 *
 * @example
 * ```ts
 * import { sendfileAll } from "./zero_copy.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const sent = sendfileAll(a.fd, "/etc/hosts");
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { SocketError, SocketTimeoutError, UnsupportedError, UseAfterCloseError } from "../core/errors.ts";
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { cString } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { pollOne } from "./wait.ts";

/** Largest count handed to one sendfile/splice call (Linux caps a call at this). */
const MAX_CHUNK = 0x7ffff000;
/** Bytes per pread+send round on platforms without Linux sendfile. */
const FALLBACK_CHUNK = 64 * 1024;

const offsetCell = new BigInt64Array(1);
const offsetBytes = new Uint8Array(offsetCell.buffer);
let fallbackBuffer: Uint8Array | undefined;

function validateFd(fd: number, what: string): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(fd)}`);
  }
}

function validateCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(n)}`);
  }
}


function wouldBlock(errno: number): boolean {
  return errno === E.EAGAIN;
}

/**
 * One sendfile(2) call: sends up to `count` bytes of `fileFd` starting at
 * `offset` to `socketFd`, without moving the file's own position. Returns
 * the bytes sent (0 at end of file), or `null` when a non-blocking socket
 * cannot take any now. On platforms without Linux sendfile the same
 * contract is met with pread and send through a 64 KiB buffer.
 *
 * @param socketFd the connected socket to write to
 * @param fileFd a regular file (or anything mmap-able) to read from
 * @param offset file offset to start at
 * @param count most bytes to send
 * @returns bytes sent, or null on EAGAIN
 *
 * @example
 * ```ts
 * import { closeSync, openSync } from "node:fs";
 * import { sendfile } from "./zero_copy.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const fileFd = openSync("/etc/hosts", "r");
 * const n = sendfile(a.fd, fileFd, 0, 1 << 20); // the file's size, or what fits
 * closeSync(fileFd);
 * a.close(); b.close();
 * ```
 */
export function sendfile(socketFd: number, fileFd: number, offset: number, count: number): number | null {
  validateFd(socketFd, "socket fd");
  validateFd(fileFd, "file fd");
  validateCount(offset, "offset");
  validateCount(count, "count");
  if (count === 0) return 0;
  const lib = libc();
  const call = lib.sendfile;
  if (call !== undefined && native.os === "linux") {
    offsetCell[0] = BigInt(offset);
    const n = call(socketFd, fileFd, offsetBytes, Math.min(count, MAX_CHUNK));
    if (n >= 0) return n;
    const errno = native.errno();
    if (wouldBlock(errno)) return null;
    throw sysError(errno, "sendfile");
  }
  const buf = (fallbackBuffer ??= new Uint8Array(FALLBACK_CHUNK));
  const want = Math.min(count, buf.byteLength);
  const got = check(lib.pread(fileFd, buf, want, offset), "pread");
  if (got === 0) return 0;
  const n = lib.send(socketFd, buf, got, C.MSG_NOSIGNAL);
  if (n >= 0) return n;
  const errno = native.errno();
  if (wouldBlock(errno)) return null;
  throw sysError(errno, "send");
}

/** Options of {@link sendfileAll}. */
export interface SendfileOptions {
  /** File offset to start at (default 0). */
  offset?: number;
  /** Bytes to send (default: from `offset` to the end of the file). */
  count?: number;
  /** Longest wait for the socket to become writable, in ms (default: no limit). */
  timeoutMs?: number;
}

/**
 * Sends a whole file range to a socket, looping over {@link sendfile}. A
 * non-blocking socket is waited on with poll(2) for at most `timeoutMs` per
 * wait ({@link SocketTimeoutError} after that). Stops early if the file is
 * shorter than asked. A path is opened read-only and closed again.
 *
 * @param socketFd the connected socket to write to
 * @param source a file descriptor or a path
 * @param options offset, count and timeout
 * @returns the bytes sent
 *
 * @example
 * ```ts
 * import { sendfileAll } from "./zero_copy.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * sendfileAll(a.fd, "/etc/hosts", { offset: 0, timeoutMs: 5000 });
 * a.close(); b.close();
 * ```
 */
export function sendfileAll(socketFd: number, source: number | string, options: SendfileOptions = {}): number {
  validateFd(socketFd, "socket fd");
  const offset = options.offset ?? 0;
  validateCount(offset, "offset");
  if (options.count !== undefined) validateCount(options.count, "count");
  const timeoutMs = options.timeoutMs ?? -1;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
    throw new TypeError(`timeoutMs must be a number, got ${String(timeoutMs)}`);
  }
  let fileFd: number;
  if (typeof source === "string") {
    fileFd = check(libc().open(cString(source), C.O_RDONLY | C.O_CLOEXEC, 0), "open", source);
  } else {
    validateFd(source, "file fd");
    fileFd = source;
  }
  try {
    const count = options.count ?? Math.max(0, fileSize(fileFd) - offset);
    let sent = 0;
    try {
      while (sent < count) {
        const n = sendfile(socketFd, fileFd, offset + sent, count - sent);
        if (n === 0) break; // the file ended early
        if (n !== null) {
          sent += n;
          continue;
        }
        if (pollOne(socketFd, C.POLLOUT, timeoutMs) === 0) {
          throw new SocketTimeoutError(`sendfile timed out after ${timeoutMs} ms with ${sent} of ${count} bytes sent`, {
            syscall: "sendfile",
          });
        }
      }
    } catch (err) {
      throw withTransferred(err, sent);
    }
    return sent;
  } finally {
    if (typeof source === "string") libc().close(fileFd);
  }
}

/** The size of an open file, leaving its position where it was. */
function fileSize(fd: number): number {
  const lib = libc();
  const here = check(lib.lseek(fd, 0, C.SEEK_CUR), "lseek");
  const end = check(lib.lseek(fd, 0, C.SEEK_END), "lseek");
  check(lib.lseek(fd, here, C.SEEK_SET), "lseek");
  return end;
}

/**
 * A kernel pipe used to splice bytes from one socket to another without
 * copying them to user space (Linux). Bytes that the destination could not
 * take yet stay in the pipe (`pending`) and go first on the next
 * {@link SplicePipe.transfer}.
 *
 * @example
 * ```ts
 * import { SplicePipe } from "./zero_copy.ts";
 * import { Socket } from "./socket.ts";
 * const [client, from] = Socket.pair();
 * const [to, upstream] = Socket.pair();
 * client.sendAll(new Uint8Array(3));
 * client.shutdown("write");
 * using pipe = SplicePipe.open();
 * while (!pipe.ended) pipe.transfer(from.fd, to.fd, 1 << 20);
 * for (const s of [client, from, to, upstream]) s.close();
 * ```
 */
export class SplicePipe {
  #readFd: number;
  #writeFd: number;
  #capacity: number;
  #pending = 0;
  #ended = false;

  private constructor(readFd: number, writeFd: number, capacity: number) {
    this.#readFd = readFd;
    this.#writeFd = writeFd;
    this.#capacity = capacity;
  }

  /**
   * Creates the pipe (close-on-exec). `capacity` asks the kernel for a pipe
   * buffer of that many bytes (F_SETPIPE_SZ); the default keeps the
   * kernel's (64 KiB). Throws {@link UnsupportedError} off Linux.
   *
   * @example
   * ```ts
   * import { SplicePipe } from "./zero_copy.ts";
   * const pipe = SplicePipe.open({ capacity: 1 << 20 });
   * pipe.close();
   * ```
   */
  static open(options: { capacity?: number } = {}): SplicePipe {
    const lib = libc();
    if (native.os !== "linux" || lib.splice === undefined || lib.pipe2 === undefined) {
      throw new UnsupportedError("splice", "splice(2) exists only on Linux");
    }
    const fds = new Int32Array(2);
    check(lib.pipe2(new Uint8Array(fds.buffer), C.O_CLOEXEC), "pipe2");
    const [readFd, writeFd] = [fds[0]!, fds[1]!];
    try {
      if (options.capacity !== undefined) {
        validateCount(options.capacity, "capacity");
        check(lib.fcntl(writeFd, C.F_SETPIPE_SZ, Math.min(options.capacity, 0x7fffffff)), "fcntl(F_SETPIPE_SZ)");
      }
      const capacity = check(lib.fcntl(writeFd, C.F_GETPIPE_SZ, 0), "fcntl(F_GETPIPE_SZ)");
      return new SplicePipe(readFd, writeFd, capacity);
    } catch (err) {
      lib.close(readFd);
      lib.close(writeFd);
      throw err;
    }
  }

  /** The pipe buffer size in bytes. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes read from a source but not yet delivered to a destination. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether the last read from a source found its end (orderly close). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether {@link SplicePipe.close} has run. */
  get closed(): boolean {
    return this.#readFd < 0;
  }

  /**
   * Moves up to `maxBytes` from `fromFd` to `toFd` and returns how many
   * reached `toFd`. Pending bytes go first. Reading stops at the limit, at
   * end of stream (`ended` becomes true) or when a non-blocking source has
   * nothing; writing stops when a non-blocking destination is full (the
   * rest stays `pending`). Blocking descriptors block as usual.
   *
   * @example
   * ```ts
   * import { SplicePipe } from "./zero_copy.ts";
   * import { Socket } from "./socket.ts";
   * const [client, from] = Socket.pair("stream", { nonBlocking: true });
   * const [to, upstream] = Socket.pair("stream", { nonBlocking: true });
   * client.sendAll(new Uint8Array(3));
   * using pipe = SplicePipe.open();
   * const moved = pipe.transfer(from.fd, to.fd, 65536); // stops when the non-blocking source has nothing more
   * console.log(moved); // 3
   * for (const s of [client, from, to, upstream]) s.close();
   * ```
   */
  transfer(fromFd: number, toFd: number, maxBytes: number): number {
    this.#checkOpen();
    validateFd(fromFd, "source fd");
    validateFd(toFd, "destination fd");
    validateCount(maxBytes, "maxBytes");
    const splice = libc().splice!;
    let delivered = 0;
    let budget = maxBytes;
    for (;;) {
      // Drain what is in the pipe first.
      while (this.#pending > 0) {
        const n = splice(this.#readFd, null, toFd, null, this.#pending, C.SPLICE_F_MOVE | C.SPLICE_F_MORE);
        if (n < 0) {
          const errno = native.errno();
          if (wouldBlock(errno)) return delivered;
          if (errno === E.EINTR) continue;
          throw sysError(errno, "splice");
        }
        this.#pending -= n;
        delivered += n;
      }
      if (budget === 0) return delivered;
      const want = Math.min(budget, this.#capacity, MAX_CHUNK);
      const n = splice(fromFd, null, this.#writeFd, null, want, C.SPLICE_F_MOVE | C.SPLICE_F_MORE);
      if (n < 0) {
        const errno = native.errno();
        if (wouldBlock(errno)) return delivered;
        if (errno === E.EINTR) continue;
        throw sysError(errno, "splice");
      }
      if (n === 0) {
        this.#ended = true;
        return delivered;
      }
      this.#ended = false;
      this.#pending += n;
      budget -= n;
    }
  }

  /** Closes both ends of the pipe (pending bytes are dropped); idempotent. */
  close(): void {
    if (this.#readFd < 0) return;
    libc().close(this.#readFd);
    libc().close(this.#writeFd);
    this.#readFd = -1;
    this.#writeFd = -1;
  }

  /** Same as {@link SplicePipe.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(): void {
    if (this.#readFd < 0) throw new UseAfterCloseError("SplicePipe");
  }
}

/**
 * Splices `count` bytes (or until end of stream when `count` is omitted)
 * from one socket to another through a temporary pipe (Linux). Non-blocking
 * descriptors are waited on with poll(2): at most `timeoutMs` per wait for
 * the source to have data, at most `sendTimeoutMs` (default: `timeoutMs`)
 * per wait for the destination to have room; negative or Infinity means no
 * limit. Returns the bytes moved.
 *
 * @throws SocketTimeoutError when a wait runs out
 *
 * @example
 * ```ts
 * import { spliceAll } from "./zero_copy.ts";
 * import { Socket } from "./socket.ts";
 * const [client, proxyIn] = Socket.pair();
 * const [proxyOut, upstream] = Socket.pair();
 * client.sendAll(new Uint8Array(3));
 * client.shutdown("write");
 * console.log(spliceAll(proxyIn.fd, proxyOut.fd)); // 3: one direction proxied until EOF
 * for (const s of [client, proxyIn, proxyOut, upstream]) s.close();
 * ```
 */
export function spliceAll(fromFd: number, toFd: number, count = Infinity, timeoutMs = -1, sendTimeoutMs = timeoutMs): number {
  if (count !== Infinity) validateCount(count, "count");
  for (const [what, ms] of [["timeoutMs", timeoutMs], ["sendTimeoutMs", sendTimeoutMs]] as const) {
    if (typeof ms !== "number" || Number.isNaN(ms)) throw new TypeError(`${what} must be a number, got ${String(ms)}`);
  }
  using pipe = SplicePipe.open();
  let moved = 0;
  try {
    while (moved < count) {
      // Never read more than is still owed: bytes in the pipe are owed too.
      const step = Math.min(count - moved - pipe.pending, MAX_CHUNK);
      const n = pipe.transfer(fromFd, toFd, step);
      moved += n;
      if (pipe.ended && pipe.pending === 0) break;
      if (n > 0) continue;
      const writing = pipe.pending > 0;
      const waitMs = writing ? sendTimeoutMs : timeoutMs;
      if (pollOne(writing ? toFd : fromFd, writing ? C.POLLOUT : C.POLLIN, waitMs) === 0) {
        const side = writing ? "room at the destination" : "data from the source";
        throw new SocketTimeoutError(`splice timed out after ${waitMs} ms waiting for ${side}, with ${moved} bytes moved`, {
          syscall: "splice",
        });
      }
    }
  } catch (err) {
    throw withTransferred(err, moved);
  }
  return moved;
}

/** Records on a socket error how many bytes a looping transfer moved before it (other errors pass as they are). */
function withTransferred(err: unknown, transferred: number): unknown {
  if (err instanceof SocketError && err.transferred === undefined) err.transferred = transferred;
  return err;
}

/**
 * Duplicates a descriptor; the copy is close-on-exec (F_DUPFD_CLOEXEC).
 *
 * @example
 * ```ts
 * import { dup } from "./zero_copy.ts";
 * import { libc } from "../ffi/libc.ts";
 * const copy = dup(1);
 * libc().close(copy);
 * ```
 */
export function dup(fd: number): number {
  validateFd(fd, "fd");
  return check(libc().fcntl(fd, C.F_DUPFD_CLOEXEC, 0), "dup");
}

/**
 * Makes `newFd` a close-on-exec copy of `oldFd` (closing whatever `newFd`
 * was, atomically). When both are equal, checks `oldFd` is open and returns
 * it. The caller must own `newFd`: any object that held it loses it.
 *
 * @example
 * ```ts
 * import { dup, dup2 } from "./zero_copy.ts";
 * import { libc } from "../ffi/libc.ts";
 * const spare = dup(1);
 * dup2(2, spare); // spare now writes to stderr
 * libc().close(spare);
 * ```
 */
export function dup2(oldFd: number, newFd: number): number {
  validateFd(oldFd, "old fd");
  validateFd(newFd, "new fd");
  const lib = libc();
  if (oldFd === newFd) {
    check(lib.fcntl(oldFd, C.F_GETFD, 0), "dup2");
    return newFd;
  }
  if (lib.dup3 !== undefined) return check(lib.dup3(oldFd, newFd, C.O_CLOEXEC), "dup3");
  check(lib.dup2(oldFd, newFd), "dup2");
  const flags = check(lib.fcntl(newFd, C.F_GETFD, 0), "fcntl");
  check(lib.fcntl(newFd, C.F_SETFD, flags | C.FD_CLOEXEC), "fcntl");
  return newFd;
}
