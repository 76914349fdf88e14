/**
 * Datagram endpoints: encoding a `(host, port)` target for a UDP socket of a
 * given family, and the shape of a received datagram.
 *
 * An IPv4 literal sent from an IPv6 socket becomes `::ffff:a.b.c.d` (the
 * dual-stack form); an IPv6 literal cannot be reached from an IPv4 socket.
 *
 * @module
 */
import { parseIP } from "./address.ts";
import { encodeIPv4, encodeIPv6, zoneToScopeId } from "./sockaddr.ts";

/** The address family of a UDP socket. */
export type DgramFamily = "ipv4" | "ipv6";

/** One datagram as received. */
export interface ReceivedDatagram {
  /** Bytes stored in the buffer. */
  readonly bytes: number;
  /** The datagram's full size; larger than `bytes` when it was truncated. */
  readonly size: number;
  /** The datagram did not fit in the buffer; the rest was discarded (MSG_TRUNC). */
  readonly truncated: boolean;
  /** Sender address (an IP literal, with a zone for link-local IPv6). */
  readonly host: string;
  /** Sender port. */
  readonly port: number;
}

/**
 * Writes the sockaddr for sending to `host:port` from a socket of `family`
 * into `out`; returns its length.
 *
 * @throws TypeError naming an invalid host or one the family cannot reach;
 *   RangeError for a bad port
 *
 * @example
 * ```ts
 * import { encodeTarget } from "./dgram_target.ts";
 * const out = new Uint8Array(128);
 * console.log(encodeTarget("ipv6", "127.0.0.1", 53, out)); // 28 (::ffff:127.0.0.1)
 * ```
 */
export function encodeTarget(family: DgramFamily, host: string, port: number, out: Uint8Array): number {
  const ip = parseIP(host);
  if (family === "ipv4") {
    if (ip.family === 6) {
      throw new TypeError(`an IPv4 socket cannot send to the IPv6 address ${JSON.stringify(host)}`);
    }
    return encodeIPv4(out, ip.bytes, port);
  }
  if (ip.family === 4) {
    const mapped = new Uint8Array(16);
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    mapped.set(ip.bytes, 12);
    return encodeIPv6(out, mapped, port);
  }
  return encodeIPv6(out, ip.bytes, port, ip.zone === undefined ? 0 : zoneToScopeId(ip.zone));
}
