/**
 * sockaddr_in / sockaddr_in6 / sockaddr_un encoding and decoding with the
 * platform's {@link LAYOUT} (BSD `sin_len` included), into caller-supplied or
 * reusable buffers.
 *
 * Unix paths: a filesystem path, or on Linux an abstract name written
 * `"@name"` (a NUL first byte on the wire); `""` is an unnamed socket.
 * IPv6 zones: `%2` (an interface index) or `%lo` (a name, resolved with
 * if_nametoindex); decoded addresses carry the interface name when it can be
 * found, else the index.
 *
 * @example
 * ```ts
 * import { decodeSockaddr, encodeSockaddr, SockaddrBuffer } from "./sockaddr.ts";
 * const buf = new SockaddrBuffer();
 * const len = encodeSockaddr({ family: "ipv6", host: "::1", port: 80 }, buf.bytes);
 * console.log(decodeSockaddr(buf.bytes, len)); // { family: "ipv6", host: "::1", port: 80, ... }
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { cString, decodeCString } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import { checkPort, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./address.ts";

/** An IPv4 endpoint. */
export interface IPv4SocketAddress {
  /** Always "ipv4". */
  readonly family: "ipv4";
  /** Dotted-quad literal. */
  readonly host: string;
  /** Port, 0–65535. */
  readonly port: number;
}

/** An IPv6 endpoint. */
export interface IPv6SocketAddress {
  /** Always "ipv6". */
  readonly family: "ipv6";
  /** RFC 5952 literal, with `%zone` when the scope id is not 0. */
  readonly host: string;
  /** Port, 0–65535. */
  readonly port: number;
  /** sin6_flowinfo (host order); 0 when omitted. */
  readonly flowInfo?: number;
  /** sin6_scope_id; taken from the host's zone when omitted. */
  readonly scopeId?: number;
}

/** A Unix-domain endpoint: a path, `"@name"` (Linux abstract) or `""` (unnamed). */
export interface UnixSocketAddress {
  /** Always "unix". */
  readonly family: "unix";
  /** The path, `"@name"` for an abstract name, `""` when unnamed. */
  readonly path: string;
}

/** Any endpoint ffinet sockets use. */
export type SocketAddress = IPv4SocketAddress | IPv6SocketAddress | UnixSocketAddress;

/** The `family` spelling of {@link SocketAddress}. */
export type AddressFamily = SocketAddress["family"];

const IN = LAYOUT.sockaddr_in;
const IN6 = LAYOUT.sockaddr_in6;
const UN = LAYOUT.sockaddr_un;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The C `AF_*` value of a family name.
 *
 * @example
 * ```ts
 * import { familyConstant } from "./sockaddr.ts";
 * console.log(familyConstant("ipv4"), familyConstant("ipv6")); // 2 10 on Linux (30 for ipv6 on macOS)
 * ```
 */
export function familyConstant(family: AddressFamily): number {
  if (family === "ipv4") return C.AF_INET;
  if (family === "ipv6") return C.AF_INET6;
  if (family === "unix") return C.AF_UNIX;
  throw new TypeError(`unknown address family: ${String(family)}`);
}

/**
 * A reusable sockaddr_storage plus a socklen_t cell, for calls that fill in
 * an address (accept, recvfrom, getsockname, getpeername). Reusing one avoids
 * an allocation per call.
 *
 * @example
 * ```ts
 * import { SockaddrBuffer } from "./sockaddr.ts";
 * const buf = new SockaddrBuffer();
 * buf.resetLength(); // before each call that writes an address
 * console.log(buf.bytes.length); // 128
 * ```
 */
export class SockaddrBuffer {
  /** sockaddr_storage bytes. */
  readonly bytes: Uint8Array = new Uint8Array(LAYOUT.sockaddr_storage.size);
  /** socklen_t, as bytes for a `buffer` parameter. */
  readonly lengthBytes: Uint8Array = new Uint8Array(4);
  readonly #length = new Uint32Array(this.lengthBytes.buffer);

