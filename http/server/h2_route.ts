/**
 * Which protocol a cleartext connection of `serve` speaks, decided on its
 * first bytes, before the HTTP/1 parser sees them:
 *
 * - the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`): h2c
 *   by prior knowledge (RFC 9113 §3.3);
 * - a first request with `Upgrade: h2c`, one `HTTP2-Settings` field and
 *   `Connection: Upgrade, HTTP2-Settings`: `101 Switching Protocols`, then
 *   HTTP/2 with that request as stream 1 (RFC 7540 §3.2; RFC 9113
 *   deprecates it, curl `--http2` still uses it). A request body
 *   (Content-Length or chunked) is read whole first, over as many reads as
 *   it takes, and becomes stream 1's body (the client sends no HTTP/2
 *   frame before it, RFC 7540 §3.2); its chunked trailer fields are
 *   dropped. The wait is bounded: a request and body over 64 KiB, one
 *   with `Expect: 100-continue` whose body has not come yet, or a later
 *   request is answered over HTTP/1.1 (the upgrade is ignored, as RFC 9113
 *   §3.2 allows), and the header read timeout runs meanwhile;
 * - anything else: HTTP/1.1, the connection handler given.
 *
 * Over TLS the choice is ALPN's (`h2`, `http/1.1`), made in the handshake:
 * {@link alpnHandler}.
 *
 * @example
 * ```ts ignore
 * import { protocolHandler } from "./h2_route.ts";
 * import { sessionHandler, type SessionConfig } from "./h1_session.ts";
 * import { h2Config } from "./h2_session.ts";
 * declare const config: SessionConfig;
 * const handler = protocolHandler(config, sessionHandler(config), h2Config({}, 5000));
 * ```
 *
 * @module
 */
import { concatBytes } from "../../core/bytes.ts";
import type { Connection, ConnectionHandler } from "../../poll/connection.ts";
import { tlsInfo } from "../../tls/connect_async.ts";
import { CLIENT_PREFACE } from "../h2/constants.ts";
import { applySettingsPayload, defaultSettings } from "../h2/settings.ts";
import type { MessageHead } from "../h1/fields.ts";
import { HTTP1Parser } from "../h1/parser.ts";
import type { SessionConfig } from "./h1_session.ts";
import { H2_CONNECTION_HANDLER, type H2Config, H2Session } from "./h2_session.ts";
import { switchHandler } from "./limits_http.ts";

const SWITCHING = new TextEncoder().encode("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
/** Bytes of a first read searched for "h2c" (a request head that may ask for the upgrade). */
const SNIFF_BYTES = 8192;
/** Most bytes of an `Upgrade: h2c` request (head and body) held until it is whole; a bigger one stays HTTP/1.1. */
const UPGRADE_MAX_BYTES = 65536;

/** The first bytes of a connection whose protocol is not known yet (a preface cut short). */
const partial = new WeakMap<Connection, Uint8Array>();
/** The `Upgrade: h2c` request of a connection whose end has not come yet. */
const sniffs = new WeakMap<Connection, UpgradeSniff>();

/** 0: not the preface; 1: a prefix of it; 2: the whole preface. */
function prefaceMatch(bytes: Uint8Array): number {
  const n = Math.min(bytes.length, CLIENT_PREFACE.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== CLIENT_PREFACE[i]) return 0;
  return n === CLIENT_PREFACE.length ? 2 : 1;
}

/** Whether `bytes` holds "h2c" in any case (cheap test before parsing a head). */
function mentionsH2c(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, SNIFF_BYTES) - 2;
  for (let i = 0; i < n; i++) {
    if ((bytes[i]! | 0x20) === 0x68 && bytes[i + 1] === 0x32 && (bytes[i + 2]! | 0x20) === 0x63) return true;
  }
  return false;
}

function hasToken(list: string | null, token: string): boolean {
  if (list === null) return false;
  for (const part of list.split(",")) if (part.trim().toLowerCase() === token) return true;
  return false;
}

