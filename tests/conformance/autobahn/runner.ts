/**
 * An Autobahn|Testsuite runner for the 517 cases of
 * ../shared/conformance/ws/autobahn_cases.json, played in memory against
 * our I/O-free core as an echo endpoint: the fuzzer's frames go in, our
 * replies come out and are judged the way the original fuzzer judges them.
 * By default our core is the server (`acceptUpgrade` + `WebSocketProtocol`)
 * and the fuzzer a client, as in the case data; with `role: "client"` the
 * same scripts run the other way round (`createClientHandshake` +
 * `WebSocketProtocol` as client, the fuzzer as server: its frames unmasked,
 * ours masked).
 *
 * Time: there is none. Every write is processed at once, so a `wait` ends
 * after the server has reacted to everything before it (a tagged wait
 * records a "timeout" event if the connection is still up), and the
 * `close_after` / `kill_after` timers fire after the last action, in order
 * of their delays.
 *
 * Verdicts: a case is OK or NON-STRICT when the observed events match that
 * expectation AND the closing behaviour is right (wrong endpoint, unclean
 * close where a clean one is required, or a close code outside the list
 * all make it FAILED); informational cases report INFORMATIONAL.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { WebSocketProtocol } from "../../../ws/connection.ts";
import type { PerMessageDeflate } from "../../../ws/deflate.ts";
import { acceptUpgrade, createClientHandshake } from "../../../ws/handshake.ts";
import {
  concat,
  type FuzzerDeflate,
  FuzzerCompressor,
  PeerStream,
  fromHex,
  type PayloadSpec,
  payloadBytes,
  randomKey,
  rawFrame,
  rawHeader,
  repeat,
  sha1Hex,
} from "./wire.ts";

const DATA_DIR = new URL("../../../../shared/conformance/ws/", import.meta.url);

// ---- case data

interface Offer {
  acceptMaxWindowBits: boolean;
  acceptNoContextTakeover: boolean;
  requestMaxWindowBits: number;
  requestNoContextTakeover: boolean;
}

type Action =
  | { op: "frame"; opcode: number; fin: boolean; rsv: number; mask: string | null; payload: PayloadSpec; payload_len: number | null; chopsize: number | null }
  | { op: "message"; binary: boolean; payload: PayloadSpec; fragmentSize: number | null }
  | { op: "begin_message"; binary: boolean }
  | { op: "begin_message_frame"; length: number }
  | { op: "message_frame_data"; payload: PayloadSpec }
  | { op: "end_message" }
  | { op: "close"; code: number | null; reason: PayloadSpec | null }
  | { op: "close_frame"; code: number | null; reason: PayloadSpec | null }
  | { op: "wait"; seconds: number; tag: string | null }
  | { op: "close_after" | "kill_after"; seconds: number }
  | { op: "set"; name: string; value: unknown };

type ExpectedEvent =
  | { type: "message"; binary: boolean; payload: PayloadSpec }
  | { type: "pong"; payload: PayloadSpec }
  | { type: "timeout"; tag: string };

/** One case of the data file. */
export interface AutobahnCase {
  id: string;
  category: string;
  description: string;
  informational: boolean;
  echo_driven: boolean;
  actions: Action[];
  expected: Record<string, ExpectedEvent[]>;
  expected_close: { closedByMe: boolean; closeCode: number[]; requireClean: boolean };
  params?: { COUNT: number; LEN: number; testdata?: { file: string; binary: boolean }; server_accept?: string };
}

/** Reads the case list from the shared conformance data. */
export function loadCases(): AutobahnCase[] {
  const data = JSON.parse(readFileSync(new URL("autobahn_cases.json", DATA_DIR), "utf8")) as { cases: AutobahnCase[] };
  return data.cases;
}

const testdata = new Map<string, Uint8Array>();
function testFile(name: string): Uint8Array {
  let bytes = testdata.get(name);
  if (bytes === undefined) {
    bytes = new Uint8Array(readFileSync(new URL(`testdata/${name}`, DATA_DIR)));
    testdata.set(name, bytes);
  }
  return bytes;
}

