/**
 * The server's end of a WebSocket as streams, in the shape of the WHATWG `WebSocketStream`
 * proposal (which Deno ships as a client): `opened` gives a `readable` of messages and a
 * `writable` for messages, `closed` settles with the close code and reason, `close()` starts the
 * close handshake. Flow control runs both ways: when the reader falls `receiveHighWaterMark`
 * messages behind, the server stops reading from the socket; and a write resolves only once the
 * bytes buffered are at the send high-water mark or below.
 *
 * @module
 */

import type { WebSocketError } from "../core/mod.ts";
import type { WebSocketConnection, WebSocketEndpoint } from "./connection.ts";

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/**
 * What `opened` resolves to.
 *
 * @example
 * ```ts ignore
 * const { readable, writable, protocol } = await stream.opened;
 * ```
 */
export interface WebSocketStreamOpened {
  /** Messages as they arrive: text as strings, binary as `Uint8Array`s. */
  readonly readable: ReadableStream<string | Uint8Array>;
  /** Messages to send: strings as text, bytes as binary (an `ArrayBuffer` or any view is taken too). */
  readonly writable: WritableStream<string | Uint8Array>;
  /** The subprotocol chosen, or `""`. */
  readonly protocol: string;
  /** The extensions agreed, or `""`. */
  readonly extensions: string;
}

/**
 * How a WebSocket stream ended: the close code and reason.
 *
 * @example
 * ```ts ignore
 * const { closeCode, reason } = await stream.closed;
 * ```
 */
export interface WebSocketCloseInfo {
  /** The close code (1005 when the peer gave none). */
  readonly closeCode: number;
  /** The reason. */
  readonly reason: string;
}

/**
 * A WebSocket that ended without a clean close handshake: a protocol failure, a timeout, or a
 * peer that left. `closed` rejects with it.
 *
 * @example
 * ```ts ignore
 * stream.closed.catch((error: WebSocketStreamError) => console.log(error.closeCode));
 * ```
 */
export class WebSocketStreamError extends Error {
  /** The close code (1006 when no close frame was exchanged). */
  readonly closeCode: number;
  /** The reason. */
  readonly reason: string;

  /**
   * Makes the error of a WebSocket that did not close cleanly.
   * @param closeCode The close code.
   * @param reason The reason.
   * @param cause The protocol failure, if any.
   */
  constructor(closeCode: number, reason: string, cause?: WebSocketError) {
    super(cause?.message ?? `the WebSocket closed without a close handshake (${closeCode})`, { cause });
    this.name = "WebSocketStreamError";
    this.closeCode = closeCode;
    this.reason = reason;
  }
}

/** The stream's private entry points, for {@link StreamEndpoint} (set in the class's static block). */
let opened: (stream: ServerWebSocketStream, connection: WebSocketConnection) => void;
let received: (stream: ServerWebSocketStream, data: Uint8Array, binary: boolean) => void;
let closed: (
  stream: ServerWebSocketStream,
  code: number,
  reason: string,
  wasClean: boolean,
  error?: WebSocketError,
) => void;
let drained: (stream: ServerWebSocketStream) => void;

