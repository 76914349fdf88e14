/**
 * Multicast membership and sending options for UDP descriptors (IPv4
 * IP_ADD_MEMBERSHIP with `ip_mreqn`, IPv6 IPV6_JOIN_GROUP with
 * `ipv6_mreq`), plus the integer socket options a datagram socket uses.
 *
 * An interface is chosen by name (`"lo"`), by index, or for IPv4 by the
 * address of a local interface (`"127.0.0.1"`); omitted, the kernel picks
 * one from the routing table.
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { check } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { cString } from "../ffi/marshal.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import { isIPv4, parseIP } from "./address.ts";
import type { DgramFamily } from "./dgram_target.ts";

/** A network interface: its name, its index, or (IPv4) one of its addresses. */
export type MulticastInterface = string | number;

const intCell = new Int32Array(1);
const intBytes = new Uint8Array(intCell.buffer);
const lenCell = new Uint32Array(1);
const lenBytes = new Uint8Array(lenCell.buffer);

/**
 * Sets an `int` socket option.
 *
 * @example
 * ```ts
 * import { setIntOption } from "./dgram_multicast.ts";
 * import { C } from "../ffi/platform.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync(null, 0);
 * setIntOption(s.fd, C.SOL_SOCKET, C.SO_BROADCAST, 1, "SO_BROADCAST");
 * ```
 */
export function setIntOption(fd: number, level: number, name: number, value: number, what: string): void {
  intCell[0] = value;
  check(libc().setsockopt(fd, level, name, intBytes, 4), `setsockopt(${what})`);
}

/**
 * Reads an `int` socket option (a one-byte answer is read as a byte).
 *
 * @example
 * ```ts
 * import { getIntOption } from "./dgram_multicast.ts";
 * import { C } from "../ffi/platform.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync(null, 0);
 * console.log(getIntOption(s.fd, C.SOL_SOCKET, C.SO_RCVBUF, "SO_RCVBUF"));
 * ```
 */
export function getIntOption(fd: number, level: number, name: number, what: string): number {
  intCell[0] = 0;
  lenCell[0] = 4;
  check(libc().getsockopt(fd, level, name, intBytes, lenBytes), `getsockopt(${what})`);
  return lenCell[0] === 1 ? intBytes[0]! : intCell[0]!;
}

/**
 * The index of an interface given by name or index; 0 for "any".
 *
 * @throws TypeError naming an unknown interface, RangeError for a bad index
 *
 * @example
 * ```ts
 * import { interfaceIndex } from "./dgram_multicast.ts";
 * console.log(interfaceIndex("lo") > 0); // true on Linux
 * ```
 */
export function interfaceIndex(iface: MulticastInterface | undefined): number {
  if (iface === undefined) return 0;
  if (typeof iface === "number") {
    if (!Number.isInteger(iface) || iface < 0 || iface > 0xffffffff) {
      throw new RangeError(`interface index must be a u32, got ${iface}`);
    }
    return iface;
  }
  if (typeof iface !== "string" || iface.length === 0 || iface.length >= C.IFNAMSIZ) {
    throw new TypeError(`invalid network interface: ${JSON.stringify(iface)}`);
  }
  const index = libc().if_nametoindex(cString(iface));
  if (index === 0) throw new TypeError(`unknown network interface: ${JSON.stringify(iface)}`);
  return index;
}

/** ip_mreqn for an IPv4 group and interface. */
function ipMreqn(group: Uint8Array, iface: MulticastInterface | undefined): Uint8Array {
  const m = LAYOUT.ip_mreqn;
  if (m.size === 0) throw new UnsupportedError("IPv4 multicast", "ip_mreqn is not described for this platform");
  const out = new Uint8Array(m.size);
  out.set(group, m.multiaddr);
  if (typeof iface === "string" && isIPv4(iface)) {
    out.set(parseIP(iface).bytes, m.address);
  } else {
    new DataView(out.buffer).setInt32(m.ifindex, interfaceIndex(iface), true);
  }
  return out;
}

