/**
 * The Autobahn cases over loopback sockets: the same fuzzer (runner.ts),
 * but the endpoint is ffinet's real server or client in a child process
 * (wire_peer.ts), reached through a blocking socket. Our server role: the
 * fuzzer connects per case and sends the upgrade request; our client
 * role: the fuzzer listens and answers the child's upgrade request as the
 * case says.
 *
 * Synchronising without clocks: after each write that ends on a frame
 * boundary the fuzzer sends a ping with a fresh tag and reads until its
 * pong (the endpoint handles frames in order, so everything it answered to
 * the earlier frames has arrived), a Close, or the end of the stream; the
 * tagged pongs are removed before the fuzzer sees the bytes. After either
 * side sent a Close, no ping is sent: the fuzzer reads until the endpoint
 * closes the connection (or a safety limit of 3 s passes). In the
 * echo-driven cases (9.x, 12.x, 13.x: a message, then its echo, a thousand
 * times) the echo itself is the barrier: after a write that ends a message
 * the fuzzer reads until the endpoint's next whole message (or a Close, or
 * the end of the stream), one round trip per message instead of two; a
 * write inside a message takes only what has arrived already. A wait of
 * the case inside a frame (6.4.3, 6.4.4: invalid UTF-8 in the middle of
 * one frame) cannot use a ping: there the endpoint gets the wait's own
 * time (one second, as the original fuzzer sleeps) to answer, and after
 * its Close until it ends the connection.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { connectTCPSync, listenTCPSync } from "../../../socket/connect.ts";
import type { Socket } from "../../../socket/socket.ts";
import type { AutobahnCase, Offer } from "./cases.ts";
import type { Endpoint, RunOptions } from "./runner.ts";
import { concat, type FuzzerDeflate, randomKey, rawFrame } from "./wire.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const SAFETY_MS = 3000;

/** One whole frame as the splitter sees it. */
interface SplitFrame {
  opcode: number;
  fin: boolean;
  /** The payload unmasked, for Pongs only (the barrier tags); empty otherwise. */
  payload: Uint8Array;
  raw: Uint8Array;
}

/**
 * Splits a byte stream into whole WebSocket frames (masked or not). The
 * pieces of a frame are kept apart until it is whole and joined once (a
 * 16 MiB frame read 256 KiB at a time is not copied 64 times).
 */
class FrameSplitter {
  #parts: Uint8Array[] = [];
  #have = 0;
  /** Bytes the frame at the start of the buffer needs (0: not known yet). */
  #need = 0;
  /** Bytes of the current frame still expected (0: at a boundary). */
  pending = 0;

  /** Feeds bytes; returns the whole frames completed. */
  push(bytes: Uint8Array): SplitFrame[] {
    this.#parts.push(bytes);
    this.#have += bytes.length;
    const out: SplitFrame[] = [];
    if (this.#need !== 0 && this.#have < this.#need) {
      this.pending = this.#have;
      return out;
    }
    let b = this.#parts.length === 1 ? this.#parts[0]! : concat(this.#parts);
    this.#need = 0;
    for (;;) {
      if (b.length < 2) break;
      let len = b[1]! & 127;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = (b[2]! << 8) | b[3]!;
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        at = 10;
      }
      const masked = (b[1]! & 128) !== 0;
      const key = masked ? b.subarray(at, at + 4) : null;
      if (masked) at += 4;
      if (b.length < at + len) {
        this.#need = at + len;
        break;
      }
      const opcode = b[0]! & 15;
      let payload = new Uint8Array(0);
      if (opcode === 10) {
        payload = b.slice(at, at + len);
        if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
      }
      out.push({ opcode, fin: (b[0]! & 0x80) !== 0, payload, raw: b.subarray(0, at + len) });
      b = b.subarray(at + len);
    }
    this.#parts = b.length === 0 ? [] : [b];
    this.#have = b.length;
    this.pending = b.length;
    return out;
  }
}

