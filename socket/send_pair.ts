/**
 * Two buffers in one `sendmsg`: a small head, copied into a native block
 * beside the two iovecs, and a large body sent from its own memory, not
 * copied (its address is asked of libc for the call: `memmove(b, b, 0)`
 * returns `b`). An HTTP response's head and a body held in memory go out
 * in one system call, as Node's and Bun's own HTTP servers write them (writev),
 * instead of a `send` with `MSG_MORE` for the head and one for the body.
 *
 * The body's address is used only during the call, with nothing run in
 * between (no JavaScript, no collection), as for any `buffer` argument.
 *
 * {@link sendParts} is the same for up to {@link PARTS_MAX} buffers (a
 * chunk's size line, its bytes and its CRLF; a head and a body read in
 * several pieces): one `sendmsg`, small pieces copied beside the iovecs,
 * the others sent from their own memory.
 *
 * @example
 * ```ts
 * import { sendPair } from "./send_pair.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * console.log(sendPair(a.fd, new Uint8Array([1, 2]), new Uint8Array(3), 0)); // 5
 * a.close(); b.close();
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { NativeBuffer } from "../ffi/native_buffer.ts";
import { LAYOUT } from "../ffi/platform.ts";
import { writeSize } from "./msg_memory.ts";

/**
 * The largest head {@link sendPair} takes (a response head is a few hundred bytes).
 *
 * @example
 * ```ts
 * import { PAIR_HEAD_MAX } from "./send_pair.ts";
 * const head = new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n");
 * console.log(head.length <= PAIR_HEAD_MAX); // true
 * ```
 */
export const PAIR_HEAD_MAX = 8192;

const IOV = LAYOUT.iovec;
const MSG = LAYOUT.msghdr;
const TWO_32 = 4294967296;

let block: NativeBuffer | undefined;
/** 32-bit words over the block's two iovecs (base lo/hi, len lo/hi each). */
let words: Uint32Array;
let headBytes: Uint8Array;
let headAddress = 0;
let msghdr: Uint8Array;

/** A msghdr whose iovecs are at the start of `b` (`iovecs` of them). */
function msghdrOver(b: NativeBuffer, iovecs: number): { msghdr: Uint8Array; view: DataView; words: Uint32Array } {
  const msghdr = new Uint8Array(MSG.size);
  const view = new DataView(msghdr.buffer);
  view.setBigUint64(MSG.iov, native.address(b.pointer), true);
  const words = new Uint32Array(b.bytes.buffer, b.bytes.byteOffset, (iovecs * IOV.size) / 4);
  return { msghdr, view, words };
}

/** Writes the 64-bit `value` (an address or a length) as two 32-bit words of `to` from `word` on. */
function put64(to: Uint32Array, word: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  to[word] = value - hi * TWO_32;
  to[word + 1] = hi;
}

function setUp(): void {
  const b = NativeBuffer.alloc(2 * IOV.size + PAIR_HEAD_MAX);
  const m = msghdrOver(b, 2);
  words = m.words;
  msghdr = m.msghdr;
  writeSize(m.view, MSG.iovlen, MSG.iovlenSize, 2);
  headBytes = b.bytes.subarray(2 * IOV.size);
  headAddress = Number(native.address(b.pointer)) + 2 * IOV.size;
  block = b;
}

function put(word: number, value: number): void {
  put64(words, word, value);
}

/**
 * Sends `head` then `body` on `fd` in one `sendmsg` with `flags`; returns
 * its result (bytes sent, or -1 with errno set). `head` must be at most
 * {@link PAIR_HEAD_MAX} bytes and `body` not empty (a RangeError
 * otherwise). Linux and 64-bit platforms whose iovec holds a 64-bit
 * pointer and length (every layout ffinet has).
 *
 * @example
 * ```ts
 * import { sendPair } from "./send_pair.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const n = sendPair(a.fd, new TextEncoder().encode("head "), new TextEncoder().encode("body"), 0);
 * console.log(n); // 9
 * a.close(); b.close();
 * ```
 */