function multicastGroup(group: string, socketFamily: DgramFamily): { family: 4 | 6; bytes: Uint8Array } {
  const ip = parseIP(group);
  const isMulticast = ip.family === 4 ? (ip.bytes[0]! & 0xf0) === 0xe0 : ip.bytes[0] === 0xff;
  if (!isMulticast) throw new TypeError(`not a multicast address: ${JSON.stringify(group)}`);
  if (ip.family === 6 && socketFamily === "ipv4") {
    throw new TypeError(`an IPv4 socket cannot join the IPv6 group ${JSON.stringify(group)}`);
  }
  return ip;
}

function membership(
  fd: number,
  socketFamily: DgramFamily,
  group: string,
  iface: MulticastInterface | undefined,
  join: boolean,
): void {
  const ip = multicastGroup(group, socketFamily);
  const verb = join ? "join" : "leave";
  if (ip.family === 4) {
    if (typeof iface === "string" && !isIPv4(iface)) interfaceIndex(iface); // name it in the error
    const req = ipMreqn(ip.bytes, iface);
    const name = join ? C.IP_ADD_MEMBERSHIP : C.IP_DROP_MEMBERSHIP;
    check(libc().setsockopt(fd, C.IPPROTO_IP, name, req, req.length), `setsockopt(${verb} ${group})`);
    return;
  }
  if (typeof iface === "string" && isIPv4(iface)) {
    throw new TypeError(`an IPv6 group needs an interface name or index, got ${JSON.stringify(iface)}`);
  }
  const m = LAYOUT.ipv6_mreq;
  const req = new Uint8Array(m.size);
  req.set(ip.bytes, m.multiaddr);
  new DataView(req.buffer).setUint32(m.ifindex, interfaceIndex(iface), true);
  const name = join ? C.IPV6_JOIN_GROUP : C.IPV6_LEAVE_GROUP;
  check(libc().setsockopt(fd, C.IPPROTO_IPV6, name, req, req.length), `setsockopt(${verb} ${group})`);
}

/**
 * Joins a multicast group on an interface.
 *
 * @example
 * ```ts
 * import { joinMulticast } from "./dgram_multicast.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync(null, 0);
 * joinMulticast(s.fd, "ipv4", "224.0.0.251", "lo");
 * ```
 */
export function joinMulticast(
  fd: number,
  socketFamily: DgramFamily,
  group: string,
  iface?: MulticastInterface,
): void {
  membership(fd, socketFamily, group, iface, true);
}

/**
 * Leaves a multicast group joined with {@link joinMulticast}.
 *
 * @example
 * ```ts
 * import { joinMulticast, leaveMulticast } from "./dgram_multicast.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync(null, 0);
 * joinMulticast(s.fd, "ipv4", "224.0.0.251", "lo");
 * leaveMulticast(s.fd, "ipv4", "224.0.0.251", "lo");
 * ```
 */
export function leaveMulticast(
  fd: number,
  socketFamily: DgramFamily,
  group: string,
  iface?: MulticastInterface,
): void {
  membership(fd, socketFamily, group, iface, false);
}

/**
 * Chooses the interface outgoing multicast leaves by.
 *
 * @example
 * ```ts
 * import { setMulticastInterface } from "./dgram_multicast.ts";
 * import { bindUDPSync } from "./dgram.ts";
 * using s = bindUDPSync("::1", 0);
 * setMulticastInterface(s.fd, "ipv6", "lo");
 * ```
 */
export function setMulticastInterface(fd: number, socketFamily: DgramFamily, iface: MulticastInterface): void {
  if (socketFamily === "ipv4") {
    const req = ipMreqn(new Uint8Array(4), iface);
    check(libc().setsockopt(fd, C.IPPROTO_IP, C.IP_MULTICAST_IF, req, req.length), "setsockopt(IP_MULTICAST_IF)");
    return;
  }
  if (typeof iface === "string" && isIPv4(iface)) {
    throw new TypeError(`an IPv6 socket needs an interface name or index, got ${JSON.stringify(iface)}`);
  }
  setIntOption(fd, C.IPPROTO_IPV6, C.IPV6_MULTICAST_IF, interfaceIndex(iface), "IPV6_MULTICAST_IF");
}
