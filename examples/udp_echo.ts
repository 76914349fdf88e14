// UDP echo: a handler-mode socket answers each datagram; a connected client
// sends and awaits the reply.
// Run: node examples/udp_echo.ts · deno run --allow-ffi examples/udp_echo.ts · bun examples/udp_echo.ts
import { bindUDP } from "../mod.ts";

const server = bindUDP({
  host: "127.0.0.1",
  port: 0,
  handler: {
    // `data` is a reused view, valid during this call; trySend answers without a Promise.
    message: (socket, data, from) => void socket.trySend(data, from),
  },
});
console.log(`UDP server on 127.0.0.1:${server.port}`);

// A connected client: send() needs no target, and only the server's datagrams arrive.
const client = bindUDP({ host: "127.0.0.1", connect: { host: "127.0.0.1", port: server.port } });
await client.send(new TextEncoder().encode("ping"));
const reply = await client.recv(); // null only once the socket is closed
console.log(`reply from port ${reply?.address.port}: ${new TextDecoder().decode(reply?.data)}`);

client.close();
server.close();
