// Child for ws_shared_deflate_test.ts: a server with permessage-deflate
// and server_no_context_takeover, with or without `sharedCompressor`
// (argv[2]: "shared" or "own"), sends one compressed message to each of N
// clients; prints the RSS growth per connection once all are open and
// have their message, and how many shared compressors exist.
import { readFileSync } from "node:fs";
import { serve } from "../http/server/serve.ts";
import { connectWebSocket, type WebSocketConnection } from "../ws/client.ts";
import { sharedCompressorCount } from "../ws/deflate.ts";

const N = 100;
const shared = process.argv[2] === "shared";
const text = "ffinet ".repeat(600); // 4200 bytes, compresses well

function rss(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m![1]) * 1024;
}

const server = serve({
  host: "127.0.0.1",
  port: 0,
  fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
  websocket: {
    perMessageDeflate: { serverNoContextTakeover: true, sharedCompressor: shared },
    open: (ws) => void ws.send(text),
    message: () => {},
  },
});
const url = `ws://127.0.0.1:${server.addr.port}/`;
async function open(): Promise<WebSocketConnection> {
  const ws = await connectWebSocket(url);
  const m = await ws.recv();
  if (m?.data !== text || !/server_no_context_takeover/.test(ws.extensions)) throw new Error(`unexpected ${ws.extensions}`);
  return ws;
}
// Warm up (code, buffers, the loop) before the baseline.
const warm: WebSocketConnection[] = [];
for (let i = 0; i < 5; i++) warm.push(await open());
const base = rss();
const sockets: WebSocketConnection[] = [];
for (let i = 0; i < N; i++) sockets.push(await open());
const perConnection = (rss() - base) / N;
const compressors = sharedCompressorCount();
for (const ws of [...warm, ...sockets]) await ws.close(1000);
await server.shutdown({ deadlineMs: 100 });
console.log(JSON.stringify({ perConnection, compressors, connections: sockets.length }));
