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
  #closed = false;

  /** Creates an agent that makes one pool per origin with these options (`factory` replaces `new Pool(origin, options)`); throws TypeError for an unknown option. */
  constructor(options: AgentOptions = {}) {
    checkOptions(options, AGENT_KEYS, "Agent");
    const { factory, ...rest } = options;
    this.#options = rest;
    this.#factory = factory ?? ((origin, o) => new Pool(origin, o));
  }

  /** The origins with a pool. */
  get origins(): string[] {
    return [...this.#pools.keys()];
  }

  /** The dispatcher of `origin` (made on first use). */
  dispatcherFor(origin: string): Dispatcher {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
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

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }

  async destroy(error?: Error): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values()].map((p) => p.destroy(error)));
  }
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
