/**
 * HTTP/2 client conformance cases: what RFC 9113 (HTTP/2) and RFC 7541
 * (HPACK) ask of a client — the preface and SETTINGS (§3.4, §6.5), flow
 * control both ways (§5.2, §6.9), frame sizes (§4.2), GOAWAY and refused
 * streams (§6.8, §8.7), stream resets (§6.4), malformed responses (§8.1,
 * §8.2, §8.3), push refused (§8.4), CONTINUATION (§6.10), PING (§6.7),
 * MAX_CONCURRENT_STREAMS (§5.1.2), dynamic table size updates (RFC 7541
 * §4.2, §6.3) — each named by its section and played frame by frame by a
 * raw server (driver.ts) against the client under test.
 *
 * Strictness, like the server suite's: an error the RFC names is the
 * exact code on the wire (RST_STREAM for a stream error, or GOAWAY, which
 * is allowed wherever a stream error is), and the caller sees an error,
 * never a short body or a hang.
 *
 * @module
 */
import { CaseFailure, type ClientUnderTest, type Outcome } from "../client_h1/driver.ts";
import { showOutcome } from "../client_h1/cases.ts";
import { be32, block, cat, continuation, data, frame, goaway, headers, hpackInt, hpackString, ping, rstStream, S, settings, windowUpdate } from "../h2/peer.ts";
import { E, expectClientError, F, fieldOf, type H2ScriptServer, type H2ServerConn, T } from "./driver.ts";

/** What a case runs with. */
export interface Ctx {
  readonly client: ClientUnderTest;
  readonly server: H2ScriptServer;
  readonly deadline: number;
}

/** One case. */
export interface H2ClientCase {
  /** "<rfc>/<section>/<n>", e.g. "9113/6.9.1/1". */
  readonly id: string;
  readonly title: string;
  /** Also run over TLS (ALPN h2): the sample. */
  readonly tls?: boolean;
  /** Our SETTINGS for the case's connections. */
  readonly settings?: [number, number][];
  readonly run: (x: Ctx) => Promise<void>;
}

function fail(message: string): never {
  throw new CaseFailure(message);
}

const END_HEADERS = F.END_HEADERS;
/** RFC 9113 §7 (the server suite's peer has no name for it). */
const ENHANCE_YOUR_CALM = 0xb;
const END_STREAM = F.END_STREAM;

/** HEADERS with these fields (stateless literals). */
function head(id: number, fields: [string, string][], end = false): Uint8Array {
  return headers(id, block(fields), END_HEADERS | (end ? END_STREAM : 0));
}

/** A whole 200 response with `body`. */
function ok(id: number, body = "ok"): Uint8Array {
  return cat(head(id, [[":status", "200"], ["content-length", String(body.length)]]), data(id, body, true));
}

function expectOk(o: Outcome, body: string, status = 200): void {
  if (o.kind !== "response" || o.status !== status || o.body !== body) fail(`expected ${status} ${JSON.stringify(body)}, got ${showOutcome(o)}`);
}

function expectFailed(o: Outcome, what: string): void {
  if (o.kind !== "error") fail(`${what}: the caller got ${showOutcome(o)}, not an error`);
  if (o.code === "HANG") fail(`${what}: the caller waited: ${o.message}`);
}

/** One GET: the connection, the request as seen, and the caller's outcome (pending). */
async function exchange(x: Ctx, path = "/"): Promise<{ c: H2ServerConn; id: number; outcome: Promise<Outcome> }> {
  const outcome = x.client.send({ path });
  const c = await x.server.accept(x.deadline);
  const r = await c.nextRequest(x.deadline);
  if (fieldOf(r, ":path") !== path) fail(`the request's :path is ${fieldOf(r, ":path")}, not ${path}`);
  return { c, id: r.streamId, outcome };
}

/**
 * A case where the server answers a GET with `respond` and the client must
 * signal `codes` (on the stream, or for the connection when `stream` is
 * false) and fail the request.
 */
function errorCase(id: string, title: string, respond: (c: H2ServerConn, stream: number) => void, codes: readonly number[], scope: "stream" | "connection", more: Partial<H2ClientCase> = {}): H2ClientCase {
  return {
    id,
    title,
    ...more,
    run: async (x) => {
      const { c, id: stream, outcome } = await exchange(x);
      respond(c, stream);
      await expectClientError(c, scope === "stream" ? stream : undefined, codes, x.deadline, title);
      expectFailed(await outcome, title);
    },
  };
}

/** A case where the server's SETTINGS (sent first) are faulty: a connection error. */
function settingsErrorCase(id: string, title: string, pairs: [number, number][], code: number): H2ClientCase {
  return {
    id,
    title,
    settings: pairs,
    run: async (x) => {
      const outcome = x.client.send();
      const c = await x.server.accept(x.deadline);
      await expectClientError(c, undefined, [code], x.deadline, title);
      expectFailed(await outcome, title);
    },
  };
}

/**
 * A first exchange on a fresh connection and the client's ACK of our
 * SETTINGS: a client may send before our SETTINGS arrive (under the
 * defaults), so cases about the settings start after this.
 */
async function warmUp(x: Ctx): Promise<H2ServerConn> {
  const { c, id, outcome } = await exchange(x, "/warm");
  c.send(ok(id));
  expectOk(await outcome, "ok");
  if (!c.log.includes("SETTINGS ACK") && (await c.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, x.deadline)) === undefined) fail("no SETTINGS ACK");
  return c;
}

