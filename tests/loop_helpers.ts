/**
 * Helpers for the loop integration tests: socket pairs and child processes
 * of the same runtime.
 *
 * @example
 * ```ts
 * import { socketPair } from "./loop_helpers.ts";
 * const [a, b] = socketPair();
 * ```
 *
 * @module
 */
import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { libc } from "../ffi/libc.ts";
import { native } from "../ffi/native.ts";
import { C } from "../ffi/platform.ts";
import { Loop } from "../poll/loop.ts";

/**
 * A non-blocking AF_UNIX stream socket pair.
 *
 * @example
 * ```ts
 * import { socketPair } from "./loop_helpers.ts";
 * const [a, b] = socketPair();
 * ```
 */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  const r = libc().socketpair(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer));
  if (r !== 0) throw new Error("socketpair failed");
  return [fds[0]!, fds[1]!];
}

/** The command line that runs a TypeScript file on this runtime. */
export function runtimeCommand(script: string): [string, string[]] {
  const exec = (globalThis as unknown as { process: { execPath: string } }).process.execPath;
  if (native.runtime === "deno") return [exec, ["run", "-A", "--no-check", script]];
  if (native.runtime === "bun") return [exec, [script]];
  return [exec, ["--import", "tsx", script]];
}

/**
 * The command line that runs the fixture `name` (beside this file) with
 * `args` on this runtime; with `maxOpenFiles`, under `ulimit -n` through sh.
 */
function childCommand(name: string, args: string[], maxOpenFiles: number | undefined): [string, string[]] {
  const [cmd, argv] = runtimeCommand(fileURLToPath(new URL(name, import.meta.url)));
  return maxOpenFiles === undefined
    ? [cmd, [...argv, ...args]]
    : ["sh", ["-c", `ulimit -n ${maxOpenFiles} && exec "$@"`, "sh", cmd, ...argv, ...args]];
}

/** The result of a child run. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs a fixture script of tests/ in a child process of this runtime
 * (under `ulimit -n maxOpenFiles` when given).
 *
 * @example
 * ```ts
 * import { runChild } from "./loop_helpers.ts";
 * // const { code, stdout } = await runChild("loop_fixture_exit.ts");
 * ```
 */
export function runChild(
  name: string,
  args: string[] = [],
  timeoutMs = 20_000,
  env: Record<string, string> = {},
  maxOpenFiles?: number,
): Promise<ChildResult> {
  const [exe, exeArgs] = childCommand(name, args, maxOpenFiles);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(exe, exeArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Uint8Array) => (stdout += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child ${name} did not exit in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

/**
 * Open file descriptors of this process (Linux), or -1 where unknown.
 *
 * @example
 * ```ts
 * import { openFdCount } from "./loop_helpers.ts";
 * console.log(openFdCount() > 0);
 * ```
 */
export async function openFdCount(): Promise<number> {
  try {
    const { readdirSync } = await import("node:fs");
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

/**
 * Runs `body` with a fresh loop, closed and released afterwards.
 *
 * @example
 * ```ts
 * import { withLoop } from "./loop_helpers.ts";
 * await withLoop(async (loop) => console.log(loop.closed));
 * ```
 */
export async function withLoop(body: (loop: Loop) => Promise<void>): Promise<void> {
  const loop = new Loop();
  try {
    await body(loop);
  } finally {
    loop.close();
    await loop.released();
  }
}

/**
 * A Worker running the TypeScript module at `url`. Deno and Bun run
 * TypeScript in Workers as is; Node 20 does not apply tsx's hooks to worker
 * threads, so there a small eval'd bootstrap registers tsx first.
 *
 * @example
 * ```ts
 * import { startTsWorker } from "./loop_helpers.ts";
 * // const worker = startTsWorker(new URL("./loop_fixture_worker.ts", import.meta.url));
 * ```
 */
export function startTsWorker(url: URL): Worker {
  if (native.runtime !== "node") return new Worker(url);
  const source = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(source, { eval: true });
}

/** A child process started by {@link startChild}. */
export interface StartedChild {
  /** Resolves with the first line the child prints (rejects if it exits first). */
  firstLine: Promise<string>;
  /** Resolves when the child exits (rejects when it outlives the bound). */
  exited: Promise<ChildResult>;
}

/**
 * Like {@link runChild}, for a fixture the test talks to while it runs:
 * the child's first stdout line (say, the port it listens on) is there
 * before it exits.
 *
 * @example
 * ```ts
 * import { startChild } from "./loop_helpers.ts";
 * // const child = startChild("listener_fixture_flood.ts", ["readiness"], 60_000, {}, 256);
 * // const { port } = JSON.parse(await child.firstLine);
 * ```
 */
export function startChild(
  name: string,
  args: string[] = [],
  timeoutMs = 20_000,
  env: Record<string, string> = {},
  maxOpenFiles?: number,
): StartedChild {
  const [exe, exeArgs] = childCommand(name, args, maxOpenFiles);
  const started = performance.now();
  let stdout = "";
  let stderr = "";
  let lineSeen!: (line: string) => void;
  let noLine!: (error: Error) => void;
  const firstLine = new Promise<string>((resolve, reject) => {
    lineSeen = resolve;
    noLine = reject;
  });
  const exited = new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(exe, exeArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env, NO_COLOR: "1", ...env },
    });
    child.stdout!.on("data", (d: Uint8Array) => {
      stdout += String(d);
      const end = stdout.indexOf("\n");
      if (end >= 0) lineSeen(stdout.slice(0, end));
    });
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      const error = new Error(`child ${name} did not exit in ${timeoutMs} ms\n${stdout}\n${stderr}`);
      noLine(error);
      reject(error);
    }, timeoutMs);
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      noLine(new Error(`child ${name} exited (code ${code}) before printing a line\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
  // Either may go unobserved when the other fails first.
  firstLine.catch(() => {});
  exited.catch(() => {});
  return { firstLine, exited };
}
