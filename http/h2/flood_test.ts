import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { monotonicMs } from "../../core/clock.ts";
import { H2Connection } from "./connection.ts";
import { ErrorCode as E, Flag, FrameType as T } from "./constants.ts";
import type { H2Event } from "./events.ts";
import { encodeGoaway, encodePing, encodePriority, encodeRstStream, encodeSettings, encodeWindowUpdate } from "./frames.ts";
import type { H2ConnectionOptions } from "./types.ts";
import { assertConnError, concat, frame, REQ, Script, u32 } from "./peer_test.ts";
import { SMALL_DATA_FRAME_COST } from "./work_budget.ts";

const POST = [":method", "POST", ":scheme", "https", ":path", "/up", ":authority", "example.test"];
const CALM = E.ENHANCE_YOUR_CALM;

/** Runs a download (or upload) of `size` octets between our client and server cores; returns every event. */
function transfer(size: number, options: { client?: Partial<H2ConnectionOptions>; server?: Partial<H2ConnectionOptions>; upload?: boolean } = {}): H2Event[] {
  const client = new H2Connection({ role: "client", ...options.client });
  const server = new H2Connection({ role: "server", ...options.server });
  const body = new Uint8Array(size);
  const id = client.request(options.upload ? POST : REQ, !options.upload);
  if (options.upload) client.sendData(id, body, true);
  const all: H2Event[] = [];
  let received = 0;
  let done = false;
  for (let round = 0; !done && round < 10_000_000; round++) {
    const toServer = client.pull();
    for (const e of server.receive(toServer)) {
      all.push(e);
      if (e.type === "data") received += options.upload ? e.data.length : 0;
      if (e.type === "headers" && !options.upload) {
        server.respond(id, [":status", "200"], false);
        server.sendData(id, body, true);
      }
      if (e.type === "data" && e.endStream) {
        server.respond(id, [":status", "204"], true);
      }
    }
    const toClient = server.pull();
    for (const e of client.receive(toClient)) {
      all.push(e);
      if (e.type === "data" && !options.upload) received += e.data.length;
      if ((e.type === "data" || e.type === "headers") && e.endStream) done = true;
    }
    if (client.dead || server.dead) break;
    if (toServer.length === 0 && toClient.length === 0 && !client.wantsWrite && !server.wantsWrite) break;
  }
  const errors = all.filter((e) => e.type === "error" || e.type === "stream-error" || e.type === "goaway");
  assert.deepEqual(errors.map((e) => e.type === "error" || e.type === "stream-error" ? e.error.message : e.type), []);
  assert.equal(received, size);
  return all;
}

function ping8(i: number): Uint8Array {
  return concat(u32(i), u32(0));
}

function count(events: H2Event[], type: H2Event["type"]): number {
  return events.filter((e) => e.type === type).length;
}

describe("item 3: WINDOW_UPDATE is credited against the data it returns", () => {
  test("a 32 MiB download with default windows (about 2,000 WINDOW_UPDATEs) completes", () => {
    const events = transfer(32 << 20);
    assert.ok(count(events, "window-update") > 0);
  });
  test("a 32 MiB upload with default windows completes", () => {
    transfer(32 << 20, { upload: true });
  });
  test("downloads complete at any window size, however many WINDOW_UPDATEs they take", () => {
    for (const [window, size] of [[1, 20_000], [7, 50_000], [100, 400_000], [1000, 2 << 20], [1 << 20, 8 << 20]] as const) {
      transfer(size, { client: { settings: { initialWindowSize: window } } });
      transfer(size, { client: { settings: { initialWindowSize: window }, connectionWindowSize: Math.max(65535, window * 4) } });
      // Uploads: the sender starts on the default window and goes negative when the small one arrives.
      transfer(size, { server: { settings: { initialWindowSize: window } }, upload: true });
    }
  });
  test("a peer crediting every 100 octets (two WINDOW_UPDATEs each) is never cut off", () => {
    const s = new Script("server");
    s.send(s.headers(1, REQ));
    s.conn.respond(1, [":status", "200"], false);
    s.conn.sendData(1, new Uint8Array(4 << 20), true);
    let got = 0;
    let updates = 0;
    for (let round = 0; round < 100_000 && got < 4 << 20; round++) {
      const credits: Uint8Array[] = [];
      for (const f of s.out()) {
        if (f.type === T.GOAWAY) assert.fail("GOAWAY from the sender");
        if (f.type !== T.DATA) continue;
        got += f.payload.length;
        for (let n = f.payload.length; n > 0; n -= 100) {
          const inc = Math.min(100, n);
          credits.push(encodeWindowUpdate(1, inc), encodeWindowUpdate(0, inc));
          updates += 2;
        }
      }
      if (credits.length === 0) break;
      s.send(...credits);
      assert.equal(s.conn.dead, false);
    }
    assert.equal(got, 4 << 20);
    assert.ok(updates > 80_000);
  });
  test("unbacked WINDOW_UPDATEs (nothing sent to credit) are a flood", () => {
    const s = new Script("server");
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 5000; i++) parts.push(encodeWindowUpdate(0, 1));
    s.send(...parts);
    assertConnError(s, CALM, "ERR_H2_NO_PROGRESS_FLOOD");
  });
});

