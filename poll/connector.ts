/**
 * The connecting seam: one replaceable function from options to an open
 * {@link Connection}, as undici's `buildConnector`. Whatever opens
 * connections for a layer above (an HTTP client, a pool, a WebSocket
 * client) takes a `connector?` option and calls it instead of `connect`,
 * so a proxy tunnel, Happy Eyeballs over several addresses, or TLS over the
 * plain connection plug in there without the layer knowing.
 *
 * @example
 * ```ts
 * import { type Connector, defaultConnector } from "./connector.ts";
 * import { listen } from "./listener.ts";
 * // A connector that counts connects and otherwise does what the default does.
 * let connects = 0;
 * const counting: Connector = (options) => {
 *   connects++;
 *   return defaultConnector(options);
 * };
 * const server = listen({ host: "127.0.0.1", port: 0 });
 * const conn = await counting({ host: "127.0.0.1", port: server.port });
 * await conn.close();
 * server.close();
 * console.log(connects); // 1
 * ```
 *
 * @module
 */
import { connect, type ConnectOptions, connectUnix, type ConnectUnixOptions } from "./connect.ts";
import type { Connection } from "./connection.ts";

/**
 * Where a {@link Connector} connects to, and how: TCP (`host`, `port`) or
 * a Unix socket (`path`), with the connection options of `connect` and
 * `connectUnix`.
 *
 * @example
 * ```ts
 * import type { ConnectorOptions } from "./connector.ts";
 * const tcp: ConnectorOptions = { host: "127.0.0.1", port: 8080, timeoutMs: 2000 };
 * const unix: ConnectorOptions = { path: "/run/app.sock" };
 * console.log(tcp, unix);
 * ```
 */
export type ConnectorOptions = ConnectOptions | ConnectUnixOptions;

/**
 * Opens a connection: resolves once it is open (its handler's `open` has
 * run), rejects with the typed error of the failed step.
 *
 * @example
 * ```ts
 * import type { Connector } from "./connector.ts";
 * import { defaultConnector } from "./connector.ts";
 * // Refuses everything but loopback; otherwise the default.
 * const loopbackOnly: Connector = (options) =>
 *   "path" in options || options.host === "127.0.0.1" || options.host === "::1" || options.host === undefined
 *     ? defaultConnector(options)
 *     : Promise.reject(new RangeError(`not loopback: ${options.host}`));
 * console.log(typeof loopbackOnly);
 * ```
 */
export type Connector = (options: ConnectorOptions) => Promise<Connection>;

/**
 * The default {@link Connector}: `connectUnix` for options with a `path`,
 * else `connect` (TCP), on the loop and I/O mode the options name.
 *
 * @example
 * ```ts
 * import { defaultConnector } from "./connector.ts";
 * import { listenUnix } from "./listener.ts";
 * const server = listenUnix({ path: "@ffinet-connector-example" });
 * const conn = await defaultConnector({ path: "@ffinet-connector-example" });
 * await conn.close();
 * server.close();
 * ```
 */
export const defaultConnector: Connector = (options): Promise<Connection> => "path" in options ? connectUnix(options) : connect(options);
