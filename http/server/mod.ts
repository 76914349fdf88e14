/**
 * The HTTP server: `serve(options)` over HTTP/1.1 on the loop, with the
 * runtime's own WHATWG `Request`/`Response` in the handler.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./mod.ts";
 * const server = serve({ port: 0, fetch: () => new Response("hello") });
 * console.log(`listening on ${server.addr.port}`);
 * await server.shutdown();
 * ```
 *
 * @module
 */
export { serve, Server, type ServeAddr, type ServeHandler, type ServeHandlerInfo, type ServeOptions, type ServerShutdownOptions, type UpgradeOptions } from "./serve.ts";
