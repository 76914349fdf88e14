/**
 * HTTP/1.1 server conformance cases: the MUST / MUST NOT (and the important
 * SHOULD) requirements RFC 9112 (HTTP/1.1) and RFC 9110 (HTTP semantics)
 * put on an origin server, each naming its section, played with raw bytes
 * (driver.ts) on a fresh connection.
 *
 * The server under test answers (see runner.ts): `/` 200 "hello" (reading
 * any body), `/echo` the request body, `/len` its length in octets,
 * `/method` the request's method, `/url` the absolute URL it made of the
 * target, `/field?name=N` the value of field N, `/ignore` 200 without
 * reading the body, `/204` a 204 (its handler sets `Content-Length: 0`,
 * which must not go out), `/304` a 304 with an ETag, `/stream` a body of
 * unknown length ("ab" "cd" "ef"), `/slow` "slow" after a short wait. Every
 * request reaching the handler is logged as "METHOD /path": a case says
 * which requests must not have been processed (`/never`).
 *
 * Strictness, like the HTTP/2 suite's: a rejection has the exact status,
 * the connection closes after it, and nothing sent after the rejected
 * request reaches the handler. Where the RFC leaves a choice (reject or
 * repair), the case says which answers pass.
 *
 * @module
 */
import { CaseFailure, type Client, field, hasOption, type RawResponse, show, type Target } from "./driver.ts";

/** What a case runs with. */
export interface Ctx {
  /** A connection opened for the case. */
  readonly c: Client;
  /** Every wait of the case ends by then (performance.now() time). */
  readonly deadline: number;
  /** Requests that reached the handler since the case began ("GET /echo"). */
  readonly handled: () => readonly string[];
  /** Another connection to the same server. */
  readonly connect: () => Promise<Client>;
  readonly target: Target;
}

/** One case. */
export interface H1Case {
  /** "<rfc>/<section>/<n>", e.g. "9112/3.2/1". */
  readonly id: string;
  /** The requirement, in the RFC's words where short enough. */
  readonly title: string;
  /** Also run over TLS (the sample). */
  readonly tls?: boolean;
  readonly run: (x: Ctx) => Promise<void>;
}

/** The Host the cases send. */
export const HOST = "localhost";

/** One request's bytes: fields as lines ("Name: value"), CRLF line ends unless the case writes its own. */
export function req(method: string, target: string, fields: readonly string[] = [`Host: ${HOST}`], body = "", version = "HTTP/1.1"): string {
  return `${method} ${target} ${version}\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n${body}`;
}

/** A GET of `path` with Host. */
export function get(path: string, more: readonly string[] = []): string {
  return req("GET", path, [`Host: ${HOST}`, ...more]);
}

function fail(message: string): never {
  throw new CaseFailure(message);
}

/** Reads a response and checks its status. */
async function expectStatus(x: Ctx, status: number | readonly number[], asked: { method?: string; version?: "1.0" | "1.1" } = {}): Promise<RawResponse> {
  const r = await x.c.response(x.deadline, asked);
  const ok = typeof status === "number" ? r.status === status : status.includes(r.status);
  if (!ok) fail(`expected ${typeof status === "number" ? status : status.join(" or ")}, got ${show(r)}`);
  return r;
}

/** Reads a 200 and checks its body. */
async function expectBody(x: Ctx, body: string, asked: { method?: string; version?: "1.0" | "1.1" } = {}): Promise<RawResponse> {
  const r = await expectStatus(x, 200, asked);
  if (r.body !== body) fail(`expected the body ${JSON.stringify(body)}, got ${show(r)}`);
  return r;
}

/**
 * The rejection of a request: exactly `status`, `Connection: close` in it
 * (RFC 9112 §9.6: the server closes, it says so), then the close, and no
 * request after it (`/never`) processed.
 */
async function expectReject(x: Ctx, status: number, asked: { method?: string; version?: "1.0" | "1.1" } = {}): Promise<void> {
  const r = await expectStatus(x, status, asked);
  if (!hasOption(r, "connection", "close")) fail(`the ${status} does not say Connection: close (RFC 9112 §9.6): ${show(r)}`);
  await x.c.closed(x.deadline, `the ${status}`);
  expectNotHandled(x, "/never");
}

function expectNotHandled(x: Ctx, path: string): void {
  const hit = x.handled().filter((h) => h.endsWith(` ${path}`));
  if (hit.length > 0) fail(`${hit.join(", ")} reached the handler though it came after the end of the connection's usable stream`);
}

/** A request line (and fields) refused with `status`, a request after it never processed. */
function rejects(id: string, title: string, bytes: string, status = 400, tlsSample = false): H1Case {
  return {
    id,
    title,
    tls: tlsSample,
    run: async (x) => {
      x.c.send(bytes + get("/never"));
      await expectReject(x, status);
    },
  };
}

