/**
 * ffinet/ws: the WebSocket protocol (RFC 6455) with permessage-deflate
 * (RFC 7692), as I/O-free building blocks: the opening handshake, a frame
 * receiver and sender, the closing handshake, and {@link WebSocketProtocol}
 * which ties them into one endpoint fed bytes and producing bytes; and over
 * real connections: the server side of `serve` (`upgradeWebSocket`, the
 * `websocket` handlers and `server.upgrade`, topics), the client
 * (`connectWebSocket`, the WHATWG `WebSocket`), heartbeat and backpressure
 * ({@link WebSocketChannel}).
 *
 * @example
 * ```ts
 * import { acceptUpgrade, WebSocketProtocol } from "./mod.ts";
 * const upgrade = acceptUpgrade({
 *   method: "GET",
 *   headers: new Headers({
 *     host: "example.com",
 *     upgrade: "websocket",
 *     connection: "Upgrade",
 *     "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "sec-websocket-version": "13",
 *   }),
 * });
 * if (upgrade.ok) {
 *   // write upgrade.response, then:
 *   const ws = new WebSocketProtocol({
 *     role: "server",
 *     deflate: upgrade.deflate,
 *     handler: { onMessage: (data, binary) => ws.send(data, { binary }) },
 *   });
 * }
 * ```
 *
 * @module
 */
export { CloseHandshake, type CloseState } from "./close.ts";
export { type ProtocolHandler, type ProtocolOptions, WebSocketProtocol } from "./connection.ts";
export { type DeflateOptions, type DeflateParams, PERMESSAGE_DEFLATE, PerMessageDeflate, sharedCompressorCount } from "./deflate.ts";
export { type ExtensionItem, formatExtensions, parseExtensions } from "./extensions.ts";
export {
  applyMask,
  applyMaskTo,
  CloseCode,
  type FrameHeader,
  frameHeader,
  headerSize,
  isValidCloseCode,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  type OpcodeValue,
  WEBSOCKET_GUID,
  writeFrameHeader,
} from "./frame.ts";
export {
  acceptKey,
  acceptUpgrade,
  checkAnswer,
  type ClientHandshake,
  type ClientHandshakeOptions,
  type ClientHandshakeResult,
  createClientHandshake,
  type HeaderLookup,
  negotiateOffer,
  type ServerHandshakeOptions,
  type UpgradeRequest,
  type UpgradeResponse,
  type UpgradeResult,
} from "./handshake.ts";
export { type MessageDecompressor, Receiver, type ReceiverHandler, type ReceiverOptions } from "./receiver.ts";
export { closePayload, type MessageCompressor, type MessageOptions, Sender, type SenderOptions } from "./sender.ts";
export {
  type ChannelEvents,
  type ChannelOptions,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_MAX_PAYLOAD,
  WebSocketChannel,
} from "./channel.ts";
export { type DialOptions, type DialResult, dialWebSocket, webSocketURL } from "./dial.ts";
export { connectWebSocket, type ConnectWebSocketOptions, type WebSocketCloseInfo, WebSocketConnection, type WebSocketMessage } from "./client.ts";
export { type Handler, WebSocket, WebSocketCloseEvent, type WebSocketInit } from "./websocket.ts";
export { type Subscriber, TopicHub } from "./pubsub.ts";
export { countClose, MAX_APP_CLOSE_CODES, OTHER_CLOSE_CODE, type WebSocketRoleStats, type WebSocketStatsByRole, WS_STATS, wsCollector } from "./ws_stats.ts";
export type { TransportHandler, WebSocketTransport } from "./transport.ts";
export { EXTENDED_CONNECT_HANDLERS, type H2StreamHost, H2StreamTransport } from "./h2_stream.ts";
export { dialOverH2 } from "./h2_dial.ts";
export {
  type ServerUpgradeOptions,
  ServerWebSocket,
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
  type WebSocketHandler,
  type WebSocketServerOptions,
  WebSocketSupport,
} from "./server.ts";
