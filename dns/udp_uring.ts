/**
 * DNS exchanges over UDP as io_uring operations: each query is three SQEs
 * in a row — SOCKET into a direct descriptor slot, SENDMSG to the server
 * (which binds the new socket to a random ephemeral port: a fresh port per
 * query, the Kaminsky defence), RECVMSG of the answer — written into the
 * submission queue with plain memory stores and submitted with every other
 * query started in the same job (submitted from a microtask, before the
 * loop's next wait) in one io_uring_enter, which issues them inline and in
 * order (not linked: a link's next step would run as task work on the way
 * out of the system call, measurably dearer); the answer's CQE is read
 * from shared memory, and a CLOSE of the slot goes out with the next batch.
 * Only the receive posts a completion: the socket, the send and the close
 * report failures only (IOSQE_CQE_SKIP_SUCCESS), and the receive then
 * reports too (EBADF after a failed socket; cancelled after a failed send),
 * which frees the slot. After sending, the loop is told to expect the
 * answer while the server answers fast ({@link AnswerLatency}), so it
 * waits with short blocking waits instead of parking. The readiness path
 * ({@link udpExchange}) costs five system calls per query (socket,
 * epoll_ctl, sendto, recvfrom, close), each an FFI crossing; here a turn's
 * queries share one or two.
 *
 * Needs Linux 5.19+ (IORING_OP_SOCKET with direct descriptors) and an
 * io_uring the process may create: {@link udpQueryRing} returns undefined
 * otherwise (seccomp, `kernel.io_uring_disabled`, old kernels, macOS), and
 * callers use the readiness path, as they do with `FFINET_DNS_IO=readiness`
 * ({@link dnsUdpIo}) or the resolver's `udpIo: "readiness"`.
 *
 * @example
 * ```ts
 * import { defaultLoop } from "../poll/loop.ts";
 * import { udpQueryRing } from "./udp_uring.ts";
 * const ring = udpQueryRing(defaultLoop());
 * console.log(ring === undefined || ring.slotsFree > 0); // true
 * ```
 *
 * @module
 */
import { UnsupportedError, UseAfterCloseError } from "../core/errors.ts";
import { sysError } from "../core/sys_error.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { C, E, LAYOUT } from "../ffi/platform.ts";
import type { Loop } from "../poll/loop.ts";
import { UringLoop, type UringOwner } from "../poll/uring/loop_glue.ts";
import type { Uring } from "../poll/uring/ops.ts";
import { asyncBackends } from "../poll/uring/probe.ts";
import { addressOf } from "../poll/uring/ring.ts";
import { IORING_OP, IOSQE, URING } from "../poll/uring/uapi.ts";
import { writeIovec, writeMsghdr } from "../socket/msg_memory.ts";
import { type EncodedPeer, SourceAddress } from "../socket/udp_query.ts";
import { AnswerLatency } from "./answer_latency.ts";
import type { Deadline, DeadlineQueue, Expirable } from "./deadline_queue.ts";
import { type DatagramAcceptor, exchangeDeadlines, type ExchangeTimeout, IGNORE } from "./udp_exchange.ts";

/** Queries in flight at once on one ring (direct descriptor slots); more take the readiness path. */
const SLOTS = 256;
/** Largest query sent through the ring (DNS queries are far smaller). */
const QUERY_MAX = 512;
/** Largest answer buffer (the EDNS UDP payload the resolver advertises). */
const RECV_MAX = 1232;

// One slot's native memory: two msghdrs, their iovecs, the server's address,
// the answer's sender, the query and the answer.
const SEND_HDR = 0;
const RECV_HDR = 64;
const SEND_IOV = 128;
const RECV_IOV = 144;
const PEER = 160;
const SOURCE = 288;
const QUERY = 416;
const ANSWER = QUERY + QUERY_MAX;
const SLOT_BYTES = (ANSWER + RECV_MAX + 63) & ~63;
const SOCKADDR_MAX = 128;

/** What each SQE of a slot is (the low 3 bits of its tag). */
const K_SOCKET = 1;
const K_SEND = 2;
const K_RECV = 3;
const K_CLOSE = 4;
const K_CANCEL = 5;
/** tag = (generation << 10 | slot) << 3 | kind: a late CQE of a slot's previous query is told apart. */
const SLOT_BITS = 10;
const GEN_MASK = (1 << (32 - 3 - SLOT_BITS)) - 1;

