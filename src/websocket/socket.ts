/**
 * The server's end of a WebSocket in the shape of the WHATWG `WebSocket` interface, as
 * `Deno.upgradeWebSocket` gives it: `readyState`, `binaryType`, `bufferedAmount`, `protocol`,
 * `extensions`, `send`, `close`, and the `open`, `message`, `error` and `close` events through
 * `addEventListener` or the `on…` properties. A listener that throws is logged; the server goes on.
 *
 * @module
 */

import type { WebSocketConnection, WebSocketEndpoint } from "./connection.ts";
import type { WebSocketError } from "../core/mod.ts";
import { type Listener, ListenerRegistry } from "./_listeners.ts";

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/**
 * A listener of {@link ServerWebSocket}'s events: a function, or an object with `handleEvent`.
 *
 * @example
 * ```ts
 * import type { WebSocketEventListener } from "./socket.ts";
 *
 * const listener: WebSocketEventListener = (event) => console.log(event.type);
 * ```
 */
export type WebSocketEventListener = Listener;

/**
 * A `close` event: the close code, the reason, and whether the close handshake completed.
 *
 * @example
 * ```ts
 * import type { WebSocketCloseEvent } from "./socket.ts";
 *
 * const describe = (event: WebSocketCloseEvent) => `${event.code} ${event.wasClean ? "clean" : "not clean"}`;
 * ```
 */
export interface WebSocketCloseEvent extends Event {
  /** The close code (1005 when the peer gave none, 1006 when no close frame was exchanged). */
  readonly code: number;
  /** The reason. */
  readonly reason: string;
  /** Whether the close handshake completed. */
  readonly wasClean: boolean;
}

/**
 * The events of a {@link ServerWebSocket}, by type.
 *
 * @example
 * ```ts
 * import type { ServerWebSocketEventMap } from "./socket.ts";
 *
 * const onMessage = (event: ServerWebSocketEventMap["message"]) => event.data;
 * ```
 */
export interface ServerWebSocketEventMap {
  /** The connection opened. */
  open: Event;
  /** A message arrived: `data` is a string, a `Blob` or an `ArrayBuffer` (see `binaryType`). */
  message: MessageEvent;
  /** The connection failed (a `close` event follows). */
  error: Event;
  /** The connection closed. */
  close: WebSocketCloseEvent;
}

/** The socket's private entry points, for {@link SocketEndpoint} (set in the class's static block). */
let opened: (socket: ServerWebSocket, connection: WebSocketConnection) => void;
let received: (socket: ServerWebSocket, data: Uint8Array, binary: boolean) => void;
let closed: (
  socket: ServerWebSocket,
  code: number,
  reason: string,
  wasClean: boolean,
  error?: WebSocketError,
) => void;

