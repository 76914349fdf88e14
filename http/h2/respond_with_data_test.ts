import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { H2Connection } from "./connection.ts";
import type { H2Event } from "./events.ts";

const GET = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a.test"];

function pair(clientWindow = 65535): { client: H2Connection; server: H2Connection } {
  const client = new H2Connection({ role: "client", settings: { initialWindowSize: clientWindow } });
  const server = new H2Connection({ role: "server" });
  server.receive(client.pull());
  client.receive(server.pull());
  server.receive(client.pull()); // the client's SETTINGS ACK
  return { client, server };
}

/** What the client received on `id`: status, body and whether it ended. */
function responseOf(events: H2Event[], id: number): { status: string; body: number[]; ended: boolean } {
  let status = "";
  const body: number[] = [];
  let ended = false;
  for (const e of events) {
    if (e.type === "headers" && e.streamId === id) {
      status = e.headers[e.headers.indexOf(":status") + 1]!;
      ended ||= e.endStream;
    } else if (e.type === "data" && e.streamId === id) {
      body.push(...e.data);
      ended ||= e.endStream;
    }
  }
  return { status, body, ended };
}

describe("H2Connection.respondWithData", () => {
  test("writes HEADERS and one DATA frame ending the stream, copied at once, with the windows accounted", () => {
    const { client, server } = pair();
    const id = client.request(GET, true);
    server.receive(client.pull());
    const body = new Uint8Array([104, 105]);
    assert.equal(server.respondWithData(id, [":status", "200", "content-length", "2"], body), true);
    body.fill(0); // copied already
    assert.equal(server.streamCount, 0); // both sides ended: closed
    const response = responseOf(client.receive(server.pull()), id);
    assert.deepEqual(response, { status: "200", body: [104, 105], ended: true });
    // A stream that is done cannot be answered again.
    assert.throws(() => server.respondWithData(id, [":status", "200"], body), { code: "ERR_H2_STREAM_CLOSED" });
  });

  test("declines (sending nothing) when respond and sendData must queue: empty, over the window, over the frame size, others queued", () => {
    const { client, server } = pair(10);
    const a = client.request(GET, true);
    const b = client.request(GET, true);
    server.receive(client.pull());
    assert.equal(server.respondWithData(a, [":status", "200"], new Uint8Array(0)), false);
    assert.equal(server.respondWithData(a, [":status", "200"], new Uint8Array(11)), false); // stream window 10
    assert.equal(server.wantsWrite, false);
    // b's DATA waits for a window: a may not go ahead of it.
    server.respond(b, [":status", "200"], false);
    server.sendData(b, new Uint8Array(20), true);
    assert.equal(server.respondWithData(a, [":status", "200"], new Uint8Array(5)), false);
    server.respond(a, [":status", "200"], false);
    server.sendData(a, new Uint8Array(5).fill(7), true);
    const events = client.receive(server.pull());
    assert.deepEqual(responseOf(events, a), { status: "200", body: [7, 7, 7, 7, 7], ended: true });
    assert.equal(responseOf(events, b).body.length, 10);
  });

  test("a body over the peer's frame size is declined", () => {
    const { client, server } = pair(1 << 20);
    const id = client.request(GET, true);
    server.receive(client.pull());
    assert.equal(server.respondWithData(id, [":status", "200"], new Uint8Array(16385)), false);
    assert.equal(server.respondWithData(id, [":status", "200"], new Uint8Array(16384)), true);
    assert.equal(responseOf(client.receive(server.pull()), id).body.length, 16384);
  });

  test("property: any mix of respondWithData and respond+sendData delivers the same bytes and leaves the same windows", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20000 }), fc.boolean()), { minLength: 1, maxLength: 12 }), (plan) => {
      const direct = pair();
      const queued = pair();
      const ids: number[] = [];
      for (let i = 0; i < plan.length; i++) {
        ids.push(direct.client.request(GET, true));
        queued.client.request(GET, true);
      }
      direct.server.receive(direct.client.pull());
      queued.server.receive(queued.client.pull());
      const bodies = plan.map(([n], i) => new Uint8Array(n).fill(i + 1));
      plan.forEach(([, tryDirect], i) => {
        const id = ids[i]!;
        const fields = [":status", "200", "content-length", String(bodies[i]!.length)];
        if (!(tryDirect && direct.server.respondWithData(id, fields, bodies[i]!))) {
          direct.server.respond(id, fields, bodies[i]!.length === 0);
          if (bodies[i]!.length > 0) direct.server.sendData(id, bodies[i]!, true);
        }
        queued.server.respond(id, fields, bodies[i]!.length === 0);
        if (bodies[i]!.length > 0) queued.server.sendData(id, bodies[i]!, true);
      });
      // The client credits everything back, so every queued byte goes out.
      const got = (p: ReturnType<typeof pair>): string[] => {
        const events: H2Event[] = [];
        for (let round = 0; round < 20 && p.server.wantsWrite; round++) {
          events.push(...p.client.receive(p.server.pull()));
          p.server.receive(p.client.pull());
        }
        return ids.map((id) => JSON.stringify(responseOf(events, id)));
      };
      assert.deepEqual(got(direct), got(queued));
      assert.equal(direct.server.streamCount, queued.server.streamCount);
    }), { numRuns: 60 });
  });

  test("pullView hands out the same bytes as pull, in a buffer reused across calls (copy before the next call)", () => {
    const viewSide = pair(1 << 20);
    const copySide = pair(1 << 20);
    const seenView: number[] = [];
    const seenCopy: number[] = [];
    const views: Uint8Array[] = [];
    for (let round = 0; round < 30; round++) {
      const n = (round * 997) % 40000;
      for (const p of [viewSide, copySide]) {
        const id = p.client.request(GET, true);
        p.server.receive(p.client.pull());
        p.server.respond(id, [":status", "200", "x-round", String(round)], n === 0);
        if (n > 0) p.server.sendData(id, new Uint8Array(n).fill(round), true);
      }
      for (;;) {
        const v = viewSide.server.pullView(4096 + round * 1000);
        const c = copySide.server.pull(4096 + round * 1000);
        assert.deepEqual([...v], [...c]);
        if (v.length === 0) break;
        seenView.push(...v);
        seenCopy.push(...c);
        views.push(v);
        viewSide.client.receive(v.slice());
        copySide.client.receive(c);
        viewSide.server.receive(viewSide.client.pull());
        copySide.server.receive(copySide.client.pull());
      }
    }
    assert.deepEqual(seenView, seenCopy);
    // Small pulls share one buffer: an old view shows later bytes (hence "copy before the next call").
    assert.ok(views.some((v, i) => views.slice(i + 1).some((w) => w.buffer === v.buffer)));
  });
});
