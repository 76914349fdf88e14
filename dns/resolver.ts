/**
 * An asynchronous stub resolver on the {@link Loop}: UDP queries with a
 * random id from a fresh random source port each (bound to port 0 per
 * query: the Kaminsky defence), answers accepted only when they come from
 * the server's address and port, with the query's id and question
 * (anything else is ignored and never cached); TCP when the answer is
 * truncated (TC). Configuration from `/etc/resolv.conf` and names from
 * `/etc/hosts` (both paths injectable; re-read when their text changed, at
 * most every `reloadIntervalMs`), the search list (a trailing dot means no
 * search; as-is first when the name has at least `ndots` dots), a
 * {@link DNSCache} (positive and negative), identical in-flight queries
 * coalesced, per-server timeouts and attempts, EDNS0 (a server that
 * answers FORMERR without an OPT record is asked again without EDNS, RFC
 * 6891 §7), `AbortSignal` (a call
 * whose signal is aborted already rejects with its reason, even for an
 * IP literal, a hosts entry or a cached answer); SERVFAIL,
 * REFUSED, NOTIMP and FORMERR move to the next server. A name that every
 * server answered with SERVFAIL moves on to the next search candidate (as
 * glibc and c-ares do); found nowhere, ENODATA from another candidate
 * wins over it, else it is `ESERVFAIL` (not ENOTFOUND: glibc's
 * TRY_AGAIN); any other failure ends the search.
 *
 * From an accepted answer only the answer section's records for the
 * question name, and for the names its CNAME chain (class IN) reaches in
 * that answer, are used and cached; other answer records and the authority
 * and additional sections never reach the cache. A negative answer
 * (NXDOMAIN, NODATA) is cached only with an SOA (class IN) of the zone it
 * is about (the chain's last name or an ancestor of it), for
 * min(SOA TTL, MINIMUM) (RFC 2308 §5), capped by the cache's
 * `maxNegativeTtl`; without one it is not cached.
 *
 * With a `logger` (core/log.ts; the resolver's option, or per call, say a
 * request's child logger carrying its ids) the resolver says what it did:
 * at DEBUG each query sent (server, transport, id), answered, retried in a
 * new round, failed over to the next server, and moved to TCP when
 * truncated; at WARN each server that timed out or failed and each query
 * that failed for good; at TRACE cache hits. Without one nothing is built:
 * one check per step.
 *
 * Failures are {@link DNSError}s with node-style codes: `ENOTFOUND`
 * (NXDOMAIN), `ENODATA` (the name has no record of that type),
 * `ESERVFAIL`, `EREFUSED`, `ETIMEOUT` (no server answered), `EBADRESP`
 * (a server's answers were all malformed).
 *
 * @example
 * ```ts
 * import { Resolver } from "./resolver.ts";
 * const resolver = new Resolver({ servers: ["127.0.0.1:53"], hostsPath: "/etc/hosts" });
 * console.log((await resolver.lookup("localhost"))[0]?.address); // "127.0.0.1" (from /etc/hosts)
 * ```
 *
 * @module
 */
import { DNSError } from "../core/errors.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { Logger } from "../core/log.ts";
import { checkOptions } from "../core/options.ts";
import { connectSocketAsync } from "../poll/connect_socket.ts";
import { Connection } from "../poll/connection.ts";
import { defaultLoop, type Loop } from "../poll/loop.ts";
import { formatIP, isIP, parseHostPort, parseIP } from "../socket/address.ts";
import { readFileBytes } from "../ffi/read_file.ts";
import { DNSCache } from "./cache.ts";
import { type HostsTable, MAX_HOSTS_BYTES, parseHosts } from "./hosts.ts";
import { canonicalName, nameLabels } from "./name.ts";
import { type RecordTypeName, RR_TYPE, type ResourceRecord, typeName, typeNumber } from "./records.ts";
import { type DatagramAcceptor, type ExchangeTimeout, IGNORE, udpExchange, UdpSocketPool } from "./udp_exchange.ts";
import { dnsUdpIo, udpQueryRing } from "./udp_uring.ts";
import { type EncodedPeer, encodePeer } from "../socket/udp_query.ts";
import { MAX_RESOLV_CONF_BYTES, parseResolvConf, type ResolvConf } from "./resolv_conf.ts";
import { decodeMessage, type DecodeOptions, type DNSMessage, EDNS_UDP_PAYLOAD, encodeQuery, RCODE, randomQueryId } from "./wire.ts";

/** A DNS server's address. */
export interface ServerAddress {
  /** An IP literal. */
  readonly host: string;
  /** The port (53). */
  readonly port: number;
}

