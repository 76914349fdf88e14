/**
 * The HTTP CONNECT handshake (RFC 9110 §9.3.6), I/O-free: a `CONNECT
 * host:port HTTP/1.1` request with `Host` and, given credentials, a Basic
 * `Proxy-Authorization`; the response is parsed by our HTTP/1 parser
 * (http/h1), bounded by `PROXY_LIMITS`. A 2xx opens the tunnel and the bytes
 * after the header section are the tunnel's first bytes; any other final
 * status is a `ProxyError` with `status` set (`ERR_PROXY_AUTH_REQUIRED` for
 * 407, `ERR_PROXY_STATUS` else); a malformed response `ERR_PROXY_PROTOCOL`,
 * an oversized one `ERR_PROXY_REPLY_TOO_LARGE`. Interim 1xx responses are
 * skipped, at most `PROXY_LIMITS.maxInterimResponses` of them (more is
 * `ERR_PROXY_REPLY_TOO_LARGE`: a proxy sending them without end would hold
 * the handshake open).
 *
 * @example
 * ```ts
 * import { HttpConnectHandshake } from "./http_connect.ts";
 * const h = new HttpConnectHandshake({ host: "example.com", port: 443, username: "u", password: "p" });
 * console.log(new TextDecoder().decode(h.takeOutput()!));
 * const reply = new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\nHELLO");
 * const used = h.push(reply);
 * console.log(h.done, h.status, reply.length - used); // true 200 5
 * ```
 *
 * @module
 */
import { HTTP1ParseError, ProxyError } from "../../core/errors.ts";
import { base64Encode } from "../../core/base64.ts";
import { PROXY_LIMITS } from "../../core/limits.ts";
import { HTTP1Parser } from "../../http/h1/parser.ts";
import { formatHostPort, isIPv6 } from "../address.ts";
import { checkTargetPort, closedError, protocolError, type ProxyHandshake, type ProxyTarget } from "./handshake.ts";