/** A stream's endpoint: one small object per stream, its methods shared (no closures of its own). */
class StreamEndpoint implements WebSocketEndpoint {
  readonly #stream: ServerWebSocketStream;
  constructor(stream: ServerWebSocketStream) {
    this.#stream = stream;
  }
  connectionOpened(connection: WebSocketConnection): void {
    opened(this.#stream, connection);
  }
  messageReceived(data: Uint8Array, binary: boolean): void {
    received(this.#stream, data, binary);
  }
  connectionClosed(code: number, reason: string, wasClean: boolean, error?: WebSocketError): void {
    closed(this.#stream, code, reason, wasClean, error);
  }
  bufferDrained(): void {
    drained(this.#stream);
  }
}

/**
 * The connection's view of a stream: what opens it, delivers its messages and closes it.
 * @param stream The stream.
 * @returns Its endpoint.
 */
export function streamEndpoint(stream: ServerWebSocketStream): WebSocketEndpoint {
  return new StreamEndpoint(stream);
}

/**
 * One WebSocket as streams, server side. Made by `upgradeWebSocketStream`.
 *
 * @example Echo with backpressure both ways
 * ```ts
 * import { serve, upgradeWebSocketStream } from "../../mod.ts";
 *
 * const server = serve({ port: 0, hostname: "127.0.0.1" }, (request) => {
 *   const { stream, response } = upgradeWebSocketStream(request);
 *   stream.opened.then(({ readable, writable }) => readable.pipeTo(writable)).catch(() => {});
 *   return response;
 * });
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export class ServerWebSocketStream {
  /** Resolves once the connection is open. */
  readonly opened: Promise<WebSocketStreamOpened>;
  /** Resolves after a clean close handshake; rejects with a {@link WebSocketStreamError} otherwise. */
  readonly closed: Promise<WebSocketCloseInfo>;
  /** The URL the client asked for, with the `ws:` scheme. */
  readonly url: string;
  readonly #receiveHighWaterMark: number;
  readonly #sendHighWaterMark: number;
  #resolveOpened!: (value: WebSocketStreamOpened) => void;
  #rejectOpened!: (error: Error) => void;
  #resolveClosed!: (value: WebSocketCloseInfo) => void;
  #rejectClosed!: (error: Error) => void;
  #connection: WebSocketConnection | null = null;
  #reader: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  #drainWaiters: (() => void)[] = [];
  #pendingClose: WebSocketCloseInfo | null = null;
  #over = false;

  /**
   * Makes a stream that opens when the server hands it a connection (`upgradeWebSocketStream` does).
   * @param url The URL the client asked for, with the `ws:` scheme.
   * @param receiveHighWaterMark Messages the reader may fall behind before reading pauses.
   * @param sendHighWaterMark Bytes buffered above which writes wait.
   */
  constructor(url: string, receiveHighWaterMark: number, sendHighWaterMark: number) {
    this.url = url;
    this.#receiveHighWaterMark = receiveHighWaterMark;
    this.#sendHighWaterMark = sendHighWaterMark;
    this.opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // Whoever does not wait for these does not get an unhandled rejection.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  /**
   * Starts the close handshake (after the messages written before it).
   * @param info The code (1000 by default, or 3000–4999) and the reason.
   */
  close(info: Partial<WebSocketCloseInfo> = {}): void {
    const closeCode = info.closeCode ?? 1000, reason = info.reason ?? "";
    if (this.#connection === null) this.#pendingClose = { closeCode, reason };
    else this.#connection.startClose(closeCode, reason);
  }

  // ---- the endpoint, called by the connection (see streamEndpoint) ----

  static {
    opened = (stream, connection) => stream.#open(connection);
    received = (stream, data, binary) => stream.#message(data, binary);
    closed = (stream, code, reason, wasClean, error) => stream.#closed(code, reason, wasClean, error);
    drained = (stream) => stream.#drained();
  }

  #message(data: Uint8Array, binary: boolean): void {
    const reader = this.#reader;
    if (reader === null) return;
    // A plain Uint8Array over the message, not the Buffer it may be a view of on Node.
    reader.enqueue(
      binary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : UTF8_DECODER.decode(data),
    );
    if ((reader.desiredSize ?? 1) <= 0) this.#connection?.pauseReading();
  }

  #closed(code: number, reason: string, wasClean: boolean, error?: WebSocketError): void {
    this.#over = true;
    const failure = wasClean ? null : new WebSocketStreamError(code, reason, error);
    if (this.#reader !== null) {
      if (failure === null) this.#reader.close();
      else this.#reader.error(failure);
      this.#reader = null;
    }
    this.#drained();
    if (this.#connection === null) this.#rejectOpened(failure ?? new WebSocketStreamError(code, reason));
    if (failure === null) this.#resolveClosed({ closeCode: code, reason });
    else this.#rejectClosed(failure);
  }

  /** Writes that waited for the buffer to drain go on. */
  #drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #open(connection: WebSocketConnection): void {
    this.#connection = connection;
    const readable = new ReadableStream<string | Uint8Array>({
      start: (controller) => {
        this.#reader = controller;
      },
      pull: () => connection.resumeReading(),
      cancel: () => {
        this.#reader = null;
        connection.resumeReading();
      },
    }, new CountQueuingStrategy({ highWaterMark: this.#receiveHighWaterMark }));
    const writable = new WritableStream<string | Uint8Array>({
      write: (chunk) => this.#write(chunk),
      close: () => connection.startClose(1000, ""),
      abort: () => connection.startClose(1011, ""),
    });
    this.#resolveOpened({
      readable,
      writable,
      protocol: connection.protocol,
      extensions: connection.extensions,
    });
    const pending = this.#pendingClose;
    if (pending !== null) connection.startClose(pending.closeCode, pending.reason);
  }

  #write(chunk: string | ArrayBuffer | ArrayBufferView): Promise<void> | void {
    const connection = this.#connection!;
    if (this.#over) throw new WebSocketStreamError(1006, "");
    if (typeof chunk === "string") connection.send(UTF8_ENCODER.encode(chunk), false);
    else if (ArrayBuffer.isView(chunk)) {
      connection.send(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), true, true);
    } else connection.send(new Uint8Array(chunk), true, true);
    if (connection.bufferedAmount <= this.#sendHighWaterMark) return;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }
}
