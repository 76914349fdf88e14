/**
 * The SOCKS5 client handshake (RFC 1928), I/O-free: method negotiation
 * (no authentication, or username/password per RFC 1929), then CONNECT to
 * an IPv4, IPv6 or domain-name target. Every reply code is a `ProxyError`
 * with a stable code (see {@link SOCKS5_REPLY_CODES}); a malformed reply is
 * `ERR_PROXY_PROTOCOL`. Replies are bounded by their format (at most 262
 * bytes), so no limit option is needed.
 *
 * @example
 * ```ts
 * import { Socks5Handshake } from "./socks5.ts";
 * const h = new Socks5Handshake({ host: "example.com", port: 443 });
 * h.takeOutput(); // [5, 1, 0]: greeting, "no authentication"
 * h.push(new Uint8Array([5, 0]));
 * h.takeOutput(); // CONNECT example.com:443
 * h.push(new Uint8Array([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]));
 * console.log(h.done, h.boundAddress); // true { host: "127.0.0.1", port: 80 }
 * ```
 *
 * @module
 */
import { ProxyError } from "../../core/errors.ts";
import { formatIPv4, formatIPv6, isIPv4, isIPv6, parseIPv4, parseIPv6 } from "../address.ts";
import { checkTargetPort, closedError, protocolError, type ProxyHandshake, type ProxyTarget, ReplyBuffer } from "./handshake.ts";

/**
 * The stable error code of each SOCKS5 reply code (REP, RFC 1928 §6).
 * Codes not listed are `ERR_SOCKS5_UNKNOWN_REPLY`.
 *
 * @example
 * ```ts
 * import { SOCKS5_REPLY_CODES } from "./socks5.ts";
 * console.log(SOCKS5_REPLY_CODES[5]); // ERR_SOCKS5_CONNECTION_REFUSED
 * ```
 */
export const SOCKS5_REPLY_CODES: Readonly<Record<number, string>> = Object.freeze({
  1: "ERR_SOCKS5_GENERAL_FAILURE",
  2: "ERR_SOCKS5_NOT_ALLOWED",
  3: "ERR_SOCKS5_NETWORK_UNREACHABLE",
  4: "ERR_SOCKS5_HOST_UNREACHABLE",
  5: "ERR_SOCKS5_CONNECTION_REFUSED",
  6: "ERR_SOCKS5_TTL_EXPIRED",
  7: "ERR_SOCKS5_COMMAND_NOT_SUPPORTED",
  8: "ERR_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED",
});

