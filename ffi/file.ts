/**
 * Files for serving them: canonical paths (`realpath`), opening read-only,
 * `fstat` (kind, size, modification time) and positional reads (`pread`),
 * through libc, so a static file server outside `ffi/` needs no runtime
 * file API (on Deno, `--allow-ffi` alone suffices).
 *
 * `struct stat` offsets are known for Linux x86-64 and arm64 (glibc ≥ 2.33
 * exports `fstat`) and Apple arm64 (untested); elsewhere {@link fileStat}
 * throws `UnsupportedError`.
 *
 * @example
 * ```ts
 * import { closeFile, fileStat, openFileRead, realPath } from "./file.ts";
 * const path = realPath("/etc/hostname");
 * if (path !== null) {
 *   const fd = openFileRead(path);
 *   if (fd !== null) {
 *     console.log(fileStat(fd).kind); // "file"
 *     closeFile(fd);
 *   }
 * }
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "./libc.ts";
import { cString, decodeCString } from "./marshal.ts";
import { native } from "./native.ts";
import { C, E } from "./platform.ts";

/** PATH_MAX on Linux (macOS: 1024), the size realpath(3) writes into. */
const PATH_MAX = 4096;

/**
 * What {@link fileStat} tells about an open file.
 *
 * @example
 * ```ts
 * import type { FileStat } from "./file.ts";
 * const s: FileStat = { kind: "file", size: 5, mtimeMs: 1_700_000_000_000 };
 * ```
 */
export interface FileStat {
  /** A regular file, a directory, or anything else (FIFO, device, socket). */
  readonly kind: "file" | "directory" | "other";
  /** Bytes (regular files). */
  readonly size: number;
  /** Last modification, in ms since the epoch (whole ms). */
  readonly mtimeMs: number;
}

interface StatLayout {
  size: number;
  /** st_dev: 8 bytes on Linux, 4 on macOS; st_ino is 8 bytes at offset 8 on all three. */
  devBytes: 4 | 8;
  mode: number;
  modeBytes: 2 | 4;
  stSize: number;
  mtimeSec: number;
  mtimeNsec: number;
}

const STAT_LAYOUTS: Record<string, StatLayout> = {
  "linux-x64": { size: 144, devBytes: 8, mode: 24, modeBytes: 4, stSize: 48, mtimeSec: 88, mtimeNsec: 96 },
  "linux-arm64": { size: 128, devBytes: 8, mode: 16, modeBytes: 4, stSize: 48, mtimeSec: 88, mtimeNsec: 96 },
  "darwin-arm64": { size: 144, devBytes: 4, mode: 4, modeBytes: 2, stSize: 96, mtimeSec: 48, mtimeNsec: 56 },
};

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

let statBuffer: Uint8Array | undefined;
let pathBuffer: Uint8Array | undefined;

function checkPath(path: string): void {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) throw new TypeError(`a file path must be a non-empty string without NUL, got ${JSON.stringify(path)}`);
}

/**
 * The canonical absolute path of `path` (every symbolic link, `.` and `..`
 * resolved), or null when it does not exist or cannot be reached (ENOENT,
 * ENOTDIR, EACCES, ELOOP, ENAMETOOLONG).
 *
 * @throws SocketError with the errno for other failures
 * @example
 * ```ts
 * import { realPath } from "./file.ts";
 * console.log(realPath("/nonexistent/x")); // null
 * ```
 */
export function realPath(path: string): string | null {
  checkPath(path);
  const out = (pathBuffer ??= new Uint8Array(PATH_MAX + 1));
  const result = libc().realpath(cString(path), out);
  if (result === null || native.address(result) === 0n) {
    const errno = native.errno();
    if (errno === E.ENOENT || errno === E.ENOTDIR || errno === E.EACCES || errno === E.ELOOP || errno === E.ENAMETOOLONG) return null;
    throw sysError(errno, "realpath", path);
  }
  return decodeCString(out);
}

/**
 * Opens `path` read-only (close-on-exec, non-blocking so a FIFO never
 * hangs the opener); null when it does not exist or may not be read
 * (ENOENT, ENOTDIR, EACCES, ELOOP).
 *
 * @throws SocketError with the errno for other failures
 * @example
 * ```ts
 * import { openFileRead } from "./file.ts";
 * console.log(openFileRead("/nonexistent/x")); // null
 * ```
 */
