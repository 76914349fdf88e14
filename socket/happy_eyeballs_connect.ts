/**
 * Connecting to a host name on the loop: resolve it (ffinet's
 * {@link Resolver} by default, getaddrinfo with `resolver: "system"`, or a
 * Resolver of your own) and race connection attempts by Happy Eyeballs v2
 * (RFC 8305; the schedule is socket/happy_eyeballs.ts). The first attempt
 * to connect wins; every other attempt is aborted and its socket closed,
 * and a loser that connects in the same instant is closed too. The
 * winner's family is remembered per host (a {@link FamilyMemory}).
 * `connect()` calls this for every host that is not an IP literal or
 * "localhost".
 *
 * @example
 * ```ts
 * import { connectByName } from "./happy_eyeballs_connect.ts";
 * import { Resolver } from "../dns/resolver.ts";
 * import { defaultLoop } from "../poll/loop.ts";
 * // A hosts file that names the peer; no DNS server is asked.
 * const resolver = new Resolver({ servers: ["127.0.0.1:9"], hostsPath: "/etc/hosts" });
 * await connectByName({ host: "localhost.", port: 1, loop: defaultLoop(), resolver, timeoutMs: 1000 })
 *   .catch((e) => console.log(e.code)); // ECONNREFUSED (or ENOTFOUND where /etc/hosts lacks it)
 * ```
 *
 * @module
 */
import { monotonicMs } from "../core/clock.ts";
import { type ConnectAttemptFailure, ConnectAttemptsError, DNSError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Timer } from "../core/timer_heap.ts";
import { defaultResolver, type LookupAddress, Resolver } from "../dns/resolver.ts";
import { abortReason, connectSocketAsync } from "../poll/connect_socket.ts";
import { connectTimedOut } from "../poll/endpoint.ts";
import type { Loop } from "../poll/loop.ts";
import type { LoopUring } from "../poll/uring/loop_io.ts";
import { isIP, isLocalhost } from "./address.ts";
import { FamilyMemory, HappyEyeballsSchedule, type IPFamily } from "./happy_eyeballs.ts";
import { resolveHost } from "./resolve.ts";
import type { Socket } from "./socket.ts";
import { getDefaultTimeouts } from "./timeouts.ts";

/** What one race did, step by step (for logs, metrics and tests). */
export type HappyEyeballsEvent =
  /** An answer for one family came (empty: none, or the query failed). */
  | { readonly type: "answer"; readonly family: IPFamily; readonly addresses: readonly string[] }
  /** A connection attempt started. */
  | { readonly type: "attempt"; readonly address: string; readonly family: IPFamily }
  /** An attempt failed. */
  | { readonly type: "attemptFailed"; readonly address: string; readonly family: IPFamily; readonly error: Error }
  /** The winner. */
  | { readonly type: "connected"; readonly address: string; readonly family: IPFamily }
  /** A loser: its attempt was aborted (or its socket closed when it connected too late). */
  | { readonly type: "abandoned"; readonly address: string; readonly family: IPFamily };

/** Options of the race (`connect({ happyEyeballs })`); unknown keys are a TypeError. */
export interface HappyEyeballsOptions {
  /** The Connection Attempt Delay in ms (default 250; clamped to 10 ms – 2 s, RFC 8305 §5). */
  attemptDelayMs?: number;
  /** How long an A answer waits for the AAAA answer, in ms (default 50). */
  resolutionDelayMs?: number;
  /** Which family wins is remembered here (default {@link defaultFamilyMemory}); `false`: never. */
  memory?: FamilyMemory | false;
  /** Called for every step of the race; an exception it throws is ignored. */
  onEvent?: (event: HappyEyeballsEvent) => void;
}

/** Who resolves names: ffinet's default {@link Resolver}, one of your own, or "system" (getaddrinfo). */
export type ResolverOption = Resolver | "system";