/** Reads the client's DATA on `stream` until `bytes` arrived or END_STREAM; the octets and whether it ended. */
async function readBody(c: H2ServerConn, stream: number, bytes: number, deadline: number): Promise<{ n: number; ended: boolean; largest: number }> {
  let n = 0;
  let largest = 0;
  while (n < bytes) {
    const f = await c.waitFor((f) => f.type === T.DATA && f.streamId === stream, deadline);
    if (f === undefined) return { n, ended: false, largest };
    n += f.payload.length;
    largest = Math.max(largest, f.payload.length);
    if ((f.flags & END_STREAM) !== 0) return { n, ended: true, largest };
  }
  return { n, ended: false, largest };
}

/** Sends a PING and reads up to its ACK, summing the DATA octets on `stream` before it (frames are in order: a client that obeys the window sends none it had no credit for). */
async function dataBeforePingAck(c: H2ServerConn, stream: number, deadline: number): Promise<number> {
  c.send(ping([1, 2, 3, 4, 5, 6, 7, 8]));
  let n = 0;
  for (;;) {
    const f = await c.next(deadline);
    if (f === undefined) fail(`no PING ACK: ${JSON.stringify(c.log)}`);
    if (f.type === T.DATA && f.streamId === stream) n += f.payload.length;
    if (f.type === T.PING && (f.flags & F.ACK) !== 0) return n;
  }
}

/** A request body that sends `first` and then never ends. */
function endless(first: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(first);
      } else return new Promise(() => {});
    },
  });
}

/** A dynamic table size update (RFC 7541 §6.3). */
function sizeUpdate(size: number): number[] {
  return hpackInt(size, 5, 0x20);
}

/** `:status: 200` as a literal without indexing. */
const STATUS_200 = [0x00, ...hpackString(":status"), ...hpackString("200")];