const REPLY_TEXT: Readonly<Record<number, string>> = {
  1: "general SOCKS server failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

/** Options of a {@link Socks5Handshake}: the target and optional credentials. */
export interface Socks5HandshakeOptions extends ProxyTarget {
  /** RFC 1929 username (1–255 UTF-8 bytes); with `password`, offers username/password. */
  readonly username?: string;
  /** RFC 1929 password (1–255 UTF-8 bytes). */
  readonly password?: string;
}

const S_METHOD = 0;
const S_AUTH = 1;
const S_REPLY = 2;
const S_DONE = 3;
const S_FAILED = 4;

const ATYP_IPV4 = 1;
const ATYP_DOMAIN = 3;
const ATYP_IPV6 = 4;

const encoder = new TextEncoder();

function credential(value: unknown, name: string): Uint8Array {
  if (typeof value !== "string") throw new TypeError(`Socks5Handshake: ${name} must be a string`);
  const bytes = encoder.encode(value);
  if (bytes.length < 1 || bytes.length > 255) throw new RangeError(`Socks5Handshake: ${name} must be 1-255 bytes, got ${bytes.length}`);
  return bytes;
}

/**
 * The CONNECT request for `host:port`: IPv4 and IPv6 literals as such,
 * anything else as a domain name (1–255 bytes, no NUL).
 */
function connectRequest(host: string, port: number): Uint8Array {
  let address: Uint8Array;
  let atyp: number;
  if (isIPv4(host)) {
    address = parseIPv4(host);
    atyp = ATYP_IPV4;
  } else if (isIPv6(host)) {
    address = parseIPv6(host).bytes;
    atyp = ATYP_IPV6;
  } else {
    const name = encoder.encode(host);
    if (name.length < 1 || name.length > 255 || name.includes(0)) {
      throw new RangeError(`Socks5Handshake: a domain target must be 1-255 bytes without NUL, got ${name.length} bytes`);
    }
    address = new Uint8Array(1 + name.length);
    address[0] = name.length;
    address.set(name, 1);
    atyp = ATYP_DOMAIN;
  }
  const out = new Uint8Array(4 + address.length + 2);
  out.set([5, 1, 0, atyp]);
  out.set(address, 4);
  out[out.length - 2] = port >> 8;
  out[out.length - 1] = port & 0xff;
  return out;
}

/**
 * A SOCKS5 client handshake (see the module documentation).
 *
 * @example
 * ```ts
 * import { Socks5Handshake } from "./socks5.ts";
 * const h = new Socks5Handshake({ host: "::1", port: 8080, username: "u", password: "p" });
 * console.log(h.takeOutput()); // Uint8Array [5, 2, 0, 2]: offers none and username/password
 * h.push(new Uint8Array([5, 2])); // the proxy picks username/password
 * console.log(h.takeOutput()); // Uint8Array [1, 1, 117, 1, 112]
 * ```
 */
export class Socks5Handshake implements ProxyHandshake {
  #state = S_METHOD;
  #output: Uint8Array | null;
  readonly #request: Uint8Array;
  readonly #auth: Uint8Array | null;
  readonly #reply = new ReplyBuffer(2);
  #error: ProxyError | null = null;
  #bound: ProxyTarget | null = null;

  /** Prepares the SOCKS5 greeting and CONNECT request for `host:port`, offering username/password auth when both are given; throws TypeError for bad options. */
  constructor(options: Socks5HandshakeOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("Socks5Handshake: options must be an object");
    const { host, username, password } = options;
    const port = checkTargetPort(options.port, "Socks5Handshake");
    if (typeof host !== "string") throw new TypeError("Socks5Handshake: host must be a string");
    this.#request = connectRequest(host, port);
    if ((username === undefined) !== (password === undefined)) {
      throw new TypeError("Socks5Handshake: username and password go together");
    }
    if (username !== undefined) {
      const user = credential(username, "username");
      const pass = credential(password, "password");
      const auth = new Uint8Array(3 + user.length + pass.length);
      auth[0] = 1;
      auth[1] = user.length;
      auth.set(user, 2);
      auth[2 + user.length] = pass.length;
      auth.set(pass, 3 + user.length);
      this.#auth = auth;
      this.#output = new Uint8Array([5, 2, 0, 2]);
    } else {
      this.#auth = null;
      this.#output = new Uint8Array([5, 1, 0]);
    }
  }

  /** True once the proxy has connected to the target. */
  get done(): boolean {
    return this.#state === S_DONE;
  }

  /** The address the proxy connected from (BND.ADDR, BND.PORT), once done. */
  get boundAddress(): ProxyTarget | null {
    return this.#bound;
  }

  takeOutput(): Uint8Array | null {
    const out = this.#output;
    this.#output = null;
    return out;
  }

  push(chunk: Uint8Array): number {
    if (this.#error !== null) throw this.#error;
    if (this.#state === S_DONE) return 0;
    try {
      return this.#consume(chunk);
    } catch (err) {
      this.#state = S_FAILED;
      this.#error = err as ProxyError;
      throw err;
    }
  }

  end(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#state === S_DONE) return;
    const during = this.#during();
    this.#state = S_FAILED;
    this.#error = closedError("SOCKS5", during);
    throw this.#error;
  }

  /** What the handshake waits for now (a timeout's message names it). */
  get phase(): string {
    return this.#state === S_DONE ? "nothing (the tunnel is open)" : `the SOCKS5 ${this.#during().replace(/^the /, "")}`;
  }

  #during(): string {
    return this.#state === S_METHOD ? "method selection" : this.#state === S_AUTH ? "authentication" : "the CONNECT reply";
  }

  #consume(chunk: Uint8Array): number {
    const r = this.#reply;
    let p = 0;
    while (p < chunk.length) {
      p += r.fill(chunk, p);
      if (this.#state === S_REPLY) this.#replyProgress();
      if (!r.complete) continue;
      const b = r.bytes;
      if (this.#state === S_METHOD) this.#method(b[0]!, b[1]!);
      else if (this.#state === S_AUTH) this.#authReply(b[0]!, b[1]!);
      else this.#finish();
      // A reply is complete: the next request goes out before more is read.
      return p;
    }
    return p;
  }

  #method(version: number, method: number): void {
    if (version !== 5) throw protocolError("SOCKS5", `version ${version} in the method reply`);
    if (method === 0xff) {
      throw new ProxyError("ERR_SOCKS5_NO_ACCEPTABLE_METHOD", "SOCKS5 proxy accepted none of the offered authentication methods", { replyCode: 0xff });
    }
    if (method === 0) {
      this.#send(this.#request, S_REPLY, 5);
    } else if (method === 2 && this.#auth !== null) {
      this.#send(this.#auth, S_AUTH, 2);
    } else if (method === 2) {
      throw new ProxyError("ERR_SOCKS5_AUTH_REQUIRED", "SOCKS5 proxy requires a username and password", { replyCode: 2 });
    } else {
      throw protocolError("SOCKS5", `method ${method}, which was not offered`);
    }
  }

  #authReply(version: number, status: number): void {
    if (version !== 1) throw protocolError("SOCKS5", `version ${version} in the authentication reply`);
    if (status !== 0) {
      throw new ProxyError("ERR_SOCKS5_AUTH_FAILED", `SOCKS5 proxy refused the username and password (status ${status})`, { replyCode: status });
    }
    this.#send(this.#request, S_REPLY, 5);
  }

  /** Checks the reply as soon as each field arrives: a refusal often ends there. */
  #replyProgress(): void {
    const r = this.#reply;
    const b = r.bytes;
    if (r.length >= 1 && b[0] !== 5) throw protocolError("SOCKS5", `version ${b[0]} in the CONNECT reply`);
    if (r.length >= 2 && b[1] !== 0) {
      const rep = b[1]!;
      const code = SOCKS5_REPLY_CODES[rep] ?? "ERR_SOCKS5_UNKNOWN_REPLY";
      throw new ProxyError(code, `SOCKS5 proxy refused the CONNECT: ${REPLY_TEXT[rep] ?? `reply code ${rep}`}`, { replyCode: rep });
    }
    if (r.length >= 3 && b[2] !== 0) throw protocolError("SOCKS5", `reserved byte ${b[2]} in the CONNECT reply`);
    if (r.length === 4 || (r.length >= 4 && r.need === 5)) {
      const atyp = b[3];
      if (atyp === ATYP_IPV4) r.grow(4 + 4 + 2);
      else if (atyp === ATYP_IPV6) r.grow(4 + 16 + 2);
      else if (atyp !== ATYP_DOMAIN) throw protocolError("SOCKS5", `address type ${atyp} in the CONNECT reply`);
    }
    if (b[3] === ATYP_DOMAIN && r.length >= 5 && r.need === 5) {
      if (b[4] === 0) throw protocolError("SOCKS5", "an empty domain name in the CONNECT reply");
      r.grow(5 + b[4]! + 2);
    }
  }

  #finish(): void {
    const b = this.#reply.bytes;
    const n = this.#reply.need;
    const port = (b[n - 2]! << 8) | b[n - 1]!;
    let host: string;
    if (b[3] === ATYP_IPV4) host = formatIPv4(b, 4);
    else if (b[3] === ATYP_IPV6) host = formatIPv6(b, undefined, 4);
    else host = new TextDecoder().decode(b.subarray(5, n - 2));
    this.#bound = { host, port };
    this.#state = S_DONE;
  }

  #send(bytes: Uint8Array, state: number, replyBytes: number): void {
    this.#output = bytes;
    this.#state = state;
    this.#reply.reset(replyBytes);
  }
}
