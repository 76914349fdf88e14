/**
 * The parked wait shared by the backends: one blocking C call at a time on a
 * helper thread (`native.offThread`), with ref/unref and a close that waits
 * for the call in flight before native memory is released.
 *
 * @example
 * ```ts
 * import { Parker } from "./park.ts";
 * import { libc } from "../ffi/libc.ts";
 * const parker = new Parker("poll", libc.definition.symbols.poll);
 * const { result } = await parker.call(null, 0, 10); // poll(NULL, 0, 10): 10 ms asleep off the main thread
 * console.log(result); // 0
 * parker.close(() => {});
 * ```
 *
 * @module
 */
import { PollError, UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import type { OffThreadCall, OffThreadResult, Pointer, SymbolSpec } from "../ffi/types.ts";

/**
 * One off-thread C function of libc, created on first use.
 *
 * @example
 * ```ts
 * import { Parker } from "./park.ts";
 * import { libc } from "../ffi/libc.ts";
 * const parker = new Parker("epoll_wait", libc.definition.symbols.epoll_wait);
 * console.log(parker.parked); // false
 * parker.close(() => {});
 * ```
 */
export class Parker {
  readonly #name: string;
  readonly #spec: SymbolSpec;
  #call: OffThreadCall | undefined;
  #parked = false;
  #refed = true;
  #closed = false;
  #afterClose: (() => void) | undefined;
  readonly #exited: Promise<void>;
  #markExited!: () => void;

  constructor(name: string, spec: SymbolSpec) {
    this.#name = name;
    this.#spec = spec;
    this.#exited = new Promise((resolve) => (this.#markExited = resolve));
  }

  /**
   * Resolves once closed and the helper thread, if one was started, has
   * ended (see `OffThreadCall.exited`): only then may a Worker that owns
   * this parker be terminated without tearing down a helper in the middle
   * of loading koffi or of a parked call.
   */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** Whether a call is in flight. */
  get parked(): boolean {
    return this.#parked;
  }

  /**
   * Whether {@link Parker.unref} really lets the process exit while a call
   * is in flight (the runtime's helper decides; starts it on first use).
   */
  get canUnref(): boolean {
    if (this.#closed) return false;
    return this.#offThread().canUnref;
  }

  /**
   * Whether a call would start at once (false while the runtime's helper is
   * still booting; starts it on first use). True once closed.
   */
  get ready(): boolean {
    if (this.#closed) return true;
    return this.#offThread().ready;
  }

  #offThread(): OffThreadCall {
    return (this.#call ??= native.offThread(libc.path(), this.#name, this.#spec));
  }

  /** Starts the call; arguments are numbers or native pointers. */
  async call(...args: (number | Pointer | null)[]): Promise<OffThreadResult> {
    if (this.#closed) throw new UseAfterCloseError(`parked ${this.#name}`);
    if (this.#parked) throw new PollError("EBUSY", `parked ${this.#name} is already in flight`);
    const call = this.#offThread();
    if (this.#refed) call.ref();
    else call.unref();
    this.#parked = true;
    try {
      return await call.call(...args);
    } finally {
      this.#parked = false;
      if (this.#closed) this.#finish();
    }
  }

  /** Keeps the process alive while a call is in flight. */
  ref(): void {
    this.#refed = true;
    this.#call?.ref();
  }

  /** Lets the process exit while a call is in flight (not possible on every runtime). */
  unref(): void {
    this.#refed = false;
    this.#call?.unref();
  }

  /** Ends the helper; `after` runs once no call is in flight (now or later). */
  close(after: () => void): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#afterClose = after;
    if (!this.#parked) this.#finish();
  }

  #finish(): void {
    const call = this.#call;
    this.#call = undefined;
    if (call === undefined) this.#markExited();
    else {
      call.close();
      void call.exited.then(this.#markExited);
    }
    const after = this.#afterClose;
    this.#afterClose = undefined;
    after?.();
  }
}
