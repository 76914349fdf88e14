/**
 * HTTP/1.1 client conformance cases: what RFC 9112 (HTTP/1.1) and RFC 9110
 * (HTTP semantics) ask of a client reading responses — message length
 * (RFC 9112 §6.3), the status line (§4), field lines (§5), interim
 * responses (RFC 9110 §15.2), bodiless responses, connection reuse (RFC
 * 9112 §9) and the retry of an idempotent request (RFC 9110 §9.2.2) —
 * each named by its section, played by a raw-socket server (driver.ts)
 * against the client under test.
 *
 * Strictness, like the server suites': where the RFC says "error", the
 * caller must see an error (never a short or wrong body, never a hang);
 * where it leaves a choice (reject, or repair as it says), the case says
 * which answers pass. A connection that must not be reused is checked by
 * the connection the next request arrives on.
 *
 * @module
 */
import { CaseFailure, type ClientUnderTest, type Outcome, type ScriptedServer, type Script, type SendOptions, type ServerConn } from "./driver.ts";

/** What a case runs with. */
export interface Ctx {
  readonly client: ClientUnderTest;
  readonly server: ScriptedServer;
  readonly deadline: number;
}

/** One case. */
export interface ClientCase {
  /** "<rfc>/<section>/<n>", e.g. "9112/6.3/1". */
  readonly id: string;
  /** The requirement, in the RFC's words where short enough. */
  readonly title: string;
  /** Every connection the client opens is played by this. */
  readonly script: Script;
  /** The client side: sends and checks. */
  readonly run: (x: Ctx) => Promise<void>;
}

function fail(message: string): never {
  throw new CaseFailure(message);
}

/** An outcome, for messages. */
export function showOutcome(o: Outcome): string {
  if (o.kind === "error") return `error ${o.code} in the ${o.phase}: ${o.message}`;
  const body = o.body.length > 60 ? `${o.body.slice(0, 60)}…(${o.body.length})` : o.body;
  return `${o.status} body ${JSON.stringify(body)}`;
}

/** A response's bytes: status line, field lines, CRLF, body. */
export function res(status: string, fields: readonly string[], body = ""): string {
  return `HTTP/1.1 ${status}\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n${body}`;
}

/** A 200 with Content-Length. */
export function ok(body: string, more: readonly string[] = []): string {
  return res("200 OK", [`Content-Length: ${body.length}`, ...more], body);
}

async function expectResponse(x: Ctx, o: SendOptions, status: number, body: string): Promise<Outcome & { kind: "response" }> {
  const r = await x.client.send(o);
  if (r.kind !== "response" || r.status !== status || r.body !== body) fail(`expected ${status} with the body ${JSON.stringify(body)}, got ${showOutcome(r)}`);
  return r;
}

async function expectError(x: Ctx, o: SendOptions = {}, why = ""): Promise<void> {
  const r = await x.client.send(o);
  if (r.kind !== "error") fail(`expected an error${why === "" ? "" : ` (${why})`}, got ${showOutcome(r)}`);
  if (r.code === "HANG") fail(`expected an error${why === "" ? "" : ` (${why})`}, the client waited: ${r.message}`);
}

/** Reads requests on a connection, answering each with `answer(request text, n-th on this connection)`; undefined ends the connection at once. */
function serveEach(answer: (conn: ServerConn, target: string, n: number, method: string) => string | undefined): Script {
  return async (conn, deadline) => {
    for (let n = 0; ; n++) {
      const r = await conn.readRequest(deadline);
      if (r === undefined) return;
      const bytes = answer(conn, r.target, n, r.method);
      if (bytes === undefined) {
        conn.destroy();
        return;
      }
      conn.send(bytes);
    }
  };
}

/** Every request gets this response (kept open). */
function always(bytes: string): Script {
  return serveEach(() => bytes);
}

/** The first request on connection 0 gets `first`; every other request a plain 200 "next". */
function firstThenNext(first: string): Script {
  return serveEach((conn, _t, n) => conn.index === 0 && n === 0 ? first : ok("next"));
}

/** The connection (its number) the n-th request of the case came on. */
function connOf(x: Ctx, n: number): number {
  const line = x.server.log[n];
  if (line === undefined) fail(`request ${n + 1} never reached the server: ${JSON.stringify(x.server.log)}`);
  return Number(line.slice(0, line.indexOf(":")));
}

