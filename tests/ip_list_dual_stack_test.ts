// White- and blacklists on a dual-stack listener (`::`): an IPv4 client
// arrives as ::ffff:127.0.0.1 and matches IPv4 rules written either way
// (127.0.0.0/8, ::ffff:127.0.0.0/8, ::ffff:127.0.0.0/104); a mapped prefix
// with an IPv4 length is that IPv4 range, never an IPv6 /8 (which held ::1
// and every IPv4 client). Real clients over 127.0.0.1 and ::1.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { SocketError } from "../core/errors.ts";
import { connect, type Connection, listen, type Listener } from "../poll/mod.ts";
import { ListenProtection } from "../pool/mod.ts";

const servers: Listener[] = [];
after(() => {
  for (const s of servers) s.close();
});

const seen: string[] = [];

function dualStack(syn: { blacklist?: string[]; whitelist?: string[] }): Listener {
  const protect = new ListenProtection({ syn });
  const server = listen({
    host: "::",
    port: 0,
    protect,
    handler: { open: (c) => void seen.push((c.remoteAddress as { host: string }).host), data: (c, d) => void c.send(d) },
  });
  servers.push(server);
  return server;
}

/** Whether the server echoes on a connection from `host` (true) or refused it with a close (false). */
async function echoes(host: string, port: number): Promise<boolean> {
  let conn: Connection | undefined;
  try {
    conn = await connect({ host, port });
    await conn.write(new Uint8Array([7]));
    const got = await conn.read();
    return got !== null && got[0] === 7;
  } catch (err) {
    if (err instanceof SocketError && (err.code === "ECONNRESET" || err.code === "EPIPE")) return false;
    throw err;
  } finally {
    await conn?.close().catch(() => {});
  }
}

describe("listen({ protect }) on a dual-stack socket: IPv4 rules in either form", () => {
  test("an IPv4 client arrives as ::ffff:127.0.0.1", async () => {
    const server = dualStack({});
    seen.length = 0;
    assert.equal(await echoes("127.0.0.1", server.port), true);
    assert.deepEqual(seen, ["::ffff:127.0.0.1"]);
  });

  for (const rule of ["127.0.0.0/8", "::ffff:127.0.0.0/8", "::ffff:127.0.0.0/104", "::ffff:127.0.0.1"]) {
    test(`blacklist ${rule}: the IPv4 client is refused, ::1 is served`, async () => {
      const server = dualStack({ blacklist: [rule] });
      assert.equal(await echoes("127.0.0.1", server.port), false);
      assert.equal(await echoes("::1", server.port), true);
    });
  }

  test("blacklist ::ffff:10.0.0.0/8 (read as an IPv6 /8 it was ::/8): neither 127.0.0.1 nor ::1 is refused", async () => {
    const server = dualStack({ blacklist: ["::ffff:10.0.0.0/8"] });
    assert.equal(await echoes("127.0.0.1", server.port), true);
    assert.equal(await echoes("::1", server.port), true);
  });

  test("whitelist ::ffff:127.0.0.0/8 lets the IPv4 client past a blacklist of every IPv4 address", async () => {
    const server = dualStack({ whitelist: ["::ffff:127.0.0.0/8"], blacklist: ["0.0.0.0/0"] });
    assert.equal(await echoes("127.0.0.1", server.port), true);
    const blocked = dualStack({ whitelist: ["::ffff:10.0.0.0/8"], blacklist: ["0.0.0.0/0"] });
    assert.equal(await echoes("127.0.0.1", blocked.port), false);
    assert.equal(await echoes("::1", blocked.port), true);
  });
});