/** Options of {@link connectByName}. */
export interface ConnectByNameOptions {
  /** The host name. */
  host: string;
  /** The TCP port. */
  port: number;
  /** The loop. */
  loop: Loop;
  /** The loop's io_uring, when connections use it. */
  io?: LoopUring | undefined;
  /** Aborts the whole race (resolution and every attempt). */
  signal?: AbortSignal | undefined;
  /** Fails the whole race with `SocketTimeoutError` after this long. */
  timeoutMs?: number | undefined;
  /** Who resolves the name (default {@link defaultResolver}). */
  resolver?: ResolverOption | undefined;
  /** The race's options. */
  happyEyeballs?: HappyEyeballsOptions | undefined;
  /** Where each step of the race is logged at DEBUG, and the resolver's queries (its per-call logger). */
  logger?: Logger | undefined;
}

/** The winner of a race. */
export interface HappyEyeballsWinner {
  /** The connected socket (the caller owns it). */
  readonly socket: Socket;
  /** The address it connected to. */
  readonly address: string;
  /** Its family. */
  readonly family: IPFamily;
}

const HAPPY_EYEBALLS_KEYS: ReadonlySet<string> = new Set(["attemptDelayMs", "resolutionDelayMs", "memory", "onEvent"]);

/**
 * The memory `connect()` uses unless told otherwise: each host's winning
 * family for 10 minutes, 1024 hosts at most.
 *
 * @example
 * ```ts
 * import { defaultFamilyMemory } from "./happy_eyeballs_connect.ts";
 * console.log(defaultFamilyMemory.preferred("never-seen.example")); // undefined
 * ```
 */
export const defaultFamilyMemory: FamilyMemory = new FamilyMemory();

/**
 * Whether `host` is a name `connect()` resolves (not an IP literal, not
 * "localhost", which stays 127.0.0.1).
 *
 * @example
 * ```ts
 * import { isHostName } from "./happy_eyeballs_connect.ts";
 * console.log(isHostName("example.com"), isHostName("::1"), isHostName("localhost")); // true false false
 * ```
 */
export function isHostName(host: string | undefined): host is string {
  return host !== undefined && !isLocalhost(host) && isIP(host) === 0;
}

/**
 * Checks the `resolver` and `happyEyeballs` options of `connect()` before
 * anything starts: a TypeError for a wrong type or an unknown key, a
 * RangeError for a delay out of range.
 *
 * @example
 * ```ts
 * import { checkNameOptions } from "./happy_eyeballs_connect.ts";
 * try {
 *   checkNameOptions({ resolver: "glibc" as "system" });
 * } catch (err) {
 *   console.log(err instanceof TypeError); // true
 * }
 * ```
 */
export function checkNameOptions(options: { resolver?: unknown; happyEyeballs?: unknown }): void {
  const r = options.resolver;
  if (r !== undefined && r !== "system" && !(r instanceof Resolver)) throw new TypeError(`connect: resolver must be a Resolver or "system", got ${typeof r === "string" ? JSON.stringify(r) : typeof r}`);
  const he = options.happyEyeballs;
  if (he === undefined) return;
  if (he === null || typeof he !== "object") throw new TypeError("connect: happyEyeballs must be an object");
  for (const key of Object.keys(he)) if (!HAPPY_EYEBALLS_KEYS.has(key)) throw new TypeError(`connect: unknown happyEyeballs option ${JSON.stringify(key)}`);
  const o = he as HappyEyeballsOptions;
  if (o.memory !== undefined && o.memory !== false && !(o.memory instanceof FamilyMemory)) throw new TypeError("connect: happyEyeballs.memory must be a FamilyMemory or false");
  if (o.onEvent !== undefined && typeof o.onEvent !== "function") throw new TypeError("connect: happyEyeballs.onEvent must be a function");
  // The schedule validates both delays.
  new HappyEyeballsSchedule({
    ...(o.attemptDelayMs === undefined ? {} : { attemptDelayMs: o.attemptDelayMs }),
    ...(o.resolutionDelayMs === undefined ? {} : { resolutionDelayMs: o.resolutionDelayMs }),
  });
}