/** The first exchange must fail, or (when the rule allows a repair) give `body`; then the connection is not reused for the next request. */
async function errorOrBodyThenNewConnection(x: Ctx, body: string): Promise<void> {
  const r = await x.client.send({ path: "/a" });
  if (r.kind === "error" && r.code === "HANG") fail(`the client waited: ${r.message}`);
  if (r.kind === "response" && (r.status !== 200 || r.body !== body)) fail(`expected an error or 200 ${JSON.stringify(body)}, got ${showOutcome(r)}`);
  await expectResponse(x, { path: "/b" }, 200, "next");
  if (connOf(x, 1) === 0) fail(`the connection was reused after a response whose framing is faulty: ${JSON.stringify(x.server.log)}`);
}

/** Invalid Content-Length values (RFC 9110 §8.6: 1*DIGIT). */
const BAD_LENGTHS = ["abc", "-1", "+5", "0x5", "5 5", "5.0", "", "99999999999999999999999"];

const LENGTH_CASES: ClientCase[] = BAD_LENGTHS.map((v, i) => ({
  id: `9112/6.3/5.${i + 1}`,
  title: `an invalid Content-Length (${JSON.stringify(v)}) is an unrecoverable error`,
  script: always(res("200 OK", [`Content-Length: ${v}`], "hello")),
  run: (x) => expectError(x),
}));

