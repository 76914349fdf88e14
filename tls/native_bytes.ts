/**
 * Bytes and strings out of OpenSSL's memory without a view of it: a view
 * of native memory (`native.view`) costs 7–14 µs on each runtime (an
 * external ArrayBuffer the garbage collector then tracks), a `memcpy` into
 * a fresh Uint8Array about one FFI call. The connection-close path reads
 * what was negotiated (version, cipher, group, ALPN, the peer's
 * certificate, the client's session) on every connection, so these add up:
 * strings OpenSSL keeps for the life of the process (version and cipher
 * names) are read once per address, and DER encodings are made with
 * OpenSSL allocating the buffer (`i2d_*(x, &p)` with `p == NULL`), copied
 * out and freed, instead of sizing, allocating, encoding and viewing.
 *
 * @example
 * ```ts ignore
 * import { staticString } from "./native_bytes.ts";
 * const version = staticString(libssl().SSL_get_version(ssl)); // "TLSv1.3", read once per process
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { libcrypto } from "../ffi/libcrypto.ts";
import { cString, readPointer } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import type { Pointer } from "../ffi/types.ts";

const decoder = new TextDecoder();

/**
 * A copy of `length` bytes at `pointer` (one `memcpy`).
 *
 * @example
 * ```ts ignore
 * const bytes = copyNative(pointer, 16);
 * ```
 */
export function copyNative(pointer: Pointer, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (length > 0) libc().memcpy(out, pointer, length);
  return out;
}

/**
 * The NUL-terminated string at `pointer` (at most `maxBytes` long), "" for
 * NULL: `strnlen` and `memcpy`.
 *
 * @example
 * ```ts ignore
 * const name = nativeString(libssl().SSL_get_servername(ssl, 0), 256);
 * ```
 */
export function nativeString(pointer: Pointer | null, maxBytes = 65536): string {
  if (pointer === null) return "";
  const length = Number(libc().strnlen(pointer, maxBytes));
  return length === 0 ? "" : decoder.decode(copyNative(pointer, length));
}

/** Strings OpenSSL never frees, by address; a handful in practice, capped all the same. */
const staticStrings = new Map<bigint, string>();
const STATIC_STRINGS_MAX = 256;

/**
 * A string that lives as long as the process at `pointer` (OpenSSL's
 * version and cipher names: static tables), read once per address.
 * Only for such strings: a string freed and its memory reused would be
 * read stale.
 *
 * @example
 * ```ts ignore
 * const cipher = staticString(libssl().SSL_CIPHER_get_name(c));
 * ```
 */
export function staticString(pointer: Pointer | null): string {
  if (pointer === null) return "";
  const address = native.address(pointer);
  let text = staticStrings.get(address);
  if (text === undefined) {
    text = nativeString(pointer, 256);
    if (staticStrings.size >= STATIC_STRINGS_MAX) staticStrings.clear();
    staticStrings.set(address, text);
  }
  return text;
}

const NO_FILE = cString("");

/**
 * The DER encoding an `i2d_*` function makes of `object`, with OpenSSL
 * allocating the buffer (`*out == NULL`: it then points `*out` at the
 * start of it), copied out and freed: three native calls, no view. null
 * when encoding fails.
 *
 * @example
 * ```ts ignore
 * const der = encodeDER((x, out) => libcrypto().i2d_X509(x, out), x509);
 * ```
 */
export function encodeDER(encode: (object: Pointer, out: Uint8Array) => number, object: Pointer): Uint8Array | null {
  const out = new Uint8Array(8); // a NULL pointer: OpenSSL allocates
  const length = encode(object, out);
  const buffer = readPointer(new DataView(out.buffer), 0);
  if (buffer === null) return null;
  try {
    return length > 0 ? copyNative(buffer, length) : null;
  } finally {
    libcrypto().CRYPTO_free(buffer, NO_FILE, 0);
  }
}
