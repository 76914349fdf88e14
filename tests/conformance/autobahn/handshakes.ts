/**
 * The opening handshakes of the Autobahn runner, both ways: the fuzzer
 * builds and checks its half by hand (node:crypto for the accept key), our
 * half is `acceptUpgrade` or `createClientHandshake`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { PerMessageDeflate } from "../../../ws/deflate.ts";
import { acceptUpgrade, createClientHandshake } from "../../../ws/handshake.ts";
import type { AutobahnCase, Offer } from "./cases.ts";
import { concat, type FuzzerDeflate, randomKey } from "./wire.ts";

/** RFC 6455 §1.3, written out here apart from ws/frame.ts on purpose. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** What the handshake agreed: the fuzzer's view and our endpoint's state. */
export interface Negotiated {
  fuzzer: FuzzerDeflate | undefined;
  ours: PerMessageDeflate | undefined;
}

/**
 * The opening handshake with our server, the fuzzer as client offering
 * permessage-deflate as the case says; an error text when it fails.
 */
export function fuzzerAsClient(offers: Offer[]): Negotiated | string {
  const headers = new Headers({
    Host: "localhost:9001",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": Buffer.from(concat([randomKey(), randomKey(), randomKey(), randomKey()])).toString("base64"),
    "Sec-WebSocket-Version": "13",
  });
  if (offers.length > 0) {
    headers.set(
      "Sec-WebSocket-Extensions",
      offers.map((o) => {
        let s = "permessage-deflate";
        if (o.acceptNoContextTakeover) s += "; client_no_context_takeover";
        if (o.acceptMaxWindowBits) s += "; client_max_window_bits";
        if (o.requestNoContextTakeover) s += "; server_no_context_takeover";
        if (o.requestMaxWindowBits !== 0) s += `; server_max_window_bits=${o.requestMaxWindowBits}`;
        return s;
      }).join(", "),
    );
  }
  const result = acceptUpgrade({ method: "GET", headers });
  if (!result.ok) return `handshake refused: ${result.status} ${result.reason}`;
  // Check the response the way a client would, with node:crypto.
  const lines = result.response.split("\r\n");
  if (lines[0] !== "HTTP/1.1 101 Switching Protocols") return `bad status line ${lines[0]}`;
  const fields = new Map(
    lines.slice(1).filter((l) => l.includes(":")).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    }),
  );
  const expected = createHash("sha1").update(headers.get("sec-websocket-key") + GUID).digest("base64");
  if (fields.get("sec-websocket-accept") !== expected) return "wrong Sec-WebSocket-Accept";
  let deflate: FuzzerDeflate | undefined;
  const ext = fields.get("sec-websocket-extensions");
  if (ext !== undefined) {
    if (offers.length === 0) return "the server accepted an extension that was not offered";
    const parts = ext.split(";").map((s) => s.trim());
    if (parts[0] !== "permessage-deflate" || ext.includes(",")) return `unexpected extension response ${ext}`;
    // The server compresses (peer*), the fuzzer as client compresses (own*).
    deflate = { peerNoContextTakeover: false, ownNoContextTakeover: false, peerMaxWindowBits: 15, ownMaxWindowBits: 15 };
    for (const p of parts.slice(1)) {
      const [k, v] = p.split("=").map((s) => s.trim());
      if (k === "server_no_context_takeover") deflate.peerNoContextTakeover = true;
      else if (k === "client_no_context_takeover") deflate.ownNoContextTakeover = true;
      else if (k === "server_max_window_bits") deflate.peerMaxWindowBits = Number(v);
      else if (k === "client_max_window_bits") deflate.ownMaxWindowBits = Number(v);
      else return `unknown permessage-deflate parameter ${p}`;
    }
    // What we asked of the server must be honoured.
    const first = offers[0]!;
    if (first.requestNoContextTakeover && !deflate.peerNoContextTakeover) return "server_no_context_takeover ignored";
    if (first.requestMaxWindowBits !== 0 && deflate.peerMaxWindowBits > first.requestMaxWindowBits) {
      return "server_max_window_bits ignored";
    }
  } else if (offers.length > 0) {
    return "permessage-deflate was offered and declined";
  }
  return { fuzzer: deflate, ours: result.deflate };
}

/**
 * The opening handshake with our client: it offers permessage-deflate
 * (the default offer); the fuzzer as server declines it outside 12.x and
 * 13.x and otherwise answers as the case's `serverAccept` says.
 */
export function fuzzerAsServer(c: AutobahnCase, compression: boolean): Negotiated | string {
  const hs = createClientHandshake({ host: "localhost:9001", path: "/runCase" });
  const lines = hs.request.split("\r\n");
  if (!/^GET \/runCase HTTP\/1\.1$/.test(lines[0]!)) return `bad request line ${lines[0]}`;
  const fields = new Map(
    lines.slice(1).filter((l) => l.includes(":")).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    }),
  );
  const key = fields.get("sec-websocket-key") ?? "";
  if (Buffer.from(key, "base64").length !== 16) return "bad Sec-WebSocket-Key";
  if (fields.get("sec-websocket-version") !== "13" || fields.get("upgrade")?.toLowerCase() !== "websocket") {
    return "bad upgrade request";
  }
  const response = new Headers({
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": createHash("sha1").update(key + GUID).digest("base64"),
  });
  let fuzzer: FuzzerDeflate | undefined;
  const offer = fields.get("sec-websocket-extensions") ?? "";
  if (compression) {
    if (!offer.startsWith("permessage-deflate")) return "our client did not offer permessage-deflate";
    // What the fuzzer as server asks of our client's compressor (absent:
    // the offer as made, i.e. nothing asked).
    const accept = c.params?.serverAccept;
    const noContext = accept?.noContextTakeover ?? false;
    const bits = accept?.maxWindowBits ?? 0;
    if (bits !== 0 && !offer.includes("client_max_window_bits")) return "our client does not let the server limit its window";
    let ext = "permessage-deflate";
    if (noContext) ext += "; client_no_context_takeover";
    if (bits !== 0) ext += `; client_max_window_bits=${bits}`;
    response.set("Sec-WebSocket-Extensions", ext);
    fuzzer = {
      peerNoContextTakeover: noContext,
      peerMaxWindowBits: bits || 15,
      ownNoContextTakeover: false,
      ownMaxWindowBits: 15,
    };
  }
  let deflate: PerMessageDeflate | undefined;
  try {
    deflate = hs.finish({ status: 101, headers: response }).deflate;
  } catch (err) {
    return `our client refused a valid response: ${(err as Error).message}`;
  }
  if (compression !== (deflate !== undefined)) return "permessage-deflate state differs between the two ends";
  return { fuzzer, ours: deflate };
}
