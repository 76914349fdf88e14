/**
 * What the wrk-driven server benchmarks share: start this benchmark's own
 * script again as a server child on the current runtime (it prints
 * `PORT n`), read a process's CPU ticks from /proc, and run wrk.
 *
 * @example
 * ```ts ignore
 * import { cpuTicks, startServerChild, wrk } from "./_wrk_server.ts";
 * const server = await startServerChild("bench/http_server.ts", "ffinet");
 * const before = cpuTicks(server.pid);
 * const rps = await wrk(`http://127.0.0.1:${server.port}/`, 2);
 * console.log(rps, cpuTicks(server.pid) - before);
 * server.kill();
 * ```
 *
 * @module
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RUNTIME } from "./harness.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const proc = (globalThis as unknown as { process: { execPath: string } }).process;

/** A server child: its pid, the port it listens on, and a way to stop it. */
export interface ServerChild {
  /** The child's process id (for /proc). */
  pid: number;
  /** The port it printed. */
  port: number;
  /** Kills it (SIGKILL). */
  kill(): void;
}

/** The command that runs `script` (relative to the repository) on the current runtime. */
function runtimeCommand(script: string): [string, string[]] {
  if (RUNTIME === "deno") return [proc.execPath, ["run", "-A", script]];
  if (RUNTIME === "bun") return [proc.execPath, [script]];
  return [proc.execPath, ["--import", "tsx", script]];
}

/**
 * Runs `script serve-<kind>` as a child on the current runtime and resolves
 * once it printed `PORT n`.
 */
export function startServerChild(script: string, kind: string): Promise<ServerChild> {
  const [cmd, args] = runtimeCommand(script);
  const child = spawn(cmd, [...args, `serve-${kind}`], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += String(d);
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve({ pid: child.pid!, port: Number(m[1]), kill: () => child.kill("SIGKILL") });
    });
    child.on("close", () => reject(new Error(`${kind} server exited`)));
  });
}

/** User + system CPU ticks of process `pid` so far (from /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * User + system CPU ticks of this process's children that were waited for
 * (cutime + cstime of /proc/self/stat): a finished wrk's, read around it.
 */
export function reapedChildTicks(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[13]) + Number(fields[14]);
}

/** Runs `wrk -t1 -c<connections>` (default 50) against `url` for `seconds`; resolves with its requests per second. */
export function wrk(url: string, seconds: number, connections = 50): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, url], (err, stdout) => {
      if (err) return reject(err);
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      if (!m) return reject(new Error(`wrk said: ${stdout}`));
      resolve(Number(m[1]));
    });
  });
}

/** Whether `wrk` is on PATH. */
export function wrkInstalled(): Promise<boolean> {
  return new Promise((resolve) => execFile("wrk", ["--version"], (err) => resolve(err === null || (err as { code?: unknown }).code !== "ENOENT")));
}

/**
 * Seconds of wrk before a round is measured (HTTP_WARMUP, default 5; every
 * contender gets the same). A JavaScript server's JIT compiles its hot path
 * on helper threads during its first seconds (Bun's FTL took ~0.4 s of CPU
 * for serve's; ~24 µs per request in the first seconds at load 15), which a
 * 1-second warm-up counted in the measured CPU; 5 s measures the steady
 * state the way a long-running server sees it.
 */
const WARMUP_SECONDS = Number((globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env.HTTP_WARMUP ?? 5);

/** Clock ticks per second of /proc's CPU times (USER_HZ on Linux). */
const CLK_TCK = 100;

/**
 * One measured round: starts `script serve-<kind>`, warms it up with wrk for
 * a second, then runs wrk on `path` for `seconds`; resolves with requests
 * per second, the server's CPU µs per request, and wrk's own (`clientUs`:
 * when it is above the server's, wrk's one thread is what limits req/s, as
 * with 64 KiB responses, which it reads 8 KiB per read(2) with an
 * ioctl(FIONREAD) between reads).
 */
export async function wrkRound(script: string, kind: string, path: string, seconds: number): Promise<{ rps: number; cpuUs: number; clientUs: number }> {
  const server = await startServerChild(script, kind);
  try {
    const url = `http://127.0.0.1:${server.port}${path}`;
    await wrk(url, WARMUP_SECONDS); // warm-up
    const before = cpuTicks(server.pid);
    const clientBefore = reapedChildTicks();
    const rps = await wrk(url, seconds);
    const ticks = cpuTicks(server.pid) - before;
    const clientTicks = reapedChildTicks() - clientBefore;
    const perRequest = (t: number) => (t / CLK_TCK) * 1e6 / (rps * seconds);
    return { rps, cpuUs: perRequest(ticks), clientUs: perRequest(clientTicks) };
  } finally {
    server.kill();
  }
}
