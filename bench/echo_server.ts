// Echo server child for bench/echo.ts: `echo_server.ts ffinet|uring|floor|native`
// (ffinet: readiness/epoll; uring: ffinet with io_uring completions;
// floor: the least any epoll server can do, see below).
// Prints "PORT <n>" once listening ("IO <kind>" before it); runs until killed.
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { listen } from "../poll/listener.ts";
import { Poll, READABLE } from "../poll/poll.ts";
import { listenTCPSync } from "../socket/connect.ts";

const kind = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);
type Listening = (port: number) => void;
const ready: Listening = (port) => console.log(`PORT ${port}`);

if (kind === "ffinet" || kind === "uring") {
  const io = kind === "uring" ? "uring" : "readiness";
  const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) }, backlog: 4096, io });
  console.log(`IO ${server.io}`);
  ready(server.port);
} else if (kind === "floor") {
  // The floor of any epoll echo server: one thread blocked in epoll_wait,
  // then per ready connection one recv and one send through FFI. No event
  // loop, no timers, no write queue, no partial-write handling (64-byte
  // replies always fit), no error handling beyond closing. Its system time
  // per request is the kernel's share every server pays.
  const c = libc();
  const listener = listenTCPSync("127.0.0.1", 0, 4096);
  listener.options.nonBlocking = true;
  const listenFd = listener.fd;
  const poll = new Poll<number>({ maxEvents: 1024 });
  poll.addFd(listenFd, READABLE, -1);
  const buf = new Uint8Array(65536);
  ready((listener.localAddress() as { port: number }).port);
  for (;;) {
    for (const ev of poll.wait(-1)) {
      const fd = ev.data;
      if (fd === -1) {
        for (let s = c.accept4!(listenFd, null, null, C.SOCK_CLOEXEC | C.SOCK_NONBLOCK); s >= 0; s = c.accept4!(listenFd, null, null, C.SOCK_CLOEXEC | C.SOCK_NONBLOCK)) {
          poll.addFd(s, READABLE, s);
        }
        continue;
      }
      const n = c.recv(fd, buf, buf.length, 0);
      if (n > 0) c.send(fd, buf, n, C.MSG_NOSIGNAL);
      else if (n === 0 || native.errno() !== E.EAGAIN) {
        poll.remove(fd);
        c.close(fd);
      }
    }
  }
} else if ("Bun" in globalThis) {
  const Bun = (globalThis as unknown as {
    Bun: {
      listen(o: unknown): { port: number };
    };
  }).Bun;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data(s: { write(d: Uint8Array): number }, d: Uint8Array) { s.write(d); } },
  });
  ready(server.port);
} else if ("Deno" in globalThis) {
  const Deno = (globalThis as unknown as {
    Deno: {
      listen(o: unknown): AsyncIterable<{ read(b: Uint8Array): Promise<number | null>; write(b: Uint8Array): Promise<number>; close(): void }> & { addr: { port: number } };
    };
  }).Deno;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  ready(listener.addr.port);
  for await (const conn of listener) {
    (async () => {
      const buf = new Uint8Array(65536);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          let at = 0;
          while (at < n) at += await conn.write(buf.subarray(at, n));
        }
      } catch { /* peer gone */ }
      try { conn.close(); } catch { /* closed */ }
    })();
  }
} else {
  const net = await import("node:net");
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on("data", (d) => s.write(d));
    s.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => ready((server.address() as { port: number }).port));
}
