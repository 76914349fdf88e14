// openssl s_server / s_client as real TLS peers for the tls/ tests, each
// bounded by a timeout and killed by its caller in `finally`; and the test
// bed most TLS test files share (tlsTestBed).
import { type ChildProcess, spawn } from "node:child_process";
import { after } from "node:test";
import { testPKI } from "./tls_pki.ts";

/** What {@link tlsTestBed} gives a test file. */
export interface TLSTestBed {
  /** The leaf's certificate chain (PEM, leaf first), for a server's `cert`. */
  readonly cert: string;
  /** The leaf's private key (PEM), for a server's `key`. */
  readonly key: string;
  /** The root that verifies the chain (PEM), for a client's `ca`. */
  readonly ca: string;
  /** Listeners, contexts and the like to close after the file's tests: push a function that closes each. */
  readonly closers: (() => unknown)[];
}

/**
 * The test PKI's server identity and a list of closers that an `after`
 * hook (registered here, so call it at the file's top level) runs in order
 * once the file's tests are done.
 */
export function tlsTestBed(): TLSTestBed {
  const pki = testPKI();
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const close of closers.splice(0)) await close();
  });
  return { cert: pki.chain, key: pki.key, ca: pki.root, closers };
}

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
