/**
 * h1serve: an HTTP/1.1 server written from scratch on raw TCP sockets, strict and fast, that runs
 * unchanged on Deno, Bun and Node. Its API mirrors `Deno.serve`, so fetch-style apps run as they are.
 *
 * Run as a program (`deno run --allow-net mod.ts`, `bun run mod.ts`, `node mod.ts`), it serves
 * the Hello World page; `--help` lists the flags.
 *
 * @example Serve a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "@h1serve/h1serve";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) =>
 *   new Response(`You asked for ${new URL(request.url).pathname}`));
 * const { port } = await server.ready;
 * assert.equal(await (await fetch(`http://127.0.0.1:${port}/hi`)).text(), "You asked for /hi");
 * await server.shutdown();
 * ```
 *
 * @module
 */

import { main } from "./src/cli/cli.ts";

export { runtimeTransport, serve } from "./src/server/serve.ts";
export { serveWith } from "./src/server/server.ts";
export { DEFAULT_LIMITS, DEFAULT_SERVER_LIMITS } from "./src/server/options.ts";
export type {
  Limits,
  ProtocolErrorInfo,
  ResponseLogEntry,
  ServeHandler,
  ServeHandlerInfo,
  ServeOptions,
  Server,
  ServerLimits,
  ServeUnixOptions,
} from "./src/server/options.ts";
export { systemClock } from "./src/server/clock.ts";
export type { Clock, Ticker } from "./src/server/clock.ts";
export type { TimeoutPhase, TraceEvent } from "./src/server/trace.ts";
export type { CompressionLevels, CompressionOptions } from "./src/compression/options.ts";
export { type ContentCoding, negotiateEncoding } from "./src/compression/negotiate.ts";
export { COMPRESSIBLE_TYPES, isCompressibleType } from "./src/compression/compressible.ts";
export { serveDir, type ServeDirOptions } from "./src/static/serve_dir.ts";
export { type PathCheck, serveFile, type ServeFileOptions } from "./src/static/serve_file.ts";
export {
  evaluatePreconditions,
  ifRangeHolds,
  type PreconditionFields,
  type PreconditionOutcome,
  type Validators,
} from "./src/static/conditional.ts";
export {
  type BodyPiece,
  type ByteRange,
  contentRange,
  DEFAULT_MAX_RANGES,
  type MultipartLayout,
  multipartLayout,
  parseRange,
  type RangeDecision,
} from "./src/static/range.ts";
export { formatHttpDate, parseHttpDate } from "./src/static/http_date.ts";
export { contentTypeOf, DEFAULT_MEDIA_TYPE, MEDIA_TYPES } from "./src/static/mime.ts";
export { type EntityTag, type EntityTagList } from "./src/static/etag.ts";
export { FastResponse, installFastResponse, OriginalResponse } from "./src/fetch/response.ts";
export { addrText, hostPort, ListenError } from "./src/transport/transport.ts";
export type {
  Addr,
  ListenErrorCode,
  ListenOptions,
  NetAddr,
  SocketEvents,
  TlsFiles,
  Transport,
  TransportListener,
  TransportSocket,
  UnixAddr,
} from "./src/transport/transport.ts";
export { HttpError } from "./src/core/mod.ts";
export type { HttpErrorCode, ProtocolErrorDetails, ProtocolLimits } from "./src/core/mod.ts";
export { upgradeWebSocket, upgradeWebSocketStream } from "./src/websocket/upgrade.ts";
export type { UpgradeWebSocketOptions } from "./src/websocket/options.ts";
export {
  ServerWebSocket,
  type ServerWebSocketEventMap,
  type WebSocketCloseEvent,
  type WebSocketEventListener,
} from "./src/websocket/socket.ts";
export {
  ServerWebSocketStream,
  type WebSocketCloseInfo,
  WebSocketStreamError,
  type WebSocketStreamOpened,
} from "./src/websocket/stream.ts";
export type { LiveConnection, ProtocolSwitch, Takeover } from "./src/server/switch.ts";
export { protocolSwitchOf, switchingResponse } from "./src/server/switch.ts";
export { WebSocketError, type WebSocketErrorCode } from "./src/core/mod.ts";
export { HELLO_HTML, helloHandler } from "./src/cli/hello.ts";
export { main } from "./src/cli/cli.ts";

if (import.meta.main) main(process.argv.slice(2));
