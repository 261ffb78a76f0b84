/**
 * The sans-I/O core of h1serve: a strict, incremental HTTP/1.1 server protocol engine over
 * `Uint8Array`, with no I/O, no timers and no runtime API. Use it to build servers on other
 * transports, proxies or test harnesses.
 *
 * @example Parse a request and serialize a response
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerConnection } from "@h1serve/h1serve/core";
 *
 * const conn = new ServerConnection({ now: 0 });
 * conn.receive(new TextEncoder().encode("GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0);
 * const event = conn.nextEvent();
 * assert.equal(event.type === "request" && event.head.target, "/hello");
 * const bytes = conn.startResponse({ status: 204, headers: [], bodyLength: 0 }, 0);
 * assert.match(new TextDecoder().decode(bytes), /^HTTP\/1\.1 204 No Content\r\n/);
 * ```
 *
 * @module
 */

export {
  type BodyDecoder,
  ChunkedDecoder,
  type ChunkedState,
  ContentLengthDecoder,
  isValidChunkExtension,
} from "./body.ts";
export { ServerConnection } from "./connection.ts";
export {
  ConnectionContext,
  type EncodedHead,
  type LastHead,
  type ServerConnectionOptions,
} from "./context.ts";
export {
  type CloseEvent,
  type ConnectionEvent,
  type DataEvent,
  type EndEvent,
  type ErrorEvent,
  NEED_DATA,
  PAUSED,
  type ReadState,
  type RequestEvent,
  type TimeoutAction,
  type WriteState,
} from "./events.ts";
export {
  HttpError,
  type HttpErrorCode,
  LocalProtocolError,
  type LocalProtocolErrorCode,
  PROTOCOL_ERRORS,
  type ProtocolErrorDetails,
} from "./errors.ts";
export {
  type FramedResponse,
  frameResponse,
  type HeaderFields,
  isFinalStatus,
  type ResponseFraming,
  responseHasContent,
  type ResponseStart,
  statusAllowsContent,
} from "./framing.ts";
export {
  DEFAULT_PROTOCOL_LIMITS,
  type ProtocolLimits,
  resolveLimitSet,
  resolveProtocolLimits,
} from "./limits.ts";
export {
  type BodyFraming,
  type HttpVersion,
  type RequestHead,
  RequestHeadParser,
  type TargetForm,
} from "./parser.ts";
export {
  closingResponseBytes,
  DateCache,
  encodeChunk,
  encodeHead,
  encodeLastChunk,
  errorResponseBytes,
  fieldLine,
  HeadCache,
  LAST_CHUNK,
  REASON_PHRASES,
  reasonPhrase,
} from "./serializer.ts";
export {
  isValidCloseCode,
  WEBSOCKET_ERRORS,
  WebSocketError,
  type WebSocketErrorCode,
} from "./websocket/errors.ts";
export {
  type FrameHeader,
  type FrameLimits,
  FrameReader,
  type FrameStep,
  OPCODE,
} from "./websocket/frame_reader.ts";
export { closeFrame, closePayload, encodeFrame, frameHeader } from "./websocket/frame_writer.ts";
export {
  acceptKey,
  checkWebSocketRequest,
  type ExtensionOffer,
  type HandshakeRefusal,
  parseExtensions,
  selectProtocol,
  type WebSocketRequest,
} from "./websocket/handshake.ts";
export {
  type DeflateAgreement,
  type DeflateOptions,
  type DeflateParameters,
  negotiateDeflate,
} from "./websocket/permessage_deflate.ts";
export {
  type WebSocketEvent,
  type WebSocketSessionOptions,
  type WebSocketState,
  type WebSocketTimeoutAction,
} from "./websocket/events.ts";
export { WebSocketSession } from "./websocket/session.ts";
export { type SwitchedProtocols, switchingProtocolsHead } from "./upgrade.ts";
export {
  formatIPv6,
  isIPv4,
  isIPv6,
  PROXY_PROTOCOL_ERRORS,
  type ProxyAddr,
  type ProxyHeader,
  type ProxyHeaderLimits,
  ProxyHeaderParser,
  type ProxyParseResult,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
  type ProxyTlv,
} from "./proxy_protocol.ts";
export {
  clientHop,
  clientHopBehind,
  type ForwardedHop,
  parseForwarded,
  parseXForwardedFor,
  TrustedAddresses,
  type TrustProxy,
} from "./forwarded.ts";
