/**
 * `IoWatcher`: one file descriptor registered with a {@link Loop}, with the
 * callback that receives its readiness bits.
 *
 * @example
 * ```ts
 * import { Loop } from "./loop.ts";
 * import { READABLE } from "./backend.ts";
 * import { WRITABLE } from "./backend.ts";
 * import { Socket } from "../socket/socket.ts";
 * const loop = new Loop();
 * const [a, b] = Socket.pair("stream", { nonBlocking: true });
 * const watcher = loop.watch(a.fd, READABLE, (events) => console.log(events));
 * watcher.update(READABLE | WRITABLE);
 * watcher.unref();
 * watcher.close();
 * loop.close();
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";

/** Receives readiness bits (READABLE, WRITABLE, ERROR, HANGUP, PEER_CLOSED). */
export type IoCallback = (events: number) => void;

/** What an {@link IoWatcher} needs from its loop. */
export interface WatcherHost {
  /** @internal */
  _modify(watcher: IoWatcher, events: number): void;
  /** @internal `fdClosing`: the owner closes the fd right after (see {@link IoWatcher.closeForFdClose}). */
  _unwatch(watcher: IoWatcher, fdClosing?: boolean): void;
  /** @internal */
  _refChanged(watcher: IoWatcher, ref: boolean): void;
  /** @internal Unregisters (false) or registers again (true) with the backend. */
  _setActive(watcher: IoWatcher, active: boolean): void;
}

/**
 * A registration on a loop. Closing it unregisters the fd; it does not
 * close the fd.
 *
 * @example
 * ```ts
 * import type { IoWatcher } from "./io_watcher.ts";
 * function pauseReading(w: IoWatcher) {
 *   w.update(0);
 * }
 * ```
 */
export class IoWatcher {
  /** The file descriptor. */
  readonly fd: number;
  /** Whether reports are edge-triggered. */
  readonly edge: boolean;
  /** The callback; may be replaced. */
  callback: IoCallback;
  /** Called when the loop closes, before the watcher is dropped (owners close their fd here). */
  onLoopClose: (() => void) | undefined = undefined;
  #host: WatcherHost;
  #events: number;
  #ref = true;
  #active = true;
  #closed = false;

  /** @internal Use `loop.watch`. */
  constructor(host: WatcherHost, fd: number, events: number, edge: boolean, callback: IoCallback) {
    this.#host = host;
    this.fd = fd;
    this.#events = events;
    this.edge = edge;
    this.callback = callback;
  }

  /** The current interest bits. */
  get events(): number {
    return this.#events;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the fd is registered with the backend (not stopped). */
  get active(): boolean {
    return this.#active && !this.#closed;
  }

  /** Changes the interest (0 pauses every report but errors and hangups). */
  update(events: number): void {
    if (this.#closed) throw new UseAfterCloseError("IoWatcher");
    if (events === this.#events) return;
    if (this.#active) this.#host._modify(this, events);
    this.#events = events;
  }

  /**
   * Unregisters the fd from the backend but keeps the watcher (and its
   * reference): nothing at all is reported, not even hang-ups and errors,
   * until {@link IoWatcher.start}. Idempotent.
   */
  stop(): void {
    if (this.#closed) throw new UseAfterCloseError("IoWatcher");
    if (!this.#active) return;
    this.#host._setActive(this, false);
    this.#active = false;
  }

  /** Registers a stopped fd again, optionally with new interest bits. Idempotent. */
  start(events: number = this.#events): void {
    if (this.#closed) throw new UseAfterCloseError("IoWatcher");
    if (this.#active) {
      this.#host._modify(this, events);
      this.#events = events;
      return;
    }
    // The host registers `this.events`: set them first, restore on failure.
    const old = this.#events;
    this.#events = events;
    try {
      this.#host._setActive(this, true);
    } catch (err) {
      this.#events = old;
      throw err;
    }
    this.#active = true;
  }

  /** Keeps the process alive while this watcher exists (the default). */
  ref(): this {
    if (!this.#ref) {
      this.#ref = true;
      if (!this.#closed) this.#host._refChanged(this, true);
    }
    return this;
  }

  /** Lets the process exit even though this watcher exists. */
  unref(): this {
    if (this.#ref) {
      this.#ref = false;
      if (!this.#closed) this.#host._refChanged(this, false);
    }
    return this;
  }

  /** Whether this watcher keeps the process alive. */
  hasRef(): boolean {
    return this.#ref;
  }

  /** Unregisters the fd (which stays open). Idempotent. */
  close(): void {
    this.#close(false);
  }

  /**
   * Unregisters the fd because its owner closes it right after: on backends
   * where closing a descriptor drops its registration (epoll), the
   * unregistering system call is skipped. Only for an fd that nothing else
   * shares (not dup'd, not inherited by a forked child), which the owner
   * must close before the loop waits again. Idempotent.
   */
  closeForFdClose(): void {
    this.#close(true);
  }

  #close(fdClosing: boolean): void {
    if (this.#closed) return;
    try {
      this.#host._unwatch(this, fdClosing);
    } finally {
      // The host has dropped the watcher even when the backend failed (an fd
      // closed before its watcher: EBADF).
      this.#closed = true;
    }
  }
}
