// Child process for uring_unavailable_test.ts: installs a seccomp filter on
// this (the JS) thread that refuses io_uring_setup with EPERM, as a container
// runtime's default profile does, then uses FFINET_IO=uring or the default
// (FFINET_IO empty; io_uring on Linux 6.1+), as the parent sets it, as an
// application would: a listener, a connection, an echo.
// Prints one JSON line: which I/O the listener took, why io_uring was
// refused, and the error Ring.open throws. Linux x86-64 and arm64 only.
// With the argument "large", only rings of more than 2 entries are refused,
// with ENOMEM (as RLIMIT_MEMLOCK refuses a loop's ring before Linux 5.12
// while the probe's small one fits): the probe passes, the loop's ring
// does not; the connection asks for io "uring" explicitly.
import { libc } from "../ffi/libc.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { Ring, addressOf } from "../poll/uring/ring.ts";
import { asyncBackends, chooseAsyncIo, uringUnavailableReason } from "../poll/uring/probe.ts";
import { echoThroughLoop } from "./io_fixture_helpers.ts";

const proc = (globalThis as unknown as { process: { arch: string; argv: string[]; exit(code: number): never } }).process;
const large = proc.argv.at(-1) === "large";
const x64 = proc.arch === "x64";
const SYS_prctl = x64 ? 157 : 167;
const AUDIT_ARCH = x64 ? 0xc000003e : 0xc00000b7;
const SYS_io_uring_setup = 425; // the same on every architecture (unified numbers)
const PR_SET_NO_NEW_PRIVS = 38;
const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;

// classic BPF: if arch matches and nr == io_uring_setup, return ERRNO(EPERM), else allow.
// "large": if arch matches, nr == io_uring_setup and entries (args[0], low
// word at offset 16) > 2, return ERRNO(ENOMEM), else allow.
const program: [number, number, number, number][] = large
  ? [
    [0x20, 0, 0, 4], // ld [arch]
    [0x15, 0, 5, AUDIT_ARCH], // jeq arch ? next : allow
    [0x20, 0, 0, 0], // ld [nr]
    [0x15, 0, 3, SYS_io_uring_setup], // jeq nr ? next : allow
    [0x20, 0, 0, 16], // ld [args[0] low word]
    [0x25, 0, 1, 2], // jgt 2 ? next : allow
    [0x06, 0, 0, 0x00050000 | 12], // ret SECCOMP_RET_ERRNO | ENOMEM
    [0x06, 0, 0, 0x7fff0000], // ret SECCOMP_RET_ALLOW
  ]
  : [
    [0x20, 0, 0, 4], // ld [arch]
    [0x15, 0, 3, AUDIT_ARCH], // jeq arch ? next : allow
    [0x20, 0, 0, 0], // ld [nr]
    [0x15, 0, 1, SYS_io_uring_setup], // jeq nr ? next : allow
    [0x06, 0, 0, 0x00050000 | 1], // ret SECCOMP_RET_ERRNO | EPERM
    [0x06, 0, 0, 0x7fff0000], // ret SECCOMP_RET_ALLOW
  ];
const filter = NativeBuffer.alloc(program.length * 8);
program.forEach(([code, jt, jf, k], i) => {
  filter.view.setUint16(i * 8, code, true);
  filter.view.setUint8(i * 8 + 2, jt);
  filter.view.setUint8(i * 8 + 3, jf);
  filter.view.setUint32(i * 8 + 4, k, true);
});
const fprog = NativeBuffer.alloc(16);
fprog.view.setUint16(0, program.length, true);
fprog.view.setBigUint64(8, BigInt(addressOf(filter.pointer)), true);
const c = libc();
if (c.syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) !== 0) {
  console.log("prctl(PR_SET_NO_NEW_PRIVS) failed");
  proc.exit(2);
}
if (c.syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, addressOf(fprog.pointer), 0, 0, 0) !== 0) {
  console.log("prctl(PR_SET_SECCOMP) failed");
  proc.exit(2);
}

let ringError: { name: string; code: unknown } | undefined;
// "large": the probe's size passes; the loop's ring (256 entries) is refused.
const availableAtFirst = large ? asyncBackends().io_uring : undefined;
try {
  Ring.open({ entries: large ? 256 : 2 }).close();
} catch (err) {
  ringError = { name: (err as Error).name, code: (err as { code?: unknown }).code };
}

const { io, echoed } = await echoThroughLoop(large ? "uring" : undefined);
console.log(JSON.stringify({
  ...(large ? { availableAtFirst } : {}),
  io,
  chosen: chooseAsyncIo(),
  available: asyncBackends().io_uring,
  reason: uringUnavailableReason(),
  ringError,
  echoed,
}));
