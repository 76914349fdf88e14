/**
 * Synchronous sockets: TCP and Unix `Socket`, addresses, options, timeouts.
 *
 * @example
 * ```ts
 * import { connectTCPSync, listenTCPSync } from "./mod.ts";
 * using server = listenTCPSync("127.0.0.1", 0);
 * using client = connectTCPSync("127.0.0.1", (server.localAddress() as { port: number }).port, 1000);
 * ```
 *
 * @module
 */
export * from "./address.ts";
export * from "./sockaddr.ts";
export * from "./socket.ts";
export * from "./connect.ts";
export * from "./options.ts";
export * from "./timeouts.ts";
export * from "./tcp_info.ts";
export * from "./stats.ts";
export * from "./resolve.ts";
export * from "./iovec.ts";
export * from "./wait.ts";
export { bindUDPSync, Dgram } from "./dgram.ts";
export type {
  BindUDPSyncOptions,
  DgramFamily,
  DgramOptions,
  IPSocketAddress,
  MulticastInterface,
  OutgoingDatagram,
  ReceivedDatagram,
} from "./dgram.ts";
export { MAX_DATAGRAM_BATCH } from "./dgram_batch.ts";
export { MAX_FDS_PER_MESSAGE, peerCredentials, recvFd, recvFds, sendFd, sendFds } from "./unix_fds.ts";
export type { PeerCredentials, ReceivedFds, RecvFdsOptions } from "./unix_fds.ts";
export { dup, dup2, sendfile, sendfileAll, SplicePipe, spliceAll } from "./zero_copy.ts";
export type { SendfileOptions } from "./zero_copy.ts";
export {
  clampAttemptDelay,
  CONNECTION_ATTEMPT_DELAY_MS,
  FamilyMemory,
  type FamilyMemoryOptions,
  type HappyEyeballsAction,
  HappyEyeballsSchedule,
  type HappyEyeballsScheduleOptions,
  interleaveAddresses,
  type IPFamily,
  MAX_CONNECTION_ATTEMPT_DELAY_MS,
  MIN_CONNECTION_ATTEMPT_DELAY_MS,
  RESOLUTION_DELAY_MS,
} from "./happy_eyeballs.ts";
export {
  checkNameOptions,
  type ConnectByNameOptions,
  connectByName,
  defaultFamilyMemory,
  type HappyEyeballsEvent,
  type HappyEyeballsOptions,
  type HappyEyeballsWinner,
  isHostName,
  type ResolverOption,
} from "./happy_eyeballs_connect.ts";
export { type HealthCheckOptions, type ReconnectEvent, ReconnectingConnection, type ReconnectOptions, type ReconnectState } from "./reconnect.ts";
