/**
 * Linux arm64 struct layouts: as x86-64 except epoll_event, which is not
 * packed here (16 bytes, data at offset 8). Written from the headers;
 * untested until an arm64 runner checks it.
 *
 * @module
 */
import { LINUX_X64 } from "./linux_x64.ts";
import type { PlatformLayout } from "./types.ts";

/** Linux arm64 layouts. */
export const LINUX_ARM64: PlatformLayout = {
  ...LINUX_X64,
  tested: false,
  epoll_event: { size: 16, events: 0, data: 8 },
};
