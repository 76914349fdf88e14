// Child process for loop_idle_test.ts: loops closed while their helper
// thread may still be booting (a Node worker loading koffi). Terminating a
// worker in the middle of loading its native module can abort the process,
// so the helper must end only once it has booted. Prints "done" and exits 0.
import { Loop } from "../poll/loop.ts";

// Each idle time of 1–7 ms twice.
for (let i = 0; i < 14; i++) {
  const loop = new Loop();
  loop.timers.once(10_000, () => {});
  // Idle for 1–7 ms: the loop starts its helper, which is then mid-boot.
  await new Promise((r) => setTimeout(r, 1 + (i % 7)));
  loop.close();
  await loop.released();
}
console.log("done");