/** The cases, in the order of the RFCs' sections. */
export const CASES: readonly H2ClientCase[] = [
  // ---- §3.4 preface, §6.5 SETTINGS
  {
    id: "9113/3.4/1",
    title: "the client sends the preface and SETTINGS first, with SETTINGS_ENABLE_PUSH 0; a plain exchange works",
    tls: true,
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      if (c.clientSettings.get(S.ENABLE_PUSH) !== 0) fail(`the client's SETTINGS do not disable push: ${JSON.stringify([...c.clientSettings])}`);
      c.send(ok(id, "hello"));
      expectOk(await outcome, "hello");
    },
  },
  {
    id: "9113/6.5.3/1",
    title: "the client acknowledges the server's SETTINGS (SETTINGS with ACK)",
    tls: true,
    settings: [[S.MAX_CONCURRENT_STREAMS, 50], [S.INITIAL_WINDOW_SIZE, 100_000]],
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(ok(id));
      expectOk(await outcome, "ok");
      if (!c.log.includes("SETTINGS ACK") && (await c.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, x.deadline)) === undefined) {
        fail(`no SETTINGS ACK: ${JSON.stringify(c.log)}`);
      }
    },
  },
  {
    id: "9113/6.5.2/1",
    title: "an unknown setting identifier is ignored",
    settings: [[0xf00, 7], [0x99, 1]],
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(ok(id));
      expectOk(await outcome, "ok");
    },
  },
  settingsErrorCase("9113/6.5.2/2", "SETTINGS_ENABLE_PUSH 1 from a server: connection error PROTOCOL_ERROR", [[S.ENABLE_PUSH, 1]], E.PROTOCOL_ERROR),
  settingsErrorCase("9113/6.5.2/3", "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1: connection error FLOW_CONTROL_ERROR", [[S.INITIAL_WINDOW_SIZE, 0x80000000]], E.FLOW_CONTROL_ERROR),
  settingsErrorCase("9113/6.5.2/4", "SETTINGS_MAX_FRAME_SIZE below 16384: connection error PROTOCOL_ERROR", [[S.MAX_FRAME_SIZE, 16383]], E.PROTOCOL_ERROR),
  settingsErrorCase("9113/6.5.2/5", "SETTINGS_MAX_FRAME_SIZE above 2^24-1: connection error PROTOCOL_ERROR", [[S.MAX_FRAME_SIZE, 1 << 24]], E.PROTOCOL_ERROR),
  errorCase("9113/6.5/1", "SETTINGS with ACK and a payload: connection error FRAME_SIZE_ERROR", (c) => c.send(frame(T.SETTINGS, F.ACK, 0, [0, 3, 0, 0, 0, 1])), [E.FRAME_SIZE_ERROR], "connection"),
  errorCase("9113/6.5/2", "SETTINGS whose length is not a multiple of 6: connection error FRAME_SIZE_ERROR", (c) => c.send(frame(T.SETTINGS, 0, 0, [0, 3, 0, 0, 1])), [E.FRAME_SIZE_ERROR], "connection"),
  errorCase("9113/6.5/3", "SETTINGS on a stream: connection error PROTOCOL_ERROR", (c, id) => c.send(frame(T.SETTINGS, 0, id, [])), [E.PROTOCOL_ERROR], "connection"),
  // ---- §4.2 frame size
  {
    id: "9113/4.2/1",
    title: "the client's DATA frames keep to the server's SETTINGS_MAX_FRAME_SIZE (the default 16384)",
    tls: true,
    run: async (x) => {
      const body = "x".repeat(40_000);
      const outcome = x.client.send({ method: "POST", path: "/up", body });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      const got = await readBody(c, r.streamId, body.length, x.deadline);
      if (got.n !== body.length) fail(`the body came as ${got.n} octets, not ${body.length}: ${JSON.stringify(c.log)}`);
      if (got.largest > 16_384) fail(`a DATA frame of ${got.largest} octets, above SETTINGS_MAX_FRAME_SIZE 16384`);
      c.send(ok(r.streamId, "got it"));
      expectOk(await outcome, "got it");
    },
  },
  {
    id: "9113/4.2/2",
    title: "a 40 KB request header block is split into HEADERS and CONTINUATION frames of at most 16384 octets",
    run: async (x) => {
      const outcome = x.client.send({ path: "/big", headers: { "x-big": "v".repeat(40_000) } });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      if (fieldOf(r, "x-big")?.length !== 40_000) fail("the large field did not arrive whole");
      c.send(ok(r.streamId));
      expectOk(await outcome, "ok");
    },
  },
  errorCase("9113/4.2/3", "a frame above the client's SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR", (c, id) => {
    const max = c.clientSettings.get(S.MAX_FRAME_SIZE) ?? 16_384;
    c.send(head(id, [[":status", "200"]]), data(id, new Uint8Array(max + 1), true));
  }, [E.FRAME_SIZE_ERROR], "stream"),
  // ---- §5.5 extensions
  {
    id: "9113/5.5/1",
    title: "frames of an unknown type (on the connection and on the stream) are ignored",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(frame(0xfa, 0, 0, [1, 2, 3]), frame(0xfb, 0xff, id, [4, 5]), ok(id, "fine"));
      expectOk(await outcome, "fine");
    },
  },
  // ---- §5.1 stream states
  errorCase("9113/6.1/1", "DATA on stream 0: connection error PROTOCOL_ERROR", (c) => c.send(data(0, "x", false)), [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/6.2/1", "HEADERS on stream 0: connection error PROTOCOL_ERROR", (c) => c.send(head(0, [[":status", "200"]], true)), [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/5.1/1", "HEADERS on a stream the client never opened (even-numbered, server-initiated, without push): connection error PROTOCOL_ERROR", (c) => c.send(head(2, [[":status", "200"]], true)), [E.PROTOCOL_ERROR], "connection"),
  {
    id: "9113/5.1/2",
    title: "DATA on a stream after its END_STREAM: STREAM_CLOSED (stream or connection error); the response already read stands",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(ok(id, "done"));
      expectOk(await outcome, "done");
      c.send(data(id, "late", true));
      await expectClientError(c, id, [E.STREAM_CLOSED], x.deadline, "DATA after END_STREAM");
    },
  },
  // ---- §5.1.2 concurrency
  {
    id: "9113/5.1.2/1",
    title: "SETTINGS_MAX_CONCURRENT_STREAMS 1: three requests at once are queued (never more than one open stream), all answered on one connection",
    tls: true,
    settings: [[S.MAX_CONCURRENT_STREAMS, 1]],
    run: async (x) => {
      // The client may open streams before our SETTINGS arrive; wait for its ACK first.
      const first = x.client.send({ path: "/0" });
      const c = await x.server.accept(x.deadline);
      const r0 = await c.nextRequest(x.deadline);
      if ((await c.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, x.deadline)) === undefined && !c.log.includes("SETTINGS ACK")) fail("no SETTINGS ACK");
      const rest = [x.client.send({ path: "/1" }), x.client.send({ path: "/2" })];
      let open = r0;
      for (let i = 0; i < 3; i++) {
        // Frames are in order: a HEADERS before the PING ACK was sent with a stream still open.
        const before = c.log.length;
        c.send(ping([9, 9, 9, 9, 9, 9, 9, i]));
        const ack = await c.waitFor((f) => f.type === T.PING && (f.flags & F.ACK) !== 0, x.deadline);
        if (ack === undefined) fail(`no PING ACK: ${JSON.stringify(c.log)}`);
        const between = c.log.slice(before).filter((l) => l.startsWith("HEADERS"));
        if (between.length > 0) fail(`a second stream opened while one was open (limit 1): ${JSON.stringify(c.log)}`);
        c.send(ok(open.streamId, `r${i}`));
        if (i < 2) open = await c.nextRequest(x.deadline);
      }
      const outcomes = await Promise.all([first, ...rest]);
      const bodies = outcomes.map((o) => (o.kind === "response" ? o.body : showOutcome(o))).sort();
      if (bodies.join(",") !== "r0,r1,r2") fail(`expected r0, r1, r2, got ${JSON.stringify(bodies)}`);
      if (x.server.connections !== 1) fail(`${x.server.connections} connections, not 1`);
    },
  },
  // ---- §6.4 RST_STREAM
  {
    id: "9113/6.4/1",
    title: "RST_STREAM in the middle of a response body: the body fails (not a short body)",
    tls: true,
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(head(id, [[":status", "200"], ["content-length", "100"]]), data(id, "part of it", false), rstStream(id, E.INTERNAL_ERROR));
      const o = await outcome;
      if (o.kind === "response") fail(`the caller got a body cut by RST_STREAM as whole: ${showOutcome(o)}`);
      expectFailed(o, "RST_STREAM mid-body");
    },
  },
  {
    id: "9113/6.4/2",
    title: "RST_STREAM mid-body without content-length: the body still fails",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(head(id, [[":status", "200"]]), data(id, "part of it", false), rstStream(id, E.CANCEL));
      const o = await outcome;
      if (o.kind === "response") fail(`the caller got a body cut by RST_STREAM as whole: ${showOutcome(o)}`);
      expectFailed(o, "RST_STREAM mid-body");
    },
  },
  // ---- §6.7 PING
  {
    id: "9113/6.7/1",
    title: "a PING is answered with PING ACK carrying the same 8 octets",
    tls: true,
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(ping([1, 2, 3, 4, 5, 6, 7, 8]));
      const ack = await c.waitFor((f) => f.type === T.PING && (f.flags & F.ACK) !== 0, x.deadline);
      if (ack === undefined) fail(`no PING ACK: ${JSON.stringify(c.log)}`);
      if (ack.payload.join(",") !== "1,2,3,4,5,6,7,8") fail(`the PING ACK carries ${ack.payload.join(",")}`);
      c.send(ok(id));
      expectOk(await outcome, "ok");
    },
  },
  errorCase("9113/6.7/2", "a PING whose length is not 8: connection error FRAME_SIZE_ERROR", (c) => c.send(frame(T.PING, 0, 0, [1, 2, 3])), [E.FRAME_SIZE_ERROR], "connection"),
  // ---- §6.8 GOAWAY, §8.7 retries
  {
    id: "9113/6.8/1",
    title: "GOAWAY with last-stream-id 1 while streams 1 and 3 are open: 1 completes on the old connection, 3 is sent again on a new one",
    tls: true,
    run: async (x) => {
      const a = x.client.send({ path: "/a" });
      const b = x.client.send({ path: "/b" });
      const c = await x.server.accept(x.deadline);
      const r1 = await c.nextRequest(x.deadline);
      const r2 = await c.nextRequest(x.deadline);
      const [low, high] = r1.streamId < r2.streamId ? [r1, r2] : [r2, r1];
      c.send(goaway(low.streamId, E.NO_ERROR), ok(low.streamId, `old ${fieldOf(low, ":path")}`));
      const c2 = await x.server.accept(x.deadline);
      const again = await c2.nextRequest(x.deadline);
      if (fieldOf(again, ":path") !== fieldOf(high, ":path")) fail(`the new connection got ${fieldOf(again, ":path")}, not ${fieldOf(high, ":path")}`);
      c2.send(ok(again.streamId, `new ${fieldOf(again, ":path")}`));
      const [oa, ob] = await Promise.all([a, b]);
      const want = (p: string) => (p === fieldOf(low, ":path") ? `old ${p}` : `new ${p}`);
      expectOk(oa, want("/a"));
      expectOk(ob, want("/b"));
    },
  },
  {
    id: "9113/6.8/2",
    title: "the same for a POST above last-stream-id: unprocessed, so it is sent again (with its body)",
    run: async (x) => {
      const a = x.client.send({ path: "/a" });
      const c = await x.server.accept(x.deadline);
      const r1 = await c.nextRequest(x.deadline);
      const b = x.client.send({ method: "POST", path: "/b", body: "payload" });
      const r2 = await c.nextRequest(x.deadline);
      c.send(goaway(r1.streamId, E.NO_ERROR), ok(r1.streamId, "a"));
      const c2 = await x.server.accept(x.deadline);
      const again = await c2.nextRequest(x.deadline);
      if (fieldOf(again, ":method") !== "POST" || fieldOf(r2, ":method") !== "POST") fail("the POST was not sent again on the new connection");
      const got = await readBody(c2, again.streamId, 7, x.deadline);
      if (got.n !== 7) fail(`the POST's body came again as ${got.n} octets`);
      c2.send(ok(again.streamId, "b"));
      expectOk(await a, "a");
      expectOk(await b, "b");
    },
  },
  {
    id: "9113/8.7/1",
    title: "RST_STREAM REFUSED_STREAM: the request was not processed and is sent again",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x, "/r");
      c.send(rstStream(id, E.REFUSED_STREAM));
      // Sent again on the same connection or on a new one: whichever comes first.
      const [target, again] = await Promise.race([
        c.nextRequest(x.deadline).then((r) => [c, r] as const),
        x.server.accept(x.deadline).then(async (c2) => [c2, await c2.nextRequest(x.deadline)] as const),
      ]);
      if (target === c && again.streamId === id) fail("the refused stream's id was used again");
      target.send(ok(again.streamId, "second try"));
      expectOk(await outcome, "second try");
    },
  },
  {
    id: "9113/6.8/3",
    title: "GOAWAY then the close, with a request below last-stream-id unanswered: that request fails (it may have been processed)",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x, "/p");
      c.send(goaway(id, E.NO_ERROR));
      c.destroy();
      const o = await outcome;
      if (o.kind === "response") fail(`a response out of nothing: ${showOutcome(o)}`);
      expectFailed(o, "a processed request on a closed connection");
    },
  },
  // ---- §6.9 flow control
  errorCase("9113/6.9.1/1", "a WINDOW_UPDATE that takes the connection window past 2^31-1: connection error FLOW_CONTROL_ERROR", (c) => c.send(windowUpdate(0, 0x7fffffff), windowUpdate(0, 0x7fffffff)), [E.FLOW_CONTROL_ERROR], "connection"),
  {
    id: "9113/6.9.1/2",
    title: "a WINDOW_UPDATE that takes a stream's window past 2^31-1: FLOW_CONTROL_ERROR (stream or connection)",
    run: async (x) => {
      const outcome = x.client.send({ method: "POST", path: "/up", body: endless(new Uint8Array(10)) });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      c.send(windowUpdate(r.streamId, 0x7fffffff));
      await expectClientError(c, r.streamId, [E.FLOW_CONTROL_ERROR], x.deadline, "stream window overflow");
      expectFailed(await outcome, "stream window overflow");
    },
  },
  errorCase("9113/6.9/1", "a WINDOW_UPDATE of 0 on the connection: connection error PROTOCOL_ERROR", (c) => c.send(windowUpdate(0, 0)), [E.PROTOCOL_ERROR], "connection"),
  {
    id: "9113/6.9/2",
    title: "a WINDOW_UPDATE of 0 on an open stream: PROTOCOL_ERROR (stream or connection)",
    run: async (x) => {
      const outcome = x.client.send({ method: "POST", path: "/up", body: endless(new Uint8Array(10)) });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      c.send(windowUpdate(r.streamId, 0));
      await expectClientError(c, r.streamId, [E.PROTOCOL_ERROR], x.deadline, "WINDOW_UPDATE 0");
      expectFailed(await outcome, "WINDOW_UPDATE 0");
    },
  },
  {
    id: "9113/6.9.2/1",
    title: "the server's SETTINGS_INITIAL_WINDOW_SIZE 100 holds a 1000-octet request body to 100 octets until a WINDOW_UPDATE",
    tls: true,
    settings: [[S.INITIAL_WINDOW_SIZE, 100]],
    run: async (x) => {
      const c = await warmUp(x);
      const body = "b".repeat(1000);
      const outcome = x.client.send({ method: "POST", path: "/up", body, headers: { "content-type": "text/plain" } });
      const r = await c.nextRequest(x.deadline);
      const first = await readBody(c, r.streamId, 100, x.deadline);
      const more = await dataBeforePingAck(c, r.streamId, x.deadline);
      if (first.n + more !== 100) fail(`${first.n + more} octets of DATA with a stream window of 100`);
      c.send(windowUpdate(r.streamId, 900));
      const rest = await readBody(c, r.streamId, 900, x.deadline);
      if (rest.n !== 900) fail(`the rest of the body came as ${rest.n} octets, not 900`);
      c.send(ok(r.streamId, "all 1000"));
      expectOk(await outcome, "all 1000");
    },
  },
  {
    id: "9113/6.9.1/3",
    title: "the connection window (65,535 until a WINDOW_UPDATE on stream 0) holds a 100 KB request body, whatever the stream window",
    settings: [[S.INITIAL_WINDOW_SIZE, 1 << 30]],
    run: async (x) => {
      const size = 100_000;
      const outcome = x.client.send({ method: "POST", path: "/up", body: "c".repeat(size) });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      const first = await readBody(c, r.streamId, 65_535, x.deadline);
      const more = await dataBeforePingAck(c, r.streamId, x.deadline);
      if (first.n + more !== 65_535) fail(`${first.n + more} octets of DATA with a connection window of 65535`);
      c.send(windowUpdate(0, size));
      const rest = await readBody(c, r.streamId, size - 65_535, x.deadline);
      if (rest.n !== size - 65_535) fail(`the rest came as ${rest.n} octets`);
      c.send(ok(r.streamId, "all"));
      expectOk(await outcome, "all");
    },
  },
  {
    id: "9113/6.9.1/4",
    title: "DATA beyond the client's stream window (the caller not reading): FLOW_CONTROL_ERROR, and the body fails",
    run: async (x) => {
      const outcome = x.client.send({ path: "/flood", readBody: false });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      const window = c.clientSettings.get(S.INITIAL_WINDOW_SIZE) ?? 65_535;
      const max = c.clientSettings.get(S.MAX_FRAME_SIZE) ?? 16_384;
      // The caller reads nothing: only what the client buffers is credited back, a bounded amount.
      const total = window * 2 + (1 << 20);
      const frames: Uint8Array[] = [head(r.streamId, [[":status", "200"]])];
      for (let sent = 0; sent < total; sent += max) frames.push(data(r.streamId, new Uint8Array(Math.min(max, total - sent)), false));
      c.send(cat(...frames));
      await expectClientError(c, r.streamId, [E.FLOW_CONTROL_ERROR], x.deadline, "DATA beyond the window");
      const o = await outcome;
      if (o.kind === "response" && o.rest !== undefined) expectFailed(await o.rest(), "DATA beyond the window");
      else expectFailed(o, "DATA beyond the window");
    },
  },
  {
    id: "9113/6.9.2/2",
    title: "SETTINGS_INITIAL_WINDOW_SIZE raised from 100 to 300 while a body waits: the open stream's window grows by 200",
    settings: [[S.INITIAL_WINDOW_SIZE, 100]],
    run: async (x) => {
      const c = await warmUp(x);
      const outcome = x.client.send({ method: "POST", path: "/up", body: "d".repeat(1000) });
      const r = await c.nextRequest(x.deadline);
      const first = await readBody(c, r.streamId, 100, x.deadline);
      c.send(settings([[S.INITIAL_WINDOW_SIZE, 300]]));
      const second = await readBody(c, r.streamId, 300 - first.n, x.deadline);
      const more = await dataBeforePingAck(c, r.streamId, x.deadline);
      if (first.n + second.n + more !== 300) fail(`${first.n + second.n + more} octets of DATA with the stream window at 300`);
      c.send(windowUpdate(r.streamId, 700));
      const rest = await readBody(c, r.streamId, 700, x.deadline);
      if (rest.n !== 700) fail(`the rest came as ${rest.n} octets`);
      c.send(ok(r.streamId, "1000"));
      expectOk(await outcome, "1000");
    },
  },
  {
    id: "9113/6.9.2/3",
    title: "SETTINGS_INITIAL_WINDOW_SIZE lowered below what was sent: the stream window goes negative and a WINDOW_UPDATE must first make up for it",
    settings: [[S.INITIAL_WINDOW_SIZE, 100]],
    run: async (x) => {
      const c = await warmUp(x);
      const outcome = x.client.send({ method: "POST", path: "/up", body: "e".repeat(1000) });
      const r = await c.nextRequest(x.deadline);
      const first = await readBody(c, r.streamId, 100, x.deadline);
      if (first.n !== 100) fail(`${first.n} octets before the change`);
      // 100 sent against 100; now 50: the window is -50; +60 leaves 10 to send.
      c.send(settings([[S.INITIAL_WINDOW_SIZE, 50]]));
      const acked = await c.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, x.deadline);
      if (acked === undefined) fail("the new SETTINGS were not acknowledged");
      c.send(windowUpdate(r.streamId, 60));
      const more = await dataBeforePingAck(c, r.streamId, x.deadline);
      if (more > 10) fail(`${more} octets after a WINDOW_UPDATE of 60 on a window of -50`);
      c.send(windowUpdate(r.streamId, 1000));
      const rest = await readBody(c, r.streamId, 900 - more, x.deadline);
      if (rest.n !== 900 - more) fail(`the rest came as ${rest.n} octets`);
      c.send(ok(r.streamId, "done"));
      expectOk(await outcome, "done");
    },
  },
  {
    id: "9113/5.1.2/2",
    title: "SETTINGS_MAX_CONCURRENT_STREAMS lowered to 1 while two streams are open: no new stream until both ended",
    run: async (x) => {
      const c = await warmUp(x);
      const a = x.client.send({ path: "/a" });
      const b = x.client.send({ path: "/b" });
      const ra = await c.nextRequest(x.deadline);
      const rb = await c.nextRequest(x.deadline);
      c.send(settings([[S.MAX_CONCURRENT_STREAMS, 1]]));
      if ((await c.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, x.deadline)) === undefined) fail("no SETTINGS ACK");
      const cc = x.client.send({ path: "/c" });
      c.send(ok(ra.streamId, "a"));
      expectOk(await a, "a");
      const before = c.log.length;
      c.send(ping([7, 7, 7, 7, 7, 7, 7, 7]));
      if ((await c.waitFor((f) => f.type === T.PING && (f.flags & F.ACK) !== 0, x.deadline)) === undefined) fail("no PING ACK");
      if (c.log.slice(before).some((l) => l.startsWith("HEADERS"))) fail(`a new stream with one open at a limit of 1: ${JSON.stringify(c.log)}`);
      c.send(ok(rb.streamId, "b"));
      const rc = await c.nextRequest(x.deadline);
      c.send(ok(rc.streamId, "c"));
      expectOk(await b, "b");
      expectOk(await cc, "c");
    },
  },
  {
    id: "9113/6.1/2",
    title: "padded DATA and padded HEADERS with the PRIORITY flag: the padding is not content",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      const hb = block([[":status", "200"]]);
      c.send(
        frame(T.HEADERS, END_HEADERS | F.PADDED | F.PRIORITY, id, cat([3], be32(0), [15], hb, [0, 0, 0])),
        frame(T.DATA, F.PADDED, id, cat([4], "abc", [0, 0, 0, 0])),
        frame(T.DATA, F.PADDED | END_STREAM, id, cat([0], "def")),
      );
      expectOk(await outcome, "abcdef");
    },
  },
  errorCase("9113/6.1/3", "DATA padding as long as the frame or longer: connection error PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"]]), frame(T.DATA, F.PADDED | END_STREAM, id, [5, 0x61, 0x62]));
  }, [E.PROTOCOL_ERROR], "connection"),
  {
    id: "9113/8.1/5",
    title: "a complete response before the request body ended: the response stands (the rest of the body is not owed)",
    run: async (x) => {
      const outcome = x.client.send({ method: "POST", path: "/up", body: endless(new Uint8Array(100)) });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      c.send(ok(r.streamId, "early"));
      expectOk(await outcome, "early");
    },
  },
  {
    id: "9113/8.1.1/3",
    title: "DATA on a 204 response: malformed, PROTOCOL_ERROR; the caller gets an error or a 204 without content, never the DATA",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(head(id, [[":status", "204"]]), data(id, "x", true));
      await expectClientError(c, id, [E.PROTOCOL_ERROR], x.deadline, "DATA on a 204");
      const o = await outcome;
      // fetch's 204 has no body at all: its head may be out before the DATA came.
      if (o.kind === "response" && (o.status !== 204 || o.body !== "")) fail(`the caller got ${showOutcome(o)}`);
      if (o.kind === "error" && o.code === "HANG") fail(`the caller waited: ${o.message}`);
    },
  },
  {
    id: "9113/8.1.1/4",
    title: "a response to HEAD with content-length and no DATA is complete",
    run: async (x) => {
      const outcome = x.client.send({ method: "HEAD", path: "/h" });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      c.send(head(r.streamId, [[":status", "200"], ["content-length", "1234"]], true));
      expectOk(await outcome, "");
    },
  },
  {
    id: "9113/8.1/6",
    title: "a complete response, then RST_STREAM NO_ERROR while the request body is still being sent: the response stands, the upload stops",
    run: async (x) => {
      const outcome = x.client.send({ method: "POST", path: "/up", body: endless(new Uint8Array(100)) });
      const c = await x.server.accept(x.deadline);
      const r = await c.nextRequest(x.deadline);
      c.send(ok(r.streamId, "early"), rstStream(r.streamId, E.NO_ERROR));
      expectOk(await outcome, "early");
    },
  },
  {
    id: "9113/6.9/3",
    title: "WINDOW_UPDATE and RST_STREAM on a stream that ended: no error, the connection goes on",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x, "/a");
      c.send(ok(id, "a"));
      expectOk(await outcome, "a");
      c.send(windowUpdate(id, 1000), rstStream(id, E.CANCEL), frame(T.PRIORITY, 0, id, [0, 0, 0, 0, 15]));
      const b = x.client.send({ path: "/b" });
      const r = await c.nextRequest(x.deadline);
      c.send(ok(r.streamId, "b"));
      expectOk(await b, "b");
      if (c.log.some((l) => l.startsWith("GOAWAY") || l.startsWith(`RST_STREAM ${id} `))) fail(`the client answered frames on an ended stream: ${JSON.stringify(c.log)}`);
    },
  },
  {
    id: "9113/6.8/4",
    title: "GOAWAY with last-stream-id 0 and an error code: the request was not processed and is sent again on a new connection",
    run: async (x) => {
      const { c, outcome } = await exchange(x, "/g");
      c.send(goaway(0, E.PROTOCOL_ERROR));
      const c2 = await x.server.accept(x.deadline);
      const again = await c2.nextRequest(x.deadline);
      if (fieldOf(again, ":path") !== "/g") fail(`the new connection got ${fieldOf(again, ":path")}`);
      c2.send(ok(again.streamId, "again"));
      expectOk(await outcome, "again");
    },
  },
  // ---- §6.10 CONTINUATION
  errorCase("9113/6.10/1", "a CONTINUATION flood (HEADERS without END_HEADERS, then 20,000 empty CONTINUATION frames): the client ends the connection", (c, id) => {
    const frames = [headers(id, block([[":status", "200"]]), 0)];
    for (let i = 0; i < 20_000; i++) frames.push(continuation(id, new Uint8Array(0), false));
    c.send(cat(...frames));
  }, [ENHANCE_YOUR_CALM, E.PROTOCOL_ERROR, E.COMPRESSION_ERROR], "connection"),
  errorCase("9113/6.10/2", "a frame other than CONTINUATION inside a header block: connection error PROTOCOL_ERROR", (c, id) => {
    c.send(headers(id, block([[":status", "200"]]), 0), ping([0, 0, 0, 0, 0, 0, 0, 0]), continuation(id, block([["x", "y"]]), true));
  }, [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/6.10/3", "a CONTINUATION on another stream inside a header block: connection error PROTOCOL_ERROR", (c, id) => {
    c.send(headers(id, block([[":status", "200"]]), 0), continuation(id + 2, block([["x", "y"]]), true));
  }, [E.PROTOCOL_ERROR], "connection"),
  {
    id: "9113/6.10/4",
    title: "a response header block in HEADERS and two CONTINUATION frames is read as one",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      const b = block([[":status", "200"], ["x-one", "1"], ["x-two", "2"], ["content-length", "2"]]);
      c.send(headers(id, b.subarray(0, 5), 0), continuation(id, b.subarray(5, 12), false), continuation(id, b.subarray(12), true), data(id, "ok", true));
      const o = await outcome;
      expectOk(o, "ok");
      if (o.kind === "response" && o.headers.find(([k]) => k === "x-two")?.[1] !== "2") fail("a field of the last CONTINUATION is missing");
    },
  },
  // ---- §8.1, §8.2, §8.3 malformed responses
  errorCase("9113/8.2.1/1", "an upper-case field name in a response: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [[":status", "200"], ["X-Upper", "y"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.2.2/1", "a connection-specific field (connection: keep-alive) in a response: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [[":status", "200"], ["connection", "keep-alive"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.3.2/1", "a response without :status: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [["content-type", "text/plain"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.3.2/2", "two :status fields: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [[":status", "200"], [":status", "204"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.3/1", "a request pseudo-header (:path) in a response: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [[":status", "200"], [":path", "/"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.3/2", "a pseudo-header after a regular field: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [["x-a", "b"], [":status", "200"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.1/1", "a pseudo-header in trailers: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"]]), data(id, "body", false), head(id, [[":status", "200"], ["x-t", "1"]], true));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.1/2", "trailers without END_STREAM: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"]]), data(id, "body", false), head(id, [["x-t", "1"]], false));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.1.1/1", "DATA shorter than content-length: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"], ["content-length", "10"]]), data(id, "short", true));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.1.1/2", "DATA longer than content-length: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"], ["content-length", "2"]]), data(id, "longer than two", true));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.3.2/3", "a :status that is not three digits: malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [[":status", "20x"]], true)), [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.3.2/4", "a :status above 599 (RFC 9110 §15: 100-599): malformed, PROTOCOL_ERROR", (c, id) => c.send(head(id, [[":status", "600"]], true)), [E.PROTOCOL_ERROR], "stream"),
  {
    id: "9113/8.1/3",
    title: "informational 103 then the final 200: the 103 is skipped",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(head(id, [[":status", "103"], ["link", "</a.css>; rel=preload"]]), ok(id, "final"));
      const o = await outcome;
      expectOk(o, "final");
      if (o.kind === "response" && o.headers.some(([k]) => k === "link")) fail("the 103's field was merged into the final response");
    },
  },
  {
    id: "9113/8.1/4",
    title: "trailers after the body are read (and reported where the API has trailers)",
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      c.send(head(id, [[":status", "200"]]), data(id, "body", false), head(id, [["x-sum", "42"]], true));
      const o = await outcome;
      expectOk(o, "body");
      if (x.client.trailers && o.kind === "response" && o.trailers?.["x-sum"] !== "42") fail(`trailers ${JSON.stringify(o.kind === "response" ? o.trailers : null)}`);
    },
  },
  // ---- §8.4 push
  errorCase("9113/8.4/1", "PUSH_PROMISE when the client set SETTINGS_ENABLE_PUSH 0: connection error PROTOCOL_ERROR", (c, id) => {
    c.send(frame(T.PUSH_PROMISE, END_HEADERS, id, cat(be32(2), block([[":method", "GET"], [":path", "/pushed"], [":scheme", "http"], [":authority", "127.0.0.1"]]))));
  }, [E.PROTOCOL_ERROR], "connection"),
  // ---- RFC 7541 HPACK
  {
    id: "7541/6.3/1",
    title: "dynamic table size updates (0, then 4096) at the start of a header block are applied",
    tls: true,
    run: async (x) => {
      const { c, id, outcome } = await exchange(x);
      // A field with incremental indexing; then, in the next block, size updates to 0 (evicting it) and back to 4096.
      const first = Uint8Array.from([...STATUS_200, 0x40, ...hpackString("x-kept"), ...hpackString("one")]);
      c.send(headers(id, first, END_HEADERS), data(id, "ok", true));
      expectOk(await outcome, "ok");
      const second = x.client.send({ path: "/2" });
      const r2 = await c.nextRequest(x.deadline);
      c.send(headers(r2.streamId, Uint8Array.from([...sizeUpdate(0), ...sizeUpdate(4096), ...STATUS_200, 0x40, ...hpackString("x-new"), ...hpackString("two")]), END_HEADERS), data(r2.streamId, "ok2", true));
      const o = await second;
      expectOk(o, "ok2");
      if (o.kind === "response" && o.headers.find(([k]) => k === "x-new")?.[1] !== "two") fail("the field after the size updates was not read");
    },
  },
  {
    id: "7541/4.2/3",
    title: "SETTINGS_HEADER_TABLE_SIZE 0 from the server: the client's first header block after its ACK begins with a dynamic table size update (to 0)",
    settings: [[S.HEADER_TABLE_SIZE, 0]],
    run: async (x) => {
      const warm = x.client.send({ path: "/warm" });
      const c = await x.server.accept(x.deadline);
      const r0 = await c.nextRequest(x.deadline);
      c.send(ok(r0.streamId));
      expectOk(await warm, "ok");
      if (!c.log.includes("SETTINGS ACK") && (await c.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, x.deadline)) === undefined) fail("no SETTINGS ACK");
      const next = x.client.send({ path: "/next" });
      const r1 = await c.nextRequest(x.deadline);
      c.send(ok(r1.streamId, "next"));
      expectOk(await next, "next");
      // The update belongs to the first block encoded after the change: the warm-up's when the SETTINGS came first.
      if (r0.block[0] !== 0x20 && r1.block[0] !== 0x20) fail(`no size update to 0 at the start of a block: ${r0.block[0]?.toString(16)} / ${r1.block[0]?.toString(16)}`);
    },
  },
  errorCase("7541/4.2/1", "a dynamic table size update above the client's SETTINGS_HEADER_TABLE_SIZE: COMPRESSION_ERROR", (c, id) => {
    const limit = c.clientSettings.get(S.HEADER_TABLE_SIZE) ?? 4096;
    c.send(headers(id, Uint8Array.from([...sizeUpdate(limit + 1), ...STATUS_200]), END_HEADERS | END_STREAM));
  }, [E.COMPRESSION_ERROR], "connection"),
  errorCase("7541/4.2/2", "a dynamic table size update after a field representation: COMPRESSION_ERROR", (c, id) => {
    c.send(headers(id, Uint8Array.from([...STATUS_200, ...sizeUpdate(0)]), END_HEADERS | END_STREAM));
  }, [E.COMPRESSION_ERROR], "connection"),
  errorCase("7541/2.3.3/1", "an index beyond the static and dynamic tables: COMPRESSION_ERROR", (c, id) => {
    c.send(headers(id, Uint8Array.from([0x88, 0xff, 0x7f]), END_HEADERS | END_STREAM));
  }, [E.COMPRESSION_ERROR], "connection"),
  // ---- frames on the wrong stream or of the wrong length (thirteenth red-team pass)
  errorCase("9113/6.4/3", "RST_STREAM on stream 0: connection error PROTOCOL_ERROR", (c) => {
    c.send(rstStream(0, E.CANCEL));
  }, [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/6.4/4", "RST_STREAM whose length is not 4: connection error FRAME_SIZE_ERROR", (c, id) => {
    c.send(frame(T.RST_STREAM, 0, id, [0, 0, 0, 8, 0]));
  }, [E.FRAME_SIZE_ERROR], "connection"),
  errorCase("9113/6.8/5", "GOAWAY on a stream other than 0: connection error PROTOCOL_ERROR", (c, id) => {
    c.send(goaway(id, E.NO_ERROR, id));
  }, [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/6.9/4", "WINDOW_UPDATE whose length is not 4: connection error FRAME_SIZE_ERROR", (c) => {
    c.send(frame(T.WINDOW_UPDATE, 0, 0, [0, 0, 0, 0, 1]));
  }, [E.FRAME_SIZE_ERROR], "connection"),
  errorCase("9113/6.7/3", "PING on a stream: connection error PROTOCOL_ERROR", (c, id) => {
    c.send(frame(T.PING, 0, id, [1, 2, 3, 4, 5, 6, 7, 8]));
  }, [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/6.3/1", "PRIORITY on stream 0: connection error PROTOCOL_ERROR", (c) => {
    c.send(frame(T.PRIORITY, 0, 0, [0, 0, 0, 0, 15]));
  }, [E.PROTOCOL_ERROR], "connection"),
  errorCase("9113/8.6/1", "a 101 response (HTTP/2 has no Upgrade): malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "101"]]), data(id, "x", true));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.1/7", "an informational 1xx HEADERS with END_STREAM: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(headers(id, block([[":status", "103"]]), F.END_HEADERS | F.END_STREAM));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.2/1", "a field value with a CR in a response: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"], ["x-a", "a\rb"]]), data(id, "x", true));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/8.2.1/2", "an empty field name in a response: malformed, PROTOCOL_ERROR", (c, id) => {
    c.send(head(id, [[":status", "200"], ["", "b"]]), data(id, "x", true));
  }, [E.PROTOCOL_ERROR], "stream"),
  errorCase("9113/6.8/6", "a second GOAWAY raising the last-stream-id of the first (RFC 9113 §6.8: MUST NOT increase): connection error PROTOCOL_ERROR, as nghttp2", (c, id) => {
    c.send(goaway(id, E.NO_ERROR), goaway(id + 100, E.NO_ERROR));
  }, [E.PROTOCOL_ERROR], "connection"),
];
