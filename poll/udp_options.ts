/**
 * Options, shapes and limits of the async UDP socket ({@link bindUDP} in
 * `udp.ts`), and the synchronous setup they describe: one non-blocking
 * {@link Dgram}, configured, bound and optionally connected.
 *
 * @example
 * ```ts
 * import { openDgram } from "./udp_options.ts";
 * const dgram = openDgram({ host: "127.0.0.1", port: 0, broadcast: true });
 * console.log(dgram.nonBlocking, dgram.getBroadcast()); // true true
 * dgram.close();
 * ```
 *
 * @module
 */
import { checkOptions } from "../core/options.ts";
import { checkPort, isIPv6 } from "../socket/address.ts";
import { Dgram, type DgramFamily, type MulticastInterface } from "../socket/dgram.ts";
import type { Loop } from "./loop.ts";
import type { UdpSocket } from "./udp.ts";

/**
 * Default bounds of an async UDP socket (each an option of {@link BindUDPOptions}).
 *
 * @example
 * ```ts
 * import { UDP_LIMITS } from "./udp_options.ts";
 * console.log(UDP_LIMITS.maxQueuedDatagrams); // 128
 * ```
 */
export const UDP_LIMITS: Readonly<{ maxDatagramBytes: number; maxQueuedDatagrams: number; maxPendingSends: number }> = Object.freeze({
  /** Bytes received per datagram (larger ones are truncated): every IPv4/IPv6 UDP payload fits. */
  maxDatagramBytes: 65535,
  /** Datagrams (and receive errors) held for `recv()`; at this bound the socket stops reading and the kernel's buffer fills, then drops. */
  maxQueuedDatagrams: 128,
  /** Sends waiting for the kernel to take them (`send`/`sendBatch` calls); one more rejects with ERR_UDP_SEND_QUEUE_FULL. */
  maxPendingSends: 1024,
});

/** Where a datagram goes: an IP literal and a port. */
export interface UdpTarget {
  /** An IPv4 or IPv6 literal (an IPv4 one from an IPv6 socket is sent as `::ffff:a.b.c.d`). */
  readonly host: string;
  /** The port. */
  readonly port: number;
}

/** Where a datagram came from (also a valid {@link UdpTarget}, to answer it). */
export interface UdpAddress extends UdpTarget {
  /** The sender's family (`"ipv6"` for `::ffff:a.b.c.d` on a dual-stack socket). */
  readonly family: DgramFamily;
}

/** One received datagram, as `recv()` and async iteration give it (its own copy). */
export interface UdpDatagram {
  /** The payload (at most `maxDatagramBytes`). */
  readonly data: Uint8Array;
  /** The sender. */
  readonly address: UdpAddress;
  /** The datagram was larger than `maxDatagramBytes` and the rest was discarded. */
  readonly truncated: boolean;
}

/**
 * Handler mode: callbacks run on the loop as datagrams arrive (no Promise
 * per datagram, batched receives). Use `trySend` to answer without a
 * Promise.
 */
export interface UdpHandler {
  /**
   * A datagram arrived. Unless the socket was opened with `copy: true`,
   * `data` is a view of a receive buffer that the socket reuses for the
   * next datagrams: it is valid only during this call, so copy
   * (`data.slice()`) what you keep. `address` is a fresh object.
   */
  message(socket: UdpSocket, data: Uint8Array, address: UdpAddress, truncated: boolean): void;
  /** Receiving failed (e.g. ECONNREFUSED on a connected socket after an ICMP error); the socket stays open. Default: the loop's `onError`. */
  error?(socket: UdpSocket, error: Error): void;
  /** The socket can take datagrams again after `trySend` returned false. */
  drain?(socket: UdpSocket): void;
  /** The socket closed. */
  close?(socket: UdpSocket): void;
}

/** A multicast group to join at bind time, optionally on one interface. */
export interface MulticastMembership {
  /** The group address. */
  readonly group: string;
  /** The interface: a name (`"lo"`), an index, or for IPv4 a local address. */
  readonly iface?: MulticastInterface;
}

