/**
 * Threads for servers that use several cores: start a Worker on a module
 * URL with data, and, inside one, read that data and talk to the parent.
 * `node:worker_threads` on every runtime (Deno and Bun implement it), so
 * the two sides speak the same API. On Node a TypeScript module is loaded
 * through the `tsx` loader when the process runs under it (Node 22.6+ runs
 * it by type stripping).
 *
 * @example
 * ```ts ignore
 * import { startThread } from "./threads.ts";
 * const thread = await startThread(new URL("./worker.ts", import.meta.url), { port: 8000 });
 * thread.onMessage((m) => console.log(m));
 * await thread.terminate();
 * ```
 *
 * @module
 */
import { detectRuntime } from "./runtime.ts";

/**
 * A started thread.
 *
 * @example
 * ```ts
 * import type { Thread } from "./threads.ts";
 * function stop(t: Thread) { t.postMessage({ cmd: "stop" }); }
 * ```
 */
export interface Thread {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called with the error that ended the thread, or undefined when it exited. */
  onExit(listener: (error: Error | undefined) => void): void;
  terminate(): Promise<void>;
}

/**
 * What a thread started by {@link startThread} sees of its parent.
 *
 * @example
 * ```ts
 * import type { ParentLink } from "./threads.ts";
 * function ready(p: ParentLink) { p.postMessage({ ready: true }); }
 * ```
 */
export interface ParentLink {
  readonly data: unknown;
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Lets the thread end while its parent link is open. */
  unref(): void;
}

interface WorkerThreads {
  Worker: new (code: string | URL, options: { eval?: boolean; workerData: unknown }) => {
    postMessage(m: unknown): void;
    on(event: "message" | "error" | "exit", f: (d: never) => void): void;
    terminate(): Promise<unknown>;
  };
  isMainThread: boolean;
  workerData: unknown;
  parentPort: {
    postMessage(m: unknown): void;
    on(event: "message", f: (d: unknown) => void): void;
    unref(): void;
  } | null;
}

function workerThreads(): Promise<WorkerThreads> {
  const spec = "node:worker_threads";
  return import(spec) as Promise<WorkerThreads>;
}

/**
 * Starts a Worker running the module at `url`, with `data` readable there
 * through {@link parentLink}.
 *
 * @example
 * ```ts ignore
 * import { startThread } from "./threads.ts";
 * const t = await startThread(new URL("./w.ts", import.meta.url), 1);
 * await t.terminate();
 * ```
 */
export async function startThread(url: URL, data: unknown): Promise<Thread> {
  const { Worker } = await workerThreads();
  let worker: InstanceType<WorkerThreads["Worker"]>;
  const proc = (globalThis as { process?: { execArgv?: string[] } }).process;
  if (detectRuntime() === "node" && url.pathname.endsWith(".ts") && (proc?.execArgv ?? []).some((a) => a.includes("tsx"))) {
    const source = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
    worker = new Worker(source, { eval: true, workerData: data });
  } else {
    worker = new Worker(url, { workerData: data });
  }
  const exitListeners: Array<(error: Error | undefined) => void> = [];
  let failure: Error | undefined;
  worker.on("error", (err: Error) => (failure = err));
  worker.on("exit", () => {
    for (const l of exitListeners) l(failure);
  });
  return {
    postMessage: (m) => worker.postMessage(m),
    onMessage: (l) => worker.on("message", l as (d: never) => void),
    onExit: (l) => void exitListeners.push(l),
    terminate: async () => void (await worker.terminate()),
  };
}

/**
 * The link to the parent when this code runs in a thread started by
 * {@link startThread}; undefined on the main thread.
 *
 * @example
 * ```ts
 * import { parentLink } from "./threads.ts";
 * console.log((await parentLink()) === undefined); // true on the main thread
 * ```
 */
export async function parentLink(): Promise<ParentLink | undefined> {
  const wt = await workerThreads();
  const port = wt.parentPort;
  if (wt.isMainThread || port === null) return undefined;
  return {
    data: wt.workerData,
    postMessage: (m) => port.postMessage(m),
    onMessage: (l) => port.on("message", l),
    unref: () => port.unref(),
  };
}