  /** Sets the length cell to the storage size; call before each kernel call. */
  resetLength(): Uint8Array {
    this.#length[0] = this.bytes.length;
    return this.lengthBytes;
  }

  /** The length the kernel wrote. */
  get length(): number {
    return this.#length[0]!;
  }

  /** Decodes what the kernel wrote. */
  decode(): SocketAddress {
    return decodeSockaddr(this.bytes, Math.min(this.length, this.bytes.length));
  }
}

function writeFamily(view: DataView, offset: number, family: number, size: number): void {
  if (LAYOUT.sockaddrHasLen) {
    view.setUint8(0, size);
    view.setUint8(offset, family);
  } else {
    view.setUint16(offset, family, true);
  }
}

function readFamily(view: DataView): number {
  return LAYOUT.sockaddrHasLen ? view.getUint8(IN.family) : view.getUint16(IN.family, true);
}

function viewOf(out: Uint8Array): DataView {
  return new DataView(out.buffer, out.byteOffset, out.byteLength);
}

function need(out: Uint8Array, size: number, what: string): void {
  if (out.byteLength < size) throw new RangeError(`${what} needs ${size} bytes, the buffer has ${out.byteLength}`);
}

/**
 * Writes a sockaddr_in for 4 address bytes and a port; returns its length.
 *
 * @example
 * ```ts
 * import { encodeIPv4 } from "./sockaddr.ts";
 * const out = new Uint8Array(16);
 * console.log(encodeIPv4(out, new Uint8Array([127, 0, 0, 1]), 80)); // 16
 * ```
 */
export function encodeIPv4(out: Uint8Array, addr: Uint8Array, port: number): number {
  checkPort(port);
  need(out, IN.size, "sockaddr_in");
  out.fill(0, 0, IN.size);
  const view = viewOf(out);
  writeFamily(view, IN.family, C.AF_INET, IN.size);
  view.setUint16(IN.port, port, false);
  out.set(addr.subarray(0, 4), IN.addr);
  return IN.size;
}

/**
 * Writes a sockaddr_in6; returns its length.
 *
 * @example
 * ```ts
 * import { encodeIPv6 } from "./sockaddr.ts";
 * const out = new Uint8Array(28);
 * console.log(encodeIPv6(out, new Uint8Array(16), 443)); // 28
 * ```
 */
export function encodeIPv6(out: Uint8Array, addr: Uint8Array, port: number, scopeId = 0, flowInfo = 0): number {
  checkPort(port);
  if (!Number.isInteger(scopeId) || scopeId < 0 || scopeId > 0xffffffff) {
    throw new RangeError(`scopeId must be a u32, got ${scopeId}`);
  }
  if (!Number.isInteger(flowInfo) || flowInfo < 0 || flowInfo > 0xfffff) {
    throw new RangeError(`flowInfo must be a 20-bit integer, got ${flowInfo}`);
  }
  need(out, IN6.size, "sockaddr_in6");
  out.fill(0, 0, IN6.size);
  const view = viewOf(out);
  writeFamily(view, IN6.family, C.AF_INET6, IN6.size);
  view.setUint16(IN6.port, port, false);
  view.setUint32(IN6.flowinfo, flowInfo, false);
  out.set(addr.subarray(0, 16), IN6.addr);
  view.setUint32(IN6.scopeId, scopeId, true);
  return IN6.size;
}

/**
 * Resolves an IPv6 zone to a scope id: digits are an index, anything else an
 * interface name looked up with if_nametoindex.
 *
 * @throws TypeError when the interface does not exist
 *
 * @example
 * ```ts
 * import { zoneToScopeId } from "./sockaddr.ts";
 * console.log(zoneToScopeId("1"), zoneToScopeId("lo") > 0); // 1 true
 * ```
 */
