/**
 * An Autobahn|Testsuite runner for the 517 cases of
 * tests/conformance/ws/autobahn_cases.json (see NOTICE), played in memory against
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
import { Buffer } from "node:buffer";
import { WebSocketProtocol } from "../../../ws/connection.ts";
import type { PerMessageDeflate } from "../../../ws/deflate.ts";
import { type Action, type AutobahnCase, type ExpectedEvent, loadCases, type Offer, testFile } from "./cases.ts";
import { fuzzerAsClient, fuzzerAsServer } from "./handshakes.ts";
import {
  concat,
  type FuzzerDeflate,
  FuzzerCompressor,
  fromHex,
  type PayloadSpec,
  payloadBytes,
  PeerStream,
  rawFrame,
  rawHeader,
  repeat,
  sha1Hex,
} from "./wire.ts";

export { type AutobahnCase, loadCases } from "./cases.ts";

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
  /**
   * Plays the case against an endpoint over a real connection instead of
   * the in-memory core (over_sockets.ts): runs the opening handshake for
   * the case and returns the fuzzer's deflate view and the endpoint, or an
   * error text.
   */
  connect?: (c: AutobahnCase, offers: Offer[]) => { fuzzer: FuzzerDeflate | undefined; endpoint: Endpoint } | string;
}

/** What the fuzzer drives: the in-memory core, or a connection to one (over_sockets.ts). */
export interface Endpoint {
  /** Echo-driven cases: the endpoint's next whole message may stand for the barrier after a message (over_sockets.ts). */
  awaitEchoes?: boolean;
  push(bytes: Uint8Array): void;
  takeOutput(): Uint8Array[];
  readonly shouldCloseTransport: boolean;
  transportClosed(): void;
  /**
   * A `wait` of the case: an endpoint over a real connection gets up to
   * `seconds` (the case's own wait, as the original fuzzer sleeps) to
   * react to what it was sent when no barrier can be used (inside a frame:
   * a ping there would be payload). What it sends comes out of the next
   * `takeOutput`. The in-memory core has none: it reacts inside `push`.
   */
  settle?(seconds: number): void;
}

// ---- one case

type Observed = { type: "message"; binary: boolean; data: Uint8Array } | { type: "pong" | "ping"; data: Uint8Array } | { type: "timeout"; tag: string };

class CaseRun {
  readonly c: AutobahnCase;
  readonly options: RunOptions;
  readonly role: "server" | "client";
  /** The fuzzer masks its frames when it plays the client. */
  readonly masks: boolean;
  impl!: Endpoint;
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
    if (this.options.connect !== undefined) {
      const connected = this.options.connect(this.c, offers?.value ?? []);
      if (typeof connected === "string") return { verdict: "FAILED", detail: connected };
      if (connected.fuzzer !== undefined) this.compressor = new FuzzerCompressor(connected.fuzzer);
      this.stream = new PeerStream(connected.fuzzer, !this.masks);
      this.impl = connected.endpoint;
      if (this.c.echo_driven) this.impl.awaitEchoes = true;
    } else {
      const negotiated = this.role === "server" ? fuzzerAsClient(offers?.value ?? []) : fuzzerAsServer(this.c, offers !== undefined);
      if (typeof negotiated === "string") return { verdict: "FAILED", detail: negotiated };
      this.start(negotiated.fuzzer, negotiated.ours);
    }
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

  /** Our implementation as an echo endpoint. */
  start(fuzzer: FuzzerDeflate | undefined, ours: PerMessageDeflate | undefined): void {
    if (fuzzer !== undefined) this.compressor = new FuzzerCompressor(fuzzer);
    this.stream = new PeerStream(fuzzer, !this.masks);
    const impl: WebSocketProtocol = new WebSocketProtocol({
      role: this.role,
      deflate: ours,
      compressionThreshold: 0,
      handler: {
        onMessage: (data, binary) => {
          if (impl.closeHandshake.canSend) impl.send(data, { binary });
        },
      },
    });
    this.impl = impl;
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
        if (this.impl.settle !== undefined) {
          // Over sockets: the endpoint's answer to the bytes before the
          // wait (a Close for invalid UTF-8 inside a frame, 6.4.3/6.4.4)
          // comes before the wait's timeout, as with the original fuzzer.
          this.impl.settle(a.seconds);
          this.react();
          if (!this.alive) return;
        }
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
    this.react();
  }

  /** Takes what our endpoint answered (the fuzzer answering that in turn), and notes a closed transport. */
  react(): void {
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

/**
 * Runs the cases (all, or `options.only`) and returns the results and
 * totals; `onResult` sees each result as its case ends (a long run reports
 * as it goes).
 */
export function runAll(options: RunOptions = {}, onResult?: (r: CaseResult) => void): { results: CaseResult[]; totals: Record<Verdict, number> } {
  const totals: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, FAILED: 0, "NOT RUN": 0 };
  const results: CaseResult[] = [];
  for (const c of loadCases()) {
    if (options.only !== undefined && !options.only.some((p) => c.id === p || c.id.startsWith(p + "."))) {
      continue;
    }
    const r = runCase(c, options);
    totals[r.verdict]++;
    results.push(r);
    onResult?.(r);
  }
  return { results, totals };
}
