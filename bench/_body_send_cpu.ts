/**
 * What sending one HTTP response costs the sending process, by the way it
 * is sent, on a loopback TCP connection whose reader is another process
 * (it drains and discards): the process's user and system CPU per
 * response, in interleaved warmed blocks of each way, medians. Ways: a
 * hello response (~150 bytes, one `send`), and a ~150-byte head with a
 * 64 KiB body as `sendPair` sends it (the body's address asked of libc,
 * then `sendmsg` with two iovecs), as one `send` of head and body copied
 * together, as `send(head, MSG_MORE)` then `send(body)`, and `sendmsg` with
 * the body's address known already (no call to ask it); and through the
 * runtime's `node:net` (corked head and body: one writev, as node:http's
 * `res.end(body)`; what its write callbacks cost later is not counted), and
 * the head then the body from a file in the page cache by sendfile(2). Not part of
 * `scripts/bench.mjs` (a helper, `_`).
 *
 * The readers are `node` processes (on PATH). Measured on a shared 2-core
 * VM, Node, load 15-20, two runs (÷ sendPair's, paired per block): a
 * hello response 0.25-0.27; for the 64 KiB body, the address known
 * 0.91-0.96 (asking it is one ~60 ns FFI call: noise), copied beside the
 * head 1.03-1.09, head with MSG_MORE then the body 1.10-1.11, head then
 * sendfile 1.19-1.24, node:net 1.33-1.39. However the body is handed
 * over, the kernel's loopback TCP send of 64 KiB (~19 µs here, ~15 µs at
 * load 1-2) is most of what a 64 KiB response costs a server.
 *
 * Run: `node --import tsx bench/_body_send_cpu.ts` (or `bun`, or
 * `deno run -A`). `SEND_BLOCKS` (default 100), `SEND_N` responses per block
 * (default 20: few enough that the kernel takes each whole, and node:net
 * queues nothing, as in a server answering one request at a time; the
 * counts of those that did not are printed).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { unlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { Socket } from "../socket/socket.ts";
import { sendPair } from "../socket/send_pair.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import { writeSize } from "../socket/msg_memory.ts";
import { closeFile, openFileRead } from "../ffi/file.ts";
import { RUNTIME } from "./harness.ts";

const proc = (globalThis as unknown as { process: { pid: number; execPath: string; env: Record<string, string | undefined>; cpuUsage(previous?: { user: number; system: number }): { user: number; system: number } } }).process;
const BLOCKS = Number(proc.env.SEND_BLOCKS ?? 100);
const N = Number(proc.env.SEND_N ?? 20);

const head = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\nDate: Mon, 07 Dec 2026 01:00:00 GMT\r\nContent-Length: 65536\r\n\r\n",
);
const body = new Uint8Array(65536).map((_, i) => 32 + (i % 90));
const joined = new Uint8Array(head.length + body.length);
joined.set(head);
joined.set(body, head.length);
const hello = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nDate: Mon, 07 Dec 2026 01:00:00 GMT\r\nContent-Length: 13\r\n\r\nHello, World!",
);

const listener = Socket.create("ipv4");
listener.bind("127.0.0.1", 0);
listener.listen();
const port = (listener.localAddress() as { port: number }).port;
// The reader: another process, so its CPU is not counted here.
const reader = spawn("node", ["-e", drainSource(port)], { stdio: "inherit" });
const sock = listener.accept()!;
// The same through the runtime's node:net (a second reader): what node:http's res.end(head, body) does, a corked writev.
const net = await import("node:net");
type NodeSocket = { cork(): void; uncork(): void; write(b: Uint8Array): boolean; destroy(): void; writableLength: number };
const nodeServer = net.createServer();
const nodeSock = await new Promise<NodeSocket>((resolve) => {
  nodeServer.on("connection", (s: NodeSocket) => resolve(s));
  nodeServer.listen(0, "127.0.0.1", () => {
    spawn("node", ["-e", drainSource((nodeServer.address() as { port: number }).port)], { stdio: "inherit" });
  });
});
const { Buffer } = await import("node:buffer");
const headBuffer = Buffer.from(head);
const bodyBuffer = Buffer.from(body);

function drainSource(p: number): string {
  return `const s = require("node:net").connect(${p}, "127.0.0.1"); s.on("data", () => {}); s.on("error", () => {});`;
}

/** Sends the kernel did not take whole (ours), writes node:net left queued in memory (theirs). */
let partial = 0;
let deferred = 0;
const c = libc();
const flags = C.MSG_NOSIGNAL;
// sendmsg with the body's address known: iovecs in native memory, filled once.
const IOV = LAYOUT.iovec;
const MSG = LAYOUT.msghdr;
// (larger than V8 keeps in its heap, where a collection may move it: the address must stay)
const iovs = new BigUint64Array(Math.max(32, 2 * IOV.size / 8));
const iovAddress = BigInt(c.memmove(iovs, iovs, 0) as number);
const msghdr = new Uint8Array(MSG.size);
{
  const view = new DataView(msghdr.buffer);
  view.setBigUint64(MSG.iov, iovAddress, true);
  writeSize(view, MSG.iovlen, MSG.iovlenSize, 2);
}
const headCopy = new Uint8Array(head);
iovs[0] = BigInt(c.memmove(headCopy, headCopy, 0) as number);
iovs[1] = BigInt(head.length);
iovs[2] = BigInt(c.memmove(body, body, 0) as number);
iovs[3] = BigInt(body.length);

