/**
 * Name lookups with a deadline, through glibc's getaddrinfo_a(3).
 *
 * getaddrinfo(3) blocks and cannot be interrupted, so it cannot honour a DNS
 * timeout. glibc runs getaddrinfo_a lookups on its own helper threads: we
 * start one with GAI_NOWAIT, wait for it with gai_suspend up to the
 * deadline, and on timeout try gai_cancel.
 *
 * Memory: the `struct gaicb`, the hints, the host and service strings and
 * the one-entry request list live together in one malloc'd block, because
 * glibc's thread reads them after getaddrinfo_a returns. A block is freed
 * only once gai_cancel says that glibc no longer knows the request
 * (EAI_CANCELED: never started; EAI_ALLDONE: finished and dequeued). A
 * timed-out request that is already running (EAI_NOTCANCELED) is kept on a
 * pending list and reaped by a later lookup (or {@link reapPendingLookups})
 * once glibc is done with it; its results are freed then. glibc runs at most
 * 20 lookups at once and a queued request is always cancellable, so the
 * pending list stays small even when a server never answers.
 *
 * Where getaddrinfo_a does not exist (macOS, musl, other libcs) or
 * `FFINET_DNS_BLOCKING=1` is set, {@link dnsTimeoutEnforced} is false and
 * callers fall back to the blocking getaddrinfo (socket/resolve.ts does).
 *
 * @example
 * ```ts
 * import { dnsTimeoutEnforced, pendingLookupCount } from "./resolve_deadline.ts";
 * console.log(dnsTimeoutEnforced(), pendingLookupCount()); // true 0 on glibc
 * ```
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { FFIUnavailableError, UnsupportedError } from "../core/errors.ts";
import { libanl, libc } from "../ffi/libc.ts";
import { readPointer, writePointer, writeTimespec } from "../ffi/marshal.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { LAYOUT } from "../ffi/platform.ts";
import type { Pointer } from "../ffi/types.ts";

// glibc's values (netdb.h with _GNU_SOURCE); only glibc has getaddrinfo_a.
const GAI_NOWAIT = 1;
const EAI_INPROGRESS = -100;
const EAI_CANCELED = -101;
const EAI_NOTCANCELED = -102;
const EAI_ALLDONE = -103;
const EAI_AGAIN = -3;
const EAI_INTR = -104;

type Libc = ReturnType<typeof libc>;

/** The four functions of the asynchronous lookup. */
interface AsyncGai {
  getaddrinfo_a: NonNullable<Libc["getaddrinfo_a"]>;
  gai_suspend: NonNullable<Libc["gai_suspend"]>;
  gai_error: NonNullable<Libc["gai_error"]>;
  gai_cancel: NonNullable<Libc["gai_cancel"]>;
}

let gai: AsyncGai | null | undefined;

function pick(lib: { readonly [K in keyof AsyncGai]: AsyncGai[K] | undefined }): AsyncGai | null {
  const { getaddrinfo_a, gai_suspend, gai_error, gai_cancel } = lib;
  if (!getaddrinfo_a || !gai_suspend || !gai_error || !gai_cancel) return null;
  return { getaddrinfo_a, gai_suspend, gai_error, gai_cancel };
}

function asyncGai(): AsyncGai | null {
  if (gai !== undefined) return gai;
  gai = null;
  if (LAYOUT.gaicb.size === 0 || native.env("FFINET_DNS_BLOCKING") === "1") return gai;
  gai = pick(libc());
  if (gai !== null) return gai;
  try {
    gai = pick(libanl());
  } catch (err) {
    if (!(err instanceof FFIUnavailableError)) throw err;
  }
  return gai;
}