// ---- results

/** A case's outcome. */
export type Verdict = "OK" | "NON-STRICT" | "INFORMATIONAL" | "FAILED" | "NOT RUN";

/** One case's result, with why. */
export interface CaseResult {
  id: string;
  verdict: Verdict;
  detail: string;
  ms: number;
}

/** How to run. */
export interface RunOptions {
  /**
   * The role of our implementation: "server" (the default: the fuzzer is a
   * client) or "client" (the fuzzer plays the server, the same scripts).
   */
  role?: "server" | "client";
  /** Cap on COUNT for the echo-driven cases (9.7, 9.8, 12.x, 13.x); default: the case's own. */
  maxCount?: number;
  /** Only cases whose id starts with one of these. */
  only?: string[];
}

// ---- one case

type Observed = { type: "message"; binary: boolean; data: Uint8Array } | { type: "pong" | "ping"; data: Uint8Array } | { type: "timeout"; tag: string };

class CaseRun {
  readonly c: AutobahnCase;
  readonly options: RunOptions;
  readonly role: "server" | "client";
  /** The fuzzer masks its frames when it plays the client. */
  readonly masks: boolean;
  impl!: WebSocketProtocol;
  stream!: PeerStream;
  compressor: FuzzerCompressor | undefined;
  alive = true;
  /** The side that closes TCP after the closing handshake (the server) did so. */
  serverDropped = false;
  /** The fuzzer ended the connection on a timer (kill_after or the case timeout). */
  droppedByMe = false;
  fuzzerSentClose = false;
  fuzzerGotClose = false;
  closedByMe: boolean | undefined;
  remoteCode: number | null | undefined;
  received: Observed[] = [];
  violation: string | undefined;
  autoFragmentSize = 0;
  // Echo-driven cases.
  echoQueue: (() => void) | undefined;
  echoExpected: { binary: boolean; sha1: string; len: number } | undefined;
  echoSent = 0;
  echoReceived = 0;
  echoCount = 0;
  echoFailed: string | undefined;
  echoDone = false;
  // A message streamed frame by frame.
  streamKey: Uint8Array | null = null;
  streamAt = 0;
  streamBinary = false;

  constructor(c: AutobahnCase, options: RunOptions) {
    this.c = c;
    this.options = options;
    this.role = options.role ?? "server";
    this.masks = this.role === "server";
  }

  run(): { verdict: Verdict; detail: string } {
    const offers = this.c.actions.find((a) => a.op === "set" && a.name === "perMessageCompressionOffers") as
      | { value: Offer[] }
      | undefined;
    const handshake = this.role === "server" ? this.handshake(offers?.value ?? []) : this.clientHandshake(offers !== undefined);
    if (handshake !== undefined) return { verdict: "FAILED", detail: handshake };
    const timers: { op: "close_after" | "kill_after"; seconds: number; order: number }[] = [];
    for (const a of this.c.actions) {
      if (a.op === "close_after" || a.op === "kill_after") {
        timers.push({ op: a.op, seconds: a.seconds, order: timers.length });
        continue;
      }
      if (!this.alive) continue;
      this.act(a);
    }
    timers.sort((x, y) => x.seconds - y.seconds || x.order - y.order);
    for (const t of timers) {
      if (!this.alive) break;
      if (t.op === "close_after") this.sendClose(1000, new Uint8Array(0));
      else this.kill();
    }
    if (this.alive) this.kill(); // the case would time out here
    this.stream.close();
    this.compressor?.close();
    this.impl.transportClosed();
    return this.judge();
  }

