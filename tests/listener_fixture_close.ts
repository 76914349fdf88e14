// Child process for listener_close_test.ts: a listener without a handler on
// the default loop takes a connection into its accept() queue, then is
// closed; nothing else runs, so the process must exit by itself.
// Argument: the I/O mode, "readiness" or "uring".
import { listen } from "../poll/listener.ts";
import { connectTCPSync } from "../socket/connect.ts";

const proc = (globalThis as unknown as { process: { argv: string[]; exit(code: number): never } }).process;
const io = proc.argv.at(-1) === "uring" ? "uring" : "readiness";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const server = listen({ host: "127.0.0.1", port: 0, io });
// A blocking client: its socket is not on the loop, so it keeps nothing alive.
const client = connectTCPSync("127.0.0.1", server.port, 5000);
for (let i = 0; server.pending === 0; i++) {
  if (i === 1000) {
    console.log("the connection never reached the accept() queue");
    proc.exit(2);
  }
  await sleep(5);
}
const queued = server.pending;
server.close();
client.close();
console.log(JSON.stringify({ io: server.io, queued, pendingAfterClose: server.pending }));