/**
 * Whether host name lookups honour their timeout: true where glibc's
 * getaddrinfo_a exists (libc ≥ 2.34, libanl.so.1 before) and
 * `FFINET_DNS_BLOCKING=1` is not set. False on macOS and musl, where
 * lookups fall back to the blocking getaddrinfo, which may take as long as
 * the system resolver's own retries (resolv.conf `timeout` × `attempts`).
 *
 * @example
 * ```ts
 * import { dnsTimeoutEnforced } from "./resolve_deadline.ts";
 * if (!dnsTimeoutEnforced()) console.warn("DNS timeouts are not enforced here");
 * ```
 */
export function dnsTimeoutEnforced(): boolean {
  return asyncGai() !== null;
}

/** How a lookup ended: glibc's result code, or the deadline. */
export type DeadlineLookupResult<T> =
  | {
    readonly status: "done";
    /** getaddrinfo's result: 0 or an EAI_* code. */
    readonly code: number;
    /** errno for EAI_SYSTEM when getaddrinfo_a itself failed; else 0. */
    readonly errno: number;
    /** What `read` made of the addrinfo list when `code` is 0. */
    readonly value: T | undefined;
  }
  | { readonly status: "timeout" };

// One block per request: gaicb, hints, request list, service, host.
const align8 = (n: number): number => (n + 7) & ~7;
const GAICB = LAYOUT.gaicb;
const HINTS_AT = align8(GAICB.size);
const LIST_AT = align8(HINTS_AT + LAYOUT.addrinfo.size);
const SERVICE_AT = LIST_AT + 8;
const SERVICE_SIZE = 8; // "65535" and a NUL
const HOST_AT = SERVICE_AT + SERVICE_SIZE;

/** Requests that timed out while glibc was running them. */
const pending: NativeBuffer[] = [];

/**
 * Hands a request back: frees it (and its results) when glibc no longer
 * knows it, else keeps it on the pending list. Returns whether it was freed.
 */
function release(g: AsyncGai, block: NativeBuffer): boolean {
  const state = g.gai_cancel(block.pointer);
  // EAI_CANCELED: dequeued before it ran. EAI_ALLDONE: finished and dequeued.
  // Anything else (EAI_NOTCANCELED: running): glibc may still write to it.
  if (state !== EAI_CANCELED && state !== EAI_ALLDONE) return false;
  const view = block.view;
  if (state === EAI_ALLDONE && view.getInt32(GAICB.ret, true) === 0) {
    const head = readPointer(view, GAICB.result);
    if (head !== null) libc().freeaddrinfo(head);
  }
  block.free();
  return true;
}

/**
 * Frees the timed-out requests that glibc has finished with; returns how
 * many are still running. Every lookup calls it first.
 *
 * @example
 * ```ts
 * import { reapPendingLookups } from "./resolve_deadline.ts";
 * console.log(reapPendingLookups()); // 0 unless a lookup timed out recently
 * ```
 */
export function reapPendingLookups(): number {
  const g = asyncGai();
  if (g === null || pending.length === 0) return 0;
  for (let i = pending.length - 1; i >= 0; i--) {
    const block = pending[i]!;
    if (g.gai_error(block.pointer) === EAI_INPROGRESS) continue;
    if (release(g, block)) pending.splice(i, 1);
  }
  return pending.length;
}

/**
 * Timed-out lookups that glibc is still running (their memory is kept
 * until they end).
 *
 * @example
 * ```ts
 * import { pendingLookupCount } from "./resolve_deadline.ts";
 * console.log(pendingLookupCount()); // 0
 * ```
 */
export function pendingLookupCount(): number {
  return pending.length;
}

function fillRequest(block: NativeBuffer, host: Uint8Array, service: Uint8Array, hints: Uint8Array): void {
  const bytes = block.bytes;
  const view = block.view;
  bytes.set(hints.subarray(0, LAYOUT.addrinfo.size), HINTS_AT);
  bytes.set(service, SERVICE_AT);
  bytes.set(host, HOST_AT);
  writePointer(view, GAICB.name, block.pointerAt(HOST_AT));
  writePointer(view, GAICB.service, block.pointerAt(SERVICE_AT));
  writePointer(view, GAICB.request, block.pointerAt(HINTS_AT));
  writePointer(view, LIST_AT, block.pointer);
}