/** Options of {@link Resolver} (unknown keys are a TypeError). */
export interface ResolverOptions {
  /** Servers (`"10.0.0.53"`, `"127.0.0.1:5353"`, `"[::1]:53"` or `{ host, port }`); default: resolv.conf's. */
  servers?: readonly (string | ServerAddress)[];
  /** The resolv.conf to read (default `/etc/resolv.conf`). */
  resolvConfPath?: string;
  /** The hosts file to read (default `/etc/hosts`); `null` for none. */
  hostsPath?: string | null;
  /** The cache (default a new {@link DNSCache}); `false` for none. */
  cache?: DNSCache | false;
  /** Milliseconds to wait for one server (default resolv.conf's `timeout`, 5 s). */
  timeoutMs?: number;
  /** Rounds over the servers (default resolv.conf's `attempts`, 2). */
  attempts?: number;
  /** The `ndots` threshold (default resolv.conf's, 1). */
  ndots?: number;
  /** Search domains (default resolv.conf's). */
  search?: readonly string[];
  /** Start each query at the next server (default resolv.conf's `rotate`). */
  rotate?: boolean;
  /** Send an EDNS0 OPT record advertising 1232 bytes (default true). */
  edns?: boolean;
  /** Milliseconds between checks of resolv.conf and hosts for changes (default 5000). */
  reloadIntervalMs?: number;
  /** The loop for sockets (default the default loop). */
  loop?: Loop;
  /** The time source for reload checks (default the system clock). */
  clock?: Clock;
  /**
   * Queries one UDP socket (bound to a random port) may carry, one at a
   * time, before it is closed (default 1: a fresh random source port for
   * every query, the Kaminsky defence at its strongest). Above 1, sockets
   * are kept between queries, which saves socket(), bind(), close() and
   * two epoll_ctl() per uncached lookup; an off-path attacker still has to
   * guess the port, but a port is then seen more than once.
   */
  udpSocketReuse?: number;
  /**
   * How UDP queries go out: "uring" (the default on Linux 5.19+ where the
   * process may use io_uring: each query a SOCKET, a SENDMSG and a RECVMSG
   * in a ring of the loop's, a turn's queries submitted together) or
   * "readiness" (a socket per query watched by the loop: socket, sendto,
   * recvfrom, close as system calls of their own). Either way each query
   * has a new socket on a random port; "uring" falls back to "readiness"
   * where io_uring is unavailable, and does not apply with
   * `udpSocketReuse` above 1. `FFINET_DNS_IO=readiness` changes the default
   * (read when the resolver sends its first query). Either way, while the
   * server answers within ~2 ms on average the loop waits for its answers
   * with short blocking waits rather than parking (`Loop.expectEvents`).
   */
  udpIo?: "uring" | "readiness";
  /** Where the resolver says what it did (see the module doc); default: nowhere. */
  logger?: Logger;
}

const RESOLVER_KEYS: ReadonlySet<string> = new Set([
  "servers", "resolvConfPath", "hostsPath", "cache", "timeoutMs", "attempts", "ndots", "search", "rotate", "edns",
  "reloadIntervalMs", "loop", "clock", "udpSocketReuse", "udpIo", "logger",
]);

/** Options of one call. */
export interface DNSQueryOptions {
  /** Aborts the call (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * The logger for this call instead of the resolver's (a request's child
   * logger, so the records carry its ids). A query joined with an identical
   * one already in flight is logged by that one's logger.
   */
  logger?: Logger;
}

/** Options of {@link Resolver.lookup}. */
export interface LookupOptions extends DNSQueryOptions {
  /** 4, 6 or 0 for both (default 0). */
  family?: 0 | 4 | 6;
  /** Every address (default true); false for the first alone. */
  all?: boolean;
}

/** One address {@link Resolver.lookup} found. */
export interface LookupAddress {
  /** The IP literal. */
  readonly address: string;
  /** Its family. */
  readonly family: 4 | 6;
}

const LOOKUP_KEYS: ReadonlySet<string> = new Set(["signal", "family", "all", "logger"]);
const RESOLVE_KEYS: ReadonlySet<string> = new Set(["signal", "logger"]);

function checkLogger(logger: unknown, where: string): void {
  if (logger !== undefined && !(logger instanceof Logger)) throw new TypeError(`${where}: logger must be a Logger (core/log.ts)`);
}

/** "host:port" of a server, for log fields. */
function serverName(server: ServerAddress): string {
  return server.host.includes(":") ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}
/**
 * How answers are read: bytes after the last record are ignored, as glibc,
 * c-ares and Go's resolver ignore them (a server or middlebox that pads or
 * tails its datagrams still answers; the records themselves are checked).
 */
const ANSWER_DECODING: DecodeOptions = Object.freeze({ trailingBytes: "ignore" });

/** CNAMEs followed inside one answer at most. */
const MAX_CNAME_CHAIN = 16;
/** Datagrams that are not the answer ignored per query at most before giving up on the server. */
const MAX_IGNORED_DATAGRAMS = 256;

type QueryOutcome =
  | { readonly kind: "records"; readonly records: readonly ResourceRecord[] }
  | { readonly kind: "nxdomain" }
  | { readonly kind: "nodata" };

function parseServer(s: string | ServerAddress): ServerAddress {
  let host: string;
  let port: number;
  if (typeof s === "string") {
    if (isIP(s) !== 0) ({ host, port } = { host: s, port: 53 });
    else ({ host, port } = parseHostPort(s));
  } else if (s !== null && typeof s === "object") {
    ({ host, port } = s);
  } else {
    throw new TypeError(`a DNS server is "ip", "ip:port" or { host, port }, got ${String(s)}`);
  }
  if (isIP(host) === 0) throw new TypeError(`a DNS server must be an IP literal, got ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`bad DNS server port ${String(port)}`);
  return { host: normalIP(host), port };
}

function normalIP(host: string): string {
  const p = parseIP(host);
  return formatIP(p.bytes, p.zone);
}

function nonNegativeInt(v: number | undefined, name: string, min = 0): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${String(v)}`);
}

/**
 * The name PTR queries use for an IP address: `4.3.2.1.in-addr.arpa`, or
 * the nibbles of an IPv6 address under `ip6.arpa`.
 *
 * @throws TypeError when `ip` is not an IP literal
 *
 * @example
 * ```ts
 * import { reverseName } from "./resolver.ts";
 * console.log(reverseName("192.0.2.1")); // "1.2.0.192.in-addr.arpa"
 * ```
 */
