/**
 * The readiness {@link Transport}: the loop's epoll/poll/kqueue watch of the
 * descriptor, and non-blocking `recv`/`send` system calls. Input is pulled:
 * on READABLE it receives (up to four times in a row while the target
 * fills) into the buffer the connection chooses; output goes out at once
 * when the queue is empty, else on WRITABLE.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * import { defaultLoop } from "./loop.ts";
 * import { readinessTransport } from "./transport_readiness.ts";
 * import { Socket } from "../socket/socket.ts";
 * const loop = defaultLoop();
 * const [a, b] = Socket.pair("stream", { nonBlocking: true });
 * const conn = new Connection(loop, a, undefined, {}, readinessTransport(loop, a));
 * await conn.close();
 * b.close();
 * ```
 *
 * @module
 */
import { sysError } from "../core/sys_error.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C, E } from "../ffi/platform.ts";
import type { Socket } from "../socket/socket.ts";
import { sendPairUntilBlocked, sendPartsUntilBlocked, sendUntilBlocked } from "../socket/send_until_blocked.ts";
import { ERROR, errorWaitsForInput, HANGUP, READABLE, WRITABLE } from "./backend.ts";
import type { IoWatcher } from "./io_watcher.ts";
import type { Loop } from "./loop.ts";
import { sentOrFailed, type Transport, type TransportFactory, type TransportSink } from "./transport.ts";
import { flushQueue, type WriteQueue } from "./write_queue.ts";
import { SocketError, UnsupportedError } from "../core/errors.ts";

/** Most bytes one sendfile(2) call is asked for (its count is returned in 32 bits here). */
const SENDFILE_MAX = 1 << 30;
/** The `off_t` sendfile(2) reads and advances. */
const fileOffsetBytes = new Uint8Array(8);
const fileOffset = new DataView(fileOffsetBytes.buffer);

/**
 * A factory of readiness transports over `socket` (non-blocking) on `loop`.
 *
 * @example
 * ```ts
 * import { readinessTransport } from "./transport_readiness.ts";
 * import { defaultLoop } from "./loop.ts";
 * import { Socket } from "../socket/socket.ts";
 * const [a, b] = Socket.pair("stream", { nonBlocking: true });
 * const factory = readinessTransport(defaultLoop(), a); // for new Connection(…, factory)
 * console.log(typeof factory); // "function"
 * a.close(); b.close();
 * ```
 */
export function readinessTransport(loop: Loop, socket: Socket): TransportFactory {
  return (sink, queue) => new ReadinessTransport(loop, socket, sink, queue);
}

/**
 * Readiness I/O for one connection (see the module text).
 *
 * @example
 * ```ts
 * import { ReadinessTransport } from "./transport_readiness.ts";
 * import { defaultLoop } from "./loop.ts";
 * import { WriteQueue } from "./write_queue.ts";
 * import { Socket } from "../socket/socket.ts";
 * const [a, b] = Socket.pair("stream", { nonBlocking: true });
 * const scratch = new Uint8Array(64);
 * const t = new ReadinessTransport(defaultLoop(), a, {
 *   recvTarget: () => scratch,
 *   receivedInto: (_t, n) => (console.log(n), false),
 *   recvLimit: () => 64,
 *   received: () => {},
 *   receivedEnd: () => {},
 *   sent: () => {},
 *   failed: (error) => console.error(error),
 *   hungUp: () => false,
 *   loopClosed: () => {},
 *   refresh: () => {},
 *   reportError: (error) => console.error(error),
 * }, new WriteQueue());
 * console.log(t.trySend(new Uint8Array([1, 2, 3]))); // 3
 * t.close(false); // closes `a`
 * b.close();
 * ```
 */
export class ReadinessTransport implements Transport {
  readonly #socket: Socket;
  readonly #fd: number;
  readonly #sink: TransportSink;
  readonly #queue: WriteQueue;
  readonly #watcher: IoWatcher;
  #interest = READABLE;
  #reading = true;
  /** Hung up while not reading: unregistered until reading resumes (bytes may still wait in the kernel). */
  #stopped = false;
  #closed = false;

  /** Watches `socket` for readability on `loop`, feeding what it reads to `sink` and writing from `queue` as the socket becomes writable. */
  constructor(loop: Loop, socket: Socket, sink: TransportSink, queue: WriteQueue) {
    this.#socket = socket;
    this.#fd = socket.fd;
    this.#sink = sink;
    this.#queue = queue;
    this.#watcher = loop.watch(this.#fd, READABLE, this.#onEvents);
    this.#watcher.onLoopClose = () => sink.loopClosed();
  }

  /** Whether `close()` ran (what {@link flushQueue} checks after a settle callback). */
  get closed(): boolean {
    return this.#closed;
  }

