// Child process for listener_emfile_test.ts, run under a small RLIMIT_NOFILE
// (`ulimit -n` in the parent's shell): fills the descriptor table with
// clients of a listener, so each accept fails with EMFILE, and counts the
// accept errors the listener reports (to its onError option) while no
// descriptor is free. Then frees
// a few descriptors and counts the connections accepted. Prints one JSON line.
// Argument: the I/O mode, "readiness" or "uring".
import { Logger } from "../core/log.ts";
import { listen } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { Socket } from "../socket/socket.ts";

const proc = (globalThis as unknown as { process: { argv: string[] } }).process;
const io = proc.argv.at(-1) === "uring" ? "uring" : "readiness";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const errors: string[] = [];
const messages: string[] = [];
const loop = new Loop();
let accepted = 0;
// The listener's logger too: each failed accept as a record (no descriptor needed to keep one).
const logged: string[] = [];
const logger = new Logger({
  level: "debug",
  sink: (_line, record) => void logged.push(`${record.level} ${record.msg} ${String((record.fields.error as { code?: unknown } | undefined)?.code ?? "")}`.trim()),
});
const server = listen({
  host: "127.0.0.1",
  port: 0,
  handler: { open: () => void accepted++ },
  loop,
  io,
  logger,
  onError: (err, listener) => {
    if (listener !== server) throw new Error("onError got another listener");
    errors.push(String((err as { code?: unknown }).code ?? err));
    messages.push(err.message);
  },
});
// Let the runtime settle first: the loop's helper thread (a Worker on Node
// and Bun) needs descriptors of its own when it starts, and Deno sets up
// something of its own some 300-600 ms after start (it panics when no
// descriptor is left for it then).
await sleep(1000);
// The helper thread may take longer than that at high load (a Node worker
// at load 30 was still loading koffi when the table was full: EMFILE, and
// the child failed): the loop parks only once its helper is up, so wait
// (bounded) for a first park too.
for (let waited = 0; loop.stats.parks === 0 && waited < 10_000; waited += 20) await sleep(20);

// Connect clients until no descriptor is left. The loop does not run
// meanwhile, so their connections wait in the listener's backlog.
const clients: Socket[] = [];
for (;;) {
  let client: Socket;
  try {
    client = Socket.create("ipv4");
  } catch {
    break;
  }
  clients.push(client);
  client.connect("127.0.0.1", server.port);
}
const started = performance.now();
await sleep(400);
const starvedMs = performance.now() - started;
const starvedErrors = errors.length;

// Free three descriptors: the listener takes connections again.
for (const client of clients.splice(0, 3)) client.close();
await sleep(300);

console.log(JSON.stringify({ io: server.io, clients: clients.length + 3, starvedMs, starvedErrors, codes: [...new Set(errors)], accepted, acceptErrors: server.acceptErrors, reported: errors.length, port: server.port, messages: [...new Set(messages)], logged: [...new Set(logged)], loggedErrors: logged.filter((l) => l.startsWith("error ")).length }));
for (const client of clients) client.close();
server.close();
loop.close();
