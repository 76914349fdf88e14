/**
 * `Client`: one HTTP/1.1 connection to one origin, as undici's Client (a
 * {@link Pool} of one connection). Requests queue behind each other; with
 * `pipelining > 1` bodiless idempotent ones are written before the earlier
 * responses arrive. The connection is reopened when it closes.
 *
 * @example
 * ```ts ignore
 * import { Client } from "./client.ts";
 * import { request } from "./request.ts";
 * const client = new Client("http://127.0.0.1:8080", { pipelining: 4 });
 * const { body } = await request("http://127.0.0.1:8080/", { dispatcher: client });
 * console.log(await body.text());
 * await client.close();
 * ```
 *
 * @module
 */
import { checkOptions } from "../../core/options.ts";
import { Pool, POOL_OPTION_KEYS, type PoolOptions } from "./pool.ts";

/**
 * Options of a {@link Client}: those of a Pool but `connections`.
 *
 * @example
 * ```ts
 * import type { ClientOptions } from "./client.ts";
 * const options: ClientOptions = { pipelining: 8, headersTimeoutMs: 5_000 };
 * ```
 */
export type ClientOptions = Omit<PoolOptions, "connections">;

const CLIENT_KEYS: ReadonlySet<string> = new Set([...POOL_OPTION_KEYS].filter((k) => k !== "connections"));

/**
 * One connection to one origin. See the module documentation.
 *
 * @example
 * ```ts ignore
 * import { Client } from "./client.ts";
 * const client = new Client("http://127.0.0.1:8080");
 * await client.close();
 * ```
 */
export class Client extends Pool {
  /** Creates a client for `origin` over a single connection (a Pool with `connections: 1`); throws TypeError for an unknown option. */
  constructor(origin: string | URL, options: ClientOptions = {}) {
    checkOptions(options, CLIENT_KEYS, "Client");
    super(origin, { ...options, connections: 1 });
  }
}