/** IORING_RECVSEND_POLL_FIRST (5.19): wait for readability before the first try (the answer is never there yet). */
const POLL_FIRST = 1;

const ECANCELED = E.ECANCELED ?? 125;
const ENOENT = E.ENOENT ?? 2;
const EALREADY = E.EALREADY ?? 114;

/** The sender of the answer being judged (copied from the slot, compared at once). */
const FROM = new SourceAddress();

/**
 * The io_uring DNS transport of one loop: a small ring of its own (driven by
 * the loop through the ring's eventfd, like any io_uring work on a readiness
 * loop), {@link SLOTS} direct descriptor slots and one native arena for the
 * slots' messages. Closed with the loop.
 *
 * @example
 * ```ts
 * import { Loop } from "../poll/loop.ts";
 * import { udpQueryRing } from "./udp_uring.ts";
 * const loop = new Loop();
 * console.log(udpQueryRing(loop)?.inFlight ?? 0); // 0
 * loop.close();
 * ```
 */
export class UdpQueryRing implements UringOwner {
  readonly #io: UringLoop;
  readonly #uring: Uring;
  readonly #arena: NativeBuffer;
  readonly #address: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #free: number[] = [];
  readonly #exchanges: (RingExchange<unknown> | undefined)[] = new Array(SLOTS).fill(undefined);
  readonly #generation = new Uint32Array(SLOTS);
  #active = 0;
  #closed = false;
  #submitScheduled = false;
  /** Slots whose query is over, closed (and freed) with the next submit. */
  readonly #toClose: number[] = [];
  /** When each slot's query was written (performance.now()), for {@link AnswerLatency}. */
  readonly #sentAt = new Float64Array(SLOTS);
  readonly #latency = new AnswerLatency();
  /** Queries were written since the last submit. */
  #sent = false;


