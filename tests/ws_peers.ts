// Test helpers for WebSocket interop: the npm `ws` package loaded by path
// (Bun replaces the `ws` specifier with its own), a Python `websockets`
// finder, and small promise wrappers over event-style sockets.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** The npm `ws` client socket, as much of it as the tests use. */
export interface NpmWebSocket {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  send(data: string | Uint8Array, cb?: (err?: Error) => void): void;
  ping(data?: string | Uint8Array): void;
  pong(data?: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  on(event: string, fn: (...args: never[]) => void): void;
  once(event: string, fn: (...args: never[]) => void): void;
  removeAllListeners(event: string): void;
}

/** The npm `ws` server, as much of it as the tests use. */
export interface NpmWebSocketServer {
  address(): { port: number };
  on(event: string, fn: (...args: never[]) => void): void;
  close(cb?: () => void): void;
  clients: Set<NpmWebSocket>;
}

export interface NpmWs {
  WebSocket: new (url: string, protocols?: string | string[], options?: Record<string, unknown>) => NpmWebSocket;
  WebSocketServer: new (options: Record<string, unknown>, cb?: () => void) => NpmWebSocketServer;
}

export const npmWs: NpmWs = require(fileURLToPath(new URL("../node_modules/ws/index.js", import.meta.url))) as NpmWs;

/** Opens an npm `ws` client and resolves once open. */
export function openNpmClient(url: string, protocols?: string[], options: Record<string, unknown> = {}): Promise<NpmWebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new npmWs.WebSocket(url, protocols ?? [], options);
    npmMessages(ws); // listening from the start: a message may come with the 101
    ws.once("open", (() => resolve(ws)) as never);
    ws.once("error", ((err: Error) => reject(err)) as never);
  });
}

/** A message queue over an npm `ws` socket. */
const queues = new WeakMap<NpmWebSocket, () => Promise<{ data: string | Uint8Array; binary: boolean }>>();
export function npmMessages(ws: NpmWebSocket): () => Promise<{ data: string | Uint8Array; binary: boolean }> {
  const existing = queues.get(ws);
  if (existing !== undefined) return existing;
  const queue: { data: string | Uint8Array; binary: boolean }[] = [];
  const waiters: ((m: { data: string | Uint8Array; binary: boolean }) => void)[] = [];
  ws.on("message", ((data: Uint8Array, binary: boolean) => {
    const m = { data: binary ? new Uint8Array(data) : new TextDecoder().decode(data), binary };
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  }) as never);
  const next = (): Promise<{ data: string | Uint8Array; binary: boolean }> => {
    const m = queue.shift();
    return m !== undefined ? Promise.resolve(m) : new Promise((resolve) => waiters.push(resolve));
  };
  queues.set(ws, next);
  return next;
}

/** Resolves with the npm `ws` close code and reason. */
export function npmClosed(ws: NpmWebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", ((code: number, reason: Uint8Array) => resolve({ code, reason: new TextDecoder().decode(reason) })) as never));
}

let python: string | null | undefined;
/** A python3 that has `websockets` (pyenv's may lack the Debian package), or null. */
export function pythonWithWebsockets(): string | null {
  if (python !== undefined) return python;
  python = null;
  // Debian's python3-websockets is in the system Python: ask it first. A
  // `python3` on PATH may be a pyenv shim, which takes seconds to start
  // (5-6 s on the loaded project machine) and usually lacks the package;
  // this runs while the test files are defined, in each file and runtime.
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const r = spawnSync(candidate, ["-c", "import websockets"], { stdio: "ignore" });
    if (r.status === 0) {
      python = candidate;
      break;
    }
  }
  return python;
}