describe("item 4: the clock", () => {
  test("the default clock is the monotonic one (the SETTINGS ACK deadline is real)", () => {
    const before = monotonicMs();
    const c = new H2Connection({ role: "server" });
    const after = monotonicMs();
    const deadline = c.nextDeadline();
    assert.ok(deadline >= before + 10_000 && deadline <= after + 10_000, `deadline ${deadline}, clock ${before}..${after}`);
  });
  test("without a clock (now: null) the per-second limits are off, not lifetime caps", () => {
    const s = new Script("server", { now: null });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) parts.push(encodePing(ping8(i), false), encodeSettings([]));
    s.send(...parts);
    assert.equal(count(s.events, "ping"), 300);
    for (let i = 0; i < 300; i++) {
      const id = 1 + 2 * i;
      const ev = s.send(s.headers(id, REQ, Flag.END_HEADERS), encodeRstStream(id, E.CANCEL));
      assert.deepEqual(ev.map((e) => e.type), ["headers", "rst"]);
      s.conn.reset(id); // the application sees the rst and stops
    }
    assert.equal(s.conn.dead, false);
    assert.equal(s.conn.nextDeadline(), -1);
  });
  test("with a clock, keep-alive PINGs and cancellations over a long connection never trip", () => {
    const s = new Script("server");
    for (let i = 0; i < 2000; i++) {
      const id = 1 + 2 * i;
      s.clock.t += 1000;
      const ev = s.send(encodePing(ping8(i), false), s.headers(id, REQ, Flag.END_HEADERS), encodeRstStream(id, E.CANCEL));
      assert.deepEqual(ev.map((e) => e.type), ["ping", "headers", "rst"]);
      s.conn.reset(id);
    }
  });
  test("with a clock, bursts are still limited", () => {
    const s = new Script("server");
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) parts.push(encodePing(ping8(i), false));
    s.send(...parts);
    assertConnError(s, CALM, "ERR_H2_PING_FLOOD");
  });
});

/** The cheap violations that make a server reset a complete request (MadeYouReset). */
const VIOLATIONS: [string, (s: Script, id: number) => Uint8Array[]][] = [
  ["DATA after END_STREAM", (s, id) => [s.headers(id, REQ), frame(T.DATA, 0, id, new Uint8Array(1))]],
  ["PRIORITY on itself", (s, id) => [s.headers(id, REQ), encodePriority(id, { exclusive: false, dependency: id, weight: 16 })]],
  ["content-length mismatch", (s, id) => [s.headers(id, [...POST, "content-length", "5"], Flag.END_HEADERS), frame(T.DATA, Flag.END_STREAM, id, new Uint8Array(3))]],
  ["trailers without END_STREAM", (s, id) => [s.headers(id, POST, Flag.END_HEADERS), s.headers(id, ["x-t", "1"], Flag.END_HEADERS)]],
];

