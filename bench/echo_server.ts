// Echo server child for bench/echo.ts: `echo_server.ts ffinet|uring|native`
// (ffinet: readiness/epoll; uring: ffinet with io_uring completions).
// Prints "PORT <n>" once listening ("IO <kind>" before it); runs until killed.
import { listen } from "../poll/listener.ts";

const kind = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);
type Listening = (port: number) => void;
const ready: Listening = (port) => console.log(`PORT ${port}`);

if (kind === "ffinet" || kind === "uring") {
  const io = kind === "uring" ? "uring" : "readiness";
  const server = listen({ host: "127.0.0.1", port: 0 }, { data: (c, d) => c.send(d) }, { backlog: 4096, io });
  console.log(`IO ${server.io}`);
  ready(server.port);
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
