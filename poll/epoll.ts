/**
 * The epoll backend (Linux): level-triggered by default, edge-triggered on
 * request (`EPOLLET`). The event data carries the fd.
 *
 * @example
 * ```ts
 * import { EpollBackend } from "./epoll.ts";
 * const epoll = new EpollBackend();
 * console.log(epoll.wait(0)); // 0
 * epoll.close();
 * ```
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import {
  type BackendOptions,
  checkFd,
  maxEventsOption,
  pollCheck,
  type PollBackend,
  timeoutArg,
} from "./backend.ts";
import { ParkingBackend } from "./parking_backend.ts";

const NEUTRAL_MASK = 0x1 | 0x4 | 0x8 | 0x10 | 0x2000;

/**
 * epoll behind the {@link PollBackend} interface.
 *
 * @example
 * ```ts
 * import { EpollBackend } from "./epoll.ts";
 * import { READABLE } from "./backend.ts";
 * const epoll = new EpollBackend({ maxEvents: 64 });
 * // epoll.add(fd, READABLE, true); // edge-triggered
 * epoll.close();
 * ```
 */
export class EpollBackend extends ParkingBackend implements PollBackend {
  readonly name = "epoll" as const;
  readonly supportsEdge = true;
  readonly seesChangesWhileParked = true;
  /** The last close of a file removes it from every epoll set. */
  readonly closeUnregisters = true;
  readonly readyFds: Int32Array;
  readonly readyEvents: Uint32Array;
  readonly #epfd: number;
  readonly #max: number;
  readonly #stride: number;
  readonly #eventsAt: number;
  readonly #dataAt: number;
  readonly #syncBytes: Uint8Array;
  readonly #sync: Int32Array;
  #parkBuffer: NativeBuffer | undefined;
  #park: Int32Array | undefined;
  readonly #ctl = new Uint8Array(16);
  readonly #ctlView = new DataView(this.#ctl.buffer);

  /** Opens an epoll instance (`epoll_create1`) with room for `options.maxEvents` events per wait; throws UnsupportedError when the C library has no epoll. */
  constructor(options: BackendOptions = {}) {
    super("epoll backend", "epoll_wait", libc.definition.symbols.epoll_wait);
    const c = libc();
    if (c.epoll_create1 === undefined || c.epoll_wait === undefined) {
      throw new UnsupportedError("epoll", "epoll_create1 is not in this C library");
    }
    const layout = LAYOUT.epoll_event;
    if (layout.size % 4 !== 0 || layout.data % 4 !== 0) {
      throw new UnsupportedError("epoll", `unexpected epoll_event layout (size ${layout.size})`);
    }
    this.#max = maxEventsOption(options);
    this.#stride = layout.size / 4;
    this.#eventsAt = layout.events / 4;
    this.#dataAt = layout.data / 4;
    this.#syncBytes = new Uint8Array(layout.size * this.#max);
    this.#sync = new Int32Array(this.#syncBytes.buffer);
    this.readyFds = new Int32Array(this.#max);
    this.readyEvents = new Uint32Array(this.#max);
    this.#epfd = pollCheck(c.epoll_create1(C.EPOLL_CLOEXEC), "epoll_create1");
  }

  /** The epoll file descriptor. */
  get fd(): number {
    return this.#epfd;
  }

  add(fd: number, events: number, edge = false): void {
    this.#control(C.EPOLL_CTL_ADD, fd, events, edge, "epoll_ctl(ADD)");
  }

  modify(fd: number, events: number, edge = false): void {
    this.#control(C.EPOLL_CTL_MOD, fd, events, edge, "epoll_ctl(MOD)");
  }

  remove(fd: number): void {
    this.checkOpen();
    checkFd(fd);
    pollCheck(libc().epoll_ctl!(this.#epfd, C.EPOLL_CTL_DEL, fd, this.#ctl), "epoll_ctl(DEL)");
  }

  wait(timeoutMs: number): number {
    this.checkOpen();
    const c = libc();
    const started = timeoutMs > 0 ? performance.now() : 0;
    let r = c.epoll_wait!(this.#epfd, this.#syncBytes, this.#max, timeoutArg(timeoutMs));
    // A blocking wait ended by EINTR: an io_uring ring of this thread
    // interrupts it to run completion work (COOP_TASKRUN: the work runs on
    // the way out and makes the ring's eventfd ready), as does a signal.
    // Wait again for what is left of the timeout rather than report
    // nothing (a linger that found nothing pauses lingering).
    for (let again = 0; r < 0 && timeoutMs !== 0 && again < 16 && native.errno() === E.EINTR; again++) {
      const left = timeoutMs < 0 ? -1 : Math.max(0, Math.ceil(started + timeoutMs - performance.now()));
      r = c.epoll_wait!(this.#epfd, this.#syncBytes, this.#max, left);
    }
    const n = this.syncCount(r);
    this.#collect(this.#sync, n);
    return n;
  }

  async park(timeoutMs: number): Promise<number> {
    this.checkCanPark();
    if (this.#parkBuffer === undefined) {
      this.#parkBuffer = NativeBuffer.alloc(LAYOUT.epoll_event.size * this.#max);
      this.#park = new Int32Array(this.#parkBuffer.bytes.buffer, this.#parkBuffer.bytes.byteOffset, this.#stride * this.#max);
    }
    const n = await this.parkedCount(this.#epfd, this.#parkBuffer.pointer, this.#max, timeoutArg(timeoutMs));
    if (n > 0) this.#collect(this.#park!, n);
    return n;
  }

  /** Closes the epoll descriptor and frees the native event buffers (called once the backend is closed and no wait is parked). */
  protected override releaseNative(): void {
    libc().close(this.#epfd);
    this.#parkBuffer?.free();
    this.#parkBuffer = undefined;
    this.#park = undefined;
  }

  #collect(events: Int32Array, n: number): void {
    const stride = this.#stride;
    const at = this.#eventsAt;
    const data = this.#dataAt;
    const fds = this.readyFds;
    const evs = this.readyEvents;
    for (let i = 0; i < n; i++) {
      const base = i * stride;
      evs[i] = events[base + at]! & NEUTRAL_MASK;
      fds[i] = events[base + data]!;
    }
  }

  #control(op: number, fd: number, events: number, edge: boolean, syscall: string): void {
    this.checkOpen();
    checkFd(fd);
    const layout = LAYOUT.epoll_event;
    let bits = (events & NEUTRAL_MASK) >>> 0;
    if (edge) bits = (bits | C.EPOLLET) >>> 0;
    this.#ctlView.setUint32(layout.events, bits, true);
    this.#ctlView.setUint32(layout.data, fd, true);
    this.#ctlView.setUint32(layout.data + 4, 0, true);
    pollCheck(libc().epoll_ctl!(this.#epfd, op, fd, this.#ctl), syscall);
  }
}
