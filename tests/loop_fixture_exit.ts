// Child process for loop_idle_test.ts: the process must exit by itself.
// mode "unref": an unreferenced listener and an unreferenced loop timer.
// mode "close": a referenced listener closed by a runtime timer after 100 ms.
// mode "exit": process.exit(3) while the loop's wait is parked on its helper
// thread (Node used to wait for that thread forever); prints how many
// wake-ups the exit wrote.
import { listen } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";

const mode = (globalThis as unknown as { process: { argv: string[] } }).process.argv.at(-1);
const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) } });
if (mode === "unref") {
  server.unref();
  const loop = defaultLoop();
  loop.timers.every(50, () => {}).unref();
  // A runtime timer keeps the process up until the loop's wait is parked
  // (its helper booted), so the exit below is one from a parked wait; Deno
  // never parks an unreferenced wait, so there it lets go at once.
  const keep = setInterval(() => {
    if (loop.parked || !loop.parksUnreferenced) clearInterval(keep);
  }, 10);
  const proc = (globalThis as unknown as { process?: { on(e: "exit", f: () => void): void } }).process;
  proc?.on("exit", () => console.log(JSON.stringify({ parksUnreferenced: loop.parksUnreferenced, stats: loop.stats })));
} else if (mode === "exit") {
  // Exit once the wait is parked (the helper thread booted), at most ~10 s on.
  let waited = 0;
  const exitWhenParked = () => {
    if (!defaultLoop().parked && waited++ < 1000) return void setTimeout(exitWhenParked, 10);
    console.log(JSON.stringify({ parked: defaultLoop().parked }));
    // After the loop's own exit hook (installed at its first park): how many
    // wake-ups the exit wrote (Deno's last exit event is "unload").
    const report = () => console.log(JSON.stringify({ exitWakes: defaultLoop().stats.wakes - wakesBefore }));
    const wakesBefore = defaultLoop().stats.wakes;
    const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
    if (deno) (globalThis as unknown as { addEventListener(t: string, f: () => void): void }).addEventListener("unload", report);
    else (globalThis as unknown as { process: { on(e: "exit", f: () => void): void } }).process.on("exit", report);
    (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3);
  };
  setTimeout(exitWhenParked, 10);
} else {
  defaultLoop().timers.once(30_000, () => {});
  setTimeout(() => {
    server.close();
    defaultLoop().close();
  }, 100);
}
console.log("started");