export function reverseName(ip: string): string {
  const p = parseIP(ip);
  if (p.family === 4) return `${Array.from(p.bytes).reverse().join(".")}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((p.bytes[i]! & 0xf).toString(16), (p.bytes[i]! >> 4).toString(16));
  return `${nibbles.join(".")}.ip6.arpa`;
}

/**
 * How long a negative answer about `owner` may be cached (RFC 2308 §5):
 * min(SOA TTL, SOA MINIMUM) of the first SOA (class IN) in the authority
 * section whose owner is `owner` or one of its ancestors (the zone the
 * negative answer is from; `owner` is the last name of the CNAME chain).
 * An SOA for another zone counts for nothing: no SOA that fits, no
 * negative caching (0). A TTL or MINIMUM with the top bit set is 0
 * (RFC 2181 §8).
 */
function soaNegativeTtl(m: DNSMessage, owner: string): number {
  for (const r of m.authorities) {
    if (r.data.kind !== "SOA" || r.class !== 1 || !isAtOrBelow(owner, safeCanonical(r.name))) continue;
    const ttl = r.ttl > 0x7fffffff ? 0 : r.ttl;
    const minimum = r.data.minimum > 0x7fffffff ? 0 : r.data.minimum;
    return Math.min(ttl, minimum);
  }
  return 0; // RFC 2308 §5: no SOA, no negative caching
}

/** Whether canonical `name` is `zone` or below it, label by label ("" for a name that did not parse: never). */
function isAtOrBelow(name: string, zone: string): boolean {
  if (name === "" || zone === "") return false;
  if (zone === "." || name === zone) return true;
  if (!name.endsWith(zone)) return false;
  let labels: Uint8Array[];
  let zoneLabels: Uint8Array[];
  try {
    labels = nameLabels(name);
    zoneLabels = nameLabels(zone);
  } catch {
    return false;
  }
  if (zoneLabels.length >= labels.length) return false;
  const skip = labels.length - zoneLabels.length;
  for (let i = 0; i < zoneLabels.length; i++) {
    const a = labels[skip + i]!;
    const b = zoneLabels[i]!;
    if (a.length !== b.length) return false;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  }
  return true;
}

/**
 * Whether an answer's question section is the query's (one question, the
 * same name ignoring ASCII case, the same type and class), compared on the
 * wire: `query` is what was sent (its name uncompressed at offset 12),
 * `answer` the bytes of a message that decoded.
 */
function sameQuestion(answer: Uint8Array, query: Uint8Array): boolean {
  if (answer[4] !== 0 || answer[5] !== 1) return false;
  let nameEnd = 12;
  while (query[nameEnd] !== 0) nameEnd += query[nameEnd]! + 1;
  nameEnd++;
  if (answer.length < nameEnd + 4) return false;
  for (let i = 12; i < nameEnd; i++) {
    const a = answer[i]!;
    const q = query[i]!;
    if (a === q) continue;
    // Letters match either case; length bytes are below 64, never letters.
    const folded = a | 0x20;
    if (folded !== (q | 0x20) || folded < 0x61 || folded > 0x7a) return false;
  }
  for (let i = nameEnd; i < nameEnd + 4; i++) if (answer[i] !== query[i]) return false;
  return true;
}

function questionMatches(m: DNSMessage, name: string, type: number): boolean {
  if (m.questions.length !== 1) return false;
  const q = m.questions[0]!;
  if (q.type !== type || q.class !== 1) return false;
  try {
    return canonicalName(q.name) === name;
  } catch {
    return false;
  }
}

function linked<T>(signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>, timeoutMs: number, timeoutError: () => Error): Promise<T> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal!.reason);
  if (signal !== undefined) {
    if (signal.aborted) return Promise.reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  }
  const timer = setTimeout(() => controller.abort(timeoutError()), timeoutMs);
  return run(controller.signal).finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  });
}

/** A placeholder promise, replaced before anyone sees it. */
const NEVER: Promise<never> = new Promise<never>(() => {});

function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

interface Config {
  readonly conf: ResolvConf;
  readonly servers: readonly ServerAddress[];
  /** `servers`, encoded for sendto and for matching answers' source addresses. */
  readonly peers: readonly EncodedPeer[];
  readonly hosts: HostsTable;
}

interface InFlight {
  promise: Promise<QueryOutcome>;
  /**
   * Aborts the exchange when its last waiter gave up; null when the query
   * that started it had no signal (that waiter stays until the end, so
   * nothing can abort it).
   */
  readonly controller: AbortController | null;
  waiters: number;
}

/**
 * A stub resolver. Methods: {@link Resolver.resolve},
 * {@link Resolver.lookup}, {@link Resolver.reverse}.
 *
 * @example
 * ```ts
 * import { Resolver } from "./resolver.ts";
 * import { DNSCache } from "./cache.ts";
 * const resolver = new Resolver({ servers: ["127.0.0.1:53"], cache: new DNSCache({ maxEntries: 1000 }), timeoutMs: 500, attempts: 1 });
 * console.log(resolver.servers); // [{ host: "127.0.0.1", port: 53 }]
 * ```
 */
export class Resolver {
  /** The cache, or null without one. */
  readonly cache: DNSCache | null;
  readonly #options: ResolverOptions;
  readonly #clock: Clock;
  readonly #reloadMs: number;
  readonly #inflight = new Map<string, InFlight>();
  #config: Config | null = null;
  #confText: string | null = null;
  #hostsText: string | null = null;
  #checkedAt = -Infinity;
  #next = 0;
  #pool: UdpSocketPool | undefined;
  /** Whether UDP queries try io_uring (the option, else FFINET_DNS_IO, read once: an environment read costs on every query). */
  #udpOverRing: boolean | undefined;
  readonly #log: Logger | undefined;

  /**
   * A resolver; nothing is read or sent before the first call.
   *
   * @param options servers, files, cache, timeouts (see {@link ResolverOptions})
   */
  constructor(options: ResolverOptions = {}) {
    checkOptions(options, RESOLVER_KEYS, "Resolver");
    nonNegativeInt(options.timeoutMs, "timeoutMs", 1);
    nonNegativeInt(options.attempts, "attempts", 1);
    nonNegativeInt(options.ndots, "ndots");
    nonNegativeInt(options.reloadIntervalMs, "reloadIntervalMs");
    nonNegativeInt(options.udpSocketReuse, "udpSocketReuse", 1);
    if (options.udpIo !== undefined && options.udpIo !== "uring" && options.udpIo !== "readiness") {
      throw new TypeError(`udpIo must be "uring" or "readiness", got ${String(options.udpIo)}`);
    }
    if (options.servers !== undefined) {
      if (!Array.isArray(options.servers) || options.servers.length === 0) throw new TypeError("servers must be a non-empty array");
      options.servers.forEach(parseServer);
    }
    if (options.search !== undefined) options.search.forEach((d) => nameLabels(d));
    checkLogger(options.logger, "Resolver");
    this.#log = options.logger;
    this.#options = { ...options };
    this.cache = options.cache === false ? null : options.cache ?? new DNSCache();
    this.#clock = options.clock ?? systemClock;
    this.#reloadMs = options.reloadIntervalMs ?? 5000;
  }

  /**
   * Closes the UDP sockets kept between queries (with `udpSocketReuse`
   * above 1); later queries open new ones. Idle sockets never keep the
   * process alive, but they hold descriptors.
   *
   * @example
   * ```ts
   * import { Resolver } from "./resolver.ts";
   * const resolver = new Resolver({ servers: ["127.0.0.1:53"], udpSocketReuse: 16 });
   * resolver.releaseSockets();
   * ```
   */
  releaseSockets(): void {
    this.#pool?.close();
  }

  /** The servers queried, in order (resolv.conf's unless given). */
  get servers(): readonly ServerAddress[] {
    return this.#load().servers;
  }

  #load(): Config {
    const now = this.#clock.now();
    if (this.#config !== null && now - this.#checkedAt < this.#reloadMs) return this.#config;
    this.#checkedAt = now;
    const o = this.#options;
    const read = (path: string, max: number): string => {
      const bytes = readFileBytes(path, max);
      return bytes === null ? "" : new TextDecoder().decode(bytes);
    };
    const needConf = o.servers === undefined || o.timeoutMs === undefined || o.attempts === undefined || o.ndots === undefined ||
      o.search === undefined || o.rotate === undefined;
    const confText = needConf ? read(o.resolvConfPath ?? "/etc/resolv.conf", MAX_RESOLV_CONF_BYTES) : "";
    const hostsPath = o.hostsPath === undefined ? "/etc/hosts" : o.hostsPath;
    const hostsText = hostsPath === null ? "" : read(hostsPath, MAX_HOSTS_BYTES);
    if (this.#config !== null && confText === this.#confText && hostsText === this.#hostsText) return this.#config;
    this.#confText = confText;
    this.#hostsText = hostsText;
    const file = parseResolvConf(confText);
    const conf: ResolvConf = {
      servers: file.servers,
      search: o.search?.map(canonicalName) ?? file.search,
      ndots: o.ndots ?? file.ndots,
      timeout: o.timeoutMs !== undefined ? o.timeoutMs / 1000 : file.timeout,
      attempts: o.attempts ?? file.attempts,
      rotate: o.rotate ?? file.rotate,
      edns0: file.edns0,
    };
    const servers = (o.servers ?? file.servers).map(parseServer);
    this.#config = {
      conf,
      servers,
      peers: servers.map((a) => encodePeer(a.host, a.port)),
      hosts: parseHosts(hostsText),
    };
    return this.#config;
  }

  /**
   * Records of `type` for `name` (the search list applies; CNAMEs inside
   * the answer are followed, and the records returned are the target's).
   *
   * @throws DNSError `ENOTFOUND`, `ENODATA`, `ESERVFAIL`, `EREFUSED`, `ETIMEOUT`, `EBADRESP`
   *
   * @example
   * ```ts
   * import { Resolver } from "./resolver.ts";
   * const resolver = new Resolver({ servers: ["127.0.0.1:9"], timeoutMs: 50, attempts: 1 });
   * await resolver.resolve("example.com", "A").catch((e) => console.log(e.code)); // ETIMEOUT (nothing listens on port 9)
   * ```
   */
  async resolve(name: string, type: RecordTypeName | number, options: DNSQueryOptions = {}): Promise<ResourceRecord[]> {
    checkOptions(options, RESOLVE_KEYS, "resolve");
    checkLogger(options.logger, "resolve");
    const t = typeNumber(type);
    // An aborted call rejects even where the answer is at hand (cache, hosts): the signal says the caller is gone.
    if (options.signal?.aborted) throw options.signal.reason;
    const config = this.#load();
    const log = options.logger ?? this.#log;
    let nodata = false;
    let servfail: DNSError | undefined;
    const candidates = this.#candidates(name, config.conf);
    for (const candidate of candidates) {
      let outcome: QueryOutcome;
      try {
        const pending = this.#query(candidate, t, config, options.signal, log);
        outcome = pending instanceof Promise ? await pending : pending;
      } catch (err) {
        // SERVFAIL for one candidate (a broken search domain) does not end
        // the search, as in glibc's res_nsearch and c-ares: the next
        // candidate may answer. Anything else (a timeout, an abort) does.
        if (candidates.length > 1 && err instanceof DNSError && err.code === "ESERVFAIL" && !options.signal?.aborted) {
          servfail ??= err;
          continue;
        }
        throw err;
      }
      if (outcome.kind === "records") return outcome.records.slice();
      if (outcome.kind === "nodata") nodata = true;
    }
    if (nodata) throw new DNSError("ENODATA", `${name} has no ${typeof type === "number" ? `type ${type}` : type} record`);
    if (servfail !== undefined) throw servfail;
    throw new DNSError("ENOTFOUND", `${name} not found (NXDOMAIN)`);
  }

  /**
   * Addresses for `host`: an IP literal as is, then the hosts file, then
   * A and AAAA queries (in parallel for family 0; IPv4 addresses first).
   * `localhost` and names under it are loopback when the hosts file lacks
   * them (RFC 6761).
   *
   * @throws DNSError as {@link Resolver.resolve} (ENOTFOUND when no family has an address)
   *
   * @example
   * ```ts
   * import { Resolver } from "./resolver.ts";
   * const resolver = new Resolver({ servers: ["127.0.0.1:9"], hostsPath: null });
   * console.log(await resolver.lookup("::1"), await resolver.lookup("localhost", { family: 4, all: false })); // [{ address: "::1", family: 6 }] { address: "127.0.0.1", family: 4 }
   * ```
   */
  lookup(host: string, options: LookupOptions & { all: false }): Promise<LookupAddress>;
  /** Every address for `host` (the default, `all` absent or true). */
  lookup(host: string, options?: LookupOptions): Promise<LookupAddress[]>;
  async lookup(host: string, options: LookupOptions = {}): Promise<LookupAddress[] | LookupAddress> {
    checkOptions(options, LOOKUP_KEYS, "lookup");
    checkLogger(options.logger, "lookup");
    const family = options.family ?? 0;
    if (family !== 0 && family !== 4 && family !== 6) throw new TypeError(`family must be 0, 4 or 6, got ${String(family)}`);
    if (options.signal?.aborted) throw options.signal.reason;
    const list = await this.#lookupAll(host, family, options.signal, options.logger);
    if (options.all === false) return list[0]!;
    return list;
  }

  async #lookupAll(host: string, family: 0 | 4 | 6, signal: AbortSignal | undefined, logger: Logger | undefined): Promise<LookupAddress[]> {
    if (typeof host !== "string") throw new TypeError("lookup: host must be a string");
    const literal = isIP(host);
    if (literal !== 0) {
      if (family !== 0 && family !== literal) throw new DNSError("ENOTFOUND", `${host} is an IPv${literal} address, not IPv${family}`);
      return [{ address: host, family: literal }];
    }
    const name = canonicalName(host);
    const want = (f: 4 | 6): boolean => family === 0 || family === f;
    const fromHosts = (this.#load().hosts.byName.get(name) ?? [])
      .map((address) => ({ address, family: isIP(address.split("%")[0]!) as 4 | 6 }))
      .filter((a) => want(a.family));
    if (fromHosts.length > 0) return fromHosts;
    if (name === "localhost" || name.endsWith(".localhost")) {
      const loop: LookupAddress[] = [];
      if (want(4)) loop.push({ address: "127.0.0.1", family: 4 });
      if (want(6)) loop.push({ address: "::1", family: 6 });
      return loop;
    }
    const queries: Promise<LookupAddress[]>[] = [];
    const call: DNSQueryOptions = {};
    if (signal !== undefined) call.signal = signal;
    if (logger !== undefined) call.logger = logger;
    if (want(4)) queries.push(this.resolve(host, RR_TYPE.A, call).then((rs) => addresses(rs, 4)));
    if (want(6)) queries.push(this.resolve(host, RR_TYPE.AAAA, call).then((rs) => addresses(rs, 6)));
    const settled = await Promise.allSettled(queries);
    const found = settled.flatMap((s) => (s.status === "fulfilled" ? s.value : []));
    if (found.length > 0) return found;
    const failures = settled.map((s) => (s.status === "rejected" ? s.reason as unknown : null));
    const hard = failures.find((e) => !(e instanceof DNSError) || (e.code !== "ENOTFOUND" && e.code !== "ENODATA"));
    if (hard !== undefined) throw hard;
    throw new DNSError("ENOTFOUND", `${host} not found`);
  }

  /**
   * Names for an IP address: the hosts file's, else PTR records.
   *
   * @throws TypeError when `ip` is not an IP literal; DNSError as {@link Resolver.resolve}
   *
   * @example
   * ```ts
   * import { Resolver } from "./resolver.ts";
   * const resolver = new Resolver({ servers: ["127.0.0.1:9"], hostsPath: "/etc/hosts" });
   * console.log((await resolver.reverse("127.0.0.1")).length > 0); // true when /etc/hosts names 127.0.0.1
   * ```
   */
  async reverse(ip: string, options: DNSQueryOptions = {}): Promise<string[]> {
    checkOptions(options, RESOLVE_KEYS, "reverse");
    const ptr = reverseName(ip);
    if (options.signal?.aborted) throw options.signal.reason;
    const names = this.#load().hosts.byAddress.get(normalIP(ip)) ?? this.#load().hosts.byAddress.get(ip);
    if (names !== undefined && names.length > 0) return names.slice();
    const records = await this.resolve(`${ptr}.`, RR_TYPE.PTR, options);
    return records.flatMap((r) => (r.data.kind === "PTR" ? [r.data.target] : []));
  }

  #candidates(name: string, conf: ResolvConf): string[] {
    if (typeof name !== "string") throw new TypeError("a DNS name must be a string");
    if (name.endsWith(".") && !name.endsWith("\\.")) return [canonicalName(name)];
    const base = canonicalName(name);
    if (conf.search.length === 0) return [base];
    const dots = nameLabels(base).length - 1;
    const searched = conf.search.flatMap((d) => {
      try {
        return [canonicalName(`${base}.${d}`)];
      } catch {
        return []; // too long with this domain
      }
    });
    return dots >= conf.ndots ? [base, ...searched] : [...searched, base];
  }

  /** A cached outcome as is, else a promise of the exchange (joined when one for the same question is in flight). */
  #query(name: string, type: number, config: Config, signal: AbortSignal | undefined, log: Logger | undefined): QueryOutcome | Promise<QueryOutcome> {
    const cached = this.cache?.get(name, type);
    if (cached !== undefined) {
      if (log !== undefined) log.trace("dns: cache hit", { name, type: typeName(type), outcome: cached.kind });
      return cached;
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const key = `${name} ${type}`;
    let flight = this.#inflight.get(key);
    // A flight whose last waiter gave up is being aborted: never join it.
    if (flight === undefined || flight.controller?.signal.aborted === true) {
      const created: InFlight = { promise: NEVER, controller: signal === undefined ? null : new AbortController(), waiters: 0 };
      // In the map first: an exchange that fails at once removes it itself.
      this.#inflight.set(key, created);
      created.promise = this.#exchange(name, type, config, created.controller?.signal, key, created, log);
      flight = created;
    }
    const f = flight;
    f.waiters++;
    // A waiter without a signal stays until the end: the flight can no longer be aborted.
    if (signal === undefined) return f.promise;
    return withSignal(f.promise, signal).finally(() => {
      if (--f.waiters === 0 && f.controller !== null && !f.controller.signal.aborted && signal.aborted) f.controller.abort(signal.reason);
    });
  }

  async #exchange(
    name: string,
    type: number,
    config: Config,
    signal: AbortSignal | undefined,
    key: string,
    flight: InFlight,
    log: Logger | undefined,
  ): Promise<QueryOutcome> {
    try {
      const { conf, servers, peers } = config;
      const count = servers.length;
      const start = conf.rotate ? this.#next++ % count : 0;
      let lastError: Error | null = null;
      for (let attempt = 0; attempt < conf.attempts; attempt++) {
        if (attempt > 0 && log !== undefined) log.debug("dns: query retried", { name, type: typeName(type), round: attempt + 1, rounds: conf.attempts });
        for (let k = 0; k < count; k++) {
          const i = (start + k) % count;
          const server = servers[i]!;
          if (signal?.aborted) throw signal.reason;
          if (k > 0 && log !== undefined) log.debug("dns: failed over", { name, type: typeName(type), from: serverName(servers[(start + k - 1) % count]!), to: serverName(server) });
          let m: DNSMessage;
          const timeoutMs = Math.max(1, Math.round(conf.timeout * 1000));
          try {
            const ask = async (edns: boolean): Promise<DNSMessage> => {
              const answer = await this.#askUDP(server, peers[i]!, name, type, signal, new UdpTimeout(server, name, timeoutMs), log, edns);
              if (answer === "tcp" && log !== undefined) log.debug("dns: truncated, asking over TCP", { name, type: typeName(type), server: serverName(server) });
              return answer !== "tcp" ? answer : await this.#askTCPWithin(server, name, type, signal, timeoutMs, log, edns);
            };
            const edns = this.#options.edns ?? true;
            m = await ask(edns);
            if (edns && m.rcode === RCODE.FORMERR && m.edns === null) {
              // RFC 6891 §7: a server that does not know EDNS answers FORMERR without an OPT record: ask it again without one (as glibc and c-ares do).
              if (log !== undefined) log.debug("dns: FORMERR to EDNS, asking without it", { name, type: typeName(type), server: serverName(server) });
              m = await ask(false);
            }
          } catch (err) {
            if (signal?.aborted) throw signal.reason;
            if (!(err instanceof Error)) throw err;
            lastError = err instanceof DNSError ? err : new DNSError("ECONNREFUSED", `${server.host}:${server.port}: ${err.message}`, { cause: err });
            if (log !== undefined) {
              const fields = { name, type: typeName(type), server: serverName(server), round: attempt + 1 };
              if ((lastError as DNSError).code === "ETIMEOUT") log.warn("dns: query timed out", { ...fields, timeoutMs });
              else log.warn("dns: server failed", { ...fields, error: lastError });
            }
            continue;
          }
          if (m.rcode === RCODE.NOERROR || m.rcode === RCODE.NXDOMAIN) {
            if (log !== undefined) log.debug("dns: answered", { name, type: typeName(type), server: serverName(server), rcode: m.rcode, answers: m.answers.length, id: m.id });
            return this.#outcome(m, name, type);
          }
          const code = m.rcode === RCODE.REFUSED ? "EREFUSED" : m.rcode === RCODE.SERVFAIL ? "ESERVFAIL" : "EBADRESP";
          lastError = new DNSError(code, `${server.host}:${server.port} answered ${name} with RCODE ${m.rcode}`);
          if (log !== undefined) log.warn("dns: server failed", { name, type: typeName(type), server: serverName(server), round: attempt + 1, rcode: m.rcode, error: lastError });
        }
      }
      const failure = lastError ?? new DNSError("ETIMEOUT", `no answer for ${name}`);
      if (log !== undefined) log.warn("dns: query failed", { name, type: typeName(type), error: failure });
      throw failure;
    } finally {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    }
  }

  #outcome(m: DNSMessage, name: string, type: number): QueryOutcome {
    let owner = name;
    const chain: ResourceRecord[] = [];
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
      const matching = recordsOf(m.answers, type, owner);
      if (matching.length > 0) {
        this.#cacheChain(name, type, chain, owner, matching);
        return { kind: "records", records: matching };
      }
      const cname = type === RR_TYPE.CNAME ? undefined : m.answers.find((r) => r.data.kind === "CNAME" && r.class === 1 && safeCanonical(r.name) === owner);
      if (cname === undefined || cname.data.kind !== "CNAME") break;
      chain.push(cname);
      owner = safeCanonical(cname.data.target);
    }
    // The negative answer is about the chain's last name: only its zone's SOA says how long to keep it.
    const ttl = soaNegativeTtl(m, owner);
    if (m.rcode === RCODE.NXDOMAIN) {
      // With a CNAME chain the NXDOMAIN is the target's (RFC 6604): only the pair is cached.
      if (chain.length === 0) this.cache?.setNxdomain(name, ttl);
      else this.cache?.setNodata(name, type, ttl);
      return { kind: "nxdomain" };
    }
    this.cache?.setNodata(name, type, ttl);
    return { kind: "nodata" };
  }

  /**
   * Caches an answer reached through a CNAME chain: the queried name and
   * every name along the chain get the records for as long as the
   * shortest TTL on the way (RFC 2181 §10.1.1: an alias is only as fresh as
   * its link), each link its CNAME record, and the target its records with
   * their own TTLs. Only names on the chain from the question are cached,
   * and only from an answer that matched the query's id, question and
   * server.
   */
  #cacheChain(name: string, type: number, chain: readonly ResourceRecord[], target: string, records: readonly ResourceRecord[]): void {
    const cache = this.cache;
    if (cache === null) return;
    const recordTtl = Math.min(...records.map((r) => r.ttl));
    for (let i = 0; i < chain.length; i++) {
      const link = chain[i]!;
      const owner = safeCanonical(link.name);
      if (owner === "") continue;
      const ttl = Math.min(recordTtl, ...chain.slice(i).map((r) => r.ttl));
      cache.setRecords(owner, type, records, ttl);
      cache.setRecords(owner, RR_TYPE.CNAME, [link]);
    }
    if (chain.length === 0) cache.setRecords(name, type, records);
    else if (target !== "") cache.setRecords(target, type, records);
  }

  #udpPool(): UdpSocketPool | undefined {
    const reuse = this.#options.udpSocketReuse ?? 1;
    if (reuse <= 1) return undefined;
    this.#pool ??= new UdpSocketPool(this.#options.loop ?? defaultLoop(), reuse);
    return this.#pool;
  }

  /** The query over TCP (after a truncated UDP answer), within `timeoutMs`. */
  #askTCPWithin(server: ServerAddress, name: string, type: number, signal: AbortSignal | undefined, timeoutMs: number, log: Logger | undefined, edns: boolean): Promise<DNSMessage> {
    return linked(signal, (s) => this.#askTCP(server, name, type, s, timeoutMs, log, edns), timeoutMs, () => new DNSError("ETIMEOUT", `${server.host}:${server.port} (TCP) did not answer ${name} within ${timeoutMs} ms`));
  }

  #askUDP(
    server: ServerAddress,
    peer: EncodedPeer,
    name: string,
    type: number,
    signal: AbortSignal | undefined,
    timeout: ExchangeTimeout,
    log: Logger | undefined,
    edns: boolean,
  ): Promise<DNSMessage | "tcp"> {
    const id = randomQueryId();
    const query = encodeQuery({ id, name, type, edns });
    if (log !== undefined) log.debug("dns: query sent", { name, type: typeName(type), server: serverName(server), transport: "udp", id });
    const check = new UdpAnswerCheck(query, server, name);
    const pool = this.#udpPool();
    if (pool === undefined && (this.#udpOverRing ??= (this.#options.udpIo ?? dnsUdpIo()) === "uring")) {
      const viaRing = udpQueryRing(this.#options.loop ?? defaultLoop())?.exchange(peer, query, EDNS_UDP_PAYLOAD, check, signal, timeout);
      if (viaRing !== undefined) return viaRing;
    }
    return udpExchange<DNSMessage | "tcp">(peer, query, EDNS_UDP_PAYLOAD, check, signal, this.#options.loop, pool, timeout);
  }

  async #askTCP(server: ServerAddress, name: string, type: number, signal: AbortSignal, timeoutMs: number, log: Logger | undefined, edns: boolean): Promise<DNSMessage> {
    const id = randomQueryId();
    const query = encodeQuery({ id, name, type, edns });
    if (log !== undefined) log.debug("dns: query sent", { name, type: typeName(type), server: serverName(server), transport: "tcp", id });
    // The socket layer's connect (not poll/connect.ts's, which resolves names with this module).
    const loop = this.#options.loop ?? defaultLoop();
    const socket = await connectSocketAsync(loop, server, { signal, timeoutMs });
    let conn: Connection;
    try {
      conn = new Connection(loop, socket, undefined, { readBufferBytes: 65536 });
    } catch (err) {
      socket.close();
      throw err;
    }
    try {
      const framed = new Uint8Array(2 + query.length);
      framed[0] = query.length >> 8;
      framed[1] = query.length & 0xff;
      framed.set(query, 2);
      await conn.write(framed, { signal });
      const head = await conn.readExactly(2, { signal });
      const size = (head[0]! << 8) | head[1]!;
      if (size < 12) throw new DNSError("EBADRESP", `${server.host}:${server.port} (TCP): a ${size}-byte answer`);
      const body = await conn.readExactly(size, { signal });
      let m: DNSMessage;
      try {
        m = decodeMessage(body, ANSWER_DECODING);
      } catch (err) {
        throw new DNSError("EBADRESP", `${server.host}:${server.port} (TCP): ${(err as Error).message}`, { cause: err });
      }
      if (m.id !== id || !m.flags.qr || !questionMatches(m, name, type)) {
        throw new DNSError("EBADRESP", `${server.host}:${server.port} (TCP): the answer does not match the query`);
      }
      return m;
    } finally {
      conn.abort();
    }
  }
}

/** The time limit of one UDP query, and the error it ends with. */
class UdpTimeout implements ExchangeTimeout {
  readonly ms: number;
  readonly #server: ServerAddress;
  readonly #name: string;

  constructor(server: ServerAddress, name: string, ms: number) {
    this.ms = ms;
    this.#server = server;
    this.#name = name;
  }

  error(): Error {
    return new DNSError("ETIMEOUT", `${this.#server.host}:${this.#server.port} did not answer ${this.#name} within ${this.ms} ms`);
  }
}

