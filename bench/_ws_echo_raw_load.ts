/**
 * A light WebSocket load generator for bench/ws_echo.ts, the WebSocket
 * twin of bench/echo_client.ts: one blocking epoll loop, fixed frame bytes
 * built once, one send and one recv per message through FFI, no event
 * loop, no parser beyond counting the reply's bytes. It speaks the same
 * lines as _ws_echo_load.ts:
 *
 *   _ws_echo_raw_load.ts raw PORT SIZE text|binary plain CONNECTIONS ROUND_TRIPS [DEPTH]
 *
 * (SIZE up to 65535; no permessage-deflate). DEPTH (default 1): messages
 * each connection sends at once, in one send, before it waits for their
 * echoes (a pipelining client: the server then reads several messages per
 * read). It opens CONNECTIONS
 * WebSockets to ws://127.0.0.1:PORT/ (a plain upgrade, read until the
 * header's end), prints `ready`, and for every `go` on stdin runs one round
 * (every socket echoes ROUND_TRIPS messages, one in flight) and prints
 * `round MESSAGES SECONDS`; `quit` exits.
 *
 * Why: npm `ws` clients in a Node process cost the machine about as much
 * CPU as the server they load, so on two cores the server under test
 * shares them with its load; this client costs a fraction of that, which
 * separates what a server spends per message from what the contention
 * adds (`WS_ECHO_LOAD=raw` in bench/ws_echo.ts).
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { getIntOption } from "../socket/options.ts";
import { Poll, READABLE, WRITABLE } from "../poll/poll.ts";
import { connectSocket, setNoDelay } from "../poll/endpoint.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const at = argv.findIndex((a) => a === "raw");
const [, portText = "0", sizeText = "64", kind = "text", , connText = "50", tripsText = "400", depthText = "1"] = argv.slice(at);
const port = Number(portText);
const size = Number(sizeText);
const count = Number(connText);
const trips = Number(tripsText);
const depth = Number(depthText);
if (!(Number.isInteger(depth) && depth >= 1 && depth <= 64)) throw new RangeError(`DEPTH must be 1..64, got ${depthText}`);
if (!(size >= 0 && size <= 65535)) throw new RangeError(`SIZE must be 0..65535, got ${size}`);

const c = libc();
const poll = new Poll<number>({ maxEvents: 1024 });
const buf = new Uint8Array(1 << 20);

// The frame: FIN + opcode, the masked length, a zero key (XOR with zeros
// leaves the payload as it is; the server unmasks it all the same).
const extended = size >= 126;
const header = extended ? 8 : 6;
const frame = new Uint8Array(header + size).fill(0x61);
frame[0] = 0x80 | (kind === "binary" ? 0x2 : 0x1);
if (extended) {
  frame[1] = 0x80 | 126;
  frame[2] = size >> 8;
  frame[3] = size & 0xff;
  frame.fill(0, 4, 8);
} else {
  frame[1] = 0x80 | size;
  frame.fill(0, 2, 6);
}
/** DEPTH frames back to back: what a connection sends at once. */
const burst = new Uint8Array(frame.length * depth);
for (let i = 0; i < depth; i++) burst.set(frame, i * frame.length);
/** The server's unmasked replies to one burst: 2 or 4 header bytes, then the payload, DEPTH times. */
const reply = ((extended ? 4 : 2) + size) * depth;

function sendAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const n = c.send(fd, off === 0 ? bytes : bytes.subarray(off), bytes.length - off, 0);
    if (n < 0) {
      if (native.errno() !== E.EAGAIN) throw new Error(`send failed: errno ${native.errno()}`);
      poll.addFd(fd, WRITABLE, -1);
      poll.wait(1000);
      poll.remove(fd);
      continue;
    }
    off += n;
  }
}

function open(): number[] {
  const fds: number[] = [];
  const request = new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  for (let i = 0; i < count; i++) {
    const { socket, pending } = connectSocket({ host: "127.0.0.1", port });
    const fd = socket.release();
    if (pending) {
      poll.addFd(fd, WRITABLE, i);
      while (poll.wait(1000).length === 0);
      poll.remove(fd);
      const err = getIntOption(fd, C.SOL_SOCKET, C.SO_ERROR, "SO_ERROR");
      if (err !== 0) throw new Error(`connect failed: errno ${err}`);
    }
    setNoDelay(fd);
    sendAll(fd, request);
    // Read the 101's head (the server sends nothing after it unasked).
    poll.addFd(fd, READABLE, i);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      poll.wait(1000);
      const n = c.recv(fd, buf, buf.length, 0);
      if (n === 0) throw new Error("the server closed during the handshake");
      if (n < 0) {
        if (native.errno() === E.EAGAIN) continue;
        throw new Error(`recv failed: errno ${native.errno()}`);
      }
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    poll.remove(fd);
    if (!head.startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
    fds.push(fd);
  }
  return fds;
}

const fds = open();
for (let i = 0; i < count; i++) poll.addFd(fds[i]!, READABLE, i);
const got = new Int32Array(count);
const left = new Int32Array(count);

function round(): void {
  const t0 = performance.now();
  let active = count;
  for (let i = 0; i < count; i++) {
    left[i] = trips;
    got[i] = 0;
    sendAll(fds[i]!, burst);
  }
  while (active > 0) {
    for (const ev of poll.wait(1000)) {
      const i = ev.data;
      const fd = fds[i]!;
      const n = c.recv(fd, buf, buf.length, 0);
      if (n <= 0) {
        if (n < 0 && native.errno() === E.EAGAIN) continue;
        throw new Error(`connection ${i} ended (${n})`);
      }
      got[i]! += n;
      while (got[i]! >= reply) {
        got[i]! -= reply;
        if (--left[i]! > 0) sendAll(fd, burst);
        else active--;
      }
    }
  }
  console.log(`round ${count * trips * depth} ${(performance.now() - t0) / 1000}`);
}

console.log("ready");
let pending = "";
const stdin = (globalThis as unknown as { process: { stdin: { on(e: string, f: (d: Uint8Array | string) => void): void } } }).process.stdin;
stdin.on("data", (d) => {
  pending += typeof d === "string" ? d : new TextDecoder().decode(d);
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line === "go") round();
    else if (line === "quit") {
      for (const fd of fds) c.close(fd);
      (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(0);
    }
  }
});
