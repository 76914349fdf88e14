/**
 * Host name resolution for the synchronous sockets, through getaddrinfo(3).
 * Literals never reach getaddrinfo. The call blocks the thread and cannot be
 * interrupted, so the DNS timeout is not enforced here; the `dns/` resolver
 * replaces this where timeouts matter.
 *
 * @example
 * ```ts
 * import { resolveHost } from "./resolve.ts";
 * console.log(resolveHost("localhost", 80)[0]?.port); // 80
 * ```
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { cString, readCString, readPointer } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { C, LAYOUT, errnoName } from "../ffi/platform.ts";
import { checkPort, formatIPv6, isIP, parseIPv6 } from "./address.ts";
import { decodeSockaddr, type IPv4SocketAddress, type IPv6SocketAddress } from "./sockaddr.ts";

/** An IP endpoint. */
export type InetSocketAddress = IPv4SocketAddress | IPv6SocketAddress;

/** Options of {@link resolveHost}. */
export interface ResolveOptions {
  /** Only this family (default: both). */
  readonly family?: "ipv4" | "ipv6";
  /** Addresses for bind (AI_PASSIVE): a null host then means the wildcard. */
  readonly passive?: boolean;
}

const AI = LAYOUT.addrinfo;
const MAX_HOST = 253;

function literal(host: string, port: number): InetSocketAddress | undefined {
  const kind = isIP(host);
  if (kind === 4) return { family: "ipv4", host, port };
  if (kind === 6) {
    const { bytes, zone } = parseIPv6(host);
    // Canonical spelling: the kernel's answer would look the same.
    return { family: "ipv6", host: formatIPv6(bytes, zone), port };
  }
  return undefined;
}

function gaiError(code: number, host: string): DNSError {
  if (code === C.EAI_SYSTEM) {
    const errno = native.errno();
    return new DNSError(errnoName(errno), `getaddrinfo(${JSON.stringify(host)}) failed: ${errnoName(errno)}`, {
      errno,
      syscall: "getaddrinfo",
    });
  }
  const name = code === C.EAI_NONAME || code === C.EAI_NODATA
    ? "ENOTFOUND"
    : code === C.EAI_AGAIN
    ? "EAI_AGAIN"
    : code === C.EAI_FAMILY || code === C.EAI_ADDRFAMILY
    ? "EAI_FAMILY"
    : "EAI_FAIL";
  const text = readCString(libc().gai_strerror(code), 256);
  return new DNSError(name, `cannot resolve ${JSON.stringify(host)}: ${text}`, { syscall: "getaddrinfo" });
}

/**
 * Resolves `host` to IP endpoints with `port`, in getaddrinfo's order,
 * without duplicates. IP literals are returned as they are.
 *
 * @throws TypeError for an empty or over-long host; DNSError ("ENOTFOUND",
 *   "EAI_AGAIN", …) when resolution fails
 *
 * @example
 * ```ts
 * import { resolveHost } from "./resolve.ts";
 * const [first] = resolveHost("127.0.0.1", 8080);
 * console.log(first); // { family: "ipv4", host: "127.0.0.1", port: 8080 }
 * ```
 */
export function resolveHost(host: string, port: number, options: ResolveOptions = {}): InetSocketAddress[] {
  checkPort(port);
  if (typeof host !== "string" || host.length === 0 || host.length > MAX_HOST || host.includes("\0")) {
    throw new TypeError(`invalid host: ${JSON.stringify(host)}`);
  }
  const lit = literal(host, port);
  if (lit !== undefined) {
    if (options.family !== undefined && options.family !== lit.family) {
      throw new TypeError(`host ${JSON.stringify(host)} is not an ${options.family} address`);
    }
    return [lit];
  }
  const hints = new Uint8Array(AI.size);
  const hv = new DataView(hints.buffer);
  const family = options.family === "ipv4" ? C.AF_INET : options.family === "ipv6" ? C.AF_INET6 : C.AF_UNSPEC;
  hv.setInt32(AI.flags, C.AI_NUMERICSERV | (options.passive ? C.AI_PASSIVE : 0), true);
  hv.setInt32(AI.family, family, true);
  hv.setInt32(AI.socktype, C.SOCK_STREAM, true);
  const result = new Uint8Array(8);
  const code = libc().getaddrinfo(cString(host), cString(String(port)), hints, result);
  if (code !== 0) throw gaiError(code, host);
  const head = readPointer(new DataView(result.buffer), 0);
  const out: InetSocketAddress[] = [];
  const seen = new Set<string>();
  try {
    let node = head;
    for (let guard = 0; node !== null && guard < 256; guard++) {
      const v = new DataView(native.view(node, AI.size));
      const len = v.getUint32(AI.addrlen, true);
      const addrPointer = readPointer(v, AI.addr);
      if (addrPointer !== null && len > 0 && len <= LAYOUT.sockaddr_storage.size) {
        const copy = new Uint8Array(native.view(addrPointer, len).slice(0));
        const addr = decodeSockaddr(copy, len);
        if (addr.family !== "unix") {
          const key = `${addr.family}|${addr.host}`;
          if (!seen.has(key)) {
            seen.add(key);
            out.push(addr.family === "ipv4" ? { family: "ipv4", host: addr.host, port } : { ...addr, port });
          }
        }
      }
      node = readPointer(v, AI.next);
    }
  } finally {
    libc().freeaddrinfo(head);
  }
  if (out.length === 0) throw new DNSError("ENOTFOUND", `no addresses for ${JSON.stringify(host)}`);
  return out;
}

