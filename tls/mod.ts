/**
 * TLS over OpenSSL (libssl 3, 1.1 where symbols allow): `TLSContext` (one
 * `SSL_CTX`), the blocking `TLSSocket` over a connected `Socket`,
 * `connectTLSSync` / `acceptTLS`, async TLS on the loop as the same
 * `Connection` API (`connectTLS`, `listenTLS`, `startTLS`, `tlsConnector`,
 * with `tlsInfo(conn)` for what was negotiated), and peer certificates
 * parsed from DER.
 * Verification is on by default; the default protocol range is TLS 1.3 only.
 *
 * @example
 * ```ts
 * import { TLSContext } from "./mod.ts";
 * using ctx = new TLSContext({ role: "client", minVersion: "TLSv1.2" });
 * console.log(ctx.minVersion); // TLSv1.2
 * ```
 *
 * @module
 */
export { TLSContext } from "./context.ts";
export type { ALPNMismatch, CertificatePair, TLSContextLike, TLSContextOptions, TLSVersion } from "./options.ts";
export type { PEMInput } from "./pem.ts";
export type { KeylogTarget } from "./keylog.ts";
export { DEFAULT_HANDSHAKE_TIMEOUT_MS, TLSSocket } from "./tls_socket.ts";
export type { TLSSocketOptions } from "./tls_socket.ts";
export { acceptTLS, connectTLSSync } from "./connect_sync.ts";
export type { ConnectTLSSyncOptions } from "./connect_sync.ts";
export { parseCertificate } from "./certificate.ts";
export type { Certificate, SubjectAltNames } from "./certificate.ts";
export { decodeALPN, encodeALPN } from "./alpn.ts";
export type { SessionStats } from "./server_sessions.ts";
export { TICKET_KEY_LENGTH } from "./ticket_keys.ts";
export type { OCSPFailure, OCSPStatus } from "./ocsp.ts";
export { connectTLS, DEFAULT_MAX_TLS_HANDSHAKES, listenTLS, startTLS, tlsConnector, tlsInfo, TLSListener, TLS_SETTING_KEYS } from "./connect_async.ts";
export { INVALID_SERVERNAME } from "./ssl_setup.ts";
export type { ConnectTLSOptions, ListenTLSOptions, TLSConnectionSettings, TLSConnectorSettings, TLSInfo } from "./connect_async.ts";
export { tlsSendfile } from "./sendfile.ts";
export { kernelTLSSupport, type KernelTLSSupport } from "./ktls.ts";
export { DTLSContext } from "./dtls_context.ts";
export type { DTLSContextOptions } from "./dtls_context.ts";
export { connectDTLSSync, DEFAULT_DTLS_HANDSHAKE_TIMEOUT_MS, DTLSListener, DTLSSocket, listenDTLSSync } from "./dtls.ts";
export type { ConnectDTLSSyncOptions, ListenDTLSSyncOptions } from "./dtls.ts";
export type { DTLSEngineOptions as DTLSSocketOptions } from "./dtls_engine.ts";
export { connectDTLS, DTLS_MAX_QUEUED_DATAGRAMS, DTLSConnection, DTLSServer, listenDTLS, startDTLS } from "./dtls_async.ts";
export type { ConnectDTLSOptions, DTLSServerStats, DTLSWaitOptions, ListenDTLSOptions, StartDTLSOptions } from "./dtls_async.ts";
export { DTLSCookieSecrets } from "./dtls_cookie.ts";
export type { DTLSCookieSecretsOptions } from "./dtls_cookie.ts";
export type { CookieStats } from "./dtls_cookie.ts";
export { countHandshake, TLS_STATS, tlsCollector, type TLSStats } from "./tls_stats.ts";
