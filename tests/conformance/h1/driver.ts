/**
 * The raw-socket HTTP/1.1 client of the conformance cases (cases.ts): a
 * loopback socket (node:net, or node:tls with ALPN `http/1.1`) that writes
 * whatever bytes a case builds, well formed or not, and reads the server's
 * responses strictly: the status line, field lines ending in CRLF, and a
 * body framed as RFC 9112 §6.3 says for the request it answers (none after
 * HEAD, for 1xx, 204 and 304; chunked; Content-Length; or up to the close).
 *
 * Every response read is also checked against the rules every server
 * response must keep (see {@link checkResponse}): a case fails on any of
 * them whatever it looks at itself.
 *
 * Every wait is bounded by the case's deadline (a server that says nothing
 * fails the case, it never hangs the run).
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";

/** Where the server under test listens. */
export interface Target {
  readonly port: number;
  /** TLS with ALPN http/1.1, trusting this root (PEM); absent: cleartext. */
  readonly ca?: string;
}

/** A case's expectation that did not hold. */
export class CaseFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaseFailure";
  }
}

/** One response as read. */
export interface RawResponse {
  /** The status line as sent. */
  readonly statusLine: string;
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Field lines in order, names as sent. */
  readonly fields: readonly (readonly [string, string])[];
  /** The body (latin1 text), dechunked. */
  readonly body: string;
  /** How the body was framed. */
  readonly framing: "none" | "length" | "chunked" | "close";
  /** Trailer fields of a chunked body. */
  readonly trailers: readonly (readonly [string, string])[];
}

/** The first value of a field (case-insensitive name), or undefined. */
export function field(r: RawResponse, name: string): string | undefined {
  const n = name.toLowerCase();
  return r.fields.find(([k]) => k.toLowerCase() === n)?.[1];
}

