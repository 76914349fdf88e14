// Unix sockets and descriptor passing (SCM_RIGHTS): one end of a socket pair
// travels over another pair, and the receiver talks through it.
// Run: node examples/unix_fd_passing.ts · deno run --allow-ffi examples/unix_fd_passing.ts · bun examples/unix_fd_passing.ts
import { peerCredentials, recvFd, sendFd, Socket, socketPair } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The carrier: a connected pair of Unix stream sockets.
const [left, right] = socketPair("stream");
console.log(`carrier pair: fds ${left.fd} and ${right.fd}, peer pid ${peerCredentials(right.fd).pid}`);

// The descriptor to pass: one end of a second pair.
const [passed, kept] = socketPair("stream");
sendFd(left.fd, passed.fd, encoder.encode("!")); // at least one byte of data carries the fd
passed.close(); // the receiver holds its own copy now

const fd = recvFd(right.fd); // close-on-exec, owned by us
if (fd === null || fd < 0) throw new Error("no descriptor arrived");
const received = Socket.fromFd(fd, "unix");
console.log(`received fd ${fd}`);

// Talk through the received descriptor to the end we kept.
received.sendAll(encoder.encode("hello through a passed fd"));
const buffer = new Uint8Array(64);
const n = kept.recv(buffer) ?? 0;
console.log(`kept end read: ${decoder.decode(buffer.subarray(0, n))}`);

for (const socket of [received, kept, left, right]) socket.close();
