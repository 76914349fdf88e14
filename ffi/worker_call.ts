/**
 * The message protocol of the off-thread workers (Bun and Node): the main
 * thread posts the argument array, the worker runs the blocking C call and
 * posts `[result, errno]` back. A worker posts `"ready"` once, when it can
 * run a call at once (its library is loaded).
 *
 * @module
 */
import { PollError, UseAfterCloseError } from "../core/errors.ts";
import type { OffThreadCall, OffThreadResult } from "./types.ts";

/** Wraps a worker that speaks the off-thread protocol as an {@link OffThreadCall}. */
export function workerCall(
  worker: {
    postMessage(m: unknown): void;
    terminate(): unknown;
    ref(): void;
    unref(): void;
    addEventListener?: (t: "message" | "close", f: (e: { data: unknown }) => void) => void;
    on?: (t: "message" | "exit", f: (d: unknown) => void) => void;
  },
  name: string,
): OffThreadCall {
  let pending: ((r: OffThreadResult) => void) | undefined;
  let closed = false;
  let refed = true;
  let ready = false;
  const onMessage = (data: unknown) => {
    if (data === "ready") {
      ready = true;
      // Closed while it booted: end it now that its native module is loaded;
      // otherwise it keeps the process alive only while a referenced call runs.
      if (closed && !pending) void worker.terminate();
      else if (!(pending && refed)) worker.unref();
      return;
    }
    const [result, errno] = data as [number, number];
    const resolve = pending;
    pending = undefined;
    worker.unref();
    if (closed) void worker.terminate();
    resolve?.({ result, errno });
  };
  // The worker's end (Node: "exit", after its thread is joined; Bun: "close"),
  // whatever ended it.
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  if (worker.on) {
    worker.on("message", onMessage);
    worker.on("exit", () => markExited());
  } else {
    worker.addEventListener!("message", (e) => onMessage(e.data));
    worker.addEventListener!("close", () => markExited());
  }
  // A booting worker stays referenced until it says "ready": a worker torn
  // down while it still loads its native module (koffi on Node), by
  // terminate() or by the process exiting, can abort the whole process (a
  // fatal napi_throw). So an exit waits for the boot (100–300 ms at most).
  worker.ref();
  return {
    canUnref: true,
    get ready() {
      return ready;
    },
    call(...args): Promise<OffThreadResult> {
      if (closed) return Promise.reject(new UseAfterCloseError(`off-thread ${name}`));
      if (pending) return Promise.reject(new PollError("EBUSY", `off-thread ${name} already has a call in flight`));
      return new Promise((resolve) => {
        pending = resolve;
        if (refed) worker.ref();
        worker.postMessage(args);
      });
    },
    ref() {
      refed = true;
      if (pending) worker.ref();
    },
    unref() {
      refed = false;
      if (ready) worker.unref();
    },
    close() {
      if (closed) return;
      closed = true;
      // One that has not said "ready" yet ends when it does (see above).
      if (!pending && ready) void worker.terminate();
    },
    exited,
  };
}
