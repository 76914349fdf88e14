/**
 * The C library: one neutral declaration per symbol, each with its C
 * prototype. Loaded lazily on first use; `FFINET_LIBC` overrides the path.
 *
 * Variadic functions (`fcntl`, `open`, `ioctl`, `syscall`) are declared with
 * fixed integer parameters. That is sound on x86-64 and on Linux arm64 for
 * integer arguments; on Apple arm64, variadic arguments travel on the stack,
 * so those declarations are marked untested there (see the README).
 *
 * @example
 * ```ts
 * import { libc } from "./libc.ts";
 * console.log(libc().getpid() > 0); // true
 * ```
 *
 * @module
 */
import { defineLibrary, type LazyLibrary } from "./library.ts";
import { LAYOUT } from "./platform.ts";

/** The bounds units of this platform's event structs (Linux x86-64 packs epoll_event in 12 bytes, arm64 pads it to 16; 1 where absent). */
const EPOLL_EVENT_BYTES: number = Math.max(1, LAYOUT.epoll_event.size);
const KEVENT_BYTES: number = Math.max(1, LAYOUT.kevent.size);

/**
 * The libc symbol table.
 *
 * @example
 * ```ts
 * import { LIBC_SYMBOLS } from "./libc.ts";
 * console.log(LIBC_SYMBOLS.getpid.result); // "i32"
 * ```
 */
