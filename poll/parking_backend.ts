/**
 * What the readiness backends share: the parked wait on a helper thread
 * ({@link Parker}), its ref/unref, the closed state, a close that frees
 * native memory only once no parked wait is in flight, and the handling of
 * a wait's result (EINTR and EAGAIN count as no events, other failures
 * throw `PollError`).
 *
 * @example
 * ```ts
 * import { ParkingBackend } from "./parking_backend.ts";
 * import { libc } from "../ffi/libc.ts";
 * class Example extends ParkingBackend {
 *   constructor() {
 *     super("example backend", "poll", libc.definition.symbols.poll);
 *   }
 * }
 * const backend = new Example();
 * backend.close();
 * console.log(backend.closed); // true
 * ```
 *
 * @module
 */
import { PollError, UseAfterCloseError } from "../core/errors.ts";
import { native } from "../ffi/native.ts";
import { E } from "../ffi/platform.ts";
import type { Pointer, SymbolSpec } from "../ffi/types.ts";
import { pollError } from "./backend.ts";
import { Parker } from "./park.ts";

/**
 * Whether a failed wait's errno means "nothing happened, wait again". EINTR:
 * a signal, or an io_uring ring of the waiting thread running its completion
 * work. EAGAIN: epoll_wait and kevent never fail with it and poll(2) only
 * where it means "try again" (the BSDs, macOS), so on Linux it is an errno
 * changed after the wait returned: errno is read by a second call
 * (`native.errno()`, on Node koffi.errno() reading it live, on the helper
 * thread right after the call), and the engine may run work in between (a
 * collection, a posted task) whose own failed system call sets it (a CI
 * run on Node 24 once failed on an uncaught "epoll_wait failed: EAGAIN").
 */
function interrupted(errno: number): boolean {
  return errno === E.EINTR || errno === E.EAGAIN;
}

/**
 * Base class of the epoll, poll(2) and kqueue backends.
 *
 * @example
 * ```ts
 * import { EpollBackend } from "./epoll.ts";
 * const epoll = new EpollBackend(); // a ParkingBackend
 * console.log(epoll.parked); // false
 * epoll.close();
 * ```
 */
export class ParkingBackend {
  readonly #what: string;
  readonly #syscall: string;
  readonly #parker: Parker;
  #closed = false;

  /** `what` names the backend in errors; `syscall` is the libc wait function parked on a helper thread. */
  constructor(what: string, syscall: string, spec: SymbolSpec) {
    this.#what = what;
    this.#syscall = syscall;
    this.#parker = new Parker(syscall, spec);
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a parked wait is in flight. */
  get parked(): boolean {
    return this.#parker.parked;
  }

  /** Whether a parked wait would start at once (false while the helper boots). */
  get parkReady(): boolean {
    return this.#parker.ready;
  }

  /** Whether {@link ParkingBackend.unrefPark} really lets the process exit (starts the helper). */
  get canUnrefPark(): boolean {
    return this.#parker.canUnref;
  }

  /** Lets the process exit while a parked wait is in flight (where the runtime can). */
  unrefPark(): void {
    this.#parker.unref();
  }

  /** Keeps the process alive while a parked wait is in flight (default). */
  refPark(): void {
    this.#parker.ref();
  }

  /** Resolves once closed and the helper thread (if one started) has ended. */
  get helperExited(): Promise<void> {
    return this.#parker.exited;
  }

  /** Frees every native resource, after a parked wait in flight returns. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#parker.close(() => this.releaseNative());
  }

  /** Frees the subclass's native resources; runs once, with no wait in flight. */
  protected releaseNative(): void {}

  /** Throws `UseAfterCloseError` once closed. */
  protected checkOpen(): void {
    if (this.#closed) throw new UseAfterCloseError(this.#what);
  }

  /**
   * Throws `UseAfterCloseError` once closed, and a `PollError` (`EBUSY`)
   * while a parked wait is in flight: one at a time, since the helper thread
   * uses the backend's native memory until it returns. Call it before
   * touching that memory.
   */
  protected checkCanPark(): void {
    this.checkOpen();
    if (this.#parker.parked) {
      throw new PollError("EBUSY", `${this.#what}: a parked wait is already in flight`, { syscall: this.#syscall });
    }
  }

  /**
   * The result of a synchronous wait: the count, 0 for EINTR and EAGAIN
   * (see `interrupted`); other failures throw.
   */
  protected syncCount(result: number): number {
    if (result >= 0) return result;
    const errno = native.errno();
    if (interrupted(errno)) return 0;
    throw pollError(errno, this.#syscall);
  }

  /**
   * Runs the wait on the helper thread; resolves with the count of events,
   * or 0 when the backend was closed meanwhile or the wait was interrupted
   * (EINTR or EAGAIN, see `interrupted`; Deno reports no errno from a helper
   * thread: a failure there is EINTR in practice, a signal to the process).
   */
  protected async parkedCount(...args: (number | Pointer | null)[]): Promise<number> {
    this.checkCanPark();
    const { result, errno } = await this.#parker.call(...args);
    if (this.#closed) return 0;
    if (result >= 0) return result;
    if (errno === 0 || interrupted(errno)) return 0;
    throw pollError(errno, this.#syscall);
  }
}
