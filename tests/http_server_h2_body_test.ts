// serve over HTTP/2: a request body sent in tiny DATA frames reaches the
// handler as one chunk per read and stream, not one per frame (2 MB in
// 17-byte frames was 123,000 stream chunks, a credit and a pull each),
// with the bytes in order, flow control kept (the client below sends only
// what the server's windows allow, and the server opens them only as the
// handler reads), and streams interleaved in one read kept apart. The peer
// is the library's own HTTP/2 core as a client over a node:net socket,
// sending one frame per 17-byte piece.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import net from "node:net";
import { H2Connection } from "../http/h2/connection.ts";
import { serve, type Server } from "../http/server/serve.ts";

/** What the handler saw of a body: its chunks, its bytes and a checksum of them in order. */
interface Seen {
  chunks: number;
  bytes: number;
  sum: number;
}

/** A checksum that depends on the order of the bytes. */
function checksum(sum: number, bytes: Uint8Array, offset: number): number {
  for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i]! * ((offset + i) % 65521 + 1)) % 2147483647;
  return sum;
}

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed + (i >> 9)) & 0xff;
  return out;
}

async function withCountingServer(fn: (server: Server) => Promise<void>): Promise<void> {
  const server = serve({
    port: 0,
    fetch: async (request) => {
      const seen: Seen = { chunks: 0, bytes: 0, sum: 0 };
      const reader = request.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen.chunks++;
        seen.sum = checksum(seen.sum, value, seen.bytes);
        seen.bytes += value.length;
      }
      return Response.json(seen);
    },
  });
  try {
    await fn(server);
  } finally {
    await server.shutdown({ deadlineMs: 1000 });
  }
}

/**
 * Sends each body in DATA frames of `pieceBytes(k)` bytes (the k-th of its stream) over one h2c connection, the
 * streams' frames interleaved, never more than the server's windows allow,
 * and resolves with each response body (JSON) by stream.
 */
function postInPieces(port: number, bodies: Uint8Array[], pieceBytes: (k: number) => number): Promise<Seen[]> {
  return new Promise((resolve, reject) => {
    const client = new H2Connection({ role: "client", now: null });
    const socket = net.connect(port, "127.0.0.1");
    const ids = bodies.map((_, i) => client.request([":method", "POST", ":scheme", "http", ":authority", "a", ":path", `/${i}`], false));
    const sent = bodies.map(() => 0);
    const pieces = bodies.map(() => 0);
    const texts = new Map<number, string>();
    const results: Seen[] = [];
    let finished = 0;
    const decoder = new TextDecoder();
    const pump = () => {
      const out: Uint8Array[] = [client.pull()];
      // One piece per stream in turn, each queued only when the stream's last one left (so each is a frame of its own).
      let progress = true;
      while (progress) {
        progress = false;
        for (let i = 0; i < bodies.length; i++) {
          const body = bodies[i]!;
          if (sent[i]! >= body.length || client.queuedData(ids[i]!) > 0) continue;
          const end = Math.min(body.length, sent[i]! + pieceBytes(pieces[i]!++));
          client.sendData(ids[i]!, body.subarray(sent[i]!, end), end === body.length);
          sent[i] = end;
          out.push(client.pull());
          progress = true;
        }
      }
      const bytes = Buffer.concat(out);
      if (bytes.length > 0) socket.write(bytes);
    };
    socket.on("connect", pump);
    socket.on("data", (d: Buffer) => {
      let events;
      try {
        events = client.receive(new Uint8Array(d.buffer, d.byteOffset, d.length));
      } catch (err) {
        reject(err);
        socket.destroy();
        return;
      }
      for (const e of events) {
        if (e.type === "data") {
          texts.set(e.streamId, (texts.get(e.streamId) ?? "") + decoder.decode(e.data, { stream: true }));
          client.consume(e.streamId, e.data.length);
          if (e.endStream) {
            results[ids.indexOf(e.streamId)] = JSON.parse(texts.get(e.streamId)!) as Seen;
            if (++finished === bodies.length) {
              socket.destroy();
              resolve(results);
            }
          }
        } else if (e.type === "rst" || e.type === "error" || e.type === "goaway") {
          reject(new Error(`the server ended the exchange: ${e.type}`));
          socket.destroy();
        }
      }
      pump();
    });
    socket.on("error", reject);
  });
}

describe("serve over HTTP/2: request bodies in tiny DATA frames", () => {
  test("2 MB in 17-byte frames reaches the handler whole and in order, in far fewer chunks than frames", async () => {
    await withCountingServer(async (server) => {
      const body = pattern(2 * 1024 * 1024, 7);
      const [seen] = await postInPieces(server.addr.port, [body], () => 17);
      const frames = Math.ceil(body.length / 17);
      assert.equal(seen!.bytes, body.length);
      assert.equal(seen!.sum, checksum(0, body, 0));
      // One chunk per read (tens of KiB of frames each), not one per frame.
      assert.ok(seen!.chunks * 20 <= frames, `${seen!.chunks} chunks for ${frames} frames`);
    });
  });

  test("streams interleaved frame by frame in the same reads stay apart, each in order", async () => {
    await withCountingServer(async (server) => {
      const bodies = [pattern(100_000, 1), pattern(70_001, 2), pattern(3, 3)];
      const seen = await postInPieces(server.addr.port, bodies, () => 17);
      for (let i = 0; i < bodies.length; i++) {
        assert.equal(seen[i]!.bytes, bodies[i]!.length, `stream ${i}`);
        assert.equal(seen[i]!.sum, checksum(0, bodies[i]!, 0), `stream ${i}`);
      }
    });
  });

  test("large frames among small ones keep their order", async () => {
    await withCountingServer(async (server) => {
      // Every third piece is above the gathering size (handed on as it is, after what was gathered before it).
      const bodies = [pattern(300_000, 4), pattern(40_000, 5)];
      const mixed = await postInPieces(server.addr.port, bodies, (k) => (k % 3 === 2 ? 5000 : 17));
      for (let i = 0; i < bodies.length; i++) assert.equal(mixed[i]!.sum, checksum(0, bodies[i]!, 0), `stream ${i}`);
    });
  });
});