export function zoneToScopeId(zone: string): number {
  if (/^[0-9]{1,10}$/.test(zone)) {
    const n = Number(zone);
    if (n > 0xffffffff) throw new RangeError(`IPv6 zone index out of range: ${zone}`);
    return n;
  }
  const index = libc().if_nametoindex(cString(zone));
  if (index === 0) throw new TypeError(`unknown network interface in IPv6 zone: ${JSON.stringify(zone)}`);
  return index;
}

const ifName = new Uint8Array(64);

/**
 * The interface name of a scope id, or its digits when there is none.
 *
 * @example
 * ```ts
 * import { scopeIdToZone } from "./sockaddr.ts";
 * console.log(scopeIdToZone(1)); // "lo" on most Linux systems
 * ```
 */
export function scopeIdToZone(scopeId: number): string {
  const p = libc().if_indextoname(scopeId, ifName);
  if (p === null || native.address(p) === 0n) return String(scopeId);
  const name = decodeCString(ifName);
  return name.length > 0 ? name : String(scopeId);
}

/**
 * Writes a sockaddr_un; returns its length. `"@name"` is a Linux abstract
 * name (no trailing NUL, the length counts the name); other paths get a NUL
 * terminator and must fit sun_path; `""` is the family alone (bound on
 * Linux, the kernel picks an abstract name: autobind). A NUL in a path is
 * refused, a leading one too (`"\0name"`: write `"@name"`).
 *
 * @throws TypeError for a NUL in the path; RangeError when it is too long;
 *   UnsupportedError for an abstract name off Linux
 *
 * @example
 * ```ts
 * import { encodeUnix } from "./sockaddr.ts";
 * const out = new Uint8Array(110);
 * console.log(encodeUnix(out, "/tmp/x.sock")); // 14 on Linux
 * ```
 */
export function encodeUnix(out: Uint8Array, path: string): number {
  if (typeof path !== "string") throw new TypeError(`a Unix socket path must be a string, got ${typeof path}`);
  need(out, UN.size, "sockaddr_un");
  out.fill(0, 0, UN.size);
  const view = viewOf(out);
  const abstract = path.startsWith("@");
  if (abstract && native.os !== "linux") {
    throw new UnsupportedError("abstract Unix socket names", "they exist only on Linux");
  }
  const name = abstract ? path.slice(1) : path;
  if (!abstract && name.includes("\0")) {
    const hint = path.startsWith("\0") ? ` (write ${JSON.stringify(`@${path.slice(1)}`)} for a Linux abstract name)` : "";
    throw new TypeError(`a Unix socket path cannot contain NUL${hint}: ${JSON.stringify(path)}`);
  }
  const bytes = encoder.encode(name);
  const room = UN.pathSize - 1; // abstract: one leading NUL; path: one trailing NUL
  if (bytes.length > room) {
    throw new RangeError(`Unix socket path is ${bytes.length} bytes, the limit is ${room}: ${JSON.stringify(path)}`);
  }
  out.set(bytes, UN.path + (abstract ? 1 : 0));
  const length = path.length === 0 ? UN.path : UN.path + 1 + bytes.length;
  writeFamily(view, UN.family, C.AF_UNIX, length);
  return length;
}

/**
 * Writes any {@link SocketAddress} whose host is a literal; returns the
 * length.
 *
 * @throws TypeError naming an invalid host or path, RangeError for a bad port
 *
 * @example
 * ```ts
 * import { encodeSockaddr } from "./sockaddr.ts";
 * const out = new Uint8Array(128);
 * console.log(encodeSockaddr({ family: "ipv4", host: "127.0.0.1", port: 1 }, out)); // 16
 * ```
 */
