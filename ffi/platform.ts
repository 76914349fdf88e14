/**
 * The constants, errno names and struct layouts of the platform this process
 * runs on.
 *
 * @example
 * ```ts
 * import { C, LAYOUT, errnoName } from "./platform.ts";
 * console.log(C.AF_INET, LAYOUT.sockaddr_in.size, errnoName(C.AF_INET)); // 2 16 "ENOENT"
 * ```
 *
 * @module
 */
import { DARWIN, DARWIN_ERRNO } from "./constants/darwin.ts";
import { LINUX, LINUX_ERRNO } from "./constants/linux.ts";
import { DARWIN_LAYOUT } from "./layout/darwin.ts";
import { LINUX_ARM64 } from "./layout/linux_arm64.ts";
import { LINUX_X64 } from "./layout/linux_x64.ts";
import type { PlatformLayout } from "./layout/types.ts";
import { native } from "./native.ts";

export type { PlatformLayout } from "./layout/types.ts";

/** Platform constants: the same names on every platform, 0 where absent. */
export type PlatformConstants = { readonly [K in keyof typeof LINUX]: number };

const isDarwin = native.os === "darwin";

/**
 * Constants for this platform.
 *
 * @example
 * ```ts
 * import { C } from "./platform.ts";
 * console.log(C.AF_INET, C.SOCK_STREAM); // 2 1
 * ```
 */
export const C: PlatformConstants = isDarwin ? DARWIN : LINUX;

/**
 * Struct layouts for this platform.
 *
 * @example
 * ```ts
 * import { LAYOUT } from "./platform.ts";
 * console.log(LAYOUT.sockaddr_in.size); // 16
 * ```
 */
export const LAYOUT: PlatformLayout = isDarwin
  ? DARWIN_LAYOUT
  : native.arch === "arm64"
  ? LINUX_ARM64
  : LINUX_X64;

const ERRNO: Readonly<Record<string, number>> = isDarwin ? DARWIN_ERRNO : LINUX_ERRNO;
const ERRNO_NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/**
 * errno values by name for this platform.
 *
 * @example
 * ```ts
 * import { E } from "./platform.ts";
 * import { errnoName } from "./platform.ts";
 * console.log(E.ENOENT, errnoName(E.ENOENT ?? 0)); // 2 "ENOENT"
 * ```
 */
export const E: Readonly<Record<string, number>> = ERRNO;

/**
 * The name of an errno value ("ECONNREFUSED"), or `E<number>` when unknown.
 *
 * @example
 * ```ts
 * import { errnoName, E } from "./platform.ts";
 * console.log(errnoName(E.ECONNREFUSED!)); // "ECONNREFUSED"
 * ```
 */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}
