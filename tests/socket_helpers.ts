// Helpers for the socket tests that reach under our own API: kernel-side
// socket timeouts and a process stop that interrupts a blocking call.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { libc } from "../ffi/libc.ts";
import { C, LAYOUT } from "../ffi/platform.ts";

/**
 * Sets SO_SNDTIMEO or SO_RCVTIMEO on `fd` in the kernel. As a safety net
 * under tests of our own timeouts, a call that ignored them fails late
 * instead of hanging. With it set, a blocking call also fails with EINTR
 * when the process is stopped and continued, even without a signal handler
 * (signal(7)).
 */
export function kernelTimeout(fd: number, option: number, ms: number): void {
  const tv = new Uint8Array(LAYOUT.timeval.size);
  const view = new DataView(tv.buffer);
  view.setBigInt64(LAYOUT.timeval.sec, BigInt(Math.floor(ms / 1000)), true);
  view.setBigInt64(LAYOUT.timeval.usec, BigInt((ms % 1000) * 1000), true);
  assert.equal(libc().setsockopt(fd, C.SOL_SOCKET, option, tv, tv.length), 0);
}

/** Stops this process for a moment, `delayMs` from now, from a child shell; resolves once that has exited. */
export function stopAndContinue(delayMs: number): Promise<void> {
  const script = 'sleep "$1"; kill -STOP "$2"; sleep 0.05; kill -CONT "$2"';
  const child = spawn("sh", ["-c", script, "sh", String(delayMs / 1000), String(process.pid)], { stdio: "ignore" });
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A byte count and a position-sensitive hash (FNV-1a) of a stream, fed in any chunks. */
export class StreamDigest {
  #bytes = 0;
  #hash = 0x811c9dc5;

  update(chunk: Uint8Array): void {
    let h = this.#hash;
    for (let i = 0; i < chunk.length; i++) h = Math.imul(h ^ chunk[i]!, 0x01000193);
    this.#hash = h;
    this.#bytes += chunk.length;
  }

  result(): string {
    return `${this.#bytes}:${(this.#hash >>> 0).toString(16)}`;
  }
}