/**
 * Which datagrams answer one UDP query: from the server's address and
 * port, with the query's id, the response bit and the query's question;
 * anything else is ignored (at most {@link MAX_IGNORED_DATAGRAMS} times)
 * and never cached. Truncated answers send the query to TCP.
 */
class UdpAnswerCheck implements DatagramAcceptor<DNSMessage | "tcp"> {
  readonly #query: Uint8Array;
  readonly #server: ServerAddress;
  readonly #name: string;
  #ignored = 0;

  constructor(query: Uint8Array, server: ServerAddress, name: string) {
    this.#query = query;
    this.#server = server;
    this.#name = name;
  }

  accept(bytes: Uint8Array, truncated: boolean, fromServer: boolean): DNSMessage | "tcp" | typeof IGNORE {
    const query = this.#query;
    if (!fromServer) return this.#ignore();
    if (bytes.length < 12 || bytes[0] !== query[0] || bytes[1] !== query[1] || (bytes[2]! & 0x80) === 0) return this.#ignore();
    // Larger than the 1232 bytes we advertise (a server ignoring EDNS): TCP checks it all.
    if (truncated) return "tcp";
    let m: DNSMessage;
    try {
      m = decodeMessage(bytes, ANSWER_DECODING);
    } catch {
      // A truncated answer may be cut anywhere; TCP checks the rest.
      if ((bytes[2]! & 0x02) !== 0) return "tcp";
      return this.#ignore();
    }
    if (!sameQuestion(bytes, query)) return this.#ignore();
    if (m.flags.tc) return "tcp";
    return m;
  }

