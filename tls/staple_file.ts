/**
 * `ocspResponseFile`: a stapled OCSP response kept in step with its file.
 * The file is read once when the context is made (it must exist and hold
 * DER); afterwards, when a client asks for a staple and at least
 * `refreshMs` passed since the last look, one `open` + `fstat` + `close`
 * checks whether its modification time or size changed, and only then is
 * it read again. No timer runs and nothing happens while nobody asks; a
 * file that vanished or holds something that is not an OCSP response keeps
 * the staple it replaces (the next look tries again). Where `struct stat`
 * is not known the content itself is compared.
 *
 * @example
 * ```ts ignore
 * const file = new StapleFile("/etc/ssl/ocsp/site.der", 10_000);
 * file.current(); // the DER bytes, re-read when the file changed
 * ```
 *
 * @module
 */
import { closeFile, fileStat, openFileRead } from "../ffi/file.ts";
import { readFileBytes } from "../ffi/read_file.ts";
import { checkStaple, MAX_OCSP_RESPONSE_BYTES } from "./ocsp.ts";

/**
 * Default `ocspRefreshMs`: the least time between two looks at the file.
 *
 * @example
 * ```ts
 * import { DEFAULT_OCSP_REFRESH_MS } from "./staple_file.ts";
 * console.log(DEFAULT_OCSP_REFRESH_MS); // 10000
 * ```
 */
export const DEFAULT_OCSP_REFRESH_MS = 10_000;

/**
 * An OCSP response file and the response last read from it (see the
 * module text).
 *
 * @example
 * ```ts ignore
 * const file = new StapleFile(path, 0); // look at every handshake that asks
 * console.log(file.current()?.length);
 * ```
 */
export class StapleFile {
  readonly path: string;
  readonly refreshMs: number;
  #staple: Uint8Array;
  /** mtime and size when last read ("" where fstat is not known). */
  #stamp: string;
  #lookedAt: number;

  /** Reads `path` now. @throws TypeError when it does not exist or is not a DER OCSP response. */
  constructor(path: string, refreshMs: number) {
    if (!Number.isSafeInteger(refreshMs) || refreshMs < 0) throw new RangeError(`ocspRefreshMs must be a non-negative integer of ms, got ${String(refreshMs)}`);
    this.path = path;
    this.refreshMs = refreshMs;
    const stamp = stampOf(path);
    const bytes = readFileBytes(path, MAX_OCSP_RESPONSE_BYTES);
    if (bytes === null) throw new TypeError(`TLSContext: ocspResponseFile ${JSON.stringify(path)} does not exist`);
    this.#staple = checkStaple(bytes);
    this.#stamp = stamp ?? "";
    this.#lookedAt = performance.now();
  }

  /** The response to staple: the file's, read again first when it changed and `refreshMs` passed. */
  current(): Uint8Array {
    const now = performance.now();
    if (now - this.#lookedAt < this.refreshMs) return this.#staple;
    this.#lookedAt = now;
    try {
      const stamp = stampOf(this.path);
      if (stamp === null) return this.#staple; // gone for now: keep the last one
      if (stamp !== "" && stamp === this.#stamp) return this.#staple;
      const bytes = readFileBytes(this.path, MAX_OCSP_RESPONSE_BYTES);
      if (bytes === null) return this.#staple;
      if (stamp === "" && sameBytes(bytes, this.#staple)) return this.#staple;
      this.#staple = checkStaple(bytes);
      this.#stamp = stamp;
    } catch {
      // unreadable or not DER: keep stapling the last good one
    }
    return this.#staple;
  }
}

/** "mtimeMs:size" of `path`, "" where fstat's layout is not known, null when it does not exist. */
function stampOf(path: string): string | null {
  const fd = openFileRead(path);
  if (fd === null) return null;
  try {
    const stat = fileStat(fd);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return "";
  } finally {
    closeFile(fd);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
