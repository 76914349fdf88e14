/**
 * The io_uring backend (Linux; the default on 6.1+, see {@link chooseAsyncIo}): a {@link Ring} in native memory, the
 * {@link Uring} completion API (accept, connect, recv, send, closeFd, timeout,
 * pollOnce, nop, cancel, cancelAll, multishot accept, and allocation-free
 * direct operations), {@link UringLoop} which dispatches its completions
 * through a readiness Loop via a registered eventfd, {@link LoopUring} (a
 * loop's ring with its provided-buffer ring, send slots and stream dispatch
 * table), {@link UringStream} (multishot recv, batched sends) and
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
export { type CompletionSink, type CompletionWordSink, Ring, type RingOptions } from "./ring.ts";
export { type DirectSink, Uring, type UringCallback, type UringOp, type UringOptions } from "./ops.ts";
export { UringLoop, type UringLoopOptions, type UringOwner } from "./loop_glue.ts";
export { LoopUring, type LoopUringOptions, loopIoFor, loopUring, URING_BUFFER_BYTES, type UringSetup } from "./loop_io.ts";
export { UringStream, type UringStreamHost } from "./stream.ts";
export { UringTransport, uringTransport } from "./transport.ts";
export { ProvidedBuffers } from "./buffer_ring.ts";
export { SendSlots } from "./send_slots.ts";
export { uringConnect, type UringConnectOptions } from "./connect.ts";
export {
  type AsyncBackends,
  asyncBackends,
  type AsyncIoKind,
  chooseAsyncIo,
  envIoPreference,
  type IoPreference,
  URING_DEFAULT_SINCE,
  uringByDefault,
  uringRequested,
  uringUnavailableReason,
} from "./probe.ts";
export { CQE, IORING_OP, IOSQE, URING } from "./uapi.ts";
