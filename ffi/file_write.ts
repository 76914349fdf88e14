/**
 * Writing files through libc `open`/`write`/`lseek`, so library code
 * outside `ffi/` (downloads to disk) needs no runtime file API. Writes are
 * blocking `write(2)` calls on regular files; close with `closeFile` from
 * file.ts.
 *
 * @example
 * ```ts
 * import { closeFile } from "./file.ts";
 * import { fileEnd, openFileWrite, writeFileAll } from "./file_write.ts";
 * const fd = openFileWrite("/tmp/ffinet-file-write-example", "truncate");
 * writeFileAll(fd, new TextEncoder().encode("hello"));
 * console.log(fileEnd(fd)); // 5
 * closeFile(fd);
 * ```
 *
 * @module
 */
import { sysError } from "../core/sys_error.ts";
import { libc } from "./libc.ts";
import { cString } from "./marshal.ts";
import { native } from "./native.ts";
import { C, E } from "./platform.ts";

/**
 * How {@link openFileWrite} opens: `"truncate"` empties (or creates) the
 * file, `"append"` keeps what is there and writes after it (or creates).
 *
 * @example
 * ```ts
 * import type { FileWriteMode } from "./file_write.ts";
 * const mode: FileWriteMode = "append";
 * console.log(mode);
 * ```
 */
export type FileWriteMode = "truncate" | "append";

/**
 * Opens `path` for writing (created with mode 0644 when missing,
 * close-on-exec).
 *
 * @throws TypeError for a bad path or mode; SocketError with the errno
 *   (ENOENT for a missing directory, EACCES, EISDIR …)
 * @example
 * ```ts
 * import { closeFile } from "./file.ts";
 * import { openFileWrite } from "./file_write.ts";
 * closeFile(openFileWrite("/tmp/ffinet-open-write-example", "truncate"));
 * ```
 */
export function openFileWrite(path: string, mode: FileWriteMode): number {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) throw new TypeError(`a file path must be a non-empty string without NUL, got ${JSON.stringify(path)}`);
  if (mode !== "truncate" && mode !== "append") throw new TypeError(`mode must be "truncate" or "append", got ${String(mode)}`);
  const flags = C.O_WRONLY | C.O_CREAT | C.O_CLOEXEC | (mode === "truncate" ? C.O_TRUNC : C.O_APPEND);
  const lib = libc();
  for (;;) {
    const fd = lib.open(cString(path), flags, 0o644);
    if (fd >= 0) return fd;
    const errno = native.errno();
    if (errno === E.EINTR) continue;
    throw sysError(errno, "open", path);
  }
}

/**
 * Writes all of `bytes` to `fd` (retrying short writes and EINTR).
 *
 * @throws SocketError with the errno (ENOSPC, EBADF …)
 * @example
 * ```ts
 * import { closeFile } from "./file.ts";
 * import { openFileWrite, writeFileAll } from "./file_write.ts";
 * const fd = openFileWrite("/tmp/ffinet-write-all-example", "append");
 * writeFileAll(fd, new Uint8Array([1, 2, 3]));
 * closeFile(fd);
 * ```
 */
export function writeFileAll(fd: number, bytes: Uint8Array): void {
  const lib = libc();
  let done = 0;
  while (done < bytes.length) {
    const want = Math.min(bytes.length - done, 0x40000000);
    const n = lib.write(fd, done === 0 ? bytes : bytes.subarray(done), want);
    if (n < 0) {
      const errno = native.errno();
      if (errno === E.EINTR) continue;
      throw sysError(errno, "write");
    }
    done += n;
  }
}

/**
 * The size of the open file `fd` (its end, by `lseek(SEEK_END)`; the
 * position moves there, which appending writes do anyway).
 *
 * @throws SocketError with the errno (ESPIPE for a pipe …)
 * @example
 * ```ts
 * import { closeFile } from "./file.ts";
 * import { fileEnd, openFileWrite } from "./file_write.ts";
 * const fd = openFileWrite("/tmp/ffinet-file-end-example", "truncate");
 * console.log(fileEnd(fd)); // 0
 * closeFile(fd);
 * ```
 */
export function fileEnd(fd: number): number {
  const end = Number(libc().lseek(fd, 0, C.SEEK_END));
  if (end < 0) throw sysError(native.errno(), "lseek");
  return end;
}
