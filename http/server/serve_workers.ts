/**
 * `serve({ workers: N, module })`: N threads serve one port, this one and
 * N − 1 Workers, each with its own loop, all listening with SO_REUSEPORT
 * (the kernel spreads new connections over them). Each Worker imports
 * `module`, the application's own module (`import.meta.url` where it
 * calls `serve`), whose `serve(...)` call there joins the port; the first
 * server starts the Workers one after the other, and shuts them down with
 * itself.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./serve.ts";
 * const server = serve({ port: 8080, workers: 4, module: import.meta.url, fetch: () => new Response("hi") });
 * await server.ready; // every Worker listens
 * ```
 *
 * @module
 */
import { NetError } from "../../core/errors.ts";
import { type ParentLink, startThread, type Thread } from "../../ffi/threads.ts";
import type { Loop } from "../../poll/loop.ts";

/** Where a Worker finds the port it joins (a global symbol: copies of the library share it). */
export const WORKER_JOIN: unique symbol = Symbol.for("ffinet.serve.workerJoin") as never;

/**
 * What a Worker's `serve` call joins.
 *
 * @example
 * ```ts
 * import type { WorkerJoin } from "./serve_workers.ts";
 * function port(j: WorkerJoin): number { return j.port; }
 * ```
 */
export interface WorkerJoin {
  port: number;
  link: ParentLink;
  /** A `serve` call took it (the first one in the Worker). */
  taken: boolean;
}

/**
 * The join of this Worker, when it was started by {@link startServeWorkers}
 * and no `serve` call has taken it yet.
 *
 * @example
 * ```ts
 * import { takeWorkerJoin } from "./serve_workers.ts";
 * console.log(takeWorkerJoin()); // undefined on the main thread
 * ```
 */
export function takeWorkerJoin(): WorkerJoin | undefined {
  const join = (globalThis as Record<symbol, WorkerJoin | undefined>)[WORKER_JOIN];
  if (join === undefined || join.taken) return undefined;
  join.taken = true;
  return join;
}

/**
 * Serves a Worker's side: reports the server listening, and shuts it down
 * when the first server says so, then closes the server's `loop` and
 * reports it finished once the loop is released. The first server
 * terminates the Worker then, so the loop's helper thread must be gone by
 * that time: on Node, a Worker terminated while its loop's helper (a Worker
 * of its own) is parked in a wait never ends (`terminate()` waits for that
 * wait, which may never return), and one torn down while its helper still
 * loads koffi aborts the process.
 *
 * @example
 * ```ts ignore
 * import { takeWorkerJoin, workerSide } from "./serve_workers.ts";
 * const join = takeWorkerJoin();
 * if (join) workerSide(join, (deadlineMs) => server.shutdown({ deadlineMs }), loop);
 * ```
 */
export function workerSide(
  join: WorkerJoin,
  shutdown: (deadlineMs: number | undefined) => Promise<void>,
  loop: Pick<Loop, "close" | "released">,
): void {
  const end = async (deadlineMs: number | undefined): Promise<void> => {
    // Finished is reported whatever failed on the way: a rejection here would
    // go unhandled (ending the Worker with the very teardown waited for here)
    // and the first server would wait for the report in vain.
    try {
      await shutdown(deadlineMs);
    } catch {
      // The server is as shut down as it will get.
    }
    try {
      loop.close();
    } catch {
      // Loop.close frees everything before it throws (say a watched fd closed before its watcher).
    }
    await loop.released();
    join.link.postMessage({ finished: true });
  };
  join.link.onMessage((m) => {
    const message = m as { cmd?: string; deadlineMs?: number };
    if (message.cmd === "shutdown") void end(message.deadlineMs);
  });
  join.link.postMessage({ listening: join.port });
}

/**
 * The Workers of one server (see the module text).
 *
 * @example
 * ```ts ignore
 * import { ServeWorkers } from "./serve_workers.ts";
 * const workers = new ServeWorkers(import.meta.url, 8080, 3);
 * await workers.ready;
 * await workers.stop(1000);
 * ```
 */
export class ServeWorkers {
  /** Resolves once every Worker listens; rejects when one fails to start. */
  readonly ready: Promise<void>;
  readonly #threads: Array<{ thread: Thread; finished: Promise<void> }> = [];
  #stopping = false;

  constructor(module: string, port: number, count: number) {
    this.ready = this.#start(module, port, count);
    this.ready.catch(() => {}); // also reported through `ready`
  }

  get count(): number {
    return this.#threads.length;
  }

  async #start(module: string, port: number, count: number): Promise<void> {
    const entry = new URL("./serve_worker.ts", import.meta.url);
    for (let i = 0; i < count && !this.#stopping; i++) {
      // One after the other: koffi's module init is not safe while another thread loads it.
      const thread = await startThread(entry, { module, port });
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const listening = new Promise<void>((resolve, reject) => {
        thread.onMessage((m) => {
          const message = m as { listening?: number; error?: string; finished?: boolean };
          if (message.listening !== undefined) resolve();
          else if (message.error !== undefined) reject(new NetError("ERR_WORKER_START", `serve: a Worker failed to start: ${message.error}`));
          else if (message.finished) finish();
        });
        thread.onExit((error) => {
          finish();
          reject(error ?? new NetError("ERR_WORKER_START", "serve: a Worker exited before it listened"));
        });
      });
      this.#threads.push({ thread, finished });
      await listening;
    }
  }

  /** Shuts every Worker's server down (each within `deadlineMs`), then ends the Workers. */
  async stop(deadlineMs: number | undefined): Promise<void> {
    this.#stopping = true;
    await this.ready.catch(() => {});
    await Promise.all(this.#threads.map(async ({ thread, finished }) => {
      thread.postMessage({ cmd: "shutdown", deadlineMs });
      await finished;
      await thread.terminate();
    }));
  }
}
