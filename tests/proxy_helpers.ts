// Real proxies (microsocks, dante-server, tinyproxy, OpenSSH's ssh -D), a socat echo server and
// the scripted fake proxies of proxy_fake_fixture.ts, each started on
// 127.0.0.1 and a free port with its configuration in a temporary
// directory, waited for until its port accepts, and stopped by `close()`.
// CI installs the peers (.ci/run); a missing one is a clear error.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeCommand } from "./loop_helpers.ts";

export interface Peer {
  readonly port: number;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, host);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Spawns `command` and waits (at most 10 s, polling) until `port` accepts. */
async function startOn(name: string, command: string, args: string[], port: number, dir?: string, host = "127.0.0.1"): Promise<Peer> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", () => (exited = true));
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    if (await accepts(port, host)) {
      return {
        port,
        close: async () => {
          await stop(child);
          if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop(child);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  throw new Error(`${name} did not start on port ${port}: ${stderr}`);
}

/** socat echoing every connection back (PIPE), forking per connection. */
export async function startEcho(): Promise<Peer> {
  const port = await freePort();
  return startOn("socat", "socat", [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, "PIPE"], port);
}

/** socat echoing on [::1] (IPv6 targets). */
export async function startEcho6(): Promise<Peer> {
  const port = await freePort();
  return startOn("socat", "socat", [`TCP6-LISTEN:${port},bind=[::1],fork,reuseaddr`, "PIPE"], port, undefined, "::1");
}

/** microsocks (SOCKS5), with RFC 1929 credentials when given. */
export async function startMicrosocks(user?: string, pass?: string): Promise<Peer> {
  const port = await freePort();
  const args = ["-i", "127.0.0.1", "-p", String(port)];
  if (user !== undefined) args.push("-u", user, "-P", pass ?? "");
  return startOn("microsocks", "microsocks", args, port);
}

/** dante-server (SOCKS4 and SOCKS5, no authentication), one process. */
export async function startDante(): Promise<Peer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "ffinet-dante-"));
  const conf = join(dir, "danted.conf");
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  writeFileSync(
    conf,
    [
      "logoutput: stderr",
      `internal: 127.0.0.1 port = ${port}`,
      "external: 127.0.0.1",
      "socksmethod: none",
      "clientmethod: none",
      ...(root ? ["user.privileged: root", "user.unprivileged: root"] : []),
      "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
      "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }",
      "",
    ].join("\n"),
  );
  return startOn("danted", "danted", ["-f", conf, "-N", "1", "-p", join(dir, "danted.pid")], port, dir);
}

/** tinyproxy with Basic auth; with `connectPorts`, CONNECT is allowed to those only (others: 403). */
export async function startTinyproxy(user: string, pass: string, connectPorts: readonly number[] = []): Promise<Peer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "ffinet-tinyproxy-"));
  const conf = join(dir, "tinyproxy.conf");
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      "MaxClients 50",
      `BasicAuth ${user} ${pass}`,
      ...connectPorts.map((p) => `ConnectPort ${p}`),
      "Allow 127.0.0.1",
      "LogLevel Error",
      `PidFile "${join(dir, "tinyproxy.pid")}"`,
      "",
    ].join("\n"),
  );
  return startOn("tinyproxy", "tinyproxy", ["-d", "-c", conf], port, dir);
}

/** The scripted fake proxies (see proxy_fake_fixture.ts): name -> port. */
export interface FakeProxies {
  readonly ports: Readonly<Record<"garbage" | "close" | "socks5half" | "stall" | "banner" | "socks4a", number>>;
  close(): Promise<void>;
}

export async function startFakeProxies(): Promise<FakeProxies> {
  const [cmd, args] = runtimeCommand(fileURLToPath(new URL("proxy_fake_fixture.ts", import.meta.url)));
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Uint8Array) => {
      out += String(d);
      const end = out.indexOf("\n");
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.once("exit", (code) => reject(new Error(`proxy_fake_fixture exited (${code}): ${err}`)));
  });
  return {
    ports: JSON.parse(line),
    close: async () => {
      child.stdin!.end();
      await stop(child);
    },
  };
}

/**
 * OpenSSH's dynamic forwarding as a SOCKS4/4a/5 proxy: an `sshd` on a free
 * port (host and client keys made here, key login for this user only, no
 * PAM) and `ssh -N -D` to it. `ssh -D` is the Debian proxy that speaks
 * SOCKS4a (the name goes to sshd, which resolves it); dante and microsocks
 * do not. Needs openssh-server and openssh-client; sshd run as root needs
 * its privilege-separation directory (/run/sshd), made here when missing.
 */
export async function startSshSocks(): Promise<Peer> {
  const [sshPort, socksPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "ffinet-sshd-"));
  const keygen = (name: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)], { timeout: 20_000 });
  keygen("host_key");
  keygen("client_key");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o600 });
  writeFileSync(
    join(dir, "sshd_config"),
    [
      "ListenAddress 127.0.0.1",
      `Port ${sshPort}`,
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "AllowTcpForwarding yes",
      "StrictModes no",
      "UsePAM no",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  if (typeof process.getuid === "function" && process.getuid() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const sshd = await startOn("sshd", "/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], sshPort);
  // (Bun's os.userInfo() says "unknown".)
  const user = execFileSync("id", ["-un"], { timeout: 5000 }).toString().trim();
  let ssh: Peer;
  try {
    ssh = await startOn("ssh -D", "ssh", [
      "-N", "-D", `127.0.0.1:${socksPort}`, "-i", join(dir, "client_key"), "-p", String(sshPort),
      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
      `${user}@127.0.0.1`,
    ], socksPort);
  } catch (err) {
    await sshd.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port: socksPort,
    close: async () => {
      await ssh.close();
      await sshd.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fake proxy on 127.0.0.1: `reply` gets the socket once the client sent
 * its first bytes. The server is pushed on `servers` (the caller closes
 * them); resolves with its port.
 *
 * @example
 * ```ts
 * import { fakeProxy } from "./proxy_helpers.ts";
 * // const port = await fakeProxy(servers, (s) => s.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
 * console.log(typeof fakeProxy);
 * ```
 */
export function fakeProxy(servers: net.Server[], reply: (socket: net.Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      s.on("error", () => {});
      s.once("data", () => reply(s));
    });
    servers.push(server);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}
