// Child process for listener_emfile_test.ts, run under a small
// RLIMIT_NOFILE (`ulimit -n`): an echo server on the DEFAULT loop (no
// `onError` anywhere, as in the README), flooded by more connections than
// it has descriptors for. Each accepted connection echoes and closes when
// the client does. Prints {"port"} once listening, {"full"} once an accept
// failed (the descriptor table ran full: the clients wait for this line
// before they send, so no connection closes before then), then, when
// `total` connections were served, one JSON line with the counts, and
// exits by itself. Arguments: the I/O mode ("readiness" or "uring") and `total`.
import { listen } from "../poll/listener.ts";

const proc = (globalThis as unknown as { process: { argv: string[] } }).process;
const [ioArg, totalArg] = proc.argv.slice(-2);
const io = ioArg === "uring" ? "uring" : "readiness";
const total = Number(totalArg);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let served = 0;
let mostOpen = 0;
let open = 0;
const server = listen({
  host: "127.0.0.1",
  port: 0,
  io,
  backlog: 2048,
  handler: {
    open: () => {
      open++;
      if (open > mostOpen) mostOpen = open;
    },
    data: (conn, bytes) => void conn.send(bytes),
    close: () => {
      open--;
      if (++served === total) finish();
    },
  },
});

// Watched from a timer: the listener has no onError here, as in the README.
const full = setInterval(() => {
  if (server.acceptErrors === 0) return;
  clearInterval(full);
  console.log(JSON.stringify({ full: true, open }));
}, 5);

function finish(): void {
  clearInterval(full);
  console.log(JSON.stringify({ io: server.io, served, mostOpen, acceptErrors: server.acceptErrors }));
  server.close();
}

// Let the runtime settle first (the loop's helper thread and Deno's own
// start-up need descriptors of their own; see listener_fixture_emfile.ts).
await sleep(1000);
console.log(JSON.stringify({ port: server.port }));
