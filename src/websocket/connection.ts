/**
 * One WebSocket connection after the 101: it takes the socket's events, feeds the core's
 * `WebSocketSession`, hands messages to its endpoint (the WHATWG-style socket or the stream),
 * writes what the session and the endpoint send, counts `bufferedAmount` exactly (a send's
 * bytes stay counted until the transport says the system has them), pauses reading when the
 * endpoint asks, compresses through the connection's `DeflateCodec`, and acts on the session's
 * timeouts when the server's table ticks.
 *
 * @module
 */

import { concatBytes } from "../core/_bytes.ts";
import {
  type DeflateParameters,
  type WebSocketError,
  type WebSocketEvent,
  WebSocketSession,
} from "../core/mod.ts";
import type { LiveConnection, Takeover } from "../server/switch.ts";
import type { SocketEvents } from "../transport/transport.ts";
import { bodyPool } from "../fetch/body_pool.ts";
import { type BacklogListener, FrameOutput } from "./_frame_output.ts";
import { DeflateCodec } from "./deflate.ts";
import type { ResolvedWebSocketOptions } from "./options.ts";

/** Messages from this size up that the caller may change are copied into the body pool's memory. */
const POOLED_FROM = 4 * 1024;
/** How long a closed connection waits for the peer's FIN before dropping the socket. */
const LINGER_MS = 2000;

/**
 * What a connection tells the API object that the application holds.
 *
 * @example An endpoint that logs
 * ```ts
 * import type { WebSocketEndpoint } from "./connection.ts";
 *
 * const log: string[] = [];
 * const endpoint: WebSocketEndpoint = {
 *   connectionOpened: () => log.push("open"),
 *   messageReceived: (data, binary) => log.push(`${binary ? "binary" : "text"} ${data.length}`),
 *   connectionClosed: (code) => log.push(`close ${code}`),
 *   bufferDrained: () => log.push("drained"),
 * };
 * ```
 */
export interface WebSocketEndpoint {
  /**
   * The connection is open.
   * @param connection The connection, to send on.
   */
  connectionOpened(connection: WebSocketConnection): void;
  /**
   * A message arrived.
   * @param data The message (text as UTF-8, checked).
   * @param binary Whether it is binary.
   */
  messageReceived(data: Uint8Array, binary: boolean): void;
  /**
   * The connection is over.
   * @param code The close code (1006 when it ended without a close handshake).
   * @param reason The peer's reason.
   * @param wasClean Whether the close handshake completed.
   * @param error The protocol failure that ended it, if any.
   */
  connectionClosed(code: number, reason: string, wasClean: boolean, error?: WebSocketError): void;
  /** `bufferedAmount` fell to the send high-water mark or below. */
  bufferDrained(): void;
}

/**
 * What the upgrade settled: the endpoint, the options, the protocol and extensions chosen.
 *
 * @example
 * ```ts ignore
 * const setup: WebSocketSetup = { endpoint, options, deflate: null, protocol: "", extensions: "" };
 * ```
 */
export interface WebSocketSetup {
  readonly endpoint: WebSocketEndpoint;
  readonly options: ResolvedWebSocketOptions;
  readonly deflate: DeflateParameters | null;
  readonly protocol: string;
  readonly extensions: string;
}

/**
 * One open WebSocket connection on a socket taken over from the HTTP server.
 *
 * @example Made by the upgrade's `ProtocolSwitch` once the 101 is queued
 * ```ts ignore
 * const connection = new WebSocketConnection(takeover, setup);
 * connection.start();
 * ```
 */
