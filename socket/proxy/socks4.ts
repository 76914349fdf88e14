/**
 * The SOCKS4 and SOCKS4a client handshakes, I/O-free. SOCKS4 connects to
 * an IPv4 literal (resolve names first); SOCKS4a sends a name for the proxy
 * to resolve (`0.0.0.1` as the address, then the name). The reply is 8
 * bytes; CD 90 opens the tunnel, 91–93 are `ProxyError`s with stable codes
 * (see {@link SOCKS4_REPLY_CODES}), anything else `ERR_PROXY_PROTOCOL`.
 *
 * @example
 * ```ts
 * import { Socks4Handshake } from "./socks4.ts";
 * const h = new Socks4Handshake({ host: "example.com", port: 80, remoteResolve: true });
 * h.takeOutput(); // [4, 1, 0, 80, 0, 0, 0, 1, 0, ...example.com, 0]
 * h.push(new Uint8Array([0, 90, 0, 0, 0, 0, 0, 0]));
 * console.log(h.done); // true
 * ```
 *
 * @module
 */
import { ProxyError } from "../../core/errors.ts";
import { isIPv4, parseIPv4 } from "../address.ts";
import { checkTargetPort, closedError, protocolError, type ProxyHandshake, type ProxyTarget, ReplyBuffer } from "./handshake.ts";

/**
 * The stable error code of each SOCKS4 refusal (CD).
 *
 * @example
 * ```ts
 * import { SOCKS4_REPLY_CODES } from "./socks4.ts";
 * console.log(SOCKS4_REPLY_CODES[91]); // ERR_SOCKS4_REJECTED
 * ```
 */
export const SOCKS4_REPLY_CODES: Readonly<Record<number, string>> = Object.freeze({
  91: "ERR_SOCKS4_REJECTED",
  92: "ERR_SOCKS4_IDENTD_UNREACHABLE",
  93: "ERR_SOCKS4_IDENTD_MISMATCH",
});

const REPLY_TEXT: Readonly<Record<number, string>> = {
  91: "request rejected or failed",
  92: "the proxy cannot reach identd on the client",
  93: "identd reported a different user id",
};

/** Options of a {@link Socks4Handshake}. */
export interface Socks4HandshakeOptions extends ProxyTarget {
  /** The USERID field (default empty; no NUL, at most 255 bytes). */
  readonly userId?: string;
  /** SOCKS4a: a host that is not an IPv4 literal is sent for the proxy to resolve (default false). */
  readonly remoteResolve?: boolean;
}

const encoder = new TextEncoder();

function field(value: string, name: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length > 255 || bytes.includes(0)) throw new RangeError(`Socks4Handshake: ${name} must be at most 255 bytes without NUL`);
  return bytes;
}

/**
 * A SOCKS4 / SOCKS4a client handshake (see the module documentation).
 *
 * @example
 * ```ts
 * import { Socks4Handshake } from "./socks4.ts";
 * const h = new Socks4Handshake({ host: "10.0.0.1", port: 22 });
 * console.log(h.takeOutput()); // Uint8Array [4, 1, 0, 22, 10, 0, 0, 1, 0]
 * ```
 */
export class Socks4Handshake implements ProxyHandshake {
  #output: Uint8Array | null;
  readonly #reply = new ReplyBuffer(8);
  #done = false;
  #error: ProxyError | null = null;

  /** Prepares the SOCKS4 (or SOCKS4a with `remoteResolve`) CONNECT request for `host:port`; throws TypeError for bad options. */
  constructor(options: Socks4HandshakeOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("Socks4Handshake: options must be an object");
    const { host, userId = "", remoteResolve = false } = options;
    const port = checkTargetPort(options.port, "Socks4Handshake");
    if (typeof host !== "string") throw new TypeError("Socks4Handshake: host must be a string");
    if (typeof userId !== "string") throw new TypeError("Socks4Handshake: userId must be a string");
    const user = field(userId, "userId");
    let address: Uint8Array;
    let name: Uint8Array | null = null;
    if (isIPv4(host)) address = parseIPv4(host);
    else if (remoteResolve) {
      name = field(host, "host");
      if (name.length === 0) throw new RangeError("Socks4Handshake: host must not be empty");
      address = new Uint8Array([0, 0, 0, 1]);
    } else {
      throw new TypeError(`Socks4Handshake: SOCKS4 needs an IPv4 literal, got "${host}" (resolve it first, or use SOCKS4a)`);
    }
    const out = new Uint8Array(8 + user.length + 1 + (name === null ? 0 : name.length + 1));
    out[0] = 4;
    out[1] = 1; // CONNECT
    out[2] = port >> 8;
    out[3] = port & 0xff;
    out.set(address, 4);
    out.set(user, 8);
    if (name !== null) out.set(name, 8 + user.length + 1);
    this.#output = out;
  }

  get done(): boolean {
    return this.#done;
  }

  /** What the handshake waits for now (a timeout's message names it). */
  get phase(): string {
    return this.#done ? "nothing (the tunnel is open)" : "the SOCKS4 reply";
  }

  takeOutput(): Uint8Array | null {
    const out = this.#output;
    this.#output = null;
    return out;
  }

  push(chunk: Uint8Array): number {
    if (this.#error !== null) throw this.#error;
    if (this.#done) return 0;
    if (chunk.length === 0) return 0;
    try {
      const taken = this.#reply.fill(chunk, 0);
      this.#check();
      return taken;
    } catch (err) {
      this.#error = err as ProxyError;
      throw err;
    }
  }

  end(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#done) return;
    this.#error = closedError("SOCKS4", "the reply");
    throw this.#error;
  }

  #check(): void {
    const r = this.#reply;
    const b = r.bytes;
    if (r.length >= 1 && b[0] !== 0) throw protocolError("SOCKS4", `version ${b[0]} in the reply`);
    if (r.length >= 2 && b[1] !== 90) {
      const cd = b[1]!;
      const code = SOCKS4_REPLY_CODES[cd];
      if (code === undefined) throw protocolError("SOCKS4", `reply code ${cd}`);
      throw new ProxyError(code, `SOCKS4 proxy refused the CONNECT: ${REPLY_TEXT[cd]}`, { replyCode: cd });
    }
    if (r.complete) this.#done = true;
  }
}
