/**
 * The ffinet endpoint of the Autobahn cases over real sockets, run as a
 * child process (the fuzzer in the parent uses blocking sockets):
 *
 *   wire_peer.ts server          serve()'s websocket echo on 127.0.0.1, prints "port N"
 *   wire_peer.ts client PORT     a WebSocket to ws://127.0.0.1:PORT, echoes, reconnects
 *                                for the next case; exits when the connect is refused
 *
 * @module
 */
import { serve } from "../../../http/server/serve.ts";
import { WebSocket } from "../../../ws/websocket.ts";

const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
const LIMITS = { maxPayload: 64 * 1024 * 1024, maxBufferedBytes: 256 * 1024 * 1024, closeTimeoutMs: 2000 };

if (args[0] === "server") {
  const server = serve({
    port: 0,
    fetch: (request) => (server.upgrade(request) ? undefined : new Response("not a websocket", { status: 400 })),
    websocket: {
      perMessageDeflate: true,
      maxPayloadLength: LIMITS.maxPayload,
      maxBufferedBytes: LIMITS.maxBufferedBytes,
      closeTimeoutMs: LIMITS.closeTimeoutMs,
      message: (ws, message) => void ws.send(message),
    },
  });
  console.log(`port ${server.addr.port}`);
} else if (args[0] === "client") {
  // The WHATWG socket: its message events come synchronously from the
  // frames, so an echo leaves before the pong of a ping that came after.
  const url = `ws://127.0.0.1:${args[1]}/runCase`;
  for (;;) {
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(url, { ...LIMITS });
      ws.binaryType = "arraybuffer";
      let open = false;
      ws.onopen = () => (open = true);
      ws.onmessage = (e) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(e.data as string | ArrayBuffer);
      };
      ws.onclose = () => resolve(open);
    });
    if (!opened) break; // the fuzzer is done (connect refused)
  }
  if (typeof process !== "undefined") process.exit(0);
}
