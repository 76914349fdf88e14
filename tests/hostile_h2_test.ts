// serve() over HTTP/2 cleartext against hostile clients on raw sockets:
// what one connection can make the server hold stays bounded.
// - a client that opens a window of 2^31-1 (so the core's zero-window
//   timeout never starts) and then reads nothing of a large response: the
//   connection is aborted once queued bytes wait writeTimeoutMs without the
//   client taking any, as over HTTP/1.1.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../http/server/mod.ts";
import { CLIENT_PREFACE, Flag, FrameType, MAX_WINDOW } from "../http/h2/constants.ts";
import { encodeFrame, encodeSettings, encodeWindowUpdate } from "../http/h2/frames.ts";
import { HPACKEncoder } from "../http/hpack/encoder.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** SETTINGS_INITIAL_WINDOW_SIZE */
const INITIAL_WINDOW_SIZE = 4;

/** Opens an h2c connection by prior knowledge with the largest windows, sends `paths` as GETs and reads nothing. */
async function stalledClient(port: number, paths: string[]): Promise<net.Socket> {
  const sock = net.connect(port, "127.0.0.1");
  sock.on("error", () => {});
  sock.pause();
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  const hpack = new HPACKEncoder();
  sock.write(CLIENT_PREFACE);
  sock.write(encodeSettings([[INITIAL_WINDOW_SIZE, MAX_WINDOW]]));
  sock.write(encodeWindowUpdate(0, MAX_WINDOW - 65535));
  let id = 1;
  for (const path of paths) {
    sock.write(encodeFrame(FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS, id, hpack.encode([":method", "GET", ":scheme", "http", ":authority", "a", ":path", path])));
    id += 2;
  }
  return sock;
}

describe("serve over HTTP/2: the write stall timeout", () => {
  test("a client with a 2^31-1 window that reads nothing of 32 MiB responses is cut off", async () => {
    const body = new Uint8Array(32 << 20).fill(0x61); // more than the kernel's socket buffers hold
    let calls = 0;
    const s = serve({
      port: 0,
      writeTimeoutMs: 300,
      fetch: () => {
        calls++;
        return new Response(body);
      },
    });
    try {
      const sock = await stalledClient(s.addr.port, ["/a", "/b", "/c"]);
      let seen = false;
      for (let i = 0; i < 30_000 / 50; i++) {
        if (s.connections > 0 && calls > 0) seen = true;
        else if (seen) break;
        await sleep(50);
      }
      assert.ok(seen, "the connection never opened");
      assert.equal(s.connections, 0, "serve kept an HTTP/2 connection whose client reads nothing");
      sock.destroy();
    } finally {
      await s.shutdown({ deadlineMs: 200 });
    }
  });
});
