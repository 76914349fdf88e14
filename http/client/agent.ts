/**
 * `Agent`: origin → {@link Pool}, as undici's Agent. Each origin gets a
 * pool made with the agent's options (or by `factory`); `request` and
 * `fetch` use the global agent unless given a `dispatcher`.
 *
 * @example
 * ```ts ignore
 * import { Agent } from "./agent.ts";
 * import { fetch } from "./fetch.ts";
 * const agent = new Agent({ connections: 4, keepAliveTimeoutMs: 1_000 });
 * const response = await fetch("http://127.0.0.1:8080/", { dispatcher: agent });
 * console.log(await response.text());
 * await agent.close();
 * ```
 *
 * @module
 */
import { UseAfterCloseError } from "../../core/errors.ts";
import { checkOptions } from "../../core/options.ts";
import type { Dispatcher, DispatchHandler, DispatchOptions } from "./dispatcher.ts";
import { PendingRequest } from "./pending.ts";
import { Pool, POOL_OPTION_KEYS, type PoolOptions } from "./pool.ts";

/**
 * Options of an {@link Agent}: those of each pool, and a factory for pools
 * of your own.
 *
 * @example
 * ```ts
 * import type { AgentOptions } from "./agent.ts";
 * const options: AgentOptions = { connections: 32, pipelining: 1 };
 * ```
 */
export interface AgentOptions extends PoolOptions {
  /** Makes the dispatcher of an origin (default: `new Pool(origin, options)`). */
  factory?: (origin: string, options: PoolOptions) => Dispatcher;
}

const AGENT_KEYS: ReadonlySet<string> = new Set([...POOL_OPTION_KEYS, "factory"]);

/**
 * Pools by origin. See the module documentation.
 *
 * @example
 * ```ts
 * import { Agent } from "./agent.ts";
 * const agent = new Agent();
 * console.log(agent.origins); // []
 * await agent.close();
 * ```
 */
export class Agent implements Dispatcher {
  readonly #options: PoolOptions;
  readonly #factory: (origin: string, options: PoolOptions) => Dispatcher;
  readonly #pools = new Map<string, Dispatcher>();
  readonly #sweep = new PoolSweep();
  #closed = false;

  /** Creates an agent that makes one pool per origin with these options (`factory` replaces `new Pool(origin, options)`); throws TypeError for an unknown option. */
  constructor(options: AgentOptions = {}) {
    checkOptions(options, AGENT_KEYS, "Agent");
    const { factory, ...rest } = options;
    if (factory !== undefined && typeof factory !== "function") throw new TypeError("Agent: factory must be a function");
    this.#options = rest;
    this.#factory = factory ?? ((origin, o) => new Pool(origin, o));
  }

