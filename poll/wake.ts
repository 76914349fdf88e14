/**
 * The wake-up descriptor that ends a parked wait early: an eventfd on Linux,
 * a non-blocking pipe elsewhere. `signal()` makes it readable; `drain()`
 * resets it.
 *
 * @example
 * ```ts
 * import { WakeFd } from "./wake.ts";
 * const wake = new WakeFd();
 * wake.signal();
 * wake.drain();
 * wake.close();
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { pollCheck } from "./backend.ts";

const ONE = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);

/**
 * An eventfd, or a pipe where there is none.
 *
 * @example
 * ```ts
 * import { WakeFd } from "./wake.ts";
 * const wake = new WakeFd();
 * console.log(wake.kind); // "eventfd" on Linux
 * wake.close();
 * ```
 */
export class WakeFd {
  /** The descriptor to poll for READABLE. */
  readonly fd: number;
  /** What it is made of. */
  readonly kind: "eventfd" | "pipe";
  readonly #writeFd: number;
  readonly #scratch = new Uint8Array(64);
  #closed = false;

  constructor() {
    const c = libc();
    if (c.eventfd !== undefined) {
      this.fd = pollCheck(c.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC), "eventfd");
      this.#writeFd = this.fd;
      this.kind = "eventfd";
      return;
    }
    const fds = new Int32Array(2);
    const bytes = new Uint8Array(fds.buffer);
    if (c.pipe2 !== undefined) pollCheck(c.pipe2(bytes, C.O_NONBLOCK | C.O_CLOEXEC), "pipe2");
    else {
      pollCheck(c.pipe(bytes), "pipe");
      for (const fd of fds) {
        const flags = pollCheck(c.fcntl(fd, C.F_GETFL, 0), "fcntl");
        pollCheck(c.fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK), "fcntl");
      }
    }
    this.fd = fds[0]!;
    this.#writeFd = fds[1]!;
    this.kind = "pipe";
  }

  /** Makes the descriptor readable (safe to call repeatedly). */
  signal(): void {
    if (this.#closed) throw new UseAfterCloseError("WakeFd");
    // EAGAIN means it is already readable: nothing to do.
    libc().write(this.#writeFd, ONE, this.kind === "eventfd" ? 8 : 1);
  }

  /** Reads everything pending so the descriptor is no longer readable. */
  drain(): void {
    if (this.#closed) return;
    const c = libc();
    if (this.kind === "eventfd") c.read(this.fd, this.#scratch, 8);
    else while (c.read(this.fd, this.#scratch, this.#scratch.length) > 0);
  }

  /** Closes the descriptor(s). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().close(this.fd);
    if (this.#writeFd !== this.fd) libc().close(this.#writeFd);
  }
}
