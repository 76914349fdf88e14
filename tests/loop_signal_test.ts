import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { connect } from "../poll/listener.ts";
import { Loop } from "../poll/loop.ts";
import { onSignals, type SignalName, shutdownOnSignal } from "../poll/signals.ts";
import { runtimeCommand } from "./loop_helpers.ts";

interface Running {
  lines: string[];
  nextLine(prefix: string): Promise<string>;
  signal(name: "SIGINT" | "SIGTERM"): void;
  exited: Promise<number | null>;
}

function startFixture(mode: string): Running {
  const [cmd, args] = runtimeCommand(fileURLToPath(new URL("loop_fixture_signal.ts", import.meta.url)));
  const child = spawn(cmd, [...args, mode], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let buffer = "";
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
  child.stdout!.on("data", (d: Uint8Array) => {
    buffer += String(d);
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (line.startsWith(w.prefix)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code: number | null) => resolve(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  void exited.then(() => clearTimeout(killer));
  return {
    lines,
    nextLine: (prefix) => {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve });
        void exited.then((code) => reject(new Error(`child exited (${code}) before "${prefix}": ${lines.join(" | ")} ${stderr}`)));
      });
    },
    // process.kill rather than child.kill: Deno's child_process reports any
    // child it was asked to kill as killed by that signal, even one that
    // handled it and exited with 0.
    signal: (name) => void (globalThis as unknown as { process: { kill(pid: number, s: string): void } }).process.kill(child.pid!, name),
    exited,
  };
}

test("SIGTERM starts a graceful shutdown: open connections are closed, the process exits by itself", async () => {
  const child = startFixture("graceful");
  const port = Number((await child.nextLine("READY ")).slice(6));
  const loop = new Loop();
  try {
    const conn = await connect({ host: "127.0.0.1", port, loop });
    await conn.write(new TextEncoder().encode("ping"));
    assert.equal(new TextDecoder().decode((await conn.read())!), "ping");
    child.signal("SIGTERM");
    // The server closes our connection gracefully: end of stream, no reset.
    assert.equal(await conn.read(), null);
    assert.equal(await child.exited, 0);
    assert.ok(child.lines.includes("shutdown SIGTERM with 1 open"), child.lines.join(" | "));
    assert.ok(child.lines.includes("closed"), child.lines.join(" | "));
    await conn.close();
  } finally {
    loop.close();
    await loop.released();
  }
});

test("a second SIGINT during a shutdown that does not finish exits with 130", async () => {
  const child = startFixture("stubborn");
  await child.nextLine("READY ");
  child.signal("SIGINT");
  await child.nextLine("shutdown SIGINT");
  child.signal("SIGINT");
  assert.equal(await child.exited, 130);
});

const selfProcess = (globalThis as unknown as { process: { pid: number; kill(pid: number, s: string): void } }).process;

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test("graceMs: Infinity waits for onShutdown instead of closing the loop at once", async () => {
  let closed = 0;
  const loop = { close: () => void closed++ } as unknown as Loop;
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  const signals: SignalName[] = [];
  const sub = shutdownOnSignal((signal) => {
    signals.push(signal);
    return done;
  }, { signals: ["SIGUSR2"], loop, graceMs: Infinity, exitOnSecondSignal: false });
  try {
    selfProcess.kill(selfProcess.pid, "SIGUSR2");
    await until(() => signals.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, 0, "the loop was closed before onShutdown settled");
    release();
    await until(() => closed === 1);
  } finally {
    sub.close();
  }
});

test("signal names are checked: inherited property names are refused", () => {
  for (const name of ["toString", "constructor", "__proto__", "SIGKILL"]) {
    assert.throws(() => onSignals([name as SignalName], () => {}), TypeError, name);
  }
  assert.throws(() => shutdownOnSignal(() => {}, { signals: ["hasOwnProperty" as SignalName] }), TypeError);
});