  /** The origins with a pool. */
  get origins(): string[] {
    return [...this.#pools.keys()];
  }

  /**
   * The dispatcher of `origin` (made on first use). A {@link Pool} with
   * nothing open, opening or queued may be let go once the agent holds
   * many ({@link PoolSweep}): the next request to its origin gets a new one.
   *
   * @throws {UseAfterCloseError} once `close()` or `destroy()` was called (a
   * pool made then would be one nobody closes).
   */
  dispatcherFor(origin: string): Dispatcher {
    if (this.#closed) throw new UseAfterCloseError("Agent");
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      this.#sweep.sweep(this.#pools, sameDispatcher);
      pool = this.#factory(origin, this.#options);
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  dispatch(options: DispatchOptions, handler: DispatchHandler): void {
    if (this.#closed) {
      new PendingRequest(options, handler).fail(new UseAfterCloseError("Agent"));
      return;
    }
    let pool: Dispatcher;
    try {
      pool = this.dispatcherFor(options.origin);
    } catch (err) {
      new PendingRequest(options, handler).fail(err as Error);
      return;
    }
    pool.dispatch(options, handler);
  }

  /**
   * Lets requests finish, then closes every pool the agent ever handed
   * out that is still open: those it holds, and those the sweep let go
   * that someone still holds ({@link Agent.dispatcherFor}) and may have
   * used since.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values(), ...this.#sweep.letGo()].map((p) => p.close()));
  }

  /** Fails every request and closes every pool the agent ever handed out that is still open (see {@link Agent.close}). */
  async destroy(error?: Error): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values(), ...this.#sweep.letGo()].map((p) => p.destroy(error)));
  }
}

/** Tables of dispatchers swept below this size never are. */
const SWEEP_MIN = 64;

/**
 * Keeps a table of per-origin dispatchers (an {@link Agent}'s, a
 * ProxyAgent's) from growing with every origin ever used: when a new entry
 * is about to be added to a table of at least twice its size after the
 * last sweep (64 at first), the {@link Pool}s with nothing open, opening
 * or queued are dropped from it (they hold no connection or timer: nothing
 * to close). The table stays within about twice the pools in use, at O(1)
 * amortized cost per new origin; dispatchers of another class are kept.
 *
 * @example
 * ```ts
 * import { PoolSweep } from "./agent.ts";
 * import { Pool } from "./pool.ts";
 * const table = new Map<string, Pool>();
 * for (let i = 0; i < 100; i++) table.set(`http://127.0.0.1:${8000 + i}`, new Pool(`http://127.0.0.1:${8000 + i}`));
 * new PoolSweep().sweep(table, (p) => p);
 * console.log(table.size); // 0: none was ever used
 * ```
 */
export class PoolSweep {
  #at = SWEEP_MIN;
  /**
   * The pools dropped, held weakly: one that someone still holds may be
   * used again (and open connections) after it was let go, and its
   * owner's close() must still reach it ({@link PoolSweep.letGo}).
   */
  #dropped: WeakRef<Pool>[] = [];

  /** Drops the empty pools of `table` (each found by `poolOf`) if it reached its sweep size. */
  sweep<V>(table: Map<string, V>, poolOf: (entry: V) => Dispatcher): void {
    if (table.size < this.#at) return;
    // Those collected or closed since the last sweep are forgotten: the list stays within what was swept and is still held.
    const dropped = this.#dropped.filter(open);
    for (const [key, entry] of table) {
      const pool = poolOf(entry);
      if (pool instanceof Pool && pool.empty) {
        table.delete(key);
        dropped.push(new WeakRef(pool));
      }
    }
    this.#dropped = dropped;
    this.#at = Math.max(SWEEP_MIN, table.size * 2);
  }

  /**
   * The pools this sweep dropped that still exist and are not closed (a
   * caller may hold one and have used it since): what the table's owner
   * closes beside the table's own on close().
   *
   * @example
   * ```ts
   * import { PoolSweep } from "./agent.ts";
   * console.log(new PoolSweep().letGo()); // []
   * ```
   */
  letGo(): Pool[] {
    const out: Pool[] = [];
    for (const ref of this.#dropped) {
      const pool = ref.deref();
      if (pool !== undefined && !pool.closed) out.push(pool);
    }
    this.#dropped = [];
    return out;
  }
}

function open(ref: WeakRef<Pool>): boolean {
  const pool = ref.deref();
  return pool !== undefined && !pool.closed;
}

function sameDispatcher(d: Dispatcher): Dispatcher {
  return d;
}

let globalDispatcher: Dispatcher | undefined;

/**
 * The dispatcher `request` and `fetch` use without a `dispatcher` option
 * (an {@link Agent} with default options, made on first use).
 *
 * @example
 * ```ts
 * import { getGlobalDispatcher } from "./agent.ts";
 * console.log(typeof getGlobalDispatcher().dispatch); // "function"
 * ```
 */
export function getGlobalDispatcher(): Dispatcher {
  return globalDispatcher ??= new Agent();
}

/**
 * Replaces the global dispatcher.
 *
 * @example
 * ```ts
 * import { Agent, getGlobalDispatcher, setGlobalDispatcher } from "./agent.ts";
 * const before = getGlobalDispatcher();
 * setGlobalDispatcher(new Agent({ connections: 8 }));
 * setGlobalDispatcher(before);
 * ```
 */
export function setGlobalDispatcher(dispatcher: Dispatcher): void {
  globalDispatcher = dispatcher;
}
