// Access lines and request-scoped logs share the request id end to end,
// over a real serve fetched by the runtime's fetch.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Logger } from "../core/log.ts";
import { accessLog, requestLogger } from "../http/server/access_log.ts";
import { serve, type Server } from "../http/server/serve.ts";
import { upgradeWebSocket } from "../ws/server.ts";
import { npmClosed, npmMessages, openNpmClient } from "./ws_peers.ts";

describe("accessLog", () => {
  test("the request id from the header, or a made one, is on the handler's lines, the access line and the response", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = new Logger({ level: "debug", sink: (line) => lines.push(JSON.parse(line)) });
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      middleware: [accessLog(log)],
      fetch: (request) => {
        requestLogger(log, request).debug("handling", { step: 1 });
        if (new URL(request.url).pathname === "/fail") throw new Error("nope");
        return new Response("ok");
      },
      onError: () => new Response("sorry", { status: 500 }),
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const r1 = await fetch(`${base}/a?q=1`, { headers: { "x-request-id": "req-123", traceparent } });
    assert.equal(await r1.text(), "ok");
    assert.equal(r1.headers.get("x-request-id"), "req-123");
    const r2 = await fetch(`${base}/b`);
    await r2.text();
    const made = r2.headers.get("x-request-id");
    assert.match(made ?? "", /^[0-9a-f-]{36}$/);
    const r3 = await fetch(`${base}/fail`, { headers: { "x-request-id": "bad id with spaces" } });
    assert.equal(r3.status, 500);
    await r3.text();

    const first = lines.filter((l) => l.requestId === "req-123");
    assert.deepEqual(first.map((l) => l.msg), ["handling", "request"]);
    assert.ok(first.every((l) => l.traceId === "4bf92f3577b34da6a3ce929d0e0e4736"));
    assert.equal(first[1]?.status, 200);
    assert.equal(first[1]?.path, "/a");
    assert.equal(first[1]?.method, "GET");
    assert.equal(typeof first[1]?.durationMs, "number");
    assert.deepEqual(lines.filter((l) => l.requestId === made).map((l) => l.msg), ["handling", "request"]);
    const failed = lines.filter((l) => l.msg === "request failed");
    assert.equal(failed.length, 1);
    assert.notEqual(failed[0]?.requestId, "bad id with spaces");
    assert.deepEqual((failed[0]?.error as { message: string }).message, "nope");
    assert.equal(lines.filter((l) => l.requestId === failed[0]?.requestId && l.msg === "handling").length, 1);
  });

  test("a request switched to WebSocket gets its access line (status 101) with its request id, both upgrade shapes", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = new Logger({ level: "debug", sink: (line) => lines.push(JSON.parse(line)) });
    const server: Server = serve({
      host: "127.0.0.1",
      port: 0,
      middleware: [accessLog(log)],
      websocket: { message: (ws, m) => void ws.send(m) },
      fetch: (request, info) => {
        requestLogger(log, request).info("upgrading");
        if (new URL(request.url).pathname === "/deno") {
          const { response, socket } = upgradeWebSocket(request, { info });
          socket.onmessage = (e) => socket.send(e.data as string);
          return response;
        }
        return server.upgrade(request) ? undefined : new Response("no");
      },
    });
    try {
      for (const path of ["/bun", "/deno"]) {
        const ws = await openNpmClient(`ws://127.0.0.1:${server.addr.port}${path}`, [], { headers: { "x-request-id": `up${path.slice(1)}` } });
        ws.send("echo");
        assert.deepEqual(await npmMessages(ws)(), { data: "echo", binary: false });
        const closed = npmClosed(ws);
        ws.close(1000);
        await closed;
        const mine = lines.filter((l) => l.requestId === `up${path.slice(1)}`);
        assert.deepEqual(mine.map((l) => l.msg), ["upgrading", "request"], path);
        assert.equal(mine[1]?.status, 101);
        assert.equal(mine[1]?.upgrade, "websocket");
        assert.equal(mine[1]?.path, path);
      }
      assert.equal(lines.filter((l) => l.level === "error").length, 0);
    } finally {
      await server.shutdown({ deadlineMs: 1000 });
    }
  });

  test("options are checked; below the level no access line is written", async () => {
    assert.throws(() => accessLog(new Logger(), { headr: "x" } as never), /unknown option "headr"/);
    const lines: string[] = [];
    const mw = accessLog(new Logger({ level: "warn", sink: (l) => lines.push(l) }));
    const response = await mw(new Request("http://x/"), () => Promise.resolve(new Response("ok")));
    assert.equal(response.status, 200);
    assert.deepEqual(lines, []);
  });
});
