// A demo web server (what `npm start` runs): an HTML page at /, a JSON endpoint
// at /api/time, a WebSocket echo at /echo, and the files of examples/public/
// under /static/, with error pages and gzip/br compression as middleware, over
// HTTP/1.1 and HTTP/2 (h2c).
// It listens on 127.0.0.1:8080 (or $PORT), prints its URL, and Ctrl-C stops it
// gracefully (requests in flight finish first).
// Run: npm start · node examples/demo_server.ts · deno run --allow-ffi --allow-env=PORT examples/demo_server.ts · bun examples/demo_server.ts
import { compression, errorPages, errorResponse, serve, serveStatic } from "../mod.ts";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const port = Number(env.PORT ?? 8080);
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const publicDir = decodeURIComponent(new URL("./public", import.meta.url).pathname);

const page = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>ffinet demo</title>
<link rel="stylesheet" href="/static/style.css">
<h1>Hello from ffinet on ${runtime}</h1>
<p>This page, <a href="/api/time">/api/time</a> and <a href="/static/hello.txt">/static/hello.txt</a>
are served by <code>serve()</code>: sockets, the event loop and HTTP in TypeScript over FFI.</p>
<pre id="time">…</pre>
<form id="say"><input id="text" value="hello" aria-label="message"> <button>send over the WebSocket</button></form>
<pre id="echo"></pre>
<script src="/static/app.js"></script>
</html>
`;

const server = serve({
  host: "127.0.0.1",
  port,
  shutdownOnSignal: true, // SIGINT (Ctrl-C) and SIGTERM: graceful shutdown
  middleware: [
    errorPages({ report: (error) => console.error("handler failed:", error) }),
    compression(),
    serveStatic(publicDir, { prefix: "/static/" }),
  ],
  // WebSocket echo: /echo upgrades, and every message comes back as it was sent.
  websocket: { message: (ws, message) => void ws.send(message) },
  fetch: (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/echo" && server.upgrade(request)) return;
    if (pathname === "/") return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    if (pathname === "/api/time") return Response.json({ now: new Date().toISOString(), runtime });
    return errorResponse(404);
  },
  onListen: ({ hostname, port }) => console.log(`demo server on http://${hostname}:${port}/ (Ctrl-C stops it)`),
});

await server.finished;
console.log("server stopped");