export const LIBC_SYMBOLS = {
  // ---- memory and strings
  /** void *malloc(size_t size) */
  malloc: { args: ["usize"], result: "pointer" },
  /** void *calloc(size_t nmemb, size_t size) */
  calloc: { args: ["usize", "usize"], result: "pointer" },
  /** void free(void *ptr) */
  free: { args: ["pointer"], result: "void" },
  /** void *memcpy(void *dest, const void *src, size_t n) — pointer to buffer */
  memcpy: { args: ["buffer", "pointer", "usize"], result: "pointer", bounds: [[0, 2]] },
  /** void *memmove(void *dest, const void *src, size_t n) — with n = 0, the address of a buffer (socket/send_pair.ts) */
  memmove: { args: ["buffer", "buffer", "usize"], result: "usize", bounds: [[0, 2], [1, 2]] },
  /** size_t strnlen(const char *s, size_t maxlen) */
  strnlen: { args: ["pointer", "usize"], result: "usize" },
  /** char *strerror(int errnum) — not thread-safe; main thread only */
  strerror: { args: ["i32"], result: "pointer" },
  /** int abs(int j) */
  abs: { args: ["i32"], result: "i32" },
  /** void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *)) */
  qsort: { args: ["buffer", "usize", "usize", "function"], result: "void" },

  // ---- processes and identity
  /** pid_t getpid(void) */
  getpid: { args: [], result: "i32" },
  /** pid_t getppid(void) */
  getppid: { args: [], result: "i32" },
  /** uid_t getuid(void) */
  getuid: { args: [], result: "u32" },
  /** gid_t getgid(void) */
  getgid: { args: [], result: "u32" },
  /** int getrusage(int who, struct rusage *usage) */
  getrusage: { args: ["i32", "buffer"], result: "i32" },
  /** int clock_gettime(clockid_t clockid, struct timespec *tp) */
  clock_gettime: { args: ["i32", "buffer"], result: "i32" },
  /** int usleep(useconds_t usec) */
  usleep: { args: ["u32"], result: "i32" },
  /** int uname(struct utsname *buf) — the kernel's name and release (ffi/kernel.ts) */
  uname: { args: ["buffer"], result: "i32", optional: true },

  // ---- file descriptors
  /** int close(int fd) */
  close: { args: ["i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count) — counts < 2^31 per call */
  read: { args: ["i32", "buffer", "usize"], result: "i32", bounds: [[1, 2]] },
  /** ssize_t write(int fd, const void *buf, size_t count) */
  write: { args: ["i32", "buffer", "usize"], result: "i32", bounds: [[1, 2]] },
  /** ssize_t readv(int fd, const struct iovec *iov, int iovcnt) */
  readv: { args: ["i32", "buffer", "i32"], result: "i32", bounds: [[1, 2, 16]] },
  /** ssize_t writev(int fd, const struct iovec *iov, int iovcnt) */
  writev: { args: ["i32", "buffer", "i32"], result: "i32", bounds: [[1, 2, 16]] },
  /** int open(const char *pathname, int flags, mode_t mode) — variadic in C */
  open: { args: ["buffer", "i32", "u32"], result: "i32" },
  /** ssize_t pread(int fd, void *buf, size_t count, off_t offset) — counts < 2^31 per call */
  pread: { args: ["i32", "buffer", "usize", "i64"], result: "i32", bounds: [[1, 2]] },
  /** off_t lseek(int fd, off_t offset, int whence) */
  lseek: { args: ["i32", "i64", "i32"], result: "i64" },
  /** int fcntl(int fd, int cmd, int arg) — variadic in C */
  fcntl: { args: ["i32", "i32", "i32"], result: "i32" },
  /** int ioctl(int fd, unsigned long request, void *argp) — variadic in C */
  ioctl: { args: ["i32", "u64", "buffer"], result: "i32" },
  /** int pipe(int pipefd[2]) */
  pipe: { args: ["buffer"], result: "i32" },
  /** int pipe2(int pipefd[2], int flags) — Linux, FreeBSD */
  pipe2: { args: ["buffer", "i32"], result: "i32", optional: true },
  /** int dup(int oldfd) */
  dup: { args: ["i32"], result: "i32" },
  /** int dup2(int oldfd, int newfd) */
  dup2: { args: ["i32", "i32"], result: "i32" },
  /** int dup3(int oldfd, int newfd, int flags) — Linux */
  dup3: { args: ["i32", "i32", "i32"], result: "i32", optional: true },
  /** int unlink(const char *pathname) */
  unlink: { args: ["buffer"], result: "i32" },
  /** int fstat(int fd, struct stat *statbuf) */
  fstat: { args: ["i32", "buffer"], result: "i32", optional: true },
  /** int lstat(const char *pathname, struct stat *statbuf) — exported by glibc ≥ 2.33 and macOS */
  lstat: { args: ["buffer", "buffer"], result: "i32", optional: true },
  /** char *realpath(const char *path, char *resolved_path) — resolved_path of PATH_MAX (4096) bytes */
  realpath: { args: ["buffer", "buffer"], result: "pointer" },

  // ---- sockets
  /** int socket(int domain, int type, int protocol) */
  socket: { args: ["i32", "i32", "i32"], result: "i32" },
  /** int socketpair(int domain, int type, int protocol, int sv[2]) */
  socketpair: { args: ["i32", "i32", "i32", "buffer"], result: "i32" },
  /** int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen) */
  bind: { args: ["i32", "buffer", "u32"], result: "i32", bounds: [[1, 2]] },
  /** int listen(int sockfd, int backlog) */
  listen: { args: ["i32", "i32"], result: "i32" },
  /** int accept(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
  accept: { args: ["i32", "buffer", "buffer"], result: "i32" },
  /** int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags) — Linux, FreeBSD */
  accept4: { args: ["i32", "buffer", "buffer", "i32"], result: "i32", optional: true },
  /** int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen) */
  connect: { args: ["i32", "buffer", "u32"], result: "i32", bounds: [[1, 2]] },
  /** int shutdown(int sockfd, int how) */
  shutdown: { args: ["i32", "i32"], result: "i32" },
  /** ssize_t send(int sockfd, const void *buf, size_t len, int flags) */
  send: { args: ["i32", "buffer", "usize", "i32"], result: "i32", bounds: [[1, 2]] },
  /** ssize_t recv(int sockfd, void *buf, size_t len, int flags) */
  recv: { args: ["i32", "buffer", "usize", "i32"], result: "i32", bounds: [[1, 2]] },
  /** ssize_t sendto(int sockfd, const void *buf, size_t len, int flags, const struct sockaddr *dest_addr, socklen_t addrlen) */
  sendto: { args: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32", bounds: [[1, 2], [4, 5]] },
  /** ssize_t recvfrom(int sockfd, void *buf, size_t len, int flags, struct sockaddr *src_addr, socklen_t *addrlen) */
  recvfrom: { args: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "i32", bounds: [[1, 2]] },
  /** ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags) */
  sendmsg: { args: ["i32", "buffer", "i32"], result: "i32" },
  /** ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags) */
  recvmsg: { args: ["i32", "buffer", "i32"], result: "i32" },
  /** int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags) — Linux */
  sendmmsg: { args: ["i32", "buffer", "u32", "i32"], result: "i32", optional: true, bounds: [[1, 2, 64]] },
  /** int recvmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout) — Linux */
  recvmmsg: { args: ["i32", "buffer", "u32", "i32", "buffer"], result: "i32", optional: true, bounds: [[1, 2, 64]] },
  /** int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen) */
  getsockopt: { args: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  /** int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen) */
  setsockopt: { args: ["i32", "i32", "i32", "buffer", "u32"], result: "i32", bounds: [[3, 4]] },
  /** int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
  getsockname: { args: ["i32", "buffer", "buffer"], result: "i32" },
  /** int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
  getpeername: { args: ["i32", "buffer", "buffer"], result: "i32" },
  /** ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count) — Linux */
  sendfile: { args: ["i32", "i32", "buffer", "usize"], result: "i32", optional: true },
  /** ssize_t splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len, unsigned int flags) — Linux */
  splice: { args: ["i32", "buffer", "i32", "buffer", "usize", "u32"], result: "i32", optional: true },
  /** unsigned int if_nametoindex(const char *ifname) */
  if_nametoindex: { args: ["buffer"], result: "u32" },
  /** char *if_indextoname(unsigned int ifindex, char *ifname) */
  if_indextoname: { args: ["u32", "buffer"], result: "pointer" },

  // ---- name resolution
  /** int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) */
  getaddrinfo: { args: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  /** void freeaddrinfo(struct addrinfo *res) */
  freeaddrinfo: { args: ["pointer"], result: "void" },
  /** const char *gai_strerror(int errcode) */
  gai_strerror: { args: ["i32"], result: "pointer" },
  /** int getaddrinfo_a(int mode, struct gaicb *list[], int nitems, struct sigevent *sevp) — glibc ≥ 2.34 (libanl before) */
  getaddrinfo_a: { args: ["i32", "pointer", "i32", "pointer"], result: "i32", optional: true },
  /** int gai_suspend(const struct gaicb *const list[], int nitems, const struct timespec *timeout) — glibc ≥ 2.34 */
  gai_suspend: { args: ["pointer", "i32", "buffer"], result: "i32", optional: true },
  /** int gai_error(struct gaicb *req) — glibc ≥ 2.34 */
  gai_error: { args: ["pointer"], result: "i32", optional: true },
  /** int gai_cancel(struct gaicb *req) — glibc ≥ 2.34 */
  gai_cancel: { args: ["pointer"], result: "i32", optional: true },

  // ---- polling and events
  /** int poll(struct pollfd *fds, nfds_t nfds, int timeout) */
  poll: { args: ["buffer", "u64", "i32"], result: "i32", bounds: [[0, 1, 8]] },
  /** int epoll_create1(int flags) — Linux */
  epoll_create1: { args: ["i32"], result: "i32", optional: true },
  /** int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) — Linux */
  epoll_ctl: { args: ["i32", "i32", "i32", "buffer"], result: "i32", optional: true },
  /** int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) — Linux */
  epoll_wait: { args: ["i32", "buffer", "i32", "i32"], result: "i32", optional: true, bounds: [[1, 2, EPOLL_EVENT_BYTES]] },
  /** int eventfd(unsigned int initval, int flags) — Linux */
  eventfd: { args: ["u32", "i32"], result: "i32", optional: true },
  /** int kqueue(void) — BSD, macOS */
  kqueue: { args: [], result: "i32", optional: true },
  /** int kevent(int kq, const struct kevent *changelist, int nchanges, struct kevent *eventlist, int nevents, const struct timespec *timeout) — BSD, macOS */
  kevent: { args: ["i32", "buffer", "i32", "buffer", "i32", "buffer"], result: "i32", optional: true, bounds: [[1, 2, KEVENT_BYTES], [3, 4, KEVENT_BYTES]] },
  /** int signalfd(int fd, const sigset_t *mask, int flags) — Linux */
  signalfd: { args: ["i32", "buffer", "i32"], result: "i32", optional: true },
  /** int sigprocmask(int how, const sigset_t *set, sigset_t *oldset) */
  sigprocmask: { args: ["i32", "buffer", "buffer"], result: "i32" },

  // ---- memory mapping and raw system calls (io_uring)
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) */
  mmap: { args: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  /** int munmap(void *addr, size_t length) */
  munmap: { args: ["pointer", "usize"], result: "i32" },
  /** long syscall(long number, ...) — variadic in C; six integer arguments */
  syscall: { args: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
} as const;

/**
 * The C library, loaded on first call.
 *
 * @example
 * ```ts
 * import { libc } from "./libc.ts";
 * const fd = libc().socket(2, 1, 0); // AF_INET, SOCK_STREAM
 * libc().close(fd);
 * ```
 */
export const libc: LazyLibrary<typeof LIBC_SYMBOLS> = defineLibrary({
  name: "libc",
  env: "FFINET_LIBC",
  candidates: {
    linux: ["libc.so.6", "libc.so"],
    darwin: ["libSystem.B.dylib", "/usr/lib/libSystem.B.dylib"],
    freebsd: ["libc.so.7"],
    "*": ["libc.so"],
  },
  hint: "the C library could not be loaded",
  symbols: LIBC_SYMBOLS,
});

/**
 * The asynchronous name lookup of glibc: in libc itself since glibc 2.34,
 * in libanl.so.1 before. Symbols are optional so a stub library still loads.
 */
export const LIBANL_SYMBOLS = {
  /** int getaddrinfo_a(int mode, struct gaicb *list[], int nitems, struct sigevent *sevp) */
  getaddrinfo_a: LIBC_SYMBOLS.getaddrinfo_a,
  /** int gai_suspend(const struct gaicb *const list[], int nitems, const struct timespec *timeout) */
  gai_suspend: LIBC_SYMBOLS.gai_suspend,
  /** int gai_error(struct gaicb *req) */
  gai_error: LIBC_SYMBOLS.gai_error,
  /** int gai_cancel(struct gaicb *req) */
  gai_cancel: LIBC_SYMBOLS.gai_cancel,
} as const;

/**
 * glibc's libanl, for glibc before 2.34 whose libc lacks getaddrinfo_a.
 * Absent on macOS and musl (loading throws FFIUnavailableError).
 *
 * @example
 * ```ts
 * import { libanl, libc } from "./libc.ts";
 * const gai = libc().getaddrinfo_a ? libc() : libanl();
 * console.log(typeof gai.gai_error); // "function" on glibc
 * ```
 */
export const libanl = defineLibrary({
  name: "libanl",
  env: "FFINET_LIBANL",
  candidates: { linux: ["libanl.so.1", "libanl.so"], "*": [] },
  hint: "getaddrinfo_a is not available (glibc only)",
  symbols: LIBANL_SYMBOLS,
});
