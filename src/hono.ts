/**
 * Hono's WebSocket routes on h1serve: `upgradeWebSocket` here is the h1serve counterpart of the
 * one in `hono/deno`, `hono/bun` or `@hono/node-ws`, with the same shape. A route takes a function
 * that returns the events (`onOpen`, `onMessage`, `onClose`, `onError`), each called with the
 * event and a context to send on. Nothing is imported from Hono: the helper is a plain Hono
 * middleware, so this module works with any Hono 4 release.
 *
 * @example A chat route
 * ```ts
 * import { Hono } from "hono";
 * import { serve } from "../mod.ts";
 * import { upgradeWebSocket, type WSContext } from "./hono.ts";
 *
 * const room = new Set<WSContext>();
 * const app = new Hono();
 * app.get("/chat", upgradeWebSocket(() => ({
 *   onOpen: (_event, ws) => void room.add(ws),
 *   onMessage: (event, ws) => room.forEach((peer) => peer !== ws && peer.send(String(event.data))),
 *   onClose: (_event, ws) => void room.delete(ws),
 * })));
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, app.fetch);
 * await server.ready;
 * await server.shutdown();
 * ```
 *
 * @module
 */

import type { UpgradeWebSocketOptions } from "./websocket/options.ts";
import type { ServerWebSocket, WebSocketCloseEvent } from "./websocket/socket.ts";
import { upgradeWebSocket as upgrade } from "./websocket/upgrade.ts";

/**
 * What a route's events are given to talk back: the socket's sending half, as Hono's `WSContext`.
 *
 * @example
 * ```ts
 * import type { WSContext } from "./hono.ts";
 *
 * const greet = (ws: WSContext) => ws.send("hello");
 * ```
 */
export interface WSContext {
  /**
   * Sends a message.
   * @param data Text, or bytes.
   */
  send(data: string | ArrayBuffer | Uint8Array): void;
  /**
   * Starts the close handshake.
   * @param code 1000, or 3000–4999.
   * @param reason At most 123 bytes.
   */
  close(code?: number, reason?: string): void;
  /** The h1serve socket itself. */
  readonly raw: ServerWebSocket;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** The URL the client asked for. */
  readonly url: URL | null;
  /** The subprotocol chosen, or `null`. */
  readonly protocol: string | null;
  /** Binary messages come as `ArrayBuffer`s, as in Hono's own helpers. */
  readonly binaryType: "arraybuffer";
}

/**
 * A route's WebSocket events, as Hono's `WSEvents`.
 *
 * @example
 * ```ts
 * import type { WSEvents } from "./hono.ts";
 *
 * const events: WSEvents = { onMessage: (event, ws) => ws.send(String(event.data)) };
 * ```
 */
export interface WSEvents {
  /** The socket opened. */
  onOpen?(event: Event, ws: WSContext): void;
  /** A message arrived (`event.data`: a string or an `ArrayBuffer`). */
  onMessage?(event: MessageEvent, ws: WSContext): void;
  /** The socket closed. */
  onClose?(event: WebSocketCloseEvent, ws: WSContext): void;
  /** The socket failed. */
  onError?(event: Event, ws: WSContext): void;
}

/**
 * The part of Hono's `Context` the helper reads.
 *
 * @example
 * ```ts
 * import type { HonoContextLike } from "./hono.ts";
 *
 * const upgradeAsked = (c: HonoContextLike) => c.req.header("upgrade") === "websocket";
 * ```
 */
export interface HonoContextLike {
  /** The request. */
  readonly req: { readonly raw: Request; header(name: string): string | undefined };
}

/**
 * A Hono middleware that upgrades a WebSocket request on h1serve and runs the route's events; a
 * request that does not ask for a WebSocket goes on to the next handler.
 *
 * @param createEvents Makes the events for one request (it may read the context).
 * @param options As for h1serve's `upgradeWebSocket`. When the client offers subprotocols and
 *   neither `protocol` nor `protocols` is given, its first is chosen, as Hono's Deno helper does.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { upgradeWebSocket } from "./hono.ts";
 *
 * const app = new Hono();
 * app.get("/echo", upgradeWebSocket(() => ({ onMessage: (event, ws) => ws.send(String(event.data)) })));
 * ```
 */
export function upgradeWebSocket<C extends HonoContextLike>(
  createEvents: (c: C) => WSEvents | Promise<WSEvents>,
  options: UpgradeWebSocketOptions = {},
): (c: C, next: () => Promise<void>) => Promise<Response | void> {
  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return await next();
    const events = await createEvents(c);
    const offered = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
    const chosen = options.protocol === undefined && options.protocols === undefined && offered
      ? { ...options, protocol: offered }
      : options;
    const { socket, response } = upgrade(c.req.raw, chosen);
    socket.binaryType = "arraybuffer";
    const ws: WSContext = {
      send: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      raw: socket,
      get readyState() {
        return socket.readyState;
      },
      url: new URL(socket.url),
      get protocol() {
        return socket.protocol || null;
      },
      binaryType: "arraybuffer",
    };
    socket.onopen = (event) => events.onOpen?.(event, ws);
    socket.onmessage = (event) => events.onMessage?.(event, ws);
    socket.onclose = (event) => events.onClose?.(event, ws);
    socket.onerror = (event) => events.onError?.(event, ws);
    return response;
  };
}
