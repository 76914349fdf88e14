/**
 * The server end of the HTTP/2 client conformance cases (cases.ts): a
 * loopback server (node:net for h2c by prior knowledge, node:tls with ALPN
 * `h2` and the test PKI) whose connections a case plays frame by frame
 * with raw bytes (the frame and HPACK writers of the server suite's peer,
 * tests/conformance/h2/peer.ts: they write what ffinet's own encoders
 * refuse to). The client's header blocks are decoded with http/hpack/'s
 * decoder; every frame the client sends is logged (`SETTINGS ACK`,
 * `RST_STREAM 1 PROTOCOL_ERROR`, `GOAWAY FLOW_CONTROL_ERROR` …) so a case
 * can say what the client answered.
 *
 * Every wait is bounded by the case's deadline.
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { HPACKDecoder } from "../../../http/hpack/decoder.ts";
import { testPKI } from "../../tls_pki.ts";
import { CaseFailure } from "../client_h1/driver.ts";
import { cat, codeName, E, F, PREFACE, type RawFrame, settings, T, u32 } from "../h2/peer.ts";

const TYPE_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"];

/** A frame from the client, as logged. */
export function frameText(f: RawFrame): string {
  const name = TYPE_NAMES[f.type] ?? `TYPE_${f.type}`;
  switch (f.type) {
    case T.SETTINGS:
      return (f.flags & F.ACK) !== 0 ? "SETTINGS ACK" : "SETTINGS";
    case T.PING:
      return (f.flags & F.ACK) !== 0 ? "PING ACK" : "PING";
    case T.RST_STREAM:
      return `RST_STREAM ${f.streamId} ${codeName(u32(f.payload, 0))}`;
    case T.GOAWAY:
      return `GOAWAY ${codeName(u32(f.payload, 4))}`;
    case T.WINDOW_UPDATE:
      return `WINDOW_UPDATE ${f.streamId} +${u32(f.payload, 0) & 0x7fffffff}`;
    case T.DATA:
      return `DATA ${f.streamId} ${f.payload.length}${(f.flags & F.END_STREAM) !== 0 ? " END_STREAM" : ""}`;
    default:
      return `${name} ${f.streamId}`;
  }
}

/** A request the client opened. */
export interface SeenStream {
  readonly streamId: number;
  /** Decoded fields in order. */
  readonly fields: readonly (readonly [string, string])[];
  /** The HEADERS ended the stream (no body). */
  readonly endStream: boolean;
  /** The header block as sent (CONTINUATION joined). */
  readonly block: Uint8Array;
}

/** The value of a field of a request. */
export function fieldOf(r: SeenStream, name: string): string | undefined {
  return r.fields.find(([k]) => k === name)?.[1];
}

/** One accepted connection, past the preface and the SETTINGS exchange. */
export class H2ServerConn {
  /** The connection's number on this server, from 0. */
  readonly index: number;
  readonly #sock: net.Socket;
  #buf: Uint8Array = new Uint8Array(0);
  #preface = false;
  #frames: RawFrame[] = [];
  #closed = false;
  /** Every pending next(), all woken (see {@link wakeAll}). */
  readonly #wakers = new Set<() => void>();
  readonly #decoder = new HPACKDecoder();
  /** The client's SETTINGS (its first), id → value. */
  readonly clientSettings = new Map<number, number>();
  /** Every frame the client sent, as text, in order. */
  readonly log: string[] = [];
  /** Whether the preface was right. */
  prefaceOk = true;

