/**
 * The nginx the client benchmarks run against (issue: "nginx on another
 * core"): one worker process, a config written into a temp dir at run
 * time, a 1 KiB body at `/1k`, keep-alive without a request limit.
 * Listens on 127.0.0.1 with HTTP/1.1 (`port`), HTTP/2 and HTTP/1.1 over
 * TLS by ALPN with the given certificate (`tlsPort`) and h2c by prior
 * knowledge (`h2cPort`). `startNginx` resolves null when no nginx binary
 * is installed, so the caller can fall back to a node:http server.
 *
 * @example
 * ```ts ignore
 * import { startNginx } from "./_nginx.ts";
 * const nginx = await startNginx({ certPath: "leaf_chain.pem", keyPath: "leaf.key" });
 * if (nginx) console.log(`http://127.0.0.1:${nginx.port}/1k`), await nginx.stop();
 * ```
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running nginx. */
export interface Nginx {
  /** HTTP/1.1, cleartext. */
  port: number;
  /** HTTP/2 and HTTP/1.1 over TLS (ALPN). */
  tlsPort: number;
  /** h2c by prior knowledge. */
  h2cPort: number;
  /** nginx -v. */
  version: string;
  stop(): Promise<void>;
}

const BINARIES = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.once("connect", () => (c.destroy(), resolve(true)));
    c.once("error", () => resolve(false));
  });
}

/** Starts nginx with a generated config (null when nginx is not installed). */
export async function startNginx(options: { certPath: string; keyPath: string; bodyBytes?: number }): Promise<Nginx | null> {
  const bin = BINARIES.find((p) => existsSync(p));
  if (bin === undefined) return null;
  const dir = mkdtempSync(join(tmpdir(), "ffinet-bench-nginx-"));
  const www = join(dir, "www");
  mkdirSync(www);
  writeFileSync(join(www, "1k"), "x".repeat(options.bodyBytes ?? 1024));
  const [port, tlsPort, h2cPort] = [await freePort(), await freePort(), await freePort()];
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${join(dir, t)};`).join(" ");
  writeFileSync(
    join(dir, "nginx.conf"),
    [
      "daemon off;",
      "master_process off;",
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")} error;`,
      "events { worker_connections 4096; }",
      "http {",
      "  access_log off;",
      `  ${temp}`,
      "  default_type text/plain;",
      "  etag off;",
      // No limit on requests per connection (the default 1000 would make the benchmark measure reconnects).
      "  keepalive_requests 100000000; keepalive_timeout 300s;",
      "  http2_max_concurrent_streams 1000;",
      `  server { listen 127.0.0.1:${port}; root ${www}; }`,
      `  server { listen 127.0.0.1:${tlsPort} ssl http2; server_name localhost; ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate ${options.certPath}; ssl_certificate_key ${options.keyPath}; root ${www}; }`,
      `  server { listen 127.0.0.1:${h2cPort} http2; root ${www}; }`,
      "}",
      "",
    ].join("\n"),
  );
  const child = spawn(bin, ["-p", dir, "-c", join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  let up = false;
  for (let i = 0; i < 200 && !up && child.exitCode === null; i++) {
    up = (await accepts(port)) && (await accepts(tlsPort)) && (await accepts(h2cPort));
    if (!up) await new Promise((r) => setTimeout(r, 25));
  }
  if (!up) {
    await stop();
    throw new Error(`nginx did not start: ${stderr}`);
  }
  const version = await new Promise<string>((resolve) => {
    const v = spawn(bin, ["-v"], { stdio: ["ignore", "ignore", "pipe"] });
    let out = "";
    v.stderr!.on("data", (d: Uint8Array) => (out += String(d)));
    v.once("exit", () => resolve(out.trim().replace(/^nginx version: /, "")));
  });
  return { port, tlsPort, h2cPort, version, stop };
}
