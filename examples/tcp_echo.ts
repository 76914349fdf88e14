// TCP echo: an async server whose handler sends every chunk back, and a client
// that writes and reads with promises, both on the library's event loop.
// Run: node examples/tcp_echo.ts · deno run --allow-ffi examples/tcp_echo.ts · bun examples/tcp_echo.ts
import { connect, listen } from "../mod.ts";

const server = listen({
  host: "127.0.0.1",
  port: 0, // the kernel picks a free port: server.port
  handler: {
    // `bytes` is a view that is reused after this call; send() copies what it cannot send now.
    data: (conn, bytes) => conn.send(bytes),
  },
});
console.log(`server listening on 127.0.0.1:${server.port}`);

const client = await connect({ host: "127.0.0.1", port: server.port, timeoutMs: 2000 });
const message = new TextEncoder().encode("hello over TCP");
await client.write(message);
const reply = await client.readExactly(message.length);
console.log(`client got back: ${new TextDecoder().decode(reply)}`);

await client.close();
server.close();
