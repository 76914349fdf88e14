/**
 * The HTTP server: `serve(options)` over HTTP/1.1 and HTTP/2 (h2c by prior
 * knowledge or `Upgrade: h2c`; `h2` by ALPN with the `tls` option) on the
 * loop, with the runtime's own WHATWG `Request`/`Response` in the handler.
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
export { serve, Server, type ServeAddr, type ServeHandler, type ServeHandlerInfo, type ServeOptions, type ServerRejections, type ServerShutdownOptions, type UpgradeOptions } from "./serve.ts";
export { type H2HandlerInfo, type H2ServeOptions, type H2TunnelOptions, isH2Info } from "./h2_session.ts";
export type { ServeTLSOptions } from "./tls_listen.ts";
export { installLightResponse, LIGHT_RESPONSE_DEFAULT, realResponseOf } from "./light_response.ts";
export { compose, type Middleware, type Next, withMiddleware } from "./middleware.ts";
export { answerOverloaded, rateLimit, type RateLimitOptions, serveProtection, withRateLimit } from "./limits_http.ts";
export { parseByteRange, serveStatic, type ServeStaticOptions, type StaticHandler } from "./static.ts";
export { contentTypeFor, isCompressibleType, MIME_TYPES } from "./mime.ts";
export { compression, type CompressionOptions, preferredEncoding } from "./compress.ts";
export { defaultErrorResponse, type ErrorHandler, errorPages, type ErrorPagesOptions, errorResponse, errorStatus } from "./error_page.ts";
export { httpMetrics, metricsHandler, type MetricsHandlerOptions, serverCollector, withHttpMetrics } from "./metrics_handler.ts";
export { accessLog, type AccessLogOptions, type RequestIds, requestIds, requestLogger } from "./access_log.ts";
