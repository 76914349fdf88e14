// Handlers whose callbacks are not functions (red team, twelfth pass,
// hostile input: API misuse): a TypeError naming the callback when the
// handler is given, to listen, connect, listenTLS, connectTLS, setHandler,
// serve's websocket and the Agent's factory. Before, `listen({ handler: { data: "echo" } })` was
// taken and the first bytes a peer sent made the loop throw "handler.data
// is not a function" into the runtime (the process ended); the same for a
// connection's setHandler, TLS and a WebSocket handler's message.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "../http/client/agent.ts";
import { serve } from "../http/server/serve.ts";
import { connect } from "../poll/connect.ts";
import type { Connection } from "../poll/connection.ts";
import { listen } from "../poll/listener.ts";
import { connectTLS, listenTLS } from "../tls/connect_async.ts";
import { testPKI } from "./tls_pki.ts";

const names = (what: string) => (e: unknown) => e instanceof TypeError && e.message.includes(what);

describe("callbacks that are not functions are refused when given", () => {
  for (const name of ["open", "data", "end", "drain", "close", "error", "timeout"]) {
    test(`listen and connect: handler.${name}`, async () => {
      assert.throws(() => listen({ host: "127.0.0.1", port: 0, handler: { [name]: "x" } as never }), names(`handler.${name} must be a function`));
      await assert.rejects(async () => await connect({ host: "127.0.0.1", port: 9, handler: { [name]: 1 } as never }), names(`handler.${name} must be a function`));
    });
  }

  test("listenTLS and connectTLS: handler.data", async () => {
    const pki = testPKI();
    assert.throws(() => listenTLS({ host: "127.0.0.1", port: 0, cert: pki.chain, key: pki.key, handler: { data: "x" } as never }), names("handler.data must be a function"));
    await assert.rejects(async () => await connectTLS({ host: "127.0.0.1", port: 9, handler: { data: "x" } as never }), names("handler.data must be a function"));
  });

  test("listen and connect: a handler that is not an object", async () => {
    assert.throws(() => listen({ host: "127.0.0.1", port: 0, handler: "echo" as never }), names("handler must be an object of callbacks"));
    await assert.rejects(async () => await connect({ host: "127.0.0.1", port: 9, handler: 5 as never }), names("handler must be an object of callbacks"));
  });

  test("setHandler on a live connection: refused, the connection goes on in read mode", async () => {
    const listener = listen({ host: "127.0.0.1", port: 0 });
    try {
      const client = await connect({ host: "127.0.0.1", port: listener.port });
      const server = (await listener.accept())!;
      assert.throws(() => server.setHandler({ data: "echo" } as never), names("handler.data must be a function"));
      await client.write(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await server.readExactly(3), new Uint8Array([1, 2, 3]));
      await client.close();
      await server.close();
    } finally {
      listener.close();
    }
  });

  for (const name of ["open", "message", "close", "drain", "ping", "pong", "error", "checkOrigin"]) {
    test(`serve: websocket.${name}`, () => {
      assert.throws(
        () => serve({ host: "127.0.0.1", port: 0, fetch: () => new Response("x"), websocket: { [name]: "x" } as never }),
        names(`websocket.${name} must be a function`),
      );
    });
  }

  test("Agent: factory", () => {
    assert.throws(() => new Agent({ factory: "pool" as never }), names("factory must be a function"));
    new Agent({ factory: undefined as never }).close();
  });

  test("handlers of functions (and undefined callbacks) are taken as before", async () => {
    const listener = listen({ host: "127.0.0.1", port: 0, handler: { open: undefined, data: (c: Connection, b: Uint8Array) => void c.send(b) } as never });
    try {
      const client = await connect({ host: "127.0.0.1", port: listener.port });
      await client.write(new Uint8Array([7]));
      assert.deepEqual(await client.readExactly(1), new Uint8Array([7]));
      await client.close();
    } finally {
      listener.close();
    }
    const server = serve({ host: "127.0.0.1", port: 0, fetch: () => new Response("x"), websocket: { message: () => {}, close: undefined } as never });
    await server.shutdown();
  });
});