  constructor(sock: net.Socket, index: number) {
    this.#sock = sock;
    this.index = index;
    sock.setNoDelay(true);
    sock.on("data", (d: Uint8Array) => this.#onData(d));
    const end = () => {
      this.#closed = true;
      wakeAll(this.#wakers);
    };
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", end);
  }

  #onData(d: Uint8Array): void {
    let b = this.#buf.length === 0 ? new Uint8Array(d) : cat(this.#buf, d);
    if (!this.#preface) {
      if (b.length < 24) {
        this.#buf = b;
        return;
      }
      this.prefaceOk = new TextDecoder("latin1").decode(b.subarray(0, 24)) === PREFACE;
      this.#preface = true;
      b = b.subarray(24);
    }
    let at = 0;
    while (b.length - at >= 9) {
      const len = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
      if (b.length - at < 9 + len) break;
      const f = { type: b[at + 3]!, flags: b[at + 4]!, streamId: u32(b, at + 5) & 0x7fffffff, payload: b.slice(at + 9, at + 9 + len) };
      this.#frames.push(f);
      this.log.push(frameText(f));
      at += 9 + len;
    }
    this.#buf = b.slice(at);
    wakeAll(this.#wakers);
  }

  /** Whether the client closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next frame from the client; undefined once it closed or the deadline passed. */
  async next(deadline: number): Promise<RawFrame | undefined> {
    for (;;) {
      const f = this.#frames.shift();
      if (f !== undefined) return f;
      if (this.#closed) return undefined;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await sleepUntilWoken(this.#wakers, left);
    }
  }

  /** Reads frames until one matches (returned); undefined at the close or the deadline. */
  async waitFor(match: (f: RawFrame) => boolean, deadline: number): Promise<RawFrame | undefined> {
    for (;;) {
      const f = await this.next(deadline);
      if (f === undefined || match(f)) return f;
    }
  }

  /** Sends our SETTINGS (`pairs`), reads the client's (its first frame) and acknowledges it. */
  async handshake(pairs: [number, number][], deadline: number): Promise<void> {
    this.send(settings(pairs));
    const f = await this.next(deadline);
    if (f === undefined) throw new CaseFailure(`no SETTINGS from the client: ${JSON.stringify(this.log)}`);
    if (!this.prefaceOk) throw new CaseFailure("the client's connection preface is wrong (RFC 9113 §3.4)");
    if (f.type !== T.SETTINGS || (f.flags & F.ACK) !== 0) throw new CaseFailure(`the client's first frame is ${frameText(f)}, not SETTINGS (RFC 9113 §3.4)`);
    for (let i = 0; i + 6 <= f.payload.length; i += 6) this.clientSettings.set((f.payload[i]! << 8) | f.payload[i + 1]!, u32(f.payload, i + 2));
    this.send(settings([], F.ACK));
  }

  /**
   * The next request: frames up to a HEADERS block's end (CONTINUATION
   * joined), decoded. Client SETTINGS are acknowledged on the way; other
   * frames are only logged.
   */
  async nextRequest(deadline: number): Promise<SeenStream> {
    for (;;) {
      const f = await this.next(deadline);
      if (f === undefined) throw new CaseFailure(`no request from the client: ${JSON.stringify(this.log)}`);
      if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0) this.send(settings([], F.ACK));
      if (f.type !== T.HEADERS) continue;
      let start = 0;
      let end = f.payload.length;
      if ((f.flags & F.PADDED) !== 0) {
        end -= f.payload[0]!;
        start = 1;
      }
      if ((f.flags & F.PRIORITY) !== 0) start += 5;
      let block = f.payload.subarray(start, end);
      let flags = f.flags;
      while ((flags & F.END_HEADERS) === 0) {
        const c = await this.next(deadline);
        if (c === undefined || c.type !== T.CONTINUATION) throw new CaseFailure(`a header block not continued: ${JSON.stringify(this.log)}`);
        block = cat(block, c.payload);
        flags = c.flags;
      }
      const flat = this.#decoder.decode(block);
      const fields: Array<readonly [string, string]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) fields.push([flat[i]!, flat[i + 1]!]);
      return { streamId: f.streamId, fields, endStream: (f.flags & F.END_STREAM) !== 0, block };
    }
  }

  /** Writes bytes as they are. */
  send(...parts: Uint8Array[]): void {
    if (this.#sock.destroyed) return;
    for (const p of parts) this.#sock.write(p);
  }

  /** Closes at once. */
  destroy(): void {
    this.#sock.destroy();
  }
}

/** The loopback server: connections wait to be taken by the case (`accept`). */
export class H2ScriptServer {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #waiting: H2ServerConn[] = [];
  /** Every pending accept(), all woken (see {@link wakeAll}). */
  readonly #wakers = new Set<() => void>();
  /** Bumped by start(): an accept() left pending by an earlier case gives up instead of taking this case's connection. */
  #generation = 0;
  /** Connections accepted in this case. */
  connections = 0;
  /** Our SETTINGS for the case's connections. */
  settings: [number, number][] = [];
  readonly tls: boolean;

  private constructor(server: net.Server, isTLS: boolean) {
    this.#server = server;
    this.tls = isTLS;
    server.on(isTLS ? "secureConnection" : "connection", (sock: net.Socket) => {
      this.#sockets.add(sock);
      sock.on("close", () => this.#sockets.delete(sock));
      this.#waiting.push(new H2ServerConn(sock, this.connections++));
      wakeAll(this.#wakers);
    });
  }

  /** Listens on 127.0.0.1 (TLS: ALPN h2 only, the test PKI's chain). */
  static async listen(isTLS: boolean): Promise<H2ScriptServer> {
    let server: net.Server;
    if (isTLS) {
      const pki = testPKI();
      server = tls.createServer({ cert: pki.chain, key: pki.key, ALPNProtocols: ["h2"] });
    } else server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new H2ScriptServer(server, isTLS);
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** The origin a client uses. */
  get origin(): string {
    return this.tls ? `https://localhost:${this.port}` : `http://127.0.0.1:${this.port}`;
  }

  /** Starts a case. */
  start(pairs: [number, number][]): void {
    this.settings = pairs;
    this.connections = 0;
    this.#waiting = [];
    this.#generation++;
    wakeAll(this.#wakers);
  }

  /** The next connection the client opens, past the SETTINGS exchange (or a CaseFailure at the deadline). */
  async accept(deadline: number): Promise<H2ServerConn> {
    const generation = this.#generation;
    for (;;) {
      if (generation !== this.#generation) throw new CaseFailure("an accept() of an earlier case, given up");
      const c = this.#waiting.shift();
      if (c !== undefined) {
        await c.handshake(this.settings, deadline);
        return c;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new CaseFailure("the client opened no (further) connection");
      await sleepUntilWoken(this.#wakers, left);
    }
  }

  /** Whether another connection came and was not taken. */
  get pending(): number {
    return this.#waiting.length;
  }

  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#waiting = [];
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Wakes every waiter. One `wake` slot lost wake-ups: a wait left pending
 * by an earlier race (9113/8.7/1 races accept() against nextRequest()) or
 * by a case that failed early cleared the slot when its own timer fired,
 * so the current wait slept through its connection or frame until its
 * deadline — "the client opened no (further) connection", or a client
 * that seemed never to read the server's SETTINGS, which the script had
 * not sent yet (1 in 300-600 case runs under load, taken for a client
 * stall).
 */
function wakeAll(wakers: Set<() => void>): void {
  for (const wake of [...wakers]) wake();
}

/** Resolves once woken through `wakers` or after `ms`, whichever comes first. */
function sleepUntilWoken(wakers: Set<() => void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      wakers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    wakers.add(wake);
  });
}

/**
 * Waits until the client signals `codes` on `stream` (RST_STREAM), or for
 * the connection (GOAWAY: a connection error is allowed wherever a stream
 * error is, RFC 9113 §5.4.2), or closes the connection after a GOAWAY with one of them.
 */
export async function expectClientError(c: H2ServerConn, stream: number | undefined, codes: readonly number[], deadline: number, what: string): Promise<void> {
  const f = await c.waitFor((f) =>
    (f.type === T.GOAWAY && codes.includes(u32(f.payload, 4))) ||
    (stream !== undefined && f.type === T.RST_STREAM && f.streamId === stream && codes.includes(u32(f.payload, 0))), deadline);
  if (f === undefined) {
    throw new CaseFailure(`${what}: expected ${stream === undefined ? "GOAWAY" : `RST_STREAM ${stream} or GOAWAY`} with ${codes.map(codeName).join(" or ")}; the client sent ${JSON.stringify(c.log)}${c.closed ? " and closed" : ""}`);
  }
}

export { codeName, E, F, T };