  #ignore(): typeof IGNORE {
    if (++this.#ignored > MAX_IGNORED_DATAGRAMS) {
      throw new DNSError("EBADRESP", `${this.#server.host}:${this.#server.port}: no acceptable answer for ${this.#name}`);
    }
    return IGNORE;
  }
}

/** The records of `type` (class IN) owned by `owner` (a loop: no closure per answer). */
function recordsOf(answers: readonly ResourceRecord[], type: number, owner: string): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (let i = 0; i < answers.length; i++) {
    const r = answers[i]!;
    if (r.class === 1 && r.type === type && safeCanonical(r.name) === owner) out.push(r);
  }
  return out;
}

function safeCanonical(name: string): string {
  try {
    return canonicalName(name);
  } catch {
    return "";
  }
}

function addresses(records: readonly ResourceRecord[], family: 4 | 6): LookupAddress[] {
  return records.flatMap((r) => (r.data.kind === "A" || r.data.kind === "AAAA" ? [{ address: r.data.address, family }] : []));
}

let defaultInstance: Resolver | null = null;

/**
 * The module's resolver (made on first use from `/etc/resolv.conf` and
 * `/etc/hosts`).
 *
 * @example
 * ```ts
 * import { defaultResolver } from "./resolver.ts";
 * console.log(defaultResolver() === defaultResolver()); // true
 * ```
 */