  /** The opening handshake; returns an error text when it fails. */
  handshake(offers: Offer[]): string | undefined {
    const headers = new Headers({
      Host: "localhost:9001",
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": Buffer.from(concat([randomKey(), randomKey(), randomKey(), randomKey()])).toString("base64"),
      "Sec-WebSocket-Version": "13",
    });
    if (offers.length > 0) {
      headers.set("Sec-WebSocket-Extensions", offers.map((o) => {
        let s = "permessage-deflate";
        if (o.acceptNoContextTakeover) s += "; client_no_context_takeover";
        if (o.acceptMaxWindowBits) s += "; client_max_window_bits";
        if (o.requestNoContextTakeover) s += "; server_no_context_takeover";
        if (o.requestMaxWindowBits !== 0) s += `; server_max_window_bits=${o.requestMaxWindowBits}`;
        return s;
      }).join(", "));
    }
    const result = acceptUpgrade({ method: "GET", headers });
    if (!result.ok) return `handshake refused: ${result.status} ${result.reason}`;
    // Check the response the way a client would, with node:crypto.
    const lines = result.response.split("\r\n");
    if (lines[0] !== "HTTP/1.1 101 Switching Protocols") return `bad status line ${lines[0]}`;
    const fields = new Map(lines.slice(1).filter((l) => l.includes(":")).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    }));
    const expected = createHash("sha1").update(headers.get("sec-websocket-key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
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
      if (first.requestMaxWindowBits !== 0 && deflate.peerMaxWindowBits > first.requestMaxWindowBits) return "server_max_window_bits ignored";
      this.compressor = new FuzzerCompressor(deflate);
    } else if (offers.length > 0) {
      return "permessage-deflate was offered and declined";
    }
    this.start(deflate, result.deflate);
    return undefined;
  }

  /** Our implementation as an echo endpoint. */
  start(fuzzer: FuzzerDeflate | undefined, ours: PerMessageDeflate | undefined): void {
    this.stream = new PeerStream(fuzzer, !this.masks);
    this.impl = new WebSocketProtocol({
      role: this.role,
      deflate: ours,
      compressionThreshold: 0,
      handler: {
        onMessage: (data, binary) => {
          if (this.impl.closeHandshake.canSend) this.impl.send(data, { binary });
        },
      },
    });
  }

  /**
   * The opening handshake with our client: it offers permessage-deflate
   * (the default offer); the fuzzer as server declines it outside 12.x and
   * 13.x and otherwise answers as the case's `server_accept` says.
   */
  clientHandshake(compression: boolean): string | undefined {
    const hs = createClientHandshake({ host: "localhost:9001", path: "/runCase" });
    const lines = hs.request.split("\r\n");
    if (!/^GET \/runCase HTTP\/1\.1$/.test(lines[0]!)) return `bad request line ${lines[0]}`;
    const fields = new Map(lines.slice(1).filter((l) => l.includes(":")).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    }));
    const key = fields.get("sec-websocket-key") ?? "";
    if (Buffer.from(key, "base64").length !== 16) return "bad Sec-WebSocket-Key";
    if (fields.get("sec-websocket-version") !== "13" || fields.get("upgrade")?.toLowerCase() !== "websocket") return "bad upgrade request";
    const response = new Headers({
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Accept": createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64"),
    });
    let fuzzer: FuzzerDeflate | undefined;
    const offer = fields.get("sec-websocket-extensions") ?? "";
    if (compression) {
      if (!offer.startsWith("permessage-deflate")) return "our client did not offer permessage-deflate";
      // "server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 9), ...]":
      // the first pair is what the fuzzer asks of our client's compressor.
      const m = /\((True|False), (\d+)\)/.exec(this.c.params?.server_accept ?? "");
      const noContext = m?.[1] === "True";
      const bits = m ? Number(m[2]) : 0;
      if (bits !== 0 && !offer.includes("client_max_window_bits")) return "our client does not let the server limit its window";
      let ext = "permessage-deflate";
      if (noContext) ext += "; client_no_context_takeover";
      if (bits !== 0) ext += `; client_max_window_bits=${bits}`;
      response.set("Sec-WebSocket-Extensions", ext);
      fuzzer = { peerNoContextTakeover: noContext, peerMaxWindowBits: bits || 15, ownNoContextTakeover: false, ownMaxWindowBits: 15 };
      this.compressor = new FuzzerCompressor(fuzzer);
    }
    let deflate: PerMessageDeflate | undefined;
    try {
      deflate = hs.finish({ status: 101, headers: response }).deflate;
    } catch (err) {
      return `our client refused a valid response: ${(err as Error).message}`;
    }
    if (compression !== (deflate !== undefined)) return "permessage-deflate state differs between the two ends";
    this.start(fuzzer, deflate);
    return undefined;
  }

  // ---- the fuzzer's actions

  act(a: Action): void {
    switch (a.op) {
      case "set":
        if (a.name === "autoFragmentSize") this.autoFragmentSize = a.value as number;
        return;
      case "frame": {
        let payload = payloadBytes(a.payload)!;
        if (a.payload_len !== null) payload = repeat(payload, a.payload_len);
        if (this.c.echo_driven) return this.startEcho(() => this.sendFrame(a, payload), payload, a.opcode === 2);
        return this.sendFrame(a, payload);
      }
      case "message": {
        if (this.c.echo_driven && this.c.params?.testdata !== undefined) return this.startTestdataEcho();
        const payload = payloadBytes(a.payload)!;
        if (this.c.echo_driven) return this.startEcho(() => this.sendMessage(payload, a.binary, a.fragmentSize), payload, a.binary);
        return this.sendMessage(payload, a.binary, a.fragmentSize);
      }
      case "begin_message":
        this.streamBinary = a.binary;
        return;
      case "begin_message_frame": {
        const h = rawHeader(this.streamBinary ? 2 : 1, a.length, false, this.masks);
        this.streamKey = h.key;
        this.streamAt = 0;
        return this.write(h.bytes);
      }
      case "message_frame_data": {
        const data = payloadBytes(a.payload)!.slice();
        const key = this.streamKey;
        for (let i = 0; key !== null && i < data.length; i++) data[i] = data[i]! ^ key[(this.streamAt + i) & 3]!;
        this.streamAt += data.length;
        return this.write(data);
      }
      case "end_message":
        return this.write(rawFrame(0, new Uint8Array(0), true, 0, this.masks));
      case "close":
      case "close_frame": {
        const reason = a.reason === null ? new Uint8Array(0) : payloadBytes(a.reason)!;
        return this.sendClose(a.code, reason);
      }
      case "wait":
        if (a.tag !== null) this.received.push({ type: "timeout", tag: a.tag });
        return;
    }
  }

  sendFrame(a: Extract<Action, { op: "frame" }>, payload: Uint8Array): void {
    const frame = rawFrame(a.opcode, payload, a.fin, a.rsv, this.masks, a.mask === null ? undefined : fromHex(a.mask));
    if (a.chopsize === null) return this.write(frame);
    for (let at = 0; at < frame.length && this.alive; at += a.chopsize) this.write(frame.slice(at, at + a.chopsize));
  }

  sendMessage(payload: Uint8Array, binary: boolean, fragmentSize: number | null): void {
    let rsv = 0;
    let data = payload;
    if (this.compressor !== undefined) {
      data = this.compressor.compress(payload);
      rsv = 4;
    }
    const size = fragmentSize ?? (this.autoFragmentSize > 0 ? this.autoFragmentSize : 0);
    if (size === 0 || data.length <= size) return this.write(rawFrame(binary ? 2 : 1, data, true, rsv, this.masks));
    for (let at = 0; at < data.length; at += size) {
      const end = Math.min(at + size, data.length);
      this.write(rawFrame(at === 0 ? (binary ? 2 : 1) : 0, data.subarray(at, end), end === data.length, at === 0 ? rsv : 0, this.masks));
    }
  }

  sendClose(code: number | null, reason: Uint8Array): void {
    if (this.fuzzerSentClose || !this.alive) return;
    const payload = code === null ? new Uint8Array(0) : concat([new Uint8Array([code >>> 8, code & 255]), reason]);
    this.noteCloseSent();
    this.write(rawFrame(8, payload, true, 0, this.masks));
  }

  noteCloseSent(): void {
    if (!this.fuzzerSentClose && this.closedByMe === undefined) this.closedByMe = !this.fuzzerGotClose;
    this.fuzzerSentClose = true;
  }

  kill(): void {
    this.droppedByMe = true;
    this.alive = false;
  }

  /** Writes to our endpoint and lets it answer (and the fuzzer answer that). */
  write(bytes: Uint8Array): void {
    if (!this.alive) return;
    this.impl.push(bytes);
    for (;;) {
      const out = this.impl.takeOutput();
      if (out.length === 0) break;
      for (const chunk of out) this.fromPeer(chunk);
      if (!this.alive) return;
    }
    if (this.impl.shouldCloseTransport) {
      // A server closes TCP after the closing handshake; a client only
      // after failing the connection (else it waits for the server).
      if (this.role === "server") this.serverDropped = true;
      this.alive = false;
    } else if (this.role === "client" && this.fuzzerSentClose && this.fuzzerGotClose) {
      this.serverDropped = true; // the fuzzer, as the server, closes TCP
      this.alive = false;
    }
  }


  fromPeer(chunk: Uint8Array): void {
    for (const ev of this.stream.push(chunk)) {
      if (ev.type === "close") {
        this.fuzzerGotClose = true;
        this.remoteCode = ev.code;
        if (this.closedByMe === undefined) this.closedByMe = false;
        if (!this.fuzzerSentClose) this.sendClose(ev.code, new Uint8Array(0));
        continue;
      }
      if (ev.type === "ping") {
        this.received.push({ type: "ping", data: ev.data });
        this.write(rawFrame(10, ev.data, true, 0, this.masks));
        continue;
      }
      if (this.c.echo_driven) {
        this.echoReceived++;
        this.onEcho(ev);
        continue;
      }
      this.received.push(ev);
      this.finishWhenDone();
    }
    if (this.stream.violation !== undefined) {
      this.violation = this.stream.violation;
      this.kill();
    }
  }

  /** The fuzzer closes once the events match every expectation. */
  finishWhenDone(): void {
    for (const events of Object.values(this.c.expected)) if (!this.matches(events)) return;
    if (this.c.expected_close.closedByMe && this.c.id !== "7.1.6") this.sendClose(this.c.expected_close.closeCode[0]!, new Uint8Array(0));
  }

  // ---- echo-driven cases

  startEcho(send: () => void, payload: Uint8Array, binary: boolean): void {
    this.echoCount = Math.min(this.c.params?.COUNT ?? 1, this.options.maxCount ?? Infinity);
    this.echoExpected = { binary, sha1: sha1Hex(payload), len: payload.length };
    this.echoQueue = send;
    this.sendNextEcho();
  }

  startTestdataEcho(): void {
    const p = this.c.params!;
    const data = testFile(p.testdata!.file);
    let ptr = 0;
    const next = (): Uint8Array => {
      if (p.LEN === 0) return new Uint8Array(0);
      const to = (ptr + p.LEN) % data.length;
      const msg = to > ptr ? data.subarray(ptr, to) : concat([data.subarray(ptr), data.subarray(0, to)]);
      ptr = to;
      return msg;
    };
    this.echoCount = Math.min(p.COUNT, this.options.maxCount ?? Infinity);
    this.echoQueue = () => {
      const msg = next();
      this.echoExpected = { binary: p.testdata!.binary, sha1: sha1Hex(msg), len: msg.length };
      this.sendMessage(msg, p.testdata!.binary, null);
    };
    this.sendNextEcho();
  }

  sendNextEcho(): void {
    // Iterative: each echo arrives synchronously inside the write.
    while (this.alive && !this.echoDone && this.echoSent < this.echoCount && this.echoSent === this.echoReceived) {
      this.echoSent++;
      this.echoQueue!();
    }
  }

  onEcho(ev: Observed): void {
    const want = this.echoExpected!;
    if (ev.type !== "message") this.echoFailed = `unexpected ${ev.type}`;
    else if (ev.binary !== want.binary) this.echoFailed = "echo of the wrong type";
    else if (ev.data.length !== want.len) this.echoFailed = `echo of ${ev.data.length} bytes, expected ${want.len}`;
    else if (sha1Hex(ev.data) !== want.sha1) this.echoFailed = "echo with different content";
    if (this.echoFailed !== undefined || this.echoReceived >= this.echoCount) {
      this.echoDone = true;
      this.sendClose(1000, new Uint8Array(0));
    }
  }

  // ---- judging

  matches(events: ExpectedEvent[]): boolean {
    if (events.length !== this.received.length) return false;
    return events.every((e, i) => {
      const r = this.received[i]!;
      if (e.type !== r.type) return false;
      if (e.type === "timeout") return r.type === "timeout" && r.tag === e.tag;
      if (r.type === "timeout") return false;
      if (e.type === "message" && (r.type !== "message" || r.binary !== e.binary)) return false;
      return samePayload(e.payload, r.data);
    });
  }

  judge(): { verdict: Verdict; detail: string } {
    if (this.violation !== undefined) return { verdict: "FAILED", detail: `protocol violation by our endpoint: ${this.violation}` };
    let behavior: Verdict = "FAILED";
    let detail = "observed events match no expectation";
    if (this.c.echo_driven) {
      if (this.echoFailed !== undefined) detail = this.echoFailed;
      else if (this.echoReceived < this.echoCount) detail = `${this.echoReceived} of ${this.echoCount} echoes`;
      else {
        behavior = "OK";
        detail = `${this.echoCount} echoes`;
      }
    } else {
      for (const key of ["OK", "NON-STRICT"]) {
        const events = this.c.expected[key];
        if (events !== undefined && this.matches(events)) {
          behavior = key as Verdict;
          detail = "events match";
          break;
        }
      }
    }
    const ec = this.c.expected_close;
    const wasClean = this.fuzzerSentClose && this.fuzzerGotClose && this.serverDropped && !this.droppedByMe;
    let closeProblem: string | undefined;
    if ((this.closedByMe ?? false) !== ec.closedByMe) closeProblem = "the connection was closed by the wrong endpoint";
    else if (ec.requireClean && !wasClean) closeProblem = "unclean close where a clean one is required";
    else if (this.remoteCode != null && !ec.closeCode.includes(this.remoteCode)) {
      closeProblem = `close code ${this.remoteCode}, expected one of ${ec.closeCode.join(",")}`;
    }
    if (this.c.informational) return { verdict: "INFORMATIONAL", detail: `${behavior}: ${detail}${closeProblem ? "; " + closeProblem : ""}` };
    if (behavior === "FAILED") return { verdict: "FAILED", detail };
    if (closeProblem !== undefined) return { verdict: "FAILED", detail: closeProblem };
    return { verdict: behavior, detail: `${detail}; close code ${this.remoteCode ?? "none"}` };
  }
}

