import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { formatJSONLine, formatLogfmtLine, LOG_LEVELS, Logger, type LogRecord, parseTraceparent, silentLogger } from "./log.ts";

function capture(options: ConstructorParameters<typeof Logger>[0] = {}) {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const log = new Logger({ clock: () => 1_700_000_000_000, ...options, sink: (line, record) => (lines.push(line), records.push(record)) });
  return { log, lines, records };
}

describe("Logger", () => {
  test("levels: below the level nothing is formatted or written", () => {
    const { log, lines } = capture({ level: "warn" });
    let formatted = 0;
    const expensive = { toJSON: () => (formatted++, "x") };
    log.trace("t", { expensive });
    log.debug("d", { expensive });
    log.info("i", { expensive });
    assert.equal(formatted, 0);
    log.warn("w");
    log.error("e");
    log.fatal("f");
    assert.deepEqual(lines.map((l) => JSON.parse(l).level), ["warn", "error", "fatal"]);
    assert.equal(log.trace, log.debug); // the same empty function
    assert.equal(log.enabled("warn"), true);
    assert.equal(log.enabled("info"), false);
    assert.ok(LOG_LEVELS.fatal > LOG_LEVELS.error);
  });

  test("JSON lines carry time, level, msg, bound and call fields; children add fields", () => {
    const { log, lines } = capture({ fields: { app: "x" } });
    const child = log.child({ requestId: "r1" }).child({ traceId: "t1" });
    child.info("served", { status: 200, requestId: "override" });
    assert.deepEqual(JSON.parse(lines[0]!), {
      time: "2023-11-14T22:13:20.000Z",
      level: "info",
      msg: "served",
      app: "x",
      requestId: "override",
      traceId: "t1",
      status: 200,
    });
  });

  test("errors, bigints, cycles and reserved names are written safely", () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const err = Object.assign(new Error("boom", { cause: new Error("root") }), { code: "E_X" });
    log.error("failed", { error: err, big: 10n ** 20n, cyclic, msg: "shadow", fn: () => 1 });
    const rec = JSON.parse(lines[0]!);
    assert.deepEqual(rec.error, { name: "Error", message: "boom", code: "E_X", cause: { name: "Error", message: "root" } });
    assert.equal(rec.big, "100000000000000000000");
    assert.deepEqual(rec.cyclic, { a: 1, self: "[Circular]" });
    assert.equal(rec.msg, "failed");
    assert.equal(rec._msg, "shadow");
    log.errorHandler("accept failed")(new TypeError("bad"));
    assert.equal(JSON.parse(lines[1]!).error.name, "TypeError");
  });

  test("logfmt quotes what needs quoting, and every line stays one line", () => {
    const { log, lines } = capture({ format: "logfmt" });
    log.info("hello world", { path: "/a b", q: 'say "hi"', n: 3, empty: "", nl: "a\nb", ok: true });
    assert.equal(lines[0], 'time=2023-11-14T22:13:20.000Z level=info msg="hello world" path="/a b" q="say \\"hi\\"" n=3 empty="" nl="a\\nb" ok=true');
    fc.assert(fc.property(fc.string(), fc.dictionary(fc.string(), fc.string()), (msg, fields) => {
      const line = formatLogfmtLine({ time: 0, level: "info", msg, fields });
      assert.ok(!line.includes("\n"));
    }));
  });

  test("logfmt writes no control character raw (a peer's ESC, NUL, DEL or line separator in a value or key cannot reach a terminal or split a line)", () => {
    const line = formatLogfmtLine({ time: 0, level: "info", msg: "m\x1b[2J", fields: { reason: "a\x1b]0;pwned\x07b", nul: "x\x00y", del: "\x7f", ls: "a\u2028b", "k\x1bey": 1 } });
    assert.equal(line, 'time=1970-01-01T00:00:00.000Z level=info msg="m\\x1b[2J" reason="a\\x1b]0;pwned\\x07b" nul="x\\x00y" del="\\x7f" ls="a\\u2028b" k_ey=1');
    fc.assert(fc.property(fc.string({ unit: "binary" }), fc.dictionary(fc.string({ unit: "binary" }), fc.string({ unit: "binary" })), (msg, fields) => {
      const line = formatLogfmtLine({ time: 0, level: "info", msg, fields });
      assert.ok(!/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(line), JSON.stringify(line));
    }));
  });

  test("JSON lines write no DEL, C1 control or line separator raw (escaped as \\u00XX / \\u2028: one line for every consumer, nothing a terminal acts on), and parse back to the same values", () => {
    const line = formatJSONLine({ time: 0, level: "info", msg: "m\x7f", fields: { c1: "a\x9b2Jb\x85c", ls: "a\u2028b\u2029c", "k\x90ey": "\x80\x9f", ok: "\xa0é" } });
    assert.equal(line, '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"m\\u007f","c1":"a\\u009b2Jb\\u0085c","ls":"a\\u2028b\\u2029c","k\\u0090ey":"\\u0080\\u009f","ok":"\xa0é"}');
    fc.assert(fc.property(fc.string({ unit: "binary" }), fc.dictionary(fc.string({ unit: "binary" }), fc.string({ unit: "binary" })), (msg, fields) => {
      const line = formatJSONLine({ time: 0, level: "info", msg, fields });
      assert.ok(!/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(line), JSON.stringify(line));
      const back = JSON.parse(line) as Record<string, unknown>;
      assert.equal(back.msg, msg);
    }));
  });

  test("bad options are TypeErrors; the silent logger writes nothing", () => {
    assert.throws(() => new Logger({ level: "loud" as never }), TypeError);
    assert.throws(() => new Logger({ format: "xml" as never }), TypeError);
    assert.throws(() => new Logger({ sinc: () => {} } as never), /unknown option "sinc"/);
    assert.equal(silentLogger.enabled("fatal"), false);
    silentLogger.fatal("nothing");
  });
});

describe("parseTraceparent", () => {
  test("W3C Trace Context: valid headers parse, malformed ones are null", () => {
    assert.deepEqual(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), {
      version: "00",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentId: "00f067aa0ba902b7",
      flags: 1,
    });
    assert.equal(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")?.version, "01");
    for (const bad of [
      null, "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ]) assert.equal(parseTraceparent(bad), null, String(bad));
  });
});
