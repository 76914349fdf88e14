// Child process for io_default_test.ts: takes FFINET_IO from the parent as
// an application would, asks for the I/O kind many times, opens a listener
// and a connection that echo "ping", and prints one JSON line: what was
// chosen, what the listener took, and the kernel facts the choice rests on.
import { kernelRelease } from "../ffi/kernel.ts";
import { connect, listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { asyncBackends, chooseAsyncIo, uringByDefault, uringRequested } from "../poll/uring/probe.ts";

const loop = new Loop();
const chosen = chooseAsyncIo();
for (let i = 0; i < 50; i++) chooseAsyncIo();
const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (conn, d) => conn.send(d) }, loop });
const client = await connect({ host: "127.0.0.1", port: server.port, loop });
await client.write(new TextEncoder().encode("ping"));
const echoed = new TextDecoder().decode((await client.read())!);
await client.close();
server.close();
loop.close();
await loop.released();
console.log(JSON.stringify({
  chosen,
  requested: uringRequested(),
  io: server.io,
  byDefault: uringByDefault(),
  available: asyncBackends().io_uring,
  release: kernelRelease() ?? null,
  echoed,
}));
