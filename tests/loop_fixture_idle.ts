// Child process for loop_idle_test.ts: an open listener on the default loop,
// idle for 1 s; prints the CPU time used meanwhile (getrusage) as JSON.
import { libc } from "../ffi/libc.ts";
import { C, LAYOUT } from "../ffi/platform.ts";
import { listen } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";

function cpuMicros(): number {
  const buf = new Uint8Array(LAYOUT.rusage.size);
  libc().getrusage(C.RUSAGE_SELF, buf);
  const v = new DataView(buf.buffer);
  const tv = LAYOUT.timeval;
  const at = (o: number) => Number(v.getBigInt64(o + tv.sec, true)) * 1e6 + Number(v.getBigInt64(o + tv.usec, true));
  return at(LAYOUT.rusage.utime) + at(LAYOUT.rusage.stime);
}

const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) } });
// Let the loop settle into its parked wait (its helper thread booted: the
// loop polls on a short timer until then). Bounded at ~10 s.
for (let i = 0; !defaultLoop().parked && i < 1000; i++) await new Promise((r) => setTimeout(r, 10));
const cpu0 = cpuMicros();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, 1000));
const cpu1 = cpuMicros();
const wall = (performance.now() - t0) * 1000;
const loop = defaultLoop();
console.log(JSON.stringify({ cpuPercent: ((cpu1 - cpu0) / wall) * 100, parked: loop.parked, stats: loop.stats }));
server.close();
loop.close();