  /** @internal Use {@link udpQueryRing}. */
  constructor(loop: Loop) {
    if (native.os !== "linux" || !asyncBackends().io_uring) throw new UnsupportedError("io_uring", "the kernel or its settings refuse it");
    // A plain ring: completions are posted as they happen and the eventfd
    // wakes the loop. (DEFER_TASKRUN, which the loop's connection ring
    // prefers, was measured slower here: 8 queries in flight reached a
    // third of the lookups per second.) Submission is ours ("manual"): at
    // the end of the job that wrote the chains (a microtask), so the
    // queries a reap's answers start go out before the loop's next wait
    // (with "immediate", once per runtime turn, they waited behind the
    // loop's tick, whose first wait may linger up to a millisecond).
    const io = new UringLoop(loop, { entries: 256, cqEntries: 1024, submit: "manual", closeWithLoop: true });
    let arena: NativeBuffer | undefined;
    try {
      requireOpcodes(io.uring, [IORING_OP.SOCKET, IORING_OP.SENDMSG, IORING_OP.RECVMSG, IORING_OP.CLOSE, IORING_OP.ASYNC_CANCEL]);
      // A sparse table of direct descriptors: every slot empty (-1).
      const table = NativeBuffer.alloc(SLOTS * 4);
      try {
        for (let i = 0; i < SLOTS; i++) table.view.setInt32(i * 4, -1, true);
        io.uring.ring.register(URING.REGISTER_FILES, table.pointer, SLOTS);
      } finally {
        table.free();
      }
      arena = NativeBuffer.alloc(SLOTS * SLOT_BYTES);
      for (let slot = 0; slot < SLOTS; slot++) layOut(arena, slot * SLOT_BYTES);
    } catch (err) {
      arena?.free();
      io.close();
      throw err;
    }
    this.#io = io;
    this.#uring = io.uring;
    this.#arena = arena;
    this.#address = addressOf(arena.pointer);
    this.#bytes = arena.bytes;
    this.#view = arena.view;
    for (let slot = SLOTS - 1; slot >= 0; slot--) this.#free.push(slot);
    io.uring.setDirectSink(this.#complete);
    io.addOwner(this);
  }

  /** Queries waiting for their answer (or for their socket to close). */
  get inFlight(): number {
    return this.#active;
  }

  /** Slots free for new queries. */
  get slotsFree(): number {
    // Those whose socket's CLOSE is not queued yet are taken by the next query (its CLOSE goes first).
    return this.#free.length + this.#toClose.length;
  }

  /** Whether the ring is closed (its loop closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `query` to `server` from a new socket on a random port and
   * resolves with the first value `acceptor` takes (as `udpExchange`);
   * rejects with the signal's reason, the `timeout`'s error or a socket
   * error. Returns undefined, doing nothing, when the ring cannot take the
   * query (every slot busy, a query or answer larger than a slot, the ring
   * closed): the caller then uses the readiness path.
   */
  exchange<T>(
    server: EncodedPeer,
    query: Uint8Array,
    maxBytes: number,
    acceptor: DatagramAcceptor<T>,
    signal: AbortSignal | undefined,
    timeout: ExchangeTimeout | undefined,
  ): Promise<T> | undefined {
    if (this.#closed || query.byteLength > QUERY_MAX || maxBytes > RECV_MAX || maxBytes < 1) return undefined;
    if (this.#free.length + this.#toClose.length === 0) return undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Room for the CLOSEs of finished queries and the whole chain, so it is never cut short.
    const ring = this.#uring.ring;
    if (ring.sqSpace < this.#toClose.length + 3) ring.enter(0);
    this.#flushCloses();
    if (this.#free.length === 0 || ring.sqSpace < 3) return undefined;
    const slot = this.#free.pop()!;
    const base = slot * SLOT_BYTES;
    const bytes = this.#bytes;
    const view = this.#view;
    bytes.set(server.bytes, base + PEER);
    view.setUint32(base + SEND_HDR + LAYOUT.msghdr.namelen, server.length, true);
    bytes.set(query, base + QUERY);
    view.setUint32(base + SEND_IOV + LAYOUT.iovec.len, query.byteLength, true);
    view.setUint32(base + RECV_IOV + LAYOUT.iovec.len, maxBytes, true);
    const x = new RingExchange<T>(this, slot, server, maxBytes, acceptor, signal, timeout);
    this.#exchanges[slot] = x as RingExchange<unknown>;
    if (this.#active++ === 0) this.#io.retain();
    const tag = this.#tag(slot, 0);
    const uring = this.#uring;
    const address = this.#address + base;
    this.#sentAt[slot] = performance.now();
    this.#sent = true;
    try {
      const af = server.family === "ipv6" ? C.AF_INET6 : C.AF_INET;
      // Three SQEs in a row, not linked: each is issued inline, in order,
      // by the same io_uring_enter (the socket is in its slot before the
      // send looks it up), whereas a link's next step would go through task
      // work run on the way out of the system call (measured: ~8 µs more per
      // lookup on Node). Only failures of the socket and the send post a
      // completion; the receive always does (EBADF after a failed socket).
      uring.prepareDirect(IORING_OP.SOCKET, IOSQE.CQE_SKIP_SUCCESS, 0, af, 0, C.IPPROTO_UDP, C.SOCK_DGRAM, 0, tag | K_SOCKET, 0, slot + 1);
      uring.prepareDirect(IORING_OP.SENDMSG, IOSQE.FIXED_FILE | IOSQE.CQE_SKIP_SUCCESS, 0, slot, address + SEND_HDR, 1, 0, C.MSG_NOSIGNAL, tag | K_SEND);
      this.#armReceive(slot, tag);
      this.#scheduleSubmit();
    } catch (err) {
      // Not reached (room was made above); the slot stays taken rather than
      // be reused under a chain the kernel may hold.
      x.end(err, false);
    }
    return x.promise;
  }

  /** @internal Ends a query whose RECVMSG is armed: cancels it (its CQE frees the slot). */
  cancel(slot: number): void {
    if (this.#closed) return;
    const tag = this.#tag(slot, 0);
    this.#uring.cancelDirect(tag | K_RECV, tag | K_CANCEL);
    this.#scheduleSubmit();
  }

  /** The loop is closing: every query fails; the ring closes next (its close cancels what the kernel holds). */
  onLoopClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let slot = 0; slot < SLOTS; slot++) {
      const x = this.#exchanges[slot];
      this.#exchanges[slot] = undefined;
      x?.end(new UseAfterCloseError("loop"), false);
    }
    this.#active = 0;
    // Chains written this turn go in now, so their receives are armed when
    // the ring's close cancels everything (a receive still waiting for its
    // chain would escape the cancel and hold the close for its whole budget).
    try {
      const ring = this.#uring.ring;
      if (!ring.closed && ring.unsubmitted > 0) ring.enter(0);
    } catch {
      // The close that follows cancels what it can.
    }
    // The ring closes right after the owners are told (or once the reap it
    // was closed from is over); the arena goes with it unless the kernel
    // still holds an operation (then it is given up, never freed under it).
    queueMicrotask(() => {
      // Abandoned, not dropped: the collector would free it under the kernel.
      if (this.#uring.closed && this.#uring.directPending === 0) this.#arena.free();
      else this.#arena.abandon();
    });
  }

  /** Submits this job's chains (at the end of the job: one io_uring_enter for every query it started), with the CLOSE of each slot whose query ended. */
  #scheduleSubmit(): void {
    if (this.#submitScheduled) return;
    this.#submitScheduled = true;
    queueMicrotask(this.#submit);
  }

  #submit = (): void => {
    this.#submitScheduled = false;
    if (this.#closed) return;
    const ring = this.#uring.ring;
    if (ring.closed) return;
    this.#flushCloses();
    if (ring.unsubmitted > 0) ring.enter(0);
    if (this.#sent) {
      // Queries went out: a near server's answers are waited for with short
      // blocking waits rather than a parked wait (see answer_latency.ts).
      this.#sent = false;
      const ms = this.#latency.expectMs();
      if (ms > 0 && this.#active > 0) this.#io.loop.expectEvents(ms);
    }
  };

  /**
   * Writes the CLOSE of every slot whose query is over and frees the slots.
   * Called when queries are written (the CLOSEs go in with them, ahead of
   * any SOCKET into the same slot, which the kernel issues in order: no
   * system call of their own) and by the submit; never from a reap (a CLOSE
   * written there would cost the reap another round). A slot is free only
   * once its socket's CLOSE is queued (no room: it waits for the next
   * call), so a failed SOCKET never leaves a send to an old socket.
   */
  #flushCloses(): void {
    const toClose = this.#toClose;
    if (toClose.length === 0) return;
    let closed = 0;
    for (; closed < toClose.length; closed++) {
      const slot = toClose[closed]!;
      if (this.#uring.ring.sqSpace < 1) break;
      try {
        this.#uring.prepareDirect(IORING_OP.CLOSE, IOSQE.CQE_SKIP_SUCCESS, 0, 0, 0, 0, 0, 0, this.#tag(slot, K_CLOSE), 0, slot + 1);
      } catch {
        break;
      }
      this.#free.push(slot);
    }
    toClose.splice(0, closed);
  }

  #tag(slot: number, kind: number): number {
    return ((((this.#generation[slot]! & GEN_MASK) << SLOT_BITS) | slot) << 3 | kind) >>> 0;
  }

  #armReceive(slot: number, tag: number): void {
    const base = slot * SLOT_BYTES;
    this.#view.setUint32(base + RECV_HDR + LAYOUT.msghdr.namelen, SOCKADDR_MAX, true);
    this.#view.setInt32(base + RECV_HDR + LAYOUT.msghdr.flags, 0, true);
    this.#uring.prepareDirect(IORING_OP.RECVMSG, IOSQE.FIXED_FILE, POLL_FIRST, slot, this.#address + base + RECV_HDR, 1, 0, C.MSG_TRUNC, tag | K_RECV);
  }

  #complete = (tag: number, res: number): void => {
    if (this.#closed) return;
    const slot = (tag >>> 3) & ((1 << SLOT_BITS) - 1);
    if (slot >= SLOTS || tag >>> (3 + SLOT_BITS) !== (this.#generation[slot]! & GEN_MASK)) return;
    const x = this.#exchanges[slot];
    if (x === undefined) return;
    switch (tag & 7) {
      case K_SOCKET:
      case K_SEND:
        // Only a failure reports (CQE_SKIP_SUCCESS), and ends the query;
        // the slot comes back with the receive's completion: EBADF after a
        // failed socket (the slot is empty: its last socket was closed
        // before the slot was reused), or the cancel of the receive armed
        // after a failed send.
        if (res >= 0 || x.done) return;
        if ((tag & 7) === K_SOCKET) x.end(sysError(-res, "socket"), false);
        else x.end(sysError(-res, "sendmsg", x.server.text), true);
        return;
      case K_RECV:
        this.#received(slot, x, res);
        return;
      case K_CANCEL:
        // The receive was not armed yet (its chain still sending): again,
        // until it is found or has completed (its CQE frees the slot).
        if (res === -ENOENT || res === -EALREADY) this.cancel(slot);
        return;
      default:
        return; // CLOSE: nothing waits for it
    }
  };

  #received(slot: number, x: RingExchange<unknown>, res: number): void {
    // Only a datagram or an expiry says how near the server is: a receive
    // ended by the caller's abort or a failed socket/send would make a far
    // server look near (and the loop linger for it).
    if (res >= 0 || x.expired) this.#latency.observe(performance.now() - this.#sentAt[slot]!);
    if (!x.done) {
      if (res < 0) {
        x.end(res === -ECANCELED ? sysError(ECANCELED, "recvmsg", x.server.text) : sysError(-res, "recvmsg", x.server.text), false);
      } else {
        const base = slot * SLOT_BYTES;
        const view = this.#view;
        const bytes = this.#bytes;
        const max = x.maxBytes;
        const truncated = res > max || (view.getInt32(base + RECV_HDR + LAYOUT.msghdr.flags, true) & C.MSG_TRUNC) !== 0;
        const from = view.getUint32(base + RECV_HDR + LAYOUT.msghdr.namelen, true);
        FROM.length[0] = from;
        FROM.bytes.set(bytes.subarray(base + SOURCE, base + SOURCE + Math.min(from, SOCKADDR_MAX)));
        const data = bytes.subarray(base + ANSWER, base + ANSWER + (truncated ? max : res));
        if (x.accept(data, truncated, FROM.is(x.server))) {
          // Not the answer: wait for the next datagram on the same socket.
          try {
            this.#armReceive(slot, this.#tag(slot, 0));
            return;
          } catch (err) {
            x.end(err, false);
          }
        }
      }
    }
    this.#release(slot);
  }

  /** The slot's last operation is in: its socket is closed, and the slot freed, with the next submit (only a failed CLOSE reports). */
  #release(slot: number): void {
    this.#exchanges[slot] = undefined;
    this.#generation[slot] = (this.#generation[slot]! + 1) >>> 0;
    this.#toClose.push(slot);
    if (--this.#active === 0) {
      this.#io.unretain();
      // Nothing else in flight: the sockets close now rather than with a next query.
      this.#scheduleSubmit();
    }
  }
}

/** Writes the fixed parts of one slot's two msghdrs and iovecs. */
function layOut(arena: NativeBuffer, base: number): void {
  const view = arena.view;
  writeMsghdr(view, base + SEND_HDR, {
    name: arena.pointerAt(base + PEER),
    nameLength: 0,
    iov: arena.pointerAt(base + SEND_IOV),
    iovCount: 1,
    control: null,
    controlLength: 0,
  });
  writeIovec(view, base + SEND_IOV, arena.pointerAt(base + QUERY), 0);
  writeMsghdr(view, base + RECV_HDR, {
    name: arena.pointerAt(base + SOURCE),
    nameLength: SOCKADDR_MAX,
    iov: arena.pointerAt(base + RECV_IOV),
    iovCount: 1,
    control: null,
    controlLength: 0,
  });
  writeIovec(view, base + RECV_IOV, arena.pointerAt(base + ANSWER), RECV_MAX);
}

function requireOpcodes(uring: Uring, opcodes: number[]): void {
  const slots = 256;
  const probe = NativeBuffer.alloc(URING.PROBE_HEADER + slots * URING.PROBE_OP_SIZE);
  try {
    uring.ring.register(URING.REGISTER_PROBE, probe.pointer, slots);
    const lastOp = probe.view.getUint8(0);
    for (const op of opcodes) {
      const flags = probe.view.getUint16(URING.PROBE_HEADER + op * URING.PROBE_OP_SIZE + 2, true);
      if (op > lastOp || (flags & URING.OP_SUPPORTED) === 0) throw new UnsupportedError(`io_uring opcode ${op}`, "the kernel does not support it");
    }
  } finally {
    probe.free();
  }
}

/** One query on the ring: its promise, deadline and abort listener. */
class RingExchange<T> implements Expirable, EventListenerObject {
  readonly server: EncodedPeer;
  readonly maxBytes: number;
  readonly promise: Promise<T>;
  done = false;
  /** Ended by its deadline (its cancelled receive then counts as a slow answer for {@link AnswerLatency}). */
  expired = false;
  readonly #ring: UdpQueryRing;
  readonly #slot: number;
  readonly #acceptor: DatagramAcceptor<T>;
  readonly #signal: AbortSignal | undefined;
  readonly #timeout: ExchangeTimeout | undefined;
  #queue: DeadlineQueue | undefined;
  #deadline: Deadline | undefined;
  #resolve!: (value: T) => void;
  #reject!: (err: unknown) => void;

  constructor(
    ring: UdpQueryRing,
    slot: number,
    server: EncodedPeer,
    maxBytes: number,
    acceptor: DatagramAcceptor<T>,
    signal: AbortSignal | undefined,
    timeout: ExchangeTimeout | undefined,
  ) {
    this.#ring = ring;
    this.#slot = slot;
    this.server = server;
    this.maxBytes = maxBytes;
    this.#acceptor = acceptor;
    this.#signal = signal;
    this.#timeout = timeout;
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    signal?.addEventListener("abort", this);
    if (timeout !== undefined) {
      this.#queue = exchangeDeadlines(timeout.ms);
      this.#deadline = this.#queue.add(this);
    }
  }

  /** Judges one datagram; true when the exchange goes on (it was ignored). */
  accept(data: Uint8Array, truncated: boolean, fromServer: boolean): boolean {
    let verdict: T | typeof IGNORE;
    try {
      verdict = this.#acceptor.accept(data, truncated, fromServer);
    } catch (err) {
      this.end(err, false);
      return false;
    }
    if (verdict === IGNORE) return true;
    if (this.#finish()) this.#resolve(verdict);
    return false;
  }

  /** The deadline passed. */
  expire(): void {
    this.expired = true;
    this.end(this.#timeout!.error(), true);
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.end(this.#signal!.reason, true);
  }

  /** Fails the exchange (once); `cancel`: its receive is still armed in the kernel. */
  end(err: unknown, cancel: boolean): void {
    if (!this.#finish()) return;
    this.#reject(err);
    if (cancel) {
      try {
        this.#ring.cancel(this.#slot);
      } catch {
        // No room for the cancel: the receive ends with the socket's close at the loop's close.
      }
    }
  }

  #finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.#deadline !== undefined) this.#queue!.cancel(this.#deadline);
    this.#signal?.removeEventListener("abort", this);
    return true;
  }
}

const rings = new WeakMap<Loop, UdpQueryRing>();
let unusable = false;

/**
 * How DNS queries go out: "uring" (the default where io_uring works) or
 * "readiness" (`FFINET_DNS_IO=readiness`: a socket per query watched by the loop).
 *
 * @example
 * ```ts
 * import { dnsUdpIo } from "./udp_uring.ts";
 * console.log(["uring", "readiness"].includes(dnsUdpIo())); // true
 * ```
 */
export function dnsUdpIo(): "uring" | "readiness" {
  return native.env("FFINET_DNS_IO") === "readiness" ? "readiness" : "uring";
}

/**
 * The io_uring DNS transport of `loop`, made on first use; undefined where
 * io_uring cannot carry the queries (then never tried again in this
 * process).
 *
 * @example
 * ```ts
 * import { defaultLoop } from "../poll/loop.ts";
 * import { udpQueryRing } from "./udp_uring.ts";
 * console.log(udpQueryRing(defaultLoop())?.closed ?? false); // false
 * ```
 */
export function udpQueryRing(loop: Loop): UdpQueryRing | undefined {
  if (unusable) return undefined;
  const ring = rings.get(loop);
  if (ring !== undefined && !ring.closed) return ring;
  if (ring !== undefined || loop.closed) return undefined;
  try {
    const made = new UdpQueryRing(loop);
    rings.set(loop, made);
    return made;
  } catch {
    unusable = true;
    return undefined;
  }
}
