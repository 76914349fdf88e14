/**
 * The shape every proxy handshake shares: an I/O-free state machine that
 * produces bytes to send (`takeOutput()`) and is fed the proxy's bytes
 * (`push(chunk)`), until `done`. Glue (blocking in `sync.ts`, on the loop in
 * `tunnel.ts`) moves the bytes; the machines never touch a socket, a timer
 * or a runtime global.
 *
 * Contract of `push`: it consumes bytes up to the end of the reply it
 * waits for and returns how many. When that is less than the chunk, the
 * caller sends `takeOutput()` (the next request) and pushes the rest
 * again; once `done`, the rest is the first bytes of the tunnel (the target
 * spoke first). So glue that peeks (MSG_PEEK) and then receives exactly
 * the consumed count leaves the tunnel bytes in the kernel for whoever
 * reads next (a Connection, or OpenSSL on the fd), and any split of the
 * proxy's bytes gives the same outcome.
 *
 * @example
 * ```ts
 * import type { ProxyHandshake } from "./handshake.ts";
 * function drive(h: ProxyHandshake, reply: Uint8Array): Uint8Array {
 *   h.takeOutput(); // the request: send it
 *   const used = h.push(reply);
 *   return reply.subarray(used); // tunnel bytes, once h.done
 * }
 * console.log(typeof drive);
 * ```
 *
 * @module
 */
import { ProxyError } from "../../core/errors.ts";

/**
 * An I/O-free proxy handshake (see the module documentation).
 *
 * @example
 * ```ts
 * import { Socks5Handshake } from "./socks5.ts";
 * import type { ProxyHandshake } from "./handshake.ts";
 * const h: ProxyHandshake = new Socks5Handshake({ host: "127.0.0.1", port: 80 });
 * console.log(h.takeOutput()); // Uint8Array [5, 1, 0]
 * ```
 */
export interface ProxyHandshake {
  /** True once the tunnel is open. */
  readonly done: boolean;
  /**
   * What the handshake waits for now, for error messages ("the SOCKS5
   * method selection", "the CONNECT response head"): a timeout names it.
   */
  readonly phase?: string;
  /** Bytes to send now (null: nothing; wait for the proxy). */
  takeOutput(): Uint8Array | null;
  /**
   * Feeds the proxy's bytes; returns how many were consumed (up to the
   * end of the current reply).
   *
   * @throws ProxyError for a refusal or garbage (the machine stays failed)
   */
  push(chunk: Uint8Array): number;
  /**
   * The proxy closed the connection.
   *
   * @throws ProxyError `ERR_PROXY_CLOSED` unless the handshake is done
   */
  end(): void;
}

/**
 * Where the tunnel goes: the target host (IP literal or name) and port.
 *
 * @example
 * ```ts
 * import type { ProxyTarget } from "./handshake.ts";
 * const target: ProxyTarget = { host: "example.com", port: 443 };
 * console.log(target.port);
 * ```
 */
export interface ProxyTarget {
  /** IP literal or host name. */
  readonly host: string;
  /** TCP port, 1–65535. */
  readonly port: number;
}

/**
 * @internal Checks a target port.
 *
 * @example
 * ```ts
 * import { checkTargetPort } from "./handshake.ts";
 * checkTargetPort(443, "Socks5Handshake");
 * ```
 */
export function checkTargetPort(port: unknown, where: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`${where}: port must be an integer in 1..65535, got ${String(port)}`);
  }
  return port;
}

/**
 * @internal The error for a proxy that closed before the handshake ended.
 *
 * @example
 * ```ts
 * import { closedError } from "./handshake.ts";
 * console.log(closedError("SOCKS5", "the method reply").code); // ERR_PROXY_CLOSED
 * ```
 */
export function closedError(kind: string, during: string): ProxyError {
  return new ProxyError("ERR_PROXY_CLOSED", `${kind} proxy closed the connection during ${during}`);
}

/**
 * @internal The error for bytes that are no valid reply.
 *
 * @example
 * ```ts
 * import { protocolError } from "./handshake.ts";
 * console.log(protocolError("SOCKS5", "version 4 in the reply").code); // ERR_PROXY_PROTOCOL
 * ```
 */
export function protocolError(kind: string, what: string): ProxyError {
  return new ProxyError("ERR_PROXY_PROTOCOL", `${kind} proxy sent an invalid reply: ${what}`);
}

/**
 * @internal A fixed-size reply assembled over any number of pushes.
 *
 * @example
 * ```ts
 * import { ReplyBuffer } from "./handshake.ts";
 * const r = new ReplyBuffer(2);
 * console.log(r.fill(new Uint8Array([5]), 0), r.complete); // 1 false
 * ```
 */
export class ReplyBuffer {
  /** The bytes so far (the first `length`). */
  bytes: Uint8Array;
  /** How many bytes have arrived. */
  length = 0;
  /** How many bytes the reply has (may grow once a length field is known). */
  need: number;
  constructor(need: number) {
    this.need = need;
    this.bytes = new Uint8Array(need);
  }
  /** Takes what the reply still needs from `chunk[from..]`; returns the count taken. */
  fill(chunk: Uint8Array, from: number): number {
    const take = Math.min(this.need - this.length, chunk.length - from);
    if (take <= 0) return 0;
    if (this.length + take > this.bytes.length) {
      const grown = new Uint8Array(this.need);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk.subarray(from, from + take), this.length);
    this.length += take;
    return take;
  }
  /** Raises the expected size (a length field was read). */
  grow(need: number): void {
    this.need = need;
  }
  /** Starts a new reply of `need` bytes. */
  reset(need: number): void {
    this.need = need;
    this.length = 0;
    if (this.bytes.length < need) this.bytes = new Uint8Array(need);
  }
  /** True once `need` bytes have arrived. */
  get complete(): boolean {
    return this.length >= this.need;
  }
}
