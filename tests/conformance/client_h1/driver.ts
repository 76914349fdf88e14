/**
 * The two ends of the HTTP/1.1 client conformance cases (cases.ts):
 *
 * - {@link ScriptedServer}: a loopback node:net server whose every
 *   connection is played by the case's script with raw bytes (well formed
 *   or not): it reads request heads (and bodies framed as the request says)
 *   strictly, writes whatever the case builds, and logs every request as
 *   `N:METHOD /path` (N: the connection's number, from 0), so a case can
 *   say which connection a request came on.
 * - {@link ClientUnderTest}: the client played against it, behind one
 *   shape: ffinet's `fetch` or `request` over one `Client` (or Pool) per
 *   case, or undici's (`--against=undici`). `send` resolves with what the
 *   caller would see: a response with its whole body read, or the error
 *   (of the head or of the body) by its code.
 *
 * Every wait is bounded (a client that waits for bytes that never come
 * gets `HANG`, which no case accepts; the run never hangs).
 *
 * @module
 */
import net from "node:net";
import { Client as FfinetClient, type ClientOptions } from "../../../http/client/client.ts";
import { fetch as ffinetFetch } from "../../../http/client/fetch.ts";
import { request as ffinetRequest } from "../../../http/client/request.ts";

/** A case's expectation that did not hold. */
export class CaseFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaseFailure";
  }
}

const enc = new TextEncoder();

/** Octets as a latin1 string. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function fromLatin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** A request as the server read it. */
export interface SeenRequest {
  readonly method: string;
  readonly target: string;
  /** Field lines, names lower-cased. */
  readonly fields: readonly (readonly [string, string])[];
  /** The body (latin1), when read. */
  readonly body: string;
}

/** One accepted connection, played by a case's script. */
export class ServerConn {
  /** The connection's number on this server, from 0. */
  readonly index: number;
  readonly #sock: net.Socket;
  readonly #log: string[];
  #buf = "";
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(sock: net.Socket, index: number, log: string[]) {
    this.#sock = sock;
    this.index = index;
    this.#log = log;
    sock.setNoDelay(true);
    sock.on("data", (d: Uint8Array) => {
      this.#buf += latin1(d);
      this.#wake?.();
    });
    const end = () => {
      this.#closed = true;
      this.#wake?.();
    };
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", end);
  }