/** Options of an {@link HttpConnectHandshake}. */
export interface HttpConnectHandshakeOptions extends ProxyTarget {
  /** Basic credentials for `Proxy-Authorization` (the username must not contain ":"). */
  readonly username?: string;
  /** The password that goes with `username`. */
  readonly password?: string;
  /** More request header fields (`User-Agent`, …); names and values are checked. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bytes of the response header section (default `PROXY_LIMITS.maxReplyHeaderBytes`). */
  readonly maxHeaderBytes?: number;
  /** Header fields in the response (default `PROXY_LIMITS.maxReplyHeaderCount`). */
  readonly maxHeaderCount?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, SP and HTAB, and obs-text: no CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// A reg-name or IPv4 literal: no spaces, controls, "/", "@", "[" or "]".
const HOST = /^[A-Za-z0-9\-._~!$&'()*+,;=%]+$/;

const TOO_LARGE: ReadonlySet<string> = new Set([
  "HPE_HEADERS_TOO_LARGE",
  "HPE_TOO_MANY_HEADERS",
  "HPE_FIELD_TOO_LARGE",
  "HPE_START_LINE_TOO_LONG",
]);

/**
 * An HTTP CONNECT handshake (see the module documentation).
 *
 * @example
 * ```ts
 * import { HttpConnectHandshake } from "./http_connect.ts";
 * const h = new HttpConnectHandshake({ host: "::1", port: 8443 });
 * console.log(new TextDecoder().decode(h.takeOutput()!)); // CONNECT [::1]:8443 HTTP/1.1 ...
 * try {
 *   h.push(new TextEncoder().encode("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
 * } catch (err) {
 *   console.log((err as { status?: number }).status); // 403
 * }
 * ```
 */
export class HttpConnectHandshake implements ProxyHandshake {
  #output: Uint8Array | null;
  readonly #parser: HTTP1Parser;
  #done = false;
  #status = 0;
  #reason = "";
  #refused: ProxyError | null = null;
  #error: ProxyError | null = null;
  /** Bytes after the header section in the current push. */
  #rest = -1;
  /** Interim (1xx) responses so far. */
  #interim = 0;

  /** Prepares the `CONNECT host:port` request (with Basic credentials and extra headers when given); throws TypeError for a bad host, port or header. */
  constructor(options: HttpConnectHandshakeOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("HttpConnectHandshake: options must be an object");
    const { host, username, password, headers = {} } = options;
    const port = checkTargetPort(options.port, "HttpConnectHandshake");
    if (typeof host !== "string" || host === "" || (!isIPv6(host) && !HOST.test(host))) {
      throw new TypeError(`HttpConnectHandshake: invalid target host ${JSON.stringify(host)}`);
    }
    const authority = formatHostPort(host, port);
    let text = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
    if ((username === undefined) !== (password === undefined)) {
      throw new TypeError("HttpConnectHandshake: username and password go together");
    }
    if (username !== undefined) {
      if (typeof username !== "string" || typeof password !== "string") {
        throw new TypeError("HttpConnectHandshake: username and password must be strings");
      }
      if (username.includes(":")) throw new TypeError('HttpConnectHandshake: a Basic username must not contain ":"');
      if (/[\x00-\x1f\x7f]/.test(username + password)) throw new TypeError("HttpConnectHandshake: credentials must not contain control characters");
      text += `Proxy-Authorization: Basic ${base64Encode(`${username}:${password}`)}\r\n`;
    }
    if (typeof headers !== "object" || headers === null) throw new TypeError("HttpConnectHandshake: headers must be an object");
    for (const [name, value] of Object.entries(headers)) {
      if (!TOKEN.test(name)) throw new TypeError(`HttpConnectHandshake: invalid header name ${JSON.stringify(name)}`);
      if (typeof value !== "string" || !FIELD_VALUE.test(value)) throw new TypeError(`HttpConnectHandshake: invalid value for header ${name}`);
      const lower = name.toLowerCase();
      if (lower === "host" || lower === "proxy-authorization" || lower === "content-length" || lower === "transfer-encoding") {
        throw new TypeError(`HttpConnectHandshake: header ${name} is set by the handshake`);
      }
      text += `${name}: ${value}\r\n`;
    }
    text += "\r\n";
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    this.#output = out;
    this.#parser = new HTTP1Parser({
      kind: "response",
      maxHeaderBytes: options.maxHeaderBytes ?? PROXY_LIMITS.maxReplyHeaderBytes,
      maxHeaderCount: options.maxHeaderCount ?? PROXY_LIMITS.maxReplyHeaderCount,
      maxStartLineBytes: 1024,
    }, {
      onHead: (head) => {
        const status = head.statusCode;
        if (status < 200 && status !== 101) {
          // Interim: the final response follows; a proxy sending them without end never finishes the handshake.
          if (++this.#interim > PROXY_LIMITS.maxInterimResponses) {
            this.#refused = new ProxyError("ERR_PROXY_REPLY_TOO_LARGE", `HTTP proxy sent more than ${PROXY_LIMITS.maxInterimResponses} interim (1xx) responses to the CONNECT`, { status });
            throw this.#refused;
          }
          return;
        }
        this.#status = status;
        this.#reason = head.reason;
        if (status >= 300 || status === 101) {
          const code = status === 407 ? "ERR_PROXY_AUTH_REQUIRED" : "ERR_PROXY_STATUS";
          this.#refused = new ProxyError(code, `HTTP proxy refused the CONNECT: ${status} ${head.reason}`.trimEnd(), { status });
          throw this.#refused;
        }
      },
      onUpgrade: (rest) => {
        this.#rest = rest.length;
      },
    });
    this.#parser.expectResponseTo("CONNECT");
  }

  get done(): boolean {
    return this.#done;
  }

  /** What the handshake waits for now (a timeout's message names it). */
  get phase(): string {
    return this.#done ? "nothing (the tunnel is open)" : "the CONNECT response head";
  }

  /** The final status (0 until it arrived). */
  get status(): number {
    return this.#status;
  }

  /** The reason phrase of the final status. */
  get reason(): string {
    return this.#reason;
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
      this.#rest = -1;
      this.#parser.push(chunk);
    } catch (err) {
      this.#error = this.#refused ?? (err instanceof ProxyError ? err : this.#parseError(err));
      throw this.#error;
    }
    if (this.#rest < 0) return chunk.length;
    this.#done = true;
    return chunk.length - this.#rest;
  }

  end(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#done) return;
    this.#error = closedError("HTTP", "the CONNECT response");
    throw this.#error;
  }

  #parseError(err: unknown): ProxyError {
    if (err instanceof HTTP1ParseError) {
      const code = TOO_LARGE.has(err.code) ? "ERR_PROXY_REPLY_TOO_LARGE" : "ERR_PROXY_PROTOCOL";
      return new ProxyError(code, `HTTP proxy sent an invalid CONNECT response: ${err.message}`, { cause: err });
    }
    return protocolError("HTTP", String(err));
  }
}
