// Child process for loop_signal_test.ts: an echo server that shuts down
// gracefully on SIGINT/SIGTERM.
// mode "graceful": close the listener and every open connection, then exit by itself.
// mode "stubborn": the shutdown never finishes (the listener stays open); a
// second signal must end the process.
import type { Connection } from "../poll/connection.ts";
import { listen } from "../poll/listener.ts";
import { shutdownOnSignal } from "../poll/signals.ts";

const mode = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);
const open = new Set<Connection>();
const server = listen({ host: "127.0.0.1", port: 0, handler: {
  open: (c) => void open.add(c),
  data: (c, d) => void c.send(d),
  close: (c) => void open.delete(c),
} });
shutdownOnSignal(async (signal) => {
  console.log(`shutdown ${signal} with ${open.size} open`);
  // Stubborn: the listener stays open (and keeps the process alive).
  if (mode === "stubborn") return new Promise<void>(() => {});
  server.close();
  await Promise.all([...open].map((c) => c.close()));
  console.log("closed");
}, { graceMs: mode === "stubborn" ? 60_000 : 5_000 });
console.log(`READY ${server.port}`);