/** Options of {@link bindUDP} (unknown keys are a TypeError). */
export interface BindUDPOptions {
  /** Local IP literal; `null`/absent binds every address (`0.0.0.0`, or `::` for IPv6). */
  host?: string | null;
  /** Local port (default 0: the kernel picks; see `localAddress`). */
  port?: number;
  /** Family when `host` is absent (default: the `connect` target's, else `"ipv4"`). */
  family?: DgramFamily;
  /** SO_REUSEADDR before binding (several receivers of one multicast port). */
  reuseAddress?: boolean;
  /** SO_REUSEPORT before binding (load-balanced receivers in several Workers or processes). */
  reusePort?: boolean;
  /** IPv6 only: refuse IPv4-mapped traffic (IPV6_V6ONLY). Default: the system's. */
  ipv6Only?: boolean;
  /** SO_BROADCAST: allow sending to broadcast addresses. */
  broadcast?: boolean;
  /** Unicast TTL / hop limit (1–255). */
  ttl?: number;
  /** Groups to join after binding. */
  multicastGroups?: readonly (string | MulticastMembership)[];
  /** The interface outgoing multicast leaves by. */
  multicastInterface?: MulticastInterface;
  /** Multicast TTL / hop limit (0–255; 1 stays on the link). */
  multicastTTL?: number;
  /** Whether our own multicast comes back to local members (default on). */
  multicastLoopback?: boolean;
  /** SO_RCVBUF in bytes (the kernel's queue; it drops what does not fit). */
  recvBufferBytes?: number;
  /** SO_SNDBUF in bytes. */
  sendBufferBytes?: number;
  /** Connected UDP: `send` without a target goes there, and the kernel drops datagrams from anyone else. */
  connect?: UdpTarget;
  /** Handler mode (see {@link UdpHandler}); without it, use `recv`, `recvBatch` or async iteration. */
  handler?: UdpHandler;
  /** Handler mode: give `message` its own copy of each datagram instead of a reused view (default false). */
  copy?: boolean;
  /** Bytes received per datagram; larger ones are truncated (default {@link UDP_LIMITS}.maxDatagramBytes). */
  maxDatagramBytes?: number;
  /** Without a handler: datagrams held for `recv()` (default {@link UDP_LIMITS}.maxQueuedDatagrams). */
  maxQueuedDatagrams?: number;
  /** Sends waiting for room in the kernel (default {@link UDP_LIMITS}.maxPendingSends). */
  maxPendingSends?: number;
  /** The loop (default: `defaultLoop()`). */
  loop?: Loop;
}

/** Options of {@link adoptUDP}: those that do not set up the socket. */
export type AdoptUDPOptions = Pick<BindUDPOptions, "handler" | "copy" | "maxDatagramBytes" | "maxQueuedDatagrams" | "maxPendingSends" | "loop">;

/** Every key of {@link BindUDPOptions}, once (the compiler checks the list is complete). */
const BIND_KEYS = {
  host: true, port: true, family: true, reuseAddress: true, reusePort: true, ipv6Only: true, broadcast: true,
  ttl: true, multicastGroups: true, multicastInterface: true, multicastTTL: true, multicastLoopback: true,
  recvBufferBytes: true, sendBufferBytes: true, connect: true, handler: true, copy: true,
  maxDatagramBytes: true, maxQueuedDatagrams: true, maxPendingSends: true, loop: true,
} as const satisfies Record<keyof BindUDPOptions, true>;
const ADOPT_KEYS = {
  handler: true, copy: true, maxDatagramBytes: true, maxQueuedDatagrams: true, maxPendingSends: true, loop: true,
} as const satisfies Record<keyof AdoptUDPOptions, true>;

/**
 * The keys {@link bindUDP} takes.
 *
 * @example
 * ```ts
 * import { BIND_UDP_OPTION_KEYS } from "./udp_options.ts";
 * console.log(BIND_UDP_OPTION_KEYS.has("reusePort")); // true
 * ```
 */
export const BIND_UDP_OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys(BIND_KEYS));
/**
 * The keys {@link adoptUDP} takes.
 *
 * @example
 * ```ts
 * import { ADOPT_UDP_OPTION_KEYS } from "./udp_options.ts";
 * console.log(ADOPT_UDP_OPTION_KEYS.has("port")); // false
 * ```
 */
export const ADOPT_UDP_OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys(ADOPT_KEYS));
const TARGET_KEYS: ReadonlySet<string> = new Set(["host", "port", "family"]);

/** The bounds of one socket, checked. */
export interface UdpBounds {
  /** See {@link BindUDPOptions.maxDatagramBytes}. */
  readonly maxDatagramBytes: number;
  /** See {@link BindUDPOptions.maxQueuedDatagrams}. */
  readonly maxQueuedDatagrams: number;
  /** See {@link BindUDPOptions.maxPendingSends}. */
  readonly maxPendingSends: number;
}