export class WebSocketConnection implements SocketEvents, LiveConnection, BacklogListener {
  /** The protocol state. */
  readonly session: WebSocketSession;
  /** The subprotocol chosen, or `""`. */
  readonly protocol: string;
  /** The extensions agreed (`Sec-WebSocket-Extensions`), or `""`. */
  readonly extensions: string;
  readonly #takeover: Takeover;
  readonly #endpoint: WebSocketEndpoint;
  readonly #codec: DeflateCodec | null;
  /** Where frames go, batched while received events are processed. */
  readonly #output: FrameOutput;
  /** Sends waiting on compression (or behind one that does), in order. */
  #sendChain: Promise<void> | null = null;
  #chained = 0;
  #inflating = false;
  #readingPaused = false;
  /** Whether more than the send high-water mark waits to be sent: reading stops until it drains. */
  #outputBacklogged = false;
  /** Whether the socket is paused now (for either reason). */
  #socketPaused = false;
  /** When the socket was ended (FIN sent), or `Infinity`. */
  #endedAt = Infinity;
  /** Whether to end the socket once the frames batched now are written. */
  #endAfterBatch = false;
  /** Whether the endpoint has been told the connection is over. */
  #over = false;

  /**
   * @param takeover The socket and what the server provides.
   * @param setup What the upgrade settled.
   */
  constructor(takeover: Takeover, setup: WebSocketSetup) {
    this.#takeover = takeover;
    this.#endpoint = setup.endpoint;
    this.protocol = setup.protocol;
    this.extensions = setup.extensions;
    this.#codec = setup.deflate === null ? null : new DeflateCodec(setup.deflate);
    this.#output = new FrameOutput(
      takeover.socket,
      takeover.clock,
      setup.options.sendHighWaterMark,
      this,
    );
    const options = setup.options;
    this.session = new WebSocketSession({
      now: takeover.clock.now(),
      maxMessageBytes: options.maxMessageBytes,
      maxFrameBytes: options.maxFrameBytes,
      idleTimeoutMs: options.idleTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs,
      autoPong: options.autoPong,
      deflate: setup.deflate === null || options.compression === null
        ? null
        : { threshold: options.compression.threshold },
    });
  }

  /** Application bytes queued by sends and not yet handed to the system. */
  get bufferedAmount(): number {
    return this.#output.buffered;
  }

  /** Opens the endpoint, then reads what arrived with the upgrade request. */
  start(): void {
    this.#endpoint.connectionOpened(this);
    // The server handed over its own copy of these bytes, which the session may unmask in place.
    const rest = this.#takeover.rest;
    if (rest.length > 0) this.data(rest);
  }

  /**
   * Sends one message (compressed when permessage-deflate was agreed and it reaches the threshold).
   * @param data The message; unless `borrowed`, it must not change until sent.
   * @param binary Binary, or text (UTF-8).
   * @param borrowed Whether the caller may change `data` once this returns (it is copied, once).
   */
  send(data: Uint8Array, binary: boolean, borrowed = false): void {
    if (this.session.state !== "open") return;
    this.#output.add(data.byteLength);
    const compress = this.#codec !== null && this.session.compresses(data.byteLength);
    if (!compress && this.#sendChain === null) {
      if (borrowed && data.byteLength >= POOLED_FROM) return this.#sendPooled(data, binary);
      return this.#output.write(this.session.send(data, binary, false, borrowed), data.byteLength);
    }
    if (borrowed) data = data.slice();
    this.#chain(async () => {
      const payload = compress ? await this.#codec!.deflate(data) : data;
      this.#output.write(this.session.send(payload, binary, compress), data.byteLength);
    });
  }

  /**
   * Sends a large message that the caller may change at once: copied into memory of the body pool
   * behind room for the frame header, written as one array, and given back once sent, so that
   * large echoes neither join nor allocate.
   */
  #sendPooled(data: Uint8Array, binary: boolean): void {
    const copy = bodyPool.copy(data);
    const [header] = this.session.send(copy, binary);
    const frame = bodyPool.withHead(copy, header) ?? concatBytes([header, copy]);
    // Frames batched before this one go first, on their own: a large frame is not joined to them.
    this.#output.writePooled(frame, data.byteLength, copy);
  }

  /**
   * Sends a message whose bytes are not there yet (a Blob's), in its place among the sends.
   * @param data The message, once read.
   * @param binary Binary or text.
   * @param length Its length, counted in `bufferedAmount` at once.
   */
  sendLater(data: Promise<Uint8Array>, binary: boolean, length: number): void {
    if (this.session.state !== "open") return;
    this.#output.add(length);
    this.#chain(async () => {
      const bytes = await data;
      this.#output.add(-length);
      this.send(bytes, binary);
    });
  }

  /**
   * Starts the close handshake, after every send before it.
   * @param code The status code, or none.
   * @param reason The reason.
   */
  startClose(code: number | undefined, reason: string): void {
    const closeNow = () =>
      this.#output.write([this.session.close(code, reason, this.#takeover.clock.now())], 0);
    if (this.#sendChain === null) closeNow();
    else this.#chain(() => Promise.resolve(closeNow()));
  }

  /**
   * Sends a ping.
   * @param data At most 125 bytes.
   */
  ping(data: Uint8Array): void {
    this.#output.write([this.session.ping(data)], 0);
  }

  /**
   * The output's backlog passed the send high-water mark, or fell back under it: reading stops
   * while it is over, and the endpoint hears when it drained.
   * @param over Whether more than the mark waits to be sent.
   */
  backlogChanged(over: boolean): void {
    if (!over) this.#endpoint.bufferDrained();
    this.#outputBacklogged = over;
    this.#updatePause();
  }

  /** Stops reading from the socket until {@link resumeReading} (the reader is behind). */
  pauseReading(): void {
    this.#readingPaused = true;
    this.#updatePause();
  }

  /** Reads again, beginning with what arrived while paused. */
  resumeReading(): void {
    if (!this.#readingPaused) return;
    this.#readingPaused = false;
    this.#updatePause();
  }

  /**
   * Pauses the socket while the reader is behind or the peer does not take what is sent (so that a
   * peer that sends and never reads cannot make the server buffer without bound), and resumes it,
   * and reads what waits, when neither holds.
   */
  #updatePause(): void {
    const pause = this.#readingPaused || this.#outputBacklogged;
    if (pause === this.#socketPaused) return;
    this.#socketPaused = pause;
    if (pause) return this.#takeover.socket.pause();
    this.#takeover.socket.resume();
    queueMicrotask(() => this.#process());
  }

  // ---- SocketEvents ----

  /** Bytes arrived. */
  data(bytes: Uint8Array): void {
    this.session.receive(bytes, this.#takeover.clock.now());
    this.#process();
  }

  /** The peer sends nothing more. */
  end(): void {
    this.session.end();
    this.#process();
  }

  /** The socket takes more again. */
  drain(): void {
    this.#output.drained();
  }

  /** The socket is closed: tell the endpoint (1006 unless the close handshake completed), free the codec, log. */
  close(): void {
    this.#endedAt = 0;
    this.#codec?.close();
    this.#tellOver(1006, "", false);
    this.#takeover.ended(this.#output.bytesSent);
  }

  // ---- LiveConnection ----

  /** Acts on deadlines: a peer that reads nothing, a close that takes too long, an idle peer. */
  tick(now: number): void {
    if (now - this.#output.blockedSince >= this.#takeover.sendTimeoutMs) return this.destroy();
    if (this.#endedAt !== Infinity) {
      if (now - this.#endedAt >= LINGER_MS) this.destroy();
      return;
    }
    const action = this.session.checkTimeout(now);
    switch (action.type) {
      case "none":
        return;
      case "ping":
        return this.#output.write([action.bytes], 0);
      case "close":
        this.#tellOver(1006, "", false);
        return this.#endSocket();
      default: {
        const unexpected: never = action;
        throw new Error(`unreachable timeout action ${JSON.stringify(unexpected)}`);
      }
    }
  }

  /** A shutdown: 1001 Going Away, then the close handshake within the drain deadline. */
  requestClose(): void {
    this.startClose(1001, "server shutting down");
  }

  /** Closes at once. */
  destroy(): void {
    this.#takeover.socket.destroy();
  }

  // ---- reading ----

  /** Reads the session's events until it needs data, waits for an inflate, or the endpoint pauses. */
  #process(first: WebSocketEvent | null = null): void {
    if (this.#output.batching || this.#inflating || (first === null && this.#socketPaused)) return;
    this.#output.startBatch();
    try {
      // An inflated message comes first; what follows it waits while the socket is paused.
      let goOn = first === null || (this.#handle(first) && !this.#socketPaused);
      while (goOn) goOn = this.#handle(this.session.nextEvent());
    } finally {
      this.#flushBatch();
    }
  }

  /** Writes the frames batched while events were processed, and ends the socket if that was asked meanwhile. */
  #flushBatch(): void {
    this.#output.endBatch();
    if (this.#endAfterBatch) {
      this.#endAfterBatch = false;
      this.#takeover.socket.end();
    }
  }

  /** Acts on one event; whether to read on. */
  #handle(event: WebSocketEvent): boolean {
    switch (event.type) {
      case "message":
        this.#endpoint.messageReceived(event.data, event.binary);
        // Over the send high-water mark, the rest of the input waits until the peer takes what is sent.
        return !this.#readingPaused && !this.#output.overHighWaterMark;
      case "inflate":
        this.#inflate(event.data, event.maxBytes);
        return false;
      case "ping":
        if (event.reply !== null) this.#output.write([event.reply], 0);
        return true;
      case "pong":
        return true;
      case "close":
        if (event.reply !== null) this.#output.write([event.reply], 0);
        this.#tellOver(event.code, event.reason, event.wasClean);
        this.#endSocket();
        return false;
      case "error":
        return this.#failed(event.error, event.reply);
      case "need-data":
        return false;
      default: {
        const unexpected: never = event;
        throw new Error(`unreachable WebSocket event ${JSON.stringify(unexpected)}`);
      }
    }
  }

  #inflate(data: Uint8Array, maxBytes: number): void {
    this.#inflating = true;
    this.#codec!.inflate(data, maxBytes).then((result) => {
      this.#inflating = false;
      this.#process(this.session.inflated(result));
    }).catch((error) => {
      console.error("h1serve: inflating a WebSocket message failed:", error);
      this.destroy();
    });
  }

  /** A protocol failure: report it, send the close frame that says why, tell the endpoint, end. */
  #failed(error: WebSocketError, reply: Uint8Array | null): boolean {
    this.#takeover.failed({
      protocol: "websocket",
      code: error.code,
      closeCode: error.closeCode,
      rfc: error.rfc,
      offset: error.offset,
      message: error.message,
    });
    if (reply !== null) this.#output.write([reply], 0);
    this.#tellOver(error.closeCode === 1006 ? 1006 : error.closeCode, "", false, error);
    this.#endSocket();
    return false;
  }

  #tellOver(code: number, reason: string, wasClean: boolean, error?: WebSocketError): void {
    if (this.#over) return;
    this.#over = true;
    try {
      this.#endpoint.connectionClosed(code, reason, wasClean, error);
    } catch (failure) {
      console.error("h1serve: a WebSocket close listener failed:", failure);
    }
  }

  /** Sends FIN once the last frames are out, and drops the socket if the peer does not close its side soon. */
  #endSocket(): void {
    if (this.#endedAt !== Infinity) return;
    this.#endedAt = this.#takeover.clock.now();
    const end = () => this.#takeover.socket.end();
    if (this.#sendChain !== null) this.#sendChain.then(end, end);
    else if (this.#output.batching) this.#endAfterBatch = true;
    else end();
  }

  // ---- writing ----

  /** Runs a send step after the ones before it. */
  #chain(step: () => Promise<void>): void {
    this.#chained++;
    const previous = this.#sendChain ?? Promise.resolve();
    this.#sendChain = previous.then(step).catch((error) => {
      console.error("h1serve: a WebSocket send failed:", error);
      this.destroy();
    }).finally(() => {
      if (--this.#chained === 0) this.#sendChain = null;
    });
  }
}
