/**
 * dnsmasq as a real DNS peer for tests and benchmarks: started on
 * 127.0.0.1 and a free port with a small test zone (`zone.test`), stopped
 * by `close()`. Throws a clear error when dnsmasq is not installed (CI
 * installs it: .ci/run).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Dnsmasq {
  readonly address: string;
  /** `[::1]:port` when started with `{ ipv6: true }`. */
  readonly address6: string | undefined;
  readonly port: number;
  close(): Promise<void>;
}

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

export function dnsmasqPath(): string {
  for (const p of ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/usr/local/sbin/dnsmasq"]) {
    const r = spawnSync(p, ["--version"]);
    if (r.status === 0) return p;
  }
  throw new Error("dnsmasq is not installed (apt-get install -y dnsmasq; .ci/run installs it): the DNS tests need it as a real peer");
}

/** Options of {@link startDnsmasq}: `ipv6` listens on [::1] as well. */
export interface DnsmasqOptions {
  readonly ipv6?: boolean;
}

export async function startDnsmasq(options: DnsmasqOptions = {}): Promise<Dnsmasq> {
  const bin = dnsmasqPath();
  const dir = mkdtempSync(join(tmpdir(), "ffinet-dnsmasq-"));
  writeFileSync(join(dir, "hosts"), "10.0.0.2 hosts.zone.test\n10.0.0.3 multi.zone.test\n10.0.0.4 multi.zone.test\n");
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const args = [
      "--no-daemon", "--conf-file=/dev/null", `--port=${port}`, "--listen-address=127.0.0.1", "--bind-interfaces",
      "--no-resolv", "--no-hosts", `--addn-hosts=${join(dir, "hosts")}`, "--local=/zone.test/", "--pid-file=",
      "--log-facility=-", "--cache-size=0", "--local-ttl=300",
      "--host-record=www.zone.test,10.0.0.1,fd00::1",
      "--cname=alias.zone.test,www.zone.test",
      "--cname=alias2.zone.test,alias.zone.test",
      "--mx-host=zone.test,mail.zone.test,10",
      "--srv-host=_http._tcp.zone.test,www.zone.test,80,1,5",
      "--txt-record=txt.zone.test,hello world,second",
      "--host-record=v4only.zone.test,10.0.0.9",
      "--address=/wild.zone.test/10.0.0.5",
      // Both loopbacks: Happy Eyeballs tests connect to it by name.
      "--host-record=loop.zone.test,127.0.0.1,::1",
      "--host-record=loop4.zone.test,127.0.0.1",
      "--cname=loopalias.zone.test,loop.zone.test",
      // Six 250-byte strings: past the 1232-byte EDNS payload, so the answer goes over TCP.
      `--txt-record=big.zone.test,${["a", "b", "c", "d", "e", "f"].map((c) => c.repeat(250)).join(",")}`,
    ];
    if (options.ipv6 === true) args.push("--listen-address=::1");
    if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--user=root", "--group=root");
    const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    const started = await new Promise<boolean>((resolve) => {
      let text = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("started")) resolve(true);
        if (text.includes("failed to create listening socket") || text.includes("Address already in use")) resolve(false);
      });
      child.once("exit", () => resolve(false));
    });
    if (!started) {
      child.kill("SIGKILL");
      if (tries >= 5) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error("dnsmasq did not start");
      }
      continue;
    }
    return {
      address: `127.0.0.1:${port}`,
      address6: options.ipv6 === true ? `[::1]:${port}` : undefined,
      port,
      close: () =>
        new Promise<void>((resolve) => {
          child.once("exit", () => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          });
          child.kill("SIGTERM");
        }),
    };
  }
}

/** A TCP listener and a UDP socket bound to the same port of 127.0.0.1 (a DNS server's two transports). */
export interface TcpUdpPair {
  readonly tcp: net.Server;
  readonly udp: dgram.Socket;
  readonly port: number;
}

/**
 * Listens on TCP port 0 of 127.0.0.1 and binds UDP to the same port,
 * trying other ports while that UDP port is taken (at most 21 tries).
 *
 * @example
 * ```ts ignore
 * const { tcp, udp, port } = await bindTcpAndUdp();
 * ```
 */
export async function bindTcpAndUdp(): Promise<TcpUdpPair> {
  for (let tries = 0; ; tries++) {
    const tcp = net.createServer();
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket("udp4");
    const bound = await new Promise<boolean>((r) => {
      udp.once("error", () => r(false));
      udp.bind(port, "127.0.0.1", () => r(true));
    });
    if (bound) return { tcp, udp, port };
    tcp.close();
    udp.close();
    if (tries > 20) throw new Error("no free UDP port beside the TCP one");
  }
}
