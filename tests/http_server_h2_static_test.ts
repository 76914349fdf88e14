// serveStatic's large files over HTTP/2 (h2c): sendfile(2) cannot apply inside DATA frames,
// so the file streams from its body, chunk by chunk, under flow control. A raw client made
// from the HTTP/2 core checks the bytes and the content-length, and that the server reads the
// file only as the window lets it send: with the window shut, the file is changed; once the
// window opens, the next read sees the change and the stream is reset long before the end.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type Server, serveStatic } from "../http/server/mod.ts";
import { H2Connection } from "../http/h2/connection.ts";
import type { H2Event } from "../http/h2/events.ts";

const SIZE = 16 * 1024 * 1024 + 5;
/** The protocol's initial window: all a client that never credits data back can get. */
const INITIAL_WINDOW = 65535;

let dir = "";
let server: Server;

function pattern(i: number): number {
  return (i * 7 + (i >> 11)) & 0xff;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ffinet-h2-static-"));
  const big = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) big[i] = pattern(i);
  writeFileSync(join(dir, "big.bin"), big);
  writeFileSync(join(dir, "changing.bin"), big);
  server = serve({ port: 0, fetch: serveStatic(dir) });
});

after(async () => {
  await server.shutdown({ deadlineMs: 2000 });
  rmSync(dir, { recursive: true, force: true });
});

interface Client {
  h2: H2Connection;
  /** Sends what the client core has queued. */
  flush(): void;
  /** Resolves with the next events (waits for bytes from the server when there are none). */
  next(): Promise<H2Event[]>;
  close(): void;
}

/** A raw HTTP/2 client on a socket to the server (prior knowledge). */
function connect(autoWindowUpdate: boolean): Promise<Client> {
  return new Promise((resolve, reject) => {
    const h2 = new H2Connection({ role: "client", now: null, autoWindowUpdate });
    const sock = net.connect(server.addr.port, "127.0.0.1");
    let queued: H2Event[] = [];
    let waiter: (() => void) | undefined;
    let closed = false;
    const wake = (): void => {
      const w = waiter;
      waiter = undefined;
      w?.();
    };
    const flush = (): void => {
      if (!h2.wantsWrite || sock.destroyed) return;
      sock.write(h2.pull());
    };
    sock.on("data", (d: Uint8Array) => {
      queued.push(...h2.receive(new Uint8Array(d)));
      flush();
      wake();
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      closed = true;
      wake();
    });
    sock.on("connect", () => {
      flush();
      resolve({
        h2,
        flush,
        async next() {
          while (queued.length === 0 && !closed) await new Promise<void>((r) => (waiter = r));
          const out = queued;
          queued = [];
          if (out.length === 0) throw new Error("the server closed the connection");
          return out;
        },
        close: () => sock.destroy(),
      });
    });
    sock.on("error", reject);
  });
}

function get(client: Client, path: string): number {
  const id = client.h2.request([":method", "GET", ":scheme", "http", ":authority", "127.0.0.1", ":path", path], true);
  client.flush();
  return id;
}

function field(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

describe("serveStatic over HTTP/2", () => {
  test("a large file arrives whole, in order, with its content-length", async () => {
    const client = await connect(true);
    try {
      const id = get(client, "/big.bin");
      let headers: string[] | undefined;
      let received = 0;
      let ended = false;
      while (!ended) {
        for (const e of await client.next()) {
          if (e.type === "headers" && e.streamId === id) headers = e.headers;
          else if (e.type === "data" && e.streamId === id) {
            for (let i = 0; i < e.data.length; i++) {
              if (e.data[i] !== pattern(received + i)) assert.fail(`byte ${received + i} differs`);
            }
            received += e.data.length;
            ended = e.endStream;
          } else if (e.type === "rst" || e.type === "error" || e.type === "goaway") assert.fail(`unexpected ${e.type}`);
        }
      }
      assert.ok(headers !== undefined);
      assert.equal(field(headers, ":status"), "200");
      assert.equal(field(headers, "content-length"), String(SIZE));
      assert.equal(received, SIZE);
    } finally {
      client.close();
    }
  });

  test("the file is read only as the flow-control window lets it be sent", async () => {
    const client = await connect(false);
    try {
      const id = get(client, "/changing.bin");
      let received = 0;
      let credited = 0;
      // The window shut: the server sends the initial window's worth and waits.
      while (received < INITIAL_WINDOW) {
        for (const e of await client.next()) {
          if (e.type === "data" && e.streamId === id) received += e.data.length;
          else if (e.type === "rst" || e.type === "error") assert.fail(`unexpected ${e.type}`);
        }
      }
      assert.equal(received, INITIAL_WINDOW);
      // Changed now, a file the server had read whole would still arrive whole.
      appendFileSync(join(dir, "changing.bin"), new Uint8Array(1));
      let reset = false;
      let ended = false;
      while (!reset && !ended) {
        client.h2.consume(id, received - credited);
        credited = received;
        client.flush();
        for (const e of await client.next()) {
          if (e.type === "data" && e.streamId === id) {
            received += e.data.length;
            ended = e.endStream;
          } else if (e.type === "rst" && e.streamId === id) reset = true;
        }
      }
      assert.ok(reset, "the stream is reset once the server reads the changed file");
      assert.ok(received < SIZE / 4, `the server read ahead no further than a few chunks (got ${received} of ${SIZE} bytes)`);
    } finally {
      client.close();
    }
  });
});
