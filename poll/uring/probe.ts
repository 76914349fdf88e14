/**
 * What asynchronous I/O this process can use: the readiness backends
 * (epoll, poll(2), kqueue) and io_uring, probed once by creating a small
 * ring and asking the kernel (IORING_REGISTER_PROBE) for every opcode ffinet
 * submits. A refused io_uring_setup (EPERM under seccomp or
 * `kernel.io_uring_disabled`, ENOSYS on old kernels) reports false: callers
 * fall back to epoll. `FFINET_IO=uring` opts in.
 *
 * @example
 * ```ts
 * import { asyncBackends, chooseAsyncIo } from "./probe.ts";
 * console.log(asyncBackends()); // { epoll: true, poll: true, kqueue: false, io_uring: true } on Linux
 * console.log(chooseAsyncIo()); // "readiness" unless FFINET_IO=uring
 * ```
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { native } from "../../ffi/native.ts";
import { NativeBuffer } from "../../ffi/native_buffer.ts";
import { Ring } from "./ring.ts";
import { IORING_OP, URING } from "./uapi.ts";

/** Which asynchronous I/O mechanisms work here. */
export interface AsyncBackends {
  readonly epoll: boolean;
  readonly poll: true;
  readonly kqueue: boolean;
  readonly io_uring: boolean;
}

/** How connections do their I/O: readiness (epoll/poll/kqueue) or io_uring completions. */
export type AsyncIoKind = "readiness" | "io_uring";

let cached: AsyncBackends | undefined;
let uringWhyNot: string | undefined;

/**
 * Probes once and reports what is available (cached afterwards).
 *
 * @example
 * ```ts
 * import { asyncBackends } from "./probe.ts";
 * if (asyncBackends().io_uring) console.log("io_uring available");
 * ```
 */
export function asyncBackends(): AsyncBackends {
  if (cached !== undefined) return cached;
  const c = libc();
  const linux = native.os === "linux";
  cached = {
    epoll: linux && c.epoll_create1 !== undefined,
    poll: true,
    kqueue: c.kqueue !== undefined,
    io_uring: linux && probeUring(),
  };
  return cached;
}

/**
 * Why io_uring is unavailable ("io_uring_setup failed: EPERM", a missing
 * opcode …), or undefined when it is available or not probed yet.
 *
 * @example
 * ```ts
 * import { asyncBackends, uringUnavailableReason } from "./probe.ts";
 * if (!asyncBackends().io_uring) console.log(uringUnavailableReason());
 * ```
 */
export function uringUnavailableReason(): string | undefined {
  return uringWhyNot;
}

/**
 * Records that the kernel refused io_uring after the probe passed (a loop's
 * ring is larger than the probe's: ENOMEM where rings count against
 * RLIMIT_MEMLOCK, before Linux 5.12, …): from now on this process reports
 * io_uring as unavailable, with `reason`, and connections use readiness I/O.
 *
 * @example
 * ```ts
 * import { asyncBackends, markUringUnavailable, uringUnavailableReason } from "./probe.ts";
 * markUringUnavailable("io_uring_setup failed: ENOMEM");
 * console.log(asyncBackends().io_uring, uringUnavailableReason()); // false "io_uring_setup failed: ENOMEM"
 * ```
 */
export function markUringUnavailable(reason: string): void {
  cached = { ...asyncBackends(), io_uring: false };
  uringWhyNot ??= reason;
}

/**
 * Whether io_uring was asked for: `option` when given, else
 * `FFINET_IO=uring` in the environment.
 *
 * @example
 * ```ts
 * import { uringRequested } from "./probe.ts";
 * console.log(uringRequested("uring")); // true
 * ```
 */
export function uringRequested(option?: "uring" | "readiness"): boolean {
  if (option !== undefined) return option === "uring";
  return native.env("FFINET_IO") === "uring";
}

/**
 * The I/O kind to use: io_uring when requested and available, readiness
 * otherwise (the clean fallback).
 *
 * @example
 * ```ts
 * import { chooseAsyncIo } from "./probe.ts";
 * console.log(chooseAsyncIo("readiness")); // "readiness"
 * ```
 */
export function chooseAsyncIo(option?: "uring" | "readiness"): AsyncIoKind {
  return uringRequested(option) && asyncBackends().io_uring ? "io_uring" : "readiness";
}

const NEEDED = [
  IORING_OP.NOP, IORING_OP.POLL_ADD, IORING_OP.TIMEOUT, IORING_OP.ACCEPT, IORING_OP.ASYNC_CANCEL,
  IORING_OP.CONNECT, IORING_OP.CLOSE, IORING_OP.SEND, IORING_OP.RECV,
];

function probeUring(): boolean {
  let ring: Ring;
  try {
    ring = Ring.open({ entries: 2 });
  } catch (err) {
    uringWhyNot = err instanceof Error ? err.message : String(err);
    return false;
  }
  const slots = 256;
  const probe = NativeBuffer.alloc(URING.PROBE_HEADER + slots * URING.PROBE_OP_SIZE);
  try {
    ring.register(URING.REGISTER_PROBE, probe.pointer, slots);
    const lastOp = probe.view.getUint8(0);
    for (const op of NEEDED) {
      const flags = probe.view.getUint16(URING.PROBE_HEADER + op * URING.PROBE_OP_SIZE + 2, true);
      if (op > lastOp || (flags & URING.OP_SUPPORTED) === 0) {
        uringWhyNot = `the kernel does not support io_uring opcode ${op}`;
        return false;
      }
    }
    return true;
  } catch (err) {
    uringWhyNot = err instanceof Error ? err.message : String(err);
    return false;
  } finally {
    probe.free();
    ring.close();
  }
}
