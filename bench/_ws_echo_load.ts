/**
 * The load generator of bench/ws_echo.ts, run as its own process so that
 * the process measured (a server, or this one when the client is what is
 * compared) shares nothing with the other side but the loopback:
 *
 *   _ws_echo_load.ts CLIENT PORT SIZE text|binary deflate|plain CONNECTIONS ROUND_TRIPS
 *
 * CLIENT is `ws` (npm ws), `native` (the runtime's global WebSocket) or
 * `ffinet` (ffinet's WHATWG WebSocket). It opens CONNECTIONS sockets to
 * ws://127.0.0.1:PORT/, prints `ready`, and then for every `go` line on
 * stdin runs one round (each socket echoes ROUND_TRIPS messages of SIZE
 * bytes, one in flight) and prints `round MESSAGES SECONDS`; `quit` closes
 * the sockets and exits.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { WebSocket as FfinetWebSocket } from "../ws/websocket.ts";

/** The part of a WebSocket the rounds use, on every client. */
interface EchoSocket {
  send(data: string | Uint8Array): void;
  close(): void;
}

/** Opens one socket; `onMessage` runs for every message, `onOpen` once. */
type Opener = (url: string, deflate: boolean, onOpen: (ws: EchoSocket) => void, onMessage: () => void, onFail: (e: unknown) => void) => void;

const [client = "ffinet", portArg = "0", sizeArg = "64", kind = "text", deflateArg = "plain", connsArg = "50", tripsArg = "400"] =
  typeof process !== "undefined" ? process.argv.slice(2) : [];
const size = Number(sizeArg);
const deflate = deflateArg === "deflate";
const connections = Number(connsArg);
const trips = Number(tripsArg);
const message: string | Uint8Array = kind === "text" ? "x".repeat(size) : new Uint8Array(size).fill(7);

function npmWs(): Opener {
  const require = createRequire(import.meta.url);
  const WS = require(fileURLToPath(new URL("../node_modules/ws/index.js", import.meta.url))) as new (url: string, o: object) => {
    on(event: string, f: (...a: unknown[]) => void): void;
    send(d: unknown): void;
    close(): void;
  };
  return (url, deflate, onOpen, onMessage, onFail) => {
    const ws = new WS(url, { perMessageDeflate: deflate });
    ws.on("open", () => onOpen(ws));
    ws.on("message", onMessage);
    ws.on("error", onFail);
  };
}

function whatwg(make: (url: string) => WebSocket): Opener {
  return (url, _deflate, onOpen, onMessage, onFail) => {
    const ws = make(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => onOpen(ws as unknown as EchoSocket);
    ws.onmessage = onMessage;
    ws.onerror = onFail;
  };
}

const open: Opener = client === "ws"
  ? npmWs()
  : client === "native"
  ? whatwg((url) => new globalThis.WebSocket(url))
  : whatwg((url) => new FfinetWebSocket(url, { perMessageDeflate: deflate ? {} : false }) as unknown as WebSocket);

/** One connection's round: resolves after `trips` echoes. */
interface Slot {
  ws: EchoSocket;
  left: number;
  done: () => void;
}

const slots: Slot[] = await Promise.all(Array.from({ length: connections }, () =>
  new Promise<Slot>((resolve, reject) => {
    const slot: Slot = { ws: undefined as unknown as EchoSocket, left: 0, done: () => {} };
    open(`ws://127.0.0.1:${portArg}/`, deflate, (ws) => {
      slot.ws = ws;
      resolve(slot);
    }, () => {
      if (--slot.left > 0) slot.ws.send(message);
      else slot.done();
    }, reject);
  })));

async function round(): Promise<void> {
  const started = performance.now();
  await Promise.all(slots.map((slot) =>
    new Promise<void>((resolve) => {
      slot.left = trips;
      slot.done = resolve;
      slot.ws.send(message);
    })));
  const seconds = (performance.now() - started) / 1000;
  console.log(`round ${connections * trips} ${seconds}`);
}

console.log("ready");
let pending = "";
let busy = Promise.resolve();
process.stdin.on("data", (d: Uint8Array | string) => {
  pending += typeof d === "string" ? d : new TextDecoder().decode(d);
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    busy = busy.then(async () => {
      if (line === "go") await round();
      else if (line === "quit") {
        for (const s of slots) s.ws.close();
        process.exit(0);
      }
    });
  }
});