export function openFileRead(path: string): number | null {
  checkPath(path);
  const lib = libc();
  for (;;) {
    const fd = lib.open(cString(path), C.O_RDONLY | C.O_CLOEXEC | C.O_NONBLOCK, 0);
    if (fd >= 0) return fd;
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    if (errno === E.ENOENT || errno === E.ENOTDIR || errno === E.EACCES || errno === E.ELOOP || errno === E.ENXIO) return null;
    throw sysError(errno, "open", path);
  }
}

/**
 * `fstat(2)` of an open descriptor.
 *
 * @throws UnsupportedError where the `struct stat` layout is not known
 * @example
 * ```ts
 * import { closeFile, fileStat, openFileRead } from "./file.ts";
 * const fd = openFileRead("/etc/hostname");
 * if (fd !== null) {
 *   console.log(fileStat(fd).size >= 0); // true
 *   closeFile(fd);
 * }
 * ```
 */
export function fileStat(fd: number): FileStat {
  const layout = STAT_LAYOUTS[`${native.os}-${native.arch}`];
  const call = libc().fstat;
  if (layout === undefined || call === undefined) throw new UnsupportedError("fstat", `struct stat is not known on ${native.os}-${native.arch}`);
  const buf = (statBuffer ??= new Uint8Array(256));
  buf.fill(0, 0, layout.size);
  if (call(fd, buf) !== 0) throw sysError(native.errno(), "fstat");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const mode = layout.modeBytes === 2 ? view.getUint16(layout.mode, true) : view.getUint32(layout.mode, true);
  const type = mode & S_IFMT;
  const size = Number(view.getBigInt64(layout.stSize, true));
  const sec = Number(view.getBigInt64(layout.mtimeSec, true));
  const nsec = Number(view.getBigInt64(layout.mtimeNsec, true));
  return {
    kind: type === S_IFREG ? "file" : type === S_IFDIR ? "directory" : "other",
    size,
    mtimeMs: sec * 1000 + Math.floor(nsec / 1e6),
  };
}

/**
 * What names the file at `path` itself (its device and inode, as
 * `"dev:ino"`; a symbolic link is not followed), or null when nothing is
 * there, it cannot be reached, or this platform's `lstat` or `struct stat`
 * is not known. Two readings are equal only for the same file: a file
 * removed and made again at the path reads differently.
 *
 * @example
 * ```ts
 * import { pathIdentity } from "./file.ts";
 * console.log(pathIdentity("/nonexistent/x")); // null
 * console.log(pathIdentity("/") === pathIdentity("/")); // true
 * ```
 */
export function pathIdentity(path: string): string | null {
  checkPath(path);
  const layout = STAT_LAYOUTS[`${native.os}-${native.arch}`];
  const call = libc().lstat;
  if (layout === undefined || call === undefined) return null;
  const buf = (statBuffer ??= new Uint8Array(256));
  buf.fill(0, 0, layout.size);
  if (call(cString(path), buf) !== 0) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dev = layout.devBytes === 8 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true));
  return `${dev}:${view.getBigUint64(8, true)}`;
}

/**
 * Reads into `buffer` from file offset `offset` until it is full or the
 * file ends (`pread(2)`, retried on EINTR); returns the bytes read.
 *
 * @example
 * ```ts
 * import { closeFile, openFileRead, readFileAt } from "./file.ts";
 * const fd = openFileRead("/etc/hostname");
 * if (fd !== null) {
 *   const n = readFileAt(fd, new Uint8Array(4), 0);
 *   console.log(n <= 4); // true
 *   closeFile(fd);
 * }
 * ```
 */
export function readFileAt(fd: number, buffer: Uint8Array, offset: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${String(offset)}`);
  const lib = libc();
  let done = 0;
  while (done < buffer.length) {
    const want = Math.min(buffer.length - done, 0x40000000);
    const n = lib.pread(fd, done === 0 ? buffer : buffer.subarray(done), want, offset + done);
    if (n < 0) {
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      throw sysError(errno, "pread");
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Closes a descriptor from {@link openFileRead}.
 *
 * @example
 * ```ts
 * import { closeFile, openFileRead } from "./file.ts";
 * const fd = openFileRead("/etc/hostname");
 * if (fd !== null) closeFile(fd);
 * ```
 */
export function closeFile(fd: number): void {
  libc().close(fd);
}
