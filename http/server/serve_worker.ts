/**
 * The entry of each Worker that `serve({ workers })` starts: it records
 * where to listen (the first server's port, with SO_REUSEPORT) where
 * `serve` finds it, then imports the application's module, whose own
 * `serve(...)` call joins the port instead of starting Workers again.
 *
 * @example
 * ```ts ignore
 * // started by serve.ts, never imported by hand:
 * // startThread(new URL("./serve_worker.ts", import.meta.url), { module, port, host });
 * ```
 *
 * @module
 */
import { parentLink } from "../../ffi/threads.ts";
import { WORKER_JOIN, type WorkerJoin } from "./serve_workers.ts";

const link = await parentLink();
if (link !== undefined) {
  const { module, port } = link.data as { module: string; port: number };
  const join: WorkerJoin = { port, link, taken: false };
  (globalThis as Record<symbol, unknown>)[WORKER_JOIN] = join;
  try {
    await import(module);
    if (!join.taken) link.postMessage({ error: `the module ${module} did not call serve()` });
  } catch (err) {
    link.postMessage({ error: String((err as Error)?.stack ?? err) });
  }
}