/** The cases, in the order of the RFCs' sections. */
export const CASES: readonly ClientCase[] = [
  // ---- RFC 9112 §4 status line
  {
    id: "9112/4/1",
    title: "a status line without a reason phrase (\"200 \") is a 200",
    script: always("HTTP/1.1 200 \r\nContent-Length: 5\r\n\r\nhello"),
    run: async (x) => void await expectResponse(x, {}, 200, "hello"),
  },
  {
    id: "9112/4/2",
    title: "the reason phrase is ignored: any text, even \"Not Found\" on a 200",
    script: always("HTTP/1.1 200 Not Found at all\r\nContent-Length: 5\r\n\r\nhello"),
    run: async (x) => void await expectResponse(x, {}, 200, "hello"),
  },
  ...[["2000", "four digits"], ["20", "two digits"], ["2a0", "a letter"], ["-200", "a sign"], ["099", "below 100"], ["600", "above 599"]].map(([code, what], i): ClientCase => ({
    id: `9112/4/${3 + i}`,
    title: `a status code of ${what} (${code}) is an error: status-code = 3DIGIT, 100-599 (RFC 9110 §15)`,
    script: always(`HTTP/1.1 ${code} OK\r\nContent-Length: 5\r\n\r\nhello`),
    run: (x) => expectError(x),
  })),
  {
    id: "9112/2.3/1",
    title: "an HTTP/1.0 response is read (Content-Length framing) and its connection is not reused (no keep-alive)",
    script: serveEach((conn, _t, n) => conn.index === 0 && n === 0 ? "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello" : ok("next")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) === 0) fail(`an HTTP/1.0 response without keep-alive, and the connection was reused: ${JSON.stringify(x.server.log)}`);
    },
  },
  {
    id: "9112/2.3/2",
    title: "an HTTP/1.0 response without Content-Length is read until the close",
    script: async (conn, deadline) => {
      await conn.readRequest(deadline);
      conn.send("HTTP/1.0 200 OK\r\n\r\nhello, until the close");
      conn.end();
    },
    run: async (x) => void await expectResponse(x, {}, 200, "hello, until the close"),
  },
  {
    id: "9112/2.2/1",
    title: "bare LF line ends in a response: read as CRLF or rejected (RFC 9112 §2.2), never misframed",
    script: always("HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello"),
    run: async (x) => {
      const r = await x.client.send();
      if (r.kind === "error" && r.code !== "HANG") return;
      if (r.kind !== "response" || r.status !== 200 || r.body !== "hello") fail(`expected an error or 200 "hello", got ${showOutcome(r)}`);
    },
  },
  // ---- RFC 9112 §5 field lines
  {
    id: "9112/5.2/1",
    title: "obs-fold in a response field: a user agent MUST replace it with SP and read the message",
    script: always("HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 5\r\n\r\nhello"),
    run: async (x) => {
      const r = await expectResponse(x, {}, 200, "hello");
      const v = r.headers.find(([k]) => k === "x-folded")?.[1];
      if (v === undefined || !/^a +b$/.test(v)) fail(`the folded value is ${JSON.stringify(v)}, expected "a b" (SP for the fold)`);
    },
  },
  ...[["NUL", "\0"], ["CR", "\r"]].map(([what, ch], i): ClientCase => ({
    id: `9110/5.5/${i + 1}`,
    title: `a ${what} in a response field value: the message is rejected, or the ${what} replaced by SP (RFC 9110 §5.5)`,
    script: always(`HTTP/1.1 200 OK\r\nX-Bad: a${ch}b\r\nContent-Length: 5\r\n\r\nhello`),
    run: async (x) => {
      const r = await x.client.send();
      if (r.kind === "error" && r.code !== "HANG") return;
      if (r.kind !== "response") fail(`the client waited: ${showOutcome(r)}`);
      const v = r.headers.find(([k]) => k === "x-bad")?.[1];
      if (v !== "a b") fail(`accepted with the value ${JSON.stringify(v)}; expected an error or "a b"`);
    },
  })),
  {
    id: "9112/5.1/1",
    title: "whitespace between a field name and the colon: rejected, or the field not taken as Content-Length",
    script: always("HTTP/1.1 200 OK\r\nContent-Length : 3\r\nContent-Length: 5\r\n\r\nhello"),
    run: async (x) => {
      const r = await x.client.send();
      if (r.kind === "error" && r.code !== "HANG") return;
      if (r.kind !== "response" || r.body !== "hello") fail(`expected an error or 200 "hello", got ${showOutcome(r)}`);
    },
  },
  // ---- RFC 9112 §6.3 message length
  {
    id: "9112/6.3/1",
    title: "Content-Length and Transfer-Encoding: chunked wins (or the message is an error), and the connection is not reused",
    script: firstThenNext("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    run: (x) => errorOrBodyThenNewConnection(x, "hello"),
  },
  {
    id: "9112/6.3/2",
    title: "Transfer-Encoding before Content-Length: the same",
    script: firstThenNext("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    run: (x) => errorOrBodyThenNewConnection(x, "hello"),
  },
  {
    id: "9112/6.3/3",
    title: "two Content-Length fields that differ are an unrecoverable error",
    script: always(res("200 OK", ["Content-Length: 5", "Content-Length: 6"], "hello!")),
    run: (x) => expectError(x),
  },
  {
    id: "9112/6.3/4",
    title: "one Content-Length with differing values (\"5, 6\") is an unrecoverable error",
    script: always(res("200 OK", ["Content-Length: 5, 6"], "hello!")),
    run: (x) => expectError(x),
  },
  ...LENGTH_CASES,
  {
    id: "9112/6.3/6",
    title: "Content-Length \"5, 5\" (the same value repeated): read as 5 or rejected (RFC 9110 §8.6)",
    script: always(res("200 OK", ["Content-Length: 5, 5"], "hello")),
    run: async (x) => {
      const r = await x.client.send();
      if (r.kind === "error" && r.code !== "HANG") return;
      if (r.kind !== "response" || r.body !== "hello") fail(`expected an error or 200 "hello", got ${showOutcome(r)}`);
    },
  },
  {
    id: "9112/6.3/7",
    title: "a body shorter than its Content-Length, then the close: an error, not a short body",
    script: async (conn, deadline) => {
      await conn.readRequest(deadline);
      conn.send(res("200 OK", ["Content-Length: 10"], "hello"));
      conn.end();
    },
    run: (x) => expectError(x, {}, "the body ended 5 octets short"),
  },
  {
    id: "9112/6.3/8",
    title: "a chunked body cut before its last chunk, then the close: an error, not a short body",
    script: async (conn, deadline) => {
      await conn.readRequest(deadline);
      conn.send(res("200 OK", ["Transfer-Encoding: chunked"], "5\r\nhello\r\n"));
      conn.end();
    },
    run: (x) => expectError(x, {}, "the last chunk never came"),
  },
  {
    id: "9112/6.3/9",
    title: "no Content-Length, no Transfer-Encoding: the body is read until the close, and the connection not reused",
    script: async (conn, deadline) => {
      const r = await conn.readRequest(deadline);
      if (r === undefined) return;
      if (conn.index === 0) {
        conn.send(res("200 OK", [], "all of it, until the close"));
        conn.end();
      } else conn.send(ok("next"));
      await conn.readRequest(deadline);
    },
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "all of it, until the close");
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) === 0) fail("the closed connection was used again");
    },
  },
  {
    id: "9112/6.3/10",
    title: "more octets than Content-Length: the extra is not taken as the next response",
    script: serveEach((conn, _t, n) =>
      conn.index === 0 && n === 0 ? ok("hello") + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil" : ok("good")
    ),
    run: async (x) => {
      // The extra octets come in the same write as the response: the client has them before it sends again.
      await expectResponse(x, { path: "/a" }, 200, "hello");
      const r = await x.client.send({ path: "/b" });
      if (r.kind === "response" && r.body === "evil") fail("the octets after the first response's Content-Length were taken as the response to the second request");
      if (r.kind !== "response" || r.status !== 200 || r.body !== "good") fail(`expected 200 "good" for the second request, got ${showOutcome(r)}`);
    },
  },
  // ---- RFC 9112 §7 chunked
  {
    id: "9112/7.1/1",
    title: "a chunked body is decoded (upper- and lower-case hex sizes)",
    script: always(res("200 OK", ["Transfer-Encoding: chunked"], "5\r\nhello\r\nA\r\n, chunked!\r\nb\r\n and more..\r\n0\r\n\r\n")),
    run: async (x) => void await expectResponse(x, {}, 200, "hello, chunked! and more.."),
  },
  {
    id: "9112/7.1.1/1",
    title: "chunk extensions (a token, a quoted string) are ignored",
    script: always(res("200 OK", ["Transfer-Encoding: chunked"], '5;name=value\r\nhello\r\n6 ; q="a b;c"\r\n world\r\n0;last\r\n\r\n')),
    run: async (x) => void await expectResponse(x, {}, 200, "hello world"),
  },
  {
    id: "9112/7.1/2",
    title: "a chunk size that overflows (18 hex digits) is an error",
    script: always(res("200 OK", ["Transfer-Encoding: chunked"], "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n")),
    run: (x) => expectError(x),
  },
  {
    id: "9112/7.1/3",
    title: "a chunk size that is not hex is an error",
    script: always(res("200 OK", ["Transfer-Encoding: chunked"], "5g\r\nhello\r\n0\r\n\r\n")),
    run: (x) => expectError(x),
  },
  {
    id: "9112/7.1/4",
    title: "chunk data longer than its size (no CRLF after it) is an error",
    script: always(res("200 OK", ["Transfer-Encoding: chunked"], "3\r\nhello\r\n0\r\n\r\n")),
    run: (x) => expectError(x),
  },
  {
    id: "9112/7.1.2/1",
    title: "a trailer section is read (and reported where the API has trailers); the connection stays usable",
    script: always(res("200 OK", ["Transfer-Encoding: chunked", "Trailer: X-Sum"], "5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n")),
    run: async (x) => {
      const r = await expectResponse(x, { path: "/a" }, 200, "hello");
      if (x.client.trailers && r.trailers?.["x-sum"] !== "42") fail(`the trailer X-Sum is ${JSON.stringify(r.trailers)}, expected 42`);
      await expectResponse(x, { path: "/b" }, 200, "hello");
      if (connOf(x, 1) !== 0) fail("the connection was not reused after a chunked body with trailers");
    },
  },
  {
    id: "9112/6.1/1",
    title: "Transfer-Encoding with chunked not the last coding: an error (the coded octets are never handed over as content)",
    script: async (conn, deadline) => {
      await conn.readRequest(deadline);
      conn.send(res("200 OK", ["Transfer-Encoding: chunked, gzip"], "5\r\nhello\r\n0\r\n\r\n"));
      conn.end();
    },
    run: (x) => expectError(x),
  },
  {
    id: "9112/6.1/2",
    title: "chunked applied twice (\"chunked, chunked\") is an error",
    script: always(res("200 OK", ["Transfer-Encoding: chunked, chunked"], "5\r\nhello\r\n0\r\n\r\n")),
    run: (x) => expectError(x),
  },
  {
    id: "9112/6.1/3",
    title: "Transfer-Encoding in an HTTP/1.0 response: faulty framing, the connection is closed after it (even with keep-alive)",
    script: firstThenNext("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    run: (x) => errorOrBodyThenNewConnection(x, "hello"),
  },
  // ---- RFC 9110 §15.2 interim responses
  {
    id: "9110/15.2/1",
    title: "an unasked 100 Continue before the final response is skipped",
    script: always("HTTP/1.1 100 Continue\r\n\r\n" + ok("hello")),
    run: async (x) => void await expectResponse(x, {}, 200, "hello"),
  },
  {
    id: "9110/15.2/2",
    title: "103 Early Hints (with Link fields) and a 102 are skipped; the final response's fields are the 200's only",
    script: always("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + ok("hello")),
    run: async (x) => {
      const r = await expectResponse(x, {}, 200, "hello");
      if (r.headers.some(([k]) => k === "link")) fail("the 103's Link field was merged into the final response");
    },
  },
  {
    id: "9110/15.2.2/1",
    title: "101 Switching Protocols when no upgrade was asked is an error",
    script: always("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n" + ok("hello")),
    run: (x) => expectError(x),
  },
  {
    id: "9110/15.2/3",
    title: "a 1xx with a Content-Length does not take a body: the final response follows at once",
    script: always("HTTP/1.1 103 Early Hints\r\nContent-Length: 3\r\n\r\n" + ok("hello")),
    run: async (x) => {
      const r = await x.client.send();
      if (r.kind === "error" && r.code !== "HANG") return;
      if (r.kind !== "response" || r.status !== 200 || r.body !== "hello") fail(`expected 200 "hello" (or an error), got ${showOutcome(r)}`);
    },
  },
  // ---- responses without a body
  ...([["204", "204 No Content", "GET"], ["304", "304 Not Modified", "GET"], ["HEAD", "200 OK", "HEAD"]] as const).map(([what, status, method], i): ClientCase => ({
    id: `9112/6.3/${12 + i}`,
    title: `${what === "HEAD" ? "a response to HEAD" : `a ${what}`} has no body even with Content-Length: 5; the next response on the connection is read right`,
    script: serveEach((conn, _t, n) => conn.index === 0 && n === 0 ? res(status, ["Content-Length: 5"]) : ok("next")),
    run: async (x) => {
      const code = Number(status.slice(0, 3));
      await expectResponse(x, { method, path: "/a" }, code, "");
      await expectResponse(x, { path: "/b" }, 200, "next");
    },
  })),
  {
    id: "9112/6.3/15",
    title: "a response to HEAD with Transfer-Encoding: chunked has no body; the connection is reused",
    script: serveEach((conn, _t, n) => conn.index === 0 && n === 0 ? res("200 OK", ["Transfer-Encoding: chunked"]) : ok("next")),
    run: async (x) => {
      await expectResponse(x, { method: "HEAD", path: "/a" }, 200, "");
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) !== 0) fail("the connection was not reused after a response to HEAD");
    },
  },
  // ---- RFC 9112 §9 connections
  {
    id: "9112/9.3/1",
    title: "a persistent connection is reused for the next request",
    script: always(ok("hello")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "hello");
      if (connOf(x, 1) !== 0) fail(`a second connection for the second request: ${JSON.stringify(x.server.log)}`);
    },
  },
  {
    id: "9112/9.6/1",
    title: "after Connection: close the client sends no further request on that connection (the server left it open)",
    script: firstThenNext(ok("hello", ["Connection: close"])),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) === 0) fail("a request on a connection the server said it closes");
    },
  },
  {
    id: "9112/9.3/2",
    title: "HTTP/1.0 with Connection: keep-alive and Content-Length is read; the next response is read right",
    script: serveEach((conn, _t, n) => conn.index === 0 && n === 0 ? "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello" : ok("next")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "next");
    },
  },
  {
    id: "9112/2.2/2",
    title: "one stray CRLF between two responses is tolerated",
    script: serveEach((_conn, _t, n) => n === 0 ? ok("hello") + "\r\n" : ok("next")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "next");
    },
  },
  {
    id: "9112/9.3/3",
    title: "a kept-alive connection the server closed while idle: the next request goes on a new connection (or is retried), never failed",
    script: async (conn, deadline) => {
      const r = await conn.readRequest(deadline);
      if (r === undefined) return;
      conn.send(ok(conn.index === 0 ? "hello" : "next"));
      // No Connection: close: the server just goes (as after its idle timeout).
      if (conn.index === 0) conn.end();
      else await conn.readRequest(deadline);
    },
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) !== 1) fail(`the second request did not come on a new connection: ${JSON.stringify(x.server.log)}`);
    },
  },
  {
    id: "9112/9.6/2",
    title: "Transfer-Encoding: chunked with Connection: close: the body is read, the connection not reused",
    script: firstThenNext(res("200 OK", ["Transfer-Encoding: chunked", "Connection: close"], "5\r\nhello\r\n0\r\n\r\n")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) === 0) fail("a request on a connection the server said it closes");
    },
  },
  {
    id: "9112/2.1/1",
    title: "a response written one octet at a time (obs-fold, chunk extensions, trailers) is read whole, and the connection reused",
    script: async (conn, deadline) => {
      for (let n = 0; ; n++) {
        const r = await conn.readRequest(deadline);
        if (r === undefined) return;
        const bytes = n === 0
          ? res("200 OK", ["X-Fold: a", " b", "Transfer-Encoding: chunked"], "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n")
          : ok("next");
        for (const ch of bytes) {
          conn.send(ch);
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
    },
    run: async (x) => {
      const r = await expectResponse(x, { path: "/a" }, 200, "abcde");
      const v = r.headers.find(([k]) => k === "x-fold")?.[1];
      if (v === undefined || !/^a +b$/.test(v)) fail(`the folded value is ${JSON.stringify(v)}`);
      await expectResponse(x, { path: "/b" }, 200, "next");
      if (connOf(x, 1) !== 0) fail("the connection was not reused");
    },
  },
  {
    id: "9110/9.2.2/1",
    title: "a reused connection closed before the first response octet: an idempotent GET is retried on a new connection",
    script: serveEach((conn, _t, n) => conn.index === 0 && n === 1 ? undefined : ok(conn.index === 0 ? "hello" : "retried")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectResponse(x, { path: "/b" }, 200, "retried");
      if (x.server.log.join(" ") !== "0:GET /a 0:GET /b 1:GET /b") fail(`expected the retry on connection 1: ${JSON.stringify(x.server.log)}`);
    },
  },
  {
    id: "9110/9.2.2/2",
    title: "the same for a POST: never retried automatically, the caller gets the error",
    script: serveEach((conn, _t, n) => conn.index === 0 && n === 1 ? undefined : ok(conn.index === 0 ? "hello" : "retried")),
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectError(x, { method: "POST", path: "/b", body: "data" }, "a POST whose connection closed");
      if (x.server.log.filter((l) => l.endsWith("POST /b")).length !== 1) fail(`the POST was sent more than once: ${JSON.stringify(x.server.log)}`);
    },
  },
  {
    id: "9110/9.2.2/3",
    title: "a reused connection that sent part of a response then closed: no retry, an error",
    script: async (conn, deadline) => {
      for (let n = 0; ; n++) {
        const r = await conn.readRequest(deadline);
        if (r === undefined) return;
        if (conn.index === 0 && n === 1) {
          conn.send("HTTP/1.1 200 OK\r\nContent-Le");
          conn.end();
          return;
        }
        conn.send(ok(conn.index === 0 ? "hello" : "retried"));
      }
    },
    run: async (x) => {
      await expectResponse(x, { path: "/a" }, 200, "hello");
      await expectError(x, { path: "/b" }, "the head was cut by the close");
      if (x.server.log.length !== 2) fail(`the request was retried after response octets came: ${JSON.stringify(x.server.log)}`);
    },
  },
  {
    id: "9112/9.5/1",
    title: "a final response before the request body was all sent is delivered (the rest of the body is not sent)",
    script: async (conn, deadline) => {
      const r = await conn.readRequest(deadline, false);
      if (r === undefined) return;
      conn.send(res("413 Content Too Large", ["Content-Length: 4", "Connection: close"], "full"));
      conn.end();
      await conn.drain(deadline);
    },
    run: async (x) => {
      // A body that never ends: only the early response can end this exchange.
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 4) controller.enqueue(new Uint8Array(16 * 1024).fill(0x61));
          else return new Promise(() => {});
        },
      });
      const r = await x.client.send({ method: "POST", path: "/upload", body, headers: { "content-type": "application/octet-stream" } });
      if (r.kind !== "response" || r.status !== 413 || r.body !== "full") fail(`expected the early 413 "full", got ${showOutcome(r)}`);
    },
  },
];
