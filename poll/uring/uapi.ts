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
  SENDMSG: 9,
  RECVMSG: 10,
  TIMEOUT: 11,
  ACCEPT: 13,
  ASYNC_CANCEL: 14,
  CONNECT: 16,
  CLOSE: 19,
  SEND: 26,
  RECV: 27,
  /** socket(2) (5.19); with `file_index` the socket is a direct descriptor. */
  SOCKET: 45,
} as const;

/**
 * SQE flags (`sqe->flags`, the IOSQE_* bits).
 *
 * @example
 * ```ts
 * import { IOSQE } from "./uapi.ts";
 * console.log(IOSQE.BUFFER_SELECT); // 32
 * ```
 */
export const IOSQE = {
  /** `sqe->fd` is an index into the registered (direct) descriptor table. */
  FIXED_FILE: 1 << 0,
  /** The next SQE starts when this one succeeded (a failure cancels the rest of the chain). */
  IO_LINK: 1 << 2,
  /** No CQE when this SQE succeeds (5.17). */
  CQE_SKIP_SUCCESS: 1 << 6,
  /** Pick the buffer from a provided-buffer group (`sqe->buf_group`) at completion. */
  BUFFER_SELECT: 1 << 5,
} as const;

/**
 * CQE flags (`cqe->flags`).
 *
 * @example
 * ```ts
 * import { CQE } from "./uapi.ts";
 * const flags = (7 << CQE.BUFFER_SHIFT) | CQE.F_BUFFER | CQE.F_MORE;
 * console.log(flags >>> CQE.BUFFER_SHIFT, (flags & CQE.F_MORE) !== 0); // 7 true
 * ```
 */
export const CQE = {
  /** The upper 16 bits hold the id of the provided buffer the data landed in. */
  F_BUFFER: 1 << 0,
  /** A multishot operation stays armed: more CQEs follow. */
  F_MORE: 1 << 1,
  BUFFER_SHIFT: 16,
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
  /** Keep submitting a batch after an SQE fails (5.18). */
  SETUP_SUBMIT_ALL: 1 << 7,
  /** No IPI to run completion work: it runs at the next kernel entry (5.19). */
  SETUP_COOP_TASKRUN: 1 << 8,
  /** Flag pending completion work in sq_ring->flags (SQ_TASKRUN) (5.19). */
  SETUP_TASKRUN_FLAG: 1 << 9,
  /** Only one thread submits (6.0). */
  SETUP_SINGLE_ISSUER: 1 << 12,
  /** Completion work runs only inside io_uring_enter(GETEVENTS) (6.1; needs SINGLE_ISSUER). */
  SETUP_DEFER_TASKRUN: 1 << 13,
  /** io_uring_params.features */
  FEAT_SINGLE_MMAP: 1 << 0,
  FEAT_NODROP: 1 << 1,
  FEAT_EXT_ARG: 1 << 8,
  /** io_uring_enter flags */
  ENTER_GETEVENTS: 1 << 0,
  ENTER_EXT_ARG: 1 << 3,
  /** sq_ring->flags */
  SQ_CQ_OVERFLOW: 1 << 1,
  /** cq_ring->flags: no eventfd notifications. */
  CQ_EVENTFD_DISABLED: 1 << 0,
  /** Completion work waits for io_uring_enter(GETEVENTS) (with SETUP_TASKRUN_FLAG). */
  SQ_TASKRUN: 1 << 2,
  /** sqe->ioprio of RECV: stay armed, one CQE per arrival (6.0; needs BUFFER_SELECT). */
  RECV_MULTISHOT: 1 << 1,
  /** sqe->ioprio of ACCEPT: stay armed, one CQE per connection (5.19). */
  ACCEPT_MULTISHOT: 1 << 0,
  /** sqe->len of POLL_ADD: stay armed, one CQE per wake-up that matches (5.13). */
  POLL_ADD_MULTI: 1 << 0,
  /** sqe->cancel_flags (5.19+) */
  ASYNC_CANCEL_ALL: 1 << 0,
  ASYNC_CANCEL_ANY: 1 << 2,
  /** io_uring_register opcodes */
  REGISTER_FILES: 2,
  REGISTER_EVENTFD: 4,
  UNREGISTER_EVENTFD: 5,
  REGISTER_PROBE: 8,
  /** Provided-buffer rings (5.19). */
  REGISTER_PBUF_RING: 22,
  UNREGISTER_PBUF_RING: 23,
  /** struct io_uring_buf_reg { u64 ring_addr; u32 ring_entries; u16 bgid; u16 flags; u64 resv[3]; } */
  BUF_REG_SIZE: 40,
  /** struct io_uring_buf { u64 addr; u32 len; u16 bid; u16 resv; }: the ring's tail is entry 0's resv. */
  BUF_SIZE: 16,
  BUF_RING_TAIL: 14,
  /** Most entries of a provided-buffer ring. */
  MAX_BUF_RING_ENTRIES: 32768,
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
