// Blocking sockets: no event loop; every call waits in the kernel, with a
// timeout where one is given (scripts, tools, Workers).
// Run: node examples/blocking_sockets.ts · deno run --allow-ffi examples/blocking_sockets.ts · bun examples/blocking_sockets.ts
import { connectTCPSync, listenTCPSync } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const listener = listenTCPSync("127.0.0.1", 0);
const address = listener.localAddress();
if (address.family === "unix") throw new Error("expected a TCP address");
console.log(`listening on ${address.host}:${address.port}`);

const client = connectTCPSync("127.0.0.1", address.port, 2000); // 2 s connect timeout
const server = listener.acceptTimeout(2000); // null if nobody came within 2 s
if (server === null) throw new Error("no connection");

client.sendAll(encoder.encode("ping"));
const buffer = new Uint8Array(4);
server.recvAllTimeout(buffer, 2000); // exactly 4 bytes, or SocketTimeoutError
console.log(`server read: ${decoder.decode(buffer)}`);
server.sendAll(encoder.encode("pong"));
client.recvAllTimeout(buffer, 2000);
console.log(`client read: ${decoder.decode(buffer)}`);

for (const socket of [client, server, listener]) socket.close();
