// Child process for io_default_test.ts: takes FFINET_IO from the parent as
// an application would, asks for the I/O kind many times, opens a listener
// and a connection that echo "ping", and prints one JSON line: what was
// chosen, what the listener took, and the kernel facts the choice rests on.
import { kernelRelease } from "../ffi/kernel.ts";
import { asyncBackends, chooseAsyncIo, uringByDefault, uringRequested } from "../poll/uring/probe.ts";
import { echoThroughLoop } from "./io_fixture_helpers.ts";

const chosen = chooseAsyncIo();
for (let i = 0; i < 50; i++) chooseAsyncIo();
const { io, echoed } = await echoThroughLoop();
console.log(JSON.stringify({
  chosen,
  requested: uringRequested(),
  io,
  byDefault: uringByDefault(),
  available: asyncBackends().io_uring,
  release: kernelRelease() ?? null,
  echoed,
}));