describe("item 5: MadeYouReset (CVE-2025-8671)", () => {
  for (const [name, attack] of VIOLATIONS) {
    test(`${name}, 20,000 times: the resets we send are counted and end the connection`, () => {
      const s = new Script("server");
      let requests = 0;
      for (let i = 0; i < 20_000 && !s.conn.dead; i++) {
        const id = 1 + 2 * i;
        for (const e of s.send(...attack(s, id))) if (e.type === "headers") requests++;
      }
      assertConnError(s, CALM);
      assert.ok(requests <= 110, `${requests} requests reached the application`);
    });
    test(`${name}: a reset request counts against MAX_CONCURRENT_STREAMS until the application is done`, () => {
      const s = new Script("server", { now: null, settings: { maxConcurrentStreams: 10 } });
      const ids: number[] = [];
      for (let i = 0; i < 10; i++) {
        const id = 1 + 2 * i;
        ids.push(id);
        const ev = s.send(...attack(s, id));
        assert.ok(ev.some((e) => e.type === "headers") && ev.some((e) => e.type === "stream-error"), JSON.stringify(ev.map((e) => e.type)));
      }
      s.out();
      s.send(s.headers(21, REQ));
      const refused = s.out().find((f) => f.type === T.RST_STREAM);
      assert.ok(refused && refused.streamId === 21);
      assert.equal(new DataView(refused.payload.buffer, refused.payload.byteOffset).getUint32(0), E.REFUSED_STREAM);
      // The application answers one (it learns the stream is gone) and resets another.
      assert.throws(() => s.conn.respond(ids[0]!, [":status", "200"], true), { code: "ERR_H2_STREAM_CLOSED" });
      s.conn.reset(ids[1]!);
      assert.deepEqual(s.out().filter((f) => f.type === T.RST_STREAM), [], "no second RST_STREAM");
      assert.equal(s.send(s.headers(23, REQ))[0]?.type, "headers");
      assert.equal(s.send(s.headers(25, REQ))[0]?.type, "headers");
      s.send(s.headers(27, REQ));
      assert.ok(s.out().some((f) => f.type === T.RST_STREAM && f.streamId === 27));
    });
  }
  test("rapid reset: streams the peer resets are held the same way", () => {
    const s = new Script("server", { now: null, settings: { maxConcurrentStreams: 4 } });
    for (let i = 0; i < 4; i++) s.send(s.headers(1 + 2 * i, REQ, Flag.END_HEADERS), encodeRstStream(1 + 2 * i, E.CANCEL));
    s.out();
    s.send(s.headers(9, REQ));
    assert.ok(s.out().some((f) => f.type === T.RST_STREAM && f.streamId === 9));
    s.conn.reset(1);
    assert.equal(s.send(s.headers(11, REQ))[0]?.type, "headers");
  });
  test("streams the application answered in full are not held", () => {
    const s = new Script("server", { now: null, settings: { maxConcurrentStreams: 2 } });
    for (let i = 0; i < 50; i++) {
      const id = 1 + 2 * i;
      s.send(s.headers(id, POST, Flag.END_HEADERS));
      s.conn.respond(id, [":status", "200"], true);
      s.send(encodeRstStream(id, E.NO_ERROR));
      assert.equal(s.conn.dead, false);
    }
    assert.equal(s.send(s.headers(101, REQ))[0]?.type, "headers");
  });
});

describe("item 9: malformed requests are reset and counted", () => {
  test("20,000 requests with a bad :method end the connection", () => {
    const s = new Script("server");
    let resets = 0;
    for (let i = 0; i < 20_000 && !s.conn.dead; i++) {
      const ev = s.send(s.headers(1 + 2 * i, [":method", "GET /admin HTTP/1.1", ":scheme", "https", ":path", "/", ":authority", "a"]));
      resets += ev.filter((e) => e.type === "stream-error").length;
      assert.equal(ev.filter((e) => e.type === "headers").length, 0);
    }
    assertConnError(s, CALM);
    assert.ok(resets <= 110);
  });
});

