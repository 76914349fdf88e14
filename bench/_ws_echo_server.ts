/**
 * A WebSocket echo server for bench/ws_echo.ts, run as a child process:
 * `_ws_echo_server.ts ffinet|ws|deno|bun [deflate]` prints "port N" (ours:
 * "port N io readiness|io_uring", the I/O its listener took: `FFINET_IO`
 * in the environment asks for io_uring) and
 * echoes until killed; with `deflate` it accepts permessage-deflate (our
 * client and npm ws offer it; the message threshold is each side's own).
 * The ffinet server answers a `stats` line on stdin with `stats {…}`: its
 * loop's counters so far (ticks, polls, lingers, parks, wakes, events), so
 * the bench can say per message how often the loop woke and parked; a
 * `memory` line with `memory {…}`: its RSS and, with io_uring, the receive
 * buffers the kernel was given and the pooled send buffers.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { serve } from "../http/server/serve.ts";
import { defaultLoop } from "../poll/loop.ts";
import { loopUring } from "../poll/uring/loop_io.ts";
import { chooseAsyncIo } from "../poll/uring/probe.ts";

const kind = typeof process !== "undefined" ? process.argv[2] : "ffinet";
const deflate = typeof process !== "undefined" && process.argv[3] === "deflate";
/**
 * Our permessage-deflate settings: the same parameters the peer server of
 * this runtime agrees to, so that the load clients do the same work for
 * both. Bun.serve's `perMessageDeflate: true` answers
 * `client_no_context_takeover; server_no_context_takeover` and compresses
 * and inflates through shared streams; npm `ws` keeps both contexts. (npm `ws`'s
 * client compresses every message when the client's context is kept, and
 * only those of 1 KiB and more when it is not.)
 */
function ourDeflate(): true | { serverNoContextTakeover: true; clientNoContextTakeover: true; sharedCompressor: true; sharedDecompressor: true } {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
    ? { serverNoContextTakeover: true, clientNoContextTakeover: true, sharedCompressor: true, sharedDecompressor: true }
    : true;
}

/**
 * What our server's native I/O memory is made of: with io_uring, the
 * provided receive buffers the kernel was given (each written to in turn,
 * so resident) and the pooled send buffers; the process's RSS for scale.
 */
function memory(): Record<string, number> {
  const rss = typeof process.memoryUsage === "function" ? process.memoryUsage().rss : 0;
  if (chooseAsyncIo() !== "io_uring") return { rss };
  const io = loopUring(defaultLoop());
  const given = io.buffers?.given ?? 0;
  return {
    rss,
    recvBuffersGiven: given,
    recvBufferBytes: given * (io.buffers?.bufferBytes ?? 0),
    recvBuffersExhausted: io.buffersExhausted,
    sendBuffersKept: io.buffersFree,
    sendBuffersLent: io.buffersLent,
  };
}

if (kind === "ffinet") {
  const server = serve({
    port: 0,
    fetch: (request) => (server.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    websocket: { perMessageDeflate: deflate && ourDeflate(), message: (ws, message) => void ws.send(message) },
  });
  console.log(`port ${server.addr.port} io ${chooseAsyncIo()}`);
  // Read between rounds only: the bench asks before and after each one.
  let pending = "";
  process.stdin.on("data", (d: Uint8Array | string) => {
    pending += typeof d === "string" ? d : new TextDecoder().decode(d);
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line === "stats") console.log(`stats ${JSON.stringify(defaultLoop().stats)}`);
      else if (line === "memory") console.log(`memory ${JSON.stringify(memory())}`);
    }
  });
} else if (kind === "ws") {
  const require = createRequire(import.meta.url);
  const { WebSocketServer } = require(fileURLToPath(new URL("../node_modules/ws/index.js", import.meta.url))) as {
    WebSocketServer: new (o: object) => { on(e: string, f: (...a: never[]) => void): void; address(): { port: number } };
  };
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: deflate });
  wss.on("listening", (() => console.log(`port ${wss.address().port}`)) as never);
  wss.on("connection", ((ws: { on(e: string, f: (d: unknown, b: boolean) => void): void; send(d: unknown, o: object): void }) => {
    ws.on("message", (data, binary) => ws.send(data, { binary }));
  }) as never);
} else if (kind === "deno") {
  const Deno = (globalThis as unknown as { Deno: { serve(o: object, h: (r: Request) => Response): void; upgradeWebSocket(r: Request): { socket: WebSocket; response: Response } } }).Deno;
  Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: (a: { port: number }) => console.log(`port ${a.port}`) }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
} else if (kind === "bun") {
  const Bun = (globalThis as unknown as { Bun: { serve(o: object): { port: number } } }).Bun;
  const s = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request: Request, server: { upgrade(r: Request): boolean }) => (server.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    websocket: { perMessageDeflate: deflate, message: (ws: { send(m: unknown): void }, m: unknown) => ws.send(m) },
  });
  console.log(`port ${s.port}`);
}
