/**
 * Creating socket descriptors the same way everywhere: close-on-exec always,
 * non-blocking on request, SIGPIPE suppressed (SO_NOSIGPIPE where the
 * platform has it; elsewhere every send passes MSG_NOSIGNAL).
 *
 * @example
 * ```ts
 * import { openSocket } from "./descriptor.ts";
 * import { libc } from "../ffi/libc.ts";
 * import { C } from "../ffi/platform.ts";
 * const fd = openSocket(C.AF_INET, C.SOCK_STREAM, false);
 * libc().close(fd);
 * ```
 *
 * @module
 */
import { check, sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import { setIntOption, setNonBlocking } from "./options.ts";

/** Flags every send passes: MSG_NOSIGNAL where it exists (0 elsewhere). */
export const SEND_FLAGS: number = C.MSG_NOSIGNAL;

/** Whether the platform can set flags atomically at socket()/accept4(). */
const ATOMIC_FLAGS = C.SOCK_CLOEXEC !== 0;

/**
 * Applies close-on-exec, the blocking mode and SO_NOSIGPIPE to a descriptor
 * that was created without them. On failure the descriptor is closed.
 *
 * @example
 * ```ts
 * import { prepareDescriptor } from "./descriptor.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const fd = a.release();
 * prepareDescriptor(fd, true); // close-on-exec, non-blocking, no SIGPIPE
 * using s = Socket.fromFd(fd, "unix");
 * console.log(s.nonBlocking); // true
 * b.close();
 * ```
 */
export function prepareDescriptor(fd: number, nonBlocking: boolean, setFlags = true): void {
  try {
    if (setFlags) {
      const fdFlags = check(libc().fcntl(fd, C.F_GETFD, 0), "fcntl(F_GETFD)");
      if ((fdFlags & C.FD_CLOEXEC) === 0) check(libc().fcntl(fd, C.F_SETFD, fdFlags | C.FD_CLOEXEC), "fcntl(F_SETFD)");
      setNonBlocking(fd, nonBlocking);
    }
    if (C.SO_NOSIGPIPE !== 0) setIntOption(fd, C.SOL_SOCKET, C.SO_NOSIGPIPE, 1, "SO_NOSIGPIPE");
  } catch (err) {
    libc().close(fd);
    throw err;
  }
}

/**
 * socket(2) with close-on-exec (and O_NONBLOCK on request), SIGPIPE off.
 *
 * @throws SocketError when the kernel refuses
 *
 * @example
 * ```ts
 * import { openSocket } from "./descriptor.ts";
 * import { C } from "../ffi/platform.ts";
 * const fd = openSocket(C.AF_UNIX, C.SOCK_STREAM, true);
 * ```
 */
export function openSocket(domain: number, type: number, nonBlocking: boolean): number {
  const flags = ATOMIC_FLAGS ? C.SOCK_CLOEXEC | (nonBlocking ? C.SOCK_NONBLOCK : 0) : 0;
  const fd = check(libc().socket(domain, type | flags, 0), "socket");
  prepareDescriptor(fd, nonBlocking, !ATOMIC_FLAGS);
  return fd;
}

/**
 * socketpair(2) with the same flags as {@link openSocket}.
 *
 * @example
 * ```ts
 * import { openSocketPair } from "./descriptor.ts";
 * import { C } from "../ffi/platform.ts";
 * const [a, b] = openSocketPair(C.SOCK_STREAM, false);
 * ```
 */
export function openSocketPair(type: number, nonBlocking: boolean): [number, number] {
  const pair = new Int32Array(2);
  const flags = ATOMIC_FLAGS ? C.SOCK_CLOEXEC | (nonBlocking ? C.SOCK_NONBLOCK : 0) : 0;
  check(libc().socketpair(C.AF_UNIX, type | flags, 0, new Uint8Array(pair.buffer)), "socketpair");
  const a = pair[0]!;
  const b = pair[1]!;
  try {
    prepareDescriptor(a, nonBlocking, !ATOMIC_FLAGS);
  } catch (err) {
    libc().close(b);
    throw err;
  }
  prepareDescriptor(b, nonBlocking, !ATOMIC_FLAGS);
  return [a, b];
}

/**
 * accept4(2) (accept(2) + fcntl where accept4 is missing). Returns the new
 * descriptor, or -1 when no connection is waiting (EAGAIN). EINTR and
 * ECONNABORTED (a connection reset before it was accepted) are retried.
 *
 * @throws SocketError for other failures (EMFILE, …)
 *
 * @example
 * ```ts
 * import { acceptDescriptor } from "./descriptor.ts";
 * import { Socket } from "./socket.ts";
 * using listener = Socket.create("ipv4", "stream", { nonBlocking: true });
 * listener.bind("127.0.0.1", 0);
 * listener.listen();
 * console.log(acceptDescriptor(listener.fd, true)); // -1: nobody is connecting
 * ```
 */
export function acceptDescriptor(listener: number, nonBlocking: boolean): number {
  const c = libc();
  const accept4 = c.accept4;
  const flags = C.SOCK_CLOEXEC | (nonBlocking ? C.SOCK_NONBLOCK : 0);
  for (;;) {
    const fd = accept4 !== undefined && ATOMIC_FLAGS ? accept4(listener, null, null, flags) : c.accept(listener, null, null);
    if (fd >= 0) {
      prepareDescriptor(fd, nonBlocking, accept4 === undefined || !ATOMIC_FLAGS);
      return fd;
    }
    const errno = native.errno();
    if (errno === E.EAGAIN) return -1;
    if (errno === E.EINTR || errno === E.ECONNABORTED) continue;
    throw sysError(errno, "accept");
  }
}
