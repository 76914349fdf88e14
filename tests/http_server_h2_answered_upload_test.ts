// serve over HTTP/2: a request body that goes on after the handler answered
// (RFC 9113 §8.1). It is drained up to maxBodyBytes in all (so an upload a
// little longer than the handler wanted ends as usual); past that, once
// the response is complete and out, the server asks the client to stop
// with RST_STREAM NO_ERROR, and until then it no longer reopens the
// stream's window, so an upload stops at that window (it was credited and
// dropped without limit). A response waiting for the client's
// window (a 413 past maxBodyBytes, or any answer) is not lost to that
// reset: it goes first. The peer is the library's own HTTP/2 core as a
// client over a node:net socket, sending as much as the windows allow.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import net from "node:net";
import { ErrorCode } from "../http/h2/constants.ts";
import { H2Connection } from "../http/h2/connection.ts";
import type { H2Event } from "../http/h2/events.ts";
import { serve, type Server } from "../http/server/serve.ts";

const WINDOW = 65535;
const CAP = 8 * 1024 * 1024;
const MAX = 100_000; // maxBodyBytes

/** One h2c connection driven by the core as a client; `onEvent` sees every event, `pump` writes what the core has. */
class RawClient {
  readonly h2: H2Connection;
  readonly socket: net.Socket;
  readonly events: H2Event[] = [];
  #waiters: Array<() => void> = [];
  #failed: Error | undefined;
  /** Upload per stream: bytes sent, and whether it goes on. */
  readonly uploads = new Map<number, { sent: number; on: boolean }>();