/** A name whose last label is a number: getaddrinfo would read it as an IPv4 address in another form. */
function endsInNumber(host: string): boolean {
  const labels = host.split(".");
  if (labels.length > 1 && labels[labels.length - 1] === "") labels.pop();
  return /^(?:[0-9]+|0[xX][0-9a-fA-F]*)$/.test(labels[labels.length - 1]!);
}

/**
 * Resolves `host` and races connection attempts to its addresses (Happy
 * Eyeballs v2); resolves with the winner's socket. Rejects with the signal's
 * reason when aborted, `SocketTimeoutError` after `timeoutMs` (both cover
 * resolution and every attempt), a `ConnectAttemptsError` (a
 * `SocketError` with the last attempt's code, `errors` and `attempts`
 * naming every address tried, as `AggregateError` does) when every attempt
 * failed, or the resolver's `DNSError` when there was no
 * address. Nothing stays open after it settles but the winner.
 *
 * @example
 * ```ts
 * import { connectByName } from "./happy_eyeballs_connect.ts";
 * import { defaultLoop } from "../poll/loop.ts";
 * const events: string[] = [];
 * await connectByName({
 *   host: "localhost.", port: 1, loop: defaultLoop(), resolver: "system", timeoutMs: 1000,
 *   happyEyeballs: { onEvent: (e) => events.push(e.type) },
 * }).catch(() => {});
 * console.log(events.includes("attempt")); // true
 * ```
 */
