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
import type { Connection } from "../poll/connection.ts";
import assert from "node:assert/strict";

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
 * Open descriptors of this process (Linux) as `fd=target` strings
 * (`socket:[inode]`, `anon_inode:[eventpoll]`, `pipe:[inode]`, ...), for
 * leak checks that name what is left: compare two lists with
 * {@link newDescriptors}. Empty where /proc is missing.
 *
 * @example
 * ```ts
 * import { openDescriptors } from "./loop_helpers.ts";
 * console.log((await openDescriptors()).length > 0);
 * ```
 */
export async function openDescriptors(): Promise<string[]> {
  try {
    const { readdirSync, readlinkSync } = await import("node:fs");
    const out: string[] = [];
    for (const fd of readdirSync("/proc/self/fd")) {
      try {
        out.push(`${fd}=${readlinkSync(`/proc/self/fd/${fd}`)}`);
      } catch {
        // Closed meanwhile (the directory's own descriptor, among others).
      }
    }
    return out;
  } catch {
    return [];
  }
}

/**
 * The descriptors open now that were not open (as the same fd and target)
 * in `before`, a list from {@link openDescriptors}. A leak shows as a new
 * entry even when other descriptors closed meanwhile (a count would hide
 * it). Descriptors made lazily on first use (a loop's helper thread, its
 * io_uring rings) are new too: make them before `before` is taken
 * ({@link untilParked}, a warm-up call).
 *
 * @example
 * ```ts
 * import { newDescriptors, openDescriptors } from "./loop_helpers.ts";
 * const before = await openDescriptors();
 * console.log(await newDescriptors(before)); // []
 * ```
 */
export async function newDescriptors(before: readonly string[]): Promise<string[]> {
  const had = new Set(before);
  // The listing's own directory descriptor differs from call to call.
  return (await openDescriptors()).filter((d) => !had.has(d) && !d.endsWith(`=/proc/${pid()}/fd`));
}

/**
 * Waits (bounded) until no descriptor beyond `before` is open, then
 * returns the ones still new (empty when all went): a connection's close
 * or a race loser's may land a few loop turns after the promise that ended
 * it, so only a descriptor that stays open is reported.
 *
 * @example
 * ```ts
 * import { descriptorsLeft, openDescriptors } from "./loop_helpers.ts";
 * const before = await openDescriptors();
 * console.log(await descriptorsLeft(before)); // []
 * ```
 */
export async function descriptorsLeft(before: readonly string[], turns = 100): Promise<string[]> {
  let left = await newDescriptors(before);
  for (let turn = 0; turn < turns && left.length > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    left = await newDescriptors(before);
  }
  return left;
}

function pid(): number {
  return (globalThis as unknown as { process: { pid: number } }).process.pid;
}

/**
 * Waits until `loop` has parked a wait on its helper thread (bounded:
 * throws after ~20 s). The helper (a Worker on Node and Bun: its own event
 * loop, epoll, pipe and eventfd descriptors) starts the first time the loop
 * goes idle; a leak check that counts descriptors calls this first, so a
 * helper booting in the middle of the check is not taken for a leak (CI on
 * Node 20: "descriptors: 32 before, 33 after", the helper's four
 * descriptors came while a listener's and others went). A loop with
 * nothing to do never parks: a timer keeps it busy meanwhile.
 *
 * @example
 * ```ts
 * import { untilParked } from "./loop_helpers.ts";
 * import { Loop } from "../poll/loop.ts";
 * const loop = new Loop();
 * await untilParked(loop);
 * loop.close();
 * ```
 */
export async function untilParked(loop: Loop): Promise<void> {
  const keep = loop.setTimeout(() => {}, 60_000);
  try {
    for (let i = 0; !loop.parked; i++) {
      if (i >= 4000) throw new Error(`the loop never parked: ${JSON.stringify(loop.stats)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    keep.cancel();
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
  /** Resolves with the line at `index` (0 is the first) once printed; rejects if the child exits or outlives the bound first. */
  line(index: number): Promise<string>;
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
  // Lines asked for by index, each settled when printed or when the child ends.
  const lines: string[] = [];
  const waiting = new Map<number, { resolve: (line: string) => void; reject: (error: Error) => void }[]>();
  let ended: Error | undefined;
  const line = (index: number): Promise<string> => {
    if (index < lines.length) return Promise.resolve(lines[index]!);
    if (ended !== undefined) return Promise.reject(ended);
    const promise = new Promise<string>((resolve, reject) => {
      const list = waiting.get(index) ?? [];
      list.push({ resolve, reject });
      waiting.set(index, list);
    });
    promise.catch(() => {}); // observed by the caller, or not at all
    return promise;
  };
  const firstLine = line(0);
  const end = (error: Error): void => {
    ended ??= error;
    for (const list of waiting.values()) for (const w of list) w.reject(ended);
    waiting.clear();
  };
  const exited = new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(exe, exeArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env, NO_COLOR: "1", ...env },
    });
    child.stdout!.on("data", (d: Uint8Array) => {
      stdout += String(d);
      const complete = stdout.split("\n").slice(0, -1);
      while (lines.length < complete.length) {
        const index = lines.length;
        const text = complete[index]!;
        lines.push(text);
        for (const w of waiting.get(index) ?? []) w.resolve(text);
        waiting.delete(index);
      }
    });
    child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      const error = new Error(`child ${name} did not exit in ${timeoutMs} ms\n${stdout}\n${stderr}`);
      end(error);
      reject(error);
    }, timeoutMs);
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      end(new Error(`child ${name} exited (code ${code}) before printing the line waited for\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
  // Either may go unobserved when the other fails first.
  exited.catch(() => {});
  return { firstLine, line, exited };
}

/**
 * Bytes of `length` numbered from `start` (mod 251), so a lost, doubled or
 * reordered byte shows.
 *
 * @example
 * ```ts
 * import { numberedBytes } from "./loop_helpers.ts";
 * console.log(numberedBytes(250, 3)); // Uint8Array [250, 0, 1]
 * ```
 */
export function numberedBytes(start: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (start + i) % 251;
  return b;
}

/**
 * Reads exactly `count` bytes from a promise-mode connection, asserting that
 * no more and no fewer arrive before its end.
 *
 * @example
 * ```ts
 * import { readExactBytes } from "./loop_helpers.ts";
 * // const bytes = await readExactBytes(conn, 1024);
 * console.log(typeof readExactBytes);
 * ```
 */
export async function readExactBytes(conn: Connection, count: number): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let at = 0;
  while (at < count) {
    const chunk = await conn.read();
    if (chunk === null) break;
    assert.ok(at + chunk.length <= count, `more bytes than sent: ${at + chunk.length} > ${count}`);
    out.set(chunk, at);
    at += chunk.length;
  }
  assert.equal(at, count, "bytes missing");
  return out;
}