/** Sends with `sendSome`, then (a partial send: the reader is behind) the rest of `whole` with blocking sends. */
function all(sendSome: () => number, whole: Uint8Array): void {
  const n = sendSome();
  if (n < 0) throw new Error(`send: errno ${native.errno()}`);
  if (n < whole.length) {
    partial++;
    sock.sendAll(whole.subarray(n));
  }
}

// The body as a file in the page cache, for sendfile(2) after the head (no copy of the body by the CPU).
const bodyPath = `${tmpdir()}/ffinet_body_send_cpu_${proc.pid}`;
writeFileSync(bodyPath, body);
const bodyFd = openFileRead(bodyPath)!;
const fileOffset = new BigInt64Array(1);

const ways: Array<[string, () => void]> = [
  ["hello, one send", () => all(() => c.send(sock.fd, hello, hello.length, flags), hello)],
  ["64 KiB: sendPair (address asked + sendmsg)", () => all(() => sendPair(sock.fd, head, body, flags), joined)],
  ["64 KiB: sendmsg, address known", () => all(() => c.sendmsg(sock.fd, msghdr, flags), joined)],
  ["64 KiB: copied beside the head, one send", () => {
    joined.set(body, head.length);
    all(() => c.send(sock.fd, joined, joined.length, flags), joined);
  }],
  ["64 KiB: node:net cork, write(head), write(body), uncork", () => {
    nodeSock.cork();
    nodeSock.write(headBuffer);
    nodeSock.write(bodyBuffer);
    nodeSock.uncork();
    if (nodeSock.writableLength > 0) deferred++;
  }],
  ["64 KiB: send(head, MSG_MORE) + sendfile(body)", () => {
    if (c.send(sock.fd, head, head.length, flags | C.MSG_MORE) !== head.length) throw new Error("short head");
    fileOffset[0] = 0n;
    const n = c.sendfile!(sock.fd, bodyFd, fileOffset, body.length);
    if (n < body.length) {
      partial++;
      sock.sendAll(body.subarray(Math.max(0, n)));
    }
  }],
  ["64 KiB: send(head, MSG_MORE) + send(body)", () => {
    if (c.send(sock.fd, head, head.length, flags | C.MSG_MORE) !== head.length) throw new Error("short head");
    all(() => c.send(sock.fd, body, body.length, flags), body);
  }],
];

const user: number[][] = ways.map(() => []);
const system: number[][] = ways.map(() => []);
for (let b = -5; b < BLOCKS; b++) {
  const order = ways.map((_, i) => i);
  if (b % 2 !== 0) order.reverse();
  for (const i of order) {
    const run = ways[i]![1];
    const t = proc.cpuUsage();
    for (let k = 0; k < N; k++) run();
    const d = proc.cpuUsage(t);
    if (b >= 0) {
      user[i]!.push(d.user / N);
      system[i]!.push(d.system / N);
    }
    await new Promise((r) => setTimeout(r, 15)); // the reader drains all: each block starts with empty socket buffers
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`# ${RUNTIME} CPU per response sent (µs, medians of ${BLOCKS} blocks of ${N}); load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
console.log(`# partial sends (ours) ${partial}, node:net writes left queued ${deferred}, of ${BLOCKS + 5} × ${N} each`);
// Per block, each way against sendPair's (what serve uses): the paired ratio is steadier than either median.
const totals = ways.map((_, i) => user[i]!.map((u, b) => u + system[i]![b]!));
for (const [i, [name]] of ways.entries()) {
  const ratio = median(totals[i]!.map((t, b) => t / totals[1]![b]!));
  console.log(`${name.padEnd(46)} ${median(totals[i]!).toFixed(2)} µs (user ${median(user[i]!).toFixed(2)}, system ${median(system[i]!).toFixed(2)}); ÷ sendPair's ${ratio.toFixed(3)}`);
}
sock.close();
listener.close();
nodeSock.destroy();
nodeServer.close();
closeFile(bodyFd);
unlinkSync(bodyPath);
reader.kill();
