// A real browser against ffinet's server: headless Chromium (Debian's, driven
// by playwright-core from a Node child process, tests/browser_driver.mjs)
// loads a page from `serve()` running in this test's runtime, over
// http://127.0.0.1 and over https with `tls` (h2 by ALPN). The page's script
// fetches a JSON endpoint, opens a WebSocket to the server's echo (ws:// or
// wss://, server.upgrade with the `websocket` handlers), sends text, a small
// and a 100 KiB binary message, and writes what came back into the DOM; the
// driver reads the DOM and this test checks it, plus the navigation's
// nextHopProtocol (h2 over https, http/1.1 over http). Chromium trusts only
// the test leaf (by its public key's hash, not --ignore-certificate-errors);
// without that, it refuses the certificate. Skipped, saying why,
// when chromium is not installed (CI installs it: .ci/run).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serve, type Server } from "../http/server/mod.ts";
import { testPKI } from "./tls_pki.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const DRIVER = fileURLToPath(new URL("./browser_driver.mjs", import.meta.url));
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

const PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>ffinet browser test</title>
<pre id="result"></pre>
<script>
(async () => {
  const result = document.getElementById("result");
  const report = {};
  try {
    const nav = performance.getEntriesByType("navigation")[0];
    report.protocol = nav ? nav.nextHopProtocol : null;
    const response = await fetch("/api/data?x=" + encodeURIComponent("ü"));
    report.status = response.status;
    report.json = await response.json();
    report.echo = await new Promise((resolve, reject) => {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/echo");
      ws.binaryType = "arraybuffer";
      const small = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
      const big = new Uint8Array(100 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
      const got = [];
      ws.onopen = () => { ws.send("hello, ffinet ✓"); ws.send(small); ws.send(big); };
      ws.onmessage = (event) => {
        if (typeof event.data === "string") got.push({ text: event.data });
        else {
          const bytes = new Uint8Array(event.data);
          let sum = 0;
          for (const b of bytes) sum = (sum * 33 + b) >>> 0;
          got.push(bytes.length < 16 ? { bytes: Array.from(bytes) } : { length: bytes.length, sum, same: bytes.every((b, i) => b === big[i]) });
        }
        if (got.length === 3) ws.close(1000, "done");
      };
      ws.onclose = (event) => resolve({ got, code: event.code, reason: event.reason, wasClean: event.wasClean });
      ws.onerror = () => reject(new Error("WebSocket error"));
    });
  } catch (error) {
    report.error = String(error);
  }
  result.textContent = JSON.stringify(report);
  result.dataset.done = "1";
})();
</script>
</html>
`;

interface PageReport {
  protocol: string | null;
  status: number;
  json: unknown;
  echo: { got: unknown[]; code: number; reason: string; wasClean: boolean };
  error?: string;
}

/** What the server's `close` handler saw, per server; `closed` settles once a socket closed. */
interface Closes {
  seen: { code: number; reason: string }[];
  closed: Promise<void>;
}

function startServer(tls: { cert: string; key: string } | undefined, closes: Closes): Server {
  let onClose = () => {};
  closes.closed = new Promise((resolve) => (onClose = resolve));
  const server: Server = serve({
    port: 0,
    host: "127.0.0.1",
    ...(tls ? { tls } : {}),
    fetch: (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/") return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      if (url.pathname === "/api/data") return Response.json({ runtime, x: url.searchParams.get("x"), list: [1, 2, 3] });
      if (url.pathname === "/echo") return server.upgrade(request) ? undefined : new Response("not a websocket", { status: 400 });
      return new Response("not found", { status: 404 });
    },
    websocket: {
      message: (ws, message) => void ws.send(message),
      close: (_ws, code, reason) => {
        closes.seen.push({ code, reason });
        onClose();
      },
    },
  });
  return server;
}

/** Loads each URL in Chromium (a Node child running the driver); the page reports, parsed. */
function loadInBrowser(urls: string[], trustCert?: string): Promise<PageReport[]> {
  const config = JSON.stringify({ chromium: CHROMIUM, urls, trustCert, waitMs: 10_000 });
  return new Promise((resolve, reject) => {
    execFile("node", [DRIVER, config], { encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`browser driver failed: ${error.message}\n${stderr}`));
      const out = JSON.parse(stdout.trim()) as { error: string } | { url: string; text: string; console: string[] }[];
      if (!Array.isArray(out)) return reject(new Error(`browser driver: ${out.error}`));
      resolve(out.map((r) => {
        try {
          return JSON.parse(r.text) as PageReport;
        } catch {
          throw new Error(`page ${r.url} wrote ${JSON.stringify(r.text)}; console: ${r.console.join(" | ")}`);
        }
      }));
    });
  });
}

function expectedEcho(): unknown[] {
  const big = new Uint8Array(100 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
  let sum = 0;
  for (const b of big) sum = (sum * 33 + b) >>> 0;
  return [{ text: "hello, ffinet ✓" }, { bytes: [0, 1, 2, 127, 128, 254, 255] }, { length: big.length, sum, same: true }];
}

function checkReport(report: PageReport, protocol: string): void {
  assert.equal(report.error, undefined, `the page's script failed: ${report.error}`);
  assert.equal(report.protocol, protocol);
  assert.equal(report.status, 200);
  assert.deepEqual(report.json, { runtime, x: "ü", list: [1, 2, 3] });
  // The browser's close event carries the server's Close frame (1000; the reason is not echoed).
  assert.deepEqual({ ...report.echo, reason: undefined }, { got: expectedEcho(), code: 1000, reason: undefined, wasClean: true });
}

describe("a real browser (headless Chromium)", { skip: CHROMIUM === undefined ? "chromium not installed (apt-get install chromium)" : false }, () => {
  let plain: Server;
  let secure: Server;
  let leaf: string;
  const plainCloses: Closes = { seen: [], closed: Promise.resolve() };
  const secureCloses: Closes = { seen: [], closed: Promise.resolve() };

  before(() => {
    const pki = testPKI();
    leaf = pki.chain;
    plain = startServer(undefined, plainCloses);
    secure = startServer({ cert: pki.chain, key: pki.key }, secureCloses);
  });
  after(() => Promise.all([plain?.shutdown({ deadlineMs: 100 }), secure?.shutdown({ deadlineMs: 100 })]));

  test("https without trusting the test leaf: Chromium refuses the certificate", async () => {
    await assert.rejects(loadInBrowser([`https://127.0.0.1:${secure.addr.port}/`]), /ERR_CERT_AUTHORITY_INVALID/);
  });

  test("loads a page over http and https (h2 by ALPN): fetch JSON, WebSocket echo over ws and wss", async () => {
    const [overHttp, overHttps] = await loadInBrowser([
      `http://127.0.0.1:${plain.addr.port}/`,
      `https://127.0.0.1:${secure.addr.port}/`,
    ], leaf);
    checkReport(overHttp!, "http/1.1");
    checkReport(overHttps!, "h2");
    // The server saw the page's close(1000, "done") on both (a bounded wait: the driver may exit first).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all([plainCloses.closed, secureCloses.closed]), new Promise((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
    assert.deepEqual(plainCloses.seen, [{ code: 1000, reason: "done" }]);
    assert.deepEqual(secureCloses.seen, [{ code: 1000, reason: "done" }]);
  });
});
