/**
 * The io_uring backend (Linux, opt-in): a {@link Ring} in native memory, the
 * {@link Uring} completion API (accept, connect, recv, send, closeFd, timeout,
 * pollOnce, nop, cancel, cancelAll), {@link UringLoop} which dispatches its
 * completions through a readiness Loop via a registered eventfd, and
 * {@link asyncBackends} which reports what this process can use.
 *
 * @example
 * ```ts
 * import { asyncBackends, chooseAsyncIo, Uring } from "./mod.ts";
 * if (chooseAsyncIo() === "io_uring") {
 *   using uring = new Uring();
 *   const op = uring.nop();
 *   uring.poll(100);
 *   await op;
 * }
 * console.log(asyncBackends().poll); // true
 * ```
 *
 * @module
 */
export { type CompletionSink, Ring, type RingOptions } from "./ring.ts";
export { Uring, type UringCallback, type UringOp, type UringOptions } from "./ops.ts";
export { UringLoop, type UringLoopOptions, type UringOwner } from "./loop_glue.ts";
export { LoopUring, loopUring, URING_BUFFER_BYTES } from "./loop_io.ts";
export { UringStream, type UringStreamHost } from "./stream.ts";
export { uringConnect, type UringConnectOptions } from "./connect.ts";
export {
  type AsyncBackends,
  asyncBackends,
  type AsyncIoKind,
  chooseAsyncIo,
  uringRequested,
  uringUnavailableReason,
} from "./probe.ts";
export { IORING_OP, URING } from "./uapi.ts";
