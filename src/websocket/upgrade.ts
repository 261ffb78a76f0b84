/**
 * `upgradeWebSocket` and `upgradeWebSocketStream`: a handler turns its request into a WebSocket
 * and returns the response they give. They check the opening handshake (RFC 6455 §4.2.1) with
 * the core, choose the subprotocol and permessage-deflate, and build the 101's fields; the server
 * sends the 101 and hands the socket to a `WebSocketConnection`. A request that is not a valid
 * handshake gets its refusal as the response (400, or 426 with `Sec-WebSocket-Version: 13`), and
 * the socket never opens.
 *
 * @module
 */

import {
  acceptKey,
  checkWebSocketRequest,
  type DeflateAgreement,
  negotiateDeflate,
  selectProtocol,
} from "../core/mod.ts";
import { ServerRequest } from "../fetch/request.ts";
import { type ProtocolSwitch, switchingResponse } from "../server/switch.ts";
import { WebSocketConnection, type WebSocketEndpoint } from "./connection.ts";
import {
  type ResolvedWebSocketOptions,
  resolveWebSocketOptions,
  type UpgradeWebSocketOptions,
} from "./options.ts";
import { ServerWebSocket, socketEndpoint } from "./socket.ts";
import { ServerWebSocketStream, streamEndpoint } from "./stream.ts";

/**
 * Turns a WebSocket handshake request into a WebSocket, as `Deno.upgradeWebSocket` does: the
 * handler returns `response`, and `socket` opens once it is sent.
 *
 * @param request The request the server gave the handler.
 * @param options Subprotocols, limits, timeouts, compression.
 * @returns The socket and the response to return.
 * @throws {TypeError} When `request` is not a request of an h1serve server.
 *
 * @example A chat room: every message goes to every socket
 * ```ts
 * import { serve, upgradeWebSocket } from "../../mod.ts";
 *
 * const room = new Set<{ send(data: string): void }>();
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) => {
 *   if (request.headers.get("upgrade") !== "websocket") return new Response("a chat", { status: 200 });
 *   const { socket, response } = upgradeWebSocket(request);
 *   socket.onopen = () => room.add(socket);
 *   socket.onmessage = (event) => room.forEach((peer) => peer.send(String(event.data)));
 *   socket.onclose = () => room.delete(socket);
 *   return response;
 * });
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export function upgradeWebSocket(
  request: Request,
  options: UpgradeWebSocketOptions = {},
): { socket: ServerWebSocket; response: Response } {
  const socket = new ServerWebSocket(webSocketUrl(request.url));
  return { socket, response: upgrade(request, options, socketEndpoint(socket)) };
}

/**
 * Turns a WebSocket handshake request into a WebSocket with streams (`readable`, `writable`) and
 * flow control both ways. The handler returns `response`; `stream.opened` resolves once it is sent.
 *
 * @param request The request the server gave the handler.
 * @param options Subprotocols, limits, timeouts, compression, high-water marks.
 * @returns The stream and the response to return.
 * @throws {TypeError} When `request` is not a request of an h1serve server.
 *
 * @example Upper-case every text message
 * ```ts
 * import { serve, upgradeWebSocketStream } from "../../mod.ts";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) => {
 *   const { stream, response } = upgradeWebSocketStream(request);
 *   stream.opened.then(async ({ readable, writable }) => {
 *     const writer = writable.getWriter();
 *     for await (const message of readable) await writer.write(String(message).toUpperCase());
 *   }).catch(() => {});
 *   return response;
 * });
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export function upgradeWebSocketStream(
  request: Request,
  options: UpgradeWebSocketOptions = {},
): { stream: ServerWebSocketStream; response: Response } {
  const settings = resolved(options);
  const stream = new ServerWebSocketStream(
    webSocketUrl(request.url),
    settings.receiveHighWaterMark,
    settings.sendHighWaterMark,
  );
  return { stream, response: upgrade(request, options, streamEndpoint(stream)) };
}

/**
 * The URL of a WebSocket request with the `ws:` (or `wss:`) scheme. Joined rather than concatenated
 * or replaced: one flat string of its own for the socket to keep, where `+` would make (on V8) a rope
 * over a slice of the request's URL, and keep all three.
 */
function webSocketUrl(requestUrl: string): string {
  return ["ws", requestUrl.slice(4)].join("");
}

/** Options resolved once per options object: a server that passes the same one shares it among its sockets. */
const resolvedOptions = new WeakMap<UpgradeWebSocketOptions, ResolvedWebSocketOptions>();

function resolved(options: UpgradeWebSocketOptions): ResolvedWebSocketOptions {
  let value = resolvedOptions.get(options);
  if (value === undefined) resolvedOptions.set(options, value = resolveWebSocketOptions(options));
  return value;
}

/** The handshake: the 101 that opens `endpoint`, or the refusal (and `endpoint` closes, 1006). */
function upgrade(request: Request, options: UpgradeWebSocketOptions, endpoint: WebSocketEndpoint): Response {
  const head = ServerRequest.headOf(request);
  if (head === null) {
    throw new TypeError("upgradeWebSocket takes the request that an h1serve server gave the handler");
  }
  const settings = resolved(options);
  const checked = checkWebSocketRequest(head);
  if ("status" in checked) {
    queueMicrotask(() => endpoint.connectionClosed(1006, "", false));
    const headers = new Headers(checked.headers as [string, string][]);
    headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(`${checked.message}\n`, { status: checked.status, headers });
  }
  const protocol = options.protocol !== undefined
    ? (checked.protocols.includes(options.protocol) ? options.protocol : "")
    : selectProtocol(checked.protocols, options.protocols ?? []);
  const deflate: DeflateAgreement | null = settings.compression === null
    ? null
    : negotiateDeflate(checked.extensions, settings.compression);
  const headers: [string, string][] = [["upgrade", "websocket"], [
    "sec-websocket-accept",
    acceptKey(checked.key),
  ]];
  if (protocol !== "") headers.push(["sec-websocket-protocol", protocol]);
  if (deflate !== null) headers.push(["sec-websocket-extensions", deflate.header]);
  const protocolSwitch: ProtocolSwitch = {
    headers,
    start(takeover) {
      const connection = new WebSocketConnection(takeover, {
        endpoint,
        options: settings,
        deflate: deflate?.parameters ?? null,
        protocol,
        extensions: deflate?.header ?? "",
      });
      queueMicrotask(() => connection.start());
      return connection;
    },
  };
  return switchingResponse(protocolSwitch);
}
