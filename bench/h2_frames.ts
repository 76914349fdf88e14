/**
 * Frames per second through the HTTP/2 connection core: a server receives
 * batches of requests (HEADERS, then DATA) and answers each with HEADERS
 * and DATA; the client side parses the answers. No peer library: the
 * number is recorded against the same work with the HPACK layer only, to
 * show the connection's own overhead.
 *
 * @module
 */
import { compare, finish } from "./harness.ts";
import { H2Connection } from "../http/h2/connection.ts";
import { HPACKDecoder, HPACKEncoder } from "../http/hpack/mod.ts";

const REQ = [":method", "POST", ":scheme", "https", ":path", "/api/items", ":authority", "bench.test", "content-type", "application/json", "user-agent", "ffinet-bench"];
const RES = [":status", "200", "content-type", "application/json", "server", "ffinet"];
const BODY = new Uint8Array(512).fill(0x61);
const STREAMS = 50;

function roundTrip(): number {
  const client = new H2Connection({ role: "client", settings: { maxConcurrentStreams: 1000 } });
  const server = new H2Connection({ role: "server", settings: { maxConcurrentStreams: 1000 } });
  server.receive(client.pull());
  client.receive(server.pull());
  server.receive(client.pull());
  let frames = 0;
  for (let i = 0; i < STREAMS; i++) {
    const id = client.request(REQ, false);
    client.sendData(id, BODY, true);
  }
  for (const e of server.receive(client.pull())) {
    frames++;
    if (e.type === "data" && e.endStream) {
      server.respond(e.streamId, RES, false);
      server.sendData(e.streamId, BODY, true);
    }
  }
  frames += client.receive(server.pull()).length;
  return frames; // 4 frames per stream
}

function hpackOnly(): number {
  const enc = new HPACKEncoder();
  const dec = new HPACKDecoder();
  const enc2 = new HPACKEncoder();
  const dec2 = new HPACKDecoder();
  let n = 0;
  for (let i = 0; i < STREAMS; i++) {
    n += dec.decode(enc.encode(REQ)).length;
    n += dec2.decode(enc2.encode(RES)).length;
  }
  return n;
}

if (roundTrip() < STREAMS * 4) throw new Error("round trip lost frames");
await compare({ bench: "h2_frames", case: `HEADERS+DATA x${STREAMS} both ways` }, {
  ours: roundTrip,
  peer: hpackOnly,
  peerName: "hpack-only",
  unit: "ops/s",
  unitsPerCall: STREAMS * 4,
});
finish();