  trySend(data: Uint8Array, more = false): number {
    return sentOrFailed(this.#sink, sendUntilBlocked(this.#fd, data, data.length, more ? C.MSG_NOSIGNAL | C.MSG_MORE : C.MSG_NOSIGNAL));
  }

  trySendPair(head: Uint8Array, body: Uint8Array, more = false): number {
    return sentOrFailed(this.#sink, sendPairUntilBlocked(this.#fd, head, body, more ? C.MSG_NOSIGNAL | C.MSG_MORE : C.MSG_NOSIGNAL));
  }

  trySendParts(parts: readonly Uint8Array[], more = false): number {
    return sentOrFailed(this.#sink, sendPartsUntilBlocked(this.#fd, parts, more ? C.MSG_NOSIGNAL | C.MSG_MORE : C.MSG_NOSIGNAL));
  }

  queue(data: Uint8Array, offset: number, done: ((error?: Error) => void) | undefined): void {
    this.#queue.push(data.slice(offset), done);
    this.#refresh();
  }

  /** Sends what the kernel takes now of a file segment with sendfile(2); -1 after reporting a failure. */
  trySendFile(fd: number, position: number, length: number): number {
    const c = libc();
    if (c.sendfile === undefined) {
      this.#sink.failed(new UnsupportedError("sendfile", "libc has no sendfile(2) here"));
      return -1;
    }
    let sent = 0;
    while (sent < length) {
      fileOffset.setBigInt64(0, BigInt(position + sent), true);
      const n = c.sendfile(this.#fd, fd, fileOffsetBytes, Math.min(length - sent, SENDFILE_MAX));
      if (n > 0) {
        sent += n;
        continue;
      }
      if (n === 0) {
        this.#sink.failed(new SocketError("EIO", "sendfile: the file ended before the bytes queued from it"));
        return -1;
      }
      const errno = native.errno();
      if (errno === E.EAGAIN) break;
      if (errno === E.EINTR) continue;
      this.#sink.failed(sysError(errno, "sendfile"));
      return -1;
    }
    return sent;
  }

  queueFile(fd: number, position: number, length: number, done: ((error?: Error) => void) | undefined): void {
    this.#queue.pushFile(fd, position, length, done);
    this.#refresh();
  }

  flush(): void {
    const sent = flushQueue(this.#queue, this);
    if (sent < 0 || this.#closed) return;
    this.#refresh();
    this.#sink.sent(sent);
  }

  update(reading: boolean): void {
    if (this.#closed) return;
    this.#reading = reading;
    this.#refresh();
  }

  shutdown(): void {
    this.#socket.shutdown("write");
  }

  ref(): void {
    this.#watcher.ref();
  }

  unref(): void {
    this.#watcher.unref();
  }

  close(keepFd: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    if (!keepFd) this.#socket.close();
  }

  #refresh(): void {
    let events = this.#reading ? READABLE : 0;
    if (!this.#queue.empty) events |= WRITABLE;
    if (this.#stopped) {
      this.#interest = events;
      if (events & READABLE) {
        this.#stopped = false;
        this.#watcher.start(events);
      }
      return;
    }
    if (events !== this.#interest) {
      this.#interest = events;
      this.#watcher.update(events);
    }
  }

  #onEvents = (events: number): void => {
    if (events & ERROR && !errorWaitsForInput(events, (this.#interest & READABLE) !== 0)) {
      let error: Error | null;
      try {
        error = this.#socket.getError();
      } catch (err) {
        error = err as Error;
      }
      if (error !== null) {
        this.#sink.failed(error);
        return;
      }
    }
    if (events & (READABLE | HANGUP)) {
      if (this.#interest & READABLE) this.#onReadable();
      // Hung up while not reading: after our end of stream it is a clean
      // close. Otherwise (paused, or the read buffer full) bytes may still
      // wait in the kernel: stop watching (a hang-up is reported whatever
      // the interest) and read them once reading resumes.
      else if (events & HANGUP) {
        if (this.#sink.hungUp()) return;
        // Queued output would wait for WRITABLE while unregistered: send
        // it now (after a hang-up that fails, and settles it).
        if (!this.#queue.empty) {
          this.flush();
          if (this.#closed) return;
        }
        this.#stopped = true;
        this.#watcher.stop();
        return;
      }
    }
    if (!this.#closed && events & WRITABLE) this.flush();
  };

  #onReadable(): void {
    const fd = this.#fd;
    const sink = this.#sink;
    const c = libc();
    for (let round = 0; round < 4; round++) {
      // Each round asks anew: `data` may have replaced the handler.
      const target = sink.recvTarget();
      if (target.length === 0) return;
      const n = c.recv(fd, target, target.length, 0);
      if (n > 0) {
        if (!sink.receivedInto(target, n) || n < target.length) return;
        continue;
      }
      if (n === 0) {
        sink.receivedEnd();
        return;
      }
      const errno = native.errno();
      if (errno === E.EAGAIN) return;
      if (errno === E.EINTR) continue;
      sink.failed(sysError(errno, "recv"));
      return;
    }
  }
}
