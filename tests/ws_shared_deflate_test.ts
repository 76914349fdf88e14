// permessage-deflate's sharedCompressor: with server_no_context_takeover
// every connection compresses through one zlib stream; the clients get the
// same messages, and the server's memory per connection drops (each mode
// measured in a fresh child process: RSS growth over 100 connections).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../http/server/serve.ts";
import { runChild } from "./loop_helpers.ts";
import { npmMessages, openNpmClient } from "./ws_peers.ts";

async function measure(mode: "shared" | "own"): Promise<{ perConnection: number; compressors: number; connections: number }> {
  const r = await runChild("ws_shared_deflate_fixture.ts", [mode], 120_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as { perConnection: number; compressors: number; connections: number };
}

describe("permessage-deflate sharedCompressor", () => {
  test("one zlib stream for every connection with no_context_takeover, and less memory per connection", async () => {
    const own = await measure("own");
    const shared = await measure("shared");
    console.log(`RSS per connection (server and client in one process): own ${(own.perConnection / 1024).toFixed(0)} KiB, shared ${(shared.perConnection / 1024).toFixed(0)} KiB`);
    assert.equal(own.connections, 100);
    assert.equal(shared.connections, 100);
    assert.equal(own.compressors, 0);
    assert.equal(shared.compressors, 1);
    assert.ok(shared.perConnection < own.perConnection, `shared ${shared.perConnection} B, own ${own.perConnection} B per connection`);
  });

  test("npm ws clients inflate what the shared stream compressed, messages to several clients interleaved", async () => {
    const sockets: { send(m: string): number; extensions: string }[] = [];
    await using server = serve({
      host: "127.0.0.1",
      port: 0,
      fetch: (request) => server.upgrade(request) ? undefined : new Response("no", { status: 400 }),
      websocket: {
        perMessageDeflate: { serverNoContextTakeover: true, sharedCompressor: true },
        open: (ws) => void sockets.push(ws),
        // Each message is answered to every client, so the shared stream alternates between them.
        message: (_ws, m) => {
          for (const [i, s] of sockets.entries()) s.send(`${String(m)} to ${i} `.repeat(50));
        },
      },
    });
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await openNpmClient(`ws://127.0.0.1:${server.addr.port}/`));
    for (const s of sockets) assert.match(s.extensions, /server_no_context_takeover/);
    const queues = clients.map((c) => npmMessages(c));
    for (let round = 0; round < 4; round++) {
      clients[round % 3]!.send(`round ${round}`);
      for (const [i, next] of queues.entries()) assert.equal((await next()).data, `round ${round} to ${i} `.repeat(50));
    }
    for (const c of clients) c.close(1000);
  });
});