function samePayload(p: PayloadSpec, data: Uint8Array): boolean {
  if (data.length !== p.len) return false;
  const bytes = payloadBytes(p);
  if (bytes !== null) return Buffer.from(bytes).equals(Buffer.from(data));
  return p.sha1 === undefined || sha1Hex(data) === p.sha1;
}

/** Runs one case. */
export function runCase(c: AutobahnCase, options: RunOptions = {}): CaseResult {
  const started = performance.now();
  let outcome: { verdict: Verdict; detail: string };
  try {
    outcome = new CaseRun(c, options).run();
  } catch (err) {
    outcome = { verdict: "FAILED", detail: `runner error: ${(err as Error).stack ?? String(err)}` };
  }
  return { id: c.id, ...outcome, ms: performance.now() - started };
}

/** Runs the cases (all, or `options.only`) and returns the results and totals. */
export function runAll(options: RunOptions = {}): { results: CaseResult[]; totals: Record<Verdict, number> } {
  const totals: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, FAILED: 0, "NOT RUN": 0 };
  const results: CaseResult[] = [];
  for (const c of loadCases()) {
    if (options.only !== undefined && !options.only.some((p) => c.id === p || c.id.startsWith(p + "."))) {
      continue;
    }
    const r = runCase(c, options);
    totals[r.verdict]++;
    results.push(r);
  }
  return { results, totals };
}
