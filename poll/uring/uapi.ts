/**
 * io_uring constants from the kernel UAPI header `linux/io_uring.h`: the
 * opcodes ffinet submits, setup/enter/register flags, feature bits and the
 * mmap offsets of the three shared regions. The values are the same on every
 * Linux architecture.
 *
 * @example
 * ```ts
 * import { IORING_OP } from "./uapi.ts";
 * console.log(IORING_OP.RECV); // 27
 * ```
 *
 * @module
 */

/**
 * The opcodes used here (the kernel's `enum io_uring_op`, in order since 5.1).
 *
 * @example
 * ```ts
 * import { IORING_OP } from "./uapi.ts";
 * console.log(IORING_OP.NOP, IORING_OP.ACCEPT); // 0 13
 * ```
 */
export const IORING_OP = {
  NOP: 0,
  POLL_ADD: 6,
  TIMEOUT: 11,
  ACCEPT: 13,
  ASYNC_CANCEL: 14,
  CONNECT: 16,
  CLOSE: 19,
  SEND: 26,
  RECV: 27,
} as const;

/**
 * Flags, offsets and register opcodes.
 *
 * @example
 * ```ts
 * import { URING } from "./uapi.ts";
 * console.log(URING.OFF_CQ_RING === 0x8000000); // true
 * ```
 */
export const URING = {
  /** mmap offsets of the SQ ring, the CQ ring and the SQE array. */
  OFF_SQ_RING: 0,
  OFF_CQ_RING: 0x8000000,
  OFF_SQES: 0x10000000,
  /** io_uring_params.flags */
  SETUP_CQSIZE: 1 << 3,
  SETUP_CLAMP: 1 << 4,
  /** io_uring_params.features */
  FEAT_SINGLE_MMAP: 1 << 0,
  FEAT_NODROP: 1 << 1,
  FEAT_EXT_ARG: 1 << 8,
  /** io_uring_enter flags */
  ENTER_GETEVENTS: 1 << 0,
  ENTER_EXT_ARG: 1 << 3,
  /** sq_ring->flags */
  SQ_CQ_OVERFLOW: 1 << 1,
  /** sqe->cancel_flags (5.19+) */
  ASYNC_CANCEL_ALL: 1 << 0,
  ASYNC_CANCEL_ANY: 1 << 2,
  /** io_uring_register opcodes */
  REGISTER_EVENTFD: 4,
  UNREGISTER_EVENTFD: 5,
  REGISTER_PROBE: 8,
  /** io_uring_probe_op.flags */
  OP_SUPPORTED: 1,
  /** struct io_uring_probe: 16-byte header, then 8 bytes per op. */
  PROBE_HEADER: 16,
  PROBE_OP_SIZE: 8,
  /** struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts; } */
  GETEVENTS_ARG_SIZE: 24,
  GETEVENTS_ARG_TS: 16,
  /** Most entries io_uring_setup accepts (IORING_MAX_ENTRIES). */
  MAX_ENTRIES: 32768,
  /** Most CQ entries with IORING_SETUP_CQSIZE (2 × IORING_MAX_ENTRIES). */
  MAX_CQ_ENTRIES: 65536,
} as const;