  /** Whether the client closed (or reset) the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  async #waitFor(test: () => boolean, deadline: number): Promise<boolean> {
    while (!test()) {
      if (this.#closed) return test();
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return true;
  }

  /**
   * Reads the next request head (and its body when `body` is not false and
   * it has one); undefined when the client closed first or the deadline
   * passed. Logs it as `N:METHOD /target`.
   */
  async readRequest(deadline: number, body = true): Promise<SeenRequest | undefined> {
    if (!await this.#waitFor(() => this.#buf.includes("\r\n\r\n"), deadline)) return undefined;
    const end = this.#buf.indexOf("\r\n\r\n");
    const head = this.#buf.slice(0, end);
    this.#buf = this.#buf.slice(end + 4);
    const [line, ...rest] = head.split("\r\n");
    const [method = "", target = ""] = line!.split(" ");
    const fields = rest.map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    });
    this.#log.push(`${this.index}:${method} ${target}`);
    let text = "";
    if (body) {
      const cl = fields.find(([k]) => k === "content-length")?.[1];
      const chunked = fields.some(([k, v]) => k === "transfer-encoding" && v.toLowerCase().includes("chunked"));
      if (cl !== undefined) {
        const n = Number(cl);
        if (await this.#waitFor(() => this.#buf.length >= n, deadline)) {
          text = this.#buf.slice(0, n);
          this.#buf = this.#buf.slice(n);
        }
      } else if (chunked) {
        for (;;) {
          if (!await this.#waitFor(() => this.#buf.includes("\r\n"), deadline)) break;
          const i = this.#buf.indexOf("\r\n");
          const size = parseInt(this.#buf.slice(0, i), 16);
          if (size === 0) {
            if (!await this.#waitFor(() => this.#buf.includes("\r\n\r\n") || this.#buf.slice(i + 2).startsWith("\r\n"), deadline)) break;
            const rest2 = this.#buf.slice(i + 2);
            this.#buf = rest2.startsWith("\r\n") ? rest2.slice(2) : rest2.slice(rest2.indexOf("\r\n\r\n") + 4);
            break;
          }
          if (!await this.#waitFor(() => this.#buf.length >= i + 2 + size + 2, deadline)) break;
          text += this.#buf.slice(i + 2, i + 2 + size);
          this.#buf = this.#buf.slice(i + 2 + size + 2);
        }
      }
    }
    return { method, target, fields, body: text };
  }

  /** Reads and drops whatever comes until the client closes or the deadline. */
  async drain(deadline: number): Promise<void> {
    await this.#waitFor(() => {
      this.#buf = "";
      return false;
    }, deadline);
  }

  /** Writes bytes (a string is latin1). */
  send(bytes: string | Uint8Array): void {
    if (!this.#sock.destroyed) this.#sock.write(typeof bytes === "string" ? fromLatin1(bytes) : bytes);
  }

  /** Half-closes (FIN after what was written). */
  end(): void {
    this.#sock.end();
  }

  /** Closes at once. */
  destroy(): void {
    this.#sock.destroy();
  }
}

/** The script of every connection of one case (`conn.index` tells them apart). */
export type Script = (conn: ServerConn, deadline: number) => Promise<void>;

/** A loopback server playing a case's script on every connection. */
export class ScriptedServer {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  /** Requests read, as `N:METHOD /target`. */
  readonly log: string[] = [];
  /** Connections accepted. */
  connections = 0;
  #script: Script = async () => {};
  #deadline = 0;
  /** Script failures (a script that threw). */
  readonly errors: string[] = [];

  private constructor(server: net.Server) {
    this.#server = server;
    server.on("connection", (sock) => {
      this.#sockets.add(sock);
      sock.on("close", () => this.#sockets.delete(sock));
      const conn = new ServerConn(sock, this.connections++, this.log);
      this.#script(conn, this.#deadline).catch((e) => this.errors.push(String(e))).finally(() => {
        if (!sock.destroyed) sock.end();
      });
    });
  }

  /** Listens on 127.0.0.1, an ephemeral port. */
  static async listen(): Promise<ScriptedServer> {
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new ScriptedServer(server);
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Starts a case: its script, its deadline, a fresh log. */
  start(script: Script, deadline: number): void {
    this.#script = script;
    this.#deadline = deadline;
    this.log.length = 0;
    this.errors.length = 0;
    this.connections = 0;
  }

  /** Drops the case's connections still open. */
  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** What the caller saw. */
export type Outcome =
  | {
    readonly kind: "response";
    readonly status: number;
    /** Field names lower-cased. */
    readonly headers: readonly (readonly [string, string])[];
    /** The whole body (latin1). */
    readonly body: string;
    /** Trailer fields (names lower-cased); undefined where the API has none (fetch). */
    readonly trailers: Readonly<Record<string, string>> | undefined;
    /** With `readBody: false`: reads the body now (the outcome then is the whole exchange's). */
    readonly rest?: () => Promise<Outcome>;
  }
  | {
    readonly kind: "error";
    /** Where it failed: before the response, or while its body was read. */
    readonly phase: "head" | "body";
    /** The error's code (its cause's for fetch's TypeError), or name; `HANG` when nothing came in time. */
    readonly code: string;
    readonly message: string;
  };

/** One request a case sends. */
export interface SendOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | ReadableStream<Uint8Array>;
  /** false: resolve once the head is in, the body unread (see `rest`). */
  readonly readBody?: boolean;
}

/** The client under test, as a case sees it. */
export interface ClientUnderTest {
  /** Sends one request on the case's client (pooled: keep-alive between sends). */
  send(options?: SendOptions): Promise<Outcome>;
  /** Whether the API reports trailers. */
  readonly trailers: boolean;
  close(): Promise<void>;
}

/** The clients a run can play. */
export type ClientKind = "ffinet-fetch" | "ffinet-request" | "undici-fetch" | "undici-request";

function codeOf(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; cause?: { code?: unknown; name?: unknown } };
  if (err instanceof TypeError && err.cause !== undefined && err.cause !== null) {
    const c = err.cause;
    return typeof c.code === "string" ? c.code : String(c.name ?? "TypeError");
  }
  return typeof err?.code === "string" ? err.code : String(err?.name ?? "Error");
}

/** The outcome of a failure. */
export function failed(phase: "head" | "body", e: unknown): Outcome {
  const message = e instanceof Error ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ""}` : String(e);
  return { kind: "error", phase, code: codeOf(e), message };
}

/** `p`, or HANG once `limitMs` passed (after `onHang`). */
export function bounded(p: Promise<Outcome>, limitMs: number, onHang: () => void): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      onHang();
      resolve({ kind: "error", phase: "head", code: "HANG", message: `nothing within ${limitMs} ms` });
    }, limitMs);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

function record(h: Iterable<readonly [string, string]>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const [k, v] of h) out.push([k.toLowerCase(), v]);
  return out;
}

function flatRecord(h: Record<string, string | string[] | undefined>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k.toLowerCase(), one]);
  }
  return out;
}

/**
 * Makes the client under test for one case against `origin` (each send
 * bounded by `limitMs`); ffinet's `Client` gets `options` too (HTTP/2,
 * TLS trust).
 */
export async function makeClient(kind: ClientKind, origin: string, limitMs: number, options: ClientOptions = {}): Promise<ClientUnderTest> {
  const aborts = new Set<AbortController>();
  const hang = () => {
    for (const a of aborts) a.abort(new Error("HANG"));
  };
  if (kind === "ffinet-fetch" || kind === "ffinet-request") {
    const dispatcher = new FfinetClient(origin, { keepAliveTimeoutMs: 30_000, headersTimeoutMs: limitMs * 2, bodyTimeoutMs: limitMs * 2, ...options });
    const send = async (o: SendOptions = {}): Promise<Outcome> => {
      const a = new AbortController();
      aborts.add(a);
      const url = origin + (o.path ?? "/");
      const method = o.method ?? "GET";
      const run = async (): Promise<Outcome> => {
        if (kind === "ffinet-fetch") {
          let r: Response;
          try {
            r = await ffinetFetch(url, {
              method,
              headers: o.headers ?? {},
              ...(o.body === undefined ? {} : { body: o.body, duplex: "half" }),
              dispatcher,
              redirect: "manual",
              signal: a.signal,
            } as RequestInit & { dispatcher: FfinetClient });
          } catch (e) {
            return failed("head", e);
          }
          const response = r;
          const rest = async (): Promise<Outcome> => {
            try {
              const body = latin1(new Uint8Array(await response.arrayBuffer()));
              return { kind: "response", status: response.status, headers: record(response.headers), body, trailers: undefined };
            } catch (e) {
              return failed("body", e);
            }
          };
          if (o.readBody === false) return { kind: "response", status: r.status, headers: record(r.headers), body: "", trailers: undefined, rest };
          return await rest();
        }
        let r: Awaited<ReturnType<typeof ffinetRequest>>;
        try {
          r = await ffinetRequest(url, { method, headers: o.headers ?? {}, ...(o.body === undefined ? {} : { body: o.body }), dispatcher, signal: a.signal });
        } catch (e) {
          return failed("head", e);
        }
        const response = r;
        const headers = flatRecord(r.headers as Record<string, string | string[]>);
        const rest = async (): Promise<Outcome> => {
          try {
            const body = latin1(await response.body.bytes());
            const trailers: Record<string, string> = {};
            for (const [k, v] of Object.entries(response.trailers ?? {})) trailers[k.toLowerCase()] = String(v);
            return { kind: "response", status: response.statusCode, headers, body, trailers };
          } catch (e) {
            return failed("body", e);
          }
        };
        if (o.readBody === false) return { kind: "response", status: r.statusCode, headers, body: "", trailers: undefined, rest };
        return await rest();
      };
      return await bounded(run(), limitMs, hang).finally(() => aborts.delete(a));
    };
    return { send, trailers: kind === "ffinet-request", close: () => dispatcher.close() };
  }
  // undici (node_modules/undici), the comparison run.
  const undici = await import("undici");
  const dispatcher = new undici.Client(origin, { keepAliveTimeout: 30_000, headersTimeout: limitMs * 2, bodyTimeout: limitMs * 2 });
  const send = async (o: SendOptions = {}): Promise<Outcome> => {
    const a = new AbortController();
    aborts.add(a);
    const url = origin + (o.path ?? "/");
    const method = o.method ?? "GET";
    const run = async (): Promise<Outcome> => {
      if (kind === "undici-fetch") {
        let r: Awaited<ReturnType<typeof undici.fetch>>;
        try {
          r = await undici.fetch(url, {
            method,
            headers: o.headers ?? {},
            ...(o.body === undefined ? {} : { body: o.body as string, duplex: "half" }),
            dispatcher,
            redirect: "manual",
            signal: a.signal,
          });
        } catch (e) {
          return failed("head", e);
        }
        try {
          const body = latin1(new Uint8Array(await r.arrayBuffer()));
          return { kind: "response", status: r.status, headers: record(r.headers as unknown as Iterable<[string, string]>), body, trailers: undefined };
        } catch (e) {
          return failed("body", e);
        }
      }
      let r: Awaited<ReturnType<typeof undici.request>>;
      try {
        r = await undici.request(url, {
          method: method as "GET",
          headers: o.headers ?? {},
          ...(o.body === undefined ? {} : { body: (typeof o.body === "string" ? o.body : undici_stream(o.body)) as string }),
          dispatcher,
          signal: a.signal,
        });
      } catch (e) {
        return failed("head", e);
      }
      try {
        const body = latin1(new Uint8Array(await r.body.arrayBuffer()));
        const trailers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.trailers ?? {})) trailers[k.toLowerCase()] = String(v);
        return { kind: "response", status: r.statusCode, headers: flatRecord(r.headers as Record<string, string | string[]>), body, trailers };
      } catch (e) {
        return failed("body", e);
      }
    };
    return await bounded(run(), limitMs, hang).finally(() => aborts.delete(a));
  };
  return { send, trailers: kind === "undici-request", close: () => dispatcher.destroy().catch(() => {}) };
}

/** undici.request takes an async iterable body, not a WHATWG stream. */
async function* undici_stream(s: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = s.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Text as bytes (UTF-8). */
export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}
