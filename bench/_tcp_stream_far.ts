/**
 * The far end of bench/tcp_stream.ts, run as a child
 * process on the same runtime: a sink (reads an 8-byte big-endian length,
 * then that many bytes, answers "K") and an echo server. `argv[2]` picks
 * the implementation:
 *
 * - `ffinet`: ffinet's async connections (poll/listener.ts, handler mode;
 *   256 KiB reads, data seen as a view during the callback);
 * - `runtime`: the runtime's own server — `Deno.listen` on Deno,
 *   `Bun.listen` on Bun, node:net on Node;
 * - `node-net`: node:net on every runtime (the shared far end).
 *
 * Prints "READY <sink port> <echo port>"; exits when stdin closes.
 *
 * @module
 */
import { createServer } from "node:net";
import type { Connection } from "../poll/connection.ts";

const proc = (globalThis as unknown as {
  process: { argv: string[]; stdout: { write(s: string): void }; stdin: { on(e: string, f: () => void): void }; exit(code: number): never };
}).process;
const kind = proc.argv[2] === "ffinet" || proc.argv[2] === "node-net" ? proc.argv[2] : "runtime";

/** Counts a sink connection's bytes; true when a whole transfer arrived (answer "K"). */
class SinkState {
  #header = new Uint8Array(8);
  #headerLength = 0;
  #expected = -1;
  #got = 0;

  /** Feeds received bytes; returns how many transfers completed. */
  feed(d: Uint8Array): number {
    let done = 0;
    let at = 0;
    while (at < d.length) {
      if (this.#expected < 0) {
        const take = Math.min(8 - this.#headerLength, d.length - at);
        this.#header.set(d.subarray(at, at + take), this.#headerLength);
        this.#headerLength += take;
        at += take;
        if (this.#headerLength < 8) return done;
        this.#expected = Number(new DataView(this.#header.buffer).getBigUint64(0, false));
        this.#headerLength = 0;
        this.#got = 0;
      }
      const take = Math.min(this.#expected - this.#got, d.length - at);
      this.#got += take;
      at += take;
      if (this.#got >= this.#expected) {
        this.#expected = -1;
        done++;
      }
    }
    return done;
  }
}

const K = new Uint8Array([0x4b]);

interface DenoListener extends AsyncIterable<DenoConn> {
  addr: { port: number };
}
interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  setNoDelay(on?: boolean): void;
  close(): void;
}
interface BunSocket {
  write(d: Uint8Array): number;
  setNoDelay?(on: boolean): boolean;
  data: SinkState | undefined;
}
interface BunServer {
  port: number;
}
interface BunListenOptions {
  hostname: string;
  port: number;
  socket: { open?(s: BunSocket): void; data(s: BunSocket, d: Uint8Array): void; error?(s: BunSocket, e: Error): void };
}
const g = globalThis as unknown as {
  Deno?: { listen(o: { hostname: string; port: number }): DenoListener };
  Bun?: { listen(o: BunListenOptions): BunServer };
};

async function denoServe(conn: DenoConn, echo: boolean): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(64 * 1024);
  const state = new SinkState();
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (echo) {
        let off = 0;
        while (off < n) off += await conn.write(buf.subarray(off, n));
      } else {
        for (let k = state.feed(buf.subarray(0, n)); k > 0; k--) await conn.write(K);
      }
    }
  } catch {
    // the client went away
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

async function denoAccept(l: DenoListener, echo: boolean): Promise<void> {
  for await (const conn of l) void denoServe(conn, echo);
}

function startRuntime(): [number, number] {
  if (g.Deno) {
    const sink = g.Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const echo = g.Deno.listen({ hostname: "127.0.0.1", port: 0 });
    void denoAccept(sink, false);
    void denoAccept(echo, true);
    return [sink.addr.port, echo.addr.port];
  }
  if (g.Bun) {
    const sink = g.Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.setNoDelay?.(true);
          s.data = new SinkState();
        },
        data(s, d) {
          for (let k = s.data!.feed(d); k > 0; k--) s.write(K);
        },
        error() {},
      },
    });
    const echo = g.Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.setNoDelay?.(true);
        },
        data(s, d) {
          s.write(d);
        },
        error() {},
      },
    });
    return [sink.port, echo.port];
  }
  throw new Error("node:net is started asynchronously");
}

async function startNodeNet(): Promise<[number, number]> {
  const sink = createServer((conn) => {
    conn.setNoDelay(true);
    const state = new SinkState();
    conn.on("data", (d: Uint8Array) => {
      for (let k = state.feed(d); k > 0; k--) conn.write(K);
    });
    conn.on("error", () => {});
  });
  const echo = createServer((conn) => {
    conn.setNoDelay(true);
    conn.on("data", (d: Uint8Array) => conn.write(d));
    conn.on("error", () => {});
  });
  const port = (server: typeof sink): Promise<number> =>
    new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  return [await port(sink), await port(echo)];
}

async function startFfinet(): Promise<[number, number]> {
  // Loaded only here, so the runtime's server runs in a process without ffinet.
  const { listen } = await import("../poll/listener.ts");
  const states = new WeakMap<Connection, SinkState>();
  const sink = listen({ host: "127.0.0.1", port: 0, handler: {
    open: (c) => states.set(c, new SinkState()),
    data: (c, d) => {
      for (let k = states.get(c)!.feed(d); k > 0; k--) c.send(K);
    },
  } });
  const echo = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) } });
  return [sink.port, echo.port];
}

const [sinkPort, echoPort] = kind === "ffinet"
  ? await startFfinet()
  : kind === "runtime" && (g.Deno || g.Bun)
  ? startRuntime()
  : await startNodeNet();
proc.stdout.write(`READY ${sinkPort} ${echoPort}\n`);
proc.stdin.on("data", () => {});
proc.stdin.on("end", () => proc.exit(0));
