// kTLS needs fd mode (OpenSSL hands the socket's record layer to the
// kernel), and io_uring's TLS is memory-BIO mode: with io_uring the default
// I/O (aca407d), a listener or connection asking for `ktls` (true,
// "require", or a context with it) without an `io` option went over
// io_uring and silently without kTLS. It now takes readiness I/O; an
// explicit `io` is kept. The choice is checked on the listener (its `io`),
// listen({ tls }) alike, and connections with `ktls: true` (best effort, so it runs on a kernel
// without the `tls` module too) still talk.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Connection } from "../poll/connection.ts";
import { connect } from "../poll/connect.ts";
import { listen } from "../poll/listener.ts";
import { chooseAsyncIo } from "../poll/uring/probe.ts";
import { connectTLS, listenTLS, tlsConnector } from "../tls/connect_async.ts";
import { TLSContext } from "../tls/context.ts";
import { tlsTestBed } from "./tls_helpers.ts";

const { cert, key, ca, closers } = tlsTestBed();

async function echo(conn: Connection, text: string): Promise<string> {
  await conn.write(new TextEncoder().encode(text));
  const got = await conn.readExactly(text.length);
  return new TextDecoder().decode(got);
}

describe("ktls asks for fd mode: readiness I/O unless io is given", () => {
  test("listenTLS and listen({ tls }): ktls true, or a context with it, listens with readiness; without ktls the default; an explicit io is kept", async () => {
    const handler = { data: (c: Connection, d: Uint8Array) => void c.write(d.slice()) };
    const withKtls = listenTLS({ port: 0, host: "127.0.0.1", cert, key, ktls: true, handler });
    closers.push(() => withKtls.close());
    assert.equal(withKtls.io, "readiness");
    const context = new TLSContext({ role: "server", cert, key, ktls: true });
    closers.push(() => context.close());
    const viaContext = listenTLS({ port: 0, host: "127.0.0.1", context, handler });
    closers.push(() => viaContext.close());
    assert.equal(viaContext.io, "readiness");
    const plain = listenTLS({ port: 0, host: "127.0.0.1", cert, key, handler });
    closers.push(() => plain.close());
    assert.equal(plain.io, chooseAsyncIo());
    const asked = listenTLS({ port: 0, host: "127.0.0.1", cert, key, ktls: true, io: "uring", handler });
    closers.push(() => asked.close());
    assert.equal(asked.io, chooseAsyncIo("uring"));
    // listen({ tls }) alike.
    const listenKtls = listen({ port: 0, host: "127.0.0.1", tls: { cert, key, ktls: true }, handler });
    closers.push(() => listenKtls.close());
    assert.equal(listenKtls.io, "readiness");
    const listenPlain = listen({ port: 0, host: "127.0.0.1", tls: { cert, key }, handler });
    closers.push(() => listenPlain.close());
    assert.equal(listenPlain.io, chooseAsyncIo());

    // Clients with ktls: true through each entry point still talk to each listener.
    const connector = tlsConnector({ ca, servername: "localhost", ktls: true });
    for (const server of [withKtls, plain, listenKtls]) {
      const port = server.port;
      const conns = [
        await connectTLS({ host: "127.0.0.1", servername: "localhost", port, ca, ktls: true }),
        await connect({ host: "127.0.0.1", port, tls: { servername: "localhost", ca, ktls: true } }),
        await connector({ host: "127.0.0.1", port }),
      ];
      for (const [i, conn] of conns.entries()) {
        assert.equal(await echo(conn, `hello ${i}`), `hello ${i}`);
        await conn.close();
      }
    }
  });
});
