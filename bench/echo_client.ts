// Load client for bench/echo.ts, a blocking epoll loop on one core:
//   echo_client.ts load <port> <connections> <seconds> <messageBytes>
//     → {"requests": n, "seconds": s}
//   echo_client.ts idle <port> <connections>
//     → opens the connections, prints "READY", holds them until killed
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { getIntOption } from "../socket/options.ts";
import { Poll, READABLE, WRITABLE } from "../poll/poll.ts";
import { connectSocket, setNoDelay } from "../poll/endpoint.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const at = argv.findIndex((a) => a === "load" || a === "idle");
const [mode, portText, connText, secondsText, sizeText] = argv.slice(at);
const port = Number(portText);
const count = Number(connText);

function open(poll: Poll<number>): number[] {
  const fds: number[] = [];
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
    fds.push(fd);
  }
  return fds;
}

const poll = new Poll<number>({ maxEvents: 1024 });
if (mode === "idle") {
  open(poll);
  console.log("READY");
  setInterval(() => {}, 1 << 30);
} else {
  const seconds = Number(secondsText);
  const size = Number(sizeText ?? 64);
  const fds = open(poll);
  const message = new Uint8Array(size).fill(0x61);
  const buf = new Uint8Array(65536);
  const got = new Int32Array(count);
  const c = libc();
  for (let i = 0; i < count; i++) {
    poll.addFd(fds[i]!, READABLE, i);
    c.send(fds[i]!, message, size, 0);
  }
  let requests = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let now = t0;
  while (now < end) {
    for (const ev of poll.wait(100)) {
      const i = ev.data;
      const fd = fds[i]!;
      const n = c.recv(fd, buf, buf.length, 0);
      if (n <= 0) {
        if (n < 0 && native.errno() === E.EAGAIN) continue;
        throw new Error(`connection ${i} ended (${n})`);
      }
      got[i]! += n;
      while (got[i]! >= size) {
        got[i]! -= size;
        requests++;
        c.send(fd, message, size, 0);
      }
    }
    now = performance.now();
  }
  console.log(JSON.stringify({ requests, seconds: (now - t0) / 1000 }));
  for (const fd of fds) c.close(fd);
  poll.close();
}
