/**
 * The running kernel's release, read with uname(2) through libc: what
 * decides whether io_uring is the default I/O (poll/uring/probe.ts).
 *
 * `struct utsname` on Linux is six 65-byte strings (sysname, nodename,
 * release, version, machine, domainname); the release is the third. Other
 * systems lay it out differently and have no io_uring: there the release is
 * undefined.
 *
 * @example
 * ```ts
 * import { kernelRelease, releaseAtLeast } from "./kernel.ts";
 * const release = kernelRelease(); // "6.8.0-45-generic" on Linux, undefined elsewhere
 * console.log(release !== undefined && releaseAtLeast(release, 6, 1));
 * ```
 *
 * @module
 */
import { libc } from "./libc.ts";
import { decodeCString } from "./marshal.ts";
import { native } from "./native.ts";

/** Bytes of each field of Linux's struct utsname (__NEW_UTS_LEN + 1). */
const UTS_FIELD = 65;
/** Six fields (glibc includes domainname); a little room past them. */
const UTSNAME_BYTES = 6 * UTS_FIELD + 16;

let cached: string | undefined | null = null;

/**
 * The kernel's release ("6.8.0-45-generic") on Linux, read once; undefined
 * elsewhere or where uname(2) fails.
 *
 * @example
 * ```ts
 * import { kernelRelease } from "./kernel.ts";
 * console.log(kernelRelease()); // "6.18.44" on this machine
 * ```
 */
export function kernelRelease(): string | undefined {
  if (cached !== null) return cached;
  cached = undefined;
  const uname = native.os === "linux" ? libc().uname : undefined;
  if (uname === undefined) return cached;
  const buf = new Uint8Array(UTSNAME_BYTES);
  if (uname(buf) !== 0) return cached;
  const release = decodeCString(buf.subarray(2 * UTS_FIELD, 3 * UTS_FIELD));
  cached = release === "" ? undefined : release;
  return cached;
}

/**
 * Whether a Linux release string names version `major.minor` or later
 * ("6.1.0" and "6.18.44-fc" are at least 6.1; "5.15.0-91-generic" is not).
 * A release that does not start with two numbers is not.
 *
 * @example
 * ```ts
 * import { releaseAtLeast } from "./kernel.ts";
 * console.log(releaseAtLeast("6.1.0-13-amd64", 6, 1), releaseAtLeast("5.19.17", 6, 1)); // true false
 * ```
 */
export function releaseAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const got = [Number(m[1]), Number(m[2])] as const;
  return got[0] > major || (got[0] === major && got[1] >= minor);
}