/** Sends `n` copies of `unit` (a function of the index) after `setup`, in batches; returns how many went in before GOAWAY. */
function flood(s: Script, n: number, unit: (i: number) => Uint8Array): number {
  let sent = 0;
  for (let batch = 0; sent < n && !s.conn.dead; batch++) {
    const parts: Uint8Array[] = [];
    for (let k = 0; k < 1000 && sent < n; k++) parts.push(unit(sent++));
    s.send(...parts);
  }
  return sent;
}

describe("item 10: frames that cost work without progress", () => {
  const cases: [string, (s: Script) => (i: number) => Uint8Array][] = [
    ["PRIORITY", () => (i) => encodePriority(1 + 2 * (i % 1000), { exclusive: false, dependency: 0, weight: 16 })],
    ["unknown frame types", () => () => frame(0xfa, 0, 0, new Uint8Array(4))],
    ["1-byte DATA", (s) => {
      s.send(s.headers(1, POST, Flag.END_HEADERS));
      return () => frame(T.DATA, 0, 1, new Uint8Array(1));
    }],
    ["empty DATA", (s) => {
      s.send(s.headers(1, POST, Flag.END_HEADERS));
      return () => frame(T.DATA, 0, 1, new Uint8Array(0));
    }],
    ["GOAWAY", () => () => encodeGoaway(0, E.NO_ERROR, new Uint8Array(0))],
    ["unsolicited PING ACK", () => (i) => encodePing(ping8(i), true)],
    ["PRIORITY_UPDATE", () => (i) => frame(T.PRIORITY_UPDATE, 0, 0, concat(u32(1 + 2 * (i % 50)), new TextEncoder().encode("u=1")))],
  ];
  for (const [name, setup] of cases) {
    test(`a flood of ${name} ends in ENHANCE_YOUR_CALM near the budget`, () => {
      const s = new Script("server");
      const sent = flood(s, 100_000, setup(s));
      assertConnError(s, CALM, "ERR_H2_NO_PROGRESS_FLOOD");
      // Tiny DATA frames deliver bytes and cost 1/64 of a frame each.
      const bound = name === "1-byte DATA" ? 2000 / SMALL_DATA_FRAME_COST : 2000;
      assert.ok(sent <= bound, `${sent} frames before GOAWAY`);
    });
  }
  test("CONTINUATION abuse across requests (30 tiny fragments each) ends in ENHANCE_YOUR_CALM", () => {
    const s = new Script("server");
    let i = 0;
    for (; i < 10_000 && !s.conn.dead; i++) {
      const block = s.hpack.encode(REQ);
      const parts = [frame(T.HEADERS, Flag.END_STREAM, 1 + 2 * i, block.subarray(0, 1))];
      for (let k = 0; k < 30; k++) parts.push(frame(T.CONTINUATION, 0, 1 + 2 * i, new Uint8Array(0)));
      parts.push(frame(T.CONTINUATION, Flag.END_HEADERS, 1 + 2 * i, block.subarray(1)));
      s.send(...parts);
      if (!s.conn.dead) s.conn.respond(1 + 2 * i, [":status", "204"], true);
    }
    assertConnError(s, CALM, "ERR_H2_NO_PROGRESS_FLOOD");
    assert.ok(i < 100, `${i} requests`);
  });
  test("client: 100,000 informational responses end in ENHANCE_YOUR_CALM", () => {
    const s = new Script("client");
    const id = s.conn.request(REQ, true);
    s.out();
    s.send(s.headers(id, [":status", "103", "link", "</a.css>"], Flag.END_HEADERS));
    const again = s.headers(id, [":status", "103", "link", "</a.css>"], Flag.END_HEADERS);
    const sent = flood(s, 100_000, () => again);
    assertConnError(s, CALM, "ERR_H2_NO_PROGRESS_FLOOD");
    assert.ok(sent <= 2000, `${sent} responses before GOAWAY`);
  });
  test("legitimate use of the same frames never trips: 20,000 requests at 1,000 a second with a PRIORITY, a PRIORITY_UPDATE and a short DATA each, one in 20 cancelled", () => {
    const s = new Script("server");
    for (let i = 0; i < 20_000; i++) {
      const id = 1 + 2 * i;
      s.clock.t += 1;
      s.send(
        s.headers(id, POST, Flag.END_HEADERS),
        encodePriority(id, { exclusive: false, dependency: 0, weight: 32 }),
        frame(T.PRIORITY_UPDATE, 0, 0, concat(u32(id), new TextEncoder().encode("u=2"))),
        frame(T.DATA, 0, id, new Uint8Array(3)),
        frame(T.DATA, Flag.END_STREAM, id, new Uint8Array(2)),
      );
      s.conn.respond(id, [":status", "200"], false);
      s.conn.sendData(id, new Uint8Array(10), i % 20 !== 0);
      s.out();
      if (i % 20 === 0) {
        s.send(encodeRstStream(id, E.CANCEL), encodeWindowUpdate(id, 10));
        s.conn.reset(id); // the application sees the rst and stops
      } else s.send(encodeWindowUpdate(id, 10), encodeWindowUpdate(0, 10));
      assert.equal(s.conn.dead, false, `request ${i}`);
    }
  });
  test("tiny DATA frames at an interactive pace never trip (the clock pays them back)", () => {
    const s = new Script("server");
    s.send(s.headers(1, POST, Flag.END_HEADERS));
    for (let i = 0; i < 20_000; i++) {
      s.clock.t += 10; // 100 frames a second, for 200 seconds
      s.send(frame(T.DATA, 0, 1, new Uint8Array(1)));
      assert.equal(s.conn.dead, false, `frame ${i}`);
    }
  });
  for (const now of ["clock", "no clock"] as const) {
    test(`a long stream of small messages both ways (a chat, gRPC-style) never trips, ${now}`, () => {
      // 50,000 messages of 12 bytes each way on one stream, 1,000 a second.
      const s = new Script("server", now === "no clock" ? { now: null } : {});
      s.send(s.headers(1, POST, Flag.END_HEADERS));
      s.conn.respond(1, [":status", "200"], false);
      for (let i = 0; i < 50_000; i++) {
        s.clock.t += 1;
        s.send(frame(T.DATA, 0, 1, new Uint8Array(12)));
        s.conn.sendData(1, new Uint8Array(12), false);
        s.out();
        if (i % 1000 === 999) s.send(encodeWindowUpdate(1, 12_000), encodeWindowUpdate(0, 12_000));
        assert.equal(s.conn.dead, false, `message ${i}`);
      }
    });
  }
  test("client: a server-sent event stream of small events (5,000 a second for 20 s) never trips", () => {
    const s = new Script("client");
    const id = s.conn.request(REQ, true);
    s.out();
    s.send(s.headers(id, [":status", "200", "content-type", "text/event-stream"], Flag.END_HEADERS));
    for (let i = 0; i < 100_000; i++) {
      if (i % 5 === 0) s.clock.t += 1;
      s.send(frame(T.DATA, 0, id, new Uint8Array(10)));
      if (i % 1000 === 999) s.out(); // our WINDOW_UPDATEs
      assert.equal(s.conn.dead, false, `event ${i}`);
    }
  });
  test("client: a 103 per response over many responses never trips", () => {
    const s = new Script("client", { settings: { maxConcurrentStreams: 1000 } });
    for (let i = 0; i < 5000; i++) {
      const id = s.conn.request(REQ, true);
      s.out();
      s.send(s.headers(id, [":status", "103", "link", "</a.css>"], Flag.END_HEADERS), s.headers(id, [":status", "200"]));
      assert.equal(s.conn.dead, false, `response ${i}`);
    }
  });
  test("the budget is reported on the counters", () => {
    const s = new Script("server");
    s.send(encodePriority(1, { exclusive: false, dependency: 0, weight: 16 }));
    assert.equal(s.conn.counters.noProgress.total, 1);
    assert.equal(s.conn.counters.noProgress.debt, 1);
  });
});