function base64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  const b64 = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  try {
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** An `Upgrade: h2c` request read from a first chunk. */
interface UpgradeRequest {
  settings: Uint8Array;
  method: string;
  url: string;
  headers: Array<[string, string]>;
  /** The request body (a Content-Length one, whole in the first read), or null. */
  body: Uint8Array | null;
  rest: Uint8Array;
}

const DROP_ON_UPGRADE = new Set(["connection", "upgrade", "http2-settings", "keep-alive", "proxy-connection", "transfer-encoding", "te"]);

/**
 * Reads a first request asking for h2c over as many reads as it takes,
 * with one parser kept across them (each read is parsed once: re-parsing
 * everything held on each read made a client that sends its 64 KiB one
 * byte at a time cost quadratic CPU).
 */
class UpgradeSniff {
  readonly #authority: string;
  readonly #parser: HTTP1Parser;
  /** Copies of the reads so far (handed to HTTP/1.1 when this is no upgrade). */
  readonly #chunks: Uint8Array[] = [];
  #total = 0;
  #candidate: Omit<UpgradeRequest, "rest" | "body"> | undefined;
  #expectContinue = false;
  readonly #body: Uint8Array[] = [];
  #bodyBytes = 0;
  #found: UpgradeRequest | undefined;
  /** Bytes before the current read. */
  #before = 0;
  #current: Uint8Array = EMPTY;

  constructor(authority: string) {
    this.#authority = authority;
    this.#parser = new HTTP1Parser({ kind: "request" }, {
      onHead: (head) => this.#onHead(head),
      onBody: (data) => {
        this.#body.push(data.slice());
        this.#bodyBytes += data.length;
      },
      onUpgrade: (rest) => {
        if (this.#candidate === undefined || this.#before + this.#current.length - rest.length > UPGRADE_MAX_BYTES) return;
        const body = this.#bodyBytes > 0 ? concatBytes(this.#body, this.#bodyBytes) : null;
        this.#found = { ...this.#candidate, body, rest: rest.slice() };
      },
    });
  }

  /** Every byte read so far, in one array. */
  bytes(): Uint8Array {
    return concatBytes(this.#chunks, this.#total);
  }

  /**
   * Takes the next read: the request when it is whole, "more" when its end
   * has not come yet (and may still be waited for), undefined when it is none.
   */
  push(chunk: Uint8Array): UpgradeRequest | "more" | undefined {
    this.#before = this.#total;
    this.#current = chunk;
    this.#chunks.push(chunk.slice());
    this.#total += chunk.length;
    try {
      this.#parser.push(chunk);
    } catch {
      return undefined;
    } finally {
      this.#current = EMPTY;
    }
    if (this.#found !== undefined) return this.#found;
    // Not whole yet: wait for the rest, unless the client waits for a 100 Continue first.
    return this.#candidate !== undefined && !this.#expectContinue && this.#total <= UPGRADE_MAX_BYTES ? "more" : undefined;
  }

  #onHead(head: MessageHead): void {
    // A body comes whole before the switch (RFC 7540 §3.2): read it all (Content-Length or chunked).
    if (!head.upgrade || (head.framing !== "none" && head.framing !== "length" && head.framing !== "chunked")) return;
    if (head.method === "CONNECT" || !hasToken(head.get("upgrade"), "h2c")) return;
    if (!hasToken(head.get("connection"), "http2-settings")) return;
    const values = head.getAll("http2-settings");
    if (values.length !== 1) return;
    const settings = base64url(values[0]!.trim());
    if (settings === undefined || settings.length % 6 !== 0) return;
    try {
      applySettingsPayload(defaultSettings(), settings, false);
    } catch {
      return; // a value out of range: no upgrade
    }
    const host = head.get("host") || this.#authority; // an empty Host is no authority ("http:///x" is host "x")
    const target = head.target;
    let url: string;
    if (target.charCodeAt(0) === 0x2f) url = `http://${host}${target}`;
    else if (/^http:\/\//i.test(target)) url = target;
    else return;
    const headers: Array<[string, string]> = [];
    // Absolute-form (RFC 9112 §3.2.2): the target's authority replaces the Host field, as the url has it.
    const authority = target.charCodeAt(0) === 0x2f ? undefined : new URL(url).host;
    for (let i = 0; i < head.count; i++) {
      const name = head.name(i).toLowerCase();
      if (DROP_ON_UPGRADE.has(name)) continue;
      headers.push([head.rawName(i), authority !== undefined && name === "host" ? authority : head.value(i)]);
    }
    this.#expectContinue = (head.get("expect") ?? "").trim().toLowerCase() === "100-continue";
    this.#candidate = { settings, method: head.method, url, headers };
  }
}

/**
 * Starts an HTTP/2 session on `conn` (made by a TLS listener whose ALPN
 * chose `h2`, or by the cleartext routing below) with its first `bytes`.
 *
 * @example
 * ```ts ignore
 * import { startH2Session } from "./h2_route.ts";
 * // in a TLS handler's open, once ALPN said "h2":
 * // startH2Session(conn, config, h2, "h2", new Uint8Array(0));
 * ```
 */
export function startH2Session(conn: Connection, config: SessionConfig, h2: H2Config, protocol: "h2" | "h2c", bytes: Uint8Array): H2Session {
  const session = new H2Session(conn, config, h2, protocol);
  conn.data = session;
  // serve.ts asks its sessions only for `conn` and `shutdown()`; HTTP/2 sessions join the same set.
  (config.sessions as Set<unknown>).add(session);
  switchHandler(conn, H2_CONNECTION_HANDLER);
  session.start(bytes);
  return session;
}

/** Retires the HTTP/1 session `open` made for a connection that turned out to speak HTTP/2. */
function retireH1(conn: Connection): void {
  const h1 = conn.data as { onClose(): void } | undefined;
  conn.data = undefined;
  h1?.onClose();
}

/**
 * The connection handler of a cleartext server that also speaks h2c: it
 * looks at a connection's first bytes and hands the connection to
 * `h1` (which made its session in `open`) or to an {@link H2Session}.
 *
 * @example
 * ```ts ignore
 * import { listen } from "../../poll/listener.ts";
 * import { protocolHandler } from "./h2_route.ts";
 * import { sessionHandler, type SessionConfig } from "./h1_session.ts";
 * import { h2Config } from "./h2_session.ts";
 * declare const config: SessionConfig;
 * listen({ port: 0, handler: protocolHandler(config, sessionHandler(config), h2Config({}, 5000)) });
 * ```
 */
export function protocolHandler(config: SessionConfig, h1: ConnectionHandler, h2: H2Config): ConnectionHandler {
  const toH1 = (conn: Connection, bytes: Uint8Array): void => {
    switchHandler(conn, h1);
    h1.data?.(conn, bytes);
  };
  const switchToH2 = (conn: Connection, up: UpgradeRequest): void => {
    retireH1(conn);
    try {
      conn.send(SWITCHING);
    } catch {
      return;
    }
    const session = new H2Session(conn, config, h2, "h2c");
    conn.data = session;
    (config.sessions as Set<unknown>).add(session);
    switchHandler(conn, H2_CONNECTION_HANDLER);
    try {
      session.upgrade(up.settings, up.method, up.url, up.headers, up.body);
    } catch {
      // HTTP2-Settings that is no SETTINGS payload, after the 101: the connection cannot go on.
      conn.abort();
      return;
    }
    session.start(up.rest);
  };
  return {
    open(conn) {
      h1.open?.(conn);
    },
    data(conn, chunk) {
      const sniff = sniffs.get(conn);
      if (sniff !== undefined) {
        if (conn.data === undefined) return; // refused in open
        const up = sniff.push(chunk);
        if (up === "more" && !config.draining) return;
        sniffs.delete(conn);
        if (up !== undefined && up !== "more" && !config.draining) switchToH2(conn, up);
        else toH1(conn, sniff.bytes());
        return;
      }
      let bytes = chunk;
      const before = partial.get(conn);
      if (before !== undefined) {
        partial.delete(conn);
        bytes = new Uint8Array(before.length + chunk.length);
        bytes.set(before);
        bytes.set(chunk, before.length);
      }
      if (conn.data === undefined) return; // refused in open
      const match = prefaceMatch(bytes);
      if (match === 1) {
        partial.set(conn, bytes.slice());
        return;
      }
      if (match === 2) {
        retireH1(conn);
        if (config.draining) {
          conn.abort();
          return;
        }
        startH2Session(conn, config, h2, "h2c", bytes);
        return;
      }
      if (mentionsH2c(bytes)) {
        const sniff = new UpgradeSniff(config.authority);
        const up = sniff.push(bytes);
        if (up === "more" && !config.draining) {
          sniffs.set(conn, sniff);
          return;
        }
        if (up !== undefined && up !== "more" && !config.draining) {
          switchToH2(conn, up);
          return;
        }
      }
      toH1(conn, bytes);
    },
    end(conn) {
      if (partial.delete(conn) || sniffs.delete(conn)) {
        void conn.close();
        return;
      }
      h1.end?.(conn);
    },
    drain(conn) {
      h1.drain?.(conn);
    },
    close(conn, error) {
      partial.delete(conn);
      sniffs.delete(conn);
      h1.close?.(conn, error);
    },
    timeout(conn, kind) {
      h1.timeout?.(conn, kind);
    },
  };
}

const EMPTY = new Uint8Array(0);

/** HTTP/2 connections being answered 503 at once per server, beyond which they are reset. */
const MAX_REFUSING = 256;
/** Most time such a connection stays open. */
const REFUSE_DEADLINE_MS = 5_000;
const refusing = new WeakMap<SessionConfig, number>();

function overloaded(): Response {
  return new Response("Service Unavailable\n", {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
  });
}

/**
 * An HTTP/2 connection over the server's `maxConnections` (ALPN chose h2):
 * as the HTTP/1.1 path answers `503` with `Retry-After: 1`, an HTTP/2
 * session of its own (not counted among the server's) answers its first
 * stream `503 Service Unavailable` with `Retry-After: 1` and sends GOAWAY
 * (last stream: that one) at once, so a client sees a status rather than
 * a reset; streams after the first are refused by the GOAWAY (a client may
 * retry them). At most 256 such connections per server at once (more are
 * reset), each closed after 5 s at most.
 */
function refuseH2(conn: Connection, config: SessionConfig, h2: H2Config): void {
  const count = refusing.get(config) ?? 0;
  if (count >= MAX_REFUSING) {
    conn.abort();
    return;
  }
  refusing.set(config, count + 1);
  // A refused connection never keeps the process alive: the server's
  // shutdown does not wait for it, and it is cut at the deadline anyway.
  conn.unref();
  const deadline = conn.loop.timers.once(REFUSE_DEADLINE_MS, () => conn.abort()).unref();
  void conn.whenClosed.then(() => {
    deadline.cancel();
    refusing.set(config, (refusing.get(config) ?? 1) - 1);
  });
  let session: H2Session | undefined;
  const own: SessionConfig = {
    ...config,
    sessions: new Set(),
    upgraded: new Set(),
    draining: false,
    fetch: () => {
      session?.shutdown(); // GOAWAY after this stream: it still gets its answer
      return overloaded();
    },
    sessionOpened: () => {},
    sessionClosed: () => {},
  };
  session = new H2Session(conn, own, h2, "h2");
  conn.data = session;
  switchHandler(conn, H2_CONNECTION_HANDLER);
  session.start(EMPTY);
}

/**
 * The connection handler of a TLS server: a connection whose handshake
 * chose ALPN `h2` becomes an {@link H2Session}; any other (`http/1.1`, no
 * ALPN) goes to `h1`. `h2` undefined: HTTP/1.1 only.
 *
 * @example
 * ```ts ignore
 * import { listenTLS } from "../../tls/connect_async.ts";
 * import { alpnHandler } from "./h2_route.ts";
 * import { sessionHandler, type SessionConfig } from "./h1_session.ts";
 * import { h2Config } from "./h2_session.ts";
 * declare const config: SessionConfig;
 * declare const cert: string, key: string;
 * listenTLS({ port: 0, cert, key, alpn: ["h2", "http/1.1"], handler: alpnHandler(config, sessionHandler(config), h2Config({}, 5000)) });
 * ```
 */
export function alpnHandler(config: SessionConfig, h1: ConnectionHandler, h2: H2Config | undefined): ConnectionHandler {
  return {
    open(conn) {
      if (h2 !== undefined && tlsInfo(conn)?.alpnProtocol === "h2") {
        if (config.unrefed) conn.unref();
        if (config.draining) {
          conn.abort();
          return;
        }
        if (config.sessions.size + config.upgraded.size >= config.maxConnections) {
          config.rejected.maxConnections++;
          refuseH2(conn, config, h2);
          return;
        }
        startH2Session(conn, config, h2, "h2", EMPTY);
        return;
      }
      switchHandler(conn, h1);
      h1.open?.(conn);
    },
    // Until `open` handed the connection over (never, in practice):
    data(conn, bytes) {
      h1.data?.(conn, bytes);
    },
    end(conn) {
      h1.end?.(conn);
    },
    drain(conn) {
      h1.drain?.(conn);
    },
    close(conn, error) {
      h1.close?.(conn, error);
    },
    timeout(conn, kind) {
      h1.timeout?.(conn, kind);
    },
  };
}