/**
 * glibc's thread stores the result, then takes its mutex to dequeue the
 * request. Waiting until gai_cancel (which takes the same mutex) no longer
 * finds it orders our reads after every write of that thread, on any CPU.
 * It takes microseconds; after ~100 ms we read anyway (x86 and arm64 both
 * see the result by then) and the release step keeps the block pending.
 */
function awaitHandBack(g: AsyncGai, request: Pointer): void {
  for (let spins = 0; spins < 2000 && g.gai_cancel(request) === EAI_NOTCANCELED; spins++) {
    libc().usleep(50);
  }
}

const timespec = new Uint8Array(LAYOUT.timespec.size);
const timespecView = new DataView(timespec.buffer);

/**
 * Runs getaddrinfo(`host`, `service`, `hints`) on glibc's helper thread and
 * waits until it ends or the monotonic `deadline` (ms, as `monotonicMs()`;
 * Infinity: no deadline) passes. On success `read` is called with the head
 * of the addrinfo list, which is freed right after `read` returns.
 *
 * `host` and `service` are NUL-terminated C strings (at most 1024 and 8
 * bytes); `hints` is a `struct addrinfo`.
 *
 * @throws UnsupportedError where {@link dnsTimeoutEnforced} is false
 *
 * @example
 * ```ts
 * import { lookupBefore } from "./resolve_deadline.ts";
 * import { cString } from "../ffi/marshal.ts";
 * import { LAYOUT } from "../ffi/platform.ts";
 * import { monotonicMs } from "../core/clock.ts";
 * const hints = new Uint8Array(LAYOUT.addrinfo.size);
 * const r = lookupBefore(cString("localhost"), cString("80"), hints, monotonicMs() + 1000, (head) => head !== null);
 * console.log(r.status); // "done"
 * ```
 */
export function lookupBefore<T>(
  host: Uint8Array,
  service: Uint8Array,
  hints: Uint8Array,
  deadline: number,
  read: (head: Pointer | null) => T,
): DeadlineLookupResult<T> {
  const g = asyncGai();
  if (g === null) {
    throw new UnsupportedError("getaddrinfo_a", "this C library has no asynchronous lookup (glibc only)");
  }
  if (host.length > 1024 || service.length > SERVICE_SIZE) throw new RangeError("host or service too long");
  reapPendingLookups();
  const block = NativeBuffer.alloc(HOST_AT + host.length + 1);
  fillRequest(block, host, service, hints);
  const request = block.pointer;
  const list = block.pointerAt(LIST_AT);
  const started = g.getaddrinfo_a(GAI_NOWAIT, list, 1, null);
  if (started !== 0) {
    const errno = native.errno();
    if (!release(g, block)) pending.push(block);
    return { status: "done", code: started, errno, value: undefined };
  }
  let code = g.gai_error(request);
  while (code === EAI_INPROGRESS) {
    const left = deadline - monotonicMs();
    if (left <= 0) break;
    if (left !== Infinity) writeTimespec(timespecView, 0, left);
    const woke = g.gai_suspend(list, 1, left === Infinity ? null : timespec);
    code = g.gai_error(request);
    // 0: done; EAI_AGAIN: timed out; EAI_INTR: a signal. Anything else
    // (EAI_ALLDONE, EAI_SYSTEM) while still in progress would spin: pause.
    if (code === EAI_INPROGRESS && woke !== 0 && woke !== EAI_AGAIN && woke !== EAI_INTR) {
      libc().usleep(1000);
    }
  }
  if (code === EAI_INPROGRESS) {
    if (!release(g, block)) pending.push(block);
    return { status: "timeout" };
  }
  awaitHandBack(g, request);
  try {
    const value = code === 0 ? read(readPointer(block.view, GAICB.result)) : undefined;
    return { status: "done", code, errno: 0, value };
  } finally {
    if (!release(g, block)) pending.push(block);
  }
}
