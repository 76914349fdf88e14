/**
 * SocketBuf throughput: a connection's receive pattern (4 chunks arrive,
 * then the parser reads them out chunk by chunk) through the ring buffer,
 * against a naive queue that concatenates each write into a new
 * `Uint8Array` and slices on each read ("concat-queue"). Chunks of 64 B and
 * 16 KiB; one more case moves the bytes through the spans (recv-style
 * `writableSpans` + `commitWrite`, send-style `readableSpans` + `consume`),
 * where no copy into or out of the buffer is made by the caller.
 *
 * @module
 */
import { compare, finish } from "./harness.ts";
import { SocketBuf } from "../core/socket_buf.ts";

const DEPTH = 4;

/** The naive peer: one contiguous array, reallocated on every write. */
class ConcatQueue {
  bytes = new Uint8Array(0);
  write(chunk: Uint8Array): void {
    const next = new Uint8Array(this.bytes.length + chunk.length);
    next.set(this.bytes, 0);
    next.set(chunk, this.bytes.length);
    this.bytes = next;
  }
  read(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.bytes.length);
    dst.set(this.bytes.subarray(0, n));
    this.bytes = this.bytes.slice(n);
    return n;
  }
}

for (const size of [64, 16 * 1024]) {
  const chunk = new Uint8Array(size).map((_, i) => i & 0xff);
  const dst = new Uint8Array(size);
  const ring = new SocketBuf({ capacity: 4 * size * DEPTH, maxCapacity: 4 * size * DEPTH });
  // Offset the head so the ring wraps during the run, as it does in use.
  ring.write(new Uint8Array(size >> 1));
  const queue = new ConcatQueue();
  const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;

  await compare({ bench: "socket_buf", case: `write+read ${label} chunks` }, {
    ours: () => {
      for (let i = 0; i < DEPTH; i++) ring.write(chunk);
      let n = 0;
      for (let i = 0; i < DEPTH; i++) n += ring.read(dst);
      return n;
    },
    peer: () => {
      for (let i = 0; i < DEPTH; i++) queue.write(chunk);
      let n = 0;
      for (let i = 0; i < DEPTH; i++) n += queue.read(dst);
      return n;
    },
    peerName: "concat-queue",
    unit: "MB/s",
    unitsPerCall: DEPTH * size,
  });

  await compare({ bench: "socket_buf", case: `spans ${label} chunks` }, {
    ours: () => {
      // recv into the free space, then send from the readable spans.
      for (let i = 0; i < DEPTH; i++) {
        let left = size;
        for (const span of ring.writableSpans(size)) {
          const n = Math.min(span.length, left);
          span.set(n === size ? chunk : chunk.subarray(size - left, size - left + n));
          left -= n;
          if (left === 0) break;
        }
        ring.commitWrite(size);
      }
      let n = 0;
      for (const span of ring.readableSpans()) n += span.length;
      ring.consume(ring.length - (size >> 1));
      return n;
    },
    peer: () => {
      for (let i = 0; i < DEPTH; i++) queue.write(chunk);
      let n = 0;
      for (let i = 0; i < DEPTH; i++) n += queue.read(dst);
      return n;
    },
    peerName: "concat-queue",
    unit: "MB/s",
    unitsPerCall: DEPTH * size,
  });
}

finish();
