/**
 * io_uring completions on a readiness {@link Loop}: the ring's registered
 * eventfd is watched like any other descriptor — edge-triggered on epoll,
 * so it never needs reading (each kernel signal is one report). When it
 * fires, the loop's callback reaps every completion (`uring.poll(0)`,
 * entering the kernel only when something is queued or the kernel deferred
 * completion work);
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
import { URING } from "./uapi.ts";

/** Options of a {@link UringLoop}: those of the ring, without `onBusyChange`. */
export type UringLoopOptions = Omit<UringOptions, "onBusyChange"> & {
  /**
   * Close the ring when the loop closes (after telling every owner added
   * with {@link UringLoop.addOwner}). Default false: the ring is detached
   * from the closed loop and stays its owner's to close.
   */
  closeWithLoop?: boolean;
};

/** Something that holds descriptors with operations on the ring (a connection, a listener). */
export interface UringOwner {
  /** The loop is closing: close descriptors synchronously (the ring closes next). */
  onLoopClose(): void;
}

/** How many submit-and-reap rounds one eventfd report may run (chains such as poll → recv → send complete within one loop tick). */
const ROUNDS = 8;

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
  /** The loop that dispatches the completions. */
  readonly loop: Loop;
  readonly #watcher: IoWatcher;
  /** Level-triggered (poll(2), kqueue): the eventfd must be reset before reaping. */
  readonly #drain: boolean;
  /**
   * DEFER_TASKRUN: completions are only posted inside our own
   * io_uring_enter, so while reaping the eventfd is silenced (no spurious
   * wake-up for what this tick already handled); work that arrived
   * meanwhile is seen through SQ_TASKRUN afterwards.
   */
  readonly #quiet: boolean;
  readonly #owners = new Set<UringOwner>();
  #refs = 0;
  #busy = false;
  /** Completions are being dispatched (`#onReadable`): the ring must not close under them. */
  #reaping = false;
  /** The reap stopped at its bound with deferred completion work maybe left. */
  #more = false;
  #closing = false;
  #closed = false;

  /** Opens a ring for `loop` and watches its eventfd there, so completions are reaped on the loop's turns. */
  constructor(loop: Loop, options: UringLoopOptions = {}) {
    let watcher: IoWatcher | undefined;
    this.loop = loop;
    const { closeWithLoop, ...ringOptions } = options;
    this.uring = new Uring({
      ...ringOptions,
      // Every callback's throw in a reap goes to the loop's onError (as each
      // throw in a tick's dispatch does), not just the first of them.
      onCallbackError: (error) => loop._reportError(error),
      onBusyChange: (busy) => {
        this.#busy = busy;
        if (watcher !== undefined) this.#updateRef(watcher);
      },
    });
    this.#drain = loop.backendName !== "epoll";
    this.#quiet = (this.uring.ring.setupFlags & URING.SETUP_DEFER_TASKRUN) !== 0;
    try {
      watcher = loop.watch(this.uring.eventFd, READABLE, this.#onReadable, { edge: !this.#drain });
    } catch (err) {
      this.uring.close();
      throw err;
    }
    this.#watcher = watcher;
    this.#updateRef(watcher);
    watcher.onLoopClose = closeWithLoop === true
      ? () => this.close()
      // The loop closing first detaches us; the ring stays the owner's to close.
      : () => this.#watcher.close();
  }

  /** Whether the loop is closing this ring (owners close descriptors synchronously then). */
  get closing(): boolean {
    return this.#closing || this.#closed;
  }

  /**
   * Keeps the loop alive (the eventfd watcher referenced) until a matching
   * {@link UringLoop.unretain}: `queue*` operations do not, so a referenced
   * connection or listener retains once.
   */
  retain(): void {
    this.#refs++;
    this.#updateRef(this.#watcher);
  }

  /** Undoes one {@link UringLoop.retain}. */
  unretain(): void {
    if (this.#refs > 0) this.#refs--;
    this.#updateRef(this.#watcher);
  }

  /** Adds an owner told by `onLoopClose` before the ring closes with its loop. */
  addOwner(owner: UringOwner): void {
    this.#owners.add(owner);
  }

  /** Removes an owner (it closed by itself). */
  deleteOwner(owner: UringOwner): void {
    this.#owners.delete(owner);
  }

  #updateRef(watcher: IoWatcher): void {
    if (watcher.closed) return;
    if (this.#refs > 0 || this.#busy) watcher.ref();
    else watcher.unref();
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops watching and closes the ring (pending operations reject with
   * ECANCELED). Idempotent. Called from a completion's callback, it tells
   * the owners at once and closes the ring once the reap is over.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#closing) {
      if (!this.#reaping) this.#closeRing();
      return;
    }
    this.#closing = true;
    try {
      for (const owner of [...this.#owners]) owner.onLoopClose();
    } finally {
      this.#owners.clear();
      if (!this.#reaping) this.#closeRing();
    }
  }

  #closeRing(): void {
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
    if (this.#drain) uring.drainEventFd();
    const ring = uring.ring;
    if (this.#quiet) ring.setEventFdEnabled(false);
    this.#reaping = true;
    try {
      // Completions queue follow-up operations (a recv → the echo's send);
      // submitting them here completes most within this tick. Bounded, so
      // the loop still yields to the runtime.
      if (this.#quiet) {
        // DEFER_TASKRUN: each enter runs a bounded batch of the deferred
        // completion work (20 items on Linux 6.18: 50 echoes went out in
        // sends of 20, 20, 8 …) and what it keeps is not always flagged
        // (one more enter still found completions in 5 of 159 wakes, with
        // SQ_TASKRUN clear in some), so enter until one posts nothing. Cut
        // short by the bound: signal, so the next tick goes on.
        let round = 0;
        while (uring.submit(true) > 0 && !this.#closing && !uring.closed) {
          if (++round === ROUNDS) {
            this.#more = true;
            break;
          }
        }
      } else {
        // Go on while the kernel holds completions back: a burst larger
        // than the CQ waits in its overflow list (SQ_CQ_OVERFLOW), moved
        // to the CQ only by an io_uring_enter(GETEVENTS), and signals the
        // eventfd no more.
        for (let round = 0; round < ROUNDS; round++) {
          const n = uring.poll(0);
          if (this.#closing || uring.closed) break;
          if (ring.needsEnter || ring.completions > 0) continue;
          if (n === 0 || ring.unsubmitted === 0) break;
        }
      }
    } finally {
      this.#reaping = false;
      // A callback closed the loop (or this ring): close what it left open.
      if (this.#closing) this.close();
      else if (!uring.closed) {
        if (this.#quiet) ring.setEventFdEnabled(true);
        // Posted or deferred while silenced, held in the overflow list, or
        // left by the bound: make sure the next wait sees it.
        if (this.#more || ring.completions > 0 || ring.needsEnter) uring.signalEventFd();
        this.#more = false;
      }
    }
  };
}