/** The endpoint seen through a blocking socket. */
class SocketEndpoint implements Endpoint {
  readonly #socket: Socket;
  readonly #masks: boolean;
  readonly #sent = new FrameSplitter();
  readonly #received = new FrameSplitter();
  readonly #buffer = new Uint8Array(256 * 1024);
  #eof = false;
  #closeSeen = false;
  #closeSent = false;
  #dirty = false;
  #tag = 0;
  #carry: Uint8Array[] = [];
  /** The last frame written ended a data message (FIN on a text, binary or continuation frame). */
  #sentMessageEnd = false;
  /** The last frame written was a data frame without FIN. */
  #sentInsideMessage = false;
  /** Echo-driven cases: the endpoint's next whole message is the barrier (see the module notes). */
  awaitEchoes = false;

  constructor(socket: Socket, masks: boolean, head: Uint8Array) {
    this.#socket = socket;
    this.#masks = masks;
    socket.options.noDelay = true; // the barrier pings are tiny: no Nagle delay behind them
    if (head.length > 0) this.#carry.push(...this.#filter(head, undefined).out);
  }

  get shouldCloseTransport(): boolean {
    return this.#eof;
  }

  push(bytes: Uint8Array): void {
    if (this.#eof) return;
    for (const f of this.#sent.push(bytes)) {
      if (f.opcode === 8) this.#closeSent = true;
      const data = f.opcode <= 2;
      this.#sentMessageEnd = data && f.fin;
      this.#sentInsideMessage = data && !f.fin;
    }
    try {
      this.#socket.sendAll(bytes);
    } catch {
      this.#eof = true;
    }
    this.#dirty = true;
  }

  takeOutput(): Uint8Array[] {
    const out = this.#carry;
    this.#carry = [];
    if (this.#eof || !this.#dirty) return out;
    this.#dirty = false;
    if (this.#sent.pending !== 0 || (this.awaitEchoes && this.#sentInsideMessage)) {
      // Mid-frame (or, echoing, mid-message): only what is there already.
      while (!this.#eof && this.#socket.isReadable(0)) out.push(...this.#readSome(undefined).out);
      return out;
    }
    if (this.#closeSeen || this.#closeSent) {
      // The closing handshake: read until the endpoint closes the connection.
      const deadline = Date.now() + SAFETY_MS;
      // Our server closes TCP after it; our client waits for the fuzzer (as server) to.
      while (!this.#eof && Date.now() < deadline && (this.#masks || !(this.#closeSeen && this.#closeSent))) {
        if (this.#socket.isReadable(Math.max(1, deadline - Date.now()))) out.push(...this.#readSome(undefined).out);
      }
      return out;
    }
    if (this.awaitEchoes && this.#sentMessageEnd) {
      // The echo is the barrier: read until the endpoint's next whole message.
      const deadline = Date.now() + 60_000;
      while (!this.#eof && !this.#closeSeen && Date.now() <= deadline) {
        if (!this.#socket.isReadable(1000)) continue;
        const r = this.#readSome(undefined);
        out.push(...r.out);
        if (r.messageEnd) break;
      }
      return out;
    }
    const tag = `barrier-${++this.#tag}`;
    try {
      this.#socket.sendAll(rawFrame(9, new TextEncoder().encode(tag), true, 0, this.#masks));
    } catch {
      this.#eof = true;
      return out;
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.#eof || Date.now() > deadline) break;
      if (!this.#socket.isReadable(1000)) continue;
      const r = this.#readSome(tag);
      out.push(...r.out);
      if (r.barrier || this.#closeSeen) break;
    }
    return out;
  }

  settle(seconds: number): void {
    // At a frame boundary the barrier ping of the last write synchronised
    // already; inside a frame none can be sent, so the endpoint gets the
    // wait's time, and after its Close until it ends the connection.
    if (this.#eof || this.#sent.pending === 0) return;
    let deadline = Date.now() + seconds * 1000;
    let closing = this.#closeSeen;
    while (!this.#eof) {
      if (this.#closeSeen && !closing) {
        closing = true;
        deadline = Date.now() + SAFETY_MS;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (this.#socket.isReadable(left)) this.#carry.push(...this.#readSome(undefined).out);
    }
  }

  transportClosed(): void {
    try {
      this.#socket.close();
    } catch {
      // closed already
    }
  }

  #readSome(tag: string | undefined): { out: Uint8Array[]; barrier: boolean; messageEnd: boolean } {
    let n: number | null;
    try {
      n = this.#socket.recv(this.#buffer);
    } catch {
      n = 0;
    }
    if (n === null) return { out: [], barrier: false, messageEnd: false };
    if (n === 0) {
      this.#eof = true;
      return { out: [], barrier: false, messageEnd: false };
    }
    return this.#filter(this.#buffer.slice(0, n), tag);
  }

  /** Whole frames only, with the barrier pongs taken out. */
  #filter(bytes: Uint8Array, tag: string | undefined): { out: Uint8Array[]; barrier: boolean; messageEnd: boolean } {
    const out: Uint8Array[] = [];
    let barrier = false;
    let messageEnd = false;
    for (const f of this.#received.push(bytes)) {
      if (f.opcode <= 2 && f.fin) messageEnd = true;
      if (f.opcode === 10 && new TextDecoder().decode(f.payload).startsWith("barrier-")) {
        if (new TextDecoder().decode(f.payload) === tag) barrier = true;
        continue;
      }
      if (f.opcode === 8) this.#closeSeen = true;
      out.push(f.raw.slice());
    }
    return { out, barrier, messageEnd };
  }
}

function readHead(socket: Socket): { head: string; rest: Uint8Array } | string {
  const buffer = new Uint8Array(16384);
  let got: Uint8Array = new Uint8Array(0);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = Buffer.from(got).toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return { head: text.slice(0, end), rest: got.slice(end + 4) };
    if (!socket.isReadable(Math.max(1, deadline - Date.now()))) continue;
    const n = socket.recv(buffer);
    if (n === 0) return "the connection closed during the handshake";
    if (n !== null) got = concat([got, buffer.slice(0, n)]);
  }
  return "no handshake within 10 s";
}

function fields(head: string): Map<string, string> {
  return new Map(head.split("\r\n").slice(1).filter((l) => l.includes(":")).map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
  }));
}

/** The fuzzer as a client of our server at `port`. */
function asClient(port: number, offers: Offer[]): { fuzzer: FuzzerDeflate | undefined; endpoint: Endpoint } | string {
  const socket = connectTCPSync("127.0.0.1", port);
  const key = Buffer.from(concat([randomKey(), randomKey(), randomKey(), randomKey()])).toString("base64");
  let request = `GET /runCase HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (offers.length > 0) {
    request += "Sec-WebSocket-Extensions: " + offers.map((o) => {
      let s = "permessage-deflate";
      if (o.acceptNoContextTakeover) s += "; client_no_context_takeover";
      if (o.acceptMaxWindowBits) s += "; client_max_window_bits";
      if (o.requestNoContextTakeover) s += "; server_no_context_takeover";
      if (o.requestMaxWindowBits !== 0) s += `; server_max_window_bits=${o.requestMaxWindowBits}`;
      return s;
    }).join(", ") + "\r\n";
  }
  socket.sendAll(new TextEncoder().encode(request + "\r\n"));
  const got = readHead(socket);
  if (typeof got === "string") return (socket.close(), got);
  if (!got.head.startsWith("HTTP/1.1 101 ")) return (socket.close(), `bad status line ${got.head.split("\r\n")[0]}`);
  const f = fields(got.head);
  if (f.get("sec-websocket-accept") !== createHash("sha1").update(key + GUID).digest("base64")) return (socket.close(), "wrong Sec-WebSocket-Accept");
  let deflate: FuzzerDeflate | undefined;
  const ext = f.get("sec-websocket-extensions");
  if (ext !== undefined) {
    if (offers.length === 0) return (socket.close(), "the server accepted an extension that was not offered");
    deflate = { peerNoContextTakeover: false, ownNoContextTakeover: false, peerMaxWindowBits: 15, ownMaxWindowBits: 15 };
    for (const p of ext.split(";").map((s) => s.trim()).slice(1)) {
      const [k, v] = p.split("=").map((s) => s.trim());
      if (k === "server_no_context_takeover") deflate.peerNoContextTakeover = true;
      else if (k === "client_no_context_takeover") deflate.ownNoContextTakeover = true;
      else if (k === "server_max_window_bits") deflate.peerMaxWindowBits = Number(v);
      else if (k === "client_max_window_bits") deflate.ownMaxWindowBits = Number(v);
    }
  } else if (offers.length > 0) return (socket.close(), "permessage-deflate was offered and declined");
  return { fuzzer: deflate, endpoint: new SocketEndpoint(socket, true, got.rest) };
}

/** The fuzzer as the server our client connected to. */
function asServer(listener: Socket, c: AutobahnCase, compression: boolean): { fuzzer: FuzzerDeflate | undefined; endpoint: Endpoint } | string {
  const socket = listener.acceptTimeout(20_000);
  if (socket === null) return "our client did not connect within 20 s";
  const got = readHead(socket);
  if (typeof got === "string") return (socket.close(), got);
  const f = fields(got.head);
  const key = f.get("sec-websocket-key") ?? "";
  if (Buffer.from(key, "base64").length !== 16) return (socket.close(), "bad Sec-WebSocket-Key");
  let response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${createHash("sha1").update(key + GUID).digest("base64")}\r\n`;
  let fuzzer: FuzzerDeflate | undefined;
  if (compression) {
    const offer = f.get("sec-websocket-extensions") ?? "";
    if (!offer.startsWith("permessage-deflate")) return (socket.close(), "our client did not offer permessage-deflate");
    const accept = c.params?.serverAccept;
    const noContext = accept?.noContextTakeover ?? false;
    const bits = accept?.maxWindowBits ?? 0;
    let ext = "permessage-deflate";
    if (noContext) ext += "; client_no_context_takeover";
    if (bits !== 0) ext += `; client_max_window_bits=${bits}`;
    response += `Sec-WebSocket-Extensions: ${ext}\r\n`;
    fuzzer = { peerNoContextTakeover: noContext, peerMaxWindowBits: bits || 15, ownNoContextTakeover: false, ownMaxWindowBits: 15 };
  }
  socket.sendAll(new TextEncoder().encode(response + "\r\n"));
  return { fuzzer, endpoint: new SocketEndpoint(socket, false, got.rest) };
}

function runtimeCommand(script: string, args: string[]): [string, string[]] {
  const exec = process.execPath;
  if ("Deno" in globalThis) return [exec, ["run", "-A", "--no-check", script, ...args]];
  if ("Bun" in globalThis) return [exec, [script, ...args]];
  return [exec, ["--import", "tsx", script, ...args]];
}

/** A running ffinet endpoint and the `connect` option that plays cases against it. */
export interface WirePeer {
  options: Pick<RunOptions, "connect" | "role">;
  close(): Promise<void>;
}

/**
 * Starts ffinet's endpoint for `role` in a child process and returns run
 * options that play every case against it over loopback sockets.
 */
export async function startWirePeer(role: "server" | "client"): Promise<WirePeer> {
  const script = fileURLToPath(new URL("./wire_peer.ts", import.meta.url));
  let child: ChildProcess;
  if (role === "server") {
    const [cmd, argv] = runtimeCommand(script, ["server"]);
    child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
      let text = "";
      child.stdout!.on("data", (d: Uint8Array) => {
        text += new TextDecoder().decode(d);
        const m = /port (\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`wire_peer exited ${code}`)));
    });
    return {
      options: { role, connect: (_c, offers) => asClient(port, offers) },
      close: async () => {
        child.kill();
        await new Promise((r) => child.exitCode !== null ? r(null) : child.once("exit", r));
      },
    };
  }
  const listener = listenTCPSync("127.0.0.1", 0);
  const port = (listener.localAddress() as { port: number }).port;
  const [cmd, argv] = runtimeCommand(script, ["client", String(port)]);
  child = spawn(cmd, argv, { stdio: ["ignore", "inherit", "inherit"] });
  return {
    options: {
      role,
      connect: (c, offers) => asServer(listener, c, offers.length > 0),
    },
    close: async () => {
      listener.close();
      const exited = new Promise((r) => child.exitCode !== null ? r(null) : child.once("exit", r));
      const timer = setTimeout(() => child.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