/** A socket's endpoint: one small object per socket, its methods shared (no closures of its own). */
class SocketEndpoint implements WebSocketEndpoint {
  readonly #socket: ServerWebSocket;
  constructor(socket: ServerWebSocket) {
    this.#socket = socket;
  }
  connectionOpened(connection: WebSocketConnection): void {
    opened(this.#socket, connection);
  }
  messageReceived(data: Uint8Array, binary: boolean): void {
    received(this.#socket, data, binary);
  }
  connectionClosed(code: number, reason: string, wasClean: boolean, error?: WebSocketError): void {
    closed(this.#socket, code, reason, wasClean, error);
  }
  bufferDrained(): void {}
}

/** `CloseEvent` where the runtime has one (Deno, Bun, Node 23+), else an `Event` with the same members. */
const CloseEventClass: new (
  type: string,
  init: { code: number; reason: string; wasClean: boolean },
) => WebSocketCloseEvent =
  (globalThis as { CloseEvent?: new (type: string, init: object) => WebSocketCloseEvent })
    .CloseEvent ?? class CloseEvent extends Event {
    readonly code: number;
    readonly reason: string;
    readonly wasClean: boolean;
    constructor(type: string, init: { code: number; reason: string; wasClean: boolean }) {
      super(type);
      this.code = init.code;
      this.reason = init.reason;
      this.wasClean = init.wasClean;
    }
  };

/**
 * One WebSocket, server side. Made by `upgradeWebSocket`; it opens once the handler's response
 * is sent.
 *
 * @example Echo every message
 * ```ts
 * import { serve, upgradeWebSocket } from "../../mod.ts";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) => {
 *   const { socket, response } = upgradeWebSocket(request);
 *   socket.addEventListener("message", (event) => socket.send(event.data));
 *   return response;
 * });
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export class ServerWebSocket {
  /** The connection is not open yet. */
  static readonly CONNECTING = 0;
  /** The connection is open. */
  static readonly OPEN = 1;
  /** The close handshake is in progress. */
  static readonly CLOSING = 2;
  /** The connection is closed. */
  static readonly CLOSED = 3;
  // The constants again on the prototype, as WHATWG has them there: no fields in each socket.
  /** The connection is not open yet. */
  get CONNECTING(): 0 {
    return 0;
  }
  /** The connection is open. */
  get OPEN(): 1 {
    return 1;
  }
  /** The close handshake is in progress. */
  get CLOSING(): 2 {
    return 2;
  }
  /** The connection is closed. */
  get CLOSED(): 3 {
    return 3;
  }

  /** The URL the client asked for, with the `ws:` scheme. */
  readonly url: string;
  /** How binary messages are given: as a `Blob` (the default) or an `ArrayBuffer`. */
  binaryType: "blob" | "arraybuffer" = "blob";
  #readyState = 0;
  #connection: WebSocketConnection | null = null;
  /** Bytes sent while closing or closed, which count in `bufferedAmount` for ever (WHATWG). */
  #discarded = 0;
  /** A close asked for before the connection opened. */
  #pendingClose: { code: number | undefined; reason: string } | null = null;
  /** Listeners and handlers, made when the first is set (an idle socket keeps little). */
  #listeners: ListenerRegistry | null = null;

  /**
   * Makes a socket that opens when the server hands it a connection (`upgradeWebSocket` does).
   * @param url The URL the client asked for, with the `ws:` scheme.
   */
  constructor(url: string) {
    this.url = url;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return this.#readyState;
  }

  /** The subprotocol chosen, or `""`. */
  get protocol(): string {
    return this.#connection?.protocol ?? "";
  }

  /** The extensions agreed, or `""`. */
  get extensions(): string {
    return this.#connection?.extensions ?? "";
  }

  /** Bytes of messages sent and not yet handed to the system. */
  get bufferedAmount(): number {
    return (this.#connection?.bufferedAmount ?? 0) + this.#discarded;
  }

  /** The `open` handler. */
  get onopen(): ((event: Event) => void) | null {
    return this.#listeners?.handler("open") ?? null;
  }
  set onopen(handler: ((event: Event) => void) | null) {
    this.#registry().setHandler("open", handler);
  }
  /** The `message` handler. */
  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#listeners?.handler("message") ?? null;
  }
  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    this.#registry().setHandler("message", handler as ((event: Event) => void) | null);
  }
  /** The `error` handler. */
  get onerror(): ((event: Event) => void) | null {
    return this.#listeners?.handler("error") ?? null;
  }
  set onerror(handler: ((event: Event) => void) | null) {
    this.#registry().setHandler("error", handler);
  }
  /** The `close` handler. */
  get onclose(): ((event: WebSocketCloseEvent) => void) | null {
    return this.#listeners?.handler("close") ?? null;
  }
  set onclose(handler: ((event: WebSocketCloseEvent) => void) | null) {
    this.#registry().setHandler("close", handler as ((event: Event) => void) | null);
  }

  /**
   * Sends a message: a string as text, bytes or a `Blob` as binary.
   * @param data The message.
   * @throws {DOMException} `InvalidStateError` before the connection opens.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#readyState === 0) throw new DOMException("the WebSocket is not open yet", "InvalidStateError");
    if (typeof data === "string") return this.#sendBytes(UTF8_ENCODER.encode(data), false);
    if (data instanceof Blob) {
      if (this.#readyState !== 1) return void (this.#discarded += data.size);
      return this.#connection!.sendLater(
        data.arrayBuffer().then((buffer) => new Uint8Array(buffer)),
        true,
        data.size,
      );
    }
    const bytes = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    // The caller may change its array after send returns: the message is what it held now (one copy).
    this.#sendBytes(bytes, true, true);
  }

  /**
   * Starts the close handshake.
   * @param code 1000, or 3000–4999.
   * @param reason At most 123 bytes of UTF-8.
   * @throws {DOMException} `InvalidAccessError` for another code, `SyntaxError` for a long reason.
   */
  close(code?: number, reason = ""): void {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new DOMException(`close code ${code} is neither 1000 nor 3000–4999`, "InvalidAccessError");
    }
    if (UTF8_ENCODER.encode(reason).byteLength > 123) {
      throw new DOMException("a close reason is at most 123 bytes of UTF-8", "SyntaxError");
    }
    if (this.#readyState >= 2) return;
    this.#readyState = 2;
    if (this.#connection === null) this.#pendingClose = { code, reason };
    else this.#connection.startClose(code, reason);
  }

  /**
   * Listens for an event.
   * @param type `open`, `message`, `error` or `close`.
   * @param listener The listener.
   * @param options `{ once: true }` to listen once.
   */
  addEventListener<K extends keyof ServerWebSocketEventMap>(
    type: K,
    listener: ((event: ServerWebSocketEventMap[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Listens for an event, with a listener function or object.
   * @param type The event type.
   * @param listener The listener.
   * @param options `{ once: true }` to listen once.
   */
  addEventListener(
    type: string,
    listener: WebSocketEventListener | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Listens for an event.
   * @param type The event type.
   * @param listener The listener.
   * @param options `{ once: true }` to listen once.
   */
  addEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener === null) return;
    this.#registry().add(type, listener, typeof options === "object" && options.once === true);
  }

  /**
   * Stops listening.
   * @param type The event type.
   * @param listener The listener given to {@link addEventListener}.
   */
  removeEventListener(type: string, listener: WebSocketEventListener | null): void {
    if (listener !== null) this.#listeners?.remove(type, listener);
  }

  /**
   * Delivers an event to the listeners.
   * @param event The event.
   * @returns `true`.
   */
  dispatchEvent(event: Event): boolean {
    this.#listeners?.dispatch(event);
    return true;
  }

  #registry(): ListenerRegistry {
    return this.#listeners ??= new ListenerRegistry();
  }

  // ---- the endpoint, called by the connection (see socketEndpoint) ----

  static {
    opened = (socket, connection) => socket.#opened(connection);
    received = (socket, data, binary) => socket.#message(data, binary);
    closed = (socket, code, reason, wasClean, error) => socket.#closed(code, reason, wasClean, error);
  }

  #opened(connection: WebSocketConnection): void {
    this.#connection = connection;
    if (this.#readyState === 0) this.#readyState = 1;
    this.dispatchEvent(new Event("open"));
    const pending = this.#pendingClose;
    if (pending !== null) connection.startClose(pending.code, pending.reason);
  }

  #message(data: Uint8Array, binary: boolean): void {
    if (this.#readyState !== 1) return;
    let value: string | ArrayBuffer | Blob;
    if (!binary) value = UTF8_DECODER.decode(data);
    else if (this.binaryType === "arraybuffer") value = copyToBuffer(data);
    else value = new Blob([data as Uint8Array<ArrayBuffer>]);
    this.dispatchEvent(new MessageEvent("message", { data: value }));
  }

  #closed(code: number, reason: string, wasClean: boolean, error?: unknown): void {
    this.#readyState = 3;
    if (!wasClean || error !== undefined) this.dispatchEvent(new Event("error"));
    this.dispatchEvent(new CloseEventClass("close", { code, reason, wasClean }));
  }

  #sendBytes(bytes: Uint8Array, binary: boolean, borrowed = false): void {
    if (this.#readyState !== 1) {
      this.#discarded += bytes.byteLength;
      return;
    }
    this.#connection!.send(bytes, binary, borrowed);
  }
}

/**
 * The connection's view of a socket: what opens it, delivers its messages and closes it.
 * @param socket The socket.
 * @returns Its endpoint.
 */
export function socketEndpoint(socket: ServerWebSocket): WebSocketEndpoint {
  return new SocketEndpoint(socket);
}

/**
 * The message's own `ArrayBuffer`: the array's buffer when the array is all of it (a message
 * joined from pieces), else a copy (a view into received bytes, which on Node may be a Buffer's pool).
 */
function copyToBuffer(data: Uint8Array): ArrayBuffer {
  if (
    data.byteOffset === 0 && data.buffer.byteLength === data.byteLength &&
    !(data.buffer instanceof SharedArrayBuffer)
  ) {
    return data.buffer as ArrayBuffer;
  }
  // ArrayBuffer's slice: one copy of the range (a Buffer's own slice would be a view).
  return (data.buffer as ArrayBuffer).slice(data.byteOffset, data.byteOffset + data.byteLength);
}