export function encodeSockaddr(addr: SocketAddress, out: Uint8Array): number {
  if (addr.family === "ipv4") return encodeIPv4(out, parseIPv4(addr.host), addr.port);
  if (addr.family === "ipv6") {
    const { bytes, zone } = parseIPv6(addr.host);
    const scope = addr.scopeId ?? (zone === undefined ? 0 : zoneToScopeId(zone));
    return encodeIPv6(out, bytes, addr.port, scope, addr.flowInfo ?? 0);
  }
  if (addr.family === "unix") return encodeUnix(out, addr.path);
  throw new TypeError(`unknown address family: ${String((addr as { family: unknown }).family)}`);
}

/**
 * The address family (`AF_*`) of an encoded sockaddr.
 *
 * @example
 * ```ts
 * import { encodeIPv4, sockaddrFamily } from "./sockaddr.ts";
 * const out = new Uint8Array(16);
 * encodeIPv4(out, new Uint8Array(4), 0);
 * console.log(sockaddrFamily(out)); // 2 on Linux (AF_INET)
 * ```
 */
export function sockaddrFamily(bytes: Uint8Array): number {
  return readFamily(viewOf(bytes));
}

/**
 * Reads the port of an encoded sockaddr_in/in6 without allocating.
 *
 * @example
 * ```ts
 * import { encodeIPv4, sockaddrPort } from "./sockaddr.ts";
 * const out = new Uint8Array(16);
 * encodeIPv4(out, new Uint8Array(4), 8080);
 * console.log(sockaddrPort(out)); // 8080
 * ```
 */
export function sockaddrPort(bytes: Uint8Array): number {
  return viewOf(bytes).getUint16(IN.port, false);
}

/**
 * Decodes a sockaddr the kernel wrote (`length` is the socklen_t it
 * returned).
 *
 * @throws TypeError for a family other than AF_INET, AF_INET6, AF_UNIX
 *
 * @example
 * ```ts
 * import { decodeSockaddr, encodeIPv4 } from "./sockaddr.ts";
 * const out = new Uint8Array(16);
 * const len = encodeIPv4(out, new Uint8Array([10, 0, 0, 1]), 53);
 * console.log(decodeSockaddr(out, len)); // { family: "ipv4", host: "10.0.0.1", port: 53 }
 * ```
 */
export function decodeSockaddr(bytes: Uint8Array, length: number): SocketAddress {
  const view = viewOf(bytes);
  const family = length < 2 ? C.AF_UNSPEC : readFamily(view);
  if (family === C.AF_INET && length >= IN.size) {
    return { family: "ipv4", host: formatIPv4(bytes, IN.addr), port: view.getUint16(IN.port, false) };
  }
  if (family === C.AF_INET6 && length >= IN6.size) {
    const scopeId = view.getUint32(IN6.scopeId, true);
    const zone = scopeId === 0 ? undefined : scopeIdToZone(scopeId);
    return {
      family: "ipv6",
      host: formatIPv6(bytes, zone, IN6.addr),
      port: view.getUint16(IN6.port, false),
      flowInfo: view.getUint32(IN6.flowinfo, false),
      scopeId,
    };
  }
  if (family === C.AF_UNIX || (family === C.AF_UNSPEC && length <= UN.path)) {
    const end = Math.min(length, UN.size);
    if (end <= UN.path) return { family: "unix", path: "" };
    if (bytes[UN.path] === 0) {
      return { family: "unix", path: "@" + decoder.decode(bytes.subarray(UN.path + 1, end)) };
    }
    return { family: "unix", path: decodeCString(bytes.subarray(UN.path, end)) };
  }
  throw new TypeError(`unsupported address family ${family} (length ${length})`);
}

/**
 * A human-readable form: `host:port`, `[v6]:port` or the Unix path.
 *
 * @example
 * ```ts
 * import { formatSocketAddress } from "./sockaddr.ts";
 * console.log(formatSocketAddress({ family: "ipv6", host: "::1", port: 80 })); // "[::1]:80"
 * ```
 */
export function formatSocketAddress(addr: SocketAddress): string {
  if (addr.family === "unix") return addr.path === "" ? "(unnamed)" : addr.path;
  return addr.family === "ipv6" ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}
