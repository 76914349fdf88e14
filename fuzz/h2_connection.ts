/**
 * Fuzz target for the HTTP/2 connection core in both roles: the bytes are
 * fed (in two parts) after a valid preface; the connection must only report
 * typed errors as events, never throw, and keep its output bounded.
 *
 * @module
 */
import { H2Connection } from "../http/h2/connection.ts";
import { CLIENT_PREFACE } from "../http/h2/constants.ts";
import { encodeSettings } from "../http/h2/frames.ts";

/**
 * jazzer.js target.
 *
 * @example
 * ```ts
 * import { fuzz } from "./h2_connection.ts";
 * fuzz(new Uint8Array([0, 0, 0, 4, 1, 0, 0, 0, 0]));
 * ```
 */
export function fuzz(data: Uint8Array): void {
  const role = data.length > 0 && (data[0]! & 1) === 1 ? "client" : "server";
  let t = 0;
  const conn = new H2Connection({ role, now: () => (t += 7), settings: role === "client" ? { enablePush: true } : {} });
  if (role === "client") {
    conn.request([":method", "GET", ":scheme", "https", ":path", "/", ":authority", "f.test"], false);
    conn.request([":method", "POST", ":scheme", "https", ":path", "/p", ":authority", "f.test"], false);
  }
  conn.pull();
  const start = role === "server" ? CLIENT_PREFACE : new Uint8Array(0);
  const settings = encodeSettings([]);
  const head = new Uint8Array(start.length + settings.length);
  head.set(start);
  head.set(settings, start.length);
  conn.receive(head);
  const body = data.subarray(1);
  const cut = body.length > 0 ? data[0]! % (body.length + 1) : 0;
  for (const part of [body.subarray(0, cut), body.subarray(cut)]) {
    for (const e of conn.receive(part)) {
      if (e.type === "headers" && role === "server" && !conn.dead) {
        try {
          conn.respond(e.streamId, [":status", "200"], false);
          conn.sendData(e.streamId, new Uint8Array(100), true);
        } catch (err) {
          if (!(err instanceof Error) || !("http2Code" in err)) throw err;
        }
      }
    }
    const out = conn.pull(1 << 16);
    if (out.length > (1 << 16) + (1 << 20)) throw new Error("unbounded output");
    conn.tick();
  }
}
