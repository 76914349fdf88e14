/**
 * What asynchronous I/O this process can use: the readiness backends
 * (epoll, poll(2), kqueue) and io_uring, probed once by creating a small
 * ring and asking the kernel (IORING_REGISTER_PROBE) for every opcode ffinet
 * submits. A refused io_uring_setup (EPERM under seccomp or
 * `kernel.io_uring_disabled`, ENOSYS on old kernels) reports false: callers
 * fall back to epoll.
 *
 * Which one connections use ({@link chooseAsyncIo}): an `io` option
 * ("uring" or "readiness") first, else `FFINET_IO` (the same two words),
 * else the default: io_uring on Linux 6.1 or later where the probe passes,
 * readiness everywhere else. `FFINET_IO=readiness` forces epoll;
 * `FFINET_IO=uring` asks for io_uring on any kernel the probe accepts. Any
 * other `FFINET_IO` value is ignored, with one warning on stderr, and the
 * default applies.
 *
 * @example
 * ```ts
 * import { asyncBackends, chooseAsyncIo } from "./probe.ts";
 * console.log(asyncBackends()); // { epoll: true, poll: true, kqueue: false, io_uring: true } on Linux
 * console.log(chooseAsyncIo()); // "io_uring" on Linux >= 6.1 unless FFINET_IO=readiness
 * ```
 *
 * @module
 */
import { kernelRelease, releaseAtLeast } from "../../ffi/kernel.ts";
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

/** The values `FFINET_IO` and the `io` options take. */
export type IoPreference = "uring" | "readiness";

/** The oldest Linux release on which io_uring is the default: `[major, minor]`. */
export const URING_DEFAULT_SINCE: readonly [number, number] = [6, 1];

let warnedEnv: string | undefined;
let byDefault: boolean | undefined;

/**
 * `FFINET_IO` as a preference: "uring" or "readiness", else undefined
 * (unset, empty, or another value; another value is reported once on
 * stderr, naming the accepted ones, and ignored).
 *
 * @example
 * ```ts
 * import { envIoPreference } from "./probe.ts";
 * console.log(envIoPreference()); // undefined unless FFINET_IO is set
 * ```
 */
export function envIoPreference(): IoPreference | undefined {
  const value = native.env("FFINET_IO");
  if (value === "uring" || value === "readiness") return value;
  if (value !== undefined && value !== "" && warnedEnv === undefined) {
    warnedEnv = value;
    console.error(`ffinet: FFINET_IO=${JSON.stringify(value)} is not "uring" or "readiness"; ignored (default: ${uringByDefault() ? "io_uring where available" : "readiness"})`);
  }
  return undefined;
}

/**
 * Whether io_uring is the default here: Linux {@link URING_DEFAULT_SINCE}
 * (6.1) or later, by the kernel's release (uname). Whether the kernel lets
 * this process use it is the probe's question ({@link asyncBackends}).
 *
 * @example
 * ```ts
 * import { uringByDefault } from "./probe.ts";
 * console.log(uringByDefault()); // true on Linux 6.1+
 * ```
 */
export function uringByDefault(): boolean {
  if (byDefault !== undefined) return byDefault;
  const release = native.os === "linux" ? kernelRelease() : undefined;
  byDefault = release !== undefined && releaseAtLeast(release, URING_DEFAULT_SINCE[0], URING_DEFAULT_SINCE[1]);
  return byDefault;
}

/**
 * Whether io_uring is wanted: `option` when given, else `FFINET_IO`
 * ("uring" or "readiness"), else the default ({@link uringByDefault}).
 * Whether it is used also takes the probe ({@link chooseAsyncIo}).
 *
 * @example
 * ```ts
 * import { uringRequested } from "./probe.ts";
 * console.log(uringRequested("uring"), uringRequested("readiness")); // true false
 * ```
 */
export function uringRequested(option?: IoPreference): boolean {
  if (option !== undefined) return option === "uring";
  const env = envIoPreference();
  return env !== undefined ? env === "uring" : uringByDefault();
}

/**
 * The I/O kind to use: io_uring when wanted ({@link uringRequested}: the
 * option, `FFINET_IO`, else the default on Linux 6.1+) and available (the
 * probe passes), readiness otherwise (the clean fallback; the probe's
 * {@link uringUnavailableReason} says why).
 *
 * @example
 * ```ts
 * import { chooseAsyncIo } from "./probe.ts";
 * console.log(chooseAsyncIo("readiness")); // "readiness"
 * console.log(chooseAsyncIo()); // "io_uring" on Linux 6.1+ where the kernel allows it
 * ```
 */
export function chooseAsyncIo(option?: IoPreference): AsyncIoKind {
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
