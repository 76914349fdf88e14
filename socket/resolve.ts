/**
 * Host name resolution for the synchronous sockets, through getaddrinfo(3).
 * Literals never reach getaddrinfo.
 *
 * Lookups honour a timeout (`timeoutMs`, default: the process-wide DNS
 * timeout of socket/timeouts.ts) where glibc's getaddrinfo_a exists: the
 * lookup runs on glibc's helper thread and the caller waits at most that
 * long (socket/resolve_deadline.ts). Elsewhere (macOS, musl) the blocking
 * getaddrinfo is used and the timeout is NOT enforced: the call takes as long
 * as the system resolver's own retries. {@link dnsTimeoutEnforced} tells
 * which applies; `requireTimeout: true` turns the fallback into an
 * UnsupportedError.
 *
 * @example
 * ```ts
 * import { resolveHost } from "./resolve.ts";
 * console.log(resolveHost("localhost", 80, { timeoutMs: 2000 })[0]?.port); // 80
 * ```
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { DNSError, SocketTimeoutError, UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { cString, readCString, readPointer } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { C, LAYOUT, errnoName } from "../ffi/platform.ts";
import type { Pointer } from "../ffi/types.ts";
import { checkPort, formatIPv6, isIP, parseIPv6 } from "./address.ts";
import { dnsTimeoutEnforced, lookupBefore } from "./resolve_deadline.ts";
import { decodeSockaddr, type IPv4SocketAddress, type IPv6SocketAddress } from "./sockaddr.ts";
import { checkTimeout, getDefaultTimeouts } from "./timeouts.ts";

export { dnsTimeoutEnforced, pendingLookupCount, reapPendingLookups } from "./resolve_deadline.ts";

/** An IP endpoint. */
export type InetSocketAddress = IPv4SocketAddress | IPv6SocketAddress;

/** Options of {@link resolveHost}. */
export interface ResolveOptions {
  /** Only this family (default: both). */
  readonly family?: "ipv4" | "ipv6";
  /** Addresses for bind (AI_PASSIVE): a null host then means the wildcard. */
  readonly passive?: boolean;
  /**
   * Longest wait for the lookup in ms (default: the process-wide `dnsMs`;
   * 0: no limit). Enforced only where {@link dnsTimeoutEnforced} is true.
   */
  readonly timeoutMs?: number;
  /** Throw UnsupportedError rather than fall back to an unbounded lookup. */
  readonly requireTimeout?: boolean;
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

/**
 * Whether the last label of `host` (a trailing dot aside) is a number,
 * decimal or `0x` hex: getaddrinfo would take the host for an IPv4 address
 * in a shorthand, octal or hex form (inet_aton), and no DNS name ends so.
 */
function endsInNumber(host: string): boolean {
  const labels = host.split(".");
  if (labels.length > 1 && labels[labels.length - 1] === "") labels.pop();
  return /^(?:[0-9]+|0[xX][0-9a-fA-F]*)$/.test(labels[labels.length - 1]!);
}

function gaiError(code: number, host: string, errno: number): DNSError {
  if (code === C.EAI_SYSTEM) {
    if (errno === 0) {
      return new DNSError("EAI_SYSTEM", `cannot resolve ${JSON.stringify(host)}: system error`, {
        syscall: "getaddrinfo_a",
      });
    }
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
 * without duplicates. IP literals are returned as they are. Waits at most
 * `options.timeoutMs` (default: the process-wide DNS timeout) where
 * {@link dnsTimeoutEnforced} is true; see the module notes for elsewhere.
 *
 * @throws TypeError for an empty or over-long host, or one that ends in a
 *   number without being a strict IPv4 literal (`127.1`, `1.2.3`,
 *   `010.0.0.1`, `0x7f.0.0.1`: the C library would read these as other
 *   addresses); DNSError ("ENOTFOUND",
 *   "EAI_AGAIN", …) when resolution fails; SocketTimeoutError (code
 *   "ETIMEDOUT", syscall "getaddrinfo_a") when the timeout passes;
 *   UnsupportedError with `requireTimeout` where timeouts are not enforced
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
  const timeoutMs = checkTimeout(options.timeoutMs ?? getDefaultTimeouts().dnsMs, "timeoutMs");
  const lit = literal(host, port);
  if (lit !== undefined) {
    if (options.family !== undefined && options.family !== lit.family) {
      throw new TypeError(`host ${JSON.stringify(host)} is not an ${options.family} address`);
    }
    return [lit];
  }
  if (endsInNumber(host)) throw new TypeError(`invalid IP address: ${JSON.stringify(host)} (IPv4 is a.b.c.d only)`);
  const hints = new Uint8Array(AI.size);
  const hv = new DataView(hints.buffer);
  const family = options.family === "ipv4" ? C.AF_INET : options.family === "ipv6" ? C.AF_INET6 : C.AF_UNSPEC;
  hv.setInt32(AI.flags, C.AI_NUMERICSERV | (options.passive ? C.AI_PASSIVE : 0), true);
  hv.setInt32(AI.family, family, true);
  hv.setInt32(AI.socktype, C.SOCK_STREAM, true);
  const name = cString(host);
  const service = cString(String(port));
  let out: InetSocketAddress[] | undefined;
  if (timeoutMs > 0 && dnsTimeoutEnforced()) {
    const r = lookupBefore(name, service, hints, monotonicMs() + timeoutMs, (head) => collect(head, port));
    if (r.status === "timeout") {
      throw new SocketTimeoutError(`resolving ${JSON.stringify(host)} timed out after ${timeoutMs} ms`, {
        syscall: "getaddrinfo_a",
      });
    }
    if (r.code !== 0) throw gaiError(r.code, host, r.errno);
    out = r.value;
  } else {
    if (timeoutMs > 0 && options.requireTimeout === true) {
      throw new UnsupportedError(
        "DNS lookups with a timeout",
        "getaddrinfo_a is missing (glibc only) or FFINET_DNS_BLOCKING=1 is set",
      );
    }
    out = blockingLookup(name, service, hints, host, port);
  }
  if (out === undefined || out.length === 0) throw new DNSError("ENOTFOUND", `no addresses for ${JSON.stringify(host)}`);
  return out;
}

/** getaddrinfo(3) on this thread: no timeout. */
function blockingLookup(
  name: Uint8Array,
  service: Uint8Array,
  hints: Uint8Array,
  host: string,
  port: number,
): InetSocketAddress[] {
  const result = new Uint8Array(8);
  const code = libc().getaddrinfo(name, service, hints, result);
  if (code !== 0) throw gaiError(code, host, code === C.EAI_SYSTEM ? native.errno() : 0);
  const head = readPointer(new DataView(result.buffer), 0);
  try {
    return collect(head, port);
  } finally {
    libc().freeaddrinfo(head);
  }
}

/** The distinct IP endpoints of an addrinfo list (which stays owned by the caller). */
function collect(head: Pointer | null, port: number): InetSocketAddress[] {
  const out: InetSocketAddress[] = [];
  const seen = new Set<string>();
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
  return out;
}
