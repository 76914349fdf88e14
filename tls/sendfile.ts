/**
 * `tlsSendfile`: sends part of an open file over a TLS connection. With
 * kernel TLS active for sending (`ktls: true` and a kernel with the `tls`
 * module, `tlsInfo(conn).ktlsSend`), the bytes go file → socket inside the
 * kernel (`SSL_sendfile`), encrypted there, never copied through user
 * space; whatever the socket does not take at once (and every byte
 * without kTLS) is read with `pread` and written through the connection,
 * so the call works the same everywhere and only the copy differs.
 *
 * @example
 * ```ts ignore
 * import { openSync } from "node:fs";
 * import { tlsSendfile } from "./sendfile.ts";
 * const fd = openSync("big.bin", "r");
 * const sent = await tlsSendfile(conn, fd, 0, 1 << 30);
 * ```
 *
 * @module
 */
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import type { Connection } from "../poll/connection.ts";
import { tlsInfo } from "./connect_async.ts";
import { FAILED, TLSEngine, WANT_WRITE } from "./engine.ts";

/** Bytes per `pread` on the copying path. */
const COPY_CHUNK = 256 * 1024;
/** Bytes per `SSL_sendfile` call (the kernel takes what fits in the socket buffer). */
const KERNEL_CHUNK = 1 << 30;

function checkCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`tlsSendfile: ${name} must be a non-negative integer, got ${String(value)}`);
}

/**
 * Sends `count` bytes of `fileFd` from `offset` over the TLS connection
 * `conn` (fewer when the file ends first); resolves with the bytes sent
 * once the connection took them all (like `conn.write`).
 *
 * @throws TypeError for a connection that is not TLS, RangeError for a bad
 *   offset or count, SocketError for a failed `pread`, the connection's
 *   write errors
 *
 * @example
 * ```ts ignore
 * const n = await tlsSendfile(conn, fileFd, 0, size);
 * console.log(n === size, tlsInfo(conn)!.ktlsSend); // kTLS: zero-copy
 * ```
 */
export async function tlsSendfile(conn: Connection, fileFd: number, offset: number, count: number): Promise<number> {
  const engine = tlsInfo(conn);
  if (!(engine instanceof TLSEngine)) throw new TypeError("tlsSendfile: not a TLS connection");
  if (!Number.isInteger(fileFd) || fileFd < 0) throw new TypeError(`tlsSendfile: fileFd must be a descriptor, got ${String(fileFd)}`);
  checkCount(offset, "offset");
  checkCount(count, "count");
  let sent = 0;
  // The kernel path only while nothing waits in the connection's queue
  // (the bytes must not overtake earlier writes).
  while (engine.ktlsSend && sent < count && conn.bufferedAmount === 0 && !engine.freed) {
    const n = engine.sendfile(fileFd, offset + sent, Math.min(count - sent, KERNEL_CHUNK));
    if (n === WANT_WRITE) break;
    if (n === FAILED) throw engine.takeError();
    sent += n;
  }
  const lib = libc();
  while (sent < count) {
    const chunk = new Uint8Array(Math.min(count - sent, COPY_CHUNK));
    const got = lib.pread(fileFd, chunk, chunk.length, offset + sent);
    if (got < 0) throw sysError(native.errno(), "pread");
    if (got === 0) break; // end of file
    await conn.write(got === chunk.length ? chunk : chunk.subarray(0, got));
    sent += got;
  }
  return sent;
}
