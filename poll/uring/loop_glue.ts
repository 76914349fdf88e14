/**
 * io_uring completions on a readiness {@link Loop}: the ring's registered
 * eventfd is watched like any other descriptor. When it turns readable the
 * loop's callback resets it and reaps every completion (`uring.poll(0)`);
 * the watcher is referenced only while operations are pending, so an idle
 * ring does not keep the process alive. A parked wait wakes as soon as the
 * kernel posts a completion, because the eventfd is in its poll set.
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { UringLoop } from "./loop_glue.ts";
 * const loop = new Loop();
 * const io = new UringLoop(loop);
 * console.log(await io.uring.timeout(5)); // 0
 * io.close();
 * loop.close();
 * ```
 *
 * @module
 */
import { READABLE } from "../backend.ts";
import type { IoWatcher } from "../io_watcher.ts";
import type { Loop } from "../loop.ts";
import { Uring, type UringOptions } from "./ops.ts";

/** Options of a {@link UringLoop}: those of the ring, without `onBusyChange`. */
export type UringLoopOptions = Omit<UringOptions, "onBusyChange">;

/**
 * A {@link Uring} whose completions are dispatched by a {@link Loop}.
 *
 * @example
 * ```ts
 * import { Loop } from "../loop.ts";
 * import { UringLoop } from "./loop_glue.ts";
 * const loop = new Loop();
 * using io = new UringLoop(loop, { entries: 64 });
 * await io.uring.nop();
 * loop.close();
 * ```
 */
export class UringLoop {
  /** The ring; submit operations here. */
  readonly uring: Uring;
  readonly #watcher: IoWatcher;
  #closed = false;

  constructor(loop: Loop, options: UringLoopOptions = {}) {
    let watcher: IoWatcher | undefined;
    this.uring = new Uring({
      ...options,
      onBusyChange: (busy) => {
        if (watcher === undefined || watcher.closed) return;
        if (busy) watcher.ref();
        else watcher.unref();
      },
    });
    try {
      watcher = loop.watch(this.uring.eventFd, READABLE, this.#onReadable);
    } catch (err) {
      this.uring.close();
      throw err;
    }
    if (this.uring.pending === 0) watcher.unref();
    // The loop closing first detaches us; the ring stays the owner's to close.
    watcher.onLoopClose = () => this.#watcher.close();
    this.#watcher = watcher;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops watching and closes the ring (pending operations reject with ECANCELED). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    this.uring.close();
  }

  /** Same as {@link UringLoop.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #onReadable = (): void => {
    const uring = this.uring;
    if (uring.closed) return;
    uring.drainEventFd();
    uring.poll(0);
  };
}
