/**
 * The event loop: poll backends (epoll, poll(2), kqueue) behind one
 * interface, the synchronous `Poll`, the library-owned `Loop` with its
 * timers, and async connections and listeners.
 *
 * @example
 * ```ts
 * import { listen, connect } from "./mod.ts";
 * const server = listen({ host: "127.0.0.1", port: 0, handler: { data: (c, d) => c.send(d) } });
 * const conn = await connect({ host: "127.0.0.1", port: server.port });
 * await conn.write(new TextEncoder().encode("hi"));
 * console.log(await conn.read());
 * await conn.close();
 * server.close();
 * ```
 *
 * @module
 */
export {
  type BackendName,
  type BackendOptions,
  describeEvents,
  ERROR,
  HANGUP,
  PEER_CLOSED,
  type PollBackend,
  READABLE,
  WRITABLE,
} from "./backend.ts";
export { createBackend, defaultBackendName } from "./choose.ts";
export { EpollBackend } from "./epoll.ts";
export { KqueueBackend } from "./kqueue.ts";
export { PollBackend2 } from "./poll_backend.ts";
export { type AddOptions, type HasFd, Poll, type PollEvent, type PollOptions } from "./poll.ts";
export { defaultLoop, Loop, type LoopOptions, type LoopStats, type WatchOptions } from "./loop.ts";
export { type IoCallback, IoWatcher } from "./io_watcher.ts";
export { LoopTimers } from "./loop_timers.ts";
export {
  Connection,
  CONNECTION_OPTION_KEYS,
  type ConnectionHandler,
  type ConnectionOptions,
  type TimeoutKind,
  type WaitOptions,
} from "./connection.ts";
export { connectionReadable, connectionWritable } from "./connection_streams.ts";
export type { Transport, TransportFactory, TransportSink } from "./transport.ts";
export { ReadinessTransport, readinessTransport } from "./transport_readiness.ts";
export { type Connector, type ConnectorOptions, defaultConnector } from "./connector.ts";
export {
  adopt,
  ADOPT_OPTION_KEYS,
  type AdoptOptions,
  connect,
  CONNECT_OPTION_KEYS,
  CONNECT_UNIX_OPTION_KEYS,
  type ConnectOptions,
  connectUnix,
  type ConnectUnixOptions,
  type IoOption,
} from "./connect.ts";
export {
  type ConnectionGate,
  listen,
  LISTEN_OPTION_KEYS,
  LISTEN_UNIX_OPTION_KEYS,
  Listener,
  type ListenOptions,
  listenUnix,
  type ListenUnixOptions,
} from "./listener.ts";
export { onSignals, type ShutdownOptions, shutdownOnSignal, type SignalName, type SignalSubscription } from "./signals.ts";
export { connectSocketAsync, type ConnectSocketOptions } from "./connect_socket.ts";
export type { ParkingBackend } from "./parking_backend.ts";
export type { FileHead, WriteQueue } from "./write_queue.ts";
export type { WatcherHost } from "./io_watcher.ts";
export type { LoopUring, UringSetup } from "./uring/loop_io.ts";
export type { UringLoop, UringOwner } from "./uring/loop_glue.ts";
export type { DirectSink, Uring, UringCallback, UringOp } from "./uring/ops.ts";
export type { CompletionSink, CompletionWordSink, Ring } from "./uring/ring.ts";
export type { ProvidedBuffers } from "./uring/buffer_ring.ts";
export type { SendSlots } from "./uring/send_slots.ts";
export { connectSocket, type Endpoint, endpointAddress, listenSocket, type ListenSocketOptions, type StartedConnect } from "./endpoint.ts";
export {
  ADOPT_UDP_OPTION_KEYS,
  adoptUDP,
  type AdoptUDPOptions,
  BIND_UDP_OPTION_KEYS,
  bindUDP,
  type BindUDPOptions,
  type MulticastMembership,
  type UdpAddress,
  type UdpDatagram,
  type UdpHandler,
  UDP_LIMITS,
  type UdpRecvBatchOptions,
  UdpSocket,
  type UdpTarget,
  type UdpWaitOptions,
} from "./udp.ts";
export { StatsdClient, type StatsdClientOptions, type StatsdSendOptions } from "./statsd_client.ts";
export { listenerCollector, loopCollector } from "./loop_metrics.ts";
