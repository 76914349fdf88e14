// A helper thread for the socket tests: a Worker (socket_fixture_worker.ts)
// that acts on our descriptors after a delay, while this thread is blocked
// in a synchronous call: accept on a listener, shut down a socket's
// writing side, drain a socket.
import type { Worker } from "node:worker_threads";
import { startTsWorker } from "./loop_helpers.ts";

const WORKER_URL = new URL("./socket_fixture_worker.ts", import.meta.url);

/** What the helper thread can do to a descriptor. */
export type HelperOp = "accept" | "shutdown" | "drain" | "digest";

/**
 * The main side of the helper thread. Terminate it (`close()`) before
 * closing the descriptors it was given: a pending action on a closed
 * descriptor number could hit a socket opened since under that number.
 */
export class HelperThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (result: unknown) => void>();
  #next = 0;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (m: { id?: number; result?: unknown }) => {
      if (m.id === undefined) return;
      this.#waiting.get(m.id)?.(m.result);
      this.#waiting.delete(m.id);
    });
  }

  /** Starts the worker and waits until its modules have loaded. */
  static async start(): Promise<HelperThread> {
    const worker = startTsWorker(WORKER_URL);
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    return new HelperThread(worker);
  }

  /** Asks for `op` on `fd` in `delayMs`; resolves with its result. */
  after(delayMs: number, op: HelperOp, fd: number): Promise<unknown> {
    const id = this.#next++;
    const done = new Promise<unknown>((resolve) => this.#waiting.set(id, resolve));
    this.#worker.postMessage({ id, op, fd, delayMs });
    return done;
  }

  /** Stops the worker; actions not yet run never run. */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