/** A request served with `body` (the connection stays usable: a second request is answered too). */
function serves(id: string, title: string, bytes: string, body: string, tlsSample = false): H1Case {
  return {
    id,
    title,
    tls: tlsSample,
    run: async (x) => {
      x.c.send(bytes);
      await expectBody(x, body);
      x.c.send(get("/method"));
      await expectBody(x, "GET");
    },
  };
}

/** A chunked POST to /echo with the given chunked body bytes. */
function chunked(body: string, extra: readonly string[] = []): string {
  return req("POST", "/echo", [`Host: ${HOST}`, "Transfer-Encoding: chunked", ...extra], body);
}

/** A POST to /echo with a Content-Length field of `cl` and the body. */
function withLength(cl: string, body: string): string {
  return req("POST", "/echo", [`Host: ${HOST}`, `Content-Length: ${cl}`], body);
}

export const CASES: readonly H1Case[] = [
  // ---- RFC 9112 §2: message format ----
  serves("9112/2.2/1", "a server SHOULD ignore at least one empty line (CRLF) received prior to the request-line", `\r\n${get("/method")}`, "GET"),
  rejects("9112/2.2/2", "a bare CR not followed by LF in the request line MUST be treated as invalid (400)", "GET /\rx HTTP/1.1\r\nHost: a\r\n\r\n"),
  {
    id: "9112/2.2/3",
    title: "whitespace between the start-line and the first field line: reject (400) or ignore the whitespace-preceded line",
    run: async (x) => {
      x.c.send(`GET /field?name=x-evil HTTP/1.1\r\n X-Evil: 1\r\nHost: ${HOST}\r\n\r\n${get("/never")}`);
      const r = await x.c.response(x.deadline);
      if (r.status === 400) {
        await x.c.closed(x.deadline, "the 400");
        expectNotHandled(x, "/never");
      } else if (r.status !== 200 || r.body !== "") fail(`expected 400, or 200 without X-Evil seen, got ${show(r)}`);
    },
  },
  {
    id: "9112/2.2/4",
    title: "lines ending in a bare LF: a recipient MAY take LF as the line end (then served) or refuse (400 and close), never misread",
    run: async (x) => {
      x.c.send(`GET /method HTTP/1.1\nHost: ${HOST}\n\n`);
      const r = await x.c.response(x.deadline);
      if (r.status === 400) await x.c.closed(x.deadline, "the 400");
      else if (r.status !== 200 || r.body !== "GET") fail(`expected 200 "GET" or 400, got ${show(r)}`);
    },
  },
  {
    id: "9112/2.3/1",
    title: "a server sends its own version, HTTP/1.1, in the status line of a response to HTTP/1.0",
    tls: true,
    run: async (x) => {
      x.c.send(req("GET", "/method", [], "", "HTTP/1.0"));
      const r = await expectBody(x, "GET", { version: "1.0" });
      if (r.statusLine.slice(0, 9) !== "HTTP/1.1 ") fail(`status line ${r.statusLine}`);
    },
  },
  serves("9112/2.3/2", "HTTP/1.2 (a higher minor version) SHOULD be processed as HTTP/1.1", req("GET", "/method", [`Host: ${HOST}`], "", "HTTP/1.2"), "GET"),
  rejects("9112/2.3/3", "HTTP/2.0 in an HTTP/1 request line: a major version not supported, 505", req("GET", "/", [`Host: ${HOST}`], "", "HTTP/2.0"), 505),
  rejects("9112/2.3/4", "HTTP/3.0: 505 (RFC 9110 §15.6.6)", req("GET", "/", [`Host: ${HOST}`], "", "HTTP/3.0"), 505),
  rejects("9112/2.3/5", "HTTP-name is case-sensitive: http/1.1 is no HTTP-version, 400", req("GET", "/", [`Host: ${HOST}`], "", "http/1.1")),
  rejects("9112/2.3/6", "HTTP-version is DIGIT.DIGIT: HTTP/1.10 is invalid, 400", req("GET", "/", [`Host: ${HOST}`], "", "HTTP/1.10")),
  rejects("9112/2.3/7", "HTTP-version is DIGIT.DIGIT: HTTP/1 is invalid, 400", req("GET", "/", [`Host: ${HOST}`], "", "HTTP/1")),
  rejects("9112/2.3/8", "a request line without an HTTP-version (HTTP/0.9) is invalid, 400", `GET /\r\n\r\n`),

  // ---- RFC 9112 §3: request line ----
  rejects("9112/3/1", "a method is a token: a separator in it is invalid, 400", req("G(T", "/")),
  {
    id: "9112/3/2",
    title: "methods are case-sensitive: `get` is not GET (the handler sees `get`, or 501 / 405)",
    run: async (x) => {
      x.c.send(req("get", "/method"));
      const r = await x.c.response(x.deadline);
      if (r.status === 200 && r.body === "get") return;
      if (r.status === 501 || r.status === 405) return;
      fail(`expected the method get kept as sent (or 501), got ${show(r)}`);
    },
  },
  {
    id: "9112/3/3",
    title: "an unknown method (a token) reaches the handler as sent, or gets 501 (RFC 9110 §9.1)",
    run: async (x) => {
      x.c.send(req("FROB-2", "/method"));
      const r = await x.c.response(x.deadline);
      if (!((r.status === 200 && r.body === "FROB-2") || r.status === 501)) fail(`got ${show(r)}`);
    },
  },
  rejects("9112/3/4", "two spaces between method and target: an invalid request-line, 400 (no autocorrection)", `GET  / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`),
  rejects("9112/3/5", "whitespace inside the request-target is invalid, 400 (RFC 9112 §3.2)", `GET /a b HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`),
  rejects("9112/3/6", "a request-line with trailing whitespace after the version is invalid, 400", `GET / HTTP/1.1 \r\nHost: ${HOST}\r\n\r\n`),
  rejects("9112/3/7", "an empty request-target is invalid, 400", `GET  HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`),
  rejects("9112/3/8", "a request-target too long for the server: 414 (RFC 9110 §15.5.15)", get(`/${"a".repeat(70_000)}`), 414),
  rejects("9112/3.2/1", "origin-form has no fragment: `GET /a#b` is invalid, 400", get("/a#b")),
  {
    id: "9112/3.2.2/1",
    title: "absolute-form MUST be accepted, and the target's authority wins over Host",
    tls: false,
    run: async (x) => {
      x.c.send(req("GET", `http://example.test:81/url?q=1`, ["Host: other.test"]));
      const r = await expectStatus(x, 200);
      if (!r.body.startsWith("http") || !r.body.includes("://example.test:81/url?q=1")) fail(`the URL made of the target is ${JSON.stringify(r.body)}`);
    },
  },
  rejects("9112/3.2.2/2", "absolute-form with an unterminated IPv6 literal is invalid, 400", req("GET", "http://[::1/x")),
  rejects("9112/3.2.3/1", "authority-form is only for CONNECT: `GET host:80` is invalid, 400", req("GET", "example.test:80")),
  rejects("9112/3.2.3/2", "CONNECT needs authority-form: `CONNECT /path` is invalid, 400 (RFC 9110 §9.3.6)", req("CONNECT", "/path")),
  {
    id: "9112/3.2.3/3",
    title: "CONNECT host:port is a valid request: answered, not 400 (a 2xx, the tunnel, carries no Content-Length or Transfer-Encoding: RFC 9110 §8.6)",
    run: async (x) => {
      x.c.send(req("CONNECT", "example.test:443", ["Host: example.test:443"]));
      const r = await x.c.response(x.deadline, { method: "CONNECT" });
      if (r.status === 400 || r.status < 200) fail(`expected an answer other than 400, got ${show(r)}`);
    },
  },
  rejects("9112/3.2.4/1", "asterisk-form is only for OPTIONS: `GET *` is invalid, 400", req("GET", "*")),
  {
    id: "9112/3.2.4/2",
    title: "OPTIONS * is answered (RFC 9110 §9.3.7)",
    tls: true,
    run: async (x) => {
      x.c.send(req("OPTIONS", "*"));
      const r = await x.c.response(x.deadline);
      if (r.status < 200 || r.status >= 300) fail(`expected a 2xx, got ${show(r)}`);
      x.c.send(get("/method"));
      await expectBody(x, "GET");
    },
  },

  // ---- RFC 9112 §3.2 / RFC 9110 §7.2: Host ----
  rejects("9112/3.2/2", "an HTTP/1.1 request without Host MUST be answered 400", req("GET", "/", []), 400, true),
  rejects("9112/3.2/3", "a request with two Host field lines MUST be answered 400", req("GET", "/", [`Host: ${HOST}`, "Host: other.test"])),
  rejects("9112/3.2/4", "a Host with an invalid value (a space) MUST be answered 400", req("GET", "/", ["Host: exa mple"])),
  rejects("9112/3.2/5", "a Host with an invalid value (a slash) MUST be answered 400", req("GET", "/", ["Host: a/b"])),
  rejects("9112/3.2/6", "a Host with an invalid value (userinfo) MUST be answered 400", req("GET", "/", ["Host: user@a"])),
  rejects("9112/3.2/7", "a Host with a bad port MUST be answered 400", req("GET", "/", ["Host: a:8x"])),
  rejects("9112/3.2/11", "an HTTP/1.0 request with an invalid Host is answered 400 too", req("GET", "/", ["Host: exa mple"], "", "HTTP/1.0")),
  rejects("9112/3.2/12", "an HTTP/1.0 request with two Host field lines is answered 400 too", req("GET", "/", [`Host: ${HOST}`, "Host: other.test"], "", "HTTP/1.0")),
  serves("9112/3.2/8", "an empty Host is valid (an authority with no host)", req("GET", "/method", ["Host:"]), "GET"),
  serves("9112/3.2/9", "Host with an IPv6 literal and a port is valid", req("GET", "/method", ["Host: [::1]:8080"]), "GET"),
  {
    id: "9112/3.2/10",
    title: "an HTTP/1.0 request without Host is served",
    run: async (x) => {
      x.c.send(req("GET", "/method", [], "", "HTTP/1.0"));
      await expectBody(x, "GET", { version: "1.0" });
    },
  },

  // ---- RFC 9112 §5 / RFC 9110 §5.5: field syntax ----
  rejects("9112/5.1/1", "whitespace between a field name and the colon MUST be answered 400", req("GET", "/", [`Host: ${HOST}`, "X-A : 1"]), 400, true),
  rejects("9112/5.1/2", "whitespace between the Host name and the colon MUST be answered 400", req("GET", "/", [`Host : ${HOST}`])),
  rejects("9112/5/1", "a field line without a colon is invalid, 400", req("GET", "/", [`Host: ${HOST}`, "NoColon"])),
  rejects("9112/5/2", "an empty field name is invalid, 400", req("GET", "/", [`Host: ${HOST}`, ": x"])),
  rejects("9112/5/3", "a field name with a separator is invalid, 400", req("GET", "/", [`Host: ${HOST}`, "X(A): 1"])),
  {
    id: "9112/5.2/1",
    title: "obs-fold in a request: 400, or each fold replaced by SP",
    run: async (x) => {
      x.c.send(`GET /field?name=x-f HTTP/1.1\r\nHost: ${HOST}\r\nX-F: a\r\n b\r\n\r\n${get("/never")}`);
      const r = await x.c.response(x.deadline);
      if (r.status === 400) {
        await x.c.closed(x.deadline, "the 400");
        expectNotHandled(x, "/never");
      } else if (r.status !== 200 || !/^a +b$/.test(r.body)) fail(`expected 400 or "a b", got ${show(r)}`);
    },
  },
  rejects("9110/5.5/1", "a bare CR in a field value: reject (400)", req("GET", "/", [`Host: ${HOST}`, "X-A: a\rb"])),
  rejects("9110/5.5/2", "a NUL in a field value: reject (400)", req("GET", "/", [`Host: ${HOST}`, "X-A: a\0b"])),
  rejects("9110/5.5/3", "a NUL in a field name: reject (400)", req("GET", "/", [`Host: ${HOST}`, "X-\0A: b"])),
  serves("9110/5.5/4", "obs-text (octets 0x80-0xff) in a field value is valid", `GET /method HTTP/1.1\r\nHost: ${HOST}\r\nX-A: caf\xe9\r\n\r\n`, "GET"),
  serves("9110/5.5/5", "OWS around a field value is not part of it", `GET /field?name=x-a HTTP/1.1\r\nHost: ${HOST}\r\nX-A: \t v \t\r\n\r\n`, "v"),
  rejects("9110/5.4/1", "a field section larger than the server takes: 431 (RFC 6585 §5)", req("GET", "/", [`Host: ${HOST}`, `X-Big: ${"b".repeat(200_000)}`]), 431),

  // ---- RFC 9112 §6: message body length ----
  {
    id: "9112/6.3/1",
    title: "Content-Length frames the body; the bytes after it are the next request",
    tls: true,
    run: async (x) => {
      x.c.send(withLength("5", "helloGET /method HTTP/1.1\r\nHost: a\r\n\r\n"));
      await expectBody(x, "hello");
      await expectBody(x, "GET");
    },
  },
  {
    id: "9112/6.3/2",
    title: "a request without Content-Length or Transfer-Encoding has no body (length 0)",
    run: async (x) => {
      x.c.send(req("POST", "/len") + get("/method"));
      await expectBody(x, "0");
      await expectBody(x, "GET");
    },
  },
  {
    id: "9112/6.3/3",
    title: "Transfer-Encoding and Content-Length both: 400 and close, or chunked wins and the connection closes after (no smuggled request)",
    tls: true,
    run: async (x) => {
      x.c.send(req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 4", "Transfer-Encoding: chunked"], `5\r\nhello\r\n0\r\n\r\n`) + get("/never"));
      const r = await x.c.response(x.deadline);
      if (r.status === 400) {
        if (!hasOption(r, "connection", "close")) fail(`400 without Connection: close: ${show(r)}`);
      } else if (r.status !== 200 || r.body !== "hello") fail(`expected 400, or chunked's body "hello", got ${show(r)}`);
      await x.c.closed(x.deadline);
      expectNotHandled(x, "/never");
    },
  },
  rejects("9112/6.3/4", "a Transfer-Encoding whose final coding is not chunked: 400 and close", req("POST", "/echo", [`Host: ${HOST}`, "Transfer-Encoding: gzip"], "abc")),
  rejects("9112/6.3/5", "Transfer-Encoding `chunked, gzip` (chunked not final): 400 and close", req("POST", "/echo", [`Host: ${HOST}`, "Transfer-Encoding: chunked, gzip"], "0\r\n\r\n")),
  rejects("9112/6.3/6", "chunked applied twice (`chunked, chunked`): 400 (RFC 9112 §6.1)", req("POST", "/echo", [`Host: ${HOST}`, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], "0\r\n\r\n")),
  rejects("9112/6.3/7", "a transfer coding the server does not know before chunked: 501 (RFC 9112 §6.1)", req("POST", "/echo", [`Host: ${HOST}`, "Transfer-Encoding: frobnicate, chunked"], "0\r\n\r\n"), 501),
  serves("9112/6.3/8", "transfer-coding names are case-insensitive: `Chunked` is chunked", chunked("5\r\nhello\r\n0\r\n\r\n", []).replace("chunked", "Chunked"), "hello"),
  serves("9112/6.3/17", "OWS (a tab) before the Transfer-Encoding value is not part of it: chunked", req("POST", "/echo", [`Host: ${HOST}`, "Transfer-Encoding:\tchunked"], "5\r\nhello\r\n0\r\n\r\n"), "hello"),
  rejects("9112/6.3/9", "an invalid Content-Length (`+5`): 400 and close", withLength("+5", "hello")),
  rejects("9112/6.3/10", "an invalid Content-Length (`-1`): 400 and close", withLength("-1", "")),
  rejects("9112/6.3/11", "an invalid Content-Length (`0x5`): 400 and close", withLength("0x5", "hello")),
  rejects("9112/6.3/12", "an invalid Content-Length (`5 5`): 400 and close", withLength("5 5", "hello")),
  rejects("9112/6.3/13", "Content-Length with differing values (`5, 6`): 400 and close", withLength("5, 6", "hello")),
  rejects("9112/6.3/14", "two Content-Length lines with differing values: 400 and close", req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 5", "Content-Length: 6"], "hello"), 400, true),
  {
    id: "9112/6.3/15",
    title: "two identical Content-Length values: 400, or taken as one (RFC 9110 §8.6)",
    run: async (x) => {
      x.c.send(req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 5", "Content-Length: 5"], "hello") + get("/method"));
      const r = await x.c.response(x.deadline);
      if (r.status === 400) {
        await x.c.closed(x.deadline, "the 400");
      } else {
        if (r.status !== 200 || r.body !== "hello") fail(`expected 400 or "hello", got ${show(r)}`);
        await expectBody(x, "GET");
      }
    },
  },
  rejects("9112/6.3/16", "a Content-Length beyond any integer: 400 (or 413)", withLength("99999999999999999999999", "x"), 400),
  rejects("9112/6.3/18", "a declared Content-Length above what the server takes: 413 at once, without waiting for the body (RFC 9110 §15.5.14)", withLength("1000000000000000", "x"), 413),
  rejects("9110/5.4/2", "more header fields than the server takes: 431 (RFC 6585 §5)", req("GET", "/", [`Host: ${HOST}`, ...Array.from({ length: 2000 }, (_, i) => `X-F${i}: ${i}`)]), 431),
  rejects("9112/6.1/1", "Transfer-Encoding in an HTTP/1.0 request: faulty framing, 400 and close", req("POST", "/echo", ["Transfer-Encoding: chunked"], "5\r\nhello\r\n0\r\n\r\n", "HTTP/1.0"), 400),

  // ---- RFC 9112 §7: chunked ----
  {
    id: "9112/7.1/1",
    title: "chunked request body: sizes in hex (either case, leading zeros), then the next request",
    tls: true,
    run: async (x) => {
      x.c.send(chunked("5\r\nhello\r\n00A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n") + get("/method"));
      await expectBody(x, "hello0123456789abcdefghijk");
      await expectBody(x, "GET");
    },
  },
  serves("9112/7.1.1/1", "chunk extensions are accepted (and ignored): tokens, quoted strings, BWS", chunked(`5;a=b;c="d;e" ;f\r\nhello\r\n0;z=1\r\n\r\n`), "hello"),
  rejects("9112/7.1/2", "a chunk size that is not hex: 400 and close", chunked("0x5\r\nhello\r\n0\r\n\r\n")),
  rejects("9112/7.1/3", "a negative chunk size: 400 and close", chunked("-5\r\nhello\r\n0\r\n\r\n")),
  rejects("9112/7.1/4", "an empty chunk size line: 400 and close", chunked("\r\nhello\r\n0\r\n\r\n")),
  rejects("9112/7.1/5", "a chunk size beyond any integer: 400 (or 413)", chunked("fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n")),
  rejects("9112/7.1/6", "chunk data longer than its size (no CRLF after it): 400 and close", chunked("3\r\nhello\r\n0\r\n\r\n")),
  rejects("9112/7.1.1/2", "a chunk extension with a bad name: 400 and close", chunked("5;a b\r\nhello\r\n0\r\n\r\n")),
  {
    id: "9112/7.1.2/1",
    title: "trailer fields after the last chunk are accepted, the request served and the next one read",
    run: async (x) => {
      x.c.send(chunked("5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Other: two\r\n\r\n", ["Trailer: X-Sum, X-Other"]) + get("/method"));
      await expectBody(x, "hello");
      await expectBody(x, "GET");
    },
  },
  {
    id: "9112/7.1.2/2",
    title: "a Content-Length in the trailer does not change the framing: refused (400 and close) or ignored (RFC 9110 §6.5.1)",
    run: async (x) => {
      x.c.send(chunked("5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n") + get("/method"));
      const r = await x.c.response(x.deadline);
      if (r.status === 400) {
        await x.c.closed(x.deadline, "the 400");
        return;
      }
      if (r.status !== 200 || r.body !== "hello") fail(`expected 400 or "hello", got ${show(r)}`);
      await expectBody(x, "GET");
    },
  },
  rejects("9112/7.1.2/3", "a malformed trailer line (whitespace before the colon): 400 and close", chunked("5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n")),

  // ---- RFC 9110 §9.3 / §15: responses ----
  {
    id: "9110/9.3.2/1",
    title: "a response to HEAD has no content (the next pipelined response follows its head at once)",
    tls: true,
    run: async (x) => {
      x.c.send(req("HEAD", "/") + get("/method"));
      const r = await expectStatus(x, 200, { method: "HEAD" });
      const cl = field(r, "content-length");
      if (cl !== undefined && cl !== "5") fail(`HEAD's Content-Length ${cl} is not GET's 5 (RFC 9110 §8.6 SHOULD)`);
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/9.3.2/2",
    title: "HEAD of a body of unknown length: no content, no chunked body, the connection usable",
    run: async (x) => {
      x.c.send(req("HEAD", "/stream") + get("/method"));
      await expectStatus(x, 200, { method: "HEAD" });
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/15.3.5/1",
    title: "a 204 has no content and no Content-Length even when the handler sets one (RFC 9110 §8.6)",
    run: async (x) => {
      x.c.send(get("/204") + get("/method"));
      await expectStatus(x, 204);
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/15.4.5/1",
    title: "a 304 has no content",
    run: async (x) => {
      x.c.send(get("/304") + get("/method"));
      const r = await expectStatus(x, 304);
      if (field(r, "etag") === undefined) fail(`the 304 lost its ETag: ${show(r)}`);
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/6.6.1/1",
    title: "Date on a rejection (4xx) too",
    run: async (x) => {
      x.c.send(req("GET", "/", []));
      await expectStatus(x, 400); // checkResponse holds every 2xx-5xx to one IMF-fixdate Date
    },
  },
  {
    id: "9110/15/1",
    title: "the status line carries the handler's status and reason phrase (`HTTP/1.1 299 Fine`)",
    run: async (x) => {
      x.c.send(get("/reason"));
      const r = await x.c.response(x.deadline);
      if (r.statusLine !== "HTTP/1.1 299 Fine") fail(`status line ${JSON.stringify(r.statusLine)}`);
    },
  },
  {
    id: "9110/15/2",
    title: "a status without a handler's reason: `HTTP/1.1 404 ` + a reason (SP present even when empty)",
    run: async (x) => {
      x.c.send(get("/404"));
      const r = await expectStatus(x, 404);
      if (!/^HTTP\/1\.1 404 [\t\x20-\x7e\x80-\xff]*$/.test(r.statusLine)) fail(`status line ${JSON.stringify(r.statusLine)}`);
    },
  },

  // ---- RFC 9112 §9: connection management ----
  {
    id: "9112/9.3/1",
    title: "HTTP/1.1 connections persist: two requests in turn on one connection",
    tls: true,
    run: async (x) => {
      x.c.send(get("/method"));
      const r = await expectBody(x, "GET");
      if (hasOption(r, "connection", "close")) fail(`an HTTP/1.1 response closes by default: ${show(r)}`);
      x.c.send(req("PUT", "/method"));
      await expectBody(x, "PUT");
    },
  },
  {
    id: "9112/9.3/2",
    title: "HTTP/1.0 without keep-alive: the server closes after the response and does not offer keep-alive",
    run: async (x) => {
      x.c.send(req("GET", "/method", [`Host: ${HOST}`], "", "HTTP/1.0"));
      const r = await expectBody(x, "GET", { version: "1.0" });
      if (hasOption(r, "connection", "keep-alive")) fail(`keep-alive offered to a 1.0 client that did not ask: ${show(r)}`);
      await x.c.closed(x.deadline);
    },
  },
  {
    id: "9112/9.3/3",
    title: "HTTP/1.0 with Connection: keep-alive: the response says keep-alive, has a length, and the connection persists",
    run: async (x) => {
      x.c.send(req("GET", "/method", [`Host: ${HOST}`, "Connection: keep-alive"], "", "HTTP/1.0"));
      const r = await expectBody(x, "GET", { version: "1.0" });
      if (!hasOption(r, "connection", "keep-alive") || r.framing !== "length") fail(`expected keep-alive and a Content-Length: ${show(r)}`);
      x.c.send(req("GET", "/method", [`Host: ${HOST}`, "Connection: keep-alive"], "", "HTTP/1.0"));
      await expectBody(x, "GET", { version: "1.0" });
    },
  },
  {
    id: "9112/9.3/4",
    title: "a body of unknown length to an HTTP/1.0 client: no chunked; a Content-Length or the close ends it",
    tls: true,
    run: async (x) => {
      x.c.send(req("GET", "/stream", [`Host: ${HOST}`], "", "HTTP/1.0"));
      const r = await expectBody(x, "abcdef", { version: "1.0" });
      if (r.framing !== "close") await x.c.closed(x.deadline);
    },
  },
  {
    id: "9112/9.3/5",
    title: "a body of unknown length to an HTTP/1.0 keep-alive client: no chunked; a Content-Length, or the close",
    run: async (x) => {
      x.c.send(req("GET", "/stream", [`Host: ${HOST}`, "Connection: keep-alive"], "", "HTTP/1.0"));
      const r = await expectBody(x, "abcdef", { version: "1.0" });
      if (r.framing === "close") return;
      if (!hasOption(r, "connection", "keep-alive")) await x.c.closed(x.deadline);
    },
  },
  {
    id: "9112/9.6/1",
    title: "Connection: close from the client: honoured and echoed, and a request after it is not processed",
    tls: true,
    run: async (x) => {
      x.c.send(get("/method", ["Connection: close"]) + get("/never"));
      const r = await expectBody(x, "GET");
      if (!hasOption(r, "connection", "close")) fail(`Connection: close not echoed (RFC 9112 §9.6 SHOULD): ${show(r)}`);
      await x.c.closed(x.deadline);
      expectNotHandled(x, "/never");
    },
  },
  serves("9112/9.6/2", "`Connection: keep-alive` on HTTP/1.1 changes nothing: served, the connection persists", get("/method", ["Connection: keep-alive"]), "GET"),
  {
    id: "9112/9.6/3",
    title: "`Connection: CLOSE` (any case) closes too",
    run: async (x) => {
      x.c.send(get("/method", ["Connection: Keep-Alive, CLOSE"]) + get("/never"));
      await expectBody(x, "GET");
      await x.c.closed(x.deadline);
      expectNotHandled(x, "/never");
    },
  },
  {
    id: "9112/9.3.2/1",
    title: "pipelining: responses in the order of the requests, a slow first one included",
    tls: true,
    run: async (x) => {
      x.c.send(get("/slow") + req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 3"], "two") + get("/method"));
      await expectBody(x, "slow");
      await expectBody(x, "two");
      await expectBody(x, "GET");
    },
  },
  {
    id: "9112/9.3.2/2",
    title: "pipelining: a rejected request after good ones: the good ones answered in order, then the rejection, nothing after",
    run: async (x) => {
      x.c.send(get("/slow") + get("/method") + req("GET", "/", [`Host: ${HOST}`, `Host: ${HOST}`]) + get("/never"));
      await expectBody(x, "slow");
      await expectBody(x, "GET");
      await expectReject(x, 400);
    },
  },

  // ---- RFC 9110 §10.1.1: Expect ----
  {
    id: "9110/10.1.1/1",
    title: "Expect: 100-continue: 100 (Continue) when the body is read, then the final response",
    tls: true,
    run: async (x) => {
      x.c.send(req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 5", "Expect: 100-continue"]));
      const interim = await x.c.response(x.deadline);
      if (interim.status !== 100) fail(`expected 100 before the body was sent, got ${show(interim)}`);
      x.c.send("hello");
      await expectBody(x, "hello");
      x.c.send(get("/method"));
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/10.1.1/2",
    title: "Expect: 100-continue and a handler that does not read the body: the final response without 100, then the body skipped or the close",
    run: async (x) => {
      x.c.send(req("POST", "/ignore", [`Host: ${HOST}`, "Content-Length: 5", "Expect: 100-continue"]));
      await expectBody(x, "ignored");
      x.c.send(`hello${get("/method")}`);
      let r: RawResponse | undefined;
      try {
        r = await x.c.response(x.deadline);
      } catch (e) {
        if (!x.c.isClosed) throw e;
      }
      if (r !== undefined && !(r.status === 200 && r.body === "GET")) fail(`the body was read as a request: ${show(r)}`);
    },
  },
  {
    id: "9110/10.1.1/3",
    title: "Expect with 100-continue on a request without content: no 100, just the response",
    run: async (x) => {
      x.c.send(get("/method", ["Expect: 100-continue"]));
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/10.1.1/4",
    title: "an expectation other than 100-continue: 417 (Expectation Failed)",
    run: async (x) => {
      x.c.send(req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 5", "Expect: something-else"], "hello") + get("/method"));
      const r = await expectStatus(x, 417);
      if (!hasOption(r, "connection", "close")) await expectBody(x, "GET");
      else {
        await x.c.closed(x.deadline);
      }
      if (x.handled().some((h) => h.endsWith(" /echo"))) fail("the request with the failed expectation reached the handler");
    },
  },
  {
    id: "9110/10.1.1/5",
    title: "an HTTP/1.0 request with Expect: 100-continue gets no 100 (RFC 9110 §10.1.1)",
    run: async (x) => {
      x.c.send(req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 5", "Expect: 100-continue"], "", "HTTP/1.0"));
      x.c.send("hello");
      await expectBody(x, "hello", { version: "1.0" });
    },
  },

  // ---- RFC 9110 §9.3.8: TRACE ----
  {
    id: "9110/9.3.8/1",
    title: "TRACE: answered (the handler's answer or a refusal, 405/501), never reflecting the request's Cookie",
    run: async (x) => {
      x.c.send(req("TRACE", "/", [`Host: ${HOST}`, "Cookie: secret=1"]) + get("/method"));
      const r = await x.c.response(x.deadline);
      if (r.status < 200 || r.status === 400) fail(`got ${show(r)}`);
      if (r.body.includes("secret=1")) fail("TRACE reflected the Cookie (RFC 9110 §9.3.8: exclude sensitive data)");
      await expectBody(x, "GET");
    },
  },

  // ---- RFC 9110 §7.8: Upgrade ----
  {
    id: "9110/7.8/1",
    title: "an Upgrade to a protocol the server does not switch to is ignored: the request is served over HTTP/1.1",
    tls: true,
    run: async (x) => {
      x.c.send(get("/method", ["Upgrade: frob/1", "Connection: Upgrade"]));
      await expectBody(x, "GET");
      x.c.send(get("/method"));
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/7.8/2",
    title: "Upgrade without `upgrade` in Connection is ignored (RFC 9110 §7.8: the sender MUST send it)",
    run: async (x) => {
      x.c.send(get("/method", ["Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"]));
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/7.8/3",
    title: "Upgrade: h2c on a request with content: served over HTTP/1.1 (the body read as HTTP/1.1), or 101 after the body and HTTP/2 from then on",
    run: async (x) => {
      x.c.send(req("POST", "/echo", [`Host: ${HOST}`, "Content-Length: 5", "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAAQAAP__"], "hello"));
      const r = await x.c.response(x.deadline);
      if (r.status === 101) {
        // Switched (RFC 7540 §3.2: the body read first): HTTP/2 from the next octet on, the server's preface, a SETTINGS frame on stream 0.
        if (field(r, "upgrade")?.toLowerCase() !== "h2c" || !hasOption(r, "connection", "upgrade")) fail(`a 101 without Upgrade: h2c and Connection: Upgrade: ${show(r)}`);
        const f = await x.c.raw(9, x.deadline);
        if (f[3] !== 0x4 || (f[5]! | f[6]! | f[7]! | f[8]!) !== 0) fail(`after the 101: not a SETTINGS frame on stream 0 (${Array.from(f).join(" ")})`);
        return;
      }
      if (r.status !== 200 || r.body !== "hello") fail(`got ${show(r)}`);
      x.c.send(get("/method"));
      await expectBody(x, "GET");
    },
  },
  {
    id: "9110/7.8/4",
    title: "Upgrade on an HTTP/1.0 request is ignored",
    run: async (x) => {
      x.c.send(req("GET", "/method", [`Host: ${HOST}`, "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAAQAAP__"], "", "HTTP/1.0"));
      await expectBody(x, "GET", { version: "1.0" });
    },
  },
];

