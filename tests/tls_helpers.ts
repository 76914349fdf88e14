// openssl s_server / s_client as real TLS peers for the tls/ tests, each
// bounded by a timeout and killed by its caller in `finally`.
import { type ChildProcess, spawn } from "node:child_process";

export interface SServer {
  readonly port: number;
  /** Everything s_server printed so far. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts `openssl s_server` on 127.0.0.1 (a free port) with `args`; resolves
 * once it accepts. `keepOutput: false` drops what it prints afterwards;
 * `env` adds variables (OPENSSL_CONF, say) to the inherited environment.
 */
export function startSServer(args: readonly string[], keepOutput = true, env: Readonly<Record<string, string>> = {}): Promise<SServer> {
  const child = spawn("timeout", ["60", "openssl", "s_server", "-accept", "127.0.0.1:0", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /ACCEPT [^\n]*:(\d+)/.exec(out);
      if (!m) return;
      child.stdout!.off("data", onData);
      if (!keepOutput) {
        child.stdout!.removeAllListeners("data");
        child.stderr!.removeAllListeners("data");
        child.stdout!.resume();
        child.stderr!.resume();
      }
      resolve({ port: Number(m[1]), output: () => out, close: () => stop(child) });
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`s_server exited (${code}): ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    // SIGTERM: `timeout` passes it on to openssl (SIGKILL would orphan it).
    child.kill("SIGTERM");
  });
}

export interface SClient {
  /** Resolves with s_client's output once it exits. */
  readonly done: Promise<string>;
  kill(): Promise<void>;
}

/**
 * Runs `openssl s_client -connect 127.0.0.1:port` with stdin at EOF;
 * `-ign_eof` keeps it reading until the server closes, and it prints what
 * it got plus its session summary. `env` adds variables to the inherited environment.
 */
export function runSClient(port: number, args: readonly string[], env: Readonly<Record<string, string>> = {}): SClient {
  const child = spawn("timeout", ["20", "openssl", "s_client", "-ign_eof", "-connect", `127.0.0.1:${port}`, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  const done = new Promise<string>((resolve) => child.once("exit", () => resolve(out)));
  return { done, kill: () => stop(child) };
}