export function defaultResolver(): Resolver {
  defaultInstance ??= new Resolver();
  return defaultInstance;
}

/**
 * {@link Resolver.resolve} on the {@link defaultResolver}.
 *
 * @example
 * ```ts
 * import { resolveDNS } from "./resolver.ts";
 * console.log(typeof resolveDNS); // "function"
 * ```
 */
export function resolveDNS(name: string, type: RecordTypeName | number, options?: DNSQueryOptions): Promise<ResourceRecord[]> {
  return defaultResolver().resolve(name, type, options);
}

/**
 * {@link Resolver.lookup} on the {@link defaultResolver}.
 *
 * @example
 * ```ts
 * import { lookupHost } from "./resolver.ts";
 * console.log(await lookupHost("127.0.0.1")); // [{ address: "127.0.0.1", family: 4 }]
 * ```
 */
export function lookupHost(host: string, options: LookupOptions & { all: false }): Promise<LookupAddress>;
/** Every address for `host` (the default, `all` absent or true). */
export function lookupHost(host: string, options?: LookupOptions): Promise<LookupAddress[]>;
export function lookupHost(host: string, options: LookupOptions = {}): Promise<LookupAddress[] | LookupAddress> {
  return defaultResolver().lookup(host, options);
}

/**
 * {@link Resolver.reverse} on the {@link defaultResolver}.
 *
 * @example
 * ```ts
 * import { reverseLookup } from "./resolver.ts";
 * console.log(typeof reverseLookup); // "function"
 * ```
 */
export function reverseLookup(ip: string, options?: DNSQueryOptions): Promise<string[]> {
  return defaultResolver().reverse(ip, options);
}