  constructor(port: number, settings: { initialWindowSize?: number } = {}) {
    this.h2 = new H2Connection({ role: "client", now: null, settings });
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("connect", () => this.pump());
    this.socket.on("data", (d: Buffer) => {
      try {
        for (const e of this.h2.receive(new Uint8Array(d.buffer, d.byteOffset, d.length))) {
          this.events.push(e);
          if (e.type === "rst") this.uploads.get(e.streamId)!.on = false;
        }
      } catch (err) {
        this.#failed = err as Error;
      }
      this.pump();
    });
    this.socket.on("error", (err) => (this.#failed = err));
    this.socket.on("close", () => (this.#failed ??= new Error("the server closed the connection")));
  }

  /** Opens a POST whose body is sent, 16 KiB at a time, as fast as the windows allow, up to CAP. */
  post(path: string, fields: string[] = []): number {
    const id = this.h2.request([":method", "POST", ":scheme", "http", ":authority", "a", ":path", path, ...fields], false);
    this.uploads.set(id, { sent: 0, on: true });
    this.pump();
    return id;
  }

  get(path: string): number {
    const id = this.h2.request([":method", "GET", ":scheme", "http", ":authority", "a", ":path", path], true);
    this.uploads.set(id, { sent: 0, on: false });
    this.pump();
    return id;
  }

  pump(): void {
    const out: Uint8Array[] = [this.h2.pull()];
    for (const [id, up] of this.uploads) {
      // A chunk more each time the last one has left (the windows let it out).
      while (up.on && up.sent < CAP && this.h2.queuedData(id) === 0) {
        const n = Math.min(16384, CAP - up.sent);
        this.h2.sendData(id, new Uint8Array(n), up.sent + n === CAP);
        up.sent += n;
        if (up.sent === CAP) up.on = false;
        out.push(this.h2.pull());
      }
    }
    out.push(this.h2.pull());
    const bytes = Buffer.concat(out);
    if (bytes.length > 0 && !this.socket.destroyed) this.socket.write(bytes);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Waits (bounded: 10 s) until `check` holds; fails on a connection error. */
  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (this.#failed !== undefined) throw new Error(`${what}: ${this.#failed.message}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${this.events.map((e) => e.type).join(",")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** A PING round trip (everything the server did for what it got before is out before its ACK, give or take one turn: two trips). */
  async roundTrips(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const before = this.events.filter((e) => e.type === "ping-ack").length;
      this.h2.ping();
      this.pump();
      await this.until(() => this.events.filter((e) => e.type === "ping-ack").length > before, "a PING ACK");
    }
  }

  of(id: number): { status?: string; body: string; ended: boolean; rst?: number; order: string[] } {
    const r: { status?: string; body: string; ended: boolean; rst?: number; order: string[] } = { body: "", ended: false, order: [] };
    for (const e of this.events) {
      if (!("streamId" in e) || e.streamId !== id) continue;
      r.order.push(e.type);
      if (e.type === "headers") r.status = e.headers[e.headers.indexOf(":status") + 1] ?? "";
      if (e.type === "data") {
        r.body += new TextDecoder().decode(e.data);
        if (e.endStream) r.ended = true;
        this.h2.consume(id, 0);
      }
      if (e.type === "rst") r.rst = e.code;
    }
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withServer(fn: (server: Server) => Promise<void>): Promise<void> {
  const server = serve({
    port: 0,
    maxBodyBytes: MAX,
    http2: { initialWindowSize: WINDOW },
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/read-some") {
        const reader = request.body!.getReader();
        await reader.read();
        reader.releaseLock();
      }
      if (path === "/read-all") await request.arrayBuffer(); // past maxBodyBytes: fails, and serve answers 413
      return new Response(`answered ${path}`);
    },
  });
  try {
    await fn(server);
  } finally {
    await server.shutdown({ deadlineMs: 1000 });
  }
}

describe("serve over HTTP/2: an upload that goes on after the answer", () => {
  for (const path of ["/unread", "/read-some"]) {
    test(`${path}: the complete response, then RST_STREAM NO_ERROR; the upload stops within the stream's window; the connection goes on`, async () => {
      await withServer(async (server) => {
        const client = new RawClient(server.addr.port);
        try {
          const id = client.post(path);
          await client.until(() => client.of(id).rst !== undefined, "the reset");
          const r = client.of(id);
          assert.equal(r.status, "200");
          assert.equal(r.body, `answered ${path}`);
          assert.equal(r.ended, true);
          assert.equal(r.rst, ErrorCode.NO_ERROR);
          assert.ok(r.order.lastIndexOf("data") < r.order.indexOf("rst"), r.order.join());
          // Everything sent was what the stream's window allowed (and what the handler read reopened).
          assert.ok(client.uploads.get(id)!.sent <= MAX + 2 * WINDOW, `${client.uploads.get(id)!.sent} bytes sent`);
          // The dropped octets went back to the connection's window: a next request is answered.
          const next = client.get("/after");
          await client.until(() => client.of(next).ended, "the next response");
          assert.equal(client.of(next).body, "answered /after");
        } finally {
          client.close();
        }
      });
    });
  }

  test("an upload that ends within maxBodyBytes after the answer is drained and ends as usual, without a reset", async () => {
    await withServer(async (server) => {
      const client = new RawClient(server.addr.port);
      try {
        const id = client.h2.request([":method", "POST", ":scheme", "http", ":authority", "a", ":path", "/unread"], false);
        client.uploads.set(id, { sent: 0, on: false });
        client.pump();
        await client.until(() => client.of(id).ended, "the response");
        // 3 x 16 KiB after the answer (within the stream's window and maxBodyBytes), the last one ending the stream.
        for (let i = 0; i < 3; i++) client.h2.sendData(id, new Uint8Array(16384), i === 2);
        client.pump();
        await client.roundTrips(3);
        assert.equal(client.of(id).rst, undefined);
        const next = client.get("/after");
        await client.until(() => client.of(next).ended, "the next response");
      } finally {
        client.close();
      }
    });
  });

  test("a response waiting for the client's window: no reset before it is out, and the upload stops at the stream's window meanwhile", async () => {
    await withServer(async (server) => {
      const client = new RawClient(server.addr.port, { initialWindowSize: 0 });
      try {
        const id = client.post("/unread");
        await client.until(() => client.of(id).status !== undefined, "the response head");
        // Blocked on the window: three round trips give the server every chance to credit or reset.
        await client.roundTrips(3);
        const up = client.uploads.get(id)!;
        assert.equal(client.of(id).rst, undefined);
        const onWire = () => up.sent - client.h2.queuedData(id);
        assert.ok(onWire() <= MAX + 2 * WINDOW && client.h2.queuedData(id) > 0, `${onWire()} bytes sent, ${client.h2.queuedData(id)} waiting`);
        const sent = onWire();
        await client.roundTrips(2);
        assert.equal(onWire(), sent, "no window reopened for an answered request");
        // The client opens its window: the body, then the reset.
        client.h2.consume(id, WINDOW);
        client.pump();
        await client.until(() => client.of(id).rst !== undefined, "the reset");
        const r = client.of(id);
        assert.equal(r.body, "answered /unread");
        assert.equal(r.ended, true);
        assert.equal(r.rst, ErrorCode.NO_ERROR);
      } finally {
        client.close();
      }
    });
  });

  for (const declared of [false, true]) {
    test(`a 413 (maxBodyBytes${declared ? ", by content-length" : ""}) to a client whose window is zero is delivered before the reset`, async () => {
      await withServer(async (server) => {
        const client = new RawClient(server.addr.port, { initialWindowSize: 0 });
        try {
          const id = client.post("/read-all", declared ? ["content-length", String(CAP)] : []);
          await client.until(() => client.of(id).status !== undefined, "the response head");
          assert.equal(client.of(id).status, "413");
          await client.roundTrips(3);
          assert.equal(client.of(id).rst, undefined, "reset before the 413's body went out");
          client.h2.consume(id, WINDOW);
          client.pump();
          await client.until(() => client.of(id).rst !== undefined, "the reset");
          const r = client.of(id);
          assert.equal(r.body, "Content Too Large");
          assert.equal(r.ended, true);
          assert.equal(r.rst, ErrorCode.NO_ERROR);
          assert.ok(client.uploads.get(id)!.sent <= MAX + 2 * WINDOW, `${client.uploads.get(id)!.sent} bytes sent`);
        } finally {
          client.close();
        }
      });
    });
  }
});
