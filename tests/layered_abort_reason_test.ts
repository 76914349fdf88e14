// A layered connection (tls/connection_transport.ts: a tunnel, TLS in memory-BIO mode over a connection)
// aborted by a write's signal: every write still queued rejects with the signal's reason, as on a
// connection over a descriptor (it rejected with SocketClosedError EPIPE: the transport failed the queue
// as closed before the connection failed it with the reason). A plain abort() still rejects with EPIPE.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";
import { SocketClosedError } from "../core/errors.ts";
import { Connection } from "../poll/connection.ts";
import { connect, listen } from "../poll/listener.ts";
import { defaultLoop } from "../poll/loop.ts";
import { connectionTransport } from "../tls/connection_transport.ts";
import { startTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const bounded = <T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

const what = (e: unknown): string => (e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ""} ${e.message}` : String(e));

const settled = (p: Promise<void>): Promise<unknown> => p.then(() => "resolved", (e: unknown) => e);

/**
 * More than the kernel's buffers on both ends of a loopback connection can take: the receive buffer alone
 * autotunes up to net.ipv4.tcp_rmem's maximum (32 MiB on the CI machine), so 8 MiB could all be taken in
 * and the writes resolve before the abort.
 */
const PAST_EVERY_BUFFER = 96 << 20;

/** Two writes past every buffer to a peer that does not read, the second with `signal`; then the signal aborts. */
async function abortQueued(conn: Connection): Promise<{ first: unknown; second: unknown; reason: unknown }> {
  const ac = new AbortController();
  const first = settled(conn.write(new Uint8Array(PAST_EVERY_BUFFER)));
  const second = settled(conn.write(new Uint8Array(1 << 20), { signal: ac.signal }));
  await new Promise((r) => setTimeout(r, 50));
  const reason = new DOMException("stopped by the caller", "AbortError");
  ac.abort(reason);
  return { first: await bounded(first, "the first write"), second: await bounded(second, "the second write"), reason };
}

describe("a layered connection aborted by a write's signal", () => {
  test("over a connection (a tunnel): the queued writes reject with the signal's reason; abort() without one still gives EPIPE", async () => {
    const server = listen({ host: "127.0.0.1", port: 0 });
    const peers: Connection[] = [];
    const inners: Connection[] = [];
    try {
      const layered = async () => {
        const inner = await connect({ host: "127.0.0.1", port: server.port });
        inners.push(inner);
        peers.push((await server.accept())!);
        return new Connection(defaultLoop(), inner.socket, undefined, {}, connectionTransport(inner));
      };
      const outer = await layered();
      const { first, second, reason } = await abortQueued(outer);
      assert.ok(second === reason, `the queued write rejected with ${what(second)}`);
      assert.ok(first === reason, `the partly sent write rejected with ${what(first)}`);
      await bounded(inners[0]!.whenClosed, "the connection underneath to close");
      const other = await layered();
      const pending = settled(other.write(new Uint8Array(PAST_EVERY_BUFFER)));
      await new Promise((r) => setTimeout(r, 50));
      other.abort();
      const error = await bounded(pending, "the write");
      assert.ok(error instanceof SocketClosedError && error.code === "EPIPE", String(error));
    } finally {
      for (const c of [...peers, ...inners]) c.abort();
      server.close();
    }
  });

  test("TLS in memory-BIO mode over a connection: the queued writes reject with the signal's reason", async () => {
    const pki = testPKI();
    const sockets: Array<{ destroy(): void }> = [];
    const server = tls.createServer({ cert: pki.chain, key: pki.key }, (s) => {
      s.on("error", () => {});
      s.pause();
    });
    server.on("connection", (raw: { destroy(): void; on(e: string, f: () => void): void }) => {
      raw.on("error", () => {});
      sockets.push(raw);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const plain = await connect({ host: "127.0.0.1", port });
    try {
      const conn = await bounded(startTLS(plain, { host: "localhost", ca: pki.root, bio: true }), "the handshake", 30_000);
      const { first, second, reason } = await abortQueued(conn);
      assert.ok(second === reason, `the queued write rejected with ${what(second)}`);
      assert.ok(first === reason, `the partly sent write rejected with ${what(first)}`);
      await bounded(plain.whenClosed, "the connection underneath to close");
    } finally {
      plain.abort();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