export function sendPair(fd: number, head: Uint8Array, body: Uint8Array, flags: number): number {
  const headLength = head.byteLength;
  if (headLength > PAIR_HEAD_MAX || body.byteLength === 0) throw new RangeError(`sendPair: a head of at most ${PAIR_HEAD_MAX} bytes and a body that is not empty`);
  if (block === undefined) setUp();
  headBytes.set(head);
  const c = libc();
  const at = c.memmove(body, body, 0);
  // iovec 0: the head copied into the block; iovec 1: the body where it is.
  put(0, headAddress);
  put(2, headLength);
  put(IOV.size / 4, typeof at === "bigint" ? Number(at) : at);
  put(IOV.size / 4 + 2, body.byteLength);
  return c.sendmsg(fd, msghdr, flags);
}

/**
 * The most buffers {@link sendParts} sends in one call (more are left for
 * the caller to send after those).
 *
 * @example
 * ```ts
 * import { PARTS_MAX } from "./send_pair.ts";
 * console.log(PARTS_MAX); // 16
 * ```
 */
export const PARTS_MAX = 16;
/** Pieces up to this size are copied beside the iovecs (a size line, a CRLF), not sent from their memory. */
const PART_COPY_MAX = 64;
/** Room for the copied pieces (each at most {@link PART_COPY_MAX}). */
const PARTS_COPY_BYTES = PARTS_MAX * PART_COPY_MAX;

let partsBlock: NativeBuffer | undefined;
let partWords: Uint32Array;
let partCopies: Uint8Array;
let partCopiesAddress = 0;
let partsMsghdr: Uint8Array;
let partsMsgView: DataView;

function setUpParts(): void {
  const b = NativeBuffer.alloc(PARTS_MAX * IOV.size + PARTS_COPY_BYTES);
  const m = msghdrOver(b, PARTS_MAX);
  partWords = m.words;
  partsMsghdr = m.msghdr;
  partsMsgView = m.view;
  partCopies = b.bytes.subarray(PARTS_MAX * IOV.size);
  partCopiesAddress = Number(native.address(b.pointer)) + PARTS_MAX * IOV.size;
  partsBlock = b;
}

/**
 * Sends `parts` (in order) on `fd` in one `sendmsg` with `flags`; returns
 * its result (bytes sent, or -1 with errno set). Empty parts are skipped;
 * at most {@link PARTS_MAX} are sent (the count may then be less than the
 * whole: send the rest after it, as after any partial send). Pieces of up
 * to 64 bytes are copied beside the iovecs, larger ones sent from their
 * own memory. Linux and 64-bit platforms, as {@link sendPair}.
 *
 * @example
 * ```ts
 * import { sendParts } from "./send_pair.ts";
 * import { Socket } from "./socket.ts";
 * const [a, b] = Socket.pair();
 * const text = new TextEncoder();
 * console.log(sendParts(a.fd, [text.encode("5\r\n"), text.encode("hello"), text.encode("\r\n")], 0)); // 10
 * a.close(); b.close();
 * ```
 */
export function sendParts(fd: number, parts: readonly Uint8Array[], flags: number): number {
  if (partsBlock === undefined) setUpParts();
  const c = libc();
  const step = IOV.size / 4;
  let count = 0;
  let copied = 0;
  for (let i = 0; i < parts.length && count < PARTS_MAX; i++) {
    const part = parts[i]!;
    const length = part.byteLength;
    if (length === 0) continue;
    let address: number;
    if (length <= PART_COPY_MAX) {
      partCopies.set(part, copied);
      address = partCopiesAddress + copied;
      copied += length;
    } else {
      const at = c.memmove(part, part, 0);
      address = typeof at === "bigint" ? Number(at) : at;
    }
    put64(partWords, count * step, address);
    put64(partWords, count * step + 2, length);
    count++;
  }
  if (count === 0) return 0;
  writeSize(partsMsgView, MSG.iovlen, MSG.iovlenSize, count);
  return c.sendmsg(fd, partsMsghdr, flags);
}
