// serve() over HTTP/1.1: the upgrade hook (bytes both ways after the 101,
// a declined upgrade going on as HTTP/1.1), trailers in and out (raw and
// node:http as the client), a bodiless request's lazy Request, and
// graceful shutdown on SIGTERM with a request in flight (a child process).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { installLightResponse, serve } from "../http/server/mod.ts";
import { runtimeCommand } from "./loop_helpers.ts";

/** A raw client: write `chunks`, collect what comes back; `until` ends the wait early (bounded by 10 s). */
function rawExchange(port: number, steps: Array<{ send: string; until: (text: string) => boolean }>): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let text = "";
    let closed = false;
    let step = 0;
    const finish = () => {
      clearTimeout(bound);
      sock.destroy();
      resolve({ text, closed });
    };
    const bound = setTimeout(finish, 10_000);
    const next = () => {
      while (step < steps.length && (step === 0 || steps[step - 1]!.until(text))) {
        sock.write(steps[step]!.send);
        step++;
        if (!steps[step - 1]!.until(text)) return;
      }
      if (step === steps.length && steps[step - 1]!.until(text)) finish();
    };
    sock.on("connect", next);
    sock.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      next();
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      closed = true;
      finish();
    });
  });
}

describe("serve: upgrade, trailers, shutdown on a signal", () => {
  test("upgrade: the 101 is written, then the raw connection carries bytes both ways (early bytes included)", async () => {
    let opened = 0;
    const s = serve({
      port: 0,
      fetch: (request, info) => {
        if (request.headers.get("upgrade") !== "echo") return new Response(`plain ${new URL(request.url).pathname}`);
        return info.upgrade!({
          headers: { "x-protocol": "echo/1" },
          open: (conn, head) => {
            opened++;
            conn.setHandler({ data: (c, bytes) => void c.send(bytes) });
            if (head.length > 0) conn.send(head);
          },
        });
      },
    });
    try {
      const { text } = await rawExchange(s.addr.port, [
        { send: "GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly;", until: (t) => t.includes("early;") },
        { send: "ping;", until: (t) => t.includes("ping;") },
        { send: "GET / HTTP/1.1\r\n\r\n", until: (t) => t.endsWith("GET / HTTP/1.1\r\n\r\n") },
      ]);
      const [head, rest] = [text.slice(0, text.indexOf("\r\n\r\n") + 4), text.slice(text.indexOf("\r\n\r\n") + 4)];
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nConnection: Upgrade\r\n/i);
      assert.match(head, /\r\nUpgrade: echo\r\n/i);
      assert.match(head, /\r\nx-protocol: echo\/1\r\n/i);
      // After the 101 nothing is HTTP any more: even a request line comes back as it was sent.
      assert.equal(rest, "early;ping;GET / HTTP/1.1\r\n\r\n");
      assert.equal(opened, 1);
      // An upgraded connection still counts (as node:net's count does) until
      // it closes: the client destroyed it, so it is released within a few turns.
      for (let i = 0; i < 200 && s.connections !== 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.connections, 0);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("upgrade declined: an ordinary response, then the next request on the same connection; upgrade() without Upgrade is a TypeError", async () => {
    let typeError = false;
    const s = serve({
      port: 0,
      fetch: (request, info) => {
        if (request.headers.get("upgrade") === null) {
          try {
            info.upgrade!({ open: () => {} });
          } catch (err) {
            typeError = err instanceof TypeError;
          }
        }
        return new Response(`plain ${new URL(request.url).pathname}`);
      },
    });
    try {
      const { text } = await rawExchange(s.addr.port, [
        {
          send: "GET /a HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
          until: (t) => t.endsWith("plain /b"),
        },
      ]);
      assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n"), text);
      assert.ok(text.includes("plain /a") && text.endsWith("plain /b"), text);
      assert.ok(typeError);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("trailers: a chunked request's trailers reach info.trailers; info.setTrailers sends them after a chunked body", async () => {
    const s = serve({
      port: 0,
      fetch: async (request, info) => {
        const body = await request.text();
        const trailers = await info.trailers;
        info.setTrailers(() => ({ "x-checksum": String(body.length), "server-timing": "total;dur=1" }));
        return Response.json({ body, sum: trailers.get("x-sum") });
      },
    });
    try {
      const { text } = await rawExchange(s.addr.port, [{
        send: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n",
        until: (t) => t.endsWith("\r\n\r\n") && t.includes("0\r\n"),
      }]);
      assert.match(text, /\r\ntransfer-encoding: chunked\r\n/i);
      assert.ok(!/\r\ncontent-length:/i.test(text));
      assert.ok(text.includes('{"body":"hello","sum":"42"}'), text);
      const tail = text.slice(text.lastIndexOf("\r\n0\r\n"));
      assert.match(tail, /\r\nx-checksum: 5\r\n/);
      assert.match(tail, /\r\nserver-timing: total;dur=1\r\n/);
      assert.ok(tail.endsWith("\r\n\r\n"));
      // node's client sees them as trailers
      const seen = await new Promise<Record<string, string | undefined>>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: s.addr.port, method: "POST", path: "/" }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.trailers));
        });
        req.on("error", reject);
        req.addTrailers({ "x-sum": "7" });
        req.setHeader("transfer-encoding", "chunked");
        req.end("abc");
      });
      assert.equal(seen["x-checksum"], "3");
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("a trailer field that may not be a trailer aborts the connection after the body, nothing else", async () => {
    const s = serve({
      port: 0,
      onError: () => new Response("unused"),
      fetch: (_request, info) => {
        info.setTrailers({ "content-length": "5" });
        return new Response("body");
      },
    });
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      const { text, closed } = await rawExchange(s.addr.port, [{ send: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", until: () => false }]);
      assert.ok(closed);
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      // The abort drops output still queued (documented on abort()): with
      // readiness I/O the chunk went to the kernel at once, with io_uring it
      // may still wait behind the head's send. Either way the body is cut.
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      assert.ok(body === "" || body === "4\r\nbody\r\n", text);
      assert.ok(!text.includes("0\r\n\r\n"), text); // no last chunk: the client sees a cut body
    } finally {
      console.error = original;
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("limits: a body over maxBodyBytes is 413 (declared or chunked), more fields than maxHeaderCount 431, both close", async () => {
    const s = serve({ port: 0, maxBodyBytes: 10, maxHeaderCount: 5, fetch: async (request) => new Response(`got ${(await request.text()).length}`) });
    try {
      const declared = await rawExchange(s.addr.port, [{ send: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n${"x".repeat(11)}`, until: () => false }]);
      assert.match(declared.text, /^HTTP\/1\.1 413 /);
      assert.ok(declared.closed);
      const chunked = await rawExchange(s.addr.port, [{ send: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nxxxxxx\r\n6\r\nxxxxxx\r\n0\r\n\r\n", until: () => false }]);
      assert.match(chunked.text, /HTTP\/1\.1 413 /);
      assert.ok(!chunked.text.includes("got "), chunked.text);
      assert.ok(chunked.closed);
      const fields = await rawExchange(s.addr.port, [{ send: `GET / HTTP/1.1\r\nHost: a\r\n${"X-A: 1\r\n".repeat(6)}\r\n`, until: () => false }]);
      assert.match(fields.text, /^HTTP\/1\.1 431 /);
      assert.ok(fields.closed);
      const fine = await rawExchange(s.addr.port, [{ send: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789", until: () => false }]);
      assert.ok(fine.text.endsWith("got 10"), fine.text);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("the keep-alive timeout never cuts a response that keeps sending; request.signal stays quiet after a normal exchange", async () => {
    let signal: AbortSignal | undefined;
    const s = serve({
      port: 0,
      keepAliveTimeoutMs: 60,
      headersTimeoutMs: 60,
      fetch: (request) => {
        signal = request.signal;
        let n = 0;
        return new Response(new ReadableStream({
          async pull(c) {
            // 10 pieces, 30 ms apart: 300 ms in all, five times the keep-alive timeout
            await new Promise((r) => setTimeout(r, 30));
            c.enqueue(new TextEncoder().encode(`p${n};`));
            if (++n === 10) c.close();
          },
        }));
      },
    });
    try {
      const r = await fetch(`http://127.0.0.1:${s.addr.port}/`);
      assert.equal(await r.text(), "p0;p1;p2;p3;p4;p5;p6;p7;p8;p9;");
      assert.ok(signal !== undefined && !signal.aborted);
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });

  test("installLightResponse: light responses are written from what they recorded, and behave as Responses", async () => {
    const uninstall = installLightResponse();
    let checks: unknown[] = [];
    const s = serve({
      port: 0,
      onError: (error) => new Response(`refused: ${(error as Error).name}`, { status: 500 }),
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/text") return new Response("héllo", { headers: { "X-A": "1" } });
        if (path === "/bytes") return new Response(new Uint8Array([104, 105]), { status: 201, headers: [["content-type", "application/octet-stream"]] });
        if (path === "/none") return new Response(null, { status: 204 });
        if (path === "/bad") return new Response("x", { headers: { "x-bad": "a\r\nInjected: 1" } });
        const r = new Response("read me", { status: 202, headers: { "x-b": "2" } });
        checks = [r instanceof Response, r.status, r.headers.get("x-b"), await r.clone().text(), Response.json({ a: 1 }) instanceof Response];
        return r;
      },
    });
    try {
      const base = `http://127.0.0.1:${s.addr.port}`;
      const text = await fetch(`${base}/text`);
      assert.equal(await text.text(), "héllo");
      assert.equal(text.headers.get("content-type"), "text/plain;charset=UTF-8");
      assert.equal(text.headers.get("content-length"), "6");
      assert.equal(text.headers.get("x-a"), "1");
      const bytes = await fetch(`${base}/bytes`);
      assert.equal(bytes.status, 201);
      assert.equal(await bytes.text(), "hi");
      assert.equal((await fetch(`${base}/none`)).status, 204);
      const bad = await rawExchange(s.addr.port, [{ send: "GET /bad HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until: () => false }]);
      assert.match(bad.text, /^HTTP\/1\.1 500 /);
      assert.ok(!bad.text.includes("Injected"), bad.text);
      const read = await fetch(`${base}/read`);
      assert.equal(read.status, 202);
      assert.equal(await read.text(), "read me");
      assert.deepEqual(checks, [true, 202, "2", "read me", true]);
    } finally {
      uninstall();
      await s.shutdown({ deadlineMs: 200 });
    }
    assert.equal(new Response("x") instanceof Response, true);
  });

  test("shutdownOnSignal: SIGTERM lets the request in flight finish with Connection: close, then the process exits by itself", async () => {
    const [cmd, args] = runtimeCommand(fileURLToPath(new URL("http_server_fixture_signal.ts", import.meta.url)));
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code: number | null) => resolve(code)));
    // A safety net only: a child started through a TypeScript loader on a
    // loaded CI machine can take many seconds to print READY.
    const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    try {
      const waitFor = (text: string) => new Promise<void>((resolve, reject) => {
        const check = () => (out.includes(text) ? resolve() : undefined);
        child.stdout!.on("data", (d: Uint8Array) => {
          out += String(d);
          check();
        });
        check();
        void exited.then((code) => reject(new Error(`child exited (${code}) before ${text}: ${out} ${err}`)));
      });
      await waitFor("READY ");
      const port = Number(/READY (\d+)/.exec(out)![1]);
      const inFlight = rawExchange(port, [{ send: "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n", until: (t) => t.endsWith("slow done") }]);
      await waitFor("IN FLIGHT");
      (globalThis as unknown as { process: { kill(pid: number, s: string): void } }).process.kill(child.pid!, "SIGTERM");
      const { text } = await inFlight;
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /\r\nConnection: close\r\n/i);
      assert.ok(text.endsWith("slow done"));
      assert.equal(await exited, 0, err);
      assert.ok(out.includes("FINISHED"), out);
    } finally {
      clearTimeout(killer);
    }
  });
});
