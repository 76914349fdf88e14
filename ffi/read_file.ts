/**
 * Reading a small configuration file (`/etc/resolv.conf`, `/etc/hosts`)
 * through libc `open`/`read`/`close`, so library code outside `ffi/` needs
 * no runtime file API (on Deno, `--allow-ffi` alone suffices).
 *
 * @example
 * ```ts
 * import { readFileBytes } from "./read_file.ts";
 * console.log(readFileBytes("/nonexistent/file", 1024)); // null
 * ```
 *
 * @module
 */
import { LimitError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import { libc } from "./libc.ts";
import { cString } from "./marshal.ts";
import { native } from "./native.ts";
import { C, E } from "./platform.ts";

/**
 * The whole file at `path`, or null when it does not exist (ENOENT,
 * ENOTDIR). Reads with a blocking `read(2)` (configuration files only,
 * never a FIFO or device you cannot afford to wait on).
 *
 * @param path the file
 * @param maxBytes the most it may hold
 * @throws LimitError `ERR_FILE_TOO_LARGE` past `maxBytes`; SocketError
 *   with the errno for other failures (EACCES, EISDIR …)
 *
 * @example
 * ```ts
 * import { readFileBytes } from "./read_file.ts";
 * const bytes = readFileBytes("/etc/hostname", 4096);
 * console.log(bytes === null || bytes instanceof Uint8Array); // true
 * ```
 */
export function readFileBytes(path: string, maxBytes: number): Uint8Array | null {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) throw new TypeError(`a file path must be a non-empty string without NUL, got ${JSON.stringify(path)}`);
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${String(maxBytes)}`);
  const lib = libc();
  let fd: number;
  for (;;) {
    fd = lib.open(cString(path), C.O_RDONLY | C.O_CLOEXEC, 0);
    if (fd >= 0) break;
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    if (errno === E.ENOENT || errno === E.ENOTDIR) return null;
    throw sysError(errno, "open", path);
  }
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const chunk = new Uint8Array(Math.min(65536, maxBytes + 1));
    for (;;) {
      const n = lib.read(fd, chunk, chunk.length);
      if (n < 0) {
        const errno = native.errno();
        if (errno === E.EINTR) continue;
        throw sysError(errno, "read", path);
      }
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new LimitError("ERR_FILE_TOO_LARGE", `${path} is larger than ${maxBytes} bytes`, maxBytes);
      chunks.push(chunk.slice(0, n));
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    lib.close(fd);
  }
}