export function connectByName(options: ConnectByNameOptions): Promise<HappyEyeballsWinner> {
  const { host, port, loop, io, signal, timeoutMs } = options;
  checkNameOptions(options);
  if (typeof host !== "string" || host.length === 0 || host.length > 253 || host.includes("\0")) throw new TypeError(`invalid host: ${JSON.stringify(host)}`);
  if (endsInNumber(host)) throw new TypeError(`invalid IP address: ${JSON.stringify(host)} (IPv4 is a.b.c.d only)`);
  const he = options.happyEyeballs ?? {};
  const memory = he.memory === undefined ? defaultFamilyMemory : he.memory;
  const memoryKey = host.toLowerCase().replace(/\.$/, "");
  const remembered = memory === false ? undefined : memory.preferred(memoryKey);
  const plan = new HappyEyeballsSchedule({
    ...(remembered === undefined ? {} : { preferredFamily: remembered }),
    ...(he.attemptDelayMs === undefined ? {} : { attemptDelayMs: he.attemptDelayMs }),
    ...(he.resolutionDelayMs === undefined ? {} : { resolutionDelayMs: he.resolutionDelayMs }),
  });
  const log = options.logger;
  const emit = (event: HappyEyeballsEvent): void => {
    if (log !== undefined) logRaceEvent(log, host, port, event);
    try {
      he.onEvent?.(event);
    } catch {
      // an observer's failure is not the race's
    }
  };
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const resolver = options.resolver ?? defaultResolver();
  /** Aborted when the race ends: stops the queries still running. */
  const race = new AbortController();
  return new Promise<HappyEyeballsWinner>((resolve, reject) => {
    let done = false;
    const attempts = new Map<string, { controller: AbortController; family: IPFamily }>();
    let wake: Timer | undefined;
    const failures: ConnectAttemptFailure[] = [];
    let dnsError: Error | undefined;
    const finish = (error: Error | undefined, winner?: HappyEyeballsWinner): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      wake?.cancel();
      signal?.removeEventListener("abort", onAbort);
      for (const [address, attempt] of attempts) {
        attempt.controller.abort(new DOMException("another attempt won the race", "AbortError"));
        emit({ type: "abandoned", address, family: attempt.family });
      }
      attempts.clear();
      race.abort(new DOMException("the connect is over", "AbortError"));
      if (error !== undefined) reject(error);
      else resolve(winner!);
    };
    const start = (address: string, family: IPFamily): void => {
      const controller = new AbortController();
      attempts.set(address, { controller, family });
      emit({ type: "attempt", address, family });
      connectSocketAsync(loop, { host: address, port }, { signal: controller.signal, io }).then((socket) => {
        attempts.delete(address);
        if (done) {
          // Connected in the same instant as the winner.
          socket.close();
          emit({ type: "abandoned", address, family });
          return;
        }
        if (memory !== false) memory.remember(memoryKey, family);
        emit({ type: "connected", address, family });
        finish(undefined, { socket, address, family });
      }, (err: unknown) => {
        attempts.delete(address);
        if (done) return;
        const error = err instanceof Error ? err : new Error(String(err));
        failures.push({ address, family, error });
        emit({ type: "attemptFailed", address, family, error });
        plan.attemptFailed(address, monotonicMs());
        pump();
      });
    };
    const pump = (): void => {
      if (done) return;
      wake?.cancel();
      wake = undefined;
      for (let guard = 0; guard < 4096 && !done; guard++) {
        const now = monotonicMs();
        const step = plan.next(now);
        if (step.kind === "connect") {
          start(step.address, step.family);
          continue;
        }
        if (step.kind === "wait") wake = loop.timers.once(Math.max(0, Math.ceil(step.untilMs - now)), pump);
        else if (step.kind === "failed") {
          finish(failures.length > 0 ? new ConnectAttemptsError(`${host}:${port}`, failures) : dnsError ?? new DNSError("ENOTFOUND", `${host} has no address`));
        }
        return;
      }
    };
    const answered = (family: IPFamily, addresses: readonly string[]): void => {
      if (done) return;
      emit({ type: "answer", family, addresses });
      plan.answer(family, addresses, monotonicMs());
      pump();
    };
    const timer = timeoutMs === undefined ? undefined : loop.timers.once(timeoutMs, () => finish(connectTimedOut(timeoutMs, `${host}:${port}`)));
    const onAbort = (): void => finish(abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (resolver === "system") {
      // getaddrinfo blocks this thread (up to the DNS timeout where glibc's getaddrinfo_a bounds it).
      let found: { family: "ipv4" | "ipv6"; host: string }[];
      try {
        const budget = timeoutMs === undefined || timeoutMs === 0 ? getDefaultTimeouts().dnsMs : Math.max(1, Math.ceil(timeoutMs));
        found = resolveHost(host, port, { timeoutMs: budget });
      } catch (err) {
        finish(err as Error);
        return;
      }
      const v6 = found.filter((a) => a.family === "ipv6").map((a) => a.host);
      const v4 = found.filter((a) => a.family === "ipv4").map((a) => a.host);
      // Both families at once, so no Resolution Delay.
      plan.answer(6, v6, monotonicMs());
      emit({ type: "answer", family: 6, addresses: v6 });
      answered(4, v4);
      return;
    }
    const ask = (family: IPFamily): void => {
      resolver.lookup(host, log === undefined ? { family, signal: race.signal } : { family, signal: race.signal, logger: log }).then(
        (list: LookupAddress[]) => answered(family, list.map((a) => a.address)),
        (err: unknown) => {
          if (done) return;
          const soft = err instanceof DNSError && (err.code === "ENOTFOUND" || err.code === "ENODATA");
          if (dnsError === undefined || !soft) dnsError = err instanceof Error ? err : new Error(String(err));
          answered(family, []);
        },
      );
    };
    // AAAA first, then A (RFC 8305 §3), both in flight at once.
    ask(6);
    ask(4);
  });
}

/** One step of a race as a DEBUG record (see {@link ConnectByNameOptions.logger}). */
function logRaceEvent(log: Logger, host: string, port: number, event: HappyEyeballsEvent): void {
  switch (event.type) {
    case "answer":
      log.debug("connect: resolved", { host, family: event.family, addresses: event.addresses });
      return;
    case "attempt":
      log.debug("connect: attempt", { host, address: event.address, port, family: event.family });
      return;
    case "attemptFailed":
      log.debug("connect: attempt failed", { host, address: event.address, port, family: event.family, error: event.error });
      return;
    case "connected":
      log.debug("connect: attempt won", { host, address: event.address, port, family: event.family });
      return;
    case "abandoned":
      log.debug("connect: attempt abandoned", { host, address: event.address, port, family: event.family });
  }
}