function positiveInteger(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer 1–${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks the bounds and the handler of `options` and fills in defaults.
 *
 * @example
 * ```ts
 * import { udpBounds } from "./udp_options.ts";
 * console.log(udpBounds({ maxQueuedDatagrams: 16 }).maxQueuedDatagrams); // 16
 * ```
 */
export function udpBounds(options: AdoptUDPOptions): UdpBounds {
  const handler = options.handler;
  if (handler !== undefined && (handler === null || typeof handler.message !== "function")) {
    throw new TypeError("a UDP handler needs a message(socket, data, address) function");
  }
  if (options.copy !== undefined && typeof options.copy !== "boolean") throw new TypeError(`copy must be a boolean, got ${typeof options.copy}`);
  return {
    maxDatagramBytes: positiveInteger(options.maxDatagramBytes, UDP_LIMITS.maxDatagramBytes, "maxDatagramBytes", 65535),
    maxQueuedDatagrams: positiveInteger(options.maxQueuedDatagrams, UDP_LIMITS.maxQueuedDatagrams, "maxQueuedDatagrams"),
    maxPendingSends: positiveInteger(options.maxPendingSends, UDP_LIMITS.maxPendingSends, "maxPendingSends"),
  };
}

/**
 * Checks the keys of `options` for `where` (`"bindUDP"` or `"adoptUDP"`).
 *
 * @example
 * ```ts
 * import { checkUDPOptions } from "./udp_options.ts";
 * checkUDPOptions({ port: 0 }, "bindUDP");
 * ```
 */
export function checkUDPOptions(options: unknown, where: "bindUDP" | "adoptUDP"): void {
  checkOptions(options, where === "bindUDP" ? BIND_UDP_OPTION_KEYS : ADOPT_UDP_OPTION_KEYS, where);
  if (where === "bindUDP") checkOptions((options as BindUDPOptions | undefined)?.connect, TARGET_KEYS, "bindUDP connect");
}

function familyOf(options: BindUDPOptions): DgramFamily {
  const host = options.host ?? null;
  const implied: DgramFamily | undefined = host !== null
    ? (isIPv6(host) ? "ipv6" : "ipv4")
    : options.connect !== undefined ? (isIPv6(options.connect.host) ? "ipv6" : "ipv4") : undefined;
  const family = options.family ?? implied ?? "ipv4";
  if (options.family !== undefined && host !== null && implied !== family) {
    throw new TypeError(`bindUDP: family ${JSON.stringify(options.family)} does not match the host ${JSON.stringify(host)}`);
  }
  return family;
}

/**
 * Creates the non-blocking {@link Dgram} that `options` describe: socket
 * options, bind, multicast memberships, then connect. The socket is closed
 * again when any step fails.
 *
 * @example
 * ```ts
 * import { openDgram } from "./udp_options.ts";
 * const dgram = openDgram({ host: "::1", connect: { host: "::1", port: 9 } });
 * console.log(dgram.remoteAddress().port); // 9
 * dgram.close();
 * ```
 */
export function openDgram(options: BindUDPOptions): Dgram {
  const host = options.host ?? null;
  const port = checkPort(options.port ?? 0);
  const family = familyOf(options);
  const createOptions: { nonBlocking: boolean; reuseAddr?: boolean; reusePort?: boolean; v6Only?: boolean } = { nonBlocking: true };
  if (options.reuseAddress !== undefined) createOptions.reuseAddr = options.reuseAddress;
  if (options.reusePort !== undefined) createOptions.reusePort = options.reusePort;
  if (options.ipv6Only !== undefined) createOptions.v6Only = options.ipv6Only;
  const dgram = Dgram.create(family, createOptions);
  try {
    if (options.broadcast !== undefined) dgram.setBroadcast(options.broadcast);
    if (options.ttl !== undefined) dgram.setTTL(options.ttl);
    if (options.multicastInterface !== undefined) dgram.setMulticastInterface(options.multicastInterface);
    if (options.multicastTTL !== undefined) dgram.setMulticastTTL(options.multicastTTL);
    if (options.multicastLoopback !== undefined) dgram.setMulticastLoopback(options.multicastLoopback);
    if (options.recvBufferBytes !== undefined) dgram.setReceiveBufferSize(options.recvBufferBytes);
    if (options.sendBufferBytes !== undefined) dgram.setSendBufferSize(options.sendBufferBytes);
    dgram.bind(host, port);
    for (const m of options.multicastGroups ?? []) {
      if (typeof m === "string") dgram.joinMulticast(m);
      else dgram.joinMulticast(m.group, m.iface);
    }
    if (options.connect !== undefined) {
      const target = options.connect;
      if (target === null || typeof target !== "object") throw new TypeError("bindUDP: connect must be { host, port }");
      dgram.connect(target.host, target.port);
    }
  } catch (err) {
    dgram.close();
    throw err;
  }
  return dgram;
}
