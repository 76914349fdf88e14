// Worker for the socket tests (started through socket_fixture_thread.ts):
// acts on descriptors of the main thread while that thread is blocked in a
// synchronous call. Posts {ready: true} once loaded; then, for each
// {id, op, fd, delayMs}, waits delayMs and posts {id, result}:
//   accept    accept one connection on a non-blocking listener and close it
//             (result: whether one was waiting);
//   shutdown  shut down the writing side (result: shutdown's return value);
//   drain     read without waiting until nothing is left (result: bytes read);
//   digest    read (blocking) until end of stream (result: "<bytes>:<hash>",
//             see StreamDigest in socket_helpers.ts).
import { parentPort } from "node:worker_threads";
import { libc } from "../ffi/libc.ts";
import { C } from "../ffi/platform.ts";
import { acceptDescriptor } from "../socket/descriptor.ts";
import { StreamDigest } from "./socket_helpers.ts";

interface Command {
  id: number;
  op: "accept" | "shutdown" | "drain" | "digest";
  fd: number;
  delayMs: number;
}

function act(op: Command["op"], fd: number): number | boolean | string {
  if (op === "digest") {
    const digest = new StreamDigest();
    const buf = new Uint8Array(1 << 16);
    for (;;) {
      const n = libc().recv(fd, buf, buf.length, 0);
      if (n <= 0) return digest.result();
      digest.update(buf.subarray(0, n));
    }
  }
  if (op === "accept") {
    const peer = acceptDescriptor(fd, true);
    if (peer >= 0) libc().close(peer);
    return peer >= 0;
  }
  if (op === "shutdown") return libc().shutdown(fd, C.SHUT_WR);
  const buf = new Uint8Array(1 << 16);
  let total = 0;
  for (;;) {
    const n = libc().recv(fd, buf, buf.length, C.MSG_DONTWAIT);
    if (n <= 0) return total;
    total += n;
  }
}

const port = parentPort!;
port.on("message", (message: Command) => {
  setTimeout(() => port.postMessage({ id: message.id, result: act(message.op, message.fd) }), message.delayMs);
});
port.postMessage({ ready: true });