/** Every value of a field (case-insensitive name). */
export function fieldsNamed(r: RawResponse, name: string): string[] {
  const n = name.toLowerCase();
  return r.fields.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

/** Whether a field's comma-separated list holds an option (case-insensitive), e.g. `close` in Connection. */
export function hasOption(r: RawResponse, name: string, option: string): boolean {
  return fieldsNamed(r, name).some((v) => v.split(",").some((o) => o.trim().toLowerCase() === option));
}

/** The text of a response for failure messages. */
export function show(r: RawResponse): string {
  const body = r.body.length > 60 ? `${r.body.slice(0, 60)}…(${r.body.length})` : r.body;
  return `${r.statusLine} | ${r.fields.map(([k, v]) => `${k}: ${v}`).join(" | ")} | body ${JSON.stringify(body)} (${r.framing})`;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

/** What the request a response answers was: it decides the body's framing and the checks. */
export interface Asked {
  /** The request's method ("HEAD" reads no body). */
  readonly method?: string;
  /** "1.0" or "1.1" (default): no chunked response to an HTTP/1.0 request. */
  readonly version?: "1.0" | "1.1";
}

/**
 * The rules every response of an HTTP/1.1 origin server keeps, whatever the
 * request: the status line `HTTP/1.1 SP 3DIGIT SP reason` (RFC 9112 §4,
 * §2.3: a server sends its own highest version, 1.1), field lines
 * `token ":" OWS value OWS` with no CR/LF/NUL (RFC 9112 §5, RFC 9110 §5.5),
 * `Date` in IMF-fixdate on every 2xx-5xx (RFC 9110 §6.6.1: a MUST for
 * 2xx-4xx of a server with a clock; we hold 5xx to it too), no
 * `Content-Length` or `Transfer-Encoding` on 1xx and 204 (RFC 9110 §8.6,
 * RFC 9112 §6.1), never both (RFC 9112 §6.1), at most one Content-Length,
 * chunked only as the final coding and never to an HTTP/1.0 request (RFC
 * 9112 §6.1, §7).
 */
export function checkResponse(r: RawResponse, asked: Asked): void {
  const fail = (what: string) => {
    throw new CaseFailure(`${what}: ${show(r)}`);
  };
  if (r.version !== "HTTP/1.1") fail("the status line's version is not HTTP/1.1 (RFC 9112 §2.3, RFC 9110 §6.2)");
  for (const [k, v] of [...r.fields, ...r.trailers]) {
    if (!TOKEN.test(k)) fail(`field name ${JSON.stringify(k)} is not a token (RFC 9112 §5)`);
    if (!FIELD_VALUE.test(v)) fail(`field ${k} has a CTL in its value (RFC 9110 §5.5)`);
  }
  const cl = fieldsNamed(r, "content-length");
  const te = fieldsNamed(r, "transfer-encoding");
  if (r.status >= 200) {
    const date = fieldsNamed(r, "date");
    if (date.length !== 1) fail("not exactly one Date (RFC 9110 §6.6.1)");
    if (!IMF_FIXDATE.test(date[0]!)) fail("Date is not an IMF-fixdate (RFC 9110 §5.6.7)");
  }
  if ((r.status < 200 || r.status === 204) && cl.length > 0) fail("Content-Length on a 1xx or 204 (RFC 9110 §8.6)");
  if ((r.status < 200 || r.status === 204) && te.length > 0) fail("Transfer-Encoding on a 1xx or 204 (RFC 9112 §6.1)");
  if (cl.length > 0 && te.length > 0) fail("both Content-Length and Transfer-Encoding (RFC 9112 §6.1)");
  if (cl.length > 1) fail("more than one Content-Length (RFC 9110 §8.6)");
  if (cl.length === 1 && !/^\d+$/.test(cl[0]!)) fail("Content-Length is not 1*DIGIT (RFC 9110 §8.6)");
  if (te.length > 0) {
    if (asked.version === "1.0") fail("Transfer-Encoding in a response to an HTTP/1.0 request (RFC 9112 §6.1)");
    const codings = te.join(",").split(",").map((s) => s.trim().toLowerCase());
    if (codings[codings.length - 1] !== "chunked" || codings.filter((c) => c === "chunked").length !== 1) fail("chunked is not the final coding, once (RFC 9112 §6.1, §7)");
  }
  if (asked.method === "HEAD" && r.body.length > 0) fail("a body after HEAD (RFC 9110 §9.3.2)");
  if (asked.method === "CONNECT" && r.status >= 200 && r.status < 300 && (cl.length > 0 || te.length > 0)) fail("Content-Length or Transfer-Encoding on a 2xx to CONNECT (RFC 9110 §8.6, RFC 9112 §6.1)");
}

/** A socket, the bytes the server sent and not yet read, and whether it closed. */
export class Client {
  readonly #sock: net.Socket;
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;
  #wake: (() => void) | undefined;
  /** Everything the server sent, as text (failure details). */
  readonly seen: string[] = [];

  private constructor(sock: net.Socket) {
    this.#sock = sock;
    sock.on("data", (d: Uint8Array) => {
      const next = new Uint8Array(this.#buf.length + d.length);
      next.set(this.#buf);
      next.set(d, this.#buf.length);
      this.#buf = next;
      if (this.seen.length < 64) this.seen.push(latin1(d).slice(0, 200));
      this.#wake?.();
    });
    const end = () => {
      this.#closed = true;
      this.#wake?.();
    };
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", end);
  }

  /** Connects (and for TLS completes the handshake, failing unless ALPN chose http/1.1). */
  static connect(target: Target, deadline: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CaseFailure("could not connect in time")), Math.max(1, deadline - performance.now()));
      const done = (sock: net.Socket) => {
        clearTimeout(timer);
        resolve(new Client(sock));
      };
      if (target.ca === undefined) {
        const sock = net.connect({ port: target.port, host: "127.0.0.1" }, () => done(sock));
        sock.setNoDelay(true);
        sock.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      } else {
        const sock = tls.connect({ port: target.port, host: "127.0.0.1", servername: "localhost", ca: target.ca, ALPNProtocols: ["http/1.1"] }, () => {
          if (sock.alpnProtocol !== "http/1.1") {
            clearTimeout(timer);
            sock.destroy();
            reject(new CaseFailure(`ALPN chose ${String(sock.alpnProtocol)}, not http/1.1`));
          } else done(sock);
        });
        sock.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      }
    });
  }

  /** Writes bytes (a string is latin1: every code unit one octet). */
  send(bytes: string | Uint8Array): void {
    if (!this.#closed) this.#sock.write(typeof bytes === "string" ? fromLatin1(bytes) : bytes);
  }

  /** Half-closes the sending side. */
  end(): void {
    this.#sock.end();
  }

  close(): void {
    this.#sock.destroy();
  }

  /** Waits for more input or the close; false at the deadline. */
  async #more(deadline: number): Promise<boolean> {
    if (this.#closed) return false;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const before = this.#buf.length;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
    return this.#buf.length > before || this.#closed;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** A line ending in CRLF (without it); a bare LF or the end fails. */
  async #line(deadline: number, what: string): Promise<string> {
    for (;;) {
      const at = this.#buf.indexOf(0x0a);
      if (at >= 0) {
        const line = this.#take(at + 1);
        if (at === 0 || line[at - 1] !== 0x0d) throw new CaseFailure(`${what}: a line ending in a bare LF: ${JSON.stringify(latin1(line))}`);
        return latin1(line.subarray(0, at - 1));
      }
      if (!(await this.#more(deadline))) throw new CaseFailure(`${what}: ${this.#closed ? "connection closed" : "nothing (timed out)"} ${this.#buf.length > 0 ? `after ${JSON.stringify(latin1(this.#buf).slice(0, 120))}` : ""}`);
    }
  }

  async #bytes(n: number, deadline: number, what: string): Promise<string> {
    while (this.#buf.length < n) {
      if (!(await this.#more(deadline))) throw new CaseFailure(`${what}: ${this.#closed ? "connection closed" : "timed out"} after ${this.#buf.length} of ${n} body octets`);
    }
    return latin1(this.#take(n));
  }

  async #fields(deadline: number, what: string): Promise<[string, string][]> {
    const out: [string, string][] = [];
    for (;;) {
      const line = await this.#line(deadline, what);
      if (line === "") return out;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new CaseFailure(`${what}: a field line without a name and colon: ${JSON.stringify(line)}`);
      out.push([line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")]);
    }
  }

  /**
   * Reads one response (an interim 1xx too: the caller asks for what it
   * expects) and checks it with {@link checkResponse}.
   */
  async response(deadline: number, asked: Asked = {}): Promise<RawResponse> {
    const statusLine = await this.#line(deadline, "waiting for a status line");
    const m = /^(HTTP\/\d\.\d) (\d{3}) (.*)$/.exec(statusLine);
    if (m === null) throw new CaseFailure(`not a status line: ${JSON.stringify(statusLine)}`);
    const fields = await this.#fields(deadline, "reading the response's fields");
    const status = Number(m[2]);
    const partial: RawResponse = { statusLine, version: m[1]!, status, reason: m[3]!, fields, body: "", framing: "none", trailers: [] };
    let r: RawResponse = partial;
    const te = fieldsNamed(partial, "transfer-encoding");
    const cl = fieldsNamed(partial, "content-length");
    if (asked.method === "CONNECT" && status >= 200 && status < 300) {
      // A 2xx to CONNECT is the tunnel: what follows its head is the tunnel's, up to the close.
      r = partial;
    } else if (asked.method === "HEAD" || status < 200 || status === 204 || status === 304) {
      r = partial;
    } else if (te.length > 0) {
      let body = "";
      for (;;) {
        const sizeLine = await this.#line(deadline, "reading a chunk size");
        const size = /^([0-9a-fA-F]+)(;.*)?$/.exec(sizeLine);
        if (size === null) throw new CaseFailure(`bad chunk size line ${JSON.stringify(sizeLine)}`);
        const n = parseInt(size[1]!, 16);
        if (n === 0) break;
        body += await this.#bytes(n, deadline, "reading a chunk");
        if ((await this.#line(deadline, "after a chunk")) !== "") throw new CaseFailure("chunk data not followed by CRLF");
      }
      const trailers = await this.#fields(deadline, "reading trailers");
      r = { ...partial, body, framing: "chunked", trailers };
    } else if (cl.length > 0) {
      r = { ...partial, body: await this.#bytes(Number(cl[0]), deadline, "reading a Content-Length body"), framing: "length" };
    } else {
      while (!this.#closed) {
        if (!(await this.#more(deadline)) && !this.#closed) throw new CaseFailure(`a body delimited by the close never ended: ${show(partial)}`);
      }
      r = { ...partial, body: latin1(this.#take(this.#buf.length)), framing: "close" };
    }
    checkResponse(r, asked);
    return r;
  }

  /**
   * Waits for the server to close the connection, failing if it sends
   * anything more first (a reset counts as the close).
   */
  async closed(deadline: number, after = "the response"): Promise<void> {
    for (;;) {
      if (this.#buf.length > 0) throw new CaseFailure(`more after ${after} instead of the close: ${JSON.stringify(latin1(this.#buf).slice(0, 160))}`);
      if (this.#closed) return;
      if (!(await this.#more(deadline)) && !this.#closed) throw new CaseFailure(`the connection stayed open after ${after}`);
    }
  }

  /** The next `n` octets as they come (after a 101: the new protocol's). */
  async raw(n: number, deadline: number): Promise<Uint8Array> {
    return fromLatin1(await this.#bytes(n, deadline, "reading raw octets"));
  }

  /** Whether the server has closed (without waiting). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Waits up to `ms` (bounded by the deadline) and tells whether anything arrived or the connection closed. */
  async quietFor(ms: number, deadline: number): Promise<boolean> {
    const until = Math.min(deadline, performance.now() + ms);
    while (this.#buf.length === 0 && !this.#closed) {
      if (!(await this.#more(until))) break;
    }
    return this.#buf.length === 0 && !this.#closed;
  }
}

/** Bytes as latin1 text. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

/** Latin1 text as bytes (code units above 0xff are a mistake in a case). */
export function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
